"""The gateway guard as a plain state machine: per-shard states, a ready latch with a generation, and
the rules for which payload may be written when (docs/architecture.md, 'The guarded gateway').

Nothing here imports discord: `pytunes.core.gateway` feeds discord.py's events in and supplies the
writers, and the unit tests drive the model directly.

Rules:
1. A shard is disconnected, connecting, identifying, resuming or ready. It is ready only after READY or
   RESUMED arrived on its current socket, and either one releases the waiters.
2. IDENTIFY goes out only while identifying, RESUME only while resuming, heartbeats in any connected
   state, everything else only when ready.
3. A payload that may not go yet waits for ready, then is checked again immediately before its writer
   runs. Writers reach the socket without suspending, so nothing can change in between.
4. When the socket closes under a waiting payload, or the write itself finds it closed, the payload
   waits for the next ready and goes out then.
5. Handshakes and heartbeats never wait and never retry: they are what makes a shard ready.
6. Every wait has a deadline; missing it raises `GatewayUnavailable`, never an endless hang.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pytunes.core.clock import Clock

log = logging.getLogger(__name__)

ShardKey = int | None  # None: an unsharded client's one connection
ReadyKind = Literal["identify", "resume"]
Writer = Callable[[object], Awaitable[None]]

HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME, REQUEST_MEMBERS = 1, 2, 3, 4, 6, 8


class ShardState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    IDENTIFYING = "identifying"
    RESUMING = "resuming"
    READY = "ready"


CONNECTED_STATES = frozenset(
    {ShardState.CONNECTING, ShardState.IDENTIFYING, ShardState.RESUMING, ShardState.READY}
)


def admits(state: ShardState, op: int) -> bool:
    """Rule 2: may a payload with opcode `op` be written in `state`?"""
    if op == IDENTIFY:
        return state is ShardState.IDENTIFYING
    if op == RESUME:
        return state is ShardState.RESUMING
    if op == HEARTBEAT:
        return state in CONNECTED_STATES
    return state is ShardState.READY


def waits(op: int) -> bool:
    """Rule 5: handshakes and heartbeats never wait; everything else waits for ready."""
    return op not in (HEARTBEAT, IDENTIFY, RESUME)


class GatewayError(Exception):
    pass


class GatewayUnavailable(GatewayError, TimeoutError):
    """The payload could not be sent before its deadline (the shard was not ready in time)."""


class GatewayStopped(GatewayError):
    """The bot is shutting down; payloads still waiting will never be sent."""


class NotAdmitted(GatewayError):
    """A handshake or heartbeat was offered outside its state. These fail at once instead of waiting."""


class SocketClosed(GatewayError, ConnectionError):
    """Raised by a writer: the socket was already closed, so nothing reached the server."""


class Verdict(enum.Enum):
    GO = "go"  # the socket is current, open and not rate limited: write now
    GONE = "gone"  # the socket closed or was replaced: treat the shard as disconnected
    BUSY = "busy"  # rate limited: writing now would suspend between the check and the write


Probe = Callable[[ShardKey, object], tuple[Verdict, float]]
ReadyListener = Callable[[ShardKey, int, ReadyKind], None]


class Pulse:
    """A wake-up for "something changed": each round gets a fresh future, fired once."""

    def __init__(self) -> None:
        self._future: asyncio.Future[None] | None = None

    def wait(self) -> asyncio.Future[None]:
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
        return self._future

    def fire(self) -> None:
        future, self._future = self._future, None
        if future is not None and not future.done():
            future.set_result(None)


async def wait_or_timeout(future: asyncio.Future[None], clock: Clock, seconds: float) -> None:
    """Wait until `future` is done or `seconds` passed on `clock`, whichever is first."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait((future, sleeper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()


@dataclass(eq=False)
class ShardLink:
    """One shard's logical session; it outlives the sockets that carry it."""

    key: ShardKey
    state: ShardState = ShardState.DISCONNECTED
    socket: object | None = None  # the current socket, whatever the adapter uses to identify it
    generation: int = 0  # how many times READY or RESUMED opened the latch
    last_ready: ReadyKind | None = None
    changed: Pulse = field(default_factory=Pulse)


class GatewayModel:
    """Per-shard gateway state, the ready latch, and the send procedure that enforces rules 1-6."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._links: dict[ShardKey, ShardLink] = {}
        self._ready_listeners: list[ReadyListener] = []
        self._stop_listeners: list[Callable[[], None]] = []
        self.stopped = False

    # ---------------------------------------------------------------- observations

    def link(self, shard: ShardKey) -> ShardLink:
        link = self._links.get(shard)
        if link is None:
            link = self._links[shard] = ShardLink(shard)
        return link

    def shards(self) -> list[ShardKey]:
        return list(self._links)

    def state(self, shard: ShardKey) -> ShardState:
        return self.link(shard).state

    def generation(self, shard: ShardKey) -> int:
        return self.link(shard).generation

    def on_ready(self, listener: ReadyListener) -> None:
        """Call `listener(shard, generation, kind)` each time a shard becomes ready (synchronously)."""
        self._ready_listeners.append(listener)

    def on_stop(self, listener: Callable[[], None]) -> None:
        """Call `listener()` once on stop, so whatever waits on its own wake-ups can give up too."""
        self._stop_listeners.append(listener)

    # ---------------------------------------------------------------- transitions

    def opened(self, shard: ShardKey, socket: object) -> None:
        """A new socket became the shard's current one; whatever the old one was doing is over."""
        link = self.link(shard)
        link.socket = socket
        self._move(link, ShardState.CONNECTING)

    def identifying(self, shard: ShardKey) -> bool:
        return self._handshake(shard, ShardState.IDENTIFYING)

    def resuming(self, shard: ShardKey) -> bool:
        return self._handshake(shard, ShardState.RESUMING)

    def _handshake(self, shard: ShardKey, state: ShardState) -> bool:
        link = self.link(shard)
        if link.state is not ShardState.CONNECTING:
            return False
        self._move(link, state)
        return True

    def ready(self, shard: ShardKey, kind: ReadyKind) -> bool:
        """READY or RESUMED arrived on the current socket. Both open the latch alike (the reviewer's point
        on Disqord PR #139: a RESUMED that does not release waiters strands them until a later READY)."""
        link = self.link(shard)
        if link.socket is None or link.state in (ShardState.DISCONNECTED, ShardState.READY):
            return False  # no socket to be ready on, or already ready on it
        link.generation += 1
        link.last_ready = kind
        self._move(link, ShardState.READY)
        for listener in list(self._ready_listeners):
            try:
                listener(link.key, link.generation, kind)
            except Exception:
                log.exception("gateway ready listener failed for shard %s", link.key)
        return True

    def closed(self, shard: ShardKey, socket: object | None = None) -> bool:
        """The shard's socket closed. A close reported for a socket that is no longer current is ignored."""
        link = self.link(shard)
        if socket is not None and socket is not link.socket:
            return False
        link.socket = None
        if link.state is not ShardState.DISCONNECTED:
            self._move(link, ShardState.DISCONNECTED)
        return True

    def stop(self) -> None:
        """Shutdown: every waiter fails with GatewayStopped, and so does every later send."""
        self.stopped = True
        for link in self._links.values():
            link.changed.fire()
        for listener in self._stop_listeners:
            listener()

    def _move(self, link: ShardLink, state: ShardState) -> None:
        link.state = state
        link.changed.fire()

    # ---------------------------------------------------------------- sending

    async def wait_ready(self, shard: ShardKey, deadline: float) -> ShardLink:
        """Rule 3's wait: until the shard is ready, the model stops, or `deadline` (clock time) passes."""
        link = self.link(shard)
        while True:
            if self.stopped:
                raise GatewayStopped("the gateway is shutting down")
            if link.state is ShardState.READY:
                return link
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                raise GatewayUnavailable(f"shard {shard} was not ready in time (it is {link.state.value})")
            await wait_or_timeout(link.changed.wait(), self.clock, remaining)

    async def send(
        self, shard: ShardKey, op: int, write: Writer, *, timeout: float, probe: Probe | None = None
    ) -> int:
        """Write one payload under rules 1-6 and return the generation it went out on.

        `write(socket)` must reach the socket without suspending, and raise SocketClosed if it found the
        socket closed. `probe(shard, socket)` is the adapter's last look at the real socket."""
        if not waits(op):
            return await self._send_now(shard, op, write)
        deadline = self.clock.monotonic() + timeout
        while True:
            link = await self.wait_ready(shard, deadline)
            socket, generation = link.socket, link.generation
            verdict, delay = probe(shard, socket) if probe is not None else (Verdict.GO, 0.0)
            if verdict is Verdict.GONE:
                self.closed(shard, socket)
                continue
            if verdict is Verdict.BUSY:
                remaining = deadline - self.clock.monotonic()
                if remaining <= 0:
                    raise GatewayUnavailable(f"shard {shard} stayed rate limited past the deadline")
                await wait_or_timeout(link.changed.wait(), self.clock, min(delay, remaining))
                continue
            # The probe may have moved the model; this is the last check, and no await separates it
            # from the writer reaching the socket.
            if link.state is not ShardState.READY or link.socket is not socket or self.stopped:
                continue
            try:
                await write(socket)
            except SocketClosed:
                self.closed(shard, socket)
                continue  # rule 4: wait for the next ready and write there
            return generation

    async def _send_now(self, shard: ShardKey, op: int, write: Writer) -> int:
        link = self.link(shard)
        if self.stopped:
            raise GatewayStopped("the gateway is shutting down")
        if not admits(link.state, op):
            raise NotAdmitted(f"op {op} is not allowed while shard {shard} is {link.state.value}")
        socket, generation = link.socket, link.generation
        try:
            await write(socket)
        except SocketClosed:
            # Rule 5: no retry. The connection loop sees the same close and redoes the handshake.
            self.closed(shard, socket)
            raise
        return generation


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(eq=False)
class Pending(Generic[V]):
    shard: ShardKey
    payload: V
    generation: int  # the session it was last written on
    expires: float
    resending: bool = False


class EffectLedger(Generic[K, V]):
    """Rule 4's "effect once" for writes that Discord confirms later: a voice state by its
    VOICE_STATE_UPDATE, a member request by its last chunk. No client can tell whether a frame written
    just before a server close was processed, so when a new session opens before the confirmation, the
    write is re-sent once on that session (the same nonce for member requests, so a late duplicate chunk
    is ignored). Entries give up after `lifetime` seconds, so nothing is retried forever."""

    def __init__(
        self,
        model: GatewayModel,
        send: Callable[[ShardKey, V], Awaitable[int]],
        spawn: Callable[[Coroutine[Any, Any, None], str], object],
        *,
        lifetime: float,
        wanted: Callable[[K], bool] | None = None,
        name: str,
    ) -> None:
        self._model = model
        self._send = send
        self._spawn = spawn
        self._lifetime = lifetime
        self._wanted = wanted or (lambda key: True)
        self._name = name
        self._pending: dict[K, Pending[V]] = {}
        model.on_ready(self._on_ready)

    def record(self, key: K, shard: ShardKey, payload: V, generation: int) -> None:
        """A write went out on `generation`; a later write for the same key replaces it."""
        now = self._model.clock.monotonic()
        for stale in [k for k, p in self._pending.items() if now > p.expires or not self._wanted(k)]:
            del self._pending[stale]
        self._pending[key] = Pending(shard, payload, generation, now + self._lifetime)

    def get(self, key: K) -> Pending[V] | None:
        return self._pending.get(key)

    def confirm(self, key: K) -> None:
        self._pending.pop(key, None)

    def __len__(self) -> int:
        return len(self._pending)

    def _on_ready(self, shard: ShardKey, generation: int, kind: ReadyKind) -> None:
        now = self._model.clock.monotonic()
        for key, pending in list(self._pending.items()):
            if pending.shard != shard or pending.resending or pending.generation >= generation:
                continue
            if not self._wanted(key):
                del self._pending[key]  # done by other means (e.g. discord.py has the last chunk)
                continue
            if now > pending.expires:
                log.warning("%s %s was never confirmed; giving up", self._name, key)
                del self._pending[key]
                continue
            pending.resending = True
            self._spawn(self._resend(key, pending), f"{self._name}-resend-{key}")

    async def _resend(self, key: K, pending: Pending[V]) -> None:
        try:
            if self._pending.get(key) is pending and self._wanted(key):
                log.info("re-sending %s %s on a new session", self._name, key)
                pending.generation = await self._send(pending.shard, pending.payload)
        except GatewayError:
            log.warning("%s %s could not be re-sent", self._name, key)
        finally:
            pending.resending = False
