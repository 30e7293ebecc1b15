"""`play` with an audio attachment, by prefix and by slash: checked, kept on disk, and heard in voice."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.command_world import CommandWorld, library_world_fixture, reset_room, say, slash, titled
from tests.e2e.music_world import heard
from tests.media.conftest import MediaFiles

pytestmark = pytest.mark.slow

mw = library_world_fixture("attachments")


@pytest.fixture(autouse=True)
async def fresh_room(mw: CommandWorld) -> AsyncIterator[None]:
    await mw.room.alice.join_voice(mw.room.voice)
    yield
    await reset_room(mw, mw.room)


def kept(mw: CommandWorld) -> list[str]:
    assert mw.settings is not None
    folder = Path(mw.settings.library_dir) / ".attachments"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_play_an_attachment_by_prefix(mw: CommandWorld, media_files: MediaFiles) -> None:
    room = mw.room
    since = time.monotonic()
    typed = await room.alice.send(
        room.text, "!play", files=[("tone 880.m4a", media_files.m4a.read_bytes(), "audio/x-m4a")]
    )
    queuing = await mw.sim.wait_for_message(room.text, titled(mw, "⏳  Queuing…"), after=typed, timeout=10)
    added = await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Track added"), after=typed, timeout=15)
    playing = await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Now playing"), after=typed, timeout=15)
    assert queuing.id < added.id < playing.id
    assert "tone 880" in playing.text()
    assert "📎 Upload" in playing.text()
    assert await heard(mw, room, 1.5, since=since) == 880
    assert any(name.endswith("-tone 880.m4a") for name in kept(mw)), "kept on disk: Discord's links expire"

    # playtop with a second upload goes to the front of the queue.
    typed = await room.alice.send(
        room.text, "!playtop", files=[("next.mp3", media_files.mp3.read_bytes(), "audio/mpeg")]
    )
    top = await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Track added"), after=typed, timeout=15)
    assert "Position 1" in top.text()


async def test_play_an_attachment_by_slash(mw: CommandWorld, media_files: MediaFiles) -> None:
    room = mw.room
    since = time.monotonic()
    record = await slash(
        mw, room, "playnow", file=mw.sim.upload("tone440.webm", media_files.webm.read_bytes(), "video/webm")
    )
    await mw.sim.wait_for(
        lambda: any("tone440" in m.text() for m in [record.response, *record.followups] if m)
    )
    assert await heard(mw, room, 1.5, since=since) == 440


async def test_bad_attachments_are_refused_and_change_nothing(
    mw: CommandWorld, media_files: MediaFiles
) -> None:
    room = mw.room
    before = kept(mw)
    cases = [
        (("photo.png", b"\x89PNG\r\n", "image/png"), "doesn't look like an audio file"),
        (("big.mp3", b"\xff" * (1024 * 1024 + 1), "audio/mpeg"), "too large (1.0 MB); the limit is 1 MB"),
        (("broken.mp3", media_files.corrupt.read_bytes(), "audio/mpeg"), "FFmpeg found no audio"),
    ]
    for upload, reason in cases:
        refused = await say(mw, room, "!play", "🚫  Could not play that", files=[upload], timeout=10)
        assert reason in refused.text()
    conflict = await say(
        mw,
        room,
        "!play some words",
        "🚫  Error",
        files=[("a.mp3", media_files.mp3.read_bytes(), "audio/mpeg")],
        timeout=10,
    )
    assert "not both" in conflict.text()
    nothing = await say(mw, room, "!play", "🚫  Error")
    assert "attach one to your message" in nothing.text()
    assert kept(mw) == before
    assert mw.bot_channel(room) is None, "nothing to play, so the bot never joined"
    record = await slash(mw, room, "play")
    assert record.response is not None
    assert "use the `file` option" in record.response.text()
