"""Files on disk as tracks: the local library and audio attachments, shared by `play` and `local`.

Both play through `Sources` openers: a LOCAL track's locator is its file name in the library, an
ATTACHMENT track's the name it was stored under in the library's attachments folder. The opener maps the
name back to a path only through `safe_path`, and FFmpeg opens it with the `file` protocol alone,
confined to that folder; a locator from anywhere (a restored queue, say) can't reach another file.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from pytunes.music.embeds import safe
from pytunes.music.library.download import AUDIO_TYPES, Downloaded, Downloader, DownloadError, DownloadSlots
from pytunes.music.library.names import BadNameError, audio_extension, split_name
from pytunes.music.library.store import Library, LibraryFile, LibraryFullError
from pytunes.music.media.errors import MediaError, UnsupportedSourceError
from pytunes.music.media.ffmpeg import probe_codec
from pytunes.music.model import Requester, SourceKind, Track, clean_duration
from pytunes.music.sources import Playable

if TYPE_CHECKING:
    from pytunes.bot import PyTunes

MB = 1024 * 1024


def in_use(file: LibraryFile, current: Track | None, queue: Sequence[Track]) -> str | None:
    """Why `file` can't be renamed or removed now (the player holds it by name, so its entry would fail
    when its turn came), or None."""

    def is_file(track: Track | None) -> bool:
        return track is not None and track.source is SourceKind.LOCAL and track.locator == file.name

    if is_file(current):
        return f"**{safe(file.name)}** is playing right now; skip or stop it first."
    if any(is_file(track) for track in queue):
        return f"**{safe(file.name)}** is in the queue; remove it from the queue first."
    return None


class LocalMedia:
    def __init__(self, library: Library, downloader: Downloader, *, ffmpeg: str | None = None) -> None:
        self.library = library
        self.downloader = downloader
        self.ffmpeg = ffmpeg
        self.slots = DownloadSlots()

    @classmethod
    def for_bot(cls, bot: PyTunes) -> LocalMedia:
        """Built from the settings; registers the LOCAL and ATTACHMENT openers with the music service."""
        service = bot.music
        library = Library(Path(bot.settings.library_dir), max_bytes=bot.settings.library_max_mb * MB)
        downloader = Downloader(
            library,
            service.resolver.guard,
            max_bytes=bot.settings.max_download_mb * MB,
            ffmpeg=service.ffmpeg,
        )
        local = cls(library, downloader, ffmpeg=service.ffmpeg)
        service.sources.register(SourceKind.LOCAL, local.open_local)
        service.sources.register(SourceKind.ATTACHMENT, local.open_attachment)
        return local

    async def aclose(self) -> None:
        await self.downloader.aclose()

    # ------------------------------------------------------------------------------------------ tracks

    @staticmethod
    def track(file: LibraryFile, requester: Requester) -> Track:
        return Track(title=file.title, source=SourceKind.LOCAL, locator=file.name, added_by=requester)

    async def open_local(self, track: Track) -> Playable:
        try:
            path = self.library.path(track.locator)
        except BadNameError:
            raise UnsupportedSourceError("That library file can't be played.") from None
        return await self._open(path, self.library.root, "That file is no longer in the library.")

    async def open_attachment(self, track: Track) -> Playable:
        try:
            path = self.library.attachment_path(track.locator)
        except BadNameError:
            raise UnsupportedSourceError("That upload can't be played.") from None
        return await self._open(path, self.library.attachments, "That upload is no longer kept.")

    async def _open(self, path: Path, root: Path, missing: str) -> Playable:
        if not await asyncio.to_thread(path.is_file):
            raise UnsupportedSourceError(missing)
        # The codec decides whether Opus can be copied instead of re-encoded; a probe is one quick FFmpeg run.
        codec, duration = await probe_codec(path, executable=self.ffmpeg, library_root=root)
        return Playable(path, clean_duration(duration), acodec=codec, root=root)

    # ------------------------------------------------------------------------------------------ attachments

    def check_attachment(self, attachment: discord.Attachment) -> None:
        """Refuse, before reading a byte, what is too large or doesn't say it is audio."""
        if attachment.size > self.downloader.max_bytes:
            raise self.downloader.too_large(attachment.size)
        kind = (attachment.content_type or "").split(";", 1)[0].strip().lower()
        if audio_extension(attachment.filename) is None and not kind.startswith(AUDIO_TYPES):
            shown = f" ({kind})" if kind else ""
            raise DownloadError(f"“{attachment.filename}”{shown} doesn't look like an audio file.")

    async def fetch_attachment(self, attachment: discord.Attachment) -> Downloaded:
        """Read and check an attachment (through Discord's own client: the URL comes from Discord)."""
        self.check_attachment(attachment)
        try:
            data = await attachment.read()
        except (discord.HTTPException, discord.NotFound) as exc:
            raise DownloadError("Discord didn't hand over that file; try uploading it again.") from exc
        return await self.downloader.store_bytes(data, attachment.filename, attachment.content_type)

    async def attachment_track(self, attachment: discord.Attachment, requester: Requester) -> Track:
        """An attachment to play from `play`: kept in the attachments folder (Discord's links expire)."""
        await self.library.check_room()
        downloaded = await self.fetch_attachment(attachment)
        try:
            stored = await self.library.keep_attachment(downloaded.part, attachment.id, downloaded.name)
        except (OSError, BadNameError, LibraryFullError) as exc:
            with contextlib.suppress(OSError):
                downloaded.part.unlink()
            if isinstance(exc, LibraryFullError):
                raise
            raise MediaError("The file couldn't be stored.", detail=repr(exc)) from None
        return Track(
            title=split_name(downloaded.name)[0],
            source=SourceKind.ATTACHMENT,
            locator=stored,
            duration=clean_duration(downloaded.duration),
            added_by=requester,
        )
