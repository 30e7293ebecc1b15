"""Spotify track → YouTube video matches in the database on SQLite and PostgreSQL: unknown vs kept, a new
match replaces the old, one row per track however many write it at once, and the ids' length limits."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.music.spotify_matches import SpotifyMatchStore
from pytunes.storage.schema import spotify_match

TRACK = "4uLU6hMCjMI75M1A2tKUQC"


async def test_unknown_then_kept(engine: AsyncEngine) -> None:
    store = SpotifyMatchStore(engine)
    assert await store.get(TRACK) is None
    await store.put(TRACK, "dQw4w9WgXcQ")
    assert await store.get(TRACK) == "dQw4w9WgXcQ"
    assert await store.get(TRACK.lower()) is None, "Spotify ids are case-sensitive"
    assert await SpotifyMatchStore(engine).get(TRACK) == "dQw4w9WgXcQ", "another process reads it too"


async def test_a_new_match_replaces_the_old(engine: AsyncEngine) -> None:
    store = SpotifyMatchStore(engine)
    await store.put(TRACK, "aaaaaaaaaaa")
    await store.put(TRACK, "bbbbbbbbbbb")
    assert await store.get(TRACK) == "bbbbbbbbbbb"


async def test_concurrent_matches_of_one_track_leave_one_row(engine: AsyncEngine) -> None:
    store = SpotifyMatchStore(engine)
    videos = [f"video{i:06d}" for i in range(8)]
    await asyncio.gather(*(store.put(TRACK, video) for video in videos))
    async with engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(spotify_match))).scalar_one()
    assert count == 1
    assert await store.get(TRACK) in videos


@pytest.mark.parametrize(("track_id", "video_id"), [("", "v"), ("t" * 65, "v"), ("t", ""), ("t", "v" * 33)])
async def test_ids_are_bounded(engine: AsyncEngine, track_id: str, video_id: str) -> None:
    store = SpotifyMatchStore(engine)
    with pytest.raises(ValueError, match="64"):
        await store.put(track_id, video_id)
    await store.put("t" * 64, "v" * 32)
    assert await store.get("t" * 64) == "v" * 32
