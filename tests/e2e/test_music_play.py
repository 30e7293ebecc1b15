"""From `!play` to audio in the voice channel, as people use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simcord.audio import dominant_frequency
from tests.e2e.music_world import MusicWorld, music_world
from tests.media.conftest import MediaServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def mw(tmp_path_factory: pytest.TempPathFactory, media_server: MediaServer) -> AsyncIterator[MusicWorld]:
    async with music_world(Path(tmp_path_factory.mktemp("music")) / "music.db") as world:
        yield world


async def test_play_into_an_empty_queue(mw: MusicWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    typed = await room.alice.send(room.text, f"!play {media_server.url('/media/tone440.webm')}")
    queuing = await mw.sim.wait_for_message(room.text, mw.titled("⏳"), after=typed, timeout=10)
    added = await mw.sim.wait_for_message(room.text, mw.titled("🎵  Track added"), after=typed, timeout=15)
    playing = await mw.sim.wait_for_message(room.text, mw.titled("🎵  Now playing"), after=typed, timeout=15)
    assert queuing.id < added.id < playing.id, "Queuing…, then Track added, then Now playing"
    assert room.guild.voice_channel_of(mw.app.bot.id) == room.voice.id
    await mw.sim.wait_for(lambda: mw.sim.voice.audio_seconds(room.guild.id) >= 2.5, timeout=15)
    pcm = await mw.sim.voice.pcm(room.guild.id)
    assert dominant_frequency(pcm, candidates=[440, 660, 880]) == 440
