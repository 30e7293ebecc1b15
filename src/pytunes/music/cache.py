"""The audio cache: complete copies of streamed tracks on disk, capped in size, least recently used out.

Rules, and why:

- A file is written as `<name>.part-<random>` and renamed (`os.replace`, atomic on one file system) to
  its final name only once it is complete and verified. Lookups only ever see final names, so a
  half-written file is never played; leftover temp files (a crash mid-download) are deleted at startup.
- File names are a hash of the content id (plus the codec, so a cached Opus file keeps its stream copy,
  and the container's extension): nothing from a title or a URL reaches the file system.
- Size cap with least-recently-used eviction. "Used" is a lookup (a play, a restart at a new position);
  the order survives restarts through the files' modification times, which a lookup touches. Files that
  are playing right now are pinned and not evicted (on Linux an open file would keep playing anyway, but
  a seek or volume change reopens it).
- Two guilds asking for the same song at once share one download.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import secrets
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

TEMP_MARK = ".part-"
MAX_FILE_BYTES = 100 * 1024 * 1024
_KEY_LENGTH = 40
_FINAL_NAME = re.compile(r"([0-9a-f]{40})\.([a-z0-9]{1,16})\.([a-z0-9]{1,8})")

Writer = Callable[[Path, int], Awaitable[None]]  # (temp file to write, byte limit)
Verifier = Callable[[Path], Awaitable[None]]  # raises when the written file is not usable


@dataclass(frozen=True, slots=True)
class CachedAudio:
    key: str
    path: Path
    codec: str | None
    size: int


class CacheRejected(Exception):
    """The written file is not fit for the cache (empty, or too big)."""


def cache_key(content_id: str) -> str:
    return hashlib.sha256(content_id.encode()).hexdigest()[:_KEY_LENGTH]


def _token(text: str | None, limit: int, default: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]", "", (text or "").lower())[:limit]
    return cleaned or default


class AudioCache:
    """Call `open()` once (off the event loop: it scans the folder) before use."""

    def __init__(self, root: Path, max_bytes: int, *, max_file_bytes: int | None = None) -> None:
        self.root = root
        self.max_bytes = max(max_bytes, 0)
        self.max_file_bytes = (
            max_file_bytes if max_file_bytes is not None else min(self.max_bytes // 2, MAX_FILE_BYTES)
        )
        self._entries: OrderedDict[str, CachedAudio] = OrderedDict()  # least recently used first
        self._total = 0
        self._pins: Counter[str] = Counter()
        self._writing: dict[str, asyncio.Task[CachedAudio]] = {}

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def total_bytes(self) -> int:
        return self._total

    def keys(self) -> list[str]:
        """Cached keys, least recently used first."""
        return list(self._entries)

    def open(self) -> None:
        """Delete leftover temp files, index what is there (oldest use first)."""
        if not self.enabled or not self.root.is_dir():
            return  # created on the first download
        found: list[tuple[float, CachedAudio]] = []
        for path in self.root.iterdir():
            if TEMP_MARK in path.name:
                with contextlib.suppress(OSError):
                    path.unlink()
                log.info("removed an incomplete cache file: %s", path.name)
                continue
            match = _FINAL_NAME.fullmatch(path.name)
            if match is None or not path.is_file():
                continue  # not ours: leave it alone
            stat = path.stat()
            codec = None if match.group(2) == "unknown" else match.group(2)
            found.append((stat.st_mtime, CachedAudio(match.group(1), path, codec, stat.st_size)))
        self._entries.clear()
        self._total = 0
        for _, entry in sorted(found, key=lambda item: item[0]):
            self._add(entry)
        self._evict()

    # ------------------------------------------------------------------------------------------ lookup

    def get(self, content_id: str) -> CachedAudio | None:
        """The complete cached copy of `content_id`, marked as just used; None when there is none."""
        key = cache_key(content_id)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if not entry.path.is_file():  # removed behind our back
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        with contextlib.suppress(OSError):
            os.utime(entry.path)
        return entry

    def pin(self, content_id: str) -> None:
        """Keep `content_id` from being evicted until `unpin` (calls nest)."""
        self._pins[cache_key(content_id)] += 1

    def unpin(self, content_id: str) -> None:
        key = cache_key(content_id)
        self._pins[key] -= 1
        if self._pins[key] <= 0:
            del self._pins[key]

    def pinned(self, content_id: str) -> bool:
        return self._pins[cache_key(content_id)] > 0

    def writing(self, content_id: str) -> bool:
        return cache_key(content_id) in self._writing

    # ------------------------------------------------------------------------------------------ storing

    async def store(
        self,
        content_id: str,
        *,
        codec: str | None,
        ext: str | None,
        write: Writer,
        verify: Verifier | None = None,
    ) -> CachedAudio | None:
        """Cache `content_id` by calling `write` on a temp file; None when the cache is disabled.

        A second call for the same content while the first is writing waits for that one. Raises what
        `write` or `verify` raise, or `CacheRejected`; the temp file is gone either way.
        """
        if not self.enabled:
            return None
        existing = self.get(content_id)
        if existing is not None:
            return existing
        key = cache_key(content_id)
        task = self._writing.get(key)
        if task is None:
            task = asyncio.create_task(self._store(key, codec, ext, write, verify), name=f"cache-{key[:8]}")
            self._writing[key] = task
            task.add_done_callback(lambda _: self._writing.pop(key, None))
        # Shielded: one waiter giving up (its track was skipped) must not cancel the others' download.
        return await asyncio.shield(task)

    async def _store(
        self, key: str, codec: str | None, ext: str | None, write: Writer, verify: Verifier | None
    ) -> CachedAudio:
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / f"{key}.{_token(codec, 16, 'unknown')}.{_token(ext, 8, 'bin')}"
        temp = final.with_name(f"{final.name}{TEMP_MARK}{secrets.token_hex(6)}")
        try:
            await write(temp, self.max_file_bytes)
            size = temp.stat().st_size
            if size == 0 or size > self.max_file_bytes:
                raise CacheRejected(f"{size} bytes")
            if verify is not None:
                await verify(temp)
            os.replace(temp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        entry = CachedAudio(key, final, _token(codec, 16, "") or None, size)
        self._drop(key, keep=final)
        self._add(entry)
        self._evict(keep=key)
        return entry

    async def close(self) -> None:
        """Stop downloads in progress (their temp files are removed)."""
        tasks = list(self._writing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------------------------------ bookkeeping

    def _add(self, entry: CachedAudio) -> None:
        self._entries[entry.key] = entry
        self._total += entry.size

    def _drop(self, key: str, *, keep: Path | None = None) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._total -= entry.size
        if entry.path != keep:
            with contextlib.suppress(OSError):
                entry.path.unlink()

    def _evict(self, *, keep: str | None = None) -> None:
        """Delete least recently used files until the cache fits its cap (pinned ones stay)."""
        for key in list(self._entries):
            if self._total <= self.max_bytes:
                return
            if key == keep or self._pins[key] > 0:
                continue
            log.debug("cache full: evicting %s", key)
            self._drop(key)
