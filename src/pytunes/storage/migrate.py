"""Alembic migrations, configured in code and applied on start or by `pytunes migrate`.

A new migration starts from the template with the next number as its id:

    python -c "from alembic import command; from pytunes.storage.migrate import alembic_config;
    command.revision(alembic_config(), 'add reminders', rev_id='0002')"
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.storage.engine import BEGIN_IMMEDIATE_OPTION, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any constant works as long as nothing else in the database uses it; it makes concurrent starts
# (two bot processes, or the bot and `pytunes migrate`) apply migrations one after the other.
_POSTGRES_LOCK_KEY = 0x5079_5475_6E65  # "PyTune"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; `env.py` uses `connection`."""
    config = Config()
    # ConfigParser interpolation would treat a '%' in the install path as a placeholder.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for a database never migrated."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def migrate_to_head(engine: AsyncEngine) -> None:
    """Apply every pending migration; a no-op when the database is current."""
    await upgrade_to(engine, "head")


async def upgrade_to(engine: AsyncEngine, revision: str) -> None:
    await _run_locked(engine, lambda conn: command.upgrade(alembic_config(conn), revision))


async def downgrade_to(engine: AsyncEngine, revision: str) -> None:
    """Revert migrations down to `revision` ("base" removes every table)."""
    await _run_locked(engine, lambda conn: command.downgrade(alembic_config(conn), revision))


def migrate(database_url: str | URL) -> str:
    """Synchronous entry for the CLI: migrate the database to head and return the revision."""

    async def run() -> str:
        engine = create_engine(database_url)
        try:
            await migrate_to_head(engine)
            return await current_revision(engine) or "base"
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def _run_locked(engine: AsyncEngine, step: Callable[[Connection], None]) -> None:
    # The whole run is one transaction, so a failing migration leaves the previous schema intact
    # (both backends have transactional DDL; see engine.py for SQLite).
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            async with conn.begin():
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK_KEY})
                await conn.run_sync(step)
        else:
            await conn.run_sync(_run_sqlite, step)


def _run_sqlite(conn: Connection, step: Callable[[Connection], None]) -> None:
    # SQLite alters a table by copying it and dropping the original; with foreign keys on, that
    # DROP would fire ON DELETE actions on referencing tables. The pragma is ignored inside a
    # transaction, so it is switched on the raw connection before BEGIN, and integrity is checked
    # explicitly before committing instead.
    _sqlite_pragma(conn, "PRAGMA foreign_keys=OFF")
    try:
        # Reads the version table and then writes: IMMEDIATE so a concurrent start waits its turn.
        conn.execution_options(**{BEGIN_IMMEDIATE_OPTION: True})
        with conn.begin():
            step(conn)
            violations = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise RuntimeError(f"migration would break foreign keys: {violations[:5]}")
    finally:
        _sqlite_pragma(conn, "PRAGMA foreign_keys=ON")


def _sqlite_pragma(conn: Connection, statement: str) -> None:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()
