"""The gateway guard model (`pytunes.core.gateway_model`) under random interleavings of sends, socket
opens and closes, handshakes, READY/RESUMED, rate limiting and the passing of time.

Each rule is one event; after each, the event loop runs until it is idle and the invariants check the
issue's rules 1-6 against every frame the fake sockets saw.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pytunes.core.clock import ManualClock
from pytunes.core.gateway_model import (
    HEARTBEAT,
    IDENTIFY,
    PRESENCE,
    REQUEST_MEMBERS,
    RESUME,
    VOICE_STATE,
    GatewayModel,
    GatewayStopped,
    GatewayUnavailable,
    NotAdmitted,
    ShardKey,
    ShardState,
    SocketClosed,
    Verdict,
    admits,
    waits,
)
from pytunes.core.presence import PresenceKeeper

SHARDS = st.sampled_from([0, 1])
OPS = st.sampled_from([HEARTBEAT, IDENTIFY, RESUME, PRESENCE, VOICE_STATE, REQUEST_MEMBERS])
BUSY_FOR = 0.5


@dataclass(eq=False)
class FakeSocket:
    alive: bool = True  # what the probe sees: open or not
    doomed: bool = False  # looks open, but the next write finds it closing (aiohttp's reset error)
    busy: bool = False  # rate limited


@dataclass
class Frame:
    send_id: int
    shard: ShardKey
    op: int
    state: ShardState
    current: bool
    busy: bool
    generation: int
    value: Any = None


@dataclass(eq=False)
class Send:
    id: int
    shard: ShardKey
    op: int
    deadline: float
    task: asyncio.Task[int]
    frames: list[Frame] = field(default_factory=list)


class GuardMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.model = GatewayModel(self.clock)
        self.current: dict[ShardKey, FakeSocket | None] = {0: None, 1: None}
        # The state each shard must be in, worked out from the events by rule 1 (not by the model).
        self.expected: dict[ShardKey, ShardState] = {0: ShardState.DISCONNECTED, 1: ShardState.DISCONNECTED}
        self.sends: list[Send] = []
        self.ids = itertools.count()
        self.readies: dict[ShardKey, list[int]] = {0: [], 1: []}
        self.model.on_ready(lambda shard, generation, kind: self.readies[shard].append(generation))
        self.presence_frames: list[Frame] = []
        self.keeper: PresenceKeeper[str] = PresenceKeeper(
            self.model, self._write_presence, self._spawn, lambda: [0, 1]
        )
        self.background: list[asyncio.Task[Any]] = []
        self.callers: list[tuple[float, asyncio.Task[None]]] = []  # presence callers with deadlines

    # ---------------------------------------------------------------- plumbing

    def settle(self) -> None:
        for _ in range(30):
            self.loop.run_until_complete(asyncio.sleep(0))

    def _spawn(self, coro: Any, name: str) -> object:
        task = self.loop.create_task(coro, name=name)
        self.background.append(task)
        return task

    def probe(self, shard: ShardKey, socket: object) -> tuple[Verdict, float]:
        assert isinstance(socket, FakeSocket)
        if not socket.alive or socket is not self.current[shard]:
            if socket is self.current[shard]:
                self.expected[shard] = ShardState.DISCONNECTED  # the adapter found the close itself
            return Verdict.GONE, 0.0
        return (Verdict.BUSY, BUSY_FOR) if socket.busy else (Verdict.GO, 0.0)

    def writer(self, shard: ShardKey, op: int, sink: list[Frame], send_id: int, value: Any = None) -> Any:
        async def write(socket: object) -> None:
            assert isinstance(socket, FakeSocket) or socket is None
            if socket is None or not socket.alive or socket.doomed:
                if socket is not None:
                    socket.alive = False
                if socket is self.current[shard]:
                    self.expected[shard] = ShardState.DISCONNECTED
                raise SocketClosed("closed under the write")
            link = self.model.link(shard)
            current = socket is self.current[shard]
            written = value() if callable(value) else value  # read at the moment of writing
            sink.append(Frame(send_id, shard, op, link.state, current, socket.busy, link.generation, written))

        return write

    async def _write_presence(self, shard: ShardKey, current: Callable[[], str]) -> int:
        write = self.writer(shard, PRESENCE, self.presence_frames, -1, current)
        return await self.model.send(shard, PRESENCE, write, timeout=30.0, probe=self.probe)

    # ---------------------------------------------------------------- rules: the connection

    @rule(shard=SHARDS)
    def open_socket(self, shard: ShardKey) -> None:
        old = self.current[shard]
        if old is not None:
            old.alive = False
        self.current[shard] = FakeSocket()
        self.expected[shard] = ShardState.CONNECTING
        self.model.opened(shard, self.current[shard])
        self.settle()

    @rule(shard=SHARDS, resume=st.booleans())
    def begin_handshake(self, shard: ShardKey, resume: bool) -> None:
        if self.expected[shard] is ShardState.CONNECTING:
            self.expected[shard] = ShardState.RESUMING if resume else ShardState.IDENTIFYING
        (self.model.resuming if resume else self.model.identifying)(shard)
        self.settle()

    @rule(shard=SHARDS, resumed=st.booleans())
    def ready_arrives(self, shard: ShardKey, resumed: bool) -> None:
        handshaking = (ShardState.CONNECTING, ShardState.IDENTIFYING, ShardState.RESUMING)
        if self.expected[shard] in handshaking:
            self.expected[shard] = ShardState.READY  # READY and RESUMED alike
        self.model.ready(shard, "resume" if resumed else "identify")
        self.settle()

    @rule(shard=SHARDS, reported=st.booleans())
    def socket_closes(self, shard: ShardKey, reported: bool) -> None:
        """The server closed the socket. `reported`: the adapter saw it; otherwise only the probe will."""
        socket = self.current[shard]
        if socket is not None:
            socket.alive = False
            if reported:
                self.expected[shard] = ShardState.DISCONNECTED
                self.model.closed(shard, socket)
        self.settle()

    @rule(shard=SHARDS)
    def close_races_next_write(self, shard: ShardKey) -> None:
        if (socket := self.current[shard]) is not None:
            socket.doomed = True
        self.settle()

    @rule(shard=SHARDS, busy=st.booleans())
    def rate_limit(self, shard: ShardKey, busy: bool) -> None:
        if (socket := self.current[shard]) is not None:
            socket.busy = busy
        if not busy:
            # A rate limit lifts because time passed; the guard looks again after BUSY_FOR.
            self.loop.run_until_complete(self.clock.advance(BUSY_FOR))
        self.settle()

    @rule(seconds=st.sampled_from([0.1, 0.5, 1.0, 5.0]))
    def time_passes(self, seconds: float) -> None:
        self.loop.run_until_complete(self.clock.advance(seconds))
        self.settle()

    @precondition(lambda self: not self.model.stopped)
    @rule()
    def stop(self) -> None:
        self.model.stop()
        self.settle()

    # ---------------------------------------------------------------- rules: the callers

    @rule(shard=SHARDS, op=OPS, timeout=st.sampled_from([0.5, 2.0, 10.0]))
    def send(self, shard: ShardKey, op: int, timeout: float) -> None:
        send_id = next(self.ids)
        frames: list[Frame] = []
        write = self.writer(shard, op, frames, send_id)
        coro = self.model.send(shard, op, write, timeout=timeout, probe=self.probe)
        deadline = self.clock.monotonic() + timeout
        self.sends.append(Send(send_id, shard, op, deadline, self.loop.create_task(coro), frames))
        self.settle()

    @rule(value=st.sampled_from(["a", "b", "c"]), shard=st.sampled_from([0, 1, None]))
    def set_presence(self, value: str, shard: ShardKey) -> None:
        shards = None if shard is None else [shard]
        call = self.keeper.apply(value, shards, timeout=1.0)
        self.callers.append((self.clock.monotonic() + 1.0, self.loop.create_task(call)))
        self.settle()

    # ---------------------------------------------------------------- invariants

    def healthy(self, shard: ShardKey) -> bool:
        socket = self.current[shard]
        return (
            not self.model.stopped
            and self.expected[shard] is ShardState.READY
            and socket is not None
            and socket.alive
            and not socket.doomed
            and not socket.busy
        )

    @invariant()
    def state_follows_the_events(self) -> None:
        """Rule 1: ready only after READY or RESUMED on the current socket; any close ends it."""
        for shard, expected in self.expected.items():
            assert self.model.state(shard) is expected

    @invariant()
    def every_frame_was_admitted(self) -> None:
        """Rules 1-3: a payload reaches a socket only in a state that admits it, on the current socket;
        an authenticated one never on a rate-limited socket."""
        for send in self.sends:
            for frame in send.frames:
                assert admits(frame.state, frame.op)
                assert frame.current
                assert not (waits(frame.op) and frame.busy)
        for frame in self.presence_frames:
            assert frame.state is ShardState.READY
            assert frame.current
            assert not frame.busy

    @invariant()
    def handshakes_never_wait(self) -> None:
        """Rule 5: IDENTIFY, RESUME and heartbeats finish at once: written, refused or failed."""
        for send in self.sends:
            if not waits(send.op):
                assert send.task.done()
                if not send.task.cancelled() and (exc := send.task.exception()) is not None:
                    assert isinstance(exc, NotAdmitted | SocketClosed | GatewayStopped)
                    assert send.frames == []

    @invariant()
    def ready_releases_waiters(self) -> None:
        """Rules 1 and 4: once a shard is ready on a healthy socket (READY or RESUMED alike), nothing
        waits for it; payloads whose socket closed under them went out on the new one."""
        for send in self.sends:
            if waits(send.op) and self.healthy(send.shard):
                assert send.task.done()

    @invariant()
    def waits_are_bounded(self) -> None:
        """Rule 6: no send outlives its deadline; a late one fails with GatewayUnavailable."""
        now = self.clock.monotonic()
        for send in self.sends:
            if now >= send.deadline:
                assert send.task.done()
            if waits(send.op) and send.task.done() and (exc := send.task.exception()) is not None:
                assert isinstance(exc, GatewayUnavailable | GatewayStopped)  # a closed socket is retried

    @invariant()
    def written_at_most_once(self) -> None:
        """A send succeeds with exactly one frame, reporting the generation it went out on."""
        for send in self.sends:
            assert len(send.frames) <= 1
            if send.task.done() and send.task.exception() is None:
                [frame] = send.frames
                assert send.task.result() == frame.generation

    @invariant()
    def stop_fails_everyone(self) -> None:
        if self.model.stopped:
            assert all(send.task.done() for send in self.sends)
            assert all(call.done() for _, call in self.callers)

    @invariant()
    def generations_count_readies(self) -> None:
        for shard, seen in self.readies.items():
            assert seen == list(range(1, len(seen) + 1))
            assert self.model.generation(shard) == len(seen)

    @invariant()
    def presence_callers_are_bounded(self) -> None:
        now = self.clock.monotonic()
        for deadline, call in self.callers:
            if now >= deadline:
                assert call.done()
            if call.done() and (exc := call.exception()) is not None:
                assert isinstance(exc, GatewayUnavailable | GatewayStopped)

    @invariant()
    def presence_is_kept(self) -> None:
        """A healthy ready shard carries its desired presence on its current session."""
        for shard in (0, 1):
            desired = self.keeper.desired(shard)
            if desired is None or not self.healthy(shard):
                continue
            generation = self.model.generation(shard)
            on_session = [f for f in self.presence_frames if f.shard == shard and f.generation == generation]
            assert on_session
            assert on_session[-1].value == desired

    def teardown(self) -> None:
        self.model.stop()
        tasks = [s.task for s in self.sends] + self.background + [call for _, call in self.callers]
        if tasks:
            # Stopping must end everything without time passing; a bounded wait turns a hang into a failure.
            self.loop.run_until_complete(asyncio.wait(tasks, timeout=5))
        assert all(task.done() for task in tasks), "a task outlived stop()"
        for task in tasks:
            if not task.cancelled():
                task.exception()  # seen: outcomes were checked by the invariants
        self.loop.close()


GuardMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestGuardMachine = GuardMachine.TestCase
