"""The main gateway: sessions, sequence numbers, RESUME replay and Discord's strict handshake rules.

A *session* outlives its *connections*: dispatches for a session are numbered and kept so a client that
reconnects with RESUME gets every missed event replayed in order, followed by RESUMED.

A connection that stops heartbeating is a zombie: after 1.5 heartbeat intervals (plus a small grace)
without op 1 the server closes it with 4000, which leaves the session resumable.

The 4003 rule is enforced strictly (docs/discord-notes.md, 'The handshake window'): any opcode other than
heartbeat (1), IDENTIFY (2) and RESUME (6) on a connection that has not yet been sent READY or RESUMED
closes it with 4003 and invalidates the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import time
import zlib
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, WSMsgType, web

from simcord.gateway_session import Connection, ConnState, GatewayClose, GatewayFrame, Session

if TYPE_CHECKING:
    from simcord.world import World

# The records live in gateway_session; they are re-exported because callers think of them as the gateway's.
__all__ = ["ConnState", "Connection", "Gateway", "GatewayClose", "GatewayFrame", "Session"]

log = logging.getLogger(__name__)

Json = dict[str, Any]

MAX_PAYLOAD_BYTES = 4096
SEND_LIMIT = 120
SEND_WINDOW = 60.0

# Intent bits an event needs (events not listed need none).
INTENT_FOR_EVENT = {
    "MESSAGE_CREATE": 1 << 9,
    "MESSAGE_UPDATE": 1 << 9,
    "MESSAGE_DELETE": 1 << 9,
    "MESSAGE_REACTION_ADD": 1 << 10,
    "MESSAGE_REACTION_REMOVE": 1 << 10,
    "VOICE_STATE_UPDATE": 1 << 7,
    "GUILD_MEMBER_ADD": 1 << 1,
    "GUILD_MEMBER_REMOVE": 1 << 1,
    "CHANNEL_CREATE": 1 << 0,
    "CHANNEL_DELETE": 1 << 0,
}
INTENT_MESSAGE_CONTENT = 1 << 15
INTENT_GUILD_MEMBERS = 1 << 1


class Gateway:
    """aiohttp websocket endpoint plus the session table."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.heartbeat_interval_ms = 41250
        self.ready_delay = 0.0
        self.resumed_delay = 0.0
        self.ready_delays: dict[int, float] = {}  # per shard id, overrides ready_delay
        self.ack_heartbeats = True
        # Extra seconds past 1.5 intervals before a silent connection counts as a zombie.
        self.heartbeat_grace = 0.5
        self.sessions: dict[str, Session] = {}
        self.connections: dict[int, Connection] = {}
        self.closes: list[GatewayClose] = []
        self.log: list[GatewayFrame] = []
        self._conn_ids = itertools.count(1)
        self.url = ""

    # ---------------------------------------------------------------- dispatching

    def dispatch(
        self,
        event: str,
        data: Json,
        *,
        guild_id: int | None,
        to_user: int | None = None,
    ) -> None:
        """Queue an event for every live session that should see it."""
        need = INTENT_FOR_EVENT.get(event, 0)
        for session in self.sessions.values():
            if session.invalidated:
                continue
            if to_user is not None and session.bot_user_id != to_user:
                continue
            if guild_id is not None and not self.world.is_member(guild_id, session.bot_user_id):
                continue
            if not session.wants(guild_id):
                continue
            if need and not session.intents & need:
                continue
            payload = data
            if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not session.intents & INTENT_MESSAGE_CONTENT:
                payload = self._strip_content(data, session.bot_user_id)
            session.append(event, payload)

    @staticmethod
    def _strip_content(data: Json, bot_user_id: int) -> Json:
        mentioned = any(m.get("id") == str(bot_user_id) for m in data.get("mentions", []))
        if mentioned or data.get("author", {}).get("id") == str(bot_user_id):
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    # ---------------------------------------------------------------- faults

    def live(self, shard: int | None = None) -> list[Connection]:
        return [
            c
            for c in self.connections.values()
            if c.state is not ConnState.CLOSED and (shard is None or c.shard == shard)
        ]

    async def drop(self, shard: int | None = None) -> None:
        """Cut TCP without a close frame; the session stays resumable."""
        for conn in self.live(shard):
            self._record_close(conn, None, "dropped by simcord", "drop")
            transport = conn.ws._req.transport if conn.ws._req else None
            if transport is not None:
                transport.abort()

    async def close(self, code: int, shard: int | None = None, *, invalidate: bool = False) -> None:
        for conn in self.live(shard):
            if invalidate and conn.session:
                self._forget(conn.session)
            await self._close(conn, code, "closed by simcord")

    def send_reconnect(self, shard: int | None = None) -> None:
        for conn in self.live(shard):
            self._control(conn, {"op": 7, "d": None})

    def invalidate_session(self, resumable: bool, shard: int | None = None) -> None:
        for conn in self.live(shard):
            if not resumable and conn.session:
                self._forget(conn.session)
            self._control(conn, {"op": 9, "d": resumable})

    # ---------------------------------------------------------------- websocket handler

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoclose=False, autoping=True)
        await ws.prepare(request)
        conn = Connection(
            id=next(self._conn_ids), ws=ws, compress=request.query.get("compress") == "zlib-stream"
        )
        if conn.compress:
            conn.compressor = zlib.compressobj()
        self.connections[conn.id] = conn
        writer = asyncio.create_task(self._writer(conn))
        conn.heartbeat_interval = self.heartbeat_interval_ms / 1000
        self._control(conn, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        self._spawn(conn, self._watch_heartbeats(conn))
        try:
            while True:
                # Not `async for`: it swallows the CLOSE frame, and the close code is an observation.
                msg = await ws.receive()
                if msg.type in (WSMsgType.CLOSED, WSMsgType.CLOSING, WSMsgType.ERROR):
                    break
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    raw = msg.data if isinstance(msg.data, str) else msg.data.decode("utf-8", "replace")
                    await self._receive(conn, raw)
                elif msg.type == WSMsgType.CLOSE:
                    self._record_close(conn, msg.data, msg.extra or "", "client")
                    break
                if conn.state is ConnState.CLOSED:
                    break
        finally:
            if conn.state is not ConnState.CLOSED:
                self._record_close(conn, None, "connection lost", "drop")
            writer.cancel()
            for task in list(conn.tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await ws.close()
            self.world.changed()
        return ws

    async def _watch_heartbeats(self, conn: Connection) -> None:
        """Close a connection that went silent with 4000: resumable, as Discord treats a zombie."""
        timeout = conn.heartbeat_interval * 1.5 + self.heartbeat_grace
        while not conn.closed:
            remaining = conn.last_heartbeat + timeout - time.monotonic()
            if remaining <= 0:
                await self._close(conn, 4000, "heartbeat timeout")
                return
            await asyncio.sleep(remaining)

    async def _receive(self, conn: Connection, raw: str) -> None:
        now = time.monotonic()
        conn.recv_times.append(now)
        while conn.recv_times and conn.recv_times[0] < now - SEND_WINDOW:
            conn.recv_times.popleft()
        if len(raw.encode()) > MAX_PAYLOAD_BYTES:
            await self._close(conn, 4002, "payload too large")
            return
        try:
            payload = json.loads(raw)
            op = int(payload["op"])
        except (ValueError, KeyError, TypeError):
            await self._close(conn, 4002, "decode error")
            return
        d = payload.get("d")
        self.log.append(
            GatewayFrame(time.time(), conn.id, conn.shard, "recv", op, None, d, conn.authenticated)
        )
        self.world.changed()
        if len(conn.recv_times) > SEND_LIMIT:
            await self._close(conn, 4008, "rate limited")
            return
        if op == 1:
            conn.last_heartbeat = now
            if self.ack_heartbeats:
                self._control(conn, {"op": 11, "d": None})
        elif op == 2:
            await self._identify(conn, d)
        elif op == 6:
            await self._resume(conn, d)
        elif op in (3, 4, 8, 31):
            if not conn.authenticated or conn.session is None:
                if conn.session is not None:
                    self._forget(conn.session)
                await self._close(conn, 4003, "not authenticated")
                return
            self._authenticated_op(conn.session, op, d)
        else:
            await self._close(conn, 4001, "unknown opcode")

    def _authenticated_op(self, session: Session, op: int, d: Any) -> None:
        if op == 3:
            session.presence = d
            self.world.on_presence(session.bot_user_id, d)
        elif op == 4:
            self.world.on_bot_voice_state(session.bot_user_id, session.id, d)
        elif op == 8:
            self.world.on_request_members(session.bot_user_id, d)

    async def _identify(self, conn: Connection, d: Json) -> None:
        if conn.state is not ConnState.CONNECTED:
            await self._close(conn, 4005, "already authenticated")
            return
        bot_user_id = self.world.bot_for_token(str(d.get("token", "")))
        if bot_user_id is None:
            await self._close(conn, 4004, "authentication failed")
            return
        shard_raw = d.get("shard") or [0, 1]
        shard = (int(shard_raw[0]), int(shard_raw[1]))
        if shard[1] < 1 or not 0 <= shard[0] < shard[1]:
            await self._close(conn, 4010, "invalid shard")
            return
        if "intents" not in d:
            await self._close(conn, 4013, "invalid intents")
            return
        session = Session(
            id=secrets.token_hex(16),
            bot_user_id=bot_user_id,
            intents=int(d["intents"]),
            shard=shard,
            presence=d.get("presence"),
        )
        conn.session = session
        conn.state = ConnState.IDENTIFYING
        delay = self.ready_delays.get(shard[0], self.ready_delay)
        self._spawn(conn, self._release_ready(conn, session, delay))

    async def _release_ready(self, conn: Connection, session: Session, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if conn.state is not ConnState.IDENTIFYING:
            return
        guild_ids = [g for g in self.world.guild_ids_of(session.bot_user_id) if session.wants(g)]
        ready = self.world.ready_payload(session.bot_user_id, session.id, self.url, guild_ids, session.shard)
        self.sessions[session.id] = session
        session.connection = conn
        session.append("READY", ready)
        for gid in guild_ids:
            session.append("GUILD_CREATE", self.world.guild_create_payload(gid))
        conn.dispatch_open = True
        conn.wake()

    async def _resume(self, conn: Connection, d: Json) -> None:
        if conn.state is not ConnState.CONNECTED:
            await self._close(conn, 4005, "already authenticated")
            return
        session = self.sessions.get(str(d.get("session_id")))
        valid = (
            session is not None
            and not session.invalidated
            and self.world.bot_for_token(str(d.get("token", ""))) == session.bot_user_id
        )
        if session is None or not valid:
            self._control(conn, {"op": 9, "d": False})
            return
        seq = int(d.get("seq") or 0)
        if seq < session.buffer_start - 1 or seq > session.seq:
            self._control(conn, {"op": 9, "d": False})
            return
        old = session.connection
        if old is not None and old is not conn and old.state is not ConnState.CLOSED:
            await self._close(old, 4000, "session resumed elsewhere")
        conn.session = session
        conn.state = ConnState.RESUMING
        self._spawn(conn, self._release_resumed(conn, session, seq))

    async def _release_resumed(self, conn: Connection, session: Session, seq: int) -> None:
        if self.resumed_delay:
            await asyncio.sleep(self.resumed_delay)
        if conn.state is not ConnState.RESUMING:
            return
        session.connection = conn
        conn.sent_seq = seq
        session.append("RESUMED", {})
        conn.dispatch_open = True
        conn.wake()

    # ---------------------------------------------------------------- writing

    def _control(self, conn: Connection, payload: Json) -> None:
        payload.setdefault("s", None)
        payload.setdefault("t", None)
        conn.control.append(payload)
        conn.wake()

    async def _writer(self, conn: Connection) -> None:
        try:
            while not conn.closed:
                await conn.event.wait()
                conn.event.clear()
                while conn.control and not conn.closed:
                    await self._write(conn, conn.control.popleft())
                if conn.dispatch_open and conn.session is not None:
                    for payload in conn.session.since(conn.sent_seq):
                        if conn.closed:
                            break
                        await self._write(conn, payload)
                        conn.sent_seq = payload["s"]
                        if payload["t"] in ("READY", "RESUMED"):
                            conn.state = ConnState.READY
                            conn.authenticated = True
        except (ConnectionError, RuntimeError):
            log.debug("gateway writer for connection %s stopped", conn.id)

    async def _write(self, conn: Connection, payload: Json) -> None:
        self.log.append(
            GatewayFrame(
                time.time(),
                conn.id,
                conn.shard,
                "send",
                payload["op"],
                payload.get("t"),
                payload.get("d"),
                conn.authenticated,
            )
        )
        text = json.dumps(payload, separators=(",", ":"))
        if conn.compressor is not None:
            data = conn.compressor.compress(text.encode()) + conn.compressor.flush(zlib.Z_SYNC_FLUSH)
            await conn.ws.send_bytes(data)
        else:
            await conn.ws.send_str(text)

    # ---------------------------------------------------------------- closing

    def _spawn(self, conn: Connection, coro: Any) -> None:
        task = asyncio.create_task(coro)
        conn.tasks.add(task)
        task.add_done_callback(conn.tasks.discard)

    def _forget(self, session: Session) -> None:
        session.invalidated = True
        self.sessions.pop(session.id, None)

    async def _close(self, conn: Connection, code: int, reason: str) -> None:
        if conn.state is ConnState.CLOSED:
            return
        self._record_close(conn, code, reason, "server")
        if code in (4003, 4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014) and conn.session:
            self._forget(conn.session)
        with contextlib.suppress(Exception):
            await conn.ws.close(code=code, message=reason.encode())

    def _record_close(self, conn: Connection, code: int | None, reason: str, initiator: str) -> None:
        if conn.state is ConnState.CLOSED:
            return
        conn.state = ConnState.CLOSED
        conn.wake()
        if conn.session is not None and conn.session.connection is conn:
            conn.session.connection = None
        if initiator == "client" and code in (WSCloseCode.OK, WSCloseCode.GOING_AWAY) and conn.session:
            self._forget(conn.session)
        self.closes.append(GatewayClose(conn.id, conn.shard, code, reason, initiator, time.time()))
        self.world.changed()
