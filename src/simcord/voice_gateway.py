"""The voice gateway: v8 websockets, voice sessions, RESUME with replay, and the close codes.

One `VoiceGateway` serves every endpoint of a `VoiceServer` (`simcord.voice`); the endpoint a
connection came in on is recorded with it. A voice *session* (guild, user, session id, token) outlives
its websocket connections: server messages that may need replaying are numbered (`seq`) and buffered,
so a client that RESUMEs after a crash (close 4015) gets RESUMED and whatever came after its `seq_ack`.
Opcodes and close codes: docs/discord-notes.md, 'The voice handshake' and 'Voice close codes'.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from simcord.voice_udp import UdpPeer

if TYPE_CHECKING:
    from simcord.world import World

Json = dict[str, Any]

HOST = "127.0.0.1"
# The only mode simcord can decrypt; discord.py picks the first offered mode it supports.
MODES = ("aead_xchacha20_poly1305_rtpsize",)
REPLAY_LIMIT = 256
HELLO, READY, HEARTBEAT_ACK, SESSION_DESCRIPTION, RESUMED = 8, 2, 6, 4, 9


@dataclass(frozen=True)
class VoiceFrame:
    """A voice websocket message in either direction; binary (DAVE) frames have `d` None."""

    at: float
    conn_id: int
    guild_id: int | None
    direction: str  # "recv" (client → simcord) or "send"
    op: int
    d: Any
    seq: int | None = None


@dataclass(frozen=True)
class SpeakingEvent:
    at: float
    guild_id: int
    user_id: int
    ssrc: int
    speaking: int  # bit mask: 1 microphone, 2 soundshare, 4 priority


@dataclass(eq=False)
class VoiceSession:
    guild_id: int
    user_id: int
    session_id: str
    token: str
    peer: UdpPeer
    max_dave_protocol_version: int = 0
    mode: str | None = None
    seq: int = 0
    seq_ack: int = -1
    outbox: deque[Json] = field(default_factory=lambda: deque(maxlen=REPLAY_LIMIT))
    connection: VoiceConnection | None = None

    @property
    def ssrc(self) -> int:
        return self.peer.ssrc


@dataclass(eq=False)
class VoiceConnection:
    """One voice websocket, live or closed: also the connection/close log entry."""

    id: int
    endpoint: str
    ws: web.WebSocketResponse = field(repr=False)
    opened_at: float
    session: VoiceSession | None = None
    resumed: bool = False
    closed_at: float | None = None
    close_code: int | None = None
    close_reason: str = ""
    initiator: str = ""  # "server", "client" or "drop" once closed
    last_heartbeat: float = field(default_factory=time.monotonic)

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def guild_id(self) -> int | None:
        return self.session.guild_id if self.session else None


class VoiceGateway:
    """The websocket side of the voice server, and the session table UDP looks SSRCs up in."""

    def __init__(self, world: World, *, heartbeat_interval_ms: int = 13_750) -> None:
        self.world = world
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.heartbeat_grace = 2.0  # seconds past 1.5 intervals before a silent socket times out
        self.modes: tuple[str, ...] = MODES
        self.udp_port = 0
        self.frames: list[VoiceFrame] = []
        self.connections: list[VoiceConnection] = []
        self.speaking: list[SpeakingEvent] = []
        self.sessions: dict[tuple[int, int], VoiceSession] = {}
        self.peers: dict[int, UdpPeer] = {}
        self._tokens: dict[tuple[int, int], str] = {}
        self._world_issues_tokens = False
        self._conn_ids = itertools.count(1)
        self._ssrcs = itertools.count(1001)
        self._tasks: set[asyncio.Task[None]] = set()

    # ---------------------------------------------------------------- tokens

    def issue_token(self, guild_id: int, user_id: int, *, from_world: bool = False) -> str:
        """A fresh voice token for (guild, user), remembered so IDENTIFY and RESUME can check it.

        Until the world hands its tokens out through here (`from_world`), any token is accepted from
        a user whose voice state and session id match: simcord cannot see tokens it did not make.
        """
        self._world_issues_tokens = self._world_issues_tokens or from_world
        token = secrets.token_hex(8)
        self._tokens[(guild_id, user_id)] = token
        return token

    def _token_ok(self, guild_id: int, user_id: int, token: str) -> bool:
        expected = self._tokens.get((guild_id, user_id))
        if expected is not None and secrets.compare_digest(expected, token):
            return True
        return bool(token) and not self._world_issues_tokens

    # ---------------------------------------------------------------- table

    def live(self, guild_id: int | None = None) -> list[VoiceConnection]:
        return [c for c in self.connections if not c.closed and (guild_id is None or c.guild_id == guild_id)]

    def forget(self, session: VoiceSession) -> None:
        """End a session: it can no longer be resumed and its SSRC's packets are refused."""
        if self.sessions.get((session.guild_id, session.user_id)) is session:
            del self.sessions[(session.guild_id, session.user_id)]
        self.peers.pop(session.ssrc, None)

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _log(self, conn: VoiceConnection, direction: str, op: int, d: Any, seq: int | None = None) -> None:
        self.frames.append(VoiceFrame(time.monotonic(), conn.id, conn.guild_id, direction, op, d, seq))
        self.world.changed()

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- websocket

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        # timeout: how long a server-side close waits for the client's close frame.
        ws = web.WebSocketResponse(timeout=2.0, autoclose=False, autoping=True, max_msg_size=1 << 20)
        await ws.prepare(request)
        sockname = request.transport.get_extra_info("sockname") if request.transport else (HOST, 0)
        conn = VoiceConnection(
            id=next(self._conn_ids),
            endpoint=f"{sockname[0]}:{sockname[1]}",
            ws=ws,
            opened_at=time.monotonic(),
        )
        self.connections.append(conn)
        if request.query.get("v") != "8":
            # Only v8 is simulated: older versions lack seq/seq_ack and buffered resume.
            await self.close(conn, 4020, "simcord speaks voice gateway v8 only")
            return ws
        await self._send(conn, HELLO, {"heartbeat_interval": self.heartbeat_interval_ms})
        self._spawn(self._watch_heartbeats(conn))
        try:
            while not conn.closed:
                # Not `async for`: it swallows the CLOSE frame, and the close code is an observation.
                msg = await ws.receive()
                if msg.type == WSMsgType.TEXT:
                    await self._receive(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    # DAVE's binary opcodes (26 key package, 28 commit/welcome) mean nothing at
                    # protocol version 0: logged, never answered.
                    self._log(conn, "recv", msg.data[0] if msg.data else -1, None)
                elif msg.type == WSMsgType.CLOSE:
                    self._record_close(conn, msg.data, msg.extra or "", "client")
                else:
                    break
        finally:
            self._record_close(conn, None, "connection lost", "drop")
            with contextlib.suppress(Exception):
                await ws.close()
        return ws

    async def _watch_heartbeats(self, conn: VoiceConnection) -> None:
        timeout = self.heartbeat_interval_ms / 1000 * 1.5 + self.heartbeat_grace
        while not conn.closed:
            remaining = conn.last_heartbeat + timeout - time.monotonic()
            if remaining <= 0:
                await self.close(conn, 4009, "session timeout")
                return
            await asyncio.sleep(remaining)

    async def _receive(self, conn: VoiceConnection, raw: str) -> None:
        try:
            payload = json.loads(raw)
            op, d = int(payload["op"]), payload.get("d")
        except (ValueError, KeyError, TypeError):
            await self.close(conn, 4002, "failed to decode payload")
            return
        self._log(conn, "recv", op, d)
        try:
            await self._dispatch(conn, op, d)
        except (KeyError, TypeError, ValueError) as exc:
            await self.close(conn, 4020, f"bad request: {exc!r}")

    async def _dispatch(self, conn: VoiceConnection, op: int, d: Any) -> None:
        if op == 3:
            conn.last_heartbeat = time.monotonic()
            if conn.session is not None and isinstance(d, dict):
                conn.session.seq_ack = _seq_ack(d)
            await self._send(conn, HEARTBEAT_ACK, {"t": d["t"]} if isinstance(d, dict) else d)
        elif op == 0:
            await self._identify(conn, d)
        elif op == 7:
            await self._resume(conn, d)
        elif conn.session is None:
            await self.close(conn, 4003, "not authenticated")
        elif op == 1:
            await self._select_protocol(conn, conn.session, d)
        elif op == 5:
            session = conn.session
            self.speaking.append(
                SpeakingEvent(
                    time.monotonic(),
                    session.guild_id,
                    session.user_id,
                    int(d.get("ssrc", session.ssrc)),
                    int(d["speaking"]),
                )
            )
        elif op in (23, 31):
            pass  # DAVE transition ready / invalid commit: nothing to transition at version 0
        else:
            await self.close(conn, 4001, "unknown opcode")

    async def _identify(self, conn: VoiceConnection, d: Json) -> None:
        if conn.session is not None:
            await self.close(conn, 4005, "already authenticated")
            return
        guild_id, user_id = int(d["server_id"]), int(d["user_id"])
        session_id, token = str(d["session_id"]), str(d["token"])
        guild = self.world.guilds.get(guild_id)
        state = guild.voice_states.get(user_id) if guild else None
        if state is None or state.channel_id is None or state.session_id != session_id:
            await self.close(conn, 4004, "no such voice state for this session")
            return
        if not self._token_ok(guild_id, user_id, token):
            await self.close(conn, 4004, "authentication failed")
            return
        previous = self.sessions.get((guild_id, user_id))
        if previous is not None:
            self.forget(previous)
        peer = UdpPeer(guild_id, user_id, next(self._ssrcs))
        session = VoiceSession(
            guild_id,
            user_id,
            session_id,
            token,
            peer,
            max_dave_protocol_version=int(d.get("max_dave_protocol_version") or 0),
        )
        self.sessions[(guild_id, user_id)] = session
        self.peers[peer.ssrc] = peer
        conn.session, session.connection = session, conn
        ready = {"ssrc": peer.ssrc, "ip": HOST, "port": self.udp_port, "modes": list(self.modes)}
        await self._send(conn, READY, ready)

    async def _select_protocol(self, conn: VoiceConnection, session: VoiceSession, d: Json) -> None:
        if d.get("protocol") != "udp":
            await self.close(conn, 4012, "unknown protocol")
            return
        mode = d["data"]["mode"]
        if mode not in self.modes:
            await self.close(conn, 4016, "unknown encryption mode")
            return
        session.mode = mode
        session.peer.set_key(secrets.token_bytes(32))
        await self._describe(conn, session)

    async def _describe(self, conn: VoiceConnection, session: VoiceSession) -> None:
        assert session.peer.key is not None
        description = {
            "mode": session.mode,
            "secret_key": list(session.peer.key),
            # Transport encryption only: DAVE (MLS) is not simulated, and discord.py is happy with 0.
            "dave_protocol_version": 0,
            "audio_codec": "opus",
            "video_codec": None,
            "media_session_id": secrets.token_hex(16),
        }
        await self._send(conn, SESSION_DESCRIPTION, description)

    async def _resume(self, conn: VoiceConnection, d: Json) -> None:
        if conn.session is not None:
            await self.close(conn, 4005, "already authenticated")
            return
        guild_id, session_id = int(d["server_id"]), str(d["session_id"])
        session = next(
            (s for s in self.sessions.values() if s.guild_id == guild_id and s.session_id == session_id),
            None,
        )
        if session is None or not self._token_ok(guild_id, session.user_id, str(d["token"])):
            await self.close(conn, 4006, "session no longer valid")
            return
        seq_ack = _seq_ack(d)
        oldest = session.outbox[0]["seq"] if session.outbox else session.seq + 1
        if seq_ack < oldest - 1 or seq_ack > session.seq:
            # A missed message is no longer buffered: the client must start over (docs/discord-notes.md,
            # 'Voice close codes').
            await self.close(conn, 4006, "cannot replay from this seq_ack")
            return
        old = session.connection
        if old is not None and old is not conn and not old.closed:
            await self.close(old, 4006, "session resumed elsewhere")
        conn.session, session.connection, conn.resumed = session, conn, True
        await self._send(conn, RESUMED, None)
        for payload in [p for p in session.outbox if p["seq"] > seq_ack]:
            await self._write(conn, payload)
        if session.peer.key is not None:
            # discord.py 2.7 waits for a secret key on every new socket, a resumed one included
            # (voice_state.py `_handshake_websocket`); the key is unchanged, so UDP never notices.
            await self._describe(conn, session)

    # ---------------------------------------------------------------- writing and closing

    async def _send(self, conn: VoiceConnection, op: int, d: Any) -> None:
        payload: Json = {"op": op, "d": d}
        session = conn.session
        if session is not None and op not in (HELLO, HEARTBEAT_ACK, RESUMED):
            # v8 numbers what may need replaying; replies to this very socket are not numbered.
            session.seq += 1
            payload["seq"] = session.seq
            session.outbox.append(payload)
        await self._write(conn, payload)

    async def _write(self, conn: VoiceConnection, payload: Json) -> None:
        if conn.closed:
            return
        self._log(conn, "send", payload["op"], payload["d"], payload.get("seq"))
        with contextlib.suppress(ConnectionError, RuntimeError):
            await conn.ws.send_str(json.dumps(payload, separators=(",", ":")))

    async def close(self, conn: VoiceConnection, code: int, reason: str) -> None:
        if conn.closed:
            return
        self._record_close(conn, code, reason, "server")
        with contextlib.suppress(Exception):
            await conn.ws.close(code=code, message=reason.encode())

    def _record_close(self, conn: VoiceConnection, code: int | None, reason: str, initiator: str) -> None:
        if conn.closed:
            return
        conn.closed_at, conn.close_code, conn.close_reason, conn.initiator = (
            time.monotonic(),
            code,
            reason,
            initiator,
        )
        session = conn.session
        if session is not None and session.connection is conn:
            session.connection = None
            # A normal close from the client ends the call; anything else leaves it resumable.
            if initiator == "client" and code == 1000:
                self.forget(session)
        self.world.changed()


def _seq_ack(d: Json) -> int:
    """The last numbered message a client saw; -1 (or a missing/null field) means none."""
    value = d.get("seq_ack")
    return -1 if value is None else int(value)
