"""The audio cache on a real folder: temp-then-rename, size cap with LRU eviction, pins, one download per
content, and the clean-up of half-written files at startup."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from pytunes.music.cache import TEMP_MARK, AudioCache, CacheRejected, Writer, cache_key


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def writer(
    size: int,
    *,
    gate: asyncio.Event | None = None,
    calls: list[Path] | None = None,
    halfway: asyncio.Event | None = None,
) -> Writer:
    """Writes `size` bytes: half, then (once `gate` is set) the rest."""

    async def write(target: Path, limit: int) -> None:
        if calls is not None:
            calls.append(target)
        with target.open("wb") as out:
            out.write(b"x" * (size // 2))
            out.flush()
            if halfway is not None:
                halfway.set()
            if gate is not None:
                await gate.wait()
            out.write(b"x" * (size - size // 2))

    return write


def opened(root: Path, max_bytes: int, **kwargs: int) -> AudioCache:
    cache = AudioCache(root, max_bytes, **kwargs)
    cache.open()
    return cache


async def test_a_stored_file_is_found_with_its_codec(tmp_path: Path) -> None:
    cache = opened(tmp_path / "cache", 10_000)
    assert cache.get("youtube:abc") is None
    entry = await cache.store("youtube:abc", codec="opus", ext="webm", write=writer(100))
    assert entry is not None
    assert entry.path.parent == tmp_path / "cache"
    assert entry.path.name == f"{cache_key('youtube:abc')}.opus.webm"
    assert cache.get("youtube:abc") == entry
    assert entry.codec == "opus"
    assert cache.total_bytes == 100


async def test_names_never_come_from_the_content(tmp_path: Path) -> None:
    cache = opened(tmp_path, 10_000)
    entry = await cache.store("url:../../etc/passwd", codec="../../x", ext="/bin", write=writer(10))
    assert entry is not None
    assert entry.path.parent == tmp_path
    assert ".." not in entry.path.name
    assert "/" not in entry.path.name


async def test_a_half_written_file_is_never_returned(tmp_path: Path) -> None:
    cache = opened(tmp_path, 10_000)
    gate, halfway = asyncio.Event(), asyncio.Event()
    calls: list[Path] = []
    storing = asyncio.create_task(
        cache.store("a", codec="opus", ext="webm", write=writer(100, gate=gate, calls=calls, halfway=halfway))
    )
    await asyncio.wait_for(halfway.wait(), 5)
    assert TEMP_MARK in calls[0].name
    assert calls[0].stat().st_size == 50, "half of it is on disk"
    assert cache.get("a") is None, "…but not in the cache"
    assert cache.writing("a")
    gate.set()
    entry = await storing
    assert entry is not None
    assert cache.get("a") == entry
    assert not calls[0].exists(), "renamed, not copied"
    assert entry.path.stat().st_size == 100


async def test_a_failed_or_rejected_write_leaves_nothing(tmp_path: Path) -> None:
    cache = opened(tmp_path, 10_000, max_file_bytes=500)

    async def broken(target: Path, limit: int) -> None:
        with target.open("wb") as out:
            out.write(b"partial")
        raise OSError("connection reset")

    async def refuse(path: Path) -> None:
        raise ValueError("no audio in it")

    with pytest.raises(OSError, match="reset"):
        await cache.store("a", codec=None, ext=None, write=broken)
    with pytest.raises(CacheRejected):
        await cache.store("b", codec=None, ext=None, write=writer(600))  # over the per-file limit
    with pytest.raises(CacheRejected):
        await cache.store("c", codec=None, ext=None, write=writer(0))
    with pytest.raises(ValueError, match="no audio"):
        await cache.store("d", codec=None, ext=None, write=writer(10), verify=refuse)
    assert names(tmp_path) == []
    assert cache.total_bytes == 0
    assert cache.get("a") is None


async def test_the_least_recently_used_go_first(tmp_path: Path) -> None:
    cache = opened(tmp_path, 300)
    for name in "abc":
        await cache.store(name, codec="opus", ext="webm", write=writer(100))
    assert cache.get("a") is not None  # a is now the most recently used; b the least
    await cache.store("d", codec="opus", ext="webm", write=writer(100))
    assert cache.get("b") is None
    assert [cache.get(n) is not None for n in "acd"] == [True, True, True]
    assert cache.total_bytes == 300
    assert len(names(tmp_path)) == 3


async def test_pinned_files_are_not_evicted(tmp_path: Path) -> None:
    cache = opened(tmp_path, 200)
    await cache.store("playing", codec=None, ext=None, write=writer(100))
    await cache.store("other", codec=None, ext=None, write=writer(100))
    cache.pin("playing")
    await cache.store("new", codec=None, ext=None, write=writer(100))
    assert cache.get("playing") is not None, "pinned: kept though it was the oldest"
    assert cache.get("other") is None
    cache.unpin("playing")
    await cache.store("newer", codec=None, ext=None, write=writer(100))
    assert cache.get("new") is None or cache.get("playing") is None


async def test_one_download_for_two_guilds(tmp_path: Path) -> None:
    cache = opened(tmp_path, 10_000)
    gate = asyncio.Event()
    calls: list[Path] = []
    first = asyncio.create_task(
        cache.store("song", codec="opus", ext="webm", write=writer(100, gate=gate, calls=calls))
    )
    second = asyncio.create_task(
        cache.store("song", codec="opus", ext="webm", write=writer(100, calls=calls))
    )
    await asyncio.sleep(0.05)
    first.cancel()  # the first guild skipped the track: the download goes on for the second
    gate.set()
    entry = await second
    assert entry is not None
    assert len(calls) == 1
    assert cache.get("song") == entry


async def test_startup_removes_temp_files_and_keeps_the_use_order(tmp_path: Path) -> None:
    cache = opened(tmp_path, 1000)
    for name in ("old", "new"):
        await cache.store(name, codec="opus", ext="webm", write=writer(100))
    old = cache.get("old")
    assert old is not None
    os.utime(old.path, (1, 1))  # used long ago
    (tmp_path / f"{cache_key('x')}.opus.webm{TEMP_MARK}123abc").write_bytes(b"half")
    (tmp_path / "notes.txt").write_text("not ours")

    reopened = opened(tmp_path, 150)  # a smaller cap now: one of the two must go
    assert not [name for name in names(tmp_path) if TEMP_MARK in name]
    assert (tmp_path / "notes.txt").exists(), "files that aren't the cache's are left alone"
    assert reopened.get("old") is None, "the least recently used one was evicted"
    entry = reopened.get("new")
    assert entry is not None
    assert entry.codec == "opus"


async def test_a_zero_cap_disables_the_cache(tmp_path: Path) -> None:
    cache = opened(tmp_path / "none", 0)
    assert not cache.enabled
    assert await cache.store("a", codec=None, ext=None, write=writer(10)) is None
    assert not (tmp_path / "none").exists()
