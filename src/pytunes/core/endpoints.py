"""Where Discord is: the real one by default, or simcord (sandbox, tests) by configuration alone.

These are discord.py's documented class-level knobs: the REST base every `Route` is built from and the
gateway a client dials first and after an INVALID_SESSION.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import discord.gateway
import discord.http
import yarl


def point_at(api_base_url: str | None, gateway_url: str | None) -> None:
    if api_base_url:
        discord.http.Route.BASE = api_base_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def connector_trusting(ca_file: Path | None) -> aiohttp.TCPConnector | None:
    """An HTTP connector that also trusts `ca_file` (simcord's voice TLS); None keeps discord.py's default."""
    if ca_file is None:
        return None
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=str(ca_file))
    return aiohttp.TCPConnector(ssl=context)
