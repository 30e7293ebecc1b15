"""Relative durations as people type them (`10m`, `1h30m`, `1h 30m`, `2 days 4 hours`, `1 mo`): the one
grammar behind gather countdowns and extensions and reminder offsets.

* A duration is one or more parts `<number><unit>`; whitespace is allowed around the whole, between
  parts and between a number and its unit (`1h30m`, `1 h 30 m`), but not inside a number or a unit.
* Units, each at most once and in this order: months `mo`/`month`/`months` (30 days), days
  `d`/`day`/`days`, hours `h`/`hour`/`hours`, minutes `m`/`minute`/`minutes`, seconds
  `s`/`second`/`seconds`. Letter case does not matter; only ASCII letters spell a unit.
* A number is 1 to 6 ASCII digits `0`-`9`. Other characters that Python calls digits (`²`, `١`) and
  underscores (`1_000`, which `int()` would take) are refused, and so the longest duration is bounded
  (999999 of each unit, about 82,000 years, which still fits a `timedelta`).
* Parts adding up to zero (`0m`) are not a duration.

Reading is one left-to-right pass over the text, so its time grows linearly with the input whatever is
typed.
"""

from __future__ import annotations

import re
from datetime import timedelta

MAX_DIGITS = 6
_UNITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("mo", "month", "months"), 30 * 86400),
    (("d", "day", "days"), 86400),
    (("h", "hour", "hours"), 3600),
    (("m", "minute", "minutes"), 60),
    (("s", "second", "seconds"), 1),
)
# spelling -> (position in the fixed order, seconds)
_UNIT_BY_SPELLING = {
    spelling: (rank, size) for rank, (spellings, size) in enumerate(_UNITS) for spelling in spellings
}
# One part and the whitespace around it. The three runs cannot overlap (whitespace, digits, letters),
# so a failed match never backtracks more than linearly.
_PART = re.compile(r"\s*([0-9]+)\s*([A-Za-z]+)\s*")


def parse_duration(text: str) -> timedelta | None:
    """The duration `text` spells, or None when it is not one (or adds up to zero)."""
    position, total, last_rank = 0, 0, -1
    while position < len(text):
        part = _PART.match(text, position)
        if part is None:
            return None
        digits, spelling = part.groups()
        unit = _UNIT_BY_SPELLING.get(spelling.lower())
        if unit is None or unit[0] <= last_rank or len(digits) > MAX_DIGITS:
            return None
        last_rank, size = unit
        total += int(digits) * size
        position = part.end()
    return timedelta(seconds=total) if total > 0 else None
