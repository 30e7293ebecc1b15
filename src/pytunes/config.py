"""Typed settings, read from the environment and an optional `.env` file.

Every setting is documented in `.env.example` and, generated from the descriptions below, in
docs/configuration.md (`python -m pytunes.config_doc` rewrites it). The names below are the environment
variable names in lower case.
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
        default=None,
        description="Bot token from the Discord Developer Portal (Bot → Reset Token). Without it `make run` "
        "starts the offline sandbox instead of connecting to Discord.",
    )
    database_url: str = Field(
        default="sqlite+aiosqlite:///data/pytunes.db",
        description="Where data lives: an SQLite file (`sqlite+aiosqlite:///path`) or PostgreSQL "
        "(`postgresql+asyncpg://user:password@host/db`).",
    )
    command_prefix: str = Field(
        default="!",
        min_length=1,
        max_length=5,
        description="Prefix for text commands (slash commands always work too).",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")

    # Where Discord is. Unset means the real Discord; the sandbox and tests point these at simcord.
    discord_api_base_url: str | None = Field(
        default=None,
        description="REST API base of a Discord-compatible server other than Discord itself (the sandbox "
        "and the tests use it to reach simcord). Unset: Discord.",
    )
    discord_gateway_url: str | None = Field(
        default=None, description="Gateway URL of such a server. Unset: Discord."
    )
    discord_ca_file: Path | None = Field(
        default=None,
        description="Extra CA certificate to trust for such a server's TLS (simcord's voice server).",
    )
    shard_count: int | None = Field(
        default=None,
        ge=1,
        description="Number of gateway shards; unset lets Discord decide (one shard is plenty below "
        "about 2,000 servers).",
    )

    # Reply clean-up (docs/commands.md, 'Conventions'): the user's prefix message and transient bot replies.
    prefix_cleanup_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Seconds before the bot deletes a user's `!command` message; 0 keeps it.",
    )
    reply_delete_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Seconds before the bot deletes its short-lived replies; 0 keeps them.",
    )
    error_delete_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Seconds before the bot deletes its error replies to `!` commands (errors to slash "
        "commands are private); 0 keeps them.",
    )
    sync_commands: bool = Field(
        default=True,
        description="Register slash commands with Discord on start when they changed since the last start.",
    )

    # Music.
    youtube_api_key: SecretStr | None = Field(
        default=None,
        description="Optional YouTube Data API v3 key for text search (faster, exact durations). Without "
        "it, search uses yt-dlp's YouTube search. Never required.",
    )
    youtube_api_base_url: str = Field(
        default="https://www.googleapis.com/youtube/v3",
        description="Where the YouTube Data API is. Only the tests change it (they serve a fake API locally).",
    )
    media_allow_private_hosts: bool = Field(
        default=False,
        description="Allow links to loopback, private and link-local hosts. Keep false on a public bot: true "
        "lets anyone make the bot fetch addresses inside your network. Tests turn it on for their local "
        "media server.",
    )
    media_workers: int = Field(
        default=2,
        ge=1,
        le=8,
        description="yt-dlp worker processes (link and search resolution runs there, never on the audio path).",
    )
    ffmpeg_path: str | None = Field(
        default=None,
        description="FFmpeg binary. Unset: the system `ffmpeg` when installed, otherwise the one bundled "
        "with imageio-ffmpeg.",
    )
    max_track_minutes: int = Field(
        default=60,
        ge=1,
        description="Longest track that may be queued, in minutes (files of the local library are exempt).",
    )
    max_queue_tracks: int = Field(
        default=1000,
        ge=1,
        description="Most upcoming tracks one server's queue may hold (the playing one not counted); a "
        "longer playlist is cut off.",
    )
    allow_livestreams: bool = Field(default=False, description="Whether livestreams may play.")
    idle_leave_seconds: int = Field(
        default=300,
        ge=10,
        description="Leave voice after this many seconds with nothing playing (the queue ran out, `stop`, "
        "or a `join` with nothing to play).",
    )
    paused_leave_seconds: int = Field(
        default=1800, ge=10, description="Leave voice after this many seconds paused."
    )
    alone_leave_seconds: int = Field(
        default=30, ge=0, description="Leave voice after this many seconds with no human left in the channel."
    )
    stream_stall_seconds: float = Field(
        default=15.0,
        gt=0,
        description="A stream that delivers no audio for this many seconds is treated as failed and skipped.",
    )

    # Spotify links (Web API, client-credentials flow); without both, Spotify links are refused clearly.
    spotify_client_id: str | None = Field(
        default=None,
        description="Client id of a Spotify app (developer.spotify.com → Dashboard). Without it and the "
        'secret, Spotify links get a clear "not configured" reply.',
    )
    spotify_client_secret: SecretStr | None = Field(
        default=None, description="Client secret of that Spotify app."
    )
    spotify_api_base_url: str = Field(
        default="https://api.spotify.com/v1",
        description="Where the Spotify Web API is. Only the tests change it.",
    )
    spotify_token_url: str = Field(
        default="https://accounts.spotify.com/api/token",
        description="Where Spotify's token endpoint is. Only the tests change it.",
    )
    spotify_max_tracks: int = Field(
        default=500,
        ge=1,
        le=10000,
        description="At most this many tracks are taken from one Spotify album, playlist or artist link.",
    )
    # m3u/pls playlists are only read from these hosts (comma-separated); from anywhere else they are refused.
    trusted_playlist_hosts: str = Field(
        default="",
        description="Comma-separated hosts (subdomains included, e.g. radio.example.org) whose m3u/pls "
        "playlist links are read; from anywhere else they are refused. Entries of a trusted playlist must "
        "still be public http(s) links.",
    )

    # Local library and downloads (`local ...`, attachments).
    library_dir: Path = Field(
        default=Path("data/library"),
        description="Folder of the local library (`local list/download/upload/play/rename/remove`); "
        "audio files played from messages are kept in its `.attachments` folder.",
    )
    max_download_mb: int = Field(
        default=50,
        ge=1,
        le=2048,
        description="Largest file, in megabytes, that `local download`, `local upload` and played "
        "attachments accept.",
    )
    library_max_mb: int = Field(
        default=2048,
        ge=1,
        description="The library folder's total size cap, in megabytes (kept files, uploads played from "
        "messages and downloads in progress); downloads and uploads are refused once it is reached.",
    )

    # Loudness normalization (static gain from a one-off EBU R128 measurement) and the audio cache.
    normalize_target_lufs: float = Field(
        default=-14.0,
        ge=-40,
        le=0,
        description="Loudness `normalize on` aims at, in LUFS: tracks are measured once (EBU R128) and "
        "played with a static gain towards it.",
    )
    normalize_min_gain_db: float = Field(
        default=-12.0, ge=-40, le=0, description="The most normalization may turn a track down, in dB."
    )
    normalize_max_gain_db: float = Field(
        default=6.0, ge=0, le=20, description="The most normalization may turn a track up, in dB."
    )
    audio_cache_dir: Path = Field(
        default=Path("data/cache"),
        description="Folder for local copies of streamed tracks (replays, normalization).",
    )
    audio_cache_max_mb: int = Field(
        default=2048,
        ge=0,
        description="Size cap of the audio cache in megabytes; the least recently played files go first "
        "once it is reached. 0 turns the cache off.",
    )

    # Gather: call the group back to voice and check everyone in.
    gather_grace_seconds: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="Arrivals within this many seconds of the check-in start are on time; later ones are "
        "stamped with how late they were.",
    )
    gather_deadline_seconds: float = Field(
        default=1800.0,
        ge=1,
        le=10800,
        description="Check-in ends this many seconds after it started, whoever is missing.",
    )
    gather_max_countdown_seconds: float = Field(
        default=7200.0,
        ge=1,
        le=86400,
        description="Longest countdown in seconds (`gather start 1h30m`), extensions (`gather extend`) "
        "included.",
    )
    gather_ping_interval_seconds: float = Field(
        default=30.0,
        ge=1,
        description="After the grace period the missing are pinged this often, in seconds.",
    )
    gather_ping_lifetime_seconds: float = Field(
        default=0.7,
        ge=0,
        le=60,
        description="Each ping is deleted this many seconds after it was sent (the notification still "
        "arrives).",
    )
    gather_refresh_seconds: float = Field(
        default=5.0,
        ge=0.5,
        description="Timers on a gathering message are redrawn this often, in seconds (changes are shown at "
        "once).",
    )
    gather_auto_checkin: bool = Field(
        default=True,
        description="Being in (or joining) the gathering's voice channel checks people in, stamped with when "
        'they got there. false: everyone presses "I\'m here!".',
    )

    # Reminders.
    default_timezone: str = Field(
        default="UTC",
        description="Time zone (IANA name, e.g. Europe/Prague) for reading reminder times of users and "
        "servers that have not set their own with `notify tz` / `notify servertz`.",
    )
    reminder_max_pending: int = Field(
        default=25, ge=1, le=1000, description="Pending reminders one user may have in one server."
    )

    # Utilities.
    wakeup_cooldown_seconds: float = Field(
        default=300.0,
        ge=0,
        description="Seconds before the same member can be woken up again with `wakeup`.",
    )
    away_channel_id: int | None = Field(
        default=None,
        description="Voice channel `wakeup` moves people to and back from. Unset: the server's AFK channel. "
        "A channel id from another server is ignored there.",
    )

    # Keyword reactions.
    emoticons_config: Path = Field(
        default=Path("emoticons.json"),
        description="JSON rules file for keyword reactions (see emoticons.json.example). A missing file just "
        "means no file rules; servers can still add their own with `reactions add`.",
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
