"""The gateway's records: sessions (numbered, replayable dispatches), connections, and what the tests
observe (closes, frames)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aiohttp import web

Json = dict[str, Any]

# Dispatches kept per session for RESUME replay.
REPLAY_LIMIT = 50_000


class ConnState(Enum):
    CONNECTED = "connected"
    IDENTIFYING = "identifying"
    RESUMING = "resuming"
    READY = "ready"
    CLOSED = "closed"


@dataclass
class GatewayClose:
    """One closed connection: who closed it, with which code, and when."""

    conn_id: int
    shard: int | None
    code: int | None
    reason: str
    initiator: str  # "server", "client" or "drop"
    at: float


@dataclass
class GatewayFrame:
    """A payload seen on the gateway, in either direction, with its arrival time."""

    at: float
    conn_id: int
    shard: int | None
    direction: str  # "recv" (client → simcord) or "send"
    op: int
    t: str | None
    d: Any
    authenticated: bool


@dataclass(eq=False)
class Session:
    id: str
    bot_user_id: int
    intents: int
    shard: tuple[int, int]
    presence: Json | None = None
    buffer: list[Json] = field(default_factory=list)
    buffer_start: int = 1  # seq of buffer[0]
    connection: Connection | None = None
    invalidated: bool = False

    @property
    def seq(self) -> int:
        return self.buffer_start + len(self.buffer) - 1

    def append(self, event: str, data: Json) -> None:
        payload = {"op": 0, "t": event, "s": self.seq + 1, "d": data}
        self.buffer.append(payload)
        if len(self.buffer) > REPLAY_LIMIT:
            drop = len(self.buffer) - REPLAY_LIMIT
            del self.buffer[:drop]
            self.buffer_start += drop
        if self.connection is not None:
            self.connection.wake()

    def since(self, seq: int) -> list[Json]:
        start = max(seq + 1 - self.buffer_start, 0)
        return self.buffer[start:]

    def wants(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard[0] == 0
        return (guild_id >> 22) % self.shard[1] == self.shard[0]


@dataclass(eq=False)
class Connection:
    id: int
    ws: web.WebSocketResponse
    compress: bool
    state: ConnState = ConnState.CONNECTED
    session: Session | None = None
    sent_seq: int = 0
    dispatch_open: bool = False
    authenticated: bool = False
    control: deque[Json] = field(default_factory=deque)
    recv_times: deque[float] = field(default_factory=deque)
    heartbeat_interval: float = 41.25  # seconds, as announced in this connection's HELLO
    last_heartbeat: float = field(default_factory=time.monotonic)
    event: asyncio.Event = field(default_factory=asyncio.Event)
    compressor: Any = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def wake(self) -> None:
        self.event.set()

    @property
    def closed(self) -> bool:
        return self.state is ConnState.CLOSED

    @property
    def shard(self) -> int | None:
        return self.session.shard[0] if self.session else None
