"""Reminder storage on SQLite and PostgreSQL: limits, claims that cannot be taken twice, confirm,
reschedule, recovery of rows a crash left "sending", removal guards, time zones."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.reminders import store
from pytunes.reminders.model import PENDING, SENDING, Reminder


async def make(
    engine: AsyncEngine, due: float, *, scheduler: int = 1, targets: list[int] | None = None
) -> Reminder:
    reminder = await store.create(
        engine,
        guild_id=10,
        channel_id=20,
        scheduler_id=scheduler,
        targets=targets or [scheduler],
        note="note",
        created_at=100.0,
        due_at=due,
        max_pending=5,
    )
    assert reminder is not None
    return reminder


async def test_create_list_and_the_pending_limit(engine: AsyncEngine) -> None:
    mine = await make(engine, 500)
    theirs = await make(engine, 400, scheduler=2, targets=[1, 3])
    assert theirs.owner_id == 1
    assert theirs.targets == (1, 3)
    assert theirs.for_others
    assert not mine.for_others
    assert len(mine.delivery_key) == 20
    assert [r.id for r in await store.list_for(engine, 10, 1)] == [theirs.id, mine.id]
    assert [r.id for r in await store.list_for(engine, 10, 2)] == [theirs.id]
    assert await store.list_for(engine, 11, 1) == []
    for due in range(4):
        await make(engine, 600 + due)
    assert await store.create(
        engine, guild_id=10, channel_id=20, scheduler_id=1, targets=[1], note=None,
        created_at=0, due_at=1, max_pending=5,
    ) is None  # fmt: skip


async def test_claims_are_exclusive_and_confirmed_once(engine: AsyncEngine) -> None:
    early = await make(engine, 100)
    late = await make(engine, 900)
    assert await store.next_due(engine) == 100
    first, second = await asyncio.gather(store.claim_due(engine, 150, 77), store.claim_due(engine, 150, 88))
    claimed = first + second
    assert [r.id for r in claimed] == [early.id], "two timers never claim the same row"
    assert not claimed[0].attempted, "returned as before the claim"
    assert await store.next_due(engine) == 900, "a row being sent is not due again"
    assert await store.confirm(engine, early.id)
    assert not await store.confirm(engine, early.id)
    assert await store.get(engine, early.id) is None
    assert (await store.get(engine, late.id)).state == PENDING  # type: ignore[union-attr]


async def test_reschedule_and_recovery_after_a_crash(engine: AsyncEngine) -> None:
    reminder = await make(engine, 100)
    (claimed,) = await store.claim_due(engine, 100, 77)
    await store.reschedule(engine, claimed.id, 130, "HTTP 503")
    again = await store.get(engine, claimed.id)
    assert again is not None
    assert (again.state, again.attempts, again.next_attempt_at) == (PENDING, 1, 130)
    assert again.attempted
    assert again.first_attempt_snowflake == 77
    (retry,) = await store.claim_due(engine, 130, 99)
    assert retry.attempted, "the retry knows an earlier attempt may have reached Discord"
    assert (await store.get(engine, reminder.id)).first_attempt_snowflake == 77  # type: ignore[union-attr]
    # The process dies here; the next start puts the row back, unless it is one of its own sends.
    assert await store.release_orphans(engine, keep=[reminder.id]) == 0
    assert await store.release_orphans(engine) == 1
    assert (await store.get(engine, reminder.id)).state == PENDING  # type: ignore[union-attr]


async def test_remove_only_by_owner_or_scheduler_and_not_while_sending(engine: AsyncEngine) -> None:
    reminder = await make(engine, 100, scheduler=2, targets=[1])
    assert await store.remove(engine, 10, reminder.id, 3) is None
    assert await store.remove(engine, 11, reminder.id, 1) is None
    await store.claim_due(engine, 100, 1)
    assert await store.remove(engine, 10, reminder.id, 1) == SENDING
    await store.release_orphans(engine)
    removed = await store.remove(engine, 10, reminder.id, 1)
    assert isinstance(removed, Reminder)
    assert await store.get(engine, reminder.id) is None


async def test_time_zones(engine: AsyncEngine) -> None:
    assert await store.user_zone(engine, 1) is None
    await store.set_user_zone(engine, 1, "Europe/Prague")
    await store.set_user_zone(engine, 1, "Asia/Tokyo")
    assert await store.user_zone(engine, 1) == "Asia/Tokyo"
    await store.set_user_zone(engine, 1, None)
    assert await store.user_zone(engine, 1) is None
    await store.set_guild_zone(engine, 10, "UTC")
    assert await store.guild_zone(engine, 10) == "UTC"
