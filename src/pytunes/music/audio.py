"""One guild's audio output: which FFmpeg source is playing, for which generation, and how far it got.

Each `vc.play` gets an audio id. discord.py reports the end of playback from its audio thread; the end is
passed on only if that audio is still the current one, so restarting a track (a live volume change)
never looks like the track ending.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

import discord

from pytunes.music.model import Track

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.02


# discord.py's FFmpegOpusAudio hands out every Ogg packet, the stream's two header packets included; sent
# as voice frames they are not audio, and the player would spend two 20 ms slots on them.
OGG_OPUS_HEADERS = (b"OpusHead", b"OpusTags")


class CountingSource(discord.AudioSource):
    """Wraps an audio source and counts the 20 ms frames handed to Discord: elapsed time for free."""

    def __init__(self, inner: discord.AudioSource) -> None:
        self.inner = inner
        self.frames = 0
        self.last_frame_at = time.monotonic()
        self.exhausted = False
        self.exit_status: int | None = None

    def read(self) -> bytes:
        # Runs on discord.py's audio thread.
        data = self.inner.read()
        while data.startswith(OGG_OPUS_HEADERS) and self.inner.is_opus():
            data = self.inner.read()
        if data:
            self.frames += 1
            self.last_frame_at = time.monotonic()
        else:
            self.exhausted = True
            self.exit_status = self._wait_for_exit()
        return data

    def _wait_for_exit(self) -> int | None:
        """FFmpeg's own exit status, read before discord.py's cleanup kills it (which would say -9)."""
        process = getattr(self.inner, "_process", None)
        if process is None:
            return None
        try:
            return int(process.wait(timeout=1.0))
        except subprocess.TimeoutExpired:
            return None

    def is_opus(self) -> bool:
        return self.inner.is_opus()

    def cleanup(self) -> None:
        self.inner.cleanup()

    def stalled_for(self) -> float:
        """Seconds since the source last produced a frame."""
        return time.monotonic() - self.last_frame_at


@dataclass
class PlayingAudio:
    audio_id: int
    generation: int
    # The track this audio plays: a restart plays it again, never whatever the model moved on to meanwhile.
    track: Track
    source: CountingSource
    start_offset: float  # where in the track this source started (restarts seek)
    gain_percent: int

    @property
    def elapsed(self) -> float:
        return self.start_offset + self.source.frames * FRAME_SECONDS


EndHandler = Callable[[PlayingAudio, Exception | None], None]


class AudioOutput:
    def __init__(self, on_end: EndHandler) -> None:
        self._on_end = on_end
        self._ids = itertools.count(1)
        self.current: PlayingAudio | None = None

    def play(
        self,
        vc: discord.VoiceClient,
        source: discord.AudioSource,
        *,
        generation: int,
        track: Track,
        start_offset: float,
        gain_percent: int,
    ) -> PlayingAudio:
        """Start `source` on `vc`, replacing whatever this output was playing. If voice refuses it (the
        connection dropped meanwhile), nothing is current any more, `source` is cleaned up (its FFmpeg
        ended) and the error is raised: no end will ever be reported for it."""
        loop = asyncio.get_running_loop()
        audio = PlayingAudio(
            next(self._ids), generation, track, CountingSource(source), start_offset, gain_percent
        )
        self.current = audio  # from here on, the replaced audio's end is not reported
        if vc.is_playing() or vc.is_paused():
            vc.stop()

        def after(error: Exception | None) -> None:
            # Called on discord.py's audio thread: hop back to the event loop.
            loop.call_soon_threadsafe(self._ended, audio, error)

        try:
            vc.play(audio.source, after=after)
        except BaseException:
            if self.current is audio:
                self.current = None
            audio.source.cleanup()
            raise
        return audio

    def _ended(self, audio: PlayingAudio, error: Exception | None) -> None:
        if self.current is not audio:
            return  # replaced (restart or stop): not the end of the track
        self.current = None
        self._on_end(audio, error)

    def stop(self, vc: discord.VoiceClient | None, generation: int | None = None) -> None:
        """Stop the current audio (only if it belongs to `generation`, when given) without reporting an end."""
        if self.current is None or (generation is not None and self.current.generation != generation):
            return
        self.current = None
        if vc is not None and (vc.is_playing() or vc.is_paused()):
            vc.stop()
