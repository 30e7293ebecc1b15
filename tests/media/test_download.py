"""Downloading a checked stream for the cache, against the local media server: ranges, limits, refusals."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pytunes.music.media import download as download_module
from pytunes.music.media.download import Downloader, TooLargeError
from pytunes.music.media.errors import MediaError, UnsafeUrlError
from pytunes.music.media.results import ResolvedMedia, SourceKind
from pytunes.music.media.safety import UrlGuard
from tests.media.conftest import MediaFiles, MediaServer


def media(url: str) -> ResolvedMedia:
    return ResolvedMedia(
        title="t",
        page_url=url,
        stream_url=url,
        duration=3.0,
        is_live=False,
        acodec="opus",
        ext="webm",
        http_headers={"User-Agent": "test", "Range": "bytes=5-", "X-Bad": "a\r\nInjected: 1"},
        source_kind=SourceKind.DIRECT,
    )


@pytest.fixture
async def downloader() -> AsyncIterator[Downloader]:
    loader = Downloader(UrlGuard(allow_private=True))
    yield loader
    await loader.aclose()


async def test_the_file_arrives_whole_in_ranges(
    downloader: Downloader,
    media_server: MediaServer,
    media_files: MediaFiles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(download_module, "CHUNK_BYTES", 4096)
    before = len(media_server.requests)
    target = tmp_path / "copy.part"
    await downloader.download(media(media_server.url("/media/tone440.webm")), target, 10_000_000)
    assert target.read_bytes() == media_files.webm.read_bytes()
    seen = media_server.requests[before:]
    expected = -(-media_files.webm.stat().st_size // 4096)
    assert len(seen) == expected, "one request per range"
    assert seen[0].headers["Range"] == "bytes=0-4095", "the caller's Range header is not replayed"
    assert seen[0].headers["User-Agent"] == "test"
    assert "Injected" not in seen[0].headers


async def test_too_big_is_refused(
    downloader: Downloader, media_server: MediaServer, media_files: MediaFiles, tmp_path: Path
) -> None:
    with pytest.raises(TooLargeError):
        await downloader.download(media(media_server.url("/media/long440.webm")), tmp_path / "x", 1000)


async def test_unsafe_missing_and_live_streams_are_refused(media_server: MediaServer, tmp_path: Path) -> None:
    strict = Downloader(UrlGuard(allow_private=False))
    try:
        with pytest.raises(UnsafeUrlError):
            await strict.download(media(media_server.url("/media/tone440.webm")), tmp_path / "x", 10**7)
    finally:
        await strict.aclose()
    loader = Downloader(UrlGuard(allow_private=True))
    try:
        with pytest.raises(MediaError, match="404"):
            await loader.download(media(media_server.url("/media/nothing.webm")), tmp_path / "y", 10**7)
        live = dataclasses.replace(media(media_server.url("/media/tone440.webm")), is_live=True)
        with pytest.raises(MediaError, match="Livestreams"):
            await loader.download(live, tmp_path / "z", 10**7)
    finally:
        await loader.aclose()
