"""The reputation store on SQLite and PostgreSQL: limits decided inside the lock, revocation, per-guild
isolation, racing writers, and the materialised ranking against a plain Python reference."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.reputation.model import (
    DAY,
    Given,
    NewRep,
    Period,
    Ranked,
    Refusal,
    RefusalKind,
    RepSettings,
    Revoked,
    Source,
    board_page,
    board_pages,
)
from pytunes.reputation.store import RepStore
from pytunes.storage.schema import reputation

T0 = 1_800_000_000.0
guild_ids = itertools.count(1000)


def rep(guild: int, giver: int, receiver: int, value: int = 1, reason: str = "thanks") -> NewRep:
    return NewRep(guild, giver, receiver, value, reason, Source(channel_id=5, message_id=next(guild_ids)))


async def recorded(engine: AsyncEngine, guild: int) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).where(reputation.c.guild_id == guild)) or 0)


async def test_give_records_and_totals(engine: AsyncEngine) -> None:
    store, guild = RepStore(engine), next(guild_ids)
    first = await store.give(rep(guild, 1, 2), T0)
    assert isinstance(first, Given)
    assert first.receiver_total == 1
    second = await store.give(rep(guild, 3, 2, -1), T0 + 1)
    assert isinstance(second, Given)
    assert second.receiver_total == 0
    assert second.rep_id > first.rep_id
    assert await store.history_size(guild, 2) == (0, 2)
    history = await store.history(guild, 2, 0, 10)
    assert [(e.rep_id, e.giver_id, e.value) for e in history] == [
        (second.rep_id, 3, -1),
        (first.rep_id, 1, 1),
    ]
    assert history[0].created_at == T0 + 1


async def test_pair_cooldown_any_sign_ends_exactly_on_time(engine: AsyncEngine) -> None:
    store, guild = RepStore(engine), next(guild_ids)
    assert isinstance(await store.give(rep(guild, 1, 2, 1), T0), Given)
    refused = await store.give(rep(guild, 1, 2, -1), T0 + 599)
    assert isinstance(refused, Refusal)
    assert refused.kind is RefusalKind.COOLDOWN
    assert refused.retry_at == T0 + 600
    assert f"<t:{int(T0 + 600)}:R>" in refused.text
    # Other receivers are not affected by this pair's cooldown.
    assert isinstance(await store.give(rep(guild, 1, 3), T0 + 599), Given)
    assert isinstance(await store.give(rep(guild, 1, 2, -1), T0 + 600), Given)
    assert await recorded(engine, guild) == 3


async def test_daily_budget_is_rolling_and_configurable(engine: AsyncEngine) -> None:
    store, guild = RepStore(engine), next(guild_ids)
    for receiver in range(10):
        assert isinstance(await store.give(rep(guild, 1, 100 + receiver), T0 + receiver * 60), Given)
    refused = await store.give(rep(guild, 1, 200), T0 + 3600)
    assert isinstance(refused, Refusal)
    assert refused.kind is RefusalKind.BUDGET
    assert refused.retry_at == T0 + DAY  # the oldest of the ten leaves the window
    assert isinstance(await store.give(rep(guild, 1, 200), T0 + DAY), Given)
    # An admin lowers the budget to 3: eight reps from the last 24 h must leave before the next one.
    await store.save_settings(guild, RepSettings(cooldown_seconds=600, daily_budget=3))
    assert await store.settings(guild) == RepSettings(600, 3)
    refused = await store.give(rep(guild, 1, 201), T0 + DAY + 1)
    assert isinstance(refused, Refusal)
    assert refused.retry_at == T0 + 8 * 60 + DAY


async def test_settings_default_until_saved(engine: AsyncEngine) -> None:
    store, guild = RepStore(engine), next(guild_ids)
    assert await store.settings(guild) == RepSettings()
    await store.save_settings(guild, RepSettings(0, 1000))
    await store.save_settings(guild, RepSettings(90, 20))
    assert await store.settings(guild) == RepSettings(90, 20)
    assert await store.settings(next(guild_ids)) == RepSettings()


async def test_guilds_are_isolated(engine: AsyncEngine) -> None:
    store, one, two = RepStore(engine), next(guild_ids), next(guild_ids)
    assert isinstance(await store.give(rep(one, 1, 2), T0), Given)
    # The same pair in another guild: no cooldown carried over, separate totals and boards.
    given = await store.give(rep(two, 1, 2, -1), T0 + 1)
    assert isinstance(given, Given)
    assert given.receiver_total == -1
    assert await store.ranking(one, Period.ALL, T0 + 2, 0, 10) == [Ranked(1, 2, 1, 1)]
    assert await store.ranking(two, Period.ALL, T0 + 2, 0, 10) == [Ranked(1, 2, -1, 1)]
    # A rep id from guild one cannot be revoked from guild two.
    assert isinstance(given, Given)
    refused = await store.revoke(one, given.rep_id, by=9, now=T0 + 3)
    assert isinstance(refused, Refusal)
    assert refused.kind is RefusalKind.NOT_FOUND


async def test_revoke_updates_totals_once(engine: AsyncEngine) -> None:
    store, guild = RepStore(engine), next(guild_ids)
    given = await store.give(rep(guild, 1, 2), T0)
    assert isinstance(given, Given)
    assert isinstance(await store.give(rep(guild, 3, 2), T0 + 1), Given)
    revoked = await store.revoke(guild, given.rep_id, by=7, now=T0 + 2)
    assert revoked == Revoked(given.rep_id, guild, 1, 2, 1, 7, 1)
    again = await store.revoke(guild, given.rep_id, by=8, now=T0 + 3)
    assert isinstance(again, Refusal)
    assert again.kind is RefusalKind.ALREADY_REVOKED
    assert "<@7>" in again.text
    assert await store.history_size(guild, 2) == (1, 1)
    assert [e.giver_id for e in await store.history(guild, 2, 0, 10)] == [3]
    for period in Period:
        assert await store.ranking(guild, period, T0 + 4, 0, 10) == [Ranked(1, 2, 1, 1)]
    # Revoking does not refund the cooldown: the pair still waits its 10 minutes.
    refused = await store.give(rep(guild, 1, 2), T0 + 5)
    assert isinstance(refused, Refusal)
    assert refused.kind is RefusalKind.COOLDOWN


async def test_racing_gives_for_one_pair_record_exactly_one(engine: AsyncEngine) -> None:
    store, guild = RepStore(engine), next(guild_ids)
    outcomes = await asyncio.gather(*(store.give(rep(guild, 1, 2, (-1) ** i), T0) for i in range(8)))
    assert sum(isinstance(o, Given) for o in outcomes) == 1
    assert all(o.kind is RefusalKind.COOLDOWN for o in outcomes if isinstance(o, Refusal))
    assert await recorded(engine, guild) == 1


async def test_racing_gives_never_overspend_the_budget(engine: AsyncEngine) -> None:
    store, guild = RepStore(engine), next(guild_ids)
    await store.save_settings(guild, RepSettings(600, 3))
    outcomes = await asyncio.gather(*(store.give(rep(guild, 1, 10 + i), T0) for i in range(8)))
    assert sum(isinstance(o, Given) for o in outcomes) == 3
    assert await recorded(engine, guild) == 3
    assert await store.ranked_count(guild, Period.ALL, T0) == 3


# --------------------------------------------------------------------------------- ranking vs reference


@dataclass
class RefRep:
    rep_id: int
    receiver: int
    value: int
    at: float
    revoked: bool = False


def reference(reps: list[RefRep], period: Period, now: float) -> list[Ranked]:
    """The leaderboard (total, then reps, descending; then user id), computed the slow and obvious way."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in reps:
        if r.revoked or (period.seconds is not None and not r.at > now - period.seconds):
            continue
        totals[r.receiver][0] += r.value
        totals[r.receiver][1] += 1
    ordered = sorted(totals.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    return [Ranked(i + 1, user, total, count) for i, (user, (total, count)) in enumerate(ordered)]


steps = st.one_of(
    st.sampled_from([0, 1, 3600, DAY, 7 * DAY, 30 * DAY, 23 * DAY]),
    st.integers(min_value=0, max_value=12 * DAY),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("give"), st.integers(0, 5), st.integers(0, 13), st.sampled_from([1, 1, -1]), steps),
        st.tuples(st.just("revoke"), st.integers(0, 40), st.just(0), st.just(0), steps),
        st.tuples(st.just("look"), st.just(0), st.just(0), st.just(0), steps),
    ),
    min_size=1,
    max_size=30,
)


async def compare(store: RepStore, guild: int, reps: list[RefRep], now: float) -> None:
    for period in Period:
        expected = reference(reps, period, now)
        assert await store.ranked_count(guild, period, now) == len(expected)
        assert await store.ranking(guild, period, now, 0, 1000) == expected
        for page in range(board_pages(len(expected))):
            board = await store.board(guild, period, now, page)
            layout = board_page(len(expected), page)
            offset, count = layout.top
            assert board.top == expected[offset : offset + count]
            assert board.bottom == (expected[-layout.bottom :] if layout.bottom else [])


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
async def test_ranking_matches_reference(
    engine: AsyncEngine, ops: list[tuple[str, int, int, int, int]]
) -> None:
    store, guild, other = RepStore(engine), next(guild_ids), next(guild_ids)
    await store.save_settings(guild, RepSettings(cooldown_seconds=0, daily_budget=1000))
    reps: list[RefRep] = []
    now = T0
    for kind, a, b, value, step in ops:
        now += step
        if kind == "give":
            given = await store.give(rep(guild, 100 + a, b, value), now)
            assert isinstance(given, Given)
            reps.append(RefRep(given.rep_id, b, value, now))
            # Noise in another guild must never show up in this one.
            await store.give(rep(other, 100 + a, b, -value), now)
        elif kind == "revoke" and reps:
            target = reps[a % len(reps)]
            outcome = await store.revoke(guild, target.rep_id, by=1, now=now)
            assert isinstance(outcome, Refusal) == target.revoked
            target.revoked = True
        else:
            await compare(store, guild, reps, now)
    await compare(store, guild, reps, now)
    for user in {r.receiver for r in reps}:
        live = sorted((r for r in reps if r.receiver == user and not r.revoked), key=lambda r: -r.rep_id)
        assert [e.rep_id for e in await store.history(guild, user, 0, 100)] == [r.rep_id for r in live]
        assert await store.history_size(guild, user) == (sum(r.value for r in live), len(live))
    # Rebuilding from the log gives the same boards as the incremental upkeep.
    await store.rebuild(guild, now)
    await compare(store, guild, reps, now)
    await compare(store, guild, reps, now + 8 * DAY)


async def test_rolling_windows_drop_reps_exactly_at_their_age(engine: AsyncEngine) -> None:
    store, guild = RepStore(engine), next(guild_ids)
    assert isinstance(await store.give(rep(guild, 1, 2), T0), Given)
    assert isinstance(await store.give(rep(guild, 1, 3), T0 + 10), Given)
    week = 7 * DAY
    assert [r.user_id for r in await store.ranking(guild, Period.WEEK, T0 + week - 1, 0, 10)] == [2, 3]
    assert [r.user_id for r in await store.ranking(guild, Period.WEEK, T0 + week, 0, 10)] == [3]
    assert await store.ranking(guild, Period.WEEK, T0 + week + 10, 0, 10) == []
    assert len(await store.ranking(guild, Period.MONTH, T0 + week + 10, 0, 10)) == 2
    assert len(await store.ranking(guild, Period.ALL, T0 + 365 * DAY, 0, 10)) == 2
    # A rep revoked after it left the window is only taken out of the periods still counting it.
    first = (await store.history(guild, 2, 0, 1))[0]
    assert isinstance(await store.revoke(guild, first.rep_id, by=1, now=T0 + week + 20), Revoked)
    assert [r.user_id for r in await store.ranking(guild, Period.MONTH, T0 + week + 20, 0, 10)] == [3]
    assert await store.ranking(guild, Period.WEEK, T0 + week + 20, 0, 10) == []


async def test_revoking_a_rep_on_the_window_edge_leaves_the_window_alone(engine: AsyncEngine) -> None:
    store, guild, week = RepStore(engine), next(guild_ids), 7 * DAY
    edge = await store.give(rep(guild, 1, 2), T0)
    assert isinstance(edge, Given)
    assert isinstance(await store.give(rep(guild, 3, 2), T0 + 1000), Given)
    # Reading at exactly T0 + 7 days ages the first rep out: the window's horizon is now T0.
    assert await store.ranking(guild, Period.WEEK, T0 + week, 0, 10) == [Ranked(1, 2, 1, 1)]
    assert isinstance(await store.revoke(guild, edge.rep_id, by=1, now=T0 + week), Revoked)
    assert await store.ranking(guild, Period.WEEK, T0 + week, 0, 10) == [Ranked(1, 2, 1, 1)]
    assert await store.ranking(guild, Period.ALL, T0 + week, 0, 10) == [Ranked(1, 2, 1, 1)]
