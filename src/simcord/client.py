"""Point an unmodified discord.py client at a running simcord.

Only documented class-level knobs are touched (`reference/discord-protocol.md` G1): the REST base that
every `Route` is built from, and the gateway URL a `Client` dials first and after INVALID_SESSION.
"""

from __future__ import annotations

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


__all__ = ["discord", "fast_client_options", "point_discord_py"]
