"""When a gathering starts: a relative duration (`10m`, `1h30m`, `1h 30m`) or a clock time (`20:30`).

Relative durations are read by `pytunes.core.durations`, the grammar reminders use too: units in the fixed
order months, days, hours, minutes, seconds, each optional, whitespace allowed between parts; a total of
zero is invalid.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from pytunes.core import durations

_CLOCK = re.compile(r"^\s*(?P<h>\d{1,2}):(?P<m>\d{2})\s*$")

INVALID_TIME = (
    "Give a duration such as `30s`, `10m` or `1h30m`, or a clock time such as `20:30` "
    "(the next time the clock shows it)."
)


def parse_duration(text: str) -> float | None:
    """Seconds in a relative duration, or None when `text` is not one (or adds up to zero)."""
    duration = durations.parse_duration(text)
    return None if duration is None else duration.total_seconds()


def parse_start(text: str, now: float, zone: tzinfo | None = None) -> tuple[float, str] | None:
    """(seconds from `now`, a label such as "in 10 minutes" or "at 20:30") or None if unreadable.

    A clock time counts down to its next occurrence in `zone` (the host's zone by default): today if it is
    still ahead, else tomorrow."""
    if (seconds := parse_duration(text)) is not None:
        return seconds, f"in {humanize(seconds)}"
    match = _CLOCK.match(text)
    if match is None:
        return None
    hour, minute = int(match["h"]), int(match["m"])
    if hour > 23 or minute > 59:
        return None
    current = datetime.fromtimestamp(now, zone) if zone else datetime.fromtimestamp(now).astimezone()
    target = current.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= current:
        target += timedelta(days=1)
    return target.timestamp() - now, f"at {hour:02d}:{minute:02d}"


def humanize(seconds: float) -> str:
    """`1 hour 5 minutes`, `10 minutes`, `45 seconds`: the two largest units."""
    whole = max(round(seconds), 0)
    parts = []
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return " ".join(parts[:2]) or "0 seconds"
