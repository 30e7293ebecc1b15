"""One insert-or-update statement that works on SQLite and PostgreSQL alike.

A single statement, not select-then-insert: two tasks writing the same key at once must not fail on the
primary key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine


def upsert(
    engine: AsyncEngine,
    table: Table,
    values: Mapping[str, Any],
    *,
    key: Sequence[Column[Any]],
    also_set: Mapping[str, Any] | None = None,
) -> Any:
    """INSERT `values`; on a conflict on `key`, update every non-key column from `values` (and `also_set`)."""
    insert: postgresql.Insert | sqlite.Insert
    if engine.dialect.name == "postgresql":
        insert = postgresql.insert(table)
    elif engine.dialect.name == "sqlite":
        insert = sqlite.insert(table)
    else:
        raise ValueError(f"unsupported database dialect {engine.dialect.name!r}")
    key_names = {c.name for c in key}
    updates: dict[str, Any] = {name: insert.excluded[name] for name in values if name not in key_names}
    updates.update(also_set or {})
    return insert.values(**values).on_conflict_do_update(index_elements=list(key), set_=updates)
