"""Fetching audio files into the library: `local download <url>`, `local upload` and attachments.

A file is only kept after it passed every check, in this order:

1. the link is http(s) to a public host, and so is every redirect hop (`UrlGuard`; the session's
   resolver connects only to the addresses that were checked, so DNS can't change its answer between);
2. the answer is 2xx;
3. the Content-Type says audio, or says nothing useful (octet-stream, none) while the name has an audio
   extension; a web page, a playlist, an image or JSON is refused with what it was;
4. the Content-Length, and then the bytes actually received, stay within the size limit (a server that
   lies about the length is cut off at the limit, not trusted);
5. FFmpeg reads an audio stream from the file's header (the local-file whitelist: `file` protocol, audio
   demuxers), and then decodes the whole file, under the same whitelist and a time limit, without more
   than a few decoding errors: a valid header in front of junk (an m4a whose `mdat` is random bytes, a
   few MP3 frames followed by noise) passes the first look but not this one;
6. the library has room for it (`LIBRARY_MAX_MB`, checked by `Library.keep`).

Until then the bytes sit in a hidden part file that the library never lists. `DownloadSlots` keeps each
person to one download at a time, and each server to a few; an attachment given to `play` is a download
too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from pytunes.music.library.names import (
    CODEC_EXTENSIONS,
    DEFAULT_EXTENSION,
    audio_extension,
    content_type_extension,
    split_name,
)
from pytunes.music.library.store import Library, size_text
from pytunes.music.media.errors import MediaError, ResolveTimeoutError, UnreachableError
from pytunes.music.media.fetch import REDIRECT_STATUSES, GuardedResolver
from pytunes.music.media.ffmpeg import ffmpeg_path, plan_audio, probe_codec, run_for_report
from pytunes.music.media.playlists import PLAYLIST_CONTENT_TYPES
from pytunes.music.media.safety import UrlGuard

CHUNK = 64 * 1024
MB = 1024 * 1024
# Decoding a whole file of the 50 MB the limit allows takes seconds (audio decodes hundreds of times
# faster than real time); a minute is for a busy machine. A handful of errors is what a real file with a
# clipped last frame or a bad tag gives; junk behind a valid header gives hundreds.
DECODE_TIMEOUT = 60.0
MAX_DECODE_ERRORS = 5
DAMAGED = "That file is damaged: FFmpeg couldn't decode it."
# At most this many downloads at once per person, and per server.
DOWNLOADS_PER_USER = 1
DOWNLOADS_PER_GUILD = 3

K = TypeVar("K")
# Types that are audio whatever the name says (WebM/MP4/Ogg "video" is how servers often label audio).
AUDIO_TYPES = ("audio/", "video/webm", "video/mp4", "video/ogg", "application/ogg")
# Types that say nothing about the content; the name's extension decides.
UNTYPED = (
    "application/octet-stream",
    "binary/octet-stream",
    "application/x-download",
    "application/download",
)


class DownloadError(MediaError):
    """The file was not kept; the message says why."""

    code = "download"


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A complete, checked file in a hidden part file, and the name it would like to be kept as."""

    part: Path
    name: str  # suggested file name, always with an audio extension
    codec: str
    duration: float | None


class DownloadSlots:
    """Who is downloading right now. Each download holds a slot from the first byte to the kept file,
    so one person can't keep the bot's bandwidth, CPU (the decode check) and disk busy with a stream of
    parallel downloads; with the library's size cap that bounds what anyone can do."""

    def __init__(self, per_user: int = DOWNLOADS_PER_USER, per_guild: int = DOWNLOADS_PER_GUILD) -> None:
        self.per_user = per_user
        self.per_guild = per_guild
        self._users: Counter[int] = Counter()
        self._guilds: Counter[int | None] = Counter()

    def refusal(self, guild_id: int | None, user_id: int) -> str | None:
        """Why a new download by `user_id` in `guild_id` can't start now, or None if it can."""
        if self._users[user_id] >= self.per_user:
            return "You already have a download running; wait for it to finish."
        if self._guilds[guild_id] >= self.per_guild:
            return (
                f"This server already has {self._guilds[guild_id]} downloads running; try again in a moment."
            )
        return None

    @contextlib.contextmanager
    def hold(self, guild_id: int | None, user_id: int) -> Iterator[None]:
        """Hold a slot for the block; raises `DownloadError` with the reason when there is none."""
        reason = self.refusal(guild_id, user_id)
        if reason is not None:
            raise DownloadError(reason)
        self._users[user_id] += 1
        self._guilds[guild_id] += 1
        try:
            yield
        finally:
            _release(self._users, user_id)
            _release(self._guilds, guild_id)

    @property
    def running(self) -> int:
        return sum(self._guilds.values())


def _release(counts: Counter[K], key: K) -> None:
    counts[key] -= 1
    if counts[key] <= 0:
        del counts[key]  # only running downloads stay in the map


async def decode_errors(part: Path, *, root: Path, executable: str | None = None) -> int:
    """Decode all of `part`'s first audio stream (output discarded) and count FFmpeg's errors; an
    exit code other than 0 counts as too many. Same input whitelist as playback (`plan_audio`)."""
    exe = executable or ffmpeg_path()
    plan = plan_audio(part, library_root=root)
    code, report = await run_for_report(
        [exe, *plan.before_options, "-i", plan.source, *plan.options, "-f", "null", "-"],
        timeout=DECODE_TIMEOUT,
        too_slow="Checking that file took too long; it may be damaged.",
        niceness=10,  # the check must not make the music that is playing stutter
    )
    errors = sum(1 for line in report.splitlines() if line.strip())
    return errors if code == 0 else max(errors, MAX_DECODE_ERRORS + 1)


def check_content_type(content_type: str, name: str) -> None:
    """Refuse content that is not audio; `name` is the file name the bytes would get."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind.startswith(AUDIO_TYPES) and kind not in PLAYLIST_CONTENT_TYPES:
        return
    if kind in PLAYLIST_CONTENT_TYPES:
        raise DownloadError(f"That link is a playlist ({kind}), not an audio file.")
    if kind.startswith("text/") or kind in ("application/xhtml+xml", "application/json", "application/xml"):
        what = "a web page" if "html" in kind else "text"
        raise DownloadError(f"That link is {what} ({kind}), not an audio file.")
    if kind.startswith(("image/", "font/", "model/")):
        raise DownloadError(f"That link is {kind.split('/')[0]} ({kind}), not an audio file.")
    if (not kind or kind in UNTYPED) and audio_extension(name) is not None:
        return
    raise DownloadError(
        f"The server says this is {kind or 'of no particular type'}, and the name has no audio extension."
    )


def name_from_url(url: str) -> str:
    """The last path segment of `url`, percent-decoded (it is sanitized later, like every name)."""
    path = urlsplit(url).path
    return unquote(path.rstrip("/").rsplit("/", 1)[-1], errors="replace")


def automatic_name(disposition: str | None, url: str, content_type: str | None, *, fill: bool = True) -> str:
    """The Content-Disposition name if it has an audio extension, else the URL's last segment;
    with the content type's extension (or mp3) when it has none, unless `fill` is off."""
    if disposition:
        # A header name is a name, not a path: only its last component counts.
        candidate = disposition.replace("\\", "/").rsplit("/", 1)[-1]
        if audio_extension(candidate) is not None:
            return candidate
    name = name_from_url(url) or "download"
    if fill and audio_extension(name) is None:
        name = f"{name}.{content_type_extension(content_type) or DEFAULT_EXTENSION}"
    return name


def chosen_name(custom: str | None, automatic: str) -> str:
    """A custom name keeps its own audio extension, else borrows the automatic name's."""
    if not custom or not custom.strip():
        return automatic
    if audio_extension(custom.strip()) is not None:
        return custom.strip()
    return f"{custom.strip()}.{audio_extension(automatic) or DEFAULT_EXTENSION}"


class Downloader:
    def __init__(
        self,
        library: Library,
        guard: UrlGuard,
        *,
        max_bytes: int,
        ffmpeg: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_redirects: int = 5,
        http_resolver: AbstractResolver | None = None,
    ) -> None:
        self.library = library
        self.guard = guard
        self.max_bytes = max_bytes
        self.ffmpeg = ffmpeg
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_redirects = max_redirects
        self._http_resolver = http_resolver
        self._session: aiohttp.ClientSession | None = None
        self._cdn_session: aiohttp.ClientSession | None = None  # for attachment links, from Discord

    @property
    def limit_text(self) -> str:
        return f"{self.max_bytes // MB} MB" if self.max_bytes >= MB else size_text(self.max_bytes)

    def too_large(self, size: int) -> DownloadError:
        return DownloadError(f"That file is too large ({size_text(size)}); the limit is {self.limit_text}.")

    async def aclose(self) -> None:
        for session in (self._session, self._cdn_session):
            if session is not None:
                await session.close()
        self._session = self._cdn_session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = self._http_resolver or GuardedResolver(self.guard)
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver))
        return self._session

    async def fetch(self, url: str) -> Downloaded:
        """Download `url` into a part file and check it; raises `MediaError` with the reason."""
        text = url.strip()
        if text.startswith("<") and text.endswith(">"):
            text = text[1:-1].strip()  # Discord's <link> form
        checked = await self.guard.check(text)
        timeout = aiohttp.ClientTimeout(total=self.timeout, sock_connect=self.connect_timeout)
        try:
            async with asyncio.timeout(self.timeout):
                for _ in range(self.max_redirects + 1):
                    async with self._http().get(
                        checked.url.url, allow_redirects=False, timeout=timeout
                    ) as response:
                        location = response.headers.get("Location")
                        if response.status in REDIRECT_STATUSES and location:
                            checked = await self.guard.check(urljoin(checked.url.url, location))
                            continue
                        return await self._receive(response, checked.url.url)
        except TimeoutError:
            raise ResolveTimeoutError(f"{checked.url.host} took too long to send the file.") from None
        except aiohttp.ClientError as exc:
            raise UnreachableError(f"Couldn't download from {checked.url.host}.", detail=repr(exc)) from None
        raise DownloadError("That link redirects too many times.")

    async def _receive(self, response: aiohttp.ClientResponse, url: str) -> Downloaded:
        if not 200 <= response.status < 300:
            raise DownloadError(f"The server returned {response.status}.")
        content_type = response.headers.get("Content-Type", "")
        disposition = response.content_disposition.filename if response.content_disposition else None
        # The type check sees the name as the server gave it: an untyped blob only passes with a real
        # audio extension, not with the mp3 a nameless file would get.
        check_content_type(content_type, automatic_name(disposition, url, None, fill=False))
        name = automatic_name(disposition, url, content_type)
        return await self._stream(response, name)

    async def _stream(self, response: aiohttp.ClientResponse, name: str) -> Downloaded:
        """The body into a part file, cut off at the size limit whatever the headers said, then checked."""
        if response.content_length is not None and response.content_length > self.max_bytes:
            raise self.too_large(response.content_length)
        part = self.library.part_file()
        try:
            size = 0
            with part.open("wb") as out:
                async for chunk in response.content.iter_chunked(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise self.too_large(size)
                    # A 64 KB write to a local disk returns in microseconds; a thread hop per chunk would
                    # cost more than it saves.
                    out.write(chunk)
            return await self._checked(part, name)
        except BaseException:
            _discard(part)
            raise

    async def fetch_attachment(self, url: str, filename: str, content_type: str | None) -> Downloaded:
        """A message attachment into a checked part file, streamed in chunks like any download: never
        the whole file in memory, and cut off at the size limit even if Discord's size was wrong.

        The link comes from Discord (like discord.py's own `Attachment.read`), not from a user, so it is
        not held to the public-host rule (a bot under test talks to a local Discord); a redirect, which
        Discord's CDN doesn't send, is refused rather than followed."""
        name = filename if audio_extension(filename) else automatic_name(None, filename, content_type)
        timeout = aiohttp.ClientTimeout(total=self.timeout, sock_connect=self.connect_timeout)
        host = urlsplit(url).hostname or "Discord"
        try:
            async with asyncio.timeout(self.timeout):
                async with self._cdn().get(url, allow_redirects=False, timeout=timeout) as response:
                    if not 200 <= response.status < 300:
                        raise DownloadError(
                            "Discord didn't hand over that file; try uploading it again.",
                            detail=f"{response.status} from {host}",
                        )
                    return await self._stream(response, name)
        except TimeoutError:
            raise ResolveTimeoutError(f"{host} took too long to send the file.") from None
        except aiohttp.ClientError as exc:
            raise UnreachableError(f"Couldn't download from {host}.", detail=repr(exc)) from None

    def _cdn(self) -> aiohttp.ClientSession:
        if self._cdn_session is None or self._cdn_session.closed:
            self._cdn_session = aiohttp.ClientSession()
        return self._cdn_session

    async def _checked(self, part: Path, name: str) -> Downloaded:
        try:
            codec, duration = await probe_codec(
                part, executable=self.ffmpeg, library_root=self.library.root, timeout=30.0
            )
        except MediaError as exc:
            raise DownloadError(
                "FFmpeg found no audio it can play in that file (it may be damaged or not audio at all).",
                detail=exc.detail,
            ) from None
        if codec is None:
            raise DownloadError("FFmpeg found no audio it can play in that file.")
        try:
            errors = await decode_errors(part, root=self.library.root, executable=self.ffmpeg)
        except MediaError as exc:
            raise DownloadError(str(exc), detail=exc.detail) from None
        if errors > MAX_DECODE_ERRORS:
            raise DownloadError(DAMAGED, detail=f"{errors} decoding errors")
        if audio_extension(name) is None:
            stem = split_name(name)[0]
            name = f"{stem}.{CODEC_EXTENSIONS.get(codec, DEFAULT_EXTENSION)}"
        return Downloaded(part, name, codec, duration)


def _discard(part: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(part)
