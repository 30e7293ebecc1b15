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

    # Music.
    youtube_api_key: SecretStr | None = Field(
        default=None, description="Optional: YouTube Data API v3 key for search"
    )
    youtube_api_base_url: str = Field(
        default="https://www.googleapis.com/youtube/v3",
        description="Where the YouTube Data API is; only changed to test against a local fake",
    )
    media_allow_private_hosts: bool = Field(
        default=False, description="Allow links to loopback/private addresses (only for local testing)"
    )
    media_workers: int = Field(default=2, ge=1, le=8, description="yt-dlp worker processes")
    ffmpeg_path: str | None = Field(
        default=None, description="FFmpeg binary; default: system ffmpeg, else bundled"
    )
    max_track_minutes: int = Field(default=60, ge=1)
    max_queue_tracks: int = Field(default=1000, ge=1, description="Upcoming tracks one server may queue")
    allow_livestreams: bool = False
    idle_leave_seconds: int = Field(default=300, ge=10)
    paused_leave_seconds: int = Field(default=1800, ge=10)
    alone_leave_seconds: int = Field(default=30, ge=0)
    stream_stall_seconds: float = Field(
        default=15.0, gt=0, description="A stream silent this long has failed"
    )

    # Spotify links (Web API, client-credentials flow); without both, Spotify links are refused clearly.
    spotify_client_id: str | None = Field(default=None, description="Spotify app client id")
    spotify_client_secret: SecretStr | None = Field(default=None, description="Spotify app client secret")
    spotify_api_base_url: str = Field(
        default="https://api.spotify.com/v1", description="Only changed to test against a local fake"
    )
    spotify_token_url: str = Field(
        default="https://accounts.spotify.com/api/token",
        description="Only changed to test against a local fake",
    )
    spotify_max_tracks: int = Field(
        default=500, ge=1, le=10000, description="Most tracks taken from one album or playlist"
    )
    # m3u/pls playlists are only read from these hosts (comma-separated); from anywhere else they are refused.
    trusted_playlist_hosts: str = Field(default="", description="Hosts whose m3u/pls playlists are read")

    # Local library and downloads (`local ...`, attachments).
    library_dir: Path = Field(default=Path("data/library"), description="Folder of the local library")
    max_download_mb: int = Field(
        default=50, ge=1, le=2048, description="Largest file `local download`/upload/attachments accept"
    )
    library_max_mb: int = Field(
        default=2048, ge=1, description="Total size of the library folder; downloads stop when it is full"
    )

    # Loudness normalization (static gain from a one-off EBU R128 measurement) and the audio cache.
    normalize_target_lufs: float = Field(default=-14.0, ge=-40, le=0)
    normalize_min_gain_db: float = Field(default=-12.0, ge=-40, le=0)
    normalize_max_gain_db: float = Field(default=6.0, ge=0, le=20)
    audio_cache_dir: Path = Field(default=Path("data/cache"), description="Downloaded copies of streams")
    audio_cache_max_mb: int = Field(default=2048, ge=0, description="Cache size cap; 0 disables the cache")

    # Gather (spec section 7): call the group back to voice and check everyone in.
    gather_grace_seconds: float = Field(
        default=60.0, ge=0, le=3600, description="Arrivals this long after check-in starts are on time"
    )
    gather_deadline_seconds: float = Field(
        default=1800.0, ge=1, le=10800, description="Check-in ends this long after it started"
    )
    gather_max_countdown_seconds: float = Field(
        default=7200.0, ge=1, le=86400, description="Longest countdown, extensions included"
    )
    gather_ping_interval_seconds: float = Field(
        default=30.0, ge=1, description="Ghost-ping the missing this often after the grace period"
    )
    gather_ping_lifetime_seconds: float = Field(
        default=0.7, ge=0, le=60, description="A ghost ping is deleted this long after it was sent"
    )
    gather_refresh_seconds: float = Field(
        default=5.0, ge=0.5, description="Timers on a gathering message are redrawn this often"
    )
    gather_auto_checkin: bool = Field(
        default=True, description="Being in the gathering's voice channel checks people in"
    )

    # Reminders (spec section 9).
    default_timezone: str = Field(
        default="UTC", description="IANA zone for reminder times of users and servers that set none"
    )
    reminder_max_pending: int = Field(
        default=25, ge=1, le=1000, description="Pending reminders one user may have per server"
    )

    # Utilities (spec section 10).
    wakeup_cooldown_seconds: float = Field(
        default=300.0, ge=0, description="A member can be woken up at most once this often"
    )
    away_channel_id: int | None = Field(
        default=None, description="Voice channel wakeup moves people to; default: the server's AFK channel"
    )

    # Keyword reactions (spec section 11).
    emoticons_config: Path = Field(
        default=Path("emoticons.json"), description="JSON rules file for keyword reactions"
    )

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return ZoneInfo(value.strip()).key
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Prague") from None

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
