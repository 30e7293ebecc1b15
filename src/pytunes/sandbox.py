"""`pytunes sandbox`: PyTunes against a local simcord, driven from the terminal. No Discord needed."""

from __future__ import annotations

from pydantic import SecretStr

from pytunes.config import Settings
from simcord import Connection


def simcord_settings(base: Settings, connection: Connection, *, database_url: str | None = None) -> Settings:
    """`base` pointed at a simcord instead of Discord."""
    update: dict[str, object] = {
        "discord_token": SecretStr(connection.token),
        "discord_api_base_url": connection.api_base,
        "discord_gateway_url": connection.gateway_url,
    }
    if database_url is not None:
        update["database_url"] = database_url
    return base.model_copy(update=update)


async def run_sandbox(settings: Settings) -> None:
    raise NotImplementedError
