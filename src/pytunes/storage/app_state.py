"""A small key-value store for bot bookkeeping (e.g. the hash of the last synced command set)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.storage.schema import APP_STATE_KEY_MAX, app_state
from pytunes.storage.upsert import upsert


async def get(engine: AsyncEngine, key: str) -> str | None:
    """The value stored under `key`, or None."""
    _check_key(key)
    async with engine.connect() as conn:
        result = await conn.execute(select(app_state.c.value).where(app_state.c.key == key))
        return result.scalar_one_or_none()


async def put(engine: AsyncEngine, key: str, value: str) -> None:
    """Store `value` under `key`, replacing any previous value."""
    _check_key(key)
    statement = upsert(
        engine,
        app_state,
        {"key": key, "value": value},
        key=[app_state.c.key],
        also_set={"updated_at": func.now()},
    )
    async with engine.begin() as conn:
        await conn.execute(statement)


def _check_key(key: str) -> None:
    # PostgreSQL would reject an over-long key but SQLite would silently store it.
    if not key or len(key) > APP_STATE_KEY_MAX:
        raise ValueError(f"app_state key must be 1 to {APP_STATE_KEY_MAX} characters, got {len(key)}")
