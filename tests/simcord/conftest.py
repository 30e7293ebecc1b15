"""A shared simcord per test module, and a small unmodified discord.py client that records what it sees."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import discord
import pytest
from multidict import CIMultiDictProxy

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


class RawRest:
    """Plain aiohttp requests to simcord's REST API, for routes and statuses discord.py has no method for."""

    def __init__(self, api_base: str, token: str) -> None:
        self.api_base = api_base
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RawRest:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        token: str | Literal["bot"] | None = "bot",
        raw_body: str | None = None,
    ) -> tuple[int, Any, CIMultiDictProxy[str]]:
        """Send one request: `body` as JSON, or `raw_body` verbatim as application/json.

        `token` is "bot" (the bot's), None (no Authorization header) or a literal header value.
        """
        assert self._session is not None, "use RawRest as an async context manager"
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bot {self.token}" if token == "bot" else token
        if raw_body is not None:
            headers["Content-Type"] = "application/json"
        async with self._session.request(
            method,
            self.api_base + path,
            json=body if raw_body is None else None,
            data=raw_body,
            headers=headers,
        ) as response:
            data = await response.json(content_type=None) if response.status != 204 else None
            return response.status, data, response.headers

    async def expect(
        self, status: int, method: str, path: str, body: object = None, *, token: str | None = "bot"
    ) -> Any:
        got, data, _ = await self.request(method, path, body, token=token)
        assert got == status, f"{method} {path}: expected {status}, got {got}: {data}"
        return data
