"""Point an unmodified discord.py client at a running simcord.

Only documented class-level knobs are touched (docs/discord-notes.md, 'discord.py quirks the code works
around'): the REST base that every `Route` is built from, and the gateway URL a `Client` dials first and
after INVALID_SESSION.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import discord.gateway
import discord.http
import yarl

from simcord.scenario import Connection


def point_discord_py(connection: Connection) -> None:
    discord.http.Route.BASE = connection.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(connection.gateway_url)


def fast_client_options() -> dict[str, float]:
    """Client options that make on_ready come quickly in tests (no 2 s wait for more GUILD_CREATEs)."""
    return {"guild_ready_timeout": 0.05}


@contextlib.asynccontextmanager
async def running(
    client: discord.Client, connection: Connection, *, timeout: float = 10.0
) -> AsyncIterator[None]:
    """Log `client` in to simcord, wait for on_ready, and close it afterwards."""
    point_discord_py(connection)
    task = asyncio.create_task(client.start(connection.token), name="simcord-client")
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        await _finish(client, task)
        raise TimeoutError(f"discord.py client not ready within {timeout} s")
    try:
        yield
    finally:
        await _finish(client, task)


async def _finish(client: discord.Client, task: asyncio.Task[None]) -> None:
    await client.close()
    with contextlib.suppress(asyncio.CancelledError, discord.DiscordException):
        await asyncio.wait_for(task, 5)
