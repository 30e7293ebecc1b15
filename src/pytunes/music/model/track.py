"""Tracks and how they are shown: source labels, durations, progress bars.

Pure: no Discord, no I/O. The service turns resolver output into `Track`s; embeds use the display helpers
here so every message shows a track the same way.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

# Longest title shown inside a sentence (refusal messages). Embeds clamp again to Discord's limits; this
# just keeps a 500-character YouTube title from drowning the actual message.
TITLE_IN_TEXT_MAX = 100

UNKNOWN_DURATION = "--:--"
LIVE_DURATION = "LIVE"

BAR_FILLED = "━"
BAR_KNOB = "●"
BAR_EMPTY = "─"


class SourceKind(StrEnum):
    """Where a track comes from; decides how it is resolved, gated, cached and labelled."""

    YOUTUBE = "youtube"
    DIRECT = "direct"
    SPOTIFY = "spotify"
    LOCAL = "local"
    ATTACHMENT = "attachment"
    SEARCH = "search"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def emoji(self) -> str:
        return _EMOJIS[self]

    @property
    def text(self) -> str:
        """Emoji and label, e.g. "🎬 YouTube" (the NowPlaying "Source" field, presence suffix)."""
        return f"{self.emoji} {self.label}"


# The first three are the reference bot's labels; the others are ours.
_LABELS: dict[SourceKind, str] = {
    SourceKind.YOUTUBE: "YouTube",
    SourceKind.SPOTIFY: "Spotify",
    SourceKind.LOCAL: "Local file",
    SourceKind.DIRECT: "Web link",
    SourceKind.ATTACHMENT: "Upload",
    SourceKind.SEARCH: "Search",
}
_EMOJIS: dict[SourceKind, str] = {
    SourceKind.YOUTUBE: "🎬",
    SourceKind.SPOTIFY: "🟢",
    SourceKind.LOCAL: "📁",
    SourceKind.DIRECT: "🔗",
    SourceKind.ATTACHMENT: "📎",
    SourceKind.SEARCH: "🔍",
}


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked for a track. The id survives renames; the name is what was shown at the time."""

    user_id: int
    name: str


def new_track_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True, kw_only=True)
class Track:
    """One queue entry.

    `id` identifies the *entry*, not the song: the same song queued twice gets two ids, so removing or
    replaying one never touches the other. `locator` is opaque to the model; the service uses it to
    re-resolve the stream at start time (a URL, a `ytsearch1:` query, a library file id), because stream
    URLs expire and must not be stored.
    """

    title: str
    source: SourceKind
    locator: str
    url: str | None = None
    author: str | None = None
    duration: int | None = None
    is_live: bool = False
    added_by: Requester | None = None
    id: str = field(default_factory=new_track_id)

    def __post_init__(self) -> None:
        if not self.locator:
            raise ValueError("a track needs a locator to be played")
        # bool is an int; a duration of True seconds is a bug upstream, not a one-second track.
        if self.duration is not None and (
            isinstance(self.duration, bool) or not isinstance(self.duration, int) or self.duration <= 0
        ):
            raise ValueError(f"duration must be a positive whole number of seconds, got {self.duration!r}")

    def fresh(self) -> Track:
        """The same song as a new queue entry (new id, same requester), e.g. replayed from history."""
        return dataclasses.replace(self, id=new_track_id())

    def same_song(self, other: Track) -> bool:
        return self.source is other.source and self.locator == other.locator

    @property
    def display_title(self) -> str:
        return self.title.strip() or "Untitled"

    @property
    def short_title(self) -> str:
        """The title clipped for use inside a sentence."""
        return clip(self.display_title, TITLE_IN_TEXT_MAX)

    @property
    def duration_text(self) -> str:
        if self.is_live:
            return LIVE_DURATION
        return UNKNOWN_DURATION if self.duration is None else format_duration(self.duration)

    @property
    def location_line(self) -> str:
        """The second line of a queue or history entry: the link, or where it comes from."""
        if self.source is SourceKind.LOCAL:
            # Local tracks have file:// URLs at most; a path is nothing a user can open.
            return SourceKind.LOCAL.text
        return self.url or self.source.text

    @property
    def requester_name(self) -> str | None:
        return self.added_by.name if self.added_by else None


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when something was cut."""
    if limit < 1:
        raise ValueError("limit must be positive")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_duration(raw: object) -> int | None:
    """A resolver's duration (int, float, numeric text, None, NaN…) as whole positive seconds or None.

    yt-dlp reports floats, strings from `--print`, 0 or NaN for unknown; none of that may reach `Track`.
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    # A 0.4 s clip is still a real track; never round a known positive length down to "unknown".
    return max(1, round(value))


def format_duration(seconds: float) -> str:
    """`mm:ss` below an hour, `h:mm:ss` from an hour; negative or non-finite input shows as 00:00."""
    whole = int(seconds) if math.isfinite(seconds) and seconds > 0 else 0
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02}:{secs:02}"
    return f"{minutes:02}:{secs:02}"


def progress_bar(elapsed: float, total: float | None, width: int = 20) -> str:
    """A `width`-character bar with a knob at the elapsed fraction, e.g. `━━━━●───────────────`.

    Unknown, zero or live totals put the knob at the start: there is no fraction to show.
    """
    if width < 1:
        raise ValueError("width must be positive")
    ratio = 0.0
    if total is not None and math.isfinite(total) and total > 0 and math.isfinite(elapsed):
        ratio = min(max(elapsed / total, 0.0), 1.0)
    # Floor, so the knob reaches the right end only when the track is really over.
    knob = math.floor(ratio * (width - 1))
    return BAR_FILLED * knob + BAR_KNOB + BAR_EMPTY * (width - 1 - knob)


def progress_text(elapsed: float, total: float | None, *, width: int = 20, live: bool = False) -> str:
    """Bar plus `elapsed / total`, the `playing` command's progress line."""
    if live:
        return f"{progress_bar(0, None, width)} {format_duration(elapsed)} / {LIVE_DURATION}"
    if total is None or not math.isfinite(total) or total <= 0:
        return f"{progress_bar(0, None, width)} {format_duration(elapsed)} / {UNKNOWN_DURATION}"
    # Audio can run a moment past the probed length; never show 04:06 / 04:05.
    shown = min(max(elapsed, 0.0), total) if math.isfinite(elapsed) else 0.0
    return f"{progress_bar(shown, total, width)} {format_duration(shown)} / {format_duration(total)}"
