"""The library folder on disk: listing, finding, keeping, renaming and removing files.

Flat folder, audio files only. Hidden entries are the store's own: `.part-*` files being written (a
download lands under a hidden name and is moved into place with one `os.replace` once it is complete
and checked, so a half-written file is never listed or played) and `.attachments/`, where files played
straight from a message attachment are kept for their queue.

Writes happen under one lock so two downloads never pick the same free name; the file system calls
inside it are quick metadata operations, never reads of file contents.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from pytunes.music.library.names import (
    BadNameError,
    audio_extension,
    clean_stem,
    is_plain_name,
    safe_path,
    sanitize,
    split_name,
    unique_name,
)
from pytunes.music.media.errors import MediaError

log = logging.getLogger(__name__)

MB = 1024 * 1024
PART_PREFIX = ".part-"
ATTACHMENTS_DIR = ".attachments"
# Files that belong to an audio file: "<name>.<suffix>" or "<title>.<suffix>" (e.g. a loudness value).
SIDECAR_SUFFIXES = ("lufs", "gain", "loudness", "json")
# Discord's limit for an autocomplete choice's value; longer names are offered as their token.
CHOICE_VALUE_MAX = 100
STALE_PART_SECONDS = 3600.0
# Attachments played from messages are kept for the queue that plays them, then pruned: anything older
# than a week, and the oldest beyond this many files (never one younger than an hour, nor one a player or
# saved session still holds: see `usage`).
ATTACHMENTS_KEEP = 200
ATTACHMENTS_MAX_AGE = 7 * 86400.0
ATTACHMENTS_MIN_AGE = 3600.0


class LibraryFullError(MediaError):
    """The library folder reached `LIBRARY_MAX_MB`; the message shows the usage."""

    code = "library_full"


def size_text(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB / 10 else f"{size / 1024:.0f} KB"


@dataclass(frozen=True, slots=True)
class LibraryFile:
    name: str  # the file name in the library folder

    @property
    def title(self) -> str:
        return split_name(self.name)[0]

    @property
    def token(self) -> str:
        """A short stable id ("#" and 8 hex digits) that `match_files` resolves to exactly this file."""
        digest = hashlib.sha256(self.name.encode("utf-8", errors="surrogateescape")).hexdigest()
        return f"#{digest[:8]}"

    @property
    def choice_value(self) -> str:
        """What an autocomplete choice sends for this file: its name, or its token when the name is
        longer than a choice value may be (a clipped name would no longer match exactly)."""
        return self.name if len(self.name) <= CHOICE_VALUE_MAX else self.token


@dataclass(frozen=True, slots=True)
class Match:
    """What a user's name stands for. `exact` means one file's title (or name) is exactly the query."""

    files: tuple[LibraryFile, ...]
    exact: bool = False


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def match_files(files: list[LibraryFile], query: str) -> Match:
    """What `query` names. The first of these that finds anything wins:

    1. the file name exactly, or a file's token (what autocomplete sends, so a choice is always one file);
    2. the same without the query's surrounding spaces (typed by hand). Only after 1: " a.mp3" names
       the file " a.mp3" and not "a.mp3" too;
    3. the file name, case-insensitively;
    4. the title, case-insensitively (several files can share one: "song.mp3" and "song.flac");
    5. every title containing the query.

    An empty query matches everything.
    """
    needle = _folded(query)
    if not needle:
        return Match(tuple(files))
    stripped = query.strip()
    tiers: tuple[Callable[[LibraryFile], bool], ...] = (
        lambda f: query in (f.name, f.token),
        lambda f: stripped in (f.name, f.token),
        lambda f: _folded(f.name) == needle,
        lambda f: _folded(f.title) == needle,
    )
    for tier in tiers:
        exact = tuple(f for f in files if tier(f))
        if exact:
            return Match(exact, exact=True)
    return Match(tuple(f for f in files if needle in _folded(f.title)))


class Library:
    def __init__(self, root: Path, *, max_bytes: int | None = None) -> None:
        self.root = root
        self.attachments = root / ATTACHMENTS_DIR
        self.max_bytes = max_bytes  # the whole folder's cap (LIBRARY_MAX_MB); None: no cap
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------------------------------ reading

    def _scan(self) -> list[LibraryFile]:
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        found = []
        for entry in entries:
            if entry.name.startswith(".") or audio_extension(entry.name) is None:
                continue
            try:
                # A symlink counts only when it resolves to a regular file inside the library.
                if not entry.is_file() or (entry.is_symlink() and not self._inside(Path(entry.path))):
                    continue
            except OSError:
                continue
            found.append(LibraryFile(entry.name))
        found.sort(key=lambda f: (f.name.casefold(), f.name))
        return found

    def _inside(self, path: Path) -> bool:
        try:
            return path.resolve(strict=True).parent == self.root.resolve()
        except (OSError, RuntimeError):
            return False

    async def files(self) -> list[LibraryFile]:
        """Every playable file, sorted by name (case-insensitively)."""
        return await asyncio.to_thread(self._scan)

    async def find(self, query: str) -> Match:
        return match_files(await self.files(), query)

    def path(self, name: str) -> Path:
        """The path of an existing library file's name; raises `BadNameError` for anything else."""
        if audio_extension(name) is None:
            raise BadNameError("That is not a library file.")
        return safe_path(self.root, name)

    def attachment_path(self, name: str) -> Path:
        return safe_path(self.attachments, name)

    # ------------------------------------------------------------------------------------------ writing

    def part_file(self) -> Path:
        """A fresh hidden file name in the library folder for a download in progress."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f"{PART_PREFIX}{uuid.uuid4().hex}"

    def _taken(self, folder: Path, ignore: str | None = None) -> set[str]:
        try:
            names = {entry.name.casefold() for entry in os.scandir(folder)}
        except FileNotFoundError:
            names = set()
        if ignore is not None:
            names.discard(ignore.casefold())
        return names

    # --------------------------------------------------------------------------------------- the size cap

    def _usage(self) -> int:
        """Bytes in the library folder: files, sidecars, downloads in progress and kept attachments."""
        total = 0
        for folder in (self.root, self.attachments):
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        return total

    async def usage(self) -> int:
        return await asyncio.to_thread(self._usage)

    def _full(self, used: int, needed: int = 0) -> LibraryFullError:
        assert self.max_bytes is not None
        wanted = f", and this file needs {size_text(needed)}" if needed else ""
        return LibraryFullError(
            f"The library is full: {size_text(used)} of {self.max_bytes // MB} MB used{wanted}. "
            "Remove some tracks with `local remove` first."
        )

    async def check_room(self) -> None:
        """Refuse at once (`LibraryFullError`) when the library is already at its cap: no point in
        downloading a file that can't be kept."""
        if self.max_bytes is not None:
            used = await self.usage()
            if used >= self.max_bytes:
                raise self._full(used)

    def _make_room(self, part: Path) -> None:
        """Raise `LibraryFullError` if keeping `part` (already in the folder, so already counted)
        would take the library over its cap. Run under the lock: two downloads can't both fit in the
        last free megabytes."""
        if self.max_bytes is None:
            return
        used = self._usage()
        if used > self.max_bytes:
            needed = part.stat().st_size
            raise self._full(used - needed, needed)

    # ------------------------------------------------------------------------------------------ keeping

    async def keep(self, part: Path, wanted: str) -> LibraryFile:
        """Move a complete, checked `part` file into the library as `wanted` (sanitized), or as
        `wanted (n)` if that name is taken. Raises `LibraryFullError` (the part stays for the caller to
        discard) when the library has no room for it."""
        name = sanitize(wanted)
        async with self._lock:
            self._make_room(part)
            taken = self._taken(self.root)
            final = unique_name(name, lambda n: n.casefold() in taken)
            os.replace(part, safe_path(self.root, final))
        return LibraryFile(final)

    async def keep_attachment(self, part: Path, attachment_id: int, filename: str) -> str:
        """Move a checked attachment download into the attachments folder; returns its stored name."""
        name = f"{attachment_id}-{sanitize(filename)}"
        async with self._lock:
            self._make_room(part)
            self.attachments.mkdir(parents=True, exist_ok=True)
            taken = self._taken(self.attachments)
            final = unique_name(name, lambda n: n.casefold() in taken)
            os.replace(part, safe_path(self.attachments, final))
        return final

    async def discard_attachment(self, name: str) -> None:
        """Delete a kept upload that no queue took after all (a failed join, a full queue): it would
        only count against the size cap until pruned."""
        with contextlib.suppress(OSError, BadNameError):
            await asyncio.to_thread(self.attachment_path(name).unlink)

    async def prune_attachments(self, needed: Collection[str]) -> None:
        """Delete old uploads (see `ATTACHMENTS_KEEP`), except those in `needed`: the stored names some
        player or saved session still holds, which would fail when their turn came."""
        await asyncio.to_thread(self._prune_attachments, frozenset(needed))

    async def rename(self, file: LibraryFile, wanted: str) -> LibraryFile:
        """Rename `file` (and the sidecars it owns). The file keeps its type: the new name gets the
        current extension whatever the user typed. Raises `BadNameError` or `FileNotFoundError`."""
        current_ext = audio_extension(file.name) or "mp3"
        stem = clean_stem(split_name(wanted.strip())[0])
        if not stem:
            raise BadNameError("The new name has no usable characters.")
        name = sanitize(f"{stem}.{current_ext}")
        async with self._lock:
            source = self.path(file.name)
            if not source.is_file():
                raise FileNotFoundError(file.name)
            if name == file.name:
                return file
            # The file itself doesn't block its own new spelling ("song" → "Song").
            taken = self._taken(self.root, ignore=file.name)
            final = unique_name(name, lambda n: n.casefold() in taken)
            target = safe_path(self.root, final)
            files = self._scan()
            sidecars = self._sidecars(file, files)
            os.rename(source, target)
            renamed = LibraryFile(final)
            others = [f for f in files if f.name != file.name]
            for base, suffix in sidecars:
                self._move_sidecar(f"{base}.{suffix}", renamed, others, by_title=base != file.name)
        return renamed

    async def remove(self, file: LibraryFile) -> list[str]:
        """Delete `file` and the sidecars it owns; returns the sidecars' names. Raises
        `FileNotFoundError`."""
        async with self._lock:
            path = self.path(file.name)
            sidecars = [f"{base}.{suffix}" for base, suffix in self._sidecars(file, self._scan())]
            path.unlink()
            for sidecar in sidecars:
                with contextlib.suppress(FileNotFoundError):
                    (self.root / sidecar).unlink()
        return sidecars

    def _sidecars(self, file: LibraryFile, files: list[LibraryFile]) -> list[tuple[str, str]]:
        """(base, suffix) of the sidecars `file` alone owns: "<name>.<suffix>" and "<title>.<suffix>",
        unless another audio file has that name or title too. "song.mp3.lufs" belongs to "song.mp3",
        never to "song.mp3.mp3" (whose title is "song.mp3"); "song.lufs" belongs to "song.mp3" only while
        there is no "song.flac"."""
        names = self._names()
        owned = []
        for base in dict.fromkeys((file.name, file.title)):
            if any(base in (other.name, other.title) for other in files if other.name != file.name):
                continue
            owned += [(base, suffix) for suffix in SIDECAR_SUFFIXES if f"{base}.{suffix}" in names]
        return owned

    def _move_sidecar(
        self, sidecar: str, renamed: LibraryFile, others: list[LibraryFile], *, by_title: bool
    ) -> None:
        """Give a sidecar the renamed file's name (or title, if it was named by title), unless that
        would make it another file's; then it follows as "<new name>.<suffix>" if that is free."""
        suffix = sidecar.rsplit(".", 1)[1]
        bases = (renamed.title, renamed.name) if by_title else (renamed.name,)
        for base in bases:
            target = self.root / f"{base}.{suffix}"
            if any(base in (other.name, other.title) for other in others) or target.exists():
                continue
            with contextlib.suppress(OSError):
                os.rename(self.root / sidecar, target)
            return
        log.info("library: left sidecar %r behind; its new name would belong to another file", sidecar)

    def _names(self) -> set[str]:
        try:
            return {entry.name for entry in os.scandir(self.root) if is_plain_name(entry.name)}
        except FileNotFoundError:
            return set()

    # ------------------------------------------------------------------------------------------ upkeep

    def sweep(self) -> None:
        """Remove part files a crash left behind (run at start, off the event loop)."""
        now = time.time()
        for folder in (self.root, self.attachments):
            with contextlib.suppress(FileNotFoundError):
                for entry in os.scandir(folder):
                    if entry.name.startswith(PART_PREFIX) and _age(entry, now) > STALE_PART_SECONDS:
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)

    def _prune_attachments(self, needed: frozenset[str]) -> None:
        now = time.time()
        try:
            entries = [e for e in os.scandir(self.attachments) if e.is_file(follow_symlinks=False)]
        except FileNotFoundError:
            return
        doomed = prunable({e.name: _age(e, now) for e in entries}, needed)
        for entry in entries:
            if entry.name in doomed:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def prunable(ages: Mapping[str, float], needed: Collection[str], *, keep: int = ATTACHMENTS_KEEP) -> set[str]:
    """Which kept uploads to delete, given each one's age in seconds: those older than a week, and those
    beyond the newest `keep` that are older than an hour; never one in `needed`. A needed upload doesn't
    count towards `keep` either: the ones kept are the newest of those that may go."""
    candidates = sorted((age, name) for name, age in ages.items() if name not in needed)  # newest first
    return {
        name
        for index, (age, name) in enumerate(candidates)
        if age > ATTACHMENTS_MAX_AGE or (index >= keep and age > ATTACHMENTS_MIN_AGE)
    }


def _age(entry: os.DirEntry[str], now: float) -> float:
    try:
        return now - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0
