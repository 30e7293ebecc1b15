"""What `pytunes.core.gateway` assumes about discord.py at run time, observed on an unmodified client
(plain and sharded) logged in to simcord:

- the three senders reach the socket without suspending, so the guard's last check and the write are
  atomic on the event loop;
- connect/resumed/disconnect and their shard_* twins are dispatched with the names, arguments and order
  the guard relies on, and at each of them the published socket is the one the guard expects;
- a socket is published right after its IDENTIFY or RESUME, carrying a session id only when resuming
  (the guard infers "identifying" or "resuming" from that).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import discord
import pytest
from discord.gateway import DiscordWebSocket

from simcord import Channel, Guild, Simcord, SimUser
from simcord.client import fast_client_options, running
from simcord.world import Application

WATCHED = {"connect", "resumed", "disconnect", "shard_connect", "shard_resumed", "shard_disconnect"}
WATCHED |= {"message", "voice_state_update"}


@dataclass
class Seen:
    event: str
    args: tuple[Any, ...]
    socket: DiscordWebSocket | None  # what discord.py published for the shard at that moment
    open: bool
    session_id: str | None
    requests_sent: int  # op 8 frames simcord had received by then


class Recorder:
    """Logs watched dispatches together with the socket the library publishes at that moment."""

    events: list[Seen]
    identify_hooks: list[tuple[int | None, bool, int]]
    sim: Simcord

    def published(self) -> DiscordWebSocket | None:
        raise NotImplementedError

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        if event in WATCHED:
            ws = self.published()
            session = ws.session_id if ws is not None else None
            sent = len([f for f in self.sim.gateway_log if f.direction == "recv" and f.op == 8])
            self.events.append(Seen(event, args, ws, ws is not None and ws.open, session, sent))
        super().dispatch(event, *args, **kwargs)  # type: ignore[misc]

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        identifies = len([f for f in self.sim.gateway_log if f.op == 2])
        self.identify_hooks.append((shard_id, initial, identifies))

    def named(self, event: str) -> list[Seen]:
        return [e for e in self.events if e.event == event]


def options(sim: Simcord) -> dict[str, Any]:
    intents = discord.Intents.default()
    intents.members = intents.message_content = True
    return {"intents": intents, "chunk_guilds_at_startup": True, **fast_client_options()}


class PlainRecorder(Recorder, discord.Client):
    def __init__(self, sim: Simcord) -> None:
        super().__init__(**options(sim))
        self.sim, self.events, self.identify_hooks = sim, [], []

    def published(self) -> DiscordWebSocket | None:
        return self.ws


class ShardedRecorder(Recorder, discord.AutoShardedClient):
    def __init__(self, sim: Simcord) -> None:
        super().__init__(shard_count=1, **options(sim))
        self.sim, self.events, self.identify_hooks = sim, [], []

    def published(self) -> DiscordWebSocket | None:
        try:
            return discord.AutoShardedClient._get_websocket(self, shard_id=0)
        except KeyError:
            return None


@dataclass
class Setup:
    sim: Simcord
    app: Application
    alice: SimUser
    guild: Guild
    general: Channel
    music: Channel


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    async with Simcord() as sim:
        app = sim.create_application("Contract")
        alice = sim.create_user("alice")
        guild = sim.create_guild("Contract", alice)
        general = sim.create_text_channel(guild, "general")
        music = sim.create_voice_channel(guild, "Music")
        sim.add_bot(guild, app)
        yield Setup(sim, app, alice, guild, general, music)


CLIENTS: dict[str, Callable[[Simcord], Recorder]] = {"plain": PlainRecorder, "sharded": ShardedRecorder}


@pytest.mark.parametrize("kind", list(CLIENTS))
async def test_senders_reach_the_socket_without_suspending(setup: Setup, kind: str) -> None:
    sim = setup.sim
    client = CLIENTS[kind](sim)
    assert isinstance(client, discord.Client)
    async with running(client, sim.connection(setup.app)):
        ws = client.published() if isinstance(client, Recorder) else None
        assert ws is not None
        mark = len(sim.gateway_log)
        if isinstance(client, discord.AutoShardedClient):
            base = discord.AutoShardedClient.change_presence(client, activity=discord.Game("b"), shard_id=0)
        else:
            base = discord.Client.change_presence(client, activity=discord.Game("b"))
        for coro in (
            ws.change_presence(activity=discord.Game("a"), status="online"),
            ws.voice_state(setup.guild.id, setup.music.id),
            ws.request_chunks(setup.guild.id, query="al", limit=1, nonce="contract"),
            base,
        ):
            # One step of the coroutine: StopIteration means it finished without ever yielding to the
            # loop, so nothing can run between the guard's check and the write.
            with pytest.raises(StopIteration):
                coro.send(None)
        await sim.wait_for(lambda: len([f for f in sim.gateway_log[mark:] if f.op in (3, 4, 8)]) == 4)
        assert all(f.authenticated for f in sim.gateway_log[mark:] if f.op in (3, 4, 8))


@pytest.mark.parametrize("kind", list(CLIENTS))
async def test_events_and_the_socket_they_find(setup: Setup, kind: str) -> None:
    sim = setup.sim
    client = CLIENTS[kind](sim)
    sharded = kind == "sharded"
    connect, resumed, disconnect = (
        ("shard_connect", "shard_resumed", "shard_disconnect")
        if sharded
        else ("connect", "resumed", "disconnect")
    )
    shard_args = (0,) if sharded else ()
    assert isinstance(client, discord.Client)
    async with running(client, sim.connection(setup.app)):
        # Start-up: READY dispatches connect (plus shard_connect) while parsing it, on the published
        # socket, before any chunk request (simcord lists every member, so discord.py does not chunk at
        # start-up; test_discord_source checks the order in parse_ready itself).
        [first] = client.named(connect)
        assert first.args == shard_args
        assert first.open
        assert first.session_id is not None
        assert first.requests_sent == 0
        assert len(client.named("connect")) == 1
        assert client.identify_hooks == [(0 if sharded else None, True, 0)]

        # A dropped connection: disconnect comes while the old socket is still the published one, events
        # missed meanwhile are replayed before resumed, and resumed finds the new socket.
        mark = len(client.events)
        sim.gateway.resumed_delay = 0.2
        await sim.drop_connection()
        missed = [await setup.alice.send(setup.general, f"missed {i}") for i in range(2)]
        await sim.wait_for(lambda: client.named(resumed))
        after = client.events[mark:]
        names = [e.event for e in after]
        assert names.index(disconnect) < names.index(resumed)
        assert after[names.index(disconnect)].args == shard_args
        assert after[names.index(disconnect)].socket is first.socket
        replayed = [e for e in after[: names.index(resumed)] if e.event == "message"]
        assert [e.args[0].id for e in replayed] == [m.id for m in missed]
        [back] = client.named(resumed)
        assert back.args == shard_args
        assert back.socket is not first.socket
        assert back.open
        assert "resumed" in names

        # Published between RESUME and RESUMED: a new socket that already carries the session id.
        old = client.published()
        sim.send_reconnect()
        await sim.wait_for(
            lambda: client.published() is not old and any(f.op == 6 for f in sim.gateway_log[-5:])
        )
        resuming = client.published()
        assert resuming is not None
        assert resuming.session_id is not None
        assert len(client.named(resumed)) == 1, "published before RESUMED"
        await sim.wait_for(lambda: len(client.named(resumed)) == 2)
        assert client.named(resumed)[-1].socket is resuming

        # Published between IDENTIFY and READY (after op 9 false): a new socket with no session yet, and
        # the identify hook ran first, with initial=False.
        sim.gateway.ready_delay = 0.2
        old, hooks = client.published(), len(client.identify_hooks)
        sim.invalidate_session(resumable=False)
        await sim.wait_for(lambda: client.published() is not old)
        identifying = client.published()
        assert identifying is not None
        assert identifying.session_id is None
        assert [(shard, initial) for shard, initial, _ in client.identify_hooks[hooks:]] == [
            (0 if sharded else None, False)
        ]
        await sim.wait_for(lambda: len(client.named(connect)) == 2)
        assert client.named(connect)[-1].socket is identifying

        # The bot's own op 4 comes back as voice_state_update(member, before, after).
        guild = await sim.wait_for(lambda: client.get_guild(setup.guild.id))
        channel = guild.get_channel(setup.music.id)
        assert isinstance(channel, discord.VoiceChannel)
        await guild.change_voice_state(channel=channel)
        await sim.wait_for(lambda: client.named("voice_state_update"))
        member, _, state = client.named("voice_state_update")[-1].args
        assert client.user is not None
        assert member.id == client.user.id
        assert state.channel.id == setup.music.id
        assert asyncio.get_running_loop() is client.loop
