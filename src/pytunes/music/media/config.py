"""Operator settings of the media pipeline (wired from `pytunes.config.Settings` by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_YOUTUBE_API_BASE_URL = "https://www.googleapis.com/youtube/v3"
DEFAULT_SPOTIFY_API_BASE_URL = "https://api.spotify.com/v1"
DEFAULT_SPOTIFY_TOKEN_URL = "https://accounts.spotify.com/api/token"


@dataclass(frozen=True, slots=True)
class MediaConfig:
    # Allow links to loopback/private/link-local hosts. Off in production; tests turn it on for their
    # local media server.
    allow_private_hosts: bool = False
    # YouTube Data API v3 key for text search; without it search goes through yt-dlp.
    youtube_api_key: str | None = field(default=None, repr=False)
    youtube_api_base_url: str = DEFAULT_YOUTUBE_API_BASE_URL
    # yt-dlp worker processes. Two keep one extraction from queueing behind a slow one.
    workers: int = 2
    # yt-dlp extractors allowed for non-YouTube links. "generic" plays direct media files, "html5"
    # reads <audio>/<video> tags of a page. Widening this exposes more of yt-dlp to user links.
    direct_extractors: tuple[str, ...] = ("generic", "html5")
    # Whole-call limit for one extraction, and yt-dlp's per-socket-operation timeout.
    extract_timeout: float = 30.0
    socket_timeout: float = 10.0
    # Limit for the bot's own HTTP requests (redirect checks, the YouTube Data API) and FFmpeg probes.
    http_timeout: float = 10.0
    max_redirects: int = 5
    # Links up to a common URL limit; search text much shorter (YouTube search ignores the rest anyway).
    max_url_length: int = 2048
    max_search_length: int = 256
    # Playlists are enumerated up to this many entries; the rest is reported as truncated.
    max_playlist_entries: int = 200
    ffmpeg_path: str | None = None
    # JavaScript runtimes yt-dlp may use to solve YouTube's player challenges (needs the yt-dlp-ejs
    # package too). yt-dlp's default is deno, the sandboxed one; "node", "bun", "quickjs" also work.
    js_runtimes: tuple[str, ...] = ("deno",)
    # Spotify Web API client credentials; without both, Spotify links are refused with a clear reason.
    spotify_client_id: str | None = field(default=None, repr=False)
    spotify_client_secret: str | None = field(default=None, repr=False)
    spotify_api_base_url: str = DEFAULT_SPOTIFY_API_BASE_URL
    spotify_token_url: str = DEFAULT_SPOTIFY_TOKEN_URL
    # Albums and playlists are read up to this many tracks; the rest is reported as truncated.
    spotify_max_tracks: int = 500
    # A 429 asking to wait longer than this is reported instead of holding the command up.
    spotify_max_retry_wait: float = 5.0
