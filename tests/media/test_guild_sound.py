"""The shared `Normalizer` and one guild's `GuildSound` with real FFmpeg and a real audio cache: failed
measurements are retried after a while (on the injected clock), and a guild that goes idle lets go of
its last track's cached copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytunes.core.clock import ManualClock
from pytunes.core.tasks import TaskOwner
from pytunes.music.cache import AudioCache
from pytunes.music.loudness import MEASURE_RETRY_SECONDS, GuildSound, NormalizeConfig, Normalizer
from pytunes.music.loudness_store import Loudness, LoudnessStore
from pytunes.music.media.ffmpeg import ffmpeg_path
from pytunes.music.sources import Playable
from simcord.tones import render_tone


class MemoryLoudness(LoudnessStore):
    """The loudness table without a database."""

    def __init__(self) -> None:
        self.rows: dict[str, Loudness] = {}

    async def get(self, content_id: str) -> Loudness | None:
        return self.rows.get(content_id)

    async def put(self, content_id: str, loudness: Loudness) -> None:
        self.rows[content_id] = loudness


def normalizer(cache: AudioCache | None = None, clock: ManualClock | None = None) -> Normalizer:
    return Normalizer(
        store=MemoryLoudness(),
        cache=cache,
        downloader=None,
        ffmpeg=ffmpeg_path(),
        config=NormalizeConfig(),
        clock=clock,
    )


async def test_a_failed_measurement_is_tried_again_after_the_backoff(tmp_path: Path) -> None:
    clock = ManualClock()
    norm = normalizer(clock=clock)
    song = tmp_path / "song.wav"
    song.write_bytes(b"not audio at all" * 100)

    assert await norm.measure("file:song", song, tmp_path) is None
    assert norm.measurements == 1
    render_tone(song, 1000, 2, amplitude=0.1)  # fixed meanwhile (a file that was being replaced, say)

    await clock.advance(MEASURE_RETRY_SECONDS - 1)
    assert await norm.measure("file:song", song, tmp_path) is None, "not yet: FFmpeg is not run again"
    assert norm.measurements == 1

    await clock.advance(1)
    measured = await norm.measure("file:song", song, tmp_path)
    assert measured is not None
    assert measured.lufs == pytest.approx(-20, abs=1)
    assert norm.measurements == 2
    assert await norm.measure("file:song", song, tmp_path) == measured, "known from now on"
    assert norm.measurements == 2


async def test_an_idle_guild_unpins_the_last_track_it_played(tmp_path: Path) -> None:
    cache = AudioCache(tmp_path / "cache", 10 * 1024 * 1024)
    owner = TaskOwner("test")
    sound = GuildSound(
        normalizer(cache),
        owner,
        enabled=lambda: False,
        generation=lambda: generation,
        enqueue=lambda effect: None,
    )
    first = Playable(tmp_path / "first.webm", 3, content_id="url:first")
    second = Playable(tmp_path / "second.webm", 3, content_id="url:second")

    generation = 1
    await sound.prepare(1, first)
    assert cache.pinned("url:first")
    generation = 2
    await sound.prepare(2, second)
    assert not cache.pinned("url:first"), "replaced by the next track"
    assert cache.pinned("url:second")

    sound.idle()  # stopped, the queue ran out, or the bot left voice
    assert not cache.pinned("url:second")
    sound.idle()  # twice is harmless: pins never go below zero
    assert not cache.pinned("url:second")
    assert sound.reopen(2) is None
    await owner.close()
