"""`local …` as people use it: paged listing, checked downloads and uploads, exact matches and paged
pickers, rename, and removal that asks first and takes the sidecars along."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simcord import Message
from tests.e2e.command_world import (
    CommandWorld,
    answer_to_click,
    file_names,
    labels,
    library_world_fixture,
    reset_room,
    say,
    settled,
    slash,
    titled,
)
from tests.e2e.music_world import heard
from tests.media.conftest import MediaFiles, MediaServer

pytestmark = pytest.mark.slow

mw = library_world_fixture("library")


@pytest.fixture(autouse=True)
async def fresh_room(mw: CommandWorld, library: Path) -> AsyncIterator[None]:
    await mw.room.alice.join_voice(mw.room.voice)
    yield
    await reset_room(mw, mw.room)


def plain(message: Message) -> str:
    """The message's text without the markdown escapes and bold marks that file names get."""
    return message.text().replace("\\", "").replace("**", "")


def components(message: Message) -> int:
    return sum(len(row.get("components", [])) for row in message.components)


# ------------------------------------------------------------------------------------------------ list


async def test_list_is_paged_past_25_and_shows_only_playable_files(mw: CommandWorld, library: Path) -> None:
    room = mw.room
    empty = await say(mw, room, "!local", "📁  Local library empty")
    assert "!local download <url>" in empty.text()
    for i in range(47):
        (library / f"song {i:02}.mp3").write_bytes(b"x")
    (library / ".hidden.mp3").write_bytes(b"x")
    (library / "notes.txt").write_bytes(b"x")
    (library / "folder.mp3").mkdir()
    outside = library.parent / "outside.mp3"
    outside.write_bytes(b"x")
    os.symlink(outside, library / "escape.mp3")

    listed = await say(mw, room, "!local list", "📁  Local library")
    assert labels(listed) == [["◀", "1/3", "▶"]]
    assert "47 file(s) · page 1/3" in listed.text()
    seen = [line for line in listed.text().splitlines() if line.startswith("`")]
    for page in (2, 3):
        await settled(await room.alice.click(listed, "▶"))
        await mw.sim.wait_for(lambda p=page: f"page {p}/3" in listed.text())  # type: ignore[misc]
        seen += [line for line in listed.text().splitlines() if line.startswith("`")]
    assert seen == [f"`{i + 1}.` song {i:02}.mp3" for i in range(47)], "every file, numbered, none twice"
    for hidden in (".hidden", "notes.txt", "folder.mp3", "escape.mp3"):
        assert hidden not in listed.text()
    bare = await say(mw, room, "!local", "📁  Local library")
    assert "page 1/3" in bare.text()


# ------------------------------------------------------------------------------------------------ download


async def test_download_saves_a_checked_file_then_plays_it(
    mw: CommandWorld, media_server: MediaServer, library: Path
) -> None:
    room = mw.room
    since = time.monotonic()
    typed = await room.alice.send(room.text, f"!local download {media_server.url('/media/tone660.mp3')}")
    downloading = await mw.sim.wait_for_message(
        room.text, titled(mw, "⬇️  Downloading"), after=typed, timeout=10
    )
    done = await mw.sim.wait_for_message(room.text, titled(mw, "✅  Downloaded"), after=typed, timeout=15)
    playing = await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Now playing"), after=typed, timeout=15)
    assert downloading.id < done.id < playing.id
    assert "tone660.mp3" in done.text()
    assert "📁 Local file" in playing.text()
    assert await heard(mw, room, 1.5, since=since) == 660
    assert file_names(library) == ["tone660.mp3"]

    again = await say(mw, room, f"!local download {media_server.url('/media/tone660.mp3')}", "✅  Downloaded")
    assert "tone660 (1).mp3" in again.text()
    named = await say(mw, room, f"!local download {media_server.url('/library/get')}", "✅  Downloaded")
    assert "My Song (live).mp3" in named.text(), "the Content-Disposition name (filename*=, percent-decoded)"
    custom = await say(
        mw, room, f"!local download {media_server.url('/media/tone880.m4a')} ../../my tune", "✅  Downloaded"
    )
    assert "_.._my tune.m4a" in plain(custom), "a custom name is sanitized and borrows the real extension"
    assert file_names(library) == ["My Song (live).mp3", "_.._my tune.m4a", "tone660 (1).mp3", "tone660.mp3"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/page.html", "a web page (text/html), not an audio file"),
        ("/library/big.mp3", "too large (2.0 MB); the limit is 1 MB"),
        ("/library/big-unannounced.mp3", "too large"),
        ("/media/corrupt.mp3", "FFmpeg found no audio"),
        ("/library/blob", "no audio extension"),
        ("/lists/radio.m3u", "a playlist (audio/x-mpegurl)"),
        ("/media/missing.mp3", "returned 404"),
    ],
)
async def test_download_refuses_what_is_not_a_small_audio_file(
    mw: CommandWorld, media_server: MediaServer, library: Path, path: str, reason: str
) -> None:
    failed = await say(mw, mw.room, f"!local download {media_server.url(path)}", "🚫  Download failed")
    assert reason in failed.text()
    assert file_names(library) == [], "nothing kept, no part file left behind"
    assert mw.bot_channel(mw.room) is None, "a failed download plays nothing"


async def test_download_refuses_other_schemes_before_any_request(
    mw: CommandWorld, media_server: MediaServer
) -> None:
    seen = len(media_server.requests)
    failed = await say(mw, mw.room, "!local download file:///etc/passwd", "🚫  Download failed")
    assert "Only http:// and https://" in failed.text()
    assert len(media_server.requests) == seen


# ------------------------------------------------------------------------------------------------ upload


async def test_upload_by_prefix_and_slash(mw: CommandWorld, media_files: MediaFiles, library: Path) -> None:
    room = mw.room
    since = time.monotonic()
    typed = await room.alice.send(
        room.text, "!local upload", files=[("Morning Tone.mp3", media_files.mp3.read_bytes(), "audio/mpeg")]
    )
    saved = await mw.sim.wait_for_message(room.text, titled(mw, "✅  Downloaded"), after=typed, timeout=15)
    assert "Morning Tone.mp3" in saved.text()
    await mw.sim.wait_for_message(
        room.text, titled(mw, "🎵  Now playing", "Morning Tone"), after=typed, timeout=15
    )
    assert await heard(mw, room, 1.0, since=since) == 660

    # Slash: the attachment option, a custom name without extension, no extension on the upload either
    # (the content type gives it).
    record = await slash(
        mw,
        room,
        "local upload",
        file=mw.sim.upload("evening", media_files.m4a.read_bytes(), "audio/x-m4a"),
        name="CON",
    )
    await mw.sim.wait_for(
        lambda: any("_CON.m4a" in m.text() for m in [record.response, *record.followups] if m)
    )
    assert file_names(library) == ["Morning Tone.mp3", "_CON.m4a"]

    missing = await say(mw, room, "!local upload", "🚫  Upload failed")
    assert "Attach an audio file to your message." in missing.text()
    uploads = [
        (("cat.png", b"\x89PNG....", "image/png"), "doesn't look like an audio file"),
        (("fake.mp3", media_files.corrupt.read_bytes(), "audio/mpeg"), "FFmpeg found no audio"),
    ]
    for upload, reason in uploads:
        refused = await say(mw, room, "!local upload", "🚫  Download failed", files=[upload], timeout=10)
        assert reason in refused.text()
    assert file_names(library) == ["Morning Tone.mp3", "_CON.m4a"]


# ------------------------------------------------------------------------------------------------ play


async def test_exact_match_wins_and_the_picker_pages(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    room = mw.room
    shutil.copy(media_files.mp3, library / "song.mp3")
    shutil.copy(media_files.m4a, library / "song remix.mp3")
    for i in range(30):
        shutil.copy(media_files.m4a, library / f"track {i + 1:02}.m4a")

    since = time.monotonic()
    await say(mw, room, "!local play SONG", "🎵  Now playing")  # exact (case-insensitive): no picker
    assert mw.music(room).player.current is not None
    assert mw.music(room).player.current.title == "song"
    assert await heard(mw, room, 1.0, since=since) == 660
    await say(mw, room, "!stop", "⏹️  Playback stopped")

    picker = await say(mw, room, "!local play track", "📁  Pick a track to play")
    assert components(picker) <= 25
    assert labels(picker)[-1] == ["◀", "1/2", "▶", "❌ Cancel"]
    assert "`20.` track 20.m4a" in picker.text()
    assert "track 21" not in picker.text()
    await settled(await room.bob.click(picker, "▶"))  # not bob's picker: nothing moves
    await settled(await room.alice.click(picker, "▶"))
    await mw.sim.wait_for(lambda: "`21.` track 21.m4a" in picker.text())
    assert components(picker) <= 25
    assert "30 matches · page 2/2" in picker.text()
    typed_at = picker
    await settled(await room.alice.click(picker, "27"))
    await mw.sim.wait_for(lambda: picker.deleted)
    await mw.sim.wait_for_message(
        room.text, titled(mw, "🎵  Now playing", "track 27"), after=typed_at, timeout=15
    )

    cancelled = await say(mw, room, "!local play remix track", "🔎  No local match")
    assert "remix track" in cancelled.text()

    cog = mw.bot.get_cog("LocalLibrary")
    choices = await cog._complete(None, "")  # type: ignore[union-attr]
    assert len(choices) == 25
    assert {c.value for c in await cog._complete(None, "song")} == {"song.mp3"}  # type: ignore[union-attr]


async def test_same_titles_get_a_picker_and_long_names_autocomplete_to_a_token(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    room = mw.room
    shutil.copy(media_files.mp3, library / "song.mp3")
    shutil.copy(media_files.m4a, library / "song.m4a")
    picker = await say(mw, room, "!local play song", "📁  Pick a track to play")
    assert "`1.` song.m4a" in picker.text()
    assert "`2.` song.mp3" in picker.text()
    await answer_to_click(mw, room, picker, "2", "🎵  Now playing", text="song", timeout=15)
    assert mw.music(room).player.current is not None
    assert mw.music(room).player.current.locator == "song.mp3"
    await say(mw, room, "!stop", "⏹️  Playback stopped")

    long = "a very long title " * 7 + "end.mp3"  # 130 characters: too long for a choice's value
    shutil.copy(media_files.m4a, library / long)
    shutil.copy(media_files.mp3, library / f"{long[:96]}.mp3")  # the same first 96 characters
    cog = mw.bot.get_cog("LocalLibrary")
    choices = await cog._complete(None, "very long")  # type: ignore[union-attr]
    assert all(len(c.name) <= 100 and len(c.value) <= 100 for c in choices)
    token = next(c.value for c in choices if c.value.startswith("#"))
    typed = await room.alice.send(room.text, f"!local play {token}")
    playing = await mw.sim.wait_for_message(room.text, titled(mw, "🎵  Now playing"), after=typed, timeout=15)
    assert "end" in playing.text(), "the token plays exactly the long-named file, no picker"
    assert mw.music(room).player.current is not None
    assert mw.music(room).player.current.locator == long


async def test_picker_cancel_adds_nothing(mw: CommandWorld, media_files: MediaFiles, library: Path) -> None:
    room = mw.room
    for name in ("a tone.mp3", "b tone.mp3"):
        shutil.copy(media_files.mp3, library / name)
    picker = await say(mw, room, "!local play tone", "📁  Pick a track to play")
    assert labels(picker) == [["1", "2", "❌ Cancel"]]
    await answer_to_click(mw, room, picker, "❌ Cancel", "✖  Search cancelled")
    assert mw.bot_channel(room) is None


# ------------------------------------------------------------------------------------------------ rename


async def test_rename_keeps_the_type_and_the_sidecars(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    room = mw.room
    shutil.copy(media_files.mp3, library / "song.mp3")
    shutil.copy(media_files.mp3, library / "song remix.mp3")
    (library / "song.mp3.lufs").write_text("-14.0")
    renamed = await say(mw, room, "!local rename song ../Song Two.flac", "✏️  Renamed")
    assert "song.mp3 → _Song Two.mp3" in plain(renamed), "sanitized; a rename never changes the type"
    assert file_names(library) == ["_Song Two.mp3", "_Song Two.mp3.lufs", "song remix.mp3"]
    taken = await say(mw, room, "!local rename remix _Song Two.flac", "✏️  Renamed")
    assert "song remix.mp3 → _Song Two (1).mp3" in plain(taken)
    ambiguous = await say(mw, room, "!local rename Song x", "✏️  Pick a track to rename")
    assert labels(ambiguous) == [["1", "2", "❌ Cancel"]]
    await answer_to_click(mw, room, ambiguous, "❌ Cancel", "✖  Search cancelled")
    missing = await say(mw, room, "!local rename nothing x", "🔎  No local match")
    assert "nothing" in missing.text()
    assert len(file_names(library)) == 3


# ------------------------------------------------------------------------------------------------ remove


async def test_remove_asks_first_and_takes_the_sidecars(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    room = mw.room
    shutil.copy(media_files.mp3, library / "gone.mp3")
    shutil.copy(media_files.mp3, library / "gone too.mp3")
    (library / "gone.mp3.lufs").write_text("-14.0")
    (library / "gone.gain").write_text("1.0")
    prompt = await say(mw, room, "!local remove gone", "🗑️  Delete this track?")
    assert labels(prompt) == [["🗑️ Delete", "Keep it"]]
    await settled(await room.bob.click(prompt, "🗑️ Delete"))  # only the author decides
    kept = await answer_to_click(mw, room, prompt, "Keep it", "✖  Removal cancelled")
    assert "gone.mp3" in kept.text()
    assert "gone.mp3" in file_names(library)

    prompt = await say(mw, room, "!local remove gone", "🗑️  Delete this track?")
    removed = await answer_to_click(mw, room, prompt, "🗑️ Delete", "🗑️  Removed")
    assert "2 file(s) that belonged to it" in removed.text()
    assert file_names(library) == ["gone too.mp3"]

    # No answer within a minute keeps the file.
    prompt = await say(mw, room, "!local remove gone too", "🗑️  Delete this track?")
    await mw.sim.wait_for(lambda: 60 in mw.clock.pending())
    await mw.clock.advance(61)
    await mw.sim.wait_for_message(room.text, titled(mw, "✖  Removal cancelled"), after=prompt, timeout=10)
    assert file_names(library) == ["gone too.mp3"]
    blank = await say(mw, room, "!local remove", "🚫  Remove failed")
    assert "Provide a name to remove." in blank.text()


async def test_remove_with_several_matches_picks_then_asks(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    room = mw.room
    for name in ("one beat.mp3", "two beat.mp3"):
        shutil.copy(media_files.mp3, library / name)
    picker = await say(mw, room, "!local remove beat", "🗑️  Pick a track to remove")
    prompt = await answer_to_click(mw, room, picker, "2", "🗑️  Delete this track?")
    assert "two beat.mp3" in prompt.text()
    await answer_to_click(mw, room, prompt, "🗑️ Delete", "🗑️  Removed")
    assert file_names(library) == ["one beat.mp3"]


async def test_local_commands_need_the_same_voice_channel(mw: CommandWorld) -> None:
    room = mw.room
    await room.alice.leave_voice(room.guild)
    refused = await say(mw, room, "!local list", "🚫  User not in voice channel")
    assert "Join a voice channel first." in refused.text()
