"""From `!play` to audio in the voice channel, as people use it: order of messages, what is heard, timers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simcord import Message
from simcord.audio import pitch_track
from tests.e2e.music_world import MusicWorld, Room, heard, music_world
from tests.media.conftest import MediaServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def mw(
    tmp_path_factory: pytest.TempPathFactory, media_server: MediaServer
) -> AsyncIterator[MusicWorld]:
    async with music_world(Path(tmp_path_factory.mktemp("music")) / "music.db") as world:
        yield world


@pytest.fixture(autouse=True)
async def fresh_room(mw: MusicWorld) -> AsyncIterator[None]:
    """Every test starts with the bot out of voice and an empty player."""
    yield
    room = mw.room
    bot_channel = room.guild.voice_channel_of(mw.app.bot.id)
    if bot_channel is not None:
        await room.alice.join_voice(room.guild.channels[bot_channel])
        await room.alice.send(room.text, "!leave")
        await mw.sim.wait_for(lambda: room.guild.voice_channel_of(mw.app.bot.id) is None, timeout=10)
    for user in (room.alice, room.bob):
        await user.leave_voice(room.guild)
    await mw.clock.advance(3600)  # let every timer of this test run out


async def say(mw: MusicWorld, room: Room, text: str, answer: str, *, timeout: float = 15) -> Message:
    typed = await room.alice.send(room.text, text)
    return await mw.sim.wait_for_message(room.text, mw.titled(answer), after=typed, timeout=timeout)


async def test_play_into_an_empty_queue(mw: MusicWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    since = time.monotonic()
    typed = await room.alice.send(room.text, f"!play {media_server.url('/media/tone440.webm')}")
    queuing = await mw.sim.wait_for_message(room.text, mw.titled("⏳"), after=typed, timeout=10)
    added = await mw.sim.wait_for_message(room.text, mw.titled("🎵  Track added"), after=typed, timeout=15)
    playing = await mw.sim.wait_for_message(room.text, mw.titled("🎵  Now playing"), after=typed, timeout=15)
    assert queuing.id < added.id < playing.id, "Queuing…, then Track added, then Now playing"
    assert room.guild.voice_channel_of(mw.app.bot.id) == room.voice.id
    assert await heard(mw, room, 2.5, since=since) == 440
    presence = mw.sim.presence(mw.app) or {}
    statuses = [activity.get("state") for activity in presence.get("activities", [])]
    assert statuses == ["Playing tone440 · Web link"], presence


async def test_queue_three_and_skip_two(mw: MusicWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    await say(mw, room, f"!play {media_server.url('/media/long440.webm')}", "🎵  Now playing")
    second = await say(mw, room, f"!play {media_server.url('/media/tone660.mp3')}", "🎵  Track added")
    third = await say(mw, room, f"!play {media_server.url('/media/tone880.m4a')}", "🎵  Track added")
    assert "Position 1" in second.text()
    assert "Position 2" in third.text()
    since = time.monotonic()
    skipped = await say(mw, room, "!skip 2", "⏭️  Skipped")
    assert "Skipped 2 track(s)" in skipped.text()
    await mw.sim.wait_for_message(
        room.text,
        lambda m: mw.titled("🎵  Now playing")(m) and "tone880" in m.text(),
        after=skipped,
        timeout=15,
    )
    assert await heard(mw, room, 1.5, since=since) == 880


async def test_playtop_while_paused_starts_the_new_track(mw: MusicWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    await say(mw, room, f"!play {media_server.url('/media/long440.webm')}", "🎵  Now playing")
    await say(mw, room, "!pause", "⏸️  Paused")
    music = mw.bot.music.existing(room.guild.id)
    assert music is not None
    assert music.player.paused
    since = time.monotonic()
    await say(mw, room, f"!playtop {media_server.url('/media/tone660.mp3')}", "🎵  Now playing")
    assert await heard(mw, room, 1.5, since=since) == 660
    assert not music.player.paused


async def test_playnow_replaces_without_overlap(mw: MusicWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    since = time.monotonic()
    await say(mw, room, f"!play {media_server.url('/media/long440.webm')}", "🎵  Now playing")
    await mw.sim.wait_for(lambda: mw.sim.voice.audio_seconds(room.guild.id, since=since) >= 1.0, timeout=15)
    await say(mw, room, f"!playnow {media_server.url('/media/tone880.m4a')}", "🎵  Now playing")
    await mw.sim.wait_for(lambda: mw.sim.voice.audio_seconds(room.guild.id, since=since) >= 3.5, timeout=15)
    pcm = await mw.sim.voice.pcm(room.guild.id, since=since)
    pitches = [round(freq / 10) * 10 for _, freq in pitch_track(pcm, window=0.1)]
    assert pitches[0] == 440
    assert pitches[-1] == 880
    # Windows straddling the switch show a blend; what must never happen is the old tone after the new one.
    last_old = max(i for i, p in enumerate(pitches) if abs(p - 440) <= 20)
    first_new = min(i for i, p in enumerate(pitches) if abs(p - 880) <= 20)
    assert last_old < first_new, f"the two tracks interleaved: {pitches}"
    assert len({p.ssrc for p in mw.sim.voice.packets(room.guild.id, since=since)}) == 1


async def test_stop_then_leave_after_five_idle_minutes(mw: MusicWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    await say(mw, room, f"!play {media_server.url('/media/long440.webm')}", "🎵  Now playing")
    stopped = await say(mw, room, "!stop", "⏹️  Playback stopped")
    await mw.sim.wait_for(lambda: 300 in mw.clock.pending())
    await mw.clock.advance(299)
    assert room.guild.voice_channel_of(mw.app.bot.id) == room.voice.id
    await mw.clock.advance(2)
    await mw.sim.wait_for_message(room.text, mw.titled("👋  Leaving voice channel"), after=stopped)
    await mw.sim.wait_for(lambda: room.guild.voice_channel_of(mw.app.bot.id) is None)


async def test_a_new_track_cancels_the_idle_timer(mw: MusicWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    await say(mw, room, f"!play {media_server.url('/media/long440.webm')}", "🎵  Now playing")
    await say(mw, room, "!stop", "⏹️  Playback stopped")
    await mw.sim.wait_for(lambda: 300 in mw.clock.pending())
    await mw.clock.advance(200)
    await say(mw, room, f"!play {media_server.url('/media/long440.webm')}", "🎵  Now playing")
    await mw.clock.advance(200)  # the old timer's deadline passes: it must not fire
    assert room.guild.voice_channel_of(mw.app.bot.id) == room.voice.id


async def test_left_alone_leaves_after_the_grace(mw: MusicWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    await say(mw, room, f"!play {media_server.url('/media/long440.webm')}", "🎵  Now playing")
    other_bot = mw.sim.create_user("otherbot", bot=True)
    mw.sim.add_member(room.guild, other_bot)
    await other_bot.join_voice(room.voice)  # bots don't count as listeners
    await room.alice.leave_voice(room.guild)
    await mw.sim.wait_for(lambda: 30 in mw.clock.pending())
    await room.alice.join_voice(room.voice)  # back within the grace: stay
    await mw.clock.advance(31)
    assert room.guild.voice_channel_of(mw.app.bot.id) == room.voice.id
    await room.alice.leave_voice(room.guild)
    await mw.sim.wait_for(lambda: 30 in mw.clock.pending())
    await mw.clock.advance(31)
    await mw.sim.wait_for(lambda: room.guild.voice_channel_of(mw.app.bot.id) is None)
    await other_bot.leave_voice(room.guild)


async def test_unsafe_links_and_huge_queries_are_refused(mw: MusicWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    guard = mw.bot.music.resolver.guard
    guard.allow_private = False  # production policy for this test; the other tests need the local server
    try:
        for link in (
            "http://127.0.0.1:9/x.mp3",
            "http://169.254.169.254/latest/meta-data",
            "file:///etc/passwd",
            "ftp://example.com/song.mp3",
            "http://[::1]/a.mp3",
            "http://2130706433/a.mp3",
            media_server.url("/media/tone440.webm"),
        ):
            answer = await say(mw, room, f"!play {link}", "🚫")
            assert "🚫" in answer.embeds[0]["title"]
        answer = await say(mw, room, "!play " + "a" * 10_000, "🚫")
        assert "too long" in answer.text()
    finally:
        guard.allow_private = True
    music = mw.bot.music.existing(room.guild.id)
    assert music is None or (music.player.current is None and not music.player.queue)
    assert room.guild.voice_channel_of(mw.app.bot.id) is None
    assert all("/etc/passwd" not in seen for seen in media_server.paths())
