"""Files on disk as tracks: the local library and audio attachments, shared by `play` and `local`.

Both play through `Sources` openers: a LOCAL track's locator is its file name in the library, an
ATTACHMENT track's the name it was stored under in the library's attachments folder. The opener maps the
name back to a path only through `safe_path`, and FFmpeg opens it with the `file` protocol alone,
confined to that folder; a locator from anywhere (a restored queue, say) can't reach another file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from pytunes.music.library.download import AUDIO_TYPES, Downloaded, Downloader, DownloadError, DownloadSlots
from pytunes.music.library.names import BadNameError, audio_extension, split_name
from pytunes.music.library.store import Library, LibraryFile, LibraryFullError
from pytunes.music.library.usage import FilesInUse, files_in_use
from pytunes.music.library.usage import in_use as in_use  # where callers have always found it
from pytunes.music.media.errors import MediaError, UnsupportedSourceError
from pytunes.music.media.ffmpeg import probe_codec
from pytunes.music.model import Requester, SourceKind, Track, clean_duration
from pytunes.music.sources import Playable

if TYPE_CHECKING:
    from pytunes.bot import PyTunes

log = logging.getLogger(__name__)

MB = 1024 * 1024


class LocalMedia:
    def __init__(
        self,
        library: Library,
        downloader: Downloader,
        *,
        ffmpeg: str | None = None,
        needed: Callable[[], Awaitable[FilesInUse]] | None = None,
    ) -> None:
        self.library = library
        self.downloader = downloader
        self.ffmpeg = ffmpeg
        self.slots = DownloadSlots()
        # What every player and saved session holds (`usage.files_in_use`); without it nothing is pruned.
        self.needed = needed

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
        local = cls(library, downloader, ffmpeg=service.ffmpeg, needed=lambda: files_in_use(service))
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
        """Fetch and check an attachment, streamed to disk; the caller holds a download slot."""
        self.check_attachment(attachment)
        return await self.downloader.fetch_attachment(
            attachment.url, attachment.filename, attachment.content_type
        )

    async def attachment_track(
        self, attachment: discord.Attachment, requester: Requester, guild_id: int | None
    ) -> Track:
        """An attachment to play from `play`: kept in the attachments folder (Discord's links expire).
        It takes one of the download slots like `local upload`: fetching and decoding it costs the same."""
        with self.slots.hold(guild_id, requester.user_id):
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
        await self._prune()
        return Track(
            title=split_name(downloaded.name)[0],
            source=SourceKind.ATTACHMENT,
            locator=stored,
            duration=clean_duration(downloaded.duration),
            added_by=requester,
        )

    async def _prune(self) -> None:
        """Prune old uploads, sparing every one a player or saved session still holds. When that can't be
        told (the database is away for a moment), nothing is pruned: the next upload tries again."""
        if self.needed is None:
            return
        try:
            needed = (await self.needed()).names(SourceKind.ATTACHMENT)
        except Exception:
            log.warning("could not tell which uploads are still queued; not pruning now", exc_info=True)
            return
        await self.library.prune_attachments(needed)
