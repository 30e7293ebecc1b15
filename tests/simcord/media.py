"""Audio clips made with FFmpeg for voice tests, and playback a test can await."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import discord

from simcord.audio import ffmpeg_executable
from simcord.tones import render_lavfi

CLIP_SECONDS = 3


@dataclass(frozen=True)
class Clips:
    ffmpeg: str
    tone440_webm: Path  # Opus in WebM: FFmpegOpusAudio can pass it through with codec="copy"
    tone660_mp3: Path  # MP3: FFmpegOpusAudio re-encodes it to Opus


def make_tone(ffmpeg: str, path: Path, frequency: int, codec: str, bitrate: str) -> Path:
    """A mono sine, `CLIP_SECONDS` long."""
    source = f"sine=frequency={frequency}:sample_rate=48000:duration={CLIP_SECONDS}"
    return render_lavfi(path, source, options=("-c:a", codec, "-b:a", bitrate), ffmpeg=ffmpeg)


def make_clips(directory: Path) -> Clips:
    ffmpeg = ffmpeg_executable()
    return Clips(
        ffmpeg=ffmpeg,
        tone440_webm=make_tone(ffmpeg, directory / "tone440.webm", 440, "libopus", "64k"),
        tone660_mp3=make_tone(ffmpeg, directory / "tone660.mp3", 660, "libmp3lame", "128k"),
    )


class Playback:
    """`vc.play(source)` whose end (the `after` callback, run on the player thread) can be awaited."""

    def __init__(self, vc: discord.VoiceClient, source: discord.AudioSource) -> None:
        loop = asyncio.get_running_loop()
        self._done: asyncio.Future[Exception | None] = loop.create_future()

        def after(error: Exception | None) -> None:
            loop.call_soon_threadsafe(self._finish, error)

        vc.play(source, after=after)

    def _finish(self, error: Exception | None) -> None:
        if not self._done.done():
            self._done.set_result(error)

    @property
    def finished(self) -> bool:
        return self._done.done()

    async def wait(self, timeout: float = 10.0) -> Exception | None:
        return await asyncio.wait_for(asyncio.shield(self._done), timeout)
