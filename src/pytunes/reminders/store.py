"""Reminder persistence. Every state change is one transaction with a guard on the current state, so
two deliveries (or a delivery and a removal) can never both act on the same row."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Row, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pytunes.reminders.model import PENDING, SENDING, Reminder, new_delivery_key
from pytunes.storage.engine import BEGIN_IMMEDIATE_OPTION
from pytunes.storage.schema import guild_timezones, reminder_targets, reminders, user_timezones
from pytunes.storage.upsert import upsert

r = reminders.c


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _reminder(row: Row[Any], targets: Sequence[int]) -> Reminder:
    return Reminder(
        id=row.id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        owner_id=row.owner_id,
        scheduler_id=row.scheduler_id,
        targets=tuple(targets) or (row.owner_id,),
        note=row.note,
        source_message_id=row.source_message_id,
        created_at=row.created_ms / 1000,
        due_at=row.due_ms / 1000,
        next_attempt_at=row.next_attempt_ms / 1000,
        state=row.state,
        attempts=row.attempts,
        first_attempt_snowflake=row.first_attempt_snowflake,
        delivery_key=row.delivery_key,
    )


async def _with_targets(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[Reminder]:
    ids = [row.id for row in rows]
    targets: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        result = await conn.execute(
            select(reminder_targets.c.reminder_id, reminder_targets.c.user_id)
            .where(reminder_targets.c.reminder_id.in_(ids))
            .order_by(reminder_targets.c.reminder_id, reminder_targets.c.position)
        )
        for reminder_id, user_id in result:
            targets[reminder_id].append(user_id)
    return [_reminder(row, targets[row.id]) for row in rows]


def _writer(engine: AsyncEngine) -> Any:
    # SQLite: take the write lock up front, so a read-then-write (the pending count, a claim) cannot be
    # interleaved with another writer's.
    return engine.execution_options(**{BEGIN_IMMEDIATE_OPTION: True}).begin()


async def create(
    engine: AsyncEngine,
    *,
    guild_id: int,
    channel_id: int,
    scheduler_id: int,
    targets: Sequence[int],
    note: str | None,
    created_at: float,
    due_at: float,
    max_pending: int,
) -> Reminder | None:
    """Store a reminder owned by `targets[0]`; None (nothing stored) when the scheduler already has
    `max_pending` pending reminders in this guild."""
    async with _writer(engine) as conn:
        pending = await conn.scalar(
            select(func.count()).where(r.guild_id == guild_id, r.scheduler_id == scheduler_id)
        )
        if (pending or 0) >= max_pending:
            return None
        values = {
            "guild_id": guild_id,
            "channel_id": channel_id,
            "owner_id": targets[0],
            "scheduler_id": scheduler_id,
            "note": note,
            "created_ms": _ms(created_at),
            "due_ms": _ms(due_at),
            "next_attempt_ms": _ms(due_at),
            "state": PENDING,
            "attempts": 0,
            "delivery_key": new_delivery_key(),
        }
        result = await conn.execute(insert(reminders).values(**values).returning(r.id))
        reminder_id = result.scalar_one()
        await conn.execute(
            insert(reminder_targets),
            [{"reminder_id": reminder_id, "user_id": u, "position": i} for i, u in enumerate(targets)],
        )
        row = (await conn.execute(select(reminders).where(r.id == reminder_id))).one()
        return (await _with_targets(conn, [row]))[0]


async def set_source(engine: AsyncEngine, reminder_id: int, message_id: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(reminders).where(r.id == reminder_id).values(source_message_id=message_id))


async def get(engine: AsyncEngine, reminder_id: int) -> Reminder | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(reminders).where(r.id == reminder_id))).one_or_none()
        return (await _with_targets(conn, [row]))[0] if row else None


async def list_for(engine: AsyncEngine, guild_id: int, user_id: int) -> list[Reminder]:
    """Reminders in this guild that `user_id` owns or scheduled, soonest first."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(reminders)
                .where(r.guild_id == guild_id, or_(r.owner_id == user_id, r.scheduler_id == user_id))
                .order_by(r.due_ms, r.id)
            )
        ).all()
        return await _with_targets(conn, rows)


async def remove(engine: AsyncEngine, guild_id: int, reminder_id: int, user_id: int) -> Reminder | str | None:
    """Delete a pending reminder the user owns or scheduled. Returns it, "sending" when it is being
    delivered at this moment (nothing removed), or None when there is no such reminder for this user."""
    async with _writer(engine) as conn:
        row = (
            await conn.execute(
                select(reminders).where(
                    r.id == reminder_id,
                    r.guild_id == guild_id,
                    or_(r.owner_id == user_id, r.scheduler_id == user_id),
                )
            )
        ).one_or_none()
        if row is None:
            return None
        if row.state != PENDING:
            return SENDING
        found = (await _with_targets(conn, [row]))[0]
        await conn.execute(delete(reminders).where(r.id == reminder_id, r.state == PENDING))
        return found


async def next_due(engine: AsyncEngine) -> float | None:
    """When the earliest pending reminder wants its next attempt (epoch seconds), or None."""
    async with engine.connect() as conn:
        value = await conn.scalar(select(func.min(r.next_attempt_ms)).where(r.state == PENDING))
    return None if value is None else value / 1000


async def claim_due(engine: AsyncEngine, now: float, snowflake: int) -> list[Reminder]:
    """Mark every due pending reminder as being sent, and return them as they were before the claim
    (so `attempted` tells whether an earlier attempt may have reached Discord)."""
    async with _writer(engine) as conn:
        rows = (
            await conn.execute(
                select(reminders)
                # Rounded up: a reminder due "now" to the millisecond must not be missed by rounding.
                .where(r.state == PENDING, r.next_attempt_ms <= math.ceil(now * 1000))
                .order_by(r.next_attempt_ms, r.id)
            )
        ).all()
        claimed = []
        for row in rows:
            result = await conn.execute(
                update(reminders)
                .where(r.id == row.id, r.state == PENDING)
                .values(
                    state=SENDING,
                    attempts=r.attempts + 1,
                    first_attempt_snowflake=func.coalesce(r.first_attempt_snowflake, snowflake),
                )
            )
            if result.rowcount == 1:
                claimed.append(row)
        return await _with_targets(conn, claimed)


async def confirm(engine: AsyncEngine, reminder_id: int) -> bool:
    """Delivered: the row goes. False when it was no longer being sent (removed meanwhile)."""
    async with engine.begin() as conn:
        result = await conn.execute(delete(reminders).where(r.id == reminder_id, r.state == SENDING))
        return bool(result.rowcount)


async def reschedule(engine: AsyncEngine, reminder_id: int, at: float, error: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(reminders)
            .where(r.id == reminder_id, r.state == SENDING)
            .values(state=PENDING, next_attempt_ms=_ms(at), last_error=error[:300])
        )


async def release_orphans(engine: AsyncEngine, keep: Iterable[int] = ()) -> int:
    """Rows left "sending" by a process that died go back to pending (they are re-delivered, checked
    against what already reached Discord). `keep`: rows this process is sending right now."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(reminders).where(and_(r.state == SENDING, r.id.not_in(list(keep)))).values(state=PENDING)
        )
        return int(result.rowcount)


async def drop(engine: AsyncEngine, reminder_id: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(reminders).where(r.id == reminder_id))


# ------------------------------------------------------------------------------------------ time zones


async def user_zone(engine: AsyncEngine, user_id: int) -> str | None:
    async with engine.connect() as conn:
        return await conn.scalar(select(user_timezones.c.timezone).where(user_timezones.c.user_id == user_id))


async def guild_zone(engine: AsyncEngine, guild_id: int) -> str | None:
    async with engine.connect() as conn:
        return await conn.scalar(
            select(guild_timezones.c.timezone).where(guild_timezones.c.guild_id == guild_id)
        )


async def set_user_zone(engine: AsyncEngine, user_id: int, zone: str | None) -> None:
    await _set_zone(engine, user_timezones, user_timezones.c.user_id, user_id, zone)


async def set_guild_zone(engine: AsyncEngine, guild_id: int, zone: str | None) -> None:
    await _set_zone(engine, guild_timezones, guild_timezones.c.guild_id, guild_id, zone)


async def _set_zone(
    engine: AsyncEngine, table: Table, key: Column[int], owner_id: int, zone: str | None
) -> None:
    """Set (or with None, clear) the zone of the user or guild `owner_id`, keyed by `key` in `table`."""
    async with engine.begin() as conn:
        if zone is None:
            await conn.execute(delete(table).where(key == owner_id))
            return
        await conn.execute(
            upsert(
                engine,
                table,
                {key.name: owner_id, "timezone": zone},
                key=[key],
                also_set={"updated_at": func.now()},
            )
        )
