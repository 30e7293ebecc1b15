"""Presence as desired state: the latest value per shard, written once per session and coalesced.

Presence (op 3) is idempotent, latest wins, and Discord never confirms it. Within one session the keeper
writes at most once per `min_interval` (the latest value at the end of the wait): a gateway connection may
send only 120 commands a minute, and presence changes with every track that starts or stops in any guild,
so unpaced it would eat the budget voice joins and leaves (op 4) need. A frame written just before a
server-side close may be lost without any error (docs/discord-notes.md, 'The handshake window'), and a
re-IDENTIFY starts a session with the presence given at construction. So the keeper does not send "a
change"; it makes each shard's current session carry the desired presence: one pump per shard writes it
whenever the desired value is newer than the last write or a new session (READY or RESUMED) opened since.
Callers that set a presence while a shard reconnects do not queue frames: only the latest value goes out.

No discord imports: the adapter supplies `write(shard, current)`, which sends through the guard and
returns the generation the frame went out on. `current()` is called at the moment of writing, so a value
changed while the shard was down is not sent stale first.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pytunes.core.gateway_model import (
    GatewayModel,
    GatewayStopped,
    GatewayUnavailable,
    Pulse,
    ReadyKind,
    ShardKey,
    wait_or_timeout,
)

log = logging.getLogger(__name__)

P = TypeVar("P")
Spawn = Callable[[Coroutine[Any, Any, None], str], object]


@dataclass(eq=False)
class _Slot(Generic[P]):
    desired: P
    version: int = 1
    written_version: int = 0
    written_generation: int = -1
    written_at: float = float("-inf")  # on the model's clock
    failed: tuple[int, BaseException] | None = None
    taken: int = 0  # the version last handed to the writer
    wake: Pulse = field(default_factory=Pulse)  # the pump: something to write
    written: Pulse = field(default_factory=Pulse)  # callers: the pump wrote (or failed)

    def take(self) -> P:
        """The desired value, as the writer reads it at the moment of writing."""
        self.taken = self.version
        return self.desired


class PresenceKeeper(Generic[P]):
    def __init__(
        self,
        model: GatewayModel,
        write: Callable[[ShardKey, Callable[[], P]], Awaitable[int]],
        spawn: Spawn,
        all_shards: Callable[[], Sequence[ShardKey]],
        *,
        min_interval: float = 0.0,
    ) -> None:
        self._model = model
        self._min_interval = min_interval
        self._write = write
        self._spawn = spawn
        self._all_shards = all_shards
        self._slots: dict[ShardKey, _Slot[P]] = {}
        self._everywhere: tuple[P] | None = None  # the value for shards that have not connected yet
        model.on_ready(self._on_ready)
        model.on_stop(self._on_stop)

    def desired(self, shard: ShardKey) -> P | None:
        slot = self._slots.get(shard)
        if slot is not None:
            return slot.desired
        return self._everywhere[0] if self._everywhere else None

    def want(self, presence: P, shards: Sequence[ShardKey] | None) -> list[tuple[ShardKey, _Slot[P], int]]:
        """Make `presence` the desired one on `shards` (None: every shard, including later ones) without
        waiting: the pumps write it whenever each shard is ready."""
        if shards is None:
            self._everywhere = (presence,)
            shards = self._all_shards()
        wanted = [(shard, self._desire(shard, presence)) for shard in shards]
        return [(shard, slot, slot.version) for shard, slot in wanted]

    async def apply(self, presence: P, shards: Sequence[ShardKey] | None, *, timeout: float) -> None:
        """`want`, then wait until each shard has written it or something newer. On timeout it stays
        desired and is still applied when the shard becomes ready; the exception only says that has not
        happened yet."""
        deadline = self._model.clock.monotonic() + timeout
        for shard, slot, version in self.want(presence, shards):
            while slot.written_version < version:
                if slot.failed is not None and slot.failed[0] >= version:
                    raise slot.failed[1]
                if self._model.stopped:
                    raise GatewayStopped("the gateway is shutting down")
                remaining = deadline - self._model.clock.monotonic()
                if remaining <= 0:
                    raise GatewayUnavailable(
                        f"presence not applied on shard {shard} within {timeout:g} s; it stays desired"
                    )
                await wait_or_timeout(slot.written.wait(), self._model.clock, remaining)

    def _desire(self, shard: ShardKey, presence: P) -> _Slot[P]:
        slot = self._slots.get(shard)
        if slot is None:
            slot = self._slots[shard] = _Slot(presence)
            self._spawn(self._pump(shard, slot), f"presence-shard-{shard}")
        else:
            slot.desired = presence
            slot.version += 1
            slot.wake.fire()
        return slot

    def _on_ready(self, shard: ShardKey, generation: int, kind: ReadyKind) -> None:
        slot = self._slots.get(shard)
        if slot is not None:
            slot.wake.fire()  # a new session: the pump re-applies
        elif self._everywhere is not None:
            self._desire(shard, self._everywhere[0])

    def _on_stop(self) -> None:
        for slot in self._slots.values():
            slot.wake.fire()
            slot.written.fire()

    def _due(self, shard: ShardKey, slot: _Slot[P]) -> bool:
        if slot.failed is not None and slot.failed[0] == slot.version:
            return False  # this value cannot be written; wait for a new one
        newer = slot.version > slot.written_version
        return newer or slot.written_generation != self._model.generation(shard)

    def _pause(self, shard: ShardKey, slot: _Slot[P]) -> float:
        """How long the next write must wait; a new session starts a new budget, so it writes at once."""
        if slot.written_generation != self._model.generation(shard):
            return 0.0
        return slot.written_at + self._min_interval - self._model.clock.monotonic()

    async def _pump(self, shard: ShardKey, slot: _Slot[P]) -> None:
        while not self._model.stopped:
            if not self._due(shard, slot):
                await slot.wake.wait()
                continue
            pause = self._pause(shard, slot)
            if pause > 0:
                await wait_or_timeout(slot.wake.wait(), self._model.clock, pause)
                continue
            version = slot.version
            try:
                generation = await self._write(shard, slot.take)
                version = slot.taken
            except GatewayUnavailable:
                continue  # still desired: keep waiting for the shard
            except GatewayStopped:
                break
            except Exception as exc:
                log.exception("presence for shard %s could not be written", shard)
                slot.failed = (version, exc)
                slot.written.fire()
                continue
            slot.written_version, slot.written_generation = version, generation
            slot.written_at = self._model.clock.monotonic()
            slot.written.fire()
        slot.written.fire()  # let callers see the stop

    def __len__(self) -> int:
        return len(self._slots)
