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
import logging
import os
import time
import uuid
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

log = logging.getLogger(__name__)

PART_PREFIX = ".part-"
ATTACHMENTS_DIR = ".attachments"
# Files that belong to an audio file: "<name>.<suffix>" or "<title>.<suffix>" (e.g. a loudness value).
SIDECAR_SUFFIXES = ("lufs", "gain", "loudness", "json")
STALE_PART_SECONDS = 3600.0
# Attachments played from messages are kept for the queue that plays them, then pruned: anything older
# than a week, and the oldest beyond this many files (never one younger than an hour).
ATTACHMENTS_KEEP = 200
ATTACHMENTS_MAX_AGE = 7 * 86400.0
ATTACHMENTS_MIN_AGE = 3600.0


@dataclass(frozen=True, slots=True)
class LibraryFile:
    name: str  # the file name in the library folder

    @property
    def title(self) -> str:
        return split_name(self.name)[0]


@dataclass(frozen=True, slots=True)
class Match:
    """What a user's name stands for. `exact` means one file's title (or name) is exactly the query."""

    files: tuple[LibraryFile, ...]
    exact: bool = False


def match_files(files: list[LibraryFile], query: str) -> Match:
    """Exact case-insensitive title (or file name) match wins; otherwise every title containing the
    query; an empty query matches everything (spec §6, with the §16 #21 fix)."""
    needle = " ".join(query.split()).casefold()
    if not needle:
        return Match(tuple(files))
    exact = [f for f in files if needle in (f.title.casefold(), f.name.casefold())]
    if exact:
        return Match(tuple(exact), exact=True)
    return Match(tuple(f for f in files if needle in f.title.casefold()))


class Library:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.attachments = root / ATTACHMENTS_DIR
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

    async def keep(self, part: Path, wanted: str) -> LibraryFile:
        """Move a complete, checked `part` file into the library as `wanted` (sanitized), or as
        `wanted (n)` if that name is taken."""
        name = sanitize(wanted)
        async with self._lock:
            taken = self._taken(self.root)
            final = unique_name(name, lambda n: n.casefold() in taken)
            os.replace(part, safe_path(self.root, final))
        return LibraryFile(final)

    async def keep_attachment(self, part: Path, attachment_id: int, filename: str) -> str:
        """Move a checked attachment download into the attachments folder; returns its stored name."""
        name = f"{attachment_id}-{sanitize(filename)}"
        async with self._lock:
            self.attachments.mkdir(parents=True, exist_ok=True)
            taken = self._taken(self.attachments)
            final = unique_name(name, lambda n: n.casefold() in taken)
            os.replace(part, safe_path(self.attachments, final))
        await asyncio.to_thread(self._prune_attachments)
        return final

    async def rename(self, file: LibraryFile, wanted: str) -> LibraryFile:
        """Rename `file` (and its sidecars). The file keeps its type: the new name gets the current
        extension whatever the user typed. Raises `BadNameError` or `FileNotFoundError`."""
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
            sidecars = self._sidecars(file)
            os.rename(source, target)
            for sidecar in sidecars:
                with contextlib.suppress(OSError):
                    os.rename(self.root / sidecar, self.root / f"{final}{sidecar[len(file.name) :]}")
        return LibraryFile(final)

    async def remove(self, file: LibraryFile) -> list[str]:
        """Delete `file` and its sidecars; returns the sidecars' names. Raises `FileNotFoundError`."""
        async with self._lock:
            path = self.path(file.name)
            sidecars = self._sidecars(file) + self._title_sidecars(file)
            path.unlink()
            for sidecar in sidecars:
                with contextlib.suppress(FileNotFoundError):
                    (self.root / sidecar).unlink()
        return sidecars

    def _sidecars(self, file: LibraryFile) -> list[str]:
        """ "<name>.<suffix>" files: they follow the file through a rename."""
        prefix = f"{file.name}."
        return [
            n
            for n in self._names()
            if n.startswith(prefix) and n.rsplit(".", 1)[-1].lower() in SIDECAR_SUFFIXES
        ]

    def _title_sidecars(self, file: LibraryFile) -> list[str]:
        """ "<title>.<suffix>" files, removed with the file unless another file has the same title."""
        if any(f.title == file.title and f.name != file.name for f in self._scan()):
            return []
        return [f"{file.title}.{s}" for s in SIDECAR_SUFFIXES if f"{file.title}.{s}" in self._names()]

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

    def _prune_attachments(self) -> None:
        now = time.time()
        try:
            entries = [e for e in os.scandir(self.attachments) if e.is_file(follow_symlinks=False)]
        except FileNotFoundError:
            return
        entries.sort(key=lambda e: _age(e, now))  # newest first
        for index, entry in enumerate(entries):
            age = _age(entry, now)
            if age > ATTACHMENTS_MAX_AGE or (index >= ATTACHMENTS_KEEP and age > ATTACHMENTS_MIN_AGE):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _age(entry: os.DirEntry[str], now: float) -> float:
    try:
        return now - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0
