"""Saved music sessions on SQLite and PostgreSQL: full saves replace, positions update in one batch and
never create rows, deletes, and big snapshots (64-bit ids, long text)."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.music.model import Snapshot, SourceKind, Track
from pytunes.music.model.snapshot import decode, encode
from pytunes.music.session_store import SavedSession, SessionStore

BIG_ID = 1_234_567_890_123_456_789  # Discord snowflakes need 64 bits


def session(guild_id: int, state: str = "{}", position: float = 0.0, voice: int | None = 7) -> SavedSession:
    return SavedSession(guild_id, voice, 8, state, position)


async def test_save_replaces_and_load_all_returns_every_guild(engine: AsyncEngine) -> None:
    store = SessionStore(engine)
    assert await store.load_all() == []
    await store.save(session(BIG_ID, "first", 1.5))
    await store.save(session(2, "other", 0.0, voice=None))
    await store.save(session(BIG_ID, "second", 12.25))
    assert await store.load_all() == [
        SavedSession(2, None, 8, "other", 0.0),
        SavedSession(BIG_ID, 7, 8, "second", 12.25),
    ]


async def test_positions_update_in_one_batch_and_never_create_rows(engine: AsyncEngine) -> None:
    store = SessionStore(engine)
    await store.save(session(1, "a", 1.0))
    await store.save(session(2, "b", 2.0))
    await store.save_positions({1: 10.5, 2: 20.5, 3: 30.5})
    await store.save_positions({})
    rows = {s.guild_id: (s.state, s.position) for s in await store.load_all()}
    assert rows == {1: ("a", 10.5), 2: ("b", 20.5)}


async def test_delete_removes_one_guild(engine: AsyncEngine) -> None:
    store = SessionStore(engine)
    await store.save(session(1))
    await store.save(session(2))
    await store.delete(1)
    await store.delete(99)
    assert [s.guild_id for s in await store.load_all()] == [2]


async def test_a_500_track_snapshot_round_trips(engine: AsyncEngine) -> None:
    store = SessionStore(engine)
    queue = tuple(
        Track(title=f"Track {i} — ünïcode ✓", source=SourceKind.DIRECT, locator=f"https://e.example/{i}.mp3")
        for i in range(500)
    )
    saved = Snapshot(current=queue[0], queue=queue[1:], paused=True)
    await store.save(session(1, encode(saved), 61.0))
    (row,) = await store.load_all()
    assert decode(row.state) == saved


async def test_concurrent_saves_of_one_guild_leave_one_row(engine: AsyncEngine) -> None:
    store = SessionStore(engine)
    await asyncio.gather(*(store.save(session(5, f"state {i}", float(i))) for i in range(8)))
    rows = await store.load_all()
    assert len(rows) == 1
    assert rows[0].state.startswith("state ")
