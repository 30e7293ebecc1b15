"""Downloading a resolved stream to a file (for the audio cache).

The URL is the one `MediaResolver.fetch_stream` already checked and pinned (redirects walked, address
screened); it is checked again here and fetched with redirects off, through a session whose DNS answers
pass the same guard, so the download can't be bounced anywhere the stream itself couldn't go.

It is fetched in ranges of `CHUNK_BYTES`: YouTube's servers throttle a single long request to about
playback speed, and ranges are also what FFmpeg uses, so any server that streams supports them. A server
that ignores ranges (200) sends the whole file in one answer, which is fine too. The file must come out
exactly as long as the server said, and no longer than the caller's limit.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp

from pytunes.music.media.errors import ResolveTimeoutError, UnreachableError, UnsupportedSourceError
from pytunes.music.media.fetch import GuardedResolver
from pytunes.music.media.ffmpeg import clean_headers
from pytunes.music.media.results import ResolvedMedia
from pytunes.music.media.safety import UrlGuard

CHUNK_BYTES = 8 * 1024 * 1024
READ_BYTES = 64 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class TooLargeError(UnsupportedSourceError):
    """The stream is bigger than the limit it was downloaded with."""


class Downloader:
    """Downloads checked streams; owns one HTTP session. Call `aclose()` when done."""

    def __init__(self, guard: UrlGuard, *, timeout: float = 180.0, read_timeout: float = 20.0) -> None:
        self.guard = guard
        self.timeout = timeout
        self.read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.guard), limit_per_host=4)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def download(self, media: ResolvedMedia, target: Path, limit: int) -> None:
        """Write `media`'s stream to `target` (created or truncated). Raises `MediaError`."""
        if media.is_live or not media.stream_url:
            raise UnsupportedSourceError("Livestreams can't be downloaded.")
        checked = await self.guard.check(media.stream_url)
        headers = clean_headers(media.http_headers)
        try:
            async with asyncio.timeout(self.timeout):
                await self._fetch(checked.url.url, headers, target, limit)
        except TimeoutError:
            raise ResolveTimeoutError("Downloading that track took too long.") from None
        except aiohttp.ClientError as exc:
            raise UnreachableError("The download broke off.", detail=repr(exc)) from None

    async def _fetch(self, url: str, headers: dict[str, str], target: Path, limit: int) -> None:
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.read_timeout, sock_read=self.read_timeout
        )
        written = 0
        total: int | None = None
        with target.open("wb") as out:
            while total is None or written < total:
                end = written + CHUNK_BYTES - 1
                ranged = {**headers, "Range": f"bytes={written}-{end}"}
                async with self._http().get(
                    url, headers=ranged, allow_redirects=False, timeout=timeout
                ) as response:
                    if response.status == 200 and written == 0:
                        total = response.content_length  # no ranges: the whole file in one answer
                    elif response.status == 206:
                        total = _range_total(response.headers.get("Content-Range"), written)
                    else:
                        raise UnreachableError(f"The server answered {response.status} to the download.")
                    if total is not None and total > limit:
                        raise TooLargeError("That track is too big for the cache.")
                    before = written
                    async for block in response.content.iter_chunked(READ_BYTES):
                        written += len(block)
                        if written > limit:
                            raise TooLargeError("That track is too big for the cache.")
                        out.write(block)
                    if response.status == 200:
                        if total is not None and written != total:
                            raise UnreachableError("The download ended early.")
                        return
                    if written == before:
                        raise UnreachableError("The server sent an empty range.")


def _range_total(header: str | None, start: int) -> int:
    match = _CONTENT_RANGE.fullmatch((header or "").strip())
    if match is None or int(match.group(1)) != start or match.group(3) == "*":
        raise UnreachableError("The server's answer to a range request made no sense.")
    return int(match.group(3))
