"""Plain, picklable results of media resolution (they cross the worker-process boundary), and the checks
that read raw values from yt-dlp and the web APIs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pytunes.music.media.errors import ExtractionError


class SourceKind(StrEnum):
    YOUTUBE = "youtube"
    DIRECT = "direct"
    LOCAL = "local"
    SPOTIFY = "spotify"  # a Spotify track; matched to a YouTube video when it is about to play


@dataclass(frozen=True, slots=True)
class ResolvedMedia:
    """One playable item with a stream URL that FFmpeg may open right now.

    Stream URLs expire (YouTube's after a few hours), so these are produced right before playback by
    `MediaResolver.fetch_stream` and never stored. A live item has an empty `stream_url`: formats are not
    selected for it, because livestreams are refused before playback.
    """

    title: str
    page_url: str
    stream_url: str
    duration: float | None
    is_live: bool
    acodec: str | None
    ext: str | None
    http_headers: Mapping[str, str]
    source_kind: SourceKind
    id: str | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class MediaEntry:
    """A lightweight item: a playlist entry, a search hit or a resolved single link.

    `url` is the user-facing page (canonical `https://www.youtube.com/watch?v=<id>` for YouTube, the
    link itself for direct media); the stream is fetched from it at play time.
    """

    source_kind: SourceKind
    id: str
    title: str
    url: str
    channel: str | None = None
    duration: float | None = None
    is_live: bool | None = None


@dataclass(frozen=True, slots=True)
class PlaylistResult:
    id: str
    title: str
    entries: tuple[MediaEntry, ...]
    truncated: bool = False
    skipped: int = 0  # entries left out as unplayable (an m3u/pls entry that is no web link)


@dataclass(frozen=True, slots=True)
class ExtractFailure:
    """A failure reported by a worker process (exceptions are not sent across processes)."""

    code: str
    message: str
    detail: str = field(default="", repr=False)


ExtractOutcome = ResolvedMedia | PlaylistResult | ExtractFailure


def positive_duration(value: object) -> float | None:
    """A usable duration in seconds, or None (yt-dlp and APIs use 0, None or junk for unknown)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if 0 < number < float("inf") else None


def api_object(body: str, *, unreadable: str) -> dict[str, Any]:
    """A web API's JSON answer, which must be an object; `ExtractionError(unreadable)` otherwise."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ExtractionError(unreadable)
    return data
