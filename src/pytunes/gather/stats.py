"""Punctuality from the attendance history (pure): per member, a guild top list, lateness over time.

Definitions (also in the README):
- *gatherings*: finished gatherings (complete or timed out) the member was on the list for;
- *on-time rate*: on time ÷ (on time + late + missed); saying "I'm out" neither helps nor hurts;
- *median lateness*: over the gatherings they came to, on time counting as 0;
- *no-shows*: expected, never came, never said they were out.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    gathering: int
    user: int
    ended_at: float
    status: str  # "on_time" | "late" | "out" | "missed"
    lateness: float | None = None


@dataclass(frozen=True)
class MemberStats:
    user: int
    gatherings: int
    on_time: int
    late: int
    out: int
    missed: int
    median_lateness: float | None

    @property
    def counted(self) -> int:
        return self.on_time + self.late + self.missed

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.counted if self.counted else None


def member_stats(records: Iterable[Record], user: int) -> MemberStats:
    mine = [r for r in records if r.user == user]
    came = [r.lateness or 0.0 for r in mine if r.status in ("on_time", "late")]
    count = {
        status: sum(1 for r in mine if r.status == status) for status in ("on_time", "late", "out", "missed")
    }
    return MemberStats(
        user,
        len({r.gathering for r in mine}),
        count["on_time"],
        count["late"],
        count["out"],
        count["missed"],
        statistics.median(came) if came else None,
    )


def top_list(records: Sequence[Record], *, limit: int = 10) -> list[MemberStats]:
    """The most punctual members: best on-time rate, then more gatherings, then least median lateness."""
    users = sorted({r.user for r in records})
    ranked = [s for s in (member_stats(records, u) for u in users) if s.on_time_rate is not None]
    ranked.sort(key=lambda s: (-(s.on_time_rate or 0), -s.counted, s.median_lateness or 0, s.user))
    return ranked[:limit]


@dataclass(frozen=True)
class Point:
    """One gathering on the chart: when it ended and how late the member was (None: missed)."""

    ended_at: float
    lateness: float | None


@dataclass(frozen=True)
class Series:
    mine: list[Point]  # the member's own gatherings (empty for a guild-wide chart)
    median: list[Point]  # the guild's median lateness per gathering


def lateness_series(records: Sequence[Record], user: int | None) -> Series:
    by_gathering: dict[int, list[Record]] = defaultdict(list)
    for record in records:
        by_gathering[record.gathering].append(record)
    median: list[Point] = []
    for rows in by_gathering.values():
        came = [r.lateness or 0.0 for r in rows if r.status in ("on_time", "late")]
        if came:
            median.append(Point(rows[0].ended_at, statistics.median(came)))
    mine = [
        Point(r.ended_at, None if r.status == "missed" else (r.lateness or 0.0))
        for r in records
        if r.user == user and r.status != "out"
    ]
    return Series(sorted(mine, key=lambda p: p.ended_at), sorted(median, key=lambda p: p.ended_at))
