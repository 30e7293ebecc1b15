"""Loudness measurements in the database on SQLite and PostgreSQL: unknown vs silent, overwrite, one row
per content id however many write it at once, and the content id's length limit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.music.loudness_store import Loudness, LoudnessStore
from pytunes.storage.schema import audio_loudness


async def test_unknown_measured_and_silent(engine: AsyncEngine) -> None:
    store = LoudnessStore(engine)
    assert await store.get("youtube:abc") is None
    await store.put("youtube:abc", Loudness(-18.25))
    await store.put("file:silence", Loudness(None))
    assert await store.get("youtube:abc") == Loudness(-18.25)
    assert await store.get("file:silence") == Loudness(None), "measured as silent is not 'unknown'"
    assert await store.get("youtube:abd") is None


async def test_a_new_measurement_replaces_the_old(engine: AsyncEngine) -> None:
    store = LoudnessStore(engine)
    await store.put("url:1", Loudness(-30.0))
    await store.put("url:1", Loudness(-12.5))
    assert await store.get("url:1") == Loudness(-12.5)


async def test_concurrent_writes_of_one_content_leave_one_row(engine: AsyncEngine) -> None:
    store = LoudnessStore(engine)
    await asyncio.gather(*(store.put("youtube:same", Loudness(-20.0 - i / 10)) for i in range(8)))
    async with engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(audio_loudness))).scalar_one()
    assert count == 1
    stored = await store.get("youtube:same")
    assert stored is not None
    assert stored.lufs is not None
    assert -20.8 <= stored.lufs <= -20.0


async def test_content_ids_are_bounded(engine: AsyncEngine) -> None:
    store = LoudnessStore(engine)
    with pytest.raises(ValueError, match="200"):
        await store.put("x" * 201, Loudness(-10.0))
    await store.put("y" * 200, Loudness(-10.0))
    assert await store.get("y" * 200) == Loudness(-10.0)
