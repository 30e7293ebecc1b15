"""The gateway as an unmodified discord.py client experiences it."""

from __future__ import annotations

import asyncio

import discord

from simcord.gateway import ConnState
from tests.simcord.conftest import RecordingClient, World


async def test_login_ready_and_guild_create(world: World, client: RecordingClient) -> None:
    assert client.user is not None
    assert client.user.id == world.app.bot.id
    guild = client.get_guild(world.guild.id)
    assert guild is not None
    assert {c.name for c in guild.channels} == {"general", "Music"}
    assert guild.me is not None
    assert guild.default_role.id == guild.id
    sent = [f.t for f in world.sim.gateway_log if f.direction == "send" and f.op == 0]
    assert sent[:2] == ["READY", "GUILD_CREATE"]


async def test_message_round_trip(world: World, client: RecordingClient) -> None:
    typed = await world.alice.send(world.general, "hello bot")
    await world.sim.wait_for(lambda: any(m.id == typed.id for m in client.seen_messages))
    seen = next(m for m in client.seen_messages if m.id == typed.id)
    assert seen.content == "hello bot"
    assert seen.author.id == world.alice.id
    channel = client.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    reply = await seen.reply("hi alice")
    stored = world.sim.world.messages[reply.id]
    assert stored.content == "hi alice"
    assert stored.referenced is typed
    assert world.alice.user in stored.mentions  # replies ping their author unless told otherwise


async def test_resume_after_drop_replays_missed_events(world: World, client: RecordingClient) -> None:
    identifies_before = _count(world, op=2)
    await world.sim.drop_connection()
    missed = [await world.alice.send(world.general, f"while you were away {i}") for i in range(3)]
    await asyncio.wait_for(client.resumed.wait(), 10)
    await world.sim.wait_for(lambda: all(any(s.id == m.id for s in client.seen_messages) for m in missed))
    order = [s.id for s in client.seen_messages if s.id in {m.id for m in missed}]
    assert order == [m.id for m in missed]
    assert _count(world, op=6) >= 1
    assert _count(world, op=2) == identifies_before, "a resumable drop must not re-IDENTIFY"
    assert world.sim.gateway_closes[-1].initiator == "drop"


async def test_invalid_session_false_leads_to_fresh_identify(world: World, client: RecordingClient) -> None:
    identifies_before = _count(world, op=2)
    old_sessions = set(world.sim.gateway.sessions)
    world.sim.invalidate_session(resumable=False)
    await world.sim.wait_for(lambda: _count(world, op=2) > identifies_before, timeout=10)
    await world.sim.wait_for(lambda: set(world.sim.gateway.sessions) - old_sessions, timeout=10)
    await world.sim.wait_for(lambda: any(c.state is ConnState.READY for c in world.sim.gateway.live()))
    typed = await world.alice.send(world.general, "after the new session")
    await world.sim.wait_for(lambda: any(m.id == typed.id for m in client.seen_messages), timeout=10)


async def test_presence_before_ready_closes_with_4003(world: World) -> None:
    world.sim.gateway.ready_delay = 0.5
    closes_before = len(world.sim.gateway_closes)
    identifies_before = _count(world, op=2)
    bot = RecordingClient()
    task = asyncio.create_task(bot.start(world.app.token))
    try:
        await world.sim.wait_for(lambda: _count(world, op=2) > identifies_before)
        await world.sim.wait_for(lambda: bot.ws is not None)
        # discord.py publishes the socket right after IDENTIFY, so this goes out before READY.
        await bot.change_presence(activity=discord.Game("too early"))
        await world.sim.wait_for(
            lambda: any(c.code == 4003 for c in world.sim.gateway_closes[closes_before:])
        )
        close = next(c for c in world.sim.gateway_closes[closes_before:] if c.code == 4003)
        assert close.initiator == "server"
        early = [f for f in world.sim.gateway_log if f.op == 3 and f.direction == "recv"]
        assert early
        assert not early[-1].authenticated
    finally:
        world.sim.gateway.ready_delay = 0.0
        await bot.close()
        await asyncio.wait_for(task, 5)


def _count(world: World, *, op: int) -> int:
    return sum(1 for f in world.sim.gateway_log if f.direction == "recv" and f.op == op)
