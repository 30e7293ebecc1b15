from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.storage import app_state
from pytunes.storage.schema import APP_STATE_KEY_MAX
from pytunes.storage.schema import app_state as app_state_table


async def test_missing_key_reads_as_none(engine: AsyncEngine) -> None:
    assert await app_state.get(engine, "commands.hash") is None


async def test_put_then_get(engine: AsyncEngine) -> None:
    await app_state.put(engine, "commands.hash", "abc123")
    assert await app_state.get(engine, "commands.hash") == "abc123"
    assert await app_state.get(engine, "other") is None


async def test_put_overwrites_and_touches_updated_at(engine: AsyncEngine) -> None:
    await app_state.put(engine, "commands.hash", "first")
    await app_state.put(engine, "commands.hash", "second")
    assert await app_state.get(engine, "commands.hash") == "second"
    async with engine.connect() as conn:
        rows = (await conn.execute(select(app_state_table))).all()
    assert len(rows) == 1
    assert rows[0].updated_at is not None


async def test_values_round_trip_unchanged(engine: AsyncEngine) -> None:
    value = "ünïcødé ✓ 🎵\n" + "x" * 100_000 + "\x01'\";--"
    await app_state.put(engine, "k" * APP_STATE_KEY_MAX, value)
    await app_state.put(engine, "empty", "")
    assert await app_state.get(engine, "k" * APP_STATE_KEY_MAX) == value
    assert await app_state.get(engine, "empty") == ""


async def test_concurrent_puts_on_one_key_all_succeed(engine: AsyncEngine) -> None:
    values = [f"v{i}" for i in range(20)]
    await asyncio.gather(*(app_state.put(engine, "race", value) for value in values))
    assert await app_state.get(engine, "race") in values


@pytest.mark.parametrize("key", ["", "k" * (APP_STATE_KEY_MAX + 1)])
async def test_bad_keys_are_refused_before_storage(engine: AsyncEngine, key: str) -> None:
    with pytest.raises(ValueError, match="app_state key"):
        await app_state.put(engine, key, "value")
    async with engine.connect() as conn:
        assert (await conn.execute(select(app_state_table))).all() == []
