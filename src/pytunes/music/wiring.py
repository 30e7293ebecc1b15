"""Builds the music service from the settings: media resolver, yt-dlp workers, FFmpeg, player rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytunes.music.loudness import build_normalizer
from pytunes.music.media import MediaConfig
from pytunes.music.media.ffmpeg import prepare_ffmpeg
from pytunes.music.media.playlists import PlaylistPolicy, parse_hosts
from pytunes.music.media.resolver import MediaResolver
from pytunes.music.media.worker import MediaWorkers
from pytunes.music.model import GateLimits, PlayerConfig
from pytunes.music.service import MusicService
from pytunes.music.session_store import SessionStore
from pytunes.music.spotify_matches import SpotifyMatchStore
from pytunes.music.store import MusicStore

if TYPE_CHECKING:
    from pytunes.bot import PyTunes


async def build_music(bot: PyTunes) -> MusicService:
    settings = bot.settings
    ffmpeg = await prepare_ffmpeg(settings.ffmpeg_path)
    config = MediaConfig(
        allow_private_hosts=settings.media_allow_private_hosts,
        youtube_api_key=settings.youtube_api_key.get_secret_value() if settings.youtube_api_key else None,
        youtube_api_base_url=settings.youtube_api_base_url,
        workers=settings.media_workers,
        ffmpeg_path=ffmpeg,
        spotify_client_id=settings.spotify_client_id,
        spotify_client_secret=(
            settings.spotify_client_secret.get_secret_value() if settings.spotify_client_secret else None
        ),
        spotify_api_base_url=settings.spotify_api_base_url,
        spotify_token_url=settings.spotify_token_url,
        spotify_max_tracks=settings.spotify_max_tracks,
    )
    workers = MediaWorkers(workers=config.workers, call_timeout=config.extract_timeout)
    workers.start()  # warm up now, so the first `play` does not pay for importing yt-dlp
    resolver = MediaResolver(config, workers)
    resolver.playlist_policy = PlaylistPolicy(parse_hosts(settings.trusted_playlist_hosts))
    resolver.spotify.store = SpotifyMatchStore(bot.database.engine)
    gates = GateLimits(
        max_seconds=settings.max_track_minutes * 60, allow_livestreams=settings.allow_livestreams
    )
    return MusicService(
        bot,
        resolver=resolver,
        workers=workers,
        store=MusicStore(bot.database.engine),
        sessions=SessionStore(bot.database.engine),
        clock=bot.clock,
        tasks=bot.tasks,
        replies=bot.replies,
        ffmpeg=ffmpeg,
        player_config=PlayerConfig(
            idle_seconds=settings.idle_leave_seconds,
            paused_idle_seconds=settings.paused_leave_seconds,
            gates=gates,
            max_queue=settings.max_queue_tracks,
        ),
        alone_seconds=settings.alone_leave_seconds,
        stall_seconds=settings.stream_stall_seconds,
        set_presence=bot.show_activity,
        normalizer=await build_normalizer(settings, bot.database.engine, resolver.guard, ffmpeg, bot.clock),
    )
