"""The history picker replays the track it showed, even if the history moved on before the click."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.command_world import CommandWorld, command_world, reset_room, say, settled, titled
from tests.media.conftest import MediaServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def mw(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CommandWorld]:
    async with command_world(Path(tmp_path_factory.mktemp("history-pick")) / "music.db") as world:
        yield world


async def test_a_pick_replays_the_shown_track_after_another_one_started(
    mw: CommandWorld, media_server: MediaServer
) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    songs = [media_server.url(f"/media/tone660.mp3?song={i}") for i in range(1, 4)]
    await say(mw, room, f"!play {songs[0]}", "🎵  Now playing")
    await say(mw, room, f"!playnow {songs[1]}", "🎵  Now playing")
    picker = await say(mw, room, "!history", "📜  Recently played")  # 1: song 2, 2: song 1
    # Before the click, another track starts and becomes the newest history entry.
    await say(mw, room, f"!playnow {songs[2]}", "🎵  Now playing")
    assert [t.locator for t in mw.music(room).player.history] == songs[::-1]
    await settled(await room.alice.click(picker, "2"))
    await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Track added"), after=picker, timeout=10)
    assert [t.locator for t in mw.music(room).player.queue] == [songs[0]], "not the track that was shown"
    await reset_room(mw, room)
