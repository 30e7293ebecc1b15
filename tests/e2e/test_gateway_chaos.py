"""Gateway chaos: 50 seeded random faults (drop, op 7, op 9 true/false, heartbeat-ACK loss, a server
close racing a write) while presence changes, voice state changes and member requests keep coming."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from pytunes.core.gateway import GatewayUnavailable
from pytunes.core.interactions import ClickStream
from simcord import Outcome, Simcord
from simcord.gateway import ConnState
from tests.e2e.test_gateway_races import (
    Race,
    activity_names,
    assert_all_authenticated,
    connections,
    frames,
    no_4003,
    race_world,
    started,
)

FAULTS = ("drop", "reconnect", "invalid-true", "invalid-false", "ack-loss", "close-racing-write")
SEND_TIMEOUT = 5.0


@pytest.fixture
async def race(tmp_path: Path) -> AsyncIterator[Race]:
    async with race_world(tmp_path / "pytunes.db") as world:
        yield world


@pytest.mark.slow
async def test_gateway_chaos(race: Race) -> None:
    """50 seeded random gateway faults while presence, voice and member requests keep coming: no 4003,
    the last presence and the last voice state win, and no call outlives its deadline."""
    sim, rng, loop = race.sim, random.Random(20260512), asyncio.get_running_loop()
    # Short heartbeats so that losing their ACKs makes discord.py reconnect (after heartbeat_timeout).
    sim.gateway.heartbeat_interval_ms = 500
    stage = sim.create_voice_channel(race.guild, "Stage")
    calls: list[tuple[str, float, str]] = []
    want: dict[str, Any] = {"presence": None, "voice": None}
    found: list[list[int]] = []
    stop = asyncio.Event()

    async def timed(kind: str, call: Any) -> tuple[bool, Any]:
        began = loop.time()
        try:
            result = await call
        except GatewayUnavailable:
            calls.append((kind, loop.time() - began, "unavailable"))
            return False, None
        calls.append((kind, loop.time() - began, "ok"))
        return True, result

    async def set_presence(name: str) -> None:
        want["presence"] = name  # the keeper records it before the call's first await, in this order
        await timed("presence", bot.change_presence(activity=discord.Game(name)))

    async def presences() -> None:
        for i in itertools.count():
            if stop.is_set():
                return
            await set_presence(f"chaos {i}")
            await asyncio.sleep(rng.uniform(0.1, 0.4))

    async def voices() -> None:
        while not stop.is_set():
            guild = bot.get_guild(race.guild.id)
            target = rng.choice([race.lounge.id, stage.id, None])
            channel = guild.get_channel(target) if guild and target else None
            if guild is not None and (channel is not None or target is None):
                sent, _ = await timed("voice", guild.change_voice_state(channel=channel))
                if sent:  # one that timed out was never written, so it is not the last requested
                    want["voice"] = target
            await asyncio.sleep(rng.uniform(0.1, 0.4))

    async def query() -> None:
        guild = bot.get_guild(race.guild.id)
        if guild is not None:
            sent, result = await timed("members", guild.query_members(query="al", limit=5))
            if sent:
                found.append([m.id for m in result])

    async def members() -> None:
        while not stop.is_set():
            await query()
            await asyncio.sleep(rng.uniform(0.2, 0.5))

    def settled() -> bool:
        return any(c.state is ConnState.READY for c in sim.gateway.live())

    handled: list[int] = []
    clicked: list[int] = []

    async def follow_clicks(stream: ClickStream) -> None:
        async for click in stream:
            handled.append(click.interaction.id)
            await asyncio.sleep(rng.uniform(0.0, 0.05))  # a handler that takes a moment

    async def clicks(message_id: int) -> None:
        while not stop.is_set():
            if settled():
                record = await race.alice.click(sim.world.messages[message_id], "Press")
                clicked.append(record.id)
            await asyncio.sleep(rng.uniform(0.02, 0.1))

    began = loop.time()
    with no_4003(sim):
        async with started(race, gateway_send_timeout=SEND_TIMEOUT, heartbeat_timeout=0.9) as bot:
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            reached: set[int] = set()

            async def on_interaction(interaction: discord.Interaction) -> None:
                reached.add(interaction.id)

            bot.add_listener(on_interaction)
            mark = len(sim.gateway_log)
            channel = bot.get_channel(race.text.id)
            assert isinstance(channel, discord.TextChannel)
            button = discord.ui.View(timeout=None)
            button.add_item(discord.ui.Button(label="Press", custom_id="chaos:press"))
            button.stop()
            posted = await channel.send("press me", view=button)
            stream = bot.interactions.stream(posted)
            follower = asyncio.create_task(follow_clicks(stream))
            workers = [asyncio.create_task(w()) for w in (presences, voices, members)]
            workers.append(asyncio.create_task(clicks(posted.id)))
            racers: list[asyncio.Task[None]] = []
            for _ in range(50):
                sim.gateway.ready_delay = sim.gateway.resumed_delay = rng.choice([0.0, 0.05, 0.2])
                fault = rng.choice(FAULTS)
                if fault == "drop":
                    await sim.drop_connection()
                elif fault == "reconnect":
                    sim.send_reconnect()
                elif fault.startswith("invalid"):
                    sim.invalidate_session(resumable=fault == "invalid-true")
                elif fault == "ack-loss":
                    # discord.py only notices silence, so this bites when no dispatch comes either.
                    sim.gateway.ack_heartbeats = False
                    await asyncio.sleep(rng.uniform(0.5, 1.0))
                    sim.gateway.ack_heartbeats = True
                else:
                    closing = asyncio.create_task(sim.close_connection(4000))
                    await asyncio.sleep(0)  # the close frame is out; writes before the bot reads it are lost
                    racers += [
                        asyncio.create_task(set_presence(f"racer {len(racers)}")),
                        asyncio.create_task(query()),
                    ]
                    await closing
                if rng.random() < 0.5:  # otherwise the next fault may land mid-handshake
                    await sim.wait_for(settled, timeout=10)
                await asyncio.sleep(rng.uniform(0.0, 0.3))
            stop.set()
            sim.gateway.ready_delay = sim.gateway.resumed_delay = 0.0
            await asyncio.wait_for(asyncio.gather(*workers, *racers), SEND_TIMEOUT + 2)
            await sim.wait_for(lambda: activity_names(sim, race.app) == [want["presence"]], timeout=10)
            await sim.wait_for(lambda: race.bot_voice_channel(race.guild) == want["voice"], timeout=10)
            assert_all_authenticated(sim, mark)
            assert_presence_per_session(sim, mark)
            await sim.wait_for(
                lambda: all(r.outcome is not Outcome.PENDING for r in sim.interactions), timeout=5
            )
            stream.close()
            await follower
    # A click whose INTERACTION_CREATE never reached the bot is lost for any client: dispatched while the
    # old session was being invalidated, or written to a socket that closed before the bot read it (a
    # frame simcord sent is not a frame discord.py received). Every click the bot did receive must be
    # acknowledged in time and handled in click order.
    received = [r for r in sim.interactions if r.id in reached]
    assert len(received) > 20
    assert [r for r in received if r.failed] == []
    assert handled == [i for i in clicked if i in reached and i in handled]
    assert set(handled) == {r.id for r in received}
    assert all(outcome == "ok" for _, _, outcome in calls), "no shard stayed down for 5 s"
    assert max(elapsed for _, elapsed, _ in calls) < SEND_TIMEOUT + 1
    assert {kind for kind, _, _ in calls} == {"presence", "voice", "members"}
    assert found
    assert all(ids == [race.alice.id] for ids in found)
    assert len(connections(sim, mark)) > 25, "the faults cost connections"
    assert loop.time() - began < 60


def assert_presence_per_session(sim: Simcord, since: int) -> None:
    """Every session that lived half a second carried an op 3: presence is re-applied per session."""
    opened = {f.conn_id: f.at for f in sim.gateway_log[since:] if f.t in ("READY", "RESUMED")}
    last = {f.conn_id: f.at for f in sim.gateway_log[since:]}
    carried = {f.conn_id for f in frames(sim, since, 3)}
    lived = {conn for conn, at in opened.items() if last[conn] - at > 0.5}
    assert lived - carried == set()
