"""Typed settings, read from the environment and an optional `.env` file.

Every setting is documented in `.env.example`; the names below are the environment variable names
in lower case.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # Empty values mean "use the default", so .env.example can list every setting with nothing filled in.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    discord_token: SecretStr | None = Field(
        default=None, description="Bot token; without it `make run` starts the sandbox"
    )
    database_url: str = Field(
        default="sqlite+aiosqlite:///data/pytunes.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user:pw@host/db",
    )
    command_prefix: str = Field(default="!", min_length=1, max_length=5)
    log_level: str = "INFO"

    # Where Discord is. Unset means the real Discord; the sandbox and tests point these at simcord.
    discord_api_base_url: str | None = None
    discord_gateway_url: str | None = None
    discord_ca_file: Path | None = Field(
        default=None, description="Extra CA certificate to trust (simcord's voice TLS)"
    )
    shard_count: int | None = Field(default=None, ge=1)

    # Reply clean-up (spec section 2.2): the user's prefix message and transient bot replies.
    prefix_cleanup_seconds: float = Field(default=30.0, ge=0)
    reply_delete_seconds: float = Field(default=30.0, ge=0)
    error_delete_seconds: float = Field(default=60.0, ge=0)
    sync_commands: bool = True

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return upper

    @property
    def token(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None
