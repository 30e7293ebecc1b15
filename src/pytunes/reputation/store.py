"""Reputation in the database: the per-guild log, settings, history and leaderboard reads.

Race safety: every write for a guild (give, revoke, catching a rolling window up) runs in a transaction
that first takes the guild's write lock — `BEGIN IMMEDIATE` on SQLite (one writer at a time, queued by
the busy timeout), a transaction-scoped advisory lock on PostgreSQL. The cooldown and budget checks read
the log inside that transaction, so two `+rep`s racing for the same pair (even from two bot processes)
are decided one after the other: the first is recorded, the second sees it and is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pytunes.reputation import scores
from pytunes.reputation.model import (
    BUDGET_WINDOW_SECONDS,
    Board,
    Given,
    NewRep,
    Period,
    Ranked,
    Refusal,
    RepEntry,
    RepSettings,
    Revoked,
    already_revoked,
    board_page,
    check_limits,
    no_such_rep,
)
from pytunes.reputation.scores import to_datetime, to_timestamp
from pytunes.storage.engine import BEGIN_IMMEDIATE_OPTION
from pytunes.storage.schema import reputation, reputation_settings
from pytunes.storage.upsert import upsert

log = reputation.c


def lock_key(guild_id: int) -> int:
    """A signed 64-bit advisory lock key for the guild's reputation, distinct from other features' keys."""
    digest = hashlib.blake2b(f"pytunes:reputation:{guild_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class RepStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def writing(self, guild_id: int) -> AsyncIterator[AsyncConnection]:
        """A transaction holding the guild's reputation write lock until it commits or rolls back."""
        async with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                await conn.execution_options(**{BEGIN_IMMEDIATE_OPTION: True})
            async with conn.begin():
                if conn.dialect.name == "postgresql":
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(guild_id)}
                    )
                yield conn

    # -------------------------------------------------------------------------------------- settings

    async def settings(self, guild_id: int) -> RepSettings:
        async with self.engine.connect() as conn:
            return await self._settings(conn, guild_id)

    async def _settings(self, conn: AsyncConnection, guild_id: int) -> RepSettings:
        s = reputation_settings.c
        row = (
            await conn.execute(select(s.cooldown_seconds, s.daily_budget).where(s.guild_id == guild_id))
        ).first()
        return RepSettings(row[0], row[1]) if row else RepSettings()

    async def save_settings(self, guild_id: int, settings: RepSettings) -> None:
        s = reputation_settings.c
        statement = upsert(
            self.engine,
            reputation_settings,
            {
                "guild_id": guild_id,
                "cooldown_seconds": settings.cooldown_seconds,
                "daily_budget": settings.daily_budget,
            },
            key=[s.guild_id],
            also_set={"updated_at": func.now()},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    # -------------------------------------------------------------------------------------- writes

    async def give(self, rep: NewRep, now: float) -> Given | Refusal:
        """Record `rep` at `now` unless the pair cooldown or the giver's daily budget forbids it."""
        async with self.writing(rep.guild_id) as conn:
            settings = await self._settings(conn, rep.guild_id)
            mine = [log.guild_id == rep.guild_id, log.giver_id == rep.giver_id]
            # Every rep counts, revoked ones too: revoking is moderation, not a refund.
            last_to_receiver = None
            if settings.cooldown_seconds:
                newest = await conn.scalar(
                    select(log.created_at)
                    .where(
                        *mine,
                        log.receiver_id == rep.receiver_id,
                        log.created_at > to_datetime(now - settings.cooldown_seconds),
                    )
                    .order_by(log.created_at.desc())
                    .limit(1)
                )
                last_to_receiver = to_timestamp(newest) if newest is not None else None
            recent = await conn.scalars(
                select(log.created_at)
                .where(*mine, log.created_at > to_datetime(now - BUDGET_WINDOW_SECONDS))
                .order_by(log.created_at)
            )
            refusal = check_limits(
                now,
                settings,
                rep.receiver_id,
                last_to_receiver=last_to_receiver,
                given_last_day=[to_timestamp(t) for t in recent],
            )
            if refusal is not None:
                return refusal
            created_at = to_datetime(now)
            rep_id = await conn.scalar(
                reputation.insert()
                .values(
                    guild_id=rep.guild_id,
                    giver_id=rep.giver_id,
                    receiver_id=rep.receiver_id,
                    value=rep.value,
                    reason=rep.reason,
                    created_at=created_at,
                    channel_id=rep.source.channel_id,
                    message_id=rep.source.message_id,
                    interaction_id=rep.source.interaction_id,
                )
                .returning(log.id)
            )
            assert rep_id is not None
            await scores.apply(conn, rep.guild_id, rep.receiver_id, rep.value, created_at, sign=1)
            total, _ = await scores.user_score(conn, rep.guild_id, rep.receiver_id)
        return Given(rep_id, rep, now, total)

    async def revoke(self, guild_id: int, rep_id: int, by: int, now: float) -> Revoked | Refusal:
        """Mark rep `rep_id` of this guild revoked and take it out of the receiver's scores."""
        async with self.writing(guild_id) as conn:
            row = (
                await conn.execute(
                    select(
                        log.giver_id,
                        log.receiver_id,
                        log.value,
                        log.created_at,
                        log.revoked_at,
                        log.revoked_by,
                    ).where(log.id == rep_id, log.guild_id == guild_id)
                )
            ).first()
            if row is None:
                return no_such_rep(rep_id)
            giver_id, receiver_id, value, created_at, revoked_at, revoked_by = row
            if revoked_at is not None:
                return already_revoked(rep_id, to_timestamp(revoked_at), revoked_by)
            await conn.execute(
                update(reputation).where(log.id == rep_id).values(revoked_at=to_datetime(now), revoked_by=by)
            )
            await scores.apply(conn, guild_id, receiver_id, value, scores.aware(created_at), sign=-1)
            total, _ = await scores.user_score(conn, guild_id, receiver_id)
        return Revoked(rep_id, guild_id, giver_id, receiver_id, value, by, total)

    async def rebuild(self, guild_id: int, now: float) -> None:
        """Recompute the guild's scores from the log (after a bulk import, or to repair them)."""
        async with self.writing(guild_id) as conn:
            await scores.rebuild(conn, guild_id, now)

    # -------------------------------------------------------------------------------------- history

    async def history_size(self, guild_id: int, user_id: int) -> tuple[int, int]:
        """(all-time total, number of live reps) of `user_id`: one primary-key read of the scores."""
        async with self.engine.connect() as conn:
            return await scores.user_score(conn, guild_id, user_id)

    async def history(self, guild_id: int, user_id: int, offset: int, limit: int) -> list[RepEntry]:
        """Live reps `user_id` received, newest first."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(log.id, log.giver_id, log.value, log.reason, log.created_at)
                .where(log.guild_id == guild_id, log.receiver_id == user_id, log.revoked_at.is_(None))
                .order_by(log.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [
                RepEntry(rep_id, giver, value, reason, to_timestamp(created))
                for rep_id, giver, value, reason, created in rows
            ]

    # -------------------------------------------------------------------------------------- leaderboard

    @asynccontextmanager
    async def _current(
        self, guild_id: int, period: Period, now: float
    ) -> AsyncIterator[tuple[AsyncConnection, scores.BoardState]]:
        """A connection on which `period`'s scores are exact at `now`, with the board state. Almost always
        nothing has left the window since the last read, and the check and the reads share one plain read
        connection; otherwise the window is caught up under the write lock and read in that transaction."""
        async with self.engine.connect() as conn:
            state = await scores.read_state(conn, guild_id, period, now)
            if state is not None:
                yield conn, state
                return
        async with self.writing(guild_id) as conn:
            yield conn, await scores.catch_up(conn, guild_id, period, now)

    async def ranked_count(self, guild_id: int, period: Period, now: float) -> int:
        async with self._current(guild_id, period, now) as (_, state):
            return state.ranked

    async def board(self, guild_id: int, period: Period, now: float, page: int) -> Board:
        """Leaderboard page `page` (0-based; clamped) at `now`. Read on one connection; a rep committed
        between its statements can shift a rank by one until the next click, never corrupt anything."""
        async with self._current(guild_id, period, now) as (conn, state):
            layout = board_page(state.ranked, page)
            top = await scores.ranks(conn, guild_id, period, *layout.top)
            bottom = (
                await scores.bottom(conn, guild_id, period, state.ranked, layout.bottom)
                if layout.bottom
                else []
            )
        return Board(state.ranked, layout, top, bottom)

    async def ranking(
        self, guild_id: int, period: Period, now: float, offset: int, limit: int
    ) -> list[Ranked]:
        """Any slice of the ranking (the tests compare it with a plain Python reference)."""
        async with self._current(guild_id, period, now) as (conn, _):
            return await scores.ranks(conn, guild_id, period, offset, limit)
