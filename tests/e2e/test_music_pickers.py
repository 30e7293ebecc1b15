"""The music flows with buttons, as people use them: the queue pages, the history picker and the search
picker (against a local fake of the YouTube Data API)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simcord import Message
from tests.e2e.command_world import (
    CommandWorld,
    command_world,
    followup,
    labels,
    reset_room,
    say,
    settled,
    slash,
    titled,
    titles,
)
from tests.e2e.music_world import Room
from tests.media.conftest import MediaServer

pytestmark = pytest.mark.slow

QUEUE_REFUSAL = "Only the person who ran this command can navigate the queue."
HISTORY_REFUSAL = "Only the person who ran this command can select a track."
SEARCH_REFUSAL = "Only the person who searched can pick a result."


@pytest.fixture(scope="module")
async def mw(
    tmp_path_factory: pytest.TempPathFactory, media_server: MediaServer
) -> AsyncIterator[CommandWorld]:
    async with command_world(
        Path(tmp_path_factory.mktemp("pickers")) / "music.db",
        rooms=2,
        youtube_api_key="dummy-key",
        youtube_api_base_url=media_server.url("/api/youtube/v3"),
    ) as world:
        yield world


@pytest.fixture(autouse=True)
async def fresh_rooms(mw: CommandWorld) -> AsyncIterator[None]:
    yield
    for room in mw.rooms:
        await reset_room(mw, room)


def disabled(message: Message) -> list[str]:
    return [str(b.get("label")) for b in message.buttons() if b.get("disabled")]


def notices(mw: CommandWorld, room: Room, text: str) -> list[Message]:
    return [m for m in mw.sim.messages(room.text, include_ephemeral=True) if m.ephemeral and text in m.text()]


# ------------------------------------------------------------------------------------------------ queue


async def test_queue_pages_follow_the_live_queue(mw: CommandWorld, media_server: MediaServer) -> None:
    room = mw.room
    empty = await say(mw, room, "!queue", "🚫  Empty queue")
    assert not empty.components
    await room.alice.join_voice(room.voice)
    await say(mw, room, f"!play {media_server.url('/media/long440.webm')}", "🎵  Now playing")
    short = media_server.url("/media/tone660.mp3")
    await say(mw, room, f"!play {short}", "🎵  Track added")
    single = await say(mw, room, "!queue", "📜  Queue")
    assert not single.components, "one page needs no buttons"
    assert titles(single) == ["🎵  Now playing:", "📜  Queue"]
    assert "Queue length: 1 · page 1/1" in single.text()

    for _ in range(11):
        await room.alice.send(room.text, f"!play {short}")
    await mw.sim.wait_for(lambda: len(mw.music(room).player.queue) == 12, timeout=30)
    await say(mw, room, "!pause", "⏸️  Paused")  # nothing moves on while we look
    paged = await say(mw, room, "!queue", "📜  Queue")
    assert labels(paged) == [["◀", "1/2", "▶"]]
    assert disabled(paged) == ["◀", "1/2"]
    assert ":one::zero:" in paged.text()
    assert ":one::one:" not in paged.text()
    assert "Queue length: 12 · page 1/2" in paged.text()

    # Someone else is told once, then not again for 5 s; the page does not move.
    await settled(await room.bob.click(paged, "▶"))
    await mw.sim.wait_for(lambda: len(notices(mw, room, QUEUE_REFUSAL)) == 1)
    assert notices(mw, room, QUEUE_REFUSAL)[0].ephemeral_for == room.bob.id
    await settled(await room.bob.click(paged, "▶"))
    await settled(await room.alice.click(paged, "▶"))
    await mw.sim.wait_for(lambda: labels(paged) == [["◀", "2/2", "▶"]])
    assert ":one::one:" in paged.text()
    assert ":one::two:" in paged.text()
    assert "page 2/2" in paged.text()
    assert disabled(paged) == ["2/2", "▶"]
    await mw.clock.advance(5)
    await settled(await room.bob.click(paged, "◀"))
    await mw.sim.wait_for(lambda: len(notices(mw, room, QUEUE_REFUSAL)) == 2)

    # Every click reads the queue again: cleared meanwhile, the next click shows a single page.
    cleared = await say(mw, room, "!clear", "🧹  Queue cleared")
    assert "Removed 12 track(s)" in cleared.text()
    await settled(await room.alice.click(paged, "◀"))
    await mw.sim.wait_for(lambda: not paged.components)
    assert "Nothing queued after this track." in paged.text()
    assert "Queue length: 0 · page 1/1" in paged.text()
    assert len(notices(mw, room, QUEUE_REFUSAL)) == 2

    await mw.sim.wait_for(lambda: 60 in mw.clock.pending())
    await mw.clock.advance(61)
    await mw.sim.wait_for(lambda: paged.deleted)


# ------------------------------------------------------------------------------------------------ history


async def test_history_replays_a_pick_and_expires(mw: CommandWorld, media_server: MediaServer) -> None:
    room = mw.rooms[1]
    await room.alice.join_voice(room.voice)
    await say(mw, room, "!history", "📜  No history")
    # Seven different songs start one after the other (the query string makes each its own song).
    songs = [media_server.url(f"/media/tone660.mp3?song={i}") for i in range(1, 8)]
    typed = await room.alice.send(room.text, f"!play {songs[0]}")
    await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Now playing"), after=typed, timeout=15)
    for song in songs[1:]:
        typed = await room.alice.send(room.text, f"!playnow {song}")
        await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Now playing"), after=typed, timeout=15)
    assert [t.locator for t in mw.music(room).player.history] == songs[::-1]

    picker = await say(mw, room, "!history", "📜  Recently played")
    assert labels(picker) == [["1", "2", "3", "4"], ["5", "6", "7"]], "balanced rows, no cancel"
    await settled(await room.bob.click(picker, "1"))
    await mw.sim.wait_for(lambda: notices(mw, room, HISTORY_REFUSAL))
    assert not picker.deleted
    await settled(await room.alice.click(picker, "7"))  # the oldest: song 1
    added = await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Track added"), after=picker, timeout=10)
    assert picker.deleted
    assert "Position 1" in added.text()
    assert [t.locator for t in mw.music(room).player.queue] == [songs[0]]
    skipped = await say(mw, room, "!skip", "⏭️  Skipped")
    await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Now playing"), after=skipped, timeout=15)
    assert mw.music(room).player.history[0].locator == songs[0]

    picker = await say(mw, room, "!history", "📜  Recently played")
    await mw.sim.wait_for(lambda: 120 in mw.clock.pending())
    await mw.clock.advance(119)
    assert not picker.deleted
    await mw.clock.advance(2)
    expired = await mw.sim.wait_for_message(room.text, titled(mw, "🚫  Search expired"), after=picker)
    assert picker.deleted
    assert expired.id > picker.id


# ------------------------------------------------------------------------------------------------ search


async def test_search_picker_cancel_and_other_users(mw: CommandWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    picker = await say(mw, room, "!play rick", "🔍  Search results")
    # The livestream the search also found is not offered: it could not be played here.
    assert labels(picker) == [["1", "2", "❌ Cancel"]]
    names = [f["name"] for f in picker.embeds[0]["fields"]]
    assert names == ["1.  Rick & Roll", "2.  Me at the zoo"]
    searched = [s for s in media_server.requests if s.path == "/api/youtube/v3/search"]
    assert searched[-1].query["q"] == "rick"
    assert searched[-1].query["key"] == "dummy-key"

    await settled(await room.bob.click(picker, "1"))
    await mw.sim.wait_for(lambda: notices(mw, room, SEARCH_REFUSAL))
    assert notices(mw, room, SEARCH_REFUSAL)[0].ephemeral_for == room.bob.id
    await settled(await room.alice.click(picker, "❌ Cancel"))
    cancelled = await mw.sim.wait_for_message(room.text, titled(mw, "✖  Search cancelled"), after=picker)
    assert "Nothing was added" in cancelled.text()
    assert picker.deleted
    music = mw.bot.music.existing(room.guild.id)
    assert music is None or (music.player.current is None and not music.player.queue)
    assert mw.bot_channel(room) is None


async def test_search_pick_that_cannot_play_is_reported(mw: CommandWorld, media_server: MediaServer) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    await say(mw, room, f"!play {media_server.url('/media/long440.webm')}", "🎵  Now playing")
    picker = await say(mw, room, "!play rick", "🔍  Search results")
    await settled(await room.alice.click(picker, "1"))
    added = await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Track added"), after=picker, timeout=10)
    assert "Rick & Roll" in added.text()
    assert "Position 1" in added.text()
    assert "YouTube" in added.text()
    await say(mw, room, f"!play {media_server.url('/media/tone660.mp3')}", "🎵  Track added")

    # Offline, the YouTube video cannot be fetched: reported, skipped, and the next track plays.
    skipped = await say(mw, room, "!skip", "⏭️  Skipped")
    failure = await mw.sim.wait_for_message(
        room.text, titled(mw, "🚫  Playback error"), after=skipped, timeout=40
    )
    assert "Rick & Roll" in failure.text()
    await mw.sim.wait_for_message(
        room.text, titled(mw, "🎵  Now playing", "tone660"), after=failure, timeout=15
    )
    after_failure = [m for m in mw.sim.messages(room.text) if m.id > failure.id and mw.from_bot(m)]
    assert not [m for m in after_failure if "Rick" in m.text()], "nothing claims the track played"
    played = titled(mw, "🎵  Now playing", "Rick")
    assert not [m for m in mw.sim.messages(room.text) if m.id > added.id and played(m)]


async def test_slash_search_and_picker_expiry(mw: CommandWorld) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    record = await slash(mw, room, "play", query="zoo")
    picker = record.response
    assert picker is not None
    assert titles(picker) == ["🔍  Search results"]
    assert not picker.ephemeral
    await settled(await room.alice.click(picker, "2"))
    added = await followup(mw, record, "Me at the zoo")
    assert titles(added) == ["🎵  Track added to queue  ·  🎬 YouTube"]
    failure = await mw.sim.wait_for_message(
        room.text, titled(mw, "🚫  Playback error"), after=added, timeout=40
    )
    assert "Me at the zoo" in failure.text()
    await mw.sim.wait_for(lambda: mw.music(room).player.current is None)
    assert not [m for m in mw.sim.messages(room.text) if m.id > failure.id and "zoo" in m.text()]

    picker = await say(mw, room, "!play rick", "🔍  Search results")
    await mw.sim.wait_for(lambda: 120 in mw.clock.pending())
    await mw.clock.advance(121)
    expired = await mw.sim.wait_for_message(room.text, titled(mw, "🚫  Search expired"), after=picker)
    assert picker.deleted
    assert "search" in expired.text()


async def test_no_interaction_failed(mw: CommandWorld) -> None:
    assert mw.sim.interactions, "the module clicked buttons"
    assert not mw.failed_interactions()
