"""What FFmpeg plays for a queued track: a fresh stream or a file, with what is known about it.

`Sources.open` is called right before playback (and again when a live change restarts FFmpeg). Streamed
sources go through the resolver, which fetches a fresh, checked stream URL (they expire). Sources that
play from disk (the local library, uploads) register their own opener, so the player never needs to know
where a file lives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from pytunes.music.media.resolver import MediaResolver
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


Opener = Callable[[Track], Awaitable[Playable]]


class Sources:
    def __init__(self, resolver: MediaResolver) -> None:
        self.resolver = resolver
        self._openers: dict[SourceKind, Opener] = {}

    def register(self, kind: SourceKind, opener: Opener) -> None:
        self._openers[kind] = opener

    async def open(self, track: Track) -> Playable:
        """Raises `MediaError` (with a message fit for users) when the track can't be played."""
        opener = self._openers.get(track.source)
        if opener is not None:
            return await opener(track)
        media = await self.resolver.fetch_stream(track.locator)
        return Playable(media, clean_duration(media.duration), media.is_live, media.acodec)

    def start_at(self, track: Track) -> float:
        """Where a fresh start of `track` begins (a YouTube link's t=)."""
        if track.source in self._openers:
            return 0.0
        return self.resolver.classify(track.locator).start_at
