"""Promise 2 end to end: presence (op 3), voice state (op 4) and member requests (op 8) issued while
simcord holds READY or RESUMED back wait for it, go out once, and never cost a 4003.

simcord closes with 4003 on any of them before READY/RESUMED and logs, per frame, whether the
connection was authenticated; the unguarded client at the end shows it really does. The chaos test
(`test_gateway_chaos.py`) reuses the fixture and the observations defined here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from pytunes.bot import PyTunes
from pytunes.core.clock import ManualClock
from pytunes.core.gateway import GatewayGuardMixin, GatewayUnavailable
from pytunes.core.gateway_model import ShardState
from simcord import Channel, Guild, Simcord, SimUser
from simcord.client import fast_client_options, running
from simcord.gateway import GatewayFrame
from simcord.world import Application
from tests.e2e import conftest as e2e

GUARDED_OPS = (3, 4, 8)


@dataclass
class Race:
    sim: Simcord
    app: Application
    alice: SimUser
    guilds: dict[int, Guild]  # one guild per shard of a two-shard bot: shard id -> guild
    lounges: dict[int, Channel]
    texts: dict[int, Channel]
    database: Path

    @property
    def guild(self) -> Guild:
        return self.guilds[0]

    @property
    def lounge(self) -> Channel:
        return self.lounges[0]

    @property
    def text(self) -> Channel:
        return self.texts[0]

    def bot_voice_channel(self, guild: Guild) -> int | None:
        state = guild.voice_states.get(self.app.bot.id)
        return state.channel_id if state is not None else None


@pytest.fixture
async def race(tmp_path: Path) -> AsyncIterator[Race]:
    async with race_world(tmp_path / "pytunes.db") as world:
        yield world


@contextlib.asynccontextmanager
async def race_world(database: Path) -> AsyncIterator[Race]:
    """A fresh simcord with two guilds, one on each shard of a two-shard bot."""
    async with Simcord() as sim:
        app = sim.create_application("PyTunes")
        alice = sim.create_user("alice")
        guilds: dict[int, Guild] = {}
        while len(guilds) < 2:
            # A guild's shard comes from its snowflake's timestamp; wait for the next millisecond.
            guild = sim.create_guild(f"Guild {len(guilds)}", alice)
            if (guild.id >> 22) % 2 not in guilds:
                guilds[(guild.id >> 22) % 2] = guild
                sim.add_bot(guild, app)
            await asyncio.sleep(0.002)
        lounges = {shard: sim.create_voice_channel(g, "Lounge") for shard, g in guilds.items()}
        texts = {shard: sim.create_text_channel(g, "general") for shard, g in guilds.items()}
        yield Race(sim, app, alice, guilds, lounges, texts, database)


@contextlib.asynccontextmanager
async def started(race: Race, *, shards: int | None = None, **options: Any) -> AsyncIterator[PyTunes]:
    """PyTunes logging in to simcord in the background (not waiting for READY), closed on exit."""
    settings = e2e.test_settings(race.sim, race.app, race.database).model_copy(update={"shard_count": shards})
    options = {"guild_ready_timeout": 0.05, "identify_delay": 0.0, **options}
    bot = PyTunes(settings, clock=ManualClock(), **options)
    assert settings.token is not None
    task = asyncio.create_task(bot.start(settings.token))
    try:
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


# ---------------------------------------------------------------- observations


def frames(sim: Simcord, since: int, *ops: int, direction: str = "recv") -> list[GatewayFrame]:
    return [f for f in sim.gateway_log[since:] if f.direction == direction and f.op in ops]


def dispatched(sim: Simcord, since: int, event: str, shard: int | None = None) -> list[GatewayFrame]:
    return [
        f
        for f in frames(sim, since, 0, direction="send")
        if f.t == event and (shard is None or f.shard == shard)
    ]


def identifies(sim: Simcord, since: int, shard: int = 0) -> list[GatewayFrame]:
    return [f for f in frames(sim, since, 2) if (f.d.get("shard") or [0])[0] == shard]


def closes_4003(sim: Simcord) -> list[Any]:
    return [c for c in sim.gateway_closes if c.code == 4003]


def presences_named(sim: Simcord, since: int, name: str) -> list[GatewayFrame]:
    return [f for f in frames(sim, since, 3) if [a.get("name") for a in f.d["activities"]] == [name]]


def chunks_with(sim: Simcord, nonce: str) -> list[GatewayFrame]:
    return [f for f in dispatched(sim, 0, "GUILD_MEMBERS_CHUNK") if f.d.get("nonce") == nonce]


def nonces(sim: Simcord, since: int) -> list[str]:
    return [f.d["nonce"] for f in frames(sim, since, 8) if f.d.get("nonce")]


def connections(sim: Simcord, since: int) -> set[int]:
    return {f.conn_id for f in sim.gateway_log[since:]}


def assert_all_authenticated(sim: Simcord, since: int) -> None:
    early = [(f.op, f.conn_id) for f in frames(sim, since, *GUARDED_OPS) if not f.authenticated]
    assert early == [], "op 3/4/8 reached simcord before READY/RESUMED"


def activity_names(sim: Simcord, app: Application) -> list[str]:
    presence = sim.presence(app) or {}
    return [a.get("name") for a in presence.get("activities", [])]


@contextlib.contextmanager
def no_4003(sim: Simcord) -> Iterator[None]:
    before = len(closes_4003(sim))
    yield
    assert closes_4003(sim)[before:] == []


# ---------------------------------------------------------------- races with the guard


async def test_initial_identify_race(race: Race) -> None:
    """READY held 500 ms on the very first session: presence, op 4 and op 8 (through the socket
    discord.py's own voice and chunking code gets) all wait for it."""
    sim = race.sim
    sim.gateway.ready_delay = 0.5
    with no_4003(sim):
        async with started(race) as bot:
            await sim.wait_for(lambda: identifies(sim, 0))
            await sim.wait_for(lambda: bot.gateway_guard.state(0) is ShardState.IDENTIFYING)
            assert dispatched(sim, 0, "READY") == []
            ws = bot._get_websocket(race.guild.id)
            await asyncio.wait_for(
                asyncio.gather(
                    bot.change_presence(activity=discord.Game("early bird")),
                    ws.voice_state(race.guild.id, race.lounge.id),
                    ws.request_chunks(race.guild.id, query="al", limit=5, nonce="initial-race"),
                ),
                5,
            )
            await sim.wait_for(lambda: chunks_with(sim, "initial-race"))
            assert_all_authenticated(sim, 0)
            assert len(presences_named(sim, 0, "early bird")) == 1
            assert activity_names(sim, race.app) == ["early bird"]
            assert len(frames(sim, 0, 4)) == 1
            assert race.bot_voice_channel(race.guild) == race.lounge.id
            assert nonces(sim, 0) == ["initial-race"]
            assert len(chunks_with(sim, "initial-race")) == 1
            assert len(connections(sim, 0)) == 1


@pytest.mark.parametrize("disruption", ["reconnect", "invalid-session"])
async def test_reconnect_race(race: Race, disruption: str) -> None:
    """Op 7 (RESUMED held 500 ms) or op 9 false (READY held 500 ms) on a running bot: a presence
    change, a voice join and a member query issued mid-handshake complete once, after it."""
    sim = race.sim
    with no_4003(sim):
        async with started(race) as bot:
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            guild = bot.get_guild(race.guild.id)
            assert guild is not None
            lounge = guild.get_channel(race.lounge.id)
            assert isinstance(lounge, discord.VoiceChannel)
            mark, identified = len(sim.gateway_log), len(identifies(sim, 0))
            if disruption == "reconnect":
                sim.gateway.resumed_delay = 0.5
                sim.send_reconnect()
                handshake, held = ShardState.RESUMING, "RESUMED"
            else:
                sim.gateway.ready_delay = 0.5
                sim.invalidate_session(resumable=False)
                handshake, held = ShardState.IDENTIFYING, "READY"
            await sim.wait_for(lambda: bot.gateway_guard.state(0) is handshake)
            assert dispatched(sim, mark, held) == []
            members, *_ = await asyncio.wait_for(
                asyncio.gather(
                    guild.query_members(query="al", limit=5),
                    bot.change_presence(activity=discord.Game(f"after {disruption}")),
                    guild.change_voice_state(channel=lounge),
                ),
                5,
            )
            assert [m.id for m in members] == [race.alice.id]
            assert_all_authenticated(sim, mark)
            released = dispatched(sim, mark, held)[0].at
            assert all(f.at >= released for f in frames(sim, mark, *GUARDED_OPS))
            assert len(presences_named(sim, mark, f"after {disruption}")) == 1
            assert len(frames(sim, mark, 4)) == 1
            await sim.wait_for(lambda: race.bot_voice_channel(race.guild) == race.lounge.id)
            [nonce] = nonces(sim, mark)
            assert len(chunks_with(sim, nonce)) == 1
            # One disruption, one new connection: nothing was refused, so nothing was redone.
            assert len(connections(sim, mark)) == 2
            expected_identifies = identified + (disruption == "invalid-session")
            assert len(identifies(sim, 0)) == expected_identifies


async def test_two_shards_one_still_identifying(race: Race) -> None:
    """shard_count=2, shard 1's READY held 500 ms at start-up: a presence change reaches shard 0 at once
    and shard 1 after its READY; op 4 and op 8 follow the shard of their guild."""
    sim = race.sim
    sim.gateway.ready_delays = {1: 0.5}
    with no_4003(sim):
        async with started(race, shards=2) as bot:
            await sim.wait_for(lambda: dispatched(sim, 0, "READY", shard=0) and identifies(sim, 0, shard=1))
            await sim.wait_for(lambda: bot.gateway_guard.state(1) is ShardState.IDENTIFYING)
            assert bot.gateway_guard.state(0) is ShardState.READY
            assert dispatched(sim, 0, "READY", shard=1) == []
            sends = [bot.change_presence(activity=discord.Game("both shards"))]
            for shard, guild in race.guilds.items():
                ws = bot._get_websocket(guild.id)
                sends.append(ws.voice_state(guild.id, race.lounges[shard].id))
                sends.append(ws.request_chunks(guild.id, query="al", limit=5, nonce=f"shard-{shard}"))
            await asyncio.wait_for(asyncio.gather(*sends), 5)
            assert_all_authenticated(sim, 0)
            shard1_ready = dispatched(sim, 0, "READY", shard=1)[0].at
            for shard in (0, 1):
                on_shard = [f for f in frames(sim, 0, *GUARDED_OPS) if f.shard == shard]
                assert sorted(f.op for f in on_shard) == [3, 4, 8]
                # Sent concurrently: the shard that was ready did not wait for the other one.
                assert all((f.at < shard1_ready) == (shard == 0) for f in on_shard)
                await sim.wait_for(functools.partial(chunks_with, sim, f"shard-{shard}"))
                assert len(chunks_with(sim, f"shard-{shard}")) == 1
            assert len(presences_named(sim, 0, "both shards")) == 2
            for shard, guild in race.guilds.items():
                assert race.bot_voice_channel(guild) == race.lounges[shard].id


async def test_two_shards_one_reidentifying(race: Race) -> None:
    """Both shards up, then shard 1 gets op 9 false with READY held 500 ms: its guild's voice join and
    member query wait for it; shard 0's go through at once."""
    sim = race.sim
    with no_4003(sim):
        async with started(race, shards=2) as bot:
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            guilds = {shard: bot.get_guild(g.id) for shard, g in race.guilds.items()}
            mark = len(sim.gateway_log)
            sim.gateway.ready_delays = {1: 0.5}
            sim.invalidate_session(resumable=False, shard=1)
            await sim.wait_for(lambda: bot.gateway_guard.state(1) is ShardState.IDENTIFYING)
            calls = []
            for shard, cached in guilds.items():
                assert cached is not None
                lounge = cached.get_channel(race.lounges[shard].id)
                assert isinstance(lounge, discord.VoiceChannel)
                calls += [
                    cached.change_voice_state(channel=lounge),
                    cached.query_members(query="al", limit=5),
                ]
            results = await asyncio.wait_for(asyncio.gather(*calls), 5)
            assert [[m.id for m in r] for r in results if r is not None] == [[race.alice.id]] * 2
            assert_all_authenticated(sim, mark)
            ready = dispatched(sim, mark, "READY", shard=1)[0].at
            assert all((f.at < ready) == (f.shard == 0) for f in frames(sim, mark, 4, 8))
            for shard, guild in race.guilds.items():
                assert race.bot_voice_channel(guild) == race.lounges[shard].id


async def test_waits_are_bounded(race: Race) -> None:
    """READY held longer than the send timeout: the caller gets GatewayUnavailable in time; a presence
    stays desired and is applied once the shard is ready."""
    sim = race.sim
    with no_4003(sim):
        # Presence writes paced 0.5 s apart (12 s by default), so the last one follows within the wait.
        async with started(race, gateway_send_timeout=0.3, presence_interval=0.5) as bot:
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            guild = bot.get_guild(race.guild.id)
            assert guild is not None
            lounge = guild.get_channel(race.lounge.id)
            mark = len(sim.gateway_log)
            sim.gateway.ready_delay = 1.0
            sim.invalidate_session(resumable=False)
            await sim.wait_for(lambda: bot.gateway_guard.state(0) is ShardState.IDENTIFYING)
            loop = asyncio.get_running_loop()
            for call in (
                guild.change_voice_state(channel=lounge),
                bot.change_presence(activity=discord.Game("patience")),
            ):
                began = loop.time()
                with pytest.raises(GatewayUnavailable):
                    await asyncio.wait_for(call, 2)
                assert 0.25 < loop.time() - began < 0.6
            assert frames(sim, mark, 3, 4) == []
            await sim.wait_for(lambda: presences_named(sim, mark, "patience"), timeout=3)
            assert_all_authenticated(sim, mark)
            assert frames(sim, mark, 4) == [], "a voice state that timed out is not sent behind the caller"
            bot.want_presence(activity=discord.Game("no waiting"))  # synchronous: for fire-and-forget callers
            await sim.wait_for(lambda: activity_names(sim, race.app) == ["no waiting"])


async def test_writes_lost_to_a_racing_close_are_redone(race: Race) -> None:
    """simcord closes the connection while the bot writes: the writes "succeed" into a socket whose
    close frame the bot has not read yet and simcord never processes them. Their effect still happens
    once: after RESUMED, presence is re-applied, the unconfirmed voice join is re-sent, and the member
    request goes again with the same nonce."""
    sim = race.sim
    with no_4003(sim):
        async with started(race) as bot:
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            guild = bot.get_guild(race.guild.id)
            assert guild is not None
            lounge = guild.get_channel(race.lounge.id)
            mark = len(sim.gateway_log)
            closing = asyncio.create_task(sim.close_connection(4000))
            await asyncio.sleep(0)  # simcord has closed and sent its close frame; the bot has not read it
            assert bot.gateway_guard.state(0) is ShardState.READY
            query = asyncio.create_task(guild.query_members(query="al", limit=5))
            await guild.change_voice_state(channel=lounge)
            await bot.change_presence(activity=discord.Game("raced"))
            await asyncio.sleep(0)
            assert frames(sim, mark, *GUARDED_OPS) == [], "the writes went nowhere"
            [asked] = [r.nonce for r in bot._connection._chunk_requests.values()]
            await closing
            members = await asyncio.wait_for(query, 5)
            assert [m.id for m in members] == [race.alice.id]
            await sim.wait_for(lambda: race.bot_voice_channel(race.guild) == race.lounge.id)
            await sim.wait_for(lambda: activity_names(sim, race.app) == ["raced"])
            resumed = dispatched(sim, mark, "RESUMED")[0]
            redone = frames(sim, mark, *GUARDED_OPS)
            assert sorted(f.op for f in redone) == [3, 4, 8]
            assert {f.conn_id for f in redone} == {resumed.conn_id}
            assert_all_authenticated(sim, mark)
            assert nonces(sim, mark) == [asked], "re-sent with the nonce discord.py is waiting on"
            assert len(chunks_with(sim, asked)) == 1


# ---------------------------------------------------------------- the simulator is honest


class UnguardedClient(discord.Client):
    """discord.py as shipped: no guard. Only the identify pause is dropped, as in tests/simcord."""

    def __init__(self, **options: Any) -> None:
        intents = discord.Intents.default()
        super().__init__(intents=intents, **fast_client_options(), **options)  # type: ignore[arg-type]

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


class GuardedClient(GatewayGuardMixin, UnguardedClient):
    """The same client with the guard: also covers the unsharded connect/resumed/disconnect path."""


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
async def test_the_same_race_with_and_without_the_guard(race: Race, guarded: bool) -> None:
    """The reconnect race on a plain discord.Client: a presence change right after RESUME, before
    RESUMED. Unguarded, simcord closes with 4003 and the session is lost (RESUME refused, new IDENTIFY);
    guarded, the change waits and the disruption costs one new connection."""
    sim = race.sim
    client = GuardedClient(identify_delay=0.0) if guarded else UnguardedClient()
    async with running(client, sim.connection(race.app)):
        old_ws, mark, closes = client.ws, len(sim.gateway_log), len(closes_4003(sim))
        sim.gateway.resumed_delay = 0.5
        sim.send_reconnect()
        await sim.wait_for(lambda: client.ws is not old_ws and frames(sim, mark, 6))
        assert not dispatched(sim, mark, "RESUMED")
        await client.change_presence(activity=discord.Game("right after RESUME"))
        if guarded:
            assert dispatched(sim, mark, "RESUMED"), "the guarded call returned only after RESUMED"
            await sim.wait_for(lambda: activity_names(sim, race.app) == ["right after RESUME"])
            assert_all_authenticated(sim, mark)
            assert closes_4003(sim)[closes:] == []
            assert len(connections(sim, mark)) == 2
        else:
            await sim.wait_for(lambda: closes_4003(sim)[closes:])
            assert len([f for f in frames(sim, mark, 3) if not f.authenticated]) == 1
            await sim.wait_for(lambda: dispatched(sim, mark, "READY"), timeout=10)
            assert len(connections(sim, mark)) >= 3, "the 4003 costs the session"
