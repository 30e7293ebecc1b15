"""Media fixtures: audio files made once per session with FFmpeg's lavfi sources, a local HTTP server for
them (Range support via `web.FileResponse`, redirects, HTML pages, an HLS playlist, a fake YouTube Data
API, a server that never answers), and one yt-dlp worker pool shared by the whole session (starting
processes is the slow part).

The servers run on their own event loop in a thread, so tests on any loop (and blocking FFmpeg reads) can
use them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from pytunes.music.media.config import MediaConfig
from pytunes.music.media.errors import MediaError
from pytunes.music.media.extract import ExtractRequest
from pytunes.music.media.resolver import MediaResolver
from pytunes.music.media.results import PlaylistResult, ResolvedMedia
from pytunes.music.media.worker import MediaWorkers
from simcord.tones import render_tone

PUBLIC_ADDRESS = "93.184.216.34"


@dataclass(frozen=True)
class MediaFiles:
    root: Path
    webm: Path  # 3 s, 440 Hz, Opus in WebM
    opus: Path  # 3 s, 440 Hz, Opus in Ogg
    mp3: Path  # 3 s, 660 Hz
    m4a: Path  # 3 s, 880 Hz, AAC, faststart
    long_webm: Path  # 30 s, Opus in WebM
    corrupt: Path  # noise bytes named .mp3


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> MediaFiles:
    root = tmp_path_factory.mktemp("media")
    files = MediaFiles(
        root=root,
        webm=root / "tone440.webm",
        opus=root / "tone440.opus",
        mp3=root / "tone660.mp3",
        m4a=root / "tone880.m4a",
        long_webm=root / "long440.webm",
        corrupt=root / "corrupt.mp3",
    )
    opus = ("-c:a", "libopus", "-b:a", "64k")
    render_tone(files.webm, 440, 3, *opus)
    render_tone(files.opus, 440, 3, *opus)
    render_tone(files.mp3, 660, 3, "-c:a", "libmp3lame", "-b:a", "64k")
    render_tone(files.m4a, 880, 3, "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart")
    render_tone(files.long_webm, 440, 30, *opus)
    files.corrupt.write_bytes(bytes(range(7, 251)) * 40)
    return files


@dataclass(frozen=True)
class Seen:
    path: str  # decoded
    query: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass
class MediaServer:
    port: int
    silent_port: int
    requests: list[Seen] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def silent_url(self) -> str:
        """A server that accepts connections and never answers (it hangs up after 4 s)."""
        return f"http://127.0.0.1:{self.silent_port}/song.mp3"

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]


FAKE_SEARCH_ITEMS = [
    {
        "id": {"videoId": "dQw4w9WgXcQ"},
        "snippet": {"title": "Rick &amp; Roll", "channelTitle": "Rick", "liveBroadcastContent": "none"},
    },
    {"id": {"videoId": "jNQXAC9IVRw"}, "snippet": {"title": "Me at the zoo", "channelTitle": "jawed"}},
    {
        "id": {"videoId": "5qap5aO4i9A"},
        "snippet": {"title": "lofi radio", "channelTitle": "Lofi Girl", "liveBroadcastContent": "live"},
    },
    {"id": {"videoId": "xxxxxxxxxxx"}, "snippet": {"title": "no channel"}},
    {"id": {"channelId": "UC123"}, "snippet": {"title": "a channel", "channelTitle": "x"}},
]
FAKE_DURATIONS = {"dQw4w9WgXcQ": "PT3M33S", "jNQXAC9IVRw": "PT19S", "5qap5aO4i9A": "P0D"}


def _media_app(files: MediaFiles, server: MediaServer) -> web.Application:
    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        server.requests.append(Seen(request.path, dict(request.query), dict(request.headers)))
        return await handler(request)

    async def media(request: web.Request) -> web.StreamResponse:
        path = files.root / request.match_info["name"]
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"/media/{request.match_info['name']}")

    async def redirect_to_host(request: web.Request) -> web.StreamResponse:
        # An absolute redirect to another host, e.g. from a public-looking name to 127.0.0.1.
        raise web.HTTPFound(f"http://{request.match_info['host']}/media/tone660.mp3")

    async def redirect_to_file(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("file:///etc/passwd")

    async def loop(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/loop")

    async def page(request: web.Request) -> web.StreamResponse:
        body = "<html><head><title>Tones</title></head><body><audio src='/media/tone660.mp3'></audio></body></html>"
        return web.Response(text=body, content_type="text/html")

    async def empty_page(request: web.Request) -> web.StreamResponse:
        return web.Response(
            text="<html><head><title>Nothing</title></head><body>hi</body></html>", content_type="text/html"
        )

    async def hls(request: web.Request) -> web.StreamResponse:
        playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3.0,\n/media/tone660.mp3\n#EXT-X-ENDLIST\n"
        return web.Response(text=playlist, content_type="application/vnd.apple.mpegurl")

    async def api_search(request: web.Request) -> web.StreamResponse:
        items = [] if request.query.get("q") == "nothing at all" else FAKE_SEARCH_ITEMS
        return web.json_response({"kind": "youtube#searchListResponse", "items": items})

    async def api_videos(request: web.Request) -> web.StreamResponse:
        ids = request.query.get("id", "").split(",")
        items = [
            {"id": i, "contentDetails": {"duration": FAKE_DURATIONS[i]}} for i in ids if i in FAKE_DURATIONS
        ]
        return web.json_response({"items": items})

    async def api_quota(request: web.Request) -> web.StreamResponse:
        error = {"error": {"code": 403, "errors": [{"domain": "youtube.quota", "reason": "quotaExceeded"}]}}
        return web.json_response(error, status=403)

    async def api_broken(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="backend error")

    app = web.Application(middlewares=[record])
    app.router.add_get("/media/{name}", media)
    app.router.add_get("/redirect/{name}", redirect)
    app.router.add_get("/to/{host}", redirect_to_host)
    app.router.add_get("/to-file", redirect_to_file)
    app.router.add_get("/loop", loop)
    app.router.add_get("/page.html", page)
    app.router.add_get("/empty.html", empty_page)
    app.router.add_get("/list.m3u8", hls)
    app.router.add_get("/api/youtube/v3/search", api_search)
    app.router.add_get("/api/youtube/v3/videos", api_videos)
    app.router.add_get("/quota/youtube/v3/search", api_quota)
    app.router.add_get("/broken/youtube/v3/search", api_broken)
    add_library_routes(app, files, server)
    return app


class ServerThread:
    """Runs coroutines on a private event loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="media-test-server", daemon=True)
        self._thread.start()

    def call(self, coro: Awaitable[object]) -> object:
        return asyncio.run_coroutine_threadsafe(_wrap(coro), self.loop).result(timeout=30)

    def stop(self) -> None:
        self.call(_cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


async def _wrap(coro: Awaitable[object]) -> object:
    return await coro


async def _cancel_the_rest() -> None:
    """Cancel connection handlers still running (the silent server's) so the loop closes cleanly."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(4)
    writer.close()


@pytest.fixture(scope="session")
def server_thread() -> Iterator[ServerThread]:
    thread = ServerThread()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def media_server(server_thread: ServerThread, media_files: MediaFiles) -> Iterator[MediaServer]:
    server = MediaServer(port=0, silent_port=0)
    runner = web.AppRunner(_media_app(media_files, server))
    silent_servers: list[asyncio.Server] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server.port = runner.addresses[0][1]
        silent = await asyncio.start_server(_silent, "127.0.0.1", 0)
        silent_servers.append(silent)
        server.silent_port = silent.sockets[0].getsockname()[1]

    async def stop() -> None:
        for silent in silent_servers:
            silent.close()
        await runner.cleanup()

    server_thread.call(start())
    yield server
    server_thread.call(stop())


@pytest.fixture(scope="session")
def media_workers() -> Iterator[MediaWorkers]:
    workers = MediaWorkers(workers=2, call_timeout=20)
    concurrent.futures.wait(workers.start(), timeout=60)
    yield workers
    workers.close()


def local_config(**changes: object) -> MediaConfig:
    """Settings for the local servers: private hosts allowed, short timeouts, generic extractors."""
    settings: dict[str, object] = {
        "allow_private_hosts": True,
        "extract_timeout": 15.0,
        "socket_timeout": 5.0,
        "http_timeout": 5.0,
        "direct_extractors": ("generic", "html5"),
    }
    settings.update(changes)
    return MediaConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
async def resolver(media_workers: MediaWorkers, media_server: MediaServer) -> AsyncIterator[MediaResolver]:
    async with MediaResolver(local_config(), media_workers) as media_resolver:
        yield media_resolver


class StaticResolver(AbstractResolver):
    """Where the bot's HTTP requests really connect in tests: every test name goes to 127.0.0.1."""

    def __init__(self, names: Sequence[str]) -> None:
        self._names = set(names)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host.removesuffix(".") not in self._names:
            raise OSError(f"unknown test host {host}")
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        return None


class StubExtractor:
    """Stands in for the worker pool where yt-dlp would need the internet (YouTube, search)."""

    def __init__(self, outcome: ResolvedMedia | PlaylistResult | MediaError) -> None:
        self.outcome = outcome
        self.requests: list[ExtractRequest] = []

    async def extract(
        self, request: ExtractRequest, *, timeout: float | None = None
    ) -> ResolvedMedia | PlaylistResult:
        self.requests.append(request)
        if isinstance(self.outcome, MediaError):
            raise self.outcome
        return self.outcome


# ------------------------------------------------------------------------------------------------------
# Local library downloads and m3u/pls playlists: files that lie about themselves, and hostile playlists.

BIG_BYTES = 2 * 1024 * 1024  # over a 1 MB download limit


def playlist_m3u(server: MediaServer, host: str = "127.0.0.1") -> str:
    """Two good entries among everything a playlist must never make the bot open."""
    return "\n".join(
        [
            "#EXTM3U",
            "#EXTINF:3,Tone six-sixty",
            server.url("/media/tone660.mp3", host),
            "file:///etc/passwd",
            "/etc/passwd",
            "../../etc/shadow",
            "tone440.webm",
            "C:\\Windows\\win.ini",
            "smb://fileserver/share/song.mp3",
            "ftp://127.0.0.1/song.mp3",
            "http://169.254.169.254/latest/meta-data/",
            "#EXTINF:3,Tone eight-eighty",
            server.url("/media/tone880.m4a", host),
            "",
        ]
    )


def playlist_pls(server: MediaServer, host: str = "127.0.0.1") -> str:
    return "\n".join(
        [
            "[playlist]",
            f"File1={server.url('/media/tone440.webm', host)}",
            "Title1=Tone four-forty",
            "Length1=3",
            "File2=file:///etc/passwd",
            "File3=/home/bot/.env",
            "NumberOfEntries=3",
            "Version=2",
        ]
    )


def add_library_routes(app: web.Application, files: MediaFiles, server: MediaServer) -> None:
    async def big(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"\xff" * BIG_BYTES, content_type="audio/mpeg")

    async def big_unannounced(request: web.Request) -> web.StreamResponse:
        # Chunked: no Content-Length, so only counting the bytes received catches it.
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(BIG_BYTES // 65536 + 1):
            await response.write(b"\xff" * 65536)
        await response.write_eof()
        return response

    async def disposition(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=files.mp3.read_bytes(),
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Disposition": "attachment; filename*=UTF-8''My%20Song%20%28live%29.mp3",
            },
        )

    async def octet_no_extension(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"\x00" * 1000, content_type="application/octet-stream")

    async def m3u(request: web.Request) -> web.StreamResponse:
        host = request.query.get("host", "127.0.0.1")
        return web.Response(text=playlist_m3u(server, host), content_type="audio/x-mpegurl")

    async def pls(request: web.Request) -> web.StreamResponse:
        host = request.query.get("host", "127.0.0.1")
        return web.Response(text=playlist_pls(server, host), content_type="audio/x-scpls")

    async def disguised(request: web.Request) -> web.StreamResponse:
        # A playlist behind a name that looks like a song: only its Content-Type gives it away.
        return web.Response(text=playlist_m3u(server), content_type="audio/mpegurl")

    async def local_only(request: web.Request) -> web.StreamResponse:
        text = "#EXTM3U\nfile:///etc/passwd\n/etc/hostname\nsong.mp3\n"
        return web.Response(text=text, content_type="audio/x-mpegurl")

    app.router.add_get("/library/big.mp3", big)
    app.router.add_get("/library/big-unannounced.mp3", big_unannounced)
    app.router.add_get("/library/get", disposition)
    app.router.add_get("/library/blob", octet_no_extension)
    app.router.add_get("/lists/radio.m3u", m3u)
    app.router.add_get("/lists/radio.pls", pls)
    app.router.add_get("/lists/song.mp3", disguised)
    app.router.add_get("/lists/local.m3u", local_only)
