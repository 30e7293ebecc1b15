"""The library folder's rules: sidecars go only with the file that owns them, the folder stays under its
size cap, and downloads are limited per person and per server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytunes.music.library.download import DownloadError, DownloadSlots
from pytunes.music.library.local import in_use
from pytunes.music.library.store import Library, LibraryFile, LibraryFullError
from pytunes.music.model import Requester, SourceKind, Track


def touch(root: Path, *names: str, size: int = 1) -> None:
    for name in names:
        (root / name).write_bytes(b"x" * size)


def names(root: Path) -> list[str]:
    return sorted(os.listdir(root))


# ------------------------------------------------------------------------------------------------ sidecars


async def test_remove_takes_only_the_sidecars_the_file_owns(tmp_path: Path) -> None:
    touch(tmp_path, "song.mp3", "song.mp3.mp3", "song.mp3.lufs", "song.mp3.mp3.gain", "song.json")
    library = Library(tmp_path)
    # "song.mp3.lufs" is song.mp3's ("<name>.lufs"), though it is also "<title>.lufs" of song.mp3.mp3.
    assert await library.remove(LibraryFile("song.mp3.mp3")) == ["song.mp3.mp3.gain"]
    assert names(tmp_path) == ["song.json", "song.mp3", "song.mp3.lufs"]
    assert sorted(await library.remove(LibraryFile("song.mp3"))) == ["song.json", "song.mp3.lufs"]
    assert names(tmp_path) == []


async def test_a_title_sidecar_shared_by_two_files_stays(tmp_path: Path) -> None:
    touch(tmp_path, "song.mp3", "song.flac", "song.lufs", "song.flac.gain")
    library = Library(tmp_path)
    assert await library.remove(LibraryFile("song.flac")) == ["song.flac.gain"]
    assert names(tmp_path) == ["song.lufs", "song.mp3"], "song.lufs may be song.mp3's: it stays"


async def test_rename_moves_the_sidecars_it_owns_and_no_others(tmp_path: Path) -> None:
    touch(tmp_path, "song.mp3", "song.mp3.lufs", "song.gain", "other.mp3", "other.json")
    library = Library(tmp_path)
    renamed = await library.rename(LibraryFile("song.mp3"), "tune")
    assert renamed == LibraryFile("tune.mp3")
    assert names(tmp_path) == ["other.json", "other.mp3", "tune.gain", "tune.mp3", "tune.mp3.lufs"]


async def test_rename_never_hands_a_sidecar_to_another_file(tmp_path: Path) -> None:
    # After the rename "song.mp3" shares its title with "song.flac", so "x.gain" can't become
    # "song.gain" (that would be song.flac's too): it follows by name. "x.mp3.lufs" is also the title
    # sidecar of "x.mp3.mp3", so it isn't the renamed file's alone and stays.
    touch(tmp_path, "x.mp3", "x.gain", "song.flac", "x.mp3.mp3", "x.mp3.lufs")
    library = Library(tmp_path)
    await library.rename(LibraryFile("x.mp3"), "song")
    assert names(tmp_path) == ["song.flac", "song.mp3", "song.mp3.gain", "x.mp3.lufs", "x.mp3.mp3"]


# ------------------------------------------------------------------------------------------------ size cap


async def test_keep_refuses_what_would_take_the_folder_over_its_cap(tmp_path: Path) -> None:
    library = Library(tmp_path, max_bytes=3 * 1024 * 1024)
    touch(tmp_path, "old.mp3", size=2 * 1024 * 1024)
    part = library.part_file()
    part.write_bytes(b"x" * (1024 * 1024 + 1))
    with pytest.raises(LibraryFullError, match=r"2\.0 MB of 3 MB used, and this file needs 1\.0 MB"):
        await library.keep(part, "new.mp3")
    assert part.exists(), "the caller discards the part"
    part.write_bytes(b"x" * (1024 * 1024))
    assert await library.keep(part, "new.mp3") == LibraryFile("new.mp3")
    with pytest.raises(LibraryFullError, match=r"The library is full: 3\.0 MB of 3 MB used"):
        await library.check_room()
    await library.remove(LibraryFile("old.mp3"))
    await library.check_room()


async def test_attachments_count_towards_the_cap(tmp_path: Path) -> None:
    library = Library(tmp_path, max_bytes=1024 * 1024)
    library.attachments.mkdir(parents=True)
    touch(library.attachments, "1-a.mp3", size=1024 * 1024)
    part = library.part_file()
    part.write_bytes(b"x")
    with pytest.raises(LibraryFullError):
        await library.keep_attachment(part, 2, "b.mp3")
    assert await library.usage() == 1024 * 1024 + 1


# ------------------------------------------------------------------------------------------------ slots


def test_one_download_per_person_and_a_few_per_server() -> None:
    slots = DownloadSlots(per_user=1, per_guild=2)
    with slots.hold(1, 10):
        with pytest.raises(DownloadError, match="You already have a download running"), slots.hold(2, 10):
            pass
        with slots.hold(1, 11):
            with pytest.raises(DownloadError, match="already has 2 downloads running"), slots.hold(1, 12):
                pass
            with slots.hold(2, 12):
                assert slots.running == 3
    assert slots.running == 0
    with pytest.raises(RuntimeError), slots.hold(1, 10):
        raise RuntimeError("a failed download frees its slot too")
    assert slots.refusal(1, 10) is None


@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.integers(0, 4)), max_size=60),
    st.integers(1, 3),
    st.integers(1, 5),
)
def test_slots_never_exceed_their_limits(
    steps: list[tuple[bool, int, int]], per_user: int, per_guild: int
) -> None:
    """Starting and finishing downloads in any order: no person or server ever holds more than its
    limit, a refusal happens only at a limit, and finishing everything frees everything."""
    slots = DownloadSlots(per_user=per_user, per_guild=per_guild)
    held: list[tuple[int, int, object]] = []
    for start, guild, user in steps:
        if start:
            users = sum(1 for _, u, _ in held if u == user)
            guilds = sum(1 for g, _, _ in held if g == guild)
            context = slots.hold(guild, user)
            try:
                context.__enter__()
            except DownloadError:
                assert users >= per_user or guilds >= per_guild
                continue
            assert users < per_user
            assert guilds < per_guild
            held.append((guild, user, context))
        elif held:
            _, _, context = held.pop(0)
            context.__exit__(None, None, None)  # type: ignore[attr-defined]
        assert slots.running == len(held)
    for _, _, context in held:
        context.__exit__(None, None, None)  # type: ignore[attr-defined]
    assert slots.running == 0


# ------------------------------------------------------------------------------------------------ in use


def track(source: SourceKind, locator: str) -> Track:
    return Track(title="t", source=source, locator=locator, added_by=Requester(1, "alice"))


def test_a_file_is_in_use_while_it_plays_or_waits_in_the_queue() -> None:
    song = LibraryFile("song.mp3")
    playing = track(SourceKind.LOCAL, "song.mp3")
    assert "is playing right now" in (in_use(song, playing, ()) or "")
    assert "is in the queue" in (in_use(song, None, [track(SourceKind.LOCAL, "x.mp3"), playing]) or "")
    # Another file, an upload stored under the same name, or nothing at all: free to rename or remove.
    assert (
        in_use(song, track(SourceKind.LOCAL, "song.mp3.mp3"), [track(SourceKind.LOCAL, "Song.mp3")]) is None
    )
    assert in_use(song, track(SourceKind.ATTACHMENT, "song.mp3"), ()) is None
    assert in_use(song, None, ()) is None
