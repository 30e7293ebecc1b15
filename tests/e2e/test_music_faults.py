"""Music when things go wrong: a stream that breaks off, a voice server crash, a gateway resume, and two
guilds playing at once."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from simcord.audio import dominant_frequency
from tests.e2e.command_world import say
from tests.e2e.music_world import MusicWorld, Room, music_world
from tests.media.conftest import MediaFiles, MediaServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def cut_url(media_files: MediaFiles) -> AsyncIterator[str]:
    """A 30 s track (so its header says) of which only the first quarter ever arrives: a stream that
    fails mid-way. The body simply ends, so FFmpeg has nothing to retry and stops after about 7 s."""
    data = media_files.long_webm.read_bytes()

    async def cut(request: web.Request) -> web.StreamResponse:
        return web.Response(body=data[: len(data) // 4], content_type="audio/webm")

    app = web.Application()
    app.router.add_get("/cut.webm", cut)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/cut.webm"
    await runner.cleanup()


@pytest.fixture(scope="module")
async def mw(
    tmp_path_factory: pytest.TempPathFactory, media_server: MediaServer
) -> AsyncIterator[MusicWorld]:
    async with music_world(Path(tmp_path_factory.mktemp("faults")) / "music.db", rooms=2) as world:
        yield world


async def play(mw: MusicWorld, room: Room, url: str) -> None:
    typed = await room.alice.send(room.text, f"!play {url}")
    await mw.sim.wait_for_message(room.text, mw.titled("🎵  Track added"), after=typed, timeout=15)


async def test_a_stream_that_breaks_off_advances_with_a_message(
    mw: MusicWorld, media_server: MediaServer, cut_url: str
) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    typed = await room.alice.send(room.text, f"!play {cut_url}")
    await mw.sim.wait_for_message(room.text, mw.titled("🎵  Now playing"), after=typed, timeout=15)
    await play(mw, room, media_server.url("/media/tone660.mp3"))
    failure = await mw.sim.wait_for_message(
        room.text, mw.titled("🚫  Playback error"), after=typed, timeout=30
    )
    assert "broke off" in failure.text()
    await mw.sim.wait_for_message(
        room.text,
        lambda m: mw.titled("🎵  Now playing")(m) and "tone660" in m.text(),
        after=failure,
        timeout=15,
    )
    await room.alice.send(room.text, "!leave")
    await mw.sim.wait_for(lambda: room.guild.voice_channel_of(mw.app.bot.id) is None, timeout=10)


async def test_voice_server_crash_and_gateway_resume_keep_playing(
    mw: MusicWorld, media_server: MediaServer
) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    typed = await room.alice.send(room.text, f"!play {media_server.url('/media/long440.webm')}")
    await mw.sim.wait_for_message(room.text, mw.titled("🎵  Now playing"), after=typed, timeout=15)
    await mw.sim.wait_for(lambda: mw.sim.voice.audio_seconds(room.guild.id, since=time.monotonic() - 5) >= 1)

    await mw.sim.voice.crash(room.guild.id)
    after_crash = time.monotonic()
    await mw.sim.wait_for(
        lambda: mw.sim.voice.audio_seconds(room.guild.id, since=after_crash) >= 2, timeout=20
    )

    await mw.sim.drop_connection()
    after_drop = time.monotonic()
    await mw.sim.wait_for(
        lambda: mw.sim.voice.audio_seconds(room.guild.id, since=after_drop) >= 2, timeout=20
    )
    pcm = await mw.sim.voice.pcm(room.guild.id, since=after_drop)
    assert dominant_frequency(pcm, candidates=[440, 660, 880]) == 440
    music = mw.bot.music.existing(room.guild.id)
    assert music is not None
    assert music.player.current is not None
    assert "long440" in music.player.current.title
    await room.alice.send(room.text, "!leave")
    await mw.sim.wait_for(lambda: room.guild.voice_channel_of(mw.app.bot.id) is None, timeout=10)


async def test_two_guilds_play_at_once(mw: MusicWorld, media_server: MediaServer) -> None:
    first, second = mw.rooms
    await first.alice.join_voice(first.voice)
    await second.alice.join_voice(second.other_voice)
    since = time.monotonic()
    await play(mw, first, media_server.url("/media/long440.webm"))
    await play(mw, second, media_server.url("/media/tone880.m4a"))
    for room, tone in ((first, 440), (second, 880)):
        await mw.sim.wait_for(
            lambda r=room: mw.sim.voice.audio_seconds(r.guild.id, since=since) >= 2, timeout=20
        )
        pcm = await mw.sim.voice.pcm(room.guild.id, since=since)
        assert dominant_frequency(pcm[-24000:], candidates=[440, 660, 880]) == tone
    assert first.guild.voice_channel_of(mw.app.bot.id) == first.voice.id
    assert second.guild.voice_channel_of(mw.app.bot.id) == second.other_voice.id
    # Stopping one guild leaves the other alone.
    typed = await first.alice.send(first.text, "!stop")
    await mw.sim.wait_for_message(first.text, mw.titled("⏹️  Playback stopped"), after=typed)
    second_music = mw.bot.music.existing(second.guild.id)
    assert second_music is not None
    assert second_music.player.current is not None or second_music.player.history


async def test_resume_at_a_new_volume_plays_on_when_the_source_is_gone(
    mw: MusicWorld, media_server: MediaServer, media_files: MediaFiles
) -> None:
    """Resuming at another volume restarts FFmpeg; if the stream can't be opened again, the paused audio
    plays on at the old volume instead of the bot staying paused while it says "Resumed"."""
    room = mw.room
    vanishing = media_files.root / "vanishing440.webm"
    shutil.copy(media_files.long_webm, vanishing)
    await room.alice.join_voice(room.voice)
    await say(mw, room, f"!play {media_server.url('/media/vanishing440.webm')}", "🎵  Now playing")
    started = time.monotonic()  # not earlier: the audio of the test before must not count
    await mw.sim.wait_for(lambda: mw.sim.voice.audio_seconds(room.guild.id, since=started) >= 1)
    await say(mw, room, "!pause", "⏸️  Paused")
    await say(mw, room, "!volume 30", "🔊  Volume changed")
    vanishing.unlink()  # re-resolving the link now fails (404)

    await say(mw, room, "!resume", "▶️  Resumed")
    resumed = time.monotonic()
    await mw.sim.wait_for(lambda: mw.sim.voice.audio_seconds(room.guild.id, since=resumed) >= 1.5, timeout=10)
    music = mw.bot.music.existing(room.guild.id)
    assert music is not None
    assert music.player.current is not None
    assert "vanishing440" in music.player.current.title
    assert music.voice_client is not None
    assert music.voice_client.is_playing()
    await say(mw, room, "!leave", "👋")
    await mw.sim.wait_for(lambda: room.guild.voice_channel_of(mw.app.bot.id) is None, timeout=10)
