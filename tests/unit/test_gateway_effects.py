"""Effect once (rule 4): the ledger that re-sends unconfirmed voice states and member requests once per
new session, and the presence keeper that coalesces changes and re-applies the latest per session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from pytunes.core.clock import ManualClock
from pytunes.core.gateway_model import PRESENCE, EffectLedger, GatewayModel, ShardKey
from pytunes.core.presence import PresenceKeeper
from tests.unit.test_gateway_guard import FakeSocket


class LedgerWorld:
    """One shard, a ledger that records what it re-sends, and a switch for "still wanted"."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.model = GatewayModel(self.clock)
        self.resent: list[tuple[ShardKey, str]] = []
        self.wanted = True
        self.tasks: list[asyncio.Task[None]] = []
        self.ledger: EffectLedger[str, str] = EffectLedger(
            self.model, self._send, self._spawn, lifetime=10.0, wanted=lambda key: self.wanted, name="test"
        )
        self.socket = FakeSocket()

    async def _send(self, shard: ShardKey, payload: str) -> int:
        self.resent.append((shard, payload))
        return self.model.generation(shard)

    def _spawn(self, coro: Any, name: str) -> object:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.append(task)
        return task

    def new_session(self) -> None:
        self.socket = FakeSocket()
        self.model.opened(0, self.socket)
        self.model.resuming(0)
        self.model.ready(0, "resume")

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)


async def test_unconfirmed_write_is_resent_once_per_new_session() -> None:
    world = LedgerWorld()
    world.new_session()
    world.ledger.record("join", 0, "lounge", world.model.generation(0))
    world.new_session()
    await world.settle()
    assert world.resent == [(0, "lounge")]
    world.new_session()
    world.new_session()  # the second opens before the re-send for the first went out: it goes once, there
    await world.settle()
    assert world.resent == [(0, "lounge")] * 2
    pending = world.ledger.get("join")
    assert pending is not None
    assert pending.generation == world.model.generation(0)


async def test_confirmed_write_is_not_resent() -> None:
    world = LedgerWorld()
    world.new_session()
    world.ledger.record("join", 0, "lounge", world.model.generation(0))
    world.ledger.confirm("join")
    world.new_session()
    await world.settle()
    assert world.resent == []
    assert len(world.ledger) == 0


async def test_a_later_write_replaces_the_pending_one() -> None:
    world = LedgerWorld()
    world.new_session()
    world.ledger.record("guild", 0, "join", world.model.generation(0))
    world.ledger.record("guild", 0, "leave", world.model.generation(0))
    world.new_session()
    await world.settle()
    assert world.resent == [(0, "leave")]


@pytest.mark.parametrize("why", ["expired", "no longer wanted"])
async def test_given_up_writes_are_dropped_not_resent(why: str) -> None:
    world = LedgerWorld()
    world.new_session()
    world.ledger.record("chunk", 0, "nonce-1", world.model.generation(0))
    if why == "expired":
        await world.clock.advance(11.0)
    else:
        world.wanted = False  # discord.py already has the last chunk
    world.new_session()
    await world.settle()
    assert world.resent == []
    assert len(world.ledger) == 0


# ---------------------------------------------------------------- presence: coalesced, kept per session


class PresenceWorld:
    """One shard's gateway model and a presence keeper whose writes are recorded as (generation, value)."""

    def __init__(self, *, min_interval: float = 0.0) -> None:
        self.clock = ManualClock()
        self.model = GatewayModel(self.clock)
        self.frames: list[tuple[int, str]] = []
        self.tasks: list[asyncio.Task[Any]] = []
        self.keeper: PresenceKeeper[str] = PresenceKeeper(
            self.model, self._write, self._spawn, lambda: [0], min_interval=min_interval
        )

    async def _write(self, shard: ShardKey, current: Callable[[], str]) -> int:
        async def put(socket: object) -> None:
            self.frames.append((self.model.generation(shard), current()))

        return await self.model.send(shard, PRESENCE, put, timeout=30.0)

    def _spawn(self, coro: Any, name: str) -> object:
        self.tasks.append(asyncio.get_running_loop().create_task(coro))
        return self.tasks[-1]

    async def stop(self) -> None:
        self.model.stop()
        await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 1)


async def test_presence_changes_while_down_go_out_once_with_the_latest() -> None:
    world = PresenceWorld()
    model, frames, keeper = world.model, world.frames, world.keeper
    calls = [asyncio.create_task(keeper.apply(value, None, timeout=10.0)) for value in "abc"]
    for _ in range(5):
        await asyncio.sleep(0)
    model.opened(0, FakeSocket())
    model.identifying(0)
    model.ready(0, "identify")
    await asyncio.wait_for(asyncio.gather(*calls), 1)
    assert frames == [(1, "c")]
    model.opened(0, FakeSocket())
    model.resuming(0)
    model.ready(0, "resume")
    for _ in range(5):
        await asyncio.sleep(0)
    assert frames == [(1, "c"), (2, "c")], "re-applied on the new session"
    await world.stop()


async def test_presence_is_written_at_most_once_per_interval_in_a_session_with_the_latest_value() -> None:
    world = PresenceWorld(min_interval=12.0)
    clock, model, frames, keeper = world.clock, world.model, world.frames, world.keeper

    async def settle() -> None:
        for _ in range(10):
            await asyncio.sleep(0)

    model.opened(0, FakeSocket())
    model.identifying(0)
    model.ready(0, "identify")
    keeper.want("a", None)
    await settle()
    assert frames == [(1, "a")], "the first value goes out at once"
    for value in "bcd":
        keeper.want(value, None)
        await settle()
    await clock.advance(11.9)
    await settle()
    assert frames == [(1, "a")], "nothing more before the interval has passed"
    await clock.advance(0.1)
    await settle()
    assert frames == [(1, "a"), (1, "d")], "then only the latest"
    keeper.want("e", None)
    model.opened(0, FakeSocket())
    model.resuming(0)
    model.ready(0, "resume")
    await settle()
    assert frames == [(1, "a"), (1, "d"), (2, "e")], "a new session writes at once"
    await world.stop()
