"""Which library files and kept uploads something still needs: every server's player, and the saved
sessions that are not back in a player yet.

The library is one folder for every server the bot is in, so renaming or removing a file (`local rename`,
`local remove`) and pruning old uploads must look at all of them, not only at the server that asks; a
queue holds its files by name, and an entry whose file is gone fails when its turn comes.

A saved session (a `music_session` row, see `pytunes.music.session`) counts while its guild has no settled
player: before the restore has put its tracks back, no player holds them, yet they play once it has (and a
guild the bot can't see right now keeps its row for a later start). Once a guild's restore is done its
player is the newer truth: the row lags it by up to a second, and reading it too would refuse a rename
right after `clear`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytunes.music.embeds import safe
from pytunes.music.library.store import LibraryFile
from pytunes.music.model import SnapshotError, SourceKind, Track
from pytunes.music.model.snapshot import decode

if TYPE_CHECKING:
    from pytunes.music.service import MusicService
    from pytunes.music.session_store import SavedSession


def in_use(file: LibraryFile, current: Track | None, queue: Sequence[Track]) -> str | None:
    """Why `file` can't be renamed or removed now (the player holds it by name, so its entry would fail
    when its turn came), or None."""

    def is_file(track: Track | None) -> bool:
        return track is not None and track.source is SourceKind.LOCAL and track.locator == file.name

    if is_file(current):
        return f"**{safe(file.name)}** is playing right now; skip or stop it first."
    if any(is_file(track) for track in queue):
        return f"**{safe(file.name)}** is in the queue; remove it from the queue first."
    return None


@dataclass(frozen=True, slots=True)
class Held:
    """What one guild holds: its current track and queue, from its player or from its saved session."""

    guild_id: int
    current: Track | None
    queue: Sequence[Track]
    saved: bool = False  # from a saved session that is not back in a player yet

    def tracks(self) -> Iterable[Track]:
        if self.current is not None:
            yield self.current
        yield from self.queue


class FilesInUse:
    """Everything every guild holds, asked about one file at a time."""

    def __init__(self, held: Iterable[Held]) -> None:
        self.held = tuple(held)

    def names(self, source: SourceKind) -> frozenset[str]:
        """The locators of every held track of `source`: file names for LOCAL, stored names for
        ATTACHMENT."""
        return frozenset(t.locator for h in self.held for t in h.tracks() if t.source is source)

    def reason(self, file: LibraryFile, guild_id: int | None) -> str | None:
        """Why `file` can't be renamed or removed now, said to someone in `guild_id`; None if nothing
        holds it. The asking server's own player comes first: it is the one thing they can change."""
        for held in self.held:
            if held.guild_id == guild_id and not held.saved:
                reason = in_use(file, held.current, held.queue)
                if reason is not None:
                    return reason
        holders = [h for h in self.held if any(_is_local(t, file) for t in h.tracks())]
        name = f"**{safe(file.name)}**"
        if any(not h.saved for h in holders):
            return f"{name} is playing or queued in another server; try again once it has played there."
        if holders:
            return f"{name} is in a queue that resumes after the restart; try again once it has played."
        return None


def _is_local(track: Track, file: LibraryFile) -> bool:
    return track.source is SourceKind.LOCAL and track.locator == file.name


def held_by_sessions(sessions: Sequence[SavedSession], skip: Iterable[int]) -> list[Held]:
    """The current tracks and queues in saved sessions, except the guilds in `skip`; a row that can't be
    read holds nothing (the restore ignores it too)."""
    skipped = set(skip)
    held = []
    for session in sessions:
        if session.guild_id in skipped:
            continue
        try:
            snapshot = decode(session.state)
        except SnapshotError:
            continue
        held.append(Held(session.guild_id, snapshot.current, snapshot.queue, saved=True))
    return held


async def files_in_use(service: MusicService) -> FilesInUse:
    """What every player holds now, and every saved session not yet back in a settled player. Raises
    what the database raises: a caller that can't tell must not delete anything."""
    sessions = service.sessions
    held: list[Held] = []
    settled: set[int] = set()
    for music in service.all_guilds():
        player = music.player
        held.append(Held(music.guild_id, player.current, player.queue))
        if not sessions.pending(music.guild_id):
            settled.add(music.guild_id)
    saved = await sessions.store.load_all()
    # Decoding is JSON work of up to a few hundred KB a row; not on the event loop.
    held += await asyncio.to_thread(held_by_sessions, saved, settled)
    return FilesInUse(held)
