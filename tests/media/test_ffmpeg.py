"""FFmpeg arguments (passthrough vs re-encode, whitelists, no user text) and real runs on local media."""

from __future__ import annotations

import dataclasses
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest
import trustme
from aiohttp import web

from pytunes.music.media.errors import ResolveTimeoutError, UnsafeUrlError, UnsupportedSourceError
from pytunes.music.media.ffmpeg import (
    DEMUXERS,
    REMOTE_PROTOCOLS,
    build_audio_source,
    ffmpeg_path,
    plan_audio,
    probe_codec,
    supports_max_redirects,
)
from pytunes.music.media.results import ResolvedMedia, SourceKind
from tests.media.conftest import MediaFiles, MediaServer, ServerThread

NASTY = "'; rm -rf ~ #\" -i /etc/passwd -f null"


def remote(url: str = "https://cdn.example/a.webm", **changes: object) -> ResolvedMedia:
    media = ResolvedMedia(
        title=NASTY,
        page_url=f"https://example.com/{NASTY}",
        stream_url=url,
        duration=3.0,
        is_live=False,
        acodec="opus",
        ext="webm",
        http_headers={"User-Agent": "Mozilla/5.0", "Referer": "https://example.com/"},
        source_kind=SourceKind.DIRECT,
        id=NASTY,
        channel=NASTY,
    )
    return dataclasses.replace(media, **changes)  # type: ignore[arg-type]


def option(args: tuple[str, ...] | list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


@pytest.mark.parametrize(
    ("acodec", "gain", "codec"),
    [
        ("opus", 1.0, "copy"),
        ("OPUS", 1.0, "copy"),
        ("opus", 0.5, "libopus"),
        ("opus", 1.5, "libopus"),
        ("mp3", 1.0, "libopus"),
        ("aac", 1.0, "libopus"),
        ("vorbis", 1.0, "libopus"),
        (None, 1.0, "libopus"),
    ],
)
def test_passthrough_only_for_opus_at_unity_gain(acodec: str | None, gain: float, codec: str) -> None:
    plan = plan_audio(remote(acodec=acodec), gain=gain)
    assert plan.codec == codec
    assert plan.bitrate == 128
    assert option(plan.options, "-af") == (None if gain == 1.0 else f"volume={gain:.6f}")


def test_remote_input_options() -> None:
    plan = plan_audio(remote(), start_at=12.5)
    before = plan.before_options
    assert plan.source == "https://cdn.example/a.webm"
    assert option(before, "-protocol_whitelist") == REMOTE_PROTOCOLS == "http,https,tls,tcp"
    assert option(before, "-format_whitelist") == DEMUXERS
    assert "hls" not in DEMUXERS
    assert option(before, "-reconnect") == "1"
    assert option(before, "-reconnect_streamed") == "1"
    assert option(before, "-reconnect_delay_max") == "5"
    assert option(before, "-max_redirects") == "0"
    assert option(before, "-ss") == "12.500"
    assert plan.codec == "copy", "input seeking keeps Opus passthrough"
    assert option(before, "-headers") == "User-Agent: Mozilla/5.0\r\nReferer: https://example.com/\r\n"
    assert "-nostdin" in before
    assert option(plan.options, "-loglevel") == "error"
    assert option(plan.options, "-map") == "0:a:0"


def test_headers_cannot_inject_lines_or_override_ffmpeg() -> None:
    headers = {
        "User-Agent": "ok\r\nX-Injected: 1",
        "Bad Name": "v",
        "X-Nul": "a\0b",
        "Range": "bytes=100-",
        "Cookie": "a=b",
        "Accept-Language": "en",
    }
    plan = plan_audio(remote(http_headers=headers))
    assert option(plan.before_options, "-headers") == "Cookie: a=b\r\nAccept-Language: en\r\n"


def test_no_user_text_reaches_the_arguments() -> None:
    for plan in (plan_audio(remote()), plan_audio(remote(acodec="mp3"), gain=0.25, start_at=3)):
        assert not any(
            NASTY in arg or "rm -rf" in arg for arg in (*plan.before_options, *plan.options, plan.source)
        )


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "-i",
        "concat:a|b",
        "https://cdn.example/a b.webm",
        "http://u@cdn.example/a",
        "pipe:0",
    ],
)
def test_stream_urls_are_rechecked(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        plan_audio(remote(url))


def test_livestreams_and_bad_numbers_are_refused() -> None:
    with pytest.raises(UnsupportedSourceError, match="Livestreams"):
        plan_audio(remote("", is_live=True))
    for gain, start_at in [(-1.0, 0.0), (float("nan"), 0.0), (100.0, 0.0), (1.0, -5.0), (1.0, float("inf"))]:
        with pytest.raises(ValueError, match=r"gain|start_at"):
            plan_audio(remote(), gain=gain, start_at=start_at)


def test_local_files_use_the_file_whitelist_and_stay_in_the_library(
    media_files: MediaFiles, tmp_path: Path
) -> None:
    plan = plan_audio(media_files.webm, acodec="opus", library_root=media_files.root)
    assert plan.source == f"file:{media_files.webm.resolve()}"
    assert option(plan.before_options, "-protocol_whitelist") == "file"
    assert "-reconnect" not in plan.before_options
    assert plan.codec == "copy"
    outside = media_files.root.parent / "outside.webm"
    outside.write_bytes(media_files.webm.read_bytes())
    escape = tmp_path / "library"
    escape.mkdir()
    (escape / "escape.webm").symlink_to(outside)
    for path, root in [
        (outside, media_files.root),
        (escape / "escape.webm", escape),
        (media_files.root / ".." / "outside.webm", media_files.root),
    ]:
        with pytest.raises(UnsafeUrlError, match="outside the library"):
            plan_audio(path, library_root=root)
    with pytest.raises(UnsupportedSourceError, match="doesn't exist"):
        plan_audio(media_files.root / "gone.mp3", library_root=media_files.root)


def test_ffmpeg_path_prefers_the_system_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    find = ffmpeg_path.__wrapped__
    assert find("/opt/ffmpeg") == "/opt/ffmpeg"
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    assert find() == "/usr/bin/ffmpeg"
    monkeypatch.setattr(shutil, "which", lambda name: None)
    bundled = Path(find())
    assert bundled.is_file()
    assert "imageio_ffmpeg" in bundled.parts


def read_packets(source: discord.FFmpegOpusAudio, limit: int = 2000) -> list[bytes]:
    packets = []
    try:
        for _ in range(limit):
            packet = source.read()
            if not packet:
                break
            packets.append(packet)
    finally:
        source.cleanup()
    return packets


def assert_ogg_opus(packets: list[bytes], seconds: float) -> None:
    # discord.py hands out the OpusHead/OpusTags header packets first (they go out as two voice frames).
    assert packets[0].startswith(b"OpusHead")
    assert packets[1].startswith(b"OpusTags")
    frames = len(packets) - 2
    assert abs(frames - seconds * 50) <= 3, f"{frames} 20 ms frames for {seconds} s"


@pytest.mark.parametrize(
    ("name", "acodec", "gain", "codec"),
    [
        ("tone440.webm", "opus", 1.0, "copy"),
        ("tone660.mp3", "mp3", 0.5, "libopus"),
        ("tone880.m4a", "aac", 1.0, "libopus"),
    ],
)
def test_real_ffmpeg_produces_ogg_opus_from_local_http(
    media_server: MediaServer, name: str, acodec: str, gain: float, codec: str
) -> None:
    source = build_audio_source(remote(media_server.url(f"/media/{name}"), acodec=acodec), gain=gain)
    argv: list[str] = source._process.args  # type: ignore[assignment]  # Popen was given a list
    assert argv[argv.index("-c:a") + 1] == codec
    assert argv.index("-protocol_whitelist") < argv.index("-i"), "whitelists are input options"
    assert argv.index("-format_whitelist") < argv.index("-i")
    assert_ogg_opus(read_packets(source), 3.0)


def test_seeking_keeps_passthrough_and_skips_audio(
    media_server: MediaServer, media_files: MediaFiles
) -> None:
    source = build_audio_source(remote(media_server.url(f"/media/{media_files.long_webm.name}")), start_at=20)
    argv: list[str] = source._process.args  # type: ignore[assignment]  # Popen was given a list
    assert argv[argv.index("-c:a") + 1] == "copy", "an Opus source is still copied, not re-encoded"
    # Input seeking (before -i) is what keeps stream copy possible; output seeking would decode.
    assert argv.index("-ss") < argv.index("-i")
    assert argv[argv.index("-ss") + 1] == "20.000"
    assert_ogg_opus(read_packets(source), 10.0)


def test_real_local_file(media_files: MediaFiles) -> None:
    source = build_audio_source(media_files.mp3, library_root=media_files.root)
    assert_ogg_opus(read_packets(source), 3.0)


@pytest.mark.parametrize("path", ["/list.m3u8", "/redirect/tone440.webm", "/media/corrupt.mp3"])
def test_ffmpeg_refuses_manifests_redirects_and_garbage(media_server: MediaServer, path: str) -> None:
    if "redirect" in path and not supports_max_redirects(ffmpeg_path()):
        pytest.skip("this FFmpeg has no -max_redirects")
    source = build_audio_source(remote(media_server.url(path), acodec=None))
    process = source._process
    assert read_packets(source) == []
    assert process.wait(timeout=10) != 0


def test_the_protocol_whitelist_stops_a_redirect_to_a_file(media_server: MediaServer) -> None:
    plan = plan_audio(remote(media_server.url("/to-file")), block_redirects=False)
    run = subprocess.run(
        [ffmpeg_path(), *plan.before_options, "-i", plan.source, "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert run.returncode != 0
    assert "not on whitelist" in run.stderr


@pytest.fixture(scope="module")
def https_server(
    server_thread: ServerThread, media_files: MediaFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)

    async def media(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(media_files.root / request.match_info["name"])

    app = web.Application()
    app.router.add_get("/media/{name}", media)
    runner = web.AppRunner(app)

    async def start() -> int:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
        return int(runner.addresses[0][1])

    port = server_thread.call(start())
    yield f"https://127.0.0.1:{port}", ca_file
    server_thread.call(runner.cleanup())


def test_https_needs_nothing_beyond_the_whitelist(
    https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, ca_file = https_server
    # This FFmpeg verifies certificates; it trusts what OpenSSL's SSL_CERT_FILE names.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    source = build_audio_source(remote(f"{base}/media/tone440.webm"))
    assert_ogg_opus(read_packets(source), 3.0)


@pytest.mark.parametrize(
    ("name", "codec"),
    [("tone440.webm", "opus"), ("tone440.opus", "opus"), ("tone880.m4a", "aac"), ("tone660.mp3", "mp3")],
)
async def test_probe_reads_codec_and_duration(media_server: MediaServer, name: str, codec: str) -> None:
    found, duration = await probe_codec(remote(media_server.url(f"/media/{name}"), acodec=None))
    assert found == codec
    assert duration == pytest.approx(3.0, abs=0.05)


async def test_probe_of_a_local_file(media_files: MediaFiles) -> None:
    codec, duration = await probe_codec(media_files.long_webm, library_root=media_files.root)
    assert codec == "opus"
    assert duration == pytest.approx(30.0, abs=0.05)


@pytest.mark.parametrize("path", ["/media/corrupt.mp3", "/list.m3u8", "/empty.html"])
async def test_probe_refuses_what_is_not_audio(media_server: MediaServer, path: str) -> None:
    with pytest.raises(UnsupportedSourceError, match="no audio"):
        await probe_codec(remote(media_server.url(path)))


async def test_probe_times_out_on_a_silent_server(media_server: MediaServer) -> None:
    with pytest.raises(ResolveTimeoutError):
        await probe_codec(remote(media_server.silent_url), timeout=0.5)
