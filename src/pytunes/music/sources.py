"""What FFmpeg plays for a queued track: a fresh stream or a file, with what is known about it.

`Sources.open` is called right before playback (and again when a live change restarts FFmpeg). Streamed
sources go through the resolver, which fetches a fresh, checked stream URL (they expire). Sources that
play from disk (the local library, uploads) register their own opener, so the player never needs to know
where a file lives.

With an audio cache, a stream that has a complete cached copy plays from that file instead (no stream to
resolve, cheap seeking). Every `Playable` says which content it is (`content_id`): the key for the cache
and for stored loudness measurements.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from pytunes.music.cache import AudioCache
from pytunes.music.media import MediaError
from pytunes.music.media.resolver import MediaResolver, QueryKind
from pytunes.music.media.results import ResolvedMedia
from pytunes.music.model import SourceKind, Track, clean_duration


@dataclass(frozen=True, slots=True)
class Playable:
    """Input for FFmpeg. A `Path` input is a file inside `root`, the folder it must not leave."""

    input: ResolvedMedia | Path
    duration: int | None
    is_live: bool = False
    acodec: str | None = None
    root: Path | None = None
    # What this audio is, independent of where it is read from: "youtube:<video id>", "url:<hash>",
    # "file:<sha256 of the content>" (see `file_content_id`). None: unknown, not cached or normalized.
    content_id: str | None = None

    @property
    def is_file(self) -> bool:
        return isinstance(self.input, Path)


def url_content_id(url: str) -> str:
    return "url:" + hashlib.sha256(url.encode()).hexdigest()[:40]


def media_content_id(media: ResolvedMedia) -> str:
    if media.source_kind == "youtube" and media.id:
        return f"youtube:{media.id}"
    return url_content_id(media.page_url)


def file_content_id(path: Path) -> str:
    """The content id of a file on disk: a hash of its bytes (blocking: run it in a thread)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1024 * 1024):
            digest.update(block)
    return f"file:{digest.hexdigest()}"


Opener = Callable[[Track], Awaitable[Playable]]


class Sources:
    def __init__(self, resolver: MediaResolver, *, cache: AudioCache | None = None) -> None:
        self.resolver = resolver
        self.cache = cache if cache is not None and cache.enabled else None
        self._openers: dict[SourceKind, Opener] = {}

    def register(self, kind: SourceKind, opener: Opener) -> None:
        self._openers[kind] = opener

    async def open(self, track: Track) -> Playable:
        """Raises `MediaError` (with a message fit for users) when the track can't be played."""
        opener = self._openers.get(track.source)
        if opener is not None:
            return await opener(track)
        known = self.locator_content_id(track)
        if known is not None:
            cached = self.cached(known, track.duration)
            if cached is not None:
                return cached  # no stream to resolve at all
        media = await self.resolver.fetch_stream(track.locator)
        content_id = known or media_content_id(media)
        duration = clean_duration(media.duration)
        if not media.is_live:
            cached = self.cached(content_id, duration)
            if cached is not None:
                return cached
        return Playable(media, duration, media.is_live, media.acodec, content_id=content_id)

    def locator_content_id(self, track: Track) -> str | None:
        """The content id of a streamed track known without resolving it (a YouTube or direct link)."""
        try:
            query = self.resolver.classify(track.locator)
        except MediaError:
            return None
        if query.kind is QueryKind.YOUTUBE_VIDEO and query.video_id:
            return f"youtube:{query.video_id}"
        if query.kind is QueryKind.URL:
            return url_content_id(query.text)
        return None

    def cached(self, content_id: str, duration: int | None) -> Playable | None:
        """The cached copy of `content_id` as a playable file, if there is one."""
        entry = self.cache.get(content_id) if self.cache is not None else None
        if entry is None or self.cache is None:
            return None
        return Playable(entry.path, duration, acodec=entry.codec, root=self.cache.root, content_id=content_id)

    def start_at(self, track: Track) -> float:
        """Where a fresh start of `track` begins (a YouTube link's t=)."""
        if track.source in self._openers:
            return 0.0
        return self.resolver.classify(track.locator).start_at
