"""Materialised reputation scores: per guild, period and user, the total and the number of reps; and per
guild and period, the board state: how many users are ranked and, for rolling periods, the horizon.

Why materialised: ranking by a GROUP BY over the log costs seconds for a million reps on SQLite, and a
leaderboard page must answer in well under 20 ms. Here a page is one walk of `ix_reputation_scores_rank`
(which is in leaderboard order) with LIMIT/OFFSET, plus a primary-key read of the board state; counting
100,000 score rows on every page view would cost more than the page itself.

All-time scores change only when a rep is given or revoked. The rolling 30-day and 7-day scores also
change as time passes: they hold exactly the live reps created after the period's horizon. Before a
rolling board is read, `catch_up` subtracts the reps that have since left the window and moves the horizon
to now − window. Every function that writes runs under the guild's write lock (see `store.py`), so give,
revoke and catch-up never interleave within a guild, and checking a row before inserting it is safe.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pytunes.reputation.model import Period, Ranked
from pytunes.storage.schema import reputation, reputation_boards, reputation_scores
from pytunes.storage.upsert import upsert

scores = reputation_scores.c
boards = reputation_boards.c
log = reputation.c


def to_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def to_timestamp(value: datetime) -> float:
    return aware(value).timestamp()


@dataclass(frozen=True)
class BoardState:
    ranked: int = 0
    horizon: datetime | None = None  # None: nothing has left the window yet


async def states(conn: AsyncConnection, guild_id: int) -> dict[Period, BoardState]:
    rows = await conn.execute(
        select(boards.period, boards.ranked, boards.horizon).where(boards.guild_id == guild_id)
    )
    return {
        Period(period): BoardState(ranked, aware(horizon) if horizon else None)
        for period, ranked, horizon in rows
    }


def counted_in(period: Period, created_at: datetime, state: BoardState) -> bool:
    """Whether a live rep created at `created_at` is part of `period`'s scores right now."""
    return period is Period.ALL or state.horizon is None or created_at > state.horizon


async def _adjust_ranked(conn: AsyncConnection, guild_id: int, period: Period, change: int) -> None:
    if change:
        await conn.execute(
            upsert(
                conn.engine,
                reputation_boards,
                {"guild_id": guild_id, "period": period.value, "ranked": change},
                key=[boards.guild_id, boards.period],
                also_set={"ranked": boards.ranked + change},
            )
        )


async def apply(
    conn: AsyncConnection, guild_id: int, user_id: int, value: int, created_at: datetime, *, sign: int
) -> None:
    """Add (sign +1, a rep given) or take away (sign −1, a rep revoked) one rep in every period counting it."""
    known = await states(conn, guild_id)
    periods = [p for p in Period if counted_in(p, created_at, known.get(p, BoardState()))]
    mine = [scores.guild_id == guild_id, scores.user_id == user_id]
    existing = {Period(p) for p in await conn.scalars(select(scores.period).where(*mine))}
    for period in periods:
        row = [*mine, scores.period == period.value]
        if period in existing:
            await conn.execute(
                update(reputation_scores)
                .where(*row)
                .values(total=scores.total + sign * value, reps=scores.reps + sign)
            )
        elif sign > 0:
            await conn.execute(
                insert(reputation_scores).values(
                    guild_id=guild_id, period=period.value, user_id=user_id, total=value, reps=1
                )
            )
            await _adjust_ranked(conn, guild_id, period, 1)
    if sign < 0:
        await _drop_empty(conn, guild_id, [*mine])


async def _drop_empty(conn: AsyncConnection, guild_id: int, where: list[ColumnElement[bool]]) -> None:
    # A user whose reps were all revoked or aged out is no longer ranked in that period.
    dropped = await conn.scalars(
        delete(reputation_scores).where(*where, scores.reps <= 0).returning(scores.period)
    )
    for period, count in Counter(Period(p) for p in dropped).items():
        await _adjust_ranked(conn, guild_id, period, -count)


def _aged_out(guild_id: int, horizon: datetime | None, cutoff: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [log.guild_id == guild_id, log.created_at <= cutoff]
    if horizon is not None:
        conditions.append(log.created_at > horizon)
    return conditions


async def _state_and_cutoff(
    conn: AsyncConnection, guild_id: int, period: Period, now: float
) -> tuple[BoardState, datetime | None]:
    """`period`'s board state, and the window start reps may have aged out before — None when nothing can
    have (an all-time period, or a horizon already at or past now − window)."""
    state = (await states(conn, guild_id)).get(period, BoardState())
    if period.seconds is None:
        return state, None
    cutoff = to_datetime(now - period.seconds)
    if state.horizon is not None and state.horizon >= cutoff:
        return state, None
    return state, cutoff


async def read_state(conn: AsyncConnection, guild_id: int, period: Period, now: float) -> BoardState | None:
    """The board state if `period`'s scores are exact at `now`, or None when reps have left its window
    since the last catch-up (one primary-key read and, for rolling periods, one index probe)."""
    state, cutoff = await _state_and_cutoff(conn, guild_id, period, now)
    if cutoff is None:
        return state
    probe = select(log.id).where(*_aged_out(guild_id, state.horizon, cutoff)).limit(1)
    return None if (await conn.execute(probe)).first() is not None else state


async def catch_up(conn: AsyncConnection, guild_id: int, period: Period, now: float) -> BoardState:
    """Subtract the live reps that left `period`'s window, move its horizon to now − window; the new state."""
    state, cutoff = await _state_and_cutoff(conn, guild_id, period, now)
    if cutoff is None:
        return state
    aged = await conn.execute(
        select(log.receiver_id, func.sum(log.value), func.count())
        .where(*_aged_out(guild_id, state.horizon, cutoff), log.revoked_at.is_(None))
        .group_by(log.receiver_id)
    )
    changes = [
        {"g": guild_id, "p": period.value, "u": user, "dt": total, "dn": count} for user, total, count in aged
    ]
    if changes:
        await conn.execute(
            update(reputation_scores)
            .where(
                scores.guild_id == bindparam("g"),
                scores.period == bindparam("p"),
                scores.user_id == bindparam("u"),
            )
            .values(total=scores.total - bindparam("dt"), reps=scores.reps - bindparam("dn")),
            changes,
        )
        await _drop_empty(conn, guild_id, [scores.guild_id == guild_id, scores.period == period.value])
    await conn.execute(
        upsert(
            conn.engine,
            reputation_boards,
            {"guild_id": guild_id, "period": period.value, "ranked": 0, "horizon": cutoff},
            key=[boards.guild_id, boards.period],
            also_set={"ranked": boards.ranked},  # only the horizon moves here
        )
    )
    return (await states(conn, guild_id))[period]


async def rebuild(conn: AsyncConnection, guild_id: int, now: float) -> None:
    """Recompute every period's scores and board state for a guild from the log (bulk imports, repairs)."""
    await conn.execute(delete(reputation_scores).where(scores.guild_id == guild_id))
    await conn.execute(delete(reputation_boards).where(boards.guild_id == guild_id))
    for period in Period:
        conditions = [log.guild_id == guild_id, log.revoked_at.is_(None)]
        horizon = None
        if period.seconds is not None:
            horizon = to_datetime(now - period.seconds)
            conditions.append(log.created_at > horizon)
        totals = (
            select(log.guild_id, literal(period.value), log.receiver_id, func.sum(log.value), func.count())
            .where(*conditions)
            .group_by(log.guild_id, log.receiver_id)
        )
        await conn.execute(
            reputation_scores.insert().from_select(["guild_id", "period", "user_id", "total", "reps"], totals)
        )
        ranked = await conn.scalar(
            select(func.count()).where(scores.guild_id == guild_id, scores.period == period.value)
        )
        await conn.execute(
            reputation_boards.insert().values(
                guild_id=guild_id, period=period.value, ranked=int(ranked or 0), horizon=horizon
            )
        )


# ------------------------------------------------------------------------------------------ reading


async def user_score(conn: AsyncConnection, guild_id: int, user_id: int) -> tuple[int, int]:
    """(all-time total, number of live reps) of one user."""
    row = (
        await conn.execute(
            select(scores.total, scores.reps).where(
                scores.guild_id == guild_id, scores.period == Period.ALL.value, scores.user_id == user_id
            )
        )
    ).first()
    return (row[0], row[1]) if row else (0, 0)


async def ranks(
    conn: AsyncConnection, guild_id: int, period: Period, offset: int, limit: int
) -> list[Ranked]:
    """Ranks offset+1 … offset+limit: total desc, then reps desc, then user id asc (the index order)."""
    if limit <= 0:
        return []
    rows = await conn.execute(
        select(scores.user_id, scores.total, scores.reps)
        .where(scores.guild_id == guild_id, scores.period == period.value)
        .order_by(scores.total.desc(), scores.reps.desc(), scores.user_id.asc())
        .offset(offset)
        .limit(limit)
    )
    return [Ranked(offset + i + 1, user, total, reps) for i, (user, total, reps) in enumerate(rows)]


async def bottom(
    conn: AsyncConnection, guild_id: int, period: Period, ranked: int, limit: int
) -> list[Ranked]:
    """The last `limit` ranks, read backwards along the same index (no deep OFFSET)."""
    rows = list(
        await conn.execute(
            select(scores.user_id, scores.total, scores.reps)
            .where(scores.guild_id == guild_id, scores.period == period.value)
            .order_by(scores.total.asc(), scores.reps.asc(), scores.user_id.desc())
            .limit(limit)
        )
    )
    return [Ranked(ranked - i, user, total, reps) for i, (user, total, reps) in enumerate(rows)][::-1]
