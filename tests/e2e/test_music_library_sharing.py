"""One library for every server: a file another server plays or queues, or a saved session will play, is
neither renamed, removed nor pruned; uploads given to `play` share the download slots and go when no
queue took them; what a user typed is never shown as markdown."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from pytunes.music.library.download import DownloadError
from pytunes.music.local_cog import LocalLibrary
from pytunes.music.model import Requester, Snapshot, SourceKind, Track
from pytunes.music.model.snapshot import encode
from pytunes.music.session_store import SavedSession, SessionStore
from tests.e2e.command_world import CommandWorld, command_world, reset_room, say, titled
from tests.media.conftest import MediaFiles, MediaServer

pytestmark = pytest.mark.slow

UNSEEN_GUILD = 4242  # a guild the bot isn't in (yet): its saved session stays saved
WEEK = 7 * 86400


@pytest.fixture(scope="module")
async def mw(
    tmp_path_factory: pytest.TempPathFactory, media_server: MediaServer
) -> AsyncIterator[CommandWorld]:
    base = Path(tmp_path_factory.mktemp("library-sharing"))
    async with command_world(
        base / "music.db", rooms=2, library_dir=base / "library", max_download_mb=1, max_queue_tracks=1
    ) as world:
        yield world


@pytest.fixture
def library(mw: CommandWorld) -> Iterator[Path]:
    """The library folder, there when the test starts and gone with all it holds when it is over."""
    assert mw.settings is not None
    root = Path(mw.settings.library_dir)
    root.mkdir(parents=True, exist_ok=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def cog(mw: CommandWorld) -> LocalLibrary:
    found = mw.bot.get_cog("LocalLibrary")
    assert isinstance(found, LocalLibrary)
    return found


@pytest.fixture(autouse=True)
async def fresh_rooms(mw: CommandWorld, library: Path) -> AsyncIterator[None]:
    for room in mw.rooms:
        await room.alice.join_voice(room.voice)
    yield
    await SessionStore(mw.bot.database.engine).delete(UNSEEN_GUILD)
    for room in mw.rooms:
        await reset_room(mw, room)


def file_names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


def kept(library: Path) -> list[str]:
    return file_names(library / ".attachments")


def plain(text: str) -> str:
    return text.replace("\\", "").replace("**", "")


async def save_session(mw: CommandWorld, *tracks: tuple[SourceKind, str]) -> None:
    """A saved session of a guild the bot can't see: it holds `tracks` until a later start restores it."""
    queue = tuple(
        Track(title=locator, source=source, locator=locator, added_by=Requester(1, "carol"))
        for source, locator in tracks
    )
    state = encode(Snapshot(current=queue[0], queue=queue[1:]))
    await SessionStore(mw.bot.database.engine).save(SavedSession(UNSEEN_GUILD, 1, 2, state, 0.0))


# ------------------------------------------------------------------------------------------------ in use


async def test_a_file_another_server_plays_or_queues_stays(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    here, there = mw.rooms
    shutil.copy(media_files.long_webm, library / "long.webm")
    shutil.copy(media_files.mp3, library / "next.mp3")
    await say(mw, there, "!local play long", "🎵  Now playing")
    await say(mw, there, "!local play next", "🎵  Track added")

    for command, title in (
        ("!local remove long", "🚫  Remove failed"),
        ("!local rename next later", "🚫  Rename failed"),
    ):
        refused = await say(mw, here, command, title)
        assert "is playing or queued in another server" in refused.text()
    assert file_names(library) == ["long.webm", "next.mp3"]

    await say(mw, there, "!clear", "🧹  Queue cleared")
    await say(mw, here, "!local rename next later", "✏️  Renamed")
    assert file_names(library) == ["later.mp3", "long.webm"]


async def test_a_file_a_saved_session_will_play_stays(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    here = mw.room
    shutil.copy(media_files.mp3, library / "saved.mp3")
    await save_session(mw, (SourceKind.YOUTUBE, "https://youtu.be/x"), (SourceKind.LOCAL, "saved.mp3"))
    refused = await say(mw, here, "!local remove saved", "🚫  Remove failed")
    assert "saved.mp3 is in a queue that resumes after the restart" in plain(refused.text())
    refused = await say(mw, here, "!local rename saved other", "🚫  Rename failed")
    assert "resumes after the restart" in refused.text()
    assert file_names(library) == ["saved.mp3"]


# ------------------------------------------------------------------------------------------------ pruning


async def test_pruning_spares_uploads_that_are_queued_anywhere(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    here, there = mw.rooms
    await say(
        mw,
        there,
        "!play",
        "🎵  Now playing",
        files=[("long.webm", media_files.long_webm.read_bytes(), "audio/webm")],
    )
    (playing,) = kept(library)
    folder = library / ".attachments"
    (folder / "1-saved.mp3").write_bytes(b"x")
    (folder / "2-forgotten.mp3").write_bytes(b"x")
    await save_session(mw, (SourceKind.ATTACHMENT, "1-saved.mp3"))
    old = time.time() - WEEK - 60
    for name in (playing, "1-saved.mp3", "2-forgotten.mp3"):
        os.utime(folder / name, (old, old))

    await say(
        mw, here, "!play", "🎵  Now playing", files=[("tone.mp3", media_files.mp3.read_bytes(), "audio/mpeg")]
    )
    names = kept(library)
    assert playing in names, "the other server is playing it"
    assert "1-saved.mp3" in names, "a saved session will play it"
    assert "2-forgotten.mp3" not in names, "nothing holds it: a week old, it goes"
    assert len(names) == 3


# ------------------------------------------------------------------------------------------------ attachments


async def test_an_attachment_waits_for_the_download_slot(
    mw: CommandWorld, media_server: MediaServer, media_files: MediaFiles, cog: LocalLibrary, library: Path
) -> None:
    room = mw.room
    downloader = cog.media.downloader
    before = downloader.timeout
    downloader.timeout = 0.8  # the server never answers; this is how long the download hangs
    try:
        await room.alice.send(room.text, f"!local download {media_server.silent_url}")
        await mw.sim.wait_for(lambda: cog.media.slots.running == 1)
        upload = ("tone.mp3", media_files.mp3.read_bytes(), "audio/mpeg")
        busy = await say(mw, room, "!play", "🚫  Could not play that", files=[upload])
        assert "You already have a download running" in busy.text()
        await mw.sim.wait_for(lambda: cog.media.slots.running == 0, timeout=5)
    finally:
        downloader.timeout = before
    assert kept(library) == []
    assert mw.bot_channel(room) is None


async def test_an_attachment_is_streamed_and_cut_off_at_the_limit(
    mw: CommandWorld, media_server: MediaServer, cog: LocalLibrary, library: Path
) -> None:
    """Discord's size can't be trusted alone: the bytes received are counted too."""
    with pytest.raises(DownloadError, match="too large"):
        await cog.media.downloader.fetch_attachment(
            media_server.url("/library/big-unannounced.mp3"), "big.mp3", "audio/mpeg"
        )
    assert file_names(library) == [], "no part file left behind"


async def test_an_attachment_no_queue_took_is_not_kept(
    mw: CommandWorld, media_files: MediaFiles, library: Path
) -> None:
    room = mw.room
    shutil.copy(media_files.long_webm, library / "long.webm")
    shutil.copy(media_files.mp3, library / "next.mp3")
    await say(mw, room, "!local play long", "🎵  Now playing")
    await say(mw, room, "!local play next", "🎵  Track added")  # the queue holds one track: full
    upload = ("tone.mp3", media_files.mp3.read_bytes(), "audio/mpeg")
    typed = await room.alice.send(room.text, "!play", files=[upload])
    await mw.sim.wait_for_message(room.text, titled(mw, "", "The queue is full"), after=typed, timeout=15)
    # Stored to be queued; not queued, so not kept (removed just after the reply).
    await mw.sim.wait_for(lambda: kept(library) == [], timeout=5)
    assert file_names(library) == [".attachments", "long.webm", "next.mp3"]


# ------------------------------------------------------------------------------------------------ display


async def test_a_hostile_link_is_shown_inert(mw: CommandWorld, library: Path) -> None:
    room = mw.room
    shown = await say(
        mw, room, '!local download "a> [Free Nitro](https://evil.example) <b @everyone"', "⬇️  Downloading"
    )
    text = shown.text()
    assert "[Free Nitro](" not in text, "no masked link in the bot's own message"
    assert "@everyone" not in text
    assert "Free Nitro" in text
    await mw.sim.wait_for_message(room.text, titled(mw, "🚫  Download failed"), after=shown, timeout=10)
