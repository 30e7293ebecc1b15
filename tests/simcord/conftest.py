"""A shared simcord per test module, and a small unmodified discord.py client that records what it sees."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import pytest

from simcord import Channel, Guild, Simcord, SimUser
from simcord.client import fast_client_options, running
from simcord.world import Application


class RecordingClient(discord.Client):
    """discord.Client as shipped, plus a log of events; only the documented identify hook is overridden."""

    def __init__(self, **options: object) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        intents.members = True
        super().__init__(intents=intents, **fast_client_options(), **options)  # type: ignore[arg-type]
        self.seen_messages: list[discord.Message] = []
        self.resumed = asyncio.Event()
        self.connects = 0

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # Production waits 5 s before a re-IDENTIFY; tests have no other client to pace against.
        return None

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)

    async def on_resumed(self) -> None:
        self.resumed.set()

    async def on_connect(self) -> None:
        self.connects += 1


@dataclass
class World:
    sim: Simcord
    app: Application
    alice: SimUser
    bob: SimUser
    guild: Guild
    general: Channel
    music: Channel


@pytest.fixture(scope="module")
async def world() -> AsyncIterator[World]:
    async with Simcord() as sim:
        app = sim.create_application("PyTunes")
        alice, bob = sim.create_user("alice"), sim.create_user("bob")
        guild = sim.create_guild("Demo", alice)
        sim.add_member(guild, bob)
        general = sim.create_text_channel(guild, "general")
        music = sim.create_voice_channel(guild, "Music")
        sim.add_bot(guild, app)
        yield World(sim, app, alice, bob, guild, general, music)


@pytest.fixture
async def client(world: World) -> AsyncIterator[RecordingClient]:
    world.sim.gateway.ready_delay = world.sim.gateway.resumed_delay = 0.0
    world.sim.desk.ack_window = 3.0
    world.sim.faults.clear()
    bot = RecordingClient()
    async with running(bot, world.sim.connection(world.app)):
        yield bot
