"""When a reminder is due, from what a person typed: pure functions of (text, now, time zone).

Formats, tried in this order (case-insensitive, surrounding whitespace and quotes ignored):

* `tomorrow`, `week`: the same wall-clock time tomorrow / in seven days, in the user's zone (so a
  DST change in between does not shift the hour);
* ISO dates `2027-01-01`, date-times `2027-01-01T18:30` (or with a space), optionally with an offset
  (`Z`, `+02:00`), which then wins over the user's zone;
* day-first dates `1-1-2027`, `01.01.2027` (09:00) and date-times `01-01-2027 18:30` / `01-01-2027_18:30`;
* clock times `18:30`: the next time the user's clock shows it (today, else tomorrow);
* relative offsets, read by `pytunes.core.durations` (the grammar gather uses too): units in this
  order, spaces optional, months `mo`/`month(s)` (30 days), days `d`/`day(s)`, hours `h`/`hour(s)`,
  minutes `m`/`minute(s)`, seconds `s`/`second(s)`: `10m`, `1h30m`, `1h 30m`, `2 days 4 hours`. These
  are exact durations.

Local times that do not exist (the hour skipped when clocks go forward) resolve to the same moment
Python's `zoneinfo` gives them, i.e. shifted forward by the gap; repeated hours resolve to the first.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pytunes.core.durations import parse_duration

MAX_AHEAD = timedelta(days=365)
DEFAULT_DATE_TIME = time(9, 0)
TIME_TOKENS_MAX = 10  # "1 mo 2 d 3 h 4 m 5 s" is the longest relative time in tokens

FORMATS_HELP = (
    "• relative: `10m`, `1h30m`, `1h 30m`, `2d 4h`, `1mo` (units mo, d, h, m, s; or month, day, hour, "
    "minute, second)\n"
    "• `tomorrow` or `week` (same time tomorrow / in a week)\n"
    "• a clock time: `18:30` (the next time it is 18:30)\n"
    "• a date: `1-1-2027` (09:00) or `01-01-2027 18:30`\n"
    "• ISO: `2027-01-01T18:30`\n"
    "Times are in your time zone (`notify tz`)."
)

_DAY_FIRST = re.compile(r"(\d{1,2})[-.](\d{1,2})[-.](\d{4})(?:[ _]+(\d{1,2}):(\d{2}))?")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[t ]\d{1,2}:\d{2}(?::\d{2})?(?:z|[+-]\d{2}:?\d{2})?)?")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


class WhenError(ValueError):
    """Why a time was refused, in words for the user."""


def localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as an aware UTC datetime (fold=0: first of a repeated hour)."""
    return naive.replace(tzinfo=zone).astimezone(UTC)


def interpret(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The moment `text` names, or None when it is not in any accepted format. No range checks."""
    t = text.strip().strip("\"'`").strip().lower()
    if not t or len(t) > 60:
        return None
    local_now = now.astimezone(zone).replace(tzinfo=None)
    if t in ("tomorrow", "week"):
        return localize(local_now + timedelta(days=1 if t == "tomorrow" else 7), zone)
    if _ISO.fullmatch(t):
        try:
            parsed = datetime.fromisoformat(t.upper().replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
        if len(t) == 10:
            parsed = datetime.combine(parsed.date(), DEFAULT_DATE_TIME)
        return localize(parsed, zone)
    if match := _DAY_FIRST.fullmatch(t):
        day, month, year, hour, minute = match.groups()
        try:
            naive = datetime(
                int(year), int(month), int(day), int(hour or DEFAULT_DATE_TIME.hour), int(minute or 0)
            )
        except ValueError:
            return None
        return localize(naive, zone)
    if match := _CLOCK.fullmatch(t):
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            return None
        candidate = datetime.combine(local_now.date(), time(hour, minute))
        if localize(candidate, zone) <= now:
            candidate += timedelta(days=1)
        return localize(candidate, zone)
    return _relative(t, now)


def _relative(t: str, now: datetime) -> datetime | None:
    duration = parse_duration(t)
    if duration is None:
        return None
    try:
        return now + duration
    except OverflowError:
        return now + timedelta(days=100 * 365)  # absurdly far: refused by the range check


def parse_when(text: str, now: datetime, zone: ZoneInfo, *, max_ahead: timedelta = MAX_AHEAD) -> datetime:
    """The due moment (aware, UTC, whole seconds) for `text`, or WhenError with the reason."""
    when = interpret(text, now, zone)
    if when is None:
        raise WhenError(f"`{text.strip()[:50]}` is not a time I understand. Use one of:\n{FORMATS_HELP}")
    when = when.replace(microsecond=0)
    if when <= now:
        raise WhenError(f"{discord_time(when)} is in the past. Pick a time after now.")
    if when - now > max_ahead:
        limit = now + max_ahead
        raise WhenError(
            f"{discord_time(when)} is more than a year ahead; reminders can be set up to {discord_time(limit)}."
        )
    return when


def split_time_and_note(text: str, now: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """Split prefix-command text into (time, note): the longest run of leading words that reads as a time
    is the time (so `1h 30m buy milk` is 1h30m with the note "buy milk"); the rest, as typed, is the note.
    When no leading words read as a time, the first word is returned as the time (to be refused)."""
    words = list(re.finditer(r"\S+", text))
    for count in range(min(len(words), TIME_TOKENS_MAX), 0, -1):
        candidate = text[: words[count - 1].end()]
        if interpret(candidate, now, zone) is not None:
            return candidate.strip(), text[words[count - 1].end() :].strip()
    if not words:
        return "", ""
    return words[0].group(), text[words[0].end() :].strip()


def discord_time(when: datetime | float, style: str = "F") -> str:
    """A Discord timestamp tag: every reader sees it in their own zone (`F` full, `R` relative)."""
    seconds = int(when.timestamp() if isinstance(when, datetime) else when)
    return f"<t:{seconds}:{style}>"


def both_times(when: datetime | float) -> str:
    return f"{discord_time(when, 'F')} ({discord_time(when, 'R')})"


@functools.cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def zone_names() -> list[str]:
    """Every IANA zone name this system knows, sorted."""
    return sorted(_zone_names().values())


def resolve_zone(name: str) -> ZoneInfo | None:
    """The IANA zone called `name` (any letter case, `UTC` included), or None."""
    canonical = _zone_names().get(name.strip().lower().replace(" ", "_"))
    if canonical is None and name.strip().upper() in ("UTC", "Z", "GMT"):
        canonical = "UTC"
    if canonical is None:
        return None
    try:
        return ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError):
        return None
