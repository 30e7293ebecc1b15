"""Lists as people queue them: an m3u/pls file from a trusted host is confirmed by its name with what was
left out, and a queue that is full takes the first tracks of a list that fit and says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.command_world import CommandWorld, command_world, reset_room, say
from tests.media.conftest import MediaServer

pytestmark = pytest.mark.slow

QUEUE_CAP = 2


@pytest.fixture(scope="module")
async def mw(
    tmp_path_factory: pytest.TempPathFactory, media_server: MediaServer
) -> AsyncIterator[CommandWorld]:
    database = Path(tmp_path_factory.mktemp("lists")) / "music.db"
    async with command_world(
        database, trusted_playlist_hosts="localhost", max_queue_tracks=QUEUE_CAP
    ) as world:
        yield world


@pytest.fixture(autouse=True)
async def fresh_room(mw: CommandWorld) -> AsyncIterator[None]:
    yield
    await reset_room(mw, mw.room)


def m3u(media_server: MediaServer) -> str:
    return media_server.url("/lists/radio.m3u?host=localhost", "localhost")


def pls(media_server: MediaServer) -> str:
    return media_server.url("/lists/radio.pls?host=localhost", "localhost")


async def test_a_playlist_file_is_confirmed_by_name_with_what_was_left_out(
    mw: CommandWorld, media_server: MediaServer
) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    added = await say(mw, room, f"!play {m3u(media_server)}", "🎵  Playlist added")
    assert "radio.m3u" in added.text()
    assert "Playlist length: 2" in added.text()
    assert "8 entry(ies) are not web links" in added.text()
    await say(mw, room, "!pause", "⏸️  Paused")

    # One entry only, and still a playlist: named, not "Track added".
    single = await say(mw, room, f"!play {pls(media_server)}", "🎵  Playlist added")
    assert "radio.pls" in single.text()
    assert "Playlist length: 1" in single.text()


async def test_a_full_queue_takes_the_first_tracks_that_fit_and_then_refuses(
    mw: CommandWorld, media_server: MediaServer
) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    await say(mw, room, f"!play {m3u(media_server)}", "🎵  Playlist added")  # one plays, one waits
    await say(mw, room, "!pause", "⏸️  Paused")  # the 3 s tones must not run out during the test

    cut = await say(mw, room, f"!play {m3u(media_server)}", "🎵  Playlist added")
    assert "The queue holds at most 2 tracks; added the first 1." in cut.text()
    assert "Playlist length: 1" in cut.text()
    music = mw.music(room)
    assert [t.title for t in music.player.queue] == ["Tone eight-eighty", "Tone six-sixty"]
    await say(mw, room, "!pause", "⏸️  Paused")  # `play` resumed it

    full = await say(mw, room, f"!play {pls(media_server)}", "🚫  Queue full")
    assert "at most 2 tracks" in full.text()
    assert len(music.player.queue) == QUEUE_CAP, "refused: nothing changed"
    assert music.player.paused, "a refused add does not resume the paused track"
