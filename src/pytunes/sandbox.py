"""`pytunes sandbox`: PyTunes against a local simcord, driven from the terminal. No Discord needed."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import SecretStr

from pytunes.config import Settings
from pytunes.runner import running_bot
from simcord import Connection, Simcord
from simcord.sandbox import build_demo_world, run_terminal


def simcord_settings(base: Settings, connection: Connection, *, database_url: str | None = None) -> Settings:
    """`base` pointed at a simcord instead of Discord."""
    update: dict[str, object] = {
        "discord_token": SecretStr(connection.token),
        "discord_api_base_url": connection.api_base,
        "discord_gateway_url": connection.gateway_url,
        "discord_ca_file": Path(connection.ca_file) if connection.ca_file else None,
    }
    if database_url is not None:
        update["database_url"] = database_url
    return base.model_copy(update=update)


async def run_sandbox(settings: Settings) -> None:
    """A demo server (alice, bob, carol; #general, Lounge, Gaming) with PyTunes in it, and a prompt.

    The sandbox keeps its own throwaway database so trying things out never touches real data."""
    print("Starting the PyTunes sandbox (a local Discord; nothing leaves this machine)…", flush=True)
    with tempfile.TemporaryDirectory(prefix="pytunes-sandbox-") as tmp:
        async with Simcord() as sim:
            app = sim.create_application("PyTunes")
            world = build_demo_world(sim, app)
            database = f"sqlite+aiosqlite:///{Path(tmp) / 'sandbox.db'}"
            async with running_bot(
                simcord_settings(settings, sim.connection(app), database_url=database),
                guild_ready_timeout=0.1,
            ):
                print(
                    "Ready. Type !help or /help to see the commands, :help for the sandbox's own.", flush=True
                )
                await run_terminal(world)
