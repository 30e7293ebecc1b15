"""The resolver end to end on local media: direct links, redirects checked hop by hop, SSRF refusals,
YouTube and search paths (with yt-dlp stubbed at the worker boundary or a fake Data API), timeouts."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Mapping, Sequence

import pytest

from pytunes.music.media.config import MediaConfig
from pytunes.music.media.errors import (
    ExtractionError,
    NoResultsError,
    QuotaExceededError,
    ResolveTimeoutError,
    UnsafeUrlError,
    UnsupportedSourceError,
)
from pytunes.music.media.extract import ExtractKind
from pytunes.music.media.fetch import follow_redirects, pin_http
from pytunes.music.media.resolver import MediaResolver, QueryKind
from pytunes.music.media.results import MediaEntry, PlaylistResult, ResolvedMedia, SourceKind
from pytunes.music.media.safety import UrlGuard
from pytunes.music.media.worker import MediaWorkers
from tests.media.conftest import PUBLIC_ADDRESS, MediaServer, StaticResolver, StubExtractor, local_config

VID = "dQw4w9WgXcQ"


@pytest.mark.parametrize(
    ("name", "codec"),
    [("tone440.webm", "opus"), ("tone440.opus", "opus"), ("tone660.mp3", "mp3"), ("tone880.m4a", "aac")],
)
async def test_direct_media_links_resolve_with_codec_and_duration(
    resolver: MediaResolver, media_server: MediaServer, name: str, codec: str
) -> None:
    link = media_server.url(f"/media/{name}")
    resolution = await resolver.resolve(link, requester="alice")
    assert resolution.kind is QueryKind.URL
    assert resolution.requested_by == "alice"
    (entry,) = resolution.entries
    assert entry.source_kind is SourceKind.DIRECT
    assert entry.url == link
    assert entry.duration == pytest.approx(3.0, abs=0.1), "probed, so the length gate can apply"
    assert entry.is_live is False
    stream = await resolver.fetch_stream(entry.url)
    assert stream.stream_url == link
    assert stream.acodec == codec


async def test_redirects_are_followed_to_the_final_media(
    resolver: MediaResolver, media_server: MediaServer
) -> None:
    stream = await resolver.fetch_stream(media_server.url("/redirect/tone660.mp3"))
    assert stream.stream_url == media_server.url("/media/tone660.mp3")
    assert stream.page_url == media_server.url("/redirect/tone660.mp3"), "the link stays the track's identity"


async def test_a_page_with_an_audio_tag_plays_the_tag(
    resolver: MediaResolver, media_server: MediaServer
) -> None:
    stream = await resolver.fetch_stream(media_server.url("/page.html"))
    assert stream.stream_url == media_server.url("/media/tone660.mp3")
    assert stream.acodec == "mp3"


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("/empty.html", UnsupportedSourceError, "nothing the bot can play"),
        ("/media/corrupt.mp3", UnsupportedSourceError, "no audio"),
        ("/media/missing.mp3", NoResultsError, "doesn't exist"),
        ("/loop", UnsupportedSourceError, "redirects too many times"),
        ("/list.m3u8", UnsupportedSourceError, "no audio the bot can stream"),
    ],
)
async def test_unplayable_links_get_a_clear_error(
    resolver: MediaResolver, media_server: MediaServer, path: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await resolver.resolve(media_server.url(path))


@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1:{port}/media/tone660.mp3",
        "http://localhost:{port}/media/tone660.mp3",
        "http://[::1]:{port}/media/tone660.mp3",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://2130706433:{port}/media/tone660.mp3",
        "http://0x7f.1:{port}/media/tone660.mp3",
        "http://[::ffff:127.0.0.1]:{port}/media/tone660.mp3",
        "http://public@127.0.0.1:{port}/media/tone660.mp3",
        "file:///etc/passwd",
        "ftp://127.0.0.1/song.mp3",
    ],
)
async def test_ssrf_attempts_are_refused_before_any_request(
    media_workers: MediaWorkers, media_server: MediaServer, link: str
) -> None:
    seen = len(media_server.requests)
    async with MediaResolver(local_config(allow_private_hosts=False), media_workers) as strict:
        with pytest.raises(UnsafeUrlError):
            await strict.resolve(link.format(port=media_server.port))
        with pytest.raises(UnsafeUrlError):
            await strict.fetch_stream(link.format(port=media_server.port))
    assert len(media_server.requests) == seen, "nothing was fetched"


def _public_looking(
    media_workers: MediaWorkers | StubExtractor, table: Mapping[str, Sequence[str]]
) -> MediaResolver:
    """A strict resolver where the test names resolve to public addresses for the policy, while the
    bot's HTTP requests actually reach the local server."""

    async def dns(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return table[host]

    return MediaResolver(
        local_config(allow_private_hosts=False),
        media_workers,
        guard=UrlGuard(resolve=dns),
        http_resolver=StaticResolver(list(table)),
    )


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("127.0.0.1:{port}", "loopback"),
        ("localhost:{port}", "local host name"),
        ("[::1]:{port}", "loopback"),
        ("169.254.169.254", "metadata"),
        ("10.0.0.8", "private"),
        ("sneaky.example:{port}", "private"),
    ],
)
async def test_a_public_link_redirecting_to_a_private_host_is_refused(
    media_workers: MediaWorkers, media_server: MediaServer, target: str, reason: str
) -> None:
    table = {"media.example": [PUBLIC_ADDRESS], "sneaky.example": [PUBLIC_ADDRESS, "192.168.1.20"]}
    hop = target.format(port=media_server.port)
    before = len(media_server.requests)
    async with _public_looking(media_workers, table) as strict:
        with pytest.raises(UnsafeUrlError, match=reason):
            await strict.resolve(f"http://media.example:{media_server.port}/to/{hop}")
    assert media_server.paths()[before:] == [f"/to/{hop}"], "the first hop was fetched, the private one never"


async def test_a_redirect_to_a_file_url_is_refused(
    media_workers: MediaWorkers, media_server: MediaServer
) -> None:
    async with _public_looking(media_workers, {"media.example": [PUBLIC_ADDRESS]}) as strict:
        with pytest.raises(UnsafeUrlError, match="Only http"):
            await strict.resolve(f"http://media.example:{media_server.port}/to-file")


async def test_every_hop_of_a_public_chain_is_checked_and_pinned(
    media_workers: MediaWorkers, media_server: MediaServer
) -> None:
    async with _public_looking(media_workers, {"media.example": [PUBLIC_ADDRESS]}) as strict:
        final = await follow_redirects(
            strict._http(), strict.guard, f"http://media.example:{media_server.port}/redirect/tone660.mp3"
        )
    assert final.url.url == f"http://media.example:{media_server.port}/media/tone660.mp3"
    assert final.addresses == (PUBLIC_ADDRESS,)
    # FFmpeg resolves names itself; pinning makes it connect to the address that was checked.
    url, headers = pin_http(final)
    assert url == f"http://{PUBLIC_ADDRESS}:{media_server.port}/media/tone660.mp3"
    assert headers == {"Host": f"media.example:{media_server.port}"}


async def test_the_workers_refuse_private_addresses_at_connect_time(
    media_workers: MediaWorkers, media_server: MediaServer
) -> None:
    """The last line: even if a link got past the checks (DNS changed since), yt-dlp can't connect."""
    async with MediaResolver(local_config(), media_workers) as lenient:
        request = lenient._request(
            ExtractKind.SINGLE, media_server.url("/media/tone660.mp3"), SourceKind.DIRECT, ("generic",)
        )
    with pytest.raises(UnsafeUrlError, match="non-public address"):
        await media_workers.extract(dataclasses.replace(request, allow_private=False))
    assert isinstance(await media_workers.extract(request), ResolvedMedia)


async def test_a_server_that_never_answers_times_out(
    media_workers: MediaWorkers, media_server: MediaServer
) -> None:
    started = time.monotonic()
    async with MediaResolver(local_config(http_timeout=0.5), media_workers) as impatient:
        with pytest.raises(ResolveTimeoutError, match="took too long"):
            await impatient.resolve(media_server.silent_url)
    assert time.monotonic() - started < 3


async def test_youtube_video_is_looked_up_by_id_through_the_workers(media_server: MediaServer) -> None:
    found = ResolvedMedia(
        title="Never Gonna Give You Up",
        page_url=f"https://www.youtube.com/watch?v={VID}",
        stream_url=media_server.url("/media/tone440.webm"),
        duration=213.0,
        is_live=False,
        acodec="opus",
        ext="webm",
        http_headers={"User-Agent": "yt-dlp"},
        source_kind=SourceKind.YOUTUBE,
        id=VID,
        channel="Rick Astley",
    )
    stub = StubExtractor(found)
    async with MediaResolver(local_config(), stub) as media:
        resolution = await media.resolve(f"https://youtu.be/{VID}?t=1m&list=PL123456")
        stream = await media.fetch_stream(resolution.entries[0].url)
    assert resolution.kind is QueryKind.YOUTUBE_VIDEO
    assert resolution.start_at == 60
    assert resolution.entries == (
        MediaEntry(
            SourceKind.YOUTUBE, VID, "Never Gonna Give You Up", found.page_url, "Rick Astley", 213.0, False
        ),
    )
    request = stub.requests[0]
    assert (request.kind, request.target, request.extractors) == (
        ExtractKind.SINGLE,
        f"https://www.youtube.com/watch?v={VID}",
        ("youtube",),
    )
    assert stream.stream_url == found.stream_url
    assert stream.acodec == "opus", "known from yt-dlp, no probe needed"


async def test_a_youtube_livestream_comes_back_marked_live_without_a_stream() -> None:
    live = ResolvedMedia(
        "Radio", f"https://www.youtube.com/watch?v={VID}", "", None, True, None, None, {}, SourceKind.YOUTUBE
    )
    async with MediaResolver(local_config(), StubExtractor(live)) as media:
        stream = await media.fetch_stream(f"https://www.youtube.com/watch?v={VID}")
        resolution = await media.resolve(f"https://www.youtube.com/watch?v={VID}")
    assert stream.is_live
    assert resolution.entries[0].is_live is True


async def test_youtube_playlist_is_enumerated_flat_and_capped() -> None:
    entries = tuple(
        MediaEntry(
            SourceKind.YOUTUBE, f"video{i:06d}", f"Song {i}", f"https://www.youtube.com/watch?v=video{i:06d}"
        )
        for i in range(3)
    )
    stub = StubExtractor(PlaylistResult("PL123456", "Mix tape", entries, truncated=True))
    async with MediaResolver(local_config(max_playlist_entries=3), stub) as media:
        resolution = await media.resolve("https://www.youtube.com/playlist?list=PL123456")
    assert (resolution.kind, resolution.title, resolution.truncated) == (
        QueryKind.YOUTUBE_PLAYLIST,
        "Mix tape",
        True,
    )
    assert resolution.entries == entries
    request = stub.requests[0]
    assert (request.kind, request.target, request.max_entries) == (
        ExtractKind.PLAYLIST,
        "https://www.youtube.com/playlist?list=PL123456",
        3,
    )


async def test_an_empty_playlist_is_no_results() -> None:
    async with MediaResolver(local_config(), StubExtractor(PlaylistResult("PL123456", "x", ()))) as media:
        with pytest.raises(NoResultsError, match="playlist is empty"):
            await media.resolve("https://www.youtube.com/playlist?list=PL123456")


async def test_search_without_an_api_key_goes_through_yt_dlp_search() -> None:
    hits = (MediaEntry(SourceKind.YOUTUBE, VID, "Rick", f"https://www.youtube.com/watch?v={VID}"),)
    stub = StubExtractor(PlaylistResult("--exec rm -rf ~", "--exec rm -rf ~", hits))
    async with MediaResolver(local_config(), stub) as media:
        resolution = await media.resolve("--exec rm -rf ~", requester="bob")
    assert resolution.kind is QueryKind.SEARCH
    assert resolution.entries == hits
    request = stub.requests[0]
    assert (request.kind, request.target, request.extractors, request.max_entries) == (
        ExtractKind.SEARCH,
        "ytsearch5:--exec rm -rf ~",
        ("youtube:search",),
        5,
    )


async def test_search_with_the_data_api(media_server: MediaServer) -> None:
    stub = StubExtractor(NoResultsError("the API should have been used"))
    config = local_config(
        youtube_api_key="test-key", youtube_api_base_url=media_server.url("/api/youtube/v3")
    )
    async with MediaResolver(config, stub) as media:
        resolution = await media.resolve("rick roll")
    assert stub.requests == []
    assert [(e.id, e.title, e.channel, e.duration, e.is_live) for e in resolution.entries] == [
        (VID, "Rick & Roll", "Rick", 213.0, False),
        ("jNQXAC9IVRw", "Me at the zoo", "jawed", 19.0, False),
        ("5qap5aO4i9A", "lofi radio", "Lofi Girl", None, True),
    ]
    assert resolution.entries[0].url == f"https://www.youtube.com/watch?v={VID}"
    search = next(seen for seen in reversed(media_server.requests) if seen.path == "/api/youtube/v3/search")
    assert search.query == {
        "part": "snippet",
        "type": "video",
        "maxResults": "5",
        "q": "rick roll",
        "key": "test-key",
    }


@pytest.mark.parametrize(
    ("base", "query", "error"),
    [
        ("/quota/youtube/v3", "rick", QuotaExceededError),
        ("/broken/youtube/v3", "rick", ExtractionError),
        ("/api/youtube/v3", "nothing at all", NoResultsError),
    ],
)
async def test_data_api_failures_are_distinct(
    media_server: MediaServer, base: str, query: str, error: type[Exception]
) -> None:
    config = local_config(youtube_api_key="secret-key", youtube_api_base_url=media_server.url(base))
    async with MediaResolver(config, StubExtractor(NoResultsError("unused"))) as media:
        with pytest.raises(error) as failure:
            await media.search(query)
    assert "secret-key" not in str(failure.value) + repr(failure.value), "the key never leaks into errors"


def test_the_default_config_is_strict() -> None:
    config = MediaConfig()
    assert config.allow_private_hosts is False
    assert config.youtube_api_key is None
    assert "sekrit" not in repr(MediaConfig(youtube_api_key="sekrit"))
