"""Pure rules the player and the cog share: the length and livestream gates, volume and on/off parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pytunes.music.model.outcomes import Reason, Refused
from pytunes.music.model.track import SourceKind, Track, clip, format_duration

# --- gates ------------------------------------------------------------------------------------------

# Sources the service may download into the audio cache. Local files already are files;
# direct links and uploads can be anything, so they are streamed.
CACHEABLE_SOURCES = frozenset({SourceKind.YOUTUBE, SourceKind.SPOTIFY, SourceKind.SEARCH})


@dataclass(frozen=True, slots=True)
class GateLimits:
    """`max_seconds` None means no cap; `stream_only_seconds` is where caching stops, not a refusal."""

    max_seconds: int | None = 3600
    allow_livestreams: bool = False
    stream_only_seconds: int = 600


def check_track(track: Track, limits: GateLimits) -> Refused | None:
    """Why `track` may not play, or None. Unknown durations pass here and are probed at start time.

    Applied when a track is added (known durations) *and* on every start, after the service
    resolved it, so nothing reaches the speakers unchecked however it got to the head of the queue.
    """
    if track.source is SourceKind.LOCAL:
        # The operator's own library: never probed and never capped.
        return None
    if track.is_live and not limits.allow_livestreams:
        return Refused(
            reason=Reason.LIVESTREAM,
            message=f"“{track.short_title}” is a livestream, and livestreams are not allowed.",
        )
    if limits.max_seconds is not None and track.duration is not None and track.duration > limits.max_seconds:
        return Refused(
            reason=Reason.TOO_LONG,
            message=(
                f"“{track.short_title}” is {format_duration(track.duration)} long, over the "
                f"{_limit_text(limits.max_seconds)} maximum."
            ),
        )
    return None


def needs_probe(track: Track) -> bool:
    """Whether the service must probe duration and liveness before the gates can judge the track."""
    return track.source is not SourceKind.LOCAL and track.duration is None and not track.is_live


def may_cache(track: Track, limits: GateLimits) -> bool:
    """Whether the service may keep a copy on disk: cacheable source, not live, not known to be long."""
    if track.source not in CACHEABLE_SOURCES or track.is_live:
        return False
    return track.duration is None or track.duration <= limits.stream_only_seconds


def _limit_text(seconds: int) -> str:
    return f"{seconds // 60}-minute" if seconds % 60 == 0 else format_duration(seconds)


# --- queue size ---------------------------------------------------------------------------------------

# Upcoming tracks one guild may queue. The whole queue is saved on every change (to survive restarts)
# and listed by `queue`; without a cap a few huge playlists make every skip slow for everyone.
MAX_QUEUE_TRACKS = 1000


def queue_full(limit: int) -> Refused:
    return Refused(
        reason=Reason.QUEUE_FULL,
        message=f"The queue is full: it holds at most {limit:,} tracks. Skip or remove some first.",
    )


def queue_cut_text(limit: int, added: int) -> str:
    """What a confirmation adds when the end of a list did not fit into the queue."""
    return f"The queue holds at most {limit:,} tracks; added the first {added}."


# --- volume -----------------------------------------------------------------------------------------

MIN_VOLUME = 1
MAX_VOLUME = 100
MAX_OVERDRIVE_VOLUME = 500
DEFAULT_VOLUME = 50

# "57", "57.5", "57,5" (decimal comma), "57%", "150!", "150 !", "-3" (so it gets a range message, not
# "not a number"). No exponents, no nan/inf: Decimal would accept those, users never mean them.
_VOLUME_PATTERN = re.compile(
    r"(?P<number>[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*%?\s*(?P<overdrive>!)?", re.ASCII
)
_SHOWN_INPUT_MAX = 20


@dataclass(frozen=True, slots=True)
class VolumeRequest:
    """A validated volume: whole percent, within 1–100, or 1–500 when `overdrive`."""

    percent: int
    overdrive: bool = False

    def __post_init__(self) -> None:
        ceiling = MAX_OVERDRIVE_VOLUME if self.overdrive else MAX_VOLUME
        if isinstance(self.percent, bool) or not MIN_VOLUME <= self.percent <= ceiling:
            raise ValueError(f"volume {self.percent!r} is outside {MIN_VOLUME}–{ceiling}")


def parse_volume(text: str) -> VolumeRequest | Refused:
    """Parse the `volume` argument. Out of range is refused, not clamped: the user gets what they asked or
    a reason. Decimals are rounded half up to whole percent, so a stored volume never shows as 57.000004%.
    """
    stripped = text.strip()
    match = _VOLUME_PATTERN.fullmatch(stripped)
    if match is None:
        return Refused(
            reason=Reason.INVALID_VOLUME,
            message=(
                f"Invalid volume value: “{clip(stripped, _SHOWN_INPUT_MAX)}”. Use a number from "
                f"{MIN_VOLUME} to {MAX_VOLUME}, or up to {MAX_OVERDRIVE_VOLUME} with a trailing ! (e.g. 150!)."
            ),
        )
    overdrive = match["overdrive"] is not None
    try:
        value = Decimal(match["number"].replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        return Refused(reason=Reason.INVALID_VOLUME, message=f"Invalid volume value: “{stripped}”.")
    shown = clip(match["number"], _SHOWN_INPUT_MAX)
    if value < MIN_VOLUME:
        return Refused(
            reason=Reason.VOLUME_OUT_OF_RANGE, message=f"Volume must be at least {MIN_VOLUME}%, not {shown}%."
        )
    if not overdrive and value > MAX_VOLUME:
        return Refused(
            reason=Reason.VOLUME_OUT_OF_RANGE,
            message=(
                f"{shown}% is above {MAX_VOLUME}%. Add ! (e.g. `{shown}!`) for overdrive, "
                f"up to {MAX_OVERDRIVE_VOLUME}%."
            ),
        )
    if value > MAX_OVERDRIVE_VOLUME:
        return Refused(
            reason=Reason.VOLUME_OUT_OF_RANGE,
            message=f"{shown}% is too loud; even overdrive stops at {MAX_OVERDRIVE_VOLUME}%.",
        )
    percent = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return VolumeRequest(percent=percent, overdrive=overdrive)


# --- on/off switches (silent, also normalize) -------------------------------------------------------

ON_WORDS = frozenset({"on", "true", "1", "yes", "y"})
OFF_WORDS = frozenset({"off", "false", "0", "no", "n"})


def parse_toggle(text: str | None, current: bool) -> bool | Refused:
    """The new state for `silent [on|off]`: no argument toggles; anything unknown is refused."""
    if text is None or not text.strip():
        return not current
    word = text.strip().lower()
    if word in ON_WORDS:
        return True
    if word in OFF_WORDS:
        return False
    return Refused(
        reason=Reason.INVALID_TOGGLE,
        message=f"Use `on` or `off`, not “{clip(text.strip(), _SHOWN_INPUT_MAX)}”.",
    )
