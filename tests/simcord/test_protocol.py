"""The gateway protocol on the wire: a raw aiohttp websocket client against simcord's gateway.

discord.py never breaks these rules, so they are provoked by hand here; the last tests check how an
unmodified discord.py client reacts to simcord's reconnect, zombie and heartbeat-ack faults.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from simcord.client import running
from tests.simcord.conftest import RecordingClient, World

# GUILDS, GUILD_MEMBERS, GUILD_VOICE_STATES, GUILD_MESSAGES, MESSAGE_CONTENT
INTENTS = 1 | 2 | 1 << 7 | 1 << 9 | 1 << 15
DEFAULT_INTERVAL_MS = 41250

Connect = Callable[..., Awaitable["RawGateway"]]  # the `gateway` fixture: connect(query) → RawGateway


class RawGateway:
    """One websocket connection that speaks the gateway protocol by hand."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, compressed: bool) -> None:
        self.ws = ws
        self.inflator = zlib.decompressobj() if compressed else None
        self.frames: list[bytes] = []  # raw binary frames, when compressed

    async def recv(self, timeout: float = 2.0) -> dict[str, Any]:
        msg = await self.ws.receive(timeout)
        if msg.type == aiohttp.WSMsgType.BINARY:
            assert self.inflator is not None, "binary frame without compression"
            self.frames.append(msg.data)
            return dict(json.loads(self.inflator.decompress(msg.data)))
        assert msg.type == aiohttp.WSMsgType.TEXT, f"expected a payload, got {msg.type!r} {msg.data!r}"
        return dict(json.loads(msg.data))

    async def recv_until(self, wanted: str, timeout: float = 2.0) -> list[dict[str, Any]]:
        """Payloads up to and including the dispatch named `wanted`."""
        seen = [await self.recv(timeout)]
        while seen[-1].get("t") != wanted:
            seen.append(await self.recv(timeout))
        return seen

    async def send(self, op: int, d: Any = None) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": d}))

    async def identify(self, token: str) -> dict[str, Any]:
        await self.send(2, {"token": token, "intents": INTENTS, "properties": {"os": "linux"}})
        return (await self.recv_until("READY"))[-1]

    async def closed_with(self, timeout: float = 2.0) -> int | None:
        """Read until the server closes the socket; its close code."""
        while True:
            msg = await self.ws.receive(timeout)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                return self.ws.close_code


@pytest.fixture
async def gateway(world: World) -> AsyncIterator[Connect]:
    """A factory for raw connections (HELLO already read); gateway knobs are restored afterwards."""
    sim = world.sim
    async with aiohttp.ClientSession() as session:
        sockets: list[aiohttp.ClientWebSocketResponse] = []

        async def connect(query: str = "?v=10&encoding=json") -> RawGateway:
            ws = await session.ws_connect(sim.gateway.url + query, max_msg_size=0)
            sockets.append(ws)
            conn = RawGateway(ws, "compress=zlib-stream" in query)
            hello = await conn.recv()
            assert hello["op"] == 10  # HELLO is always the first payload
            return conn

        try:
            yield connect
        finally:
            for ws in sockets:
                await ws.close()
            sim.gateway.heartbeat_interval_ms = DEFAULT_INTERVAL_MS
            sim.gateway.heartbeat_grace = 0.5
            sim.gateway.ack_heartbeats = True
            sim.gateway.resumed_delay = sim.gateway.ready_delay = 0.0


async def test_hello_comes_first_with_the_heartbeat_interval(world: World) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(world.sim.gateway.url) as ws:
        first = json.loads((await ws.receive(2)).data)
    assert first["op"] == 10
    assert first["d"]["heartbeat_interval"] == DEFAULT_INTERVAL_MS


async def test_heartbeat_before_identify_is_acknowledged(gateway: Connect, world: World) -> None:
    conn = await gateway()
    await conn.send(1, None)
    assert (await conn.recv())["op"] == 11
    ready = await conn.identify(world.app.token)  # the connection is still good
    assert ready["d"]["user"]["id"] == str(world.app.bot.id)


@pytest.mark.parametrize(
    ("op", "d"),
    [
        (3, {"since": None, "activities": [], "status": "online", "afk": False}),
        (4, {"guild_id": "1", "channel_id": None, "self_mute": False, "self_deaf": False}),
        (8, {"guild_id": "1", "query": "", "limit": 0}),
    ],
)
async def test_session_ops_before_identify_close_with_4003(gateway: Connect, op: int, d: Any) -> None:
    conn = await gateway()
    await conn.send(op, d)
    assert await conn.closed_with() == 4003


async def test_second_identify_closes_with_4005(gateway: Connect, world: World) -> None:
    conn = await gateway()
    await conn.identify(world.app.token)
    await conn.send(2, {"token": world.app.token, "intents": INTENTS, "properties": {}})
    assert await conn.closed_with() == 4005


async def test_bad_token_closes_with_4004(gateway: Connect) -> None:
    conn = await gateway()
    await conn.send(2, {"token": "not-a-token", "intents": INTENTS, "properties": {}})
    assert await conn.closed_with() == 4004


async def test_unknown_opcode_closes_with_4001(gateway: Connect) -> None:
    conn = await gateway()
    await conn.send(99, None)
    assert await conn.closed_with() == 4001


async def test_oversized_payload_closes_with_4002(gateway: Connect) -> None:
    conn = await gateway()
    await conn.send(1, "x" * 4100)
    assert await conn.closed_with() == 4002


async def test_more_than_120_sends_a_minute_close_with_4008(gateway: Connect, world: World) -> None:
    conn = await gateway()
    for _ in range(121):
        await conn.send(1, None)
    assert await conn.closed_with() == 4008
    assert world.sim.gateway_closes[-1].code == 4008


async def test_zlib_stream_shares_one_inflate_context(gateway: Connect, world: World) -> None:
    conn = await gateway("?v=10&encoding=json&compress=zlib-stream")
    await conn.identify(world.app.token)
    payloads = await conn.recv_until("GUILD_CREATE")
    assert len(conn.frames) >= 3  # HELLO, READY, GUILD_CREATE at least
    assert all(frame.endswith(b"\x00\x00\xff\xff") for frame in conn.frames)
    # A fresh inflater cannot read a later frame alone: the context really is shared.
    with pytest.raises(zlib.error):
        zlib.decompressobj().decompress(conn.frames[-1])
    assert payloads[-1]["t"] == "GUILD_CREATE"


async def test_resume_with_unknown_session_is_invalid_session_false(gateway: Connect, world: World) -> None:
    conn = await gateway()
    await conn.send(6, {"token": world.app.token, "session_id": "nope", "seq": 1})
    answer = await conn.recv()
    assert (answer["op"], answer["d"]) == (9, False)


async def test_resume_replays_missed_dispatches_in_order_then_resumed(gateway: Connect, world: World) -> None:
    first = await gateway()
    ready = await first.identify(world.app.token)
    created = await first.recv_until("GUILD_CREATE")
    seq = created[-1]["s"]
    await first.ws.close(code=4000)  # a non-1000 close keeps the session resumable
    missed = [await world.alice.send(world.general, f"missed {i}") for i in range(3)]
    second = await gateway()
    # Resume from one event past GUILD_CREATE: only dispatches with s > seq + 1 may come back.
    await second.send(6, {"token": world.app.token, "session_id": ready["d"]["session_id"], "seq": seq + 1})
    replayed = await second.recv_until("RESUMED")
    assert [p["s"] for p in replayed] == list(range(seq + 2, seq + 2 + len(replayed)))
    assert [p["d"]["id"] for p in replayed if p["t"] == "MESSAGE_CREATE"] == [str(m.id) for m in missed[1:]]


async def test_request_guild_members_answers_with_the_same_nonce(gateway: Connect, world: World) -> None:
    conn = await gateway()
    await conn.identify(world.app.token)
    await conn.recv_until("GUILD_CREATE")
    await conn.send(8, {"guild_id": str(world.guild.id), "query": "", "limit": 0, "nonce": "n-42"})
    chunk = (await conn.recv_until("GUILD_MEMBERS_CHUNK"))[-1]["d"]
    assert chunk["nonce"] == "n-42"
    assert {m["user"]["id"] for m in chunk["members"]} >= {str(world.alice.id), str(world.bob.id)}


async def test_presence_while_resumed_is_held_back_closes_with_4003(gateway: Connect, world: World) -> None:
    first = await gateway()
    ready = await first.identify(world.app.token)
    await first.ws.close(code=4000)
    world.sim.gateway.resumed_delay = 0.3
    second = await gateway()
    await second.send(6, {"token": world.app.token, "session_id": ready["d"]["session_id"], "seq": 1})
    await second.send(3, {"since": None, "activities": [], "status": "online", "afk": False})
    assert await second.closed_with() == 4003
    assert ready["d"]["session_id"] not in world.sim.gateway.sessions  # 4003 ends the session


async def test_silent_connection_is_closed_as_a_zombie_and_can_resume(gateway: Connect, world: World) -> None:
    world.sim.gateway.heartbeat_interval_ms = 100
    world.sim.gateway.heartbeat_grace = 0.05
    conn = await gateway()
    ready = await conn.identify(world.app.token)
    assert await conn.closed_with(timeout=1.0) == 4000  # after 0.15 s + grace without op 1
    close = world.sim.gateway_closes[-1]
    assert (close.code, close.initiator) == (4000, "server")
    again = await gateway()
    await again.send(6, {"token": world.app.token, "session_id": ready["d"]["session_id"], "seq": 1})
    assert (await again.recv_until("RESUMED"))[-1]["op"] == 0


async def test_reconnect_request_makes_discord_py_resume(world: World, client: RecordingClient) -> None:
    identifies, resumes = _sent_by_clients(world, op=2), _sent_by_clients(world, op=6)
    world.sim.send_reconnect()
    await asyncio.wait_for(client.resumed.wait(), 5)
    assert _sent_by_clients(world, op=6) == resumes + 1
    assert _sent_by_clients(world, op=2) == identifies


async def test_lost_heartbeat_acks_make_discord_py_resume(world: World) -> None:
    sim = world.sim
    sim.gateway.heartbeat_interval_ms = 100
    bot = RecordingClient(heartbeat_timeout=0.4)
    try:
        async with running(bot, sim.connection(world.app)):
            identifies, resumes = _sent_by_clients(world, op=2), _sent_by_clients(world, op=6)
            sim.gateway.ack_heartbeats = False  # nothing reaches the client any more
            await asyncio.wait_for(bot.resumed.wait(), 2)
            sim.gateway.ack_heartbeats = True
            assert _sent_by_clients(world, op=6) > resumes
            assert _sent_by_clients(world, op=2) == identifies
            assert any(c.code == 4000 and c.initiator == "client" for c in sim.gateway_closes)
    finally:
        sim.gateway.heartbeat_interval_ms = DEFAULT_INTERVAL_MS
        sim.gateway.ack_heartbeats = True


def _sent_by_clients(world: World, *, op: int) -> int:
    return sum(1 for f in world.sim.gateway_log if f.direction == "recv" and f.op == op)
