"""What the local library refuses, and how: damaged files, a full library, a second download at once, and
renaming or removing a track the queue still needs. Each refusal says why and changes nothing."""

from __future__ import annotations

import random
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from pytunes.music.local_cog import LocalLibrary
from tests.e2e.command_world import (
    CommandWorld,
    file_names,
    library_world_fixture,
    reset_room,
    say,
    slash,
    titled,
)
from tests.media.conftest import MediaFiles, MediaServer

pytestmark = pytest.mark.slow

DEFERRED = 5  # the interaction callback type of "thinking…"

mw = library_world_fixture("library-limits")


@pytest.fixture
def cog(mw: CommandWorld) -> LocalLibrary:
    found = mw.bot.get_cog("LocalLibrary")
    assert isinstance(found, LocalLibrary)
    return found


@pytest.fixture(autouse=True)
async def fresh_room(mw: CommandWorld, library: Path) -> AsyncIterator[None]:
    await mw.room.alice.join_voice(mw.room.voice)
    yield
    await reset_room(mw, mw.room)


@pytest.fixture
def capped(cog: LocalLibrary) -> Iterator[None]:
    """The library capped at 1 MB for one test."""
    before = cog.media.library.max_bytes
    cog.media.library.max_bytes = 1024 * 1024
    yield
    cog.media.library.max_bytes = before


def junk_m4a(m4a: bytes) -> bytes:
    """`m4a` with its audio data (the `mdat` box) replaced by noise: the header still reads as 3 s AAC."""
    at = m4a.index(b"mdat")
    size = int.from_bytes(m4a[at - 4 : at], "big")
    return m4a[: at + 4] + random.Random(7).randbytes(size - 8) + m4a[at - 4 + size :]


def junk_mp3(mp3: bytes) -> bytes:
    """2 KB of real MP3 frames, then 300 KB of noise."""
    return mp3[:2048] + random.Random(7).randbytes(300_000)


# ------------------------------------------------------------------------------------------------ damaged


async def test_a_valid_header_in_front_of_junk_is_refused(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    room = mw.room
    damaged = [
        ("noise.m4a", junk_m4a(media_files.m4a.read_bytes()), "audio/x-m4a"),
        ("noise.mp3", junk_mp3(media_files.mp3.read_bytes()), "audio/mpeg"),
    ]
    for upload in damaged:
        refused = await say(mw, room, "!local upload", "🚫  Download failed", files=[upload])
        assert "That file is damaged: FFmpeg couldn't decode it." in refused.text()
        played = await say(mw, room, "!play", "🚫  Could not play that", files=[upload])
        assert "damaged" in played.text()
    assert file_names(library) == [], "nothing kept: no library file, no attachment, no part file"
    assert mw.bot_channel(room) is None


# ------------------------------------------------------------------------------------------------ size cap


async def test_a_full_library_refuses_downloads_and_uploads(
    mw: CommandWorld, media_server: MediaServer, media_files: MediaFiles, library: Path, capped: None
) -> None:
    room = mw.room
    (library / "big.wav").write_bytes(b"x" * (800 * 1024))
    upload = ("long.webm", media_files.long_webm.read_bytes(), "audio/webm")  # 330 KB: too much
    refused = await say(mw, room, "!local upload", "🚫  Download failed", files=[upload])
    assert "The library is full: 0.8 MB of 1 MB used, and this file needs 0.3 MB." in refused.text()
    assert "local remove" in refused.text()
    assert file_names(library) == ["big.wav"]

    (library / "big.wav").write_bytes(b"x" * (1024 * 1024))
    seen = len(media_server.requests)
    full = await say(
        mw, room, f"!local download {media_server.url('/media/tone660.mp3')}", "🚫  Download failed"
    )
    assert "The library is full: 1.0 MB of 1 MB used." in full.text()
    assert len(media_server.requests) == seen, "refused before a single byte was fetched"
    played = await say(mw, room, "!play", "🚫  Could not play that", files=[upload])
    assert "The library is full" in played.text()
    assert file_names(library) == ["big.wav"]
    assert mw.bot_channel(room) is None

    (library / "big.wav").unlink()
    await say(mw, room, "!local upload", "✅  Downloaded", files=[upload])


# ------------------------------------------------------------------------------------------------ one at a time


async def test_one_download_at_a_time_per_person(
    mw: CommandWorld, media_server: MediaServer, cog: LocalLibrary, library: Path
) -> None:
    room = mw.room
    downloader = cog.media.downloader
    before = downloader.timeout
    downloader.timeout = 0.8  # the server never answers; this is how long the first download hangs
    try:
        first = await room.alice.send(room.text, f"!local download {media_server.silent_url}")
        await mw.sim.wait_for(lambda: cog.media.slots.running == 1)
        busy = await say(
            mw, room, f"!local download {media_server.url('/media/tone660.mp3')}", "🚫  Download failed"
        )
        assert "You already have a download running" in busy.text()
        slow = await mw.sim.wait_for_message(
            room.text, titled(mw, "🚫  Download failed"), after=busy, timeout=5
        )
        assert "took too long" in slow.text()
        assert first.id < busy.id < slow.id
    finally:
        downloader.timeout = before
    assert cog.media.slots.running == 0
    assert file_names(library) == []
    await say(mw, room, f"!local download {media_server.url('/media/tone660.mp3')}", "✅  Downloaded")


# ------------------------------------------------------------------------------------------------ in use


async def test_a_playing_or_queued_track_is_neither_renamed_nor_removed(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    room = mw.room
    shutil.copy(media_files.long_webm, library / "long.webm")
    shutil.copy(media_files.mp3, library / "next.mp3")
    await say(mw, room, "!local play long", "🎵  Now playing")
    await say(mw, room, "!local play next", "🎵  Track added")

    playing = await say(mw, room, "!local rename long.webm short", "🚫  Rename failed")
    assert "long.webm is playing right now; skip or stop it first." in playing.text().replace("**", "")
    queued = await say(mw, room, "!local remove next", "🚫  Remove failed")
    assert "next.mp3 is in the queue; remove it from the queue first." in queued.text().replace("**", "")
    assert file_names(library) == ["long.webm", "next.mp3"]
    assert [t.locator for t in mw.music(room).player.queue] == ["next.mp3"]

    await say(mw, room, "!clear", "🧹  Queue cleared")
    await say(mw, room, "!local rename next later", "✏️  Renamed")
    assert file_names(library) == ["later.mp3", "long.webm"]


# ------------------------------------------------------------------------------------------------ slash


async def test_slash_play_rename_and_remove_answer_at_once(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    """They can take longer than Discord's 3 s (joining voice, a picker, a confirmation), so they show
    "thinking…" first."""
    room = mw.room
    shutil.copy(media_files.mp3, library / "tone.mp3")
    play = await slash(mw, room, "local play", name="tone.mp3")
    assert play.ack_type == DEFERRED
    assert not play.failed
    await mw.sim.wait_for(lambda: any("tone" in m.text() for m in play.messages()))
    await say(mw, room, "!stop", "⏹️  Playback stopped")
    rename = await slash(mw, room, "local rename", old="tone.mp3", new="beep")
    assert rename.ack_type == DEFERRED
    assert not rename.failed
    await mw.sim.wait_for(lambda: any("beep.mp3" in m.text() for m in rename.messages()))
    remove = await slash(mw, room, "local remove", name="beep.mp3")
    assert remove.ack_type == DEFERRED
    assert not remove.failed
    await mw.sim.wait_for(lambda: any("Delete this track?" in m.text() for m in remove.messages()))
    assert file_names(library) == ["beep.mp3"]
