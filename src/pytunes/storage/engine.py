"""Async engine creation for the two supported backends: SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"
SQLITE_BUSY_TIMEOUT_MS = 5_000
# Connection execution option: `conn.execution_options(**{BEGIN_IMMEDIATE_OPTION: True})` makes
# SQLite take the write lock when the transaction begins. PostgreSQL ignores it.
BEGIN_IMMEDIATE_OPTION = "pytunes_begin_immediate"

# Plain backend names are accepted for convenience (and `postgres://` because hosting providers hand
# those out); any other explicit driver is refused because the code relies on these two async drivers.
_DRIVERS = {
    ("sqlite", ""): SQLITE_DRIVER,
    ("sqlite", "aiosqlite"): SQLITE_DRIVER,
    ("postgresql", ""): POSTGRES_DRIVER,
    ("postgresql", "asyncpg"): POSTGRES_DRIVER,
    ("postgres", ""): POSTGRES_DRIVER,
    ("postgres", "asyncpg"): POSTGRES_DRIVER,
}


def normalize_url(database_url: str | URL) -> URL:
    """Parse `database_url` and rewrite it to one of the supported async drivers.

    Raises ValueError for anything else. Messages never include the URL itself, which may carry a
    password.
    """
    if isinstance(database_url, URL):
        url = database_url
    else:
        if not database_url.strip():
            raise ValueError("database URL is empty")
        try:
            url = make_url(database_url.strip())
        except ArgumentError:
            raise ValueError(
                "database URL is not a valid SQLAlchemy URL; expected sqlite+aiosqlite:///path "
                "or postgresql+asyncpg://user:password@host/dbname"
            ) from None
    backend, _, driver = url.drivername.lower().partition("+")
    target = _DRIVERS.get((backend, driver))
    if target is None:
        raise ValueError(
            f"unsupported database driver {url.drivername!r}: use sqlite+aiosqlite:///path "
            "or postgresql+asyncpg://user:password@host/dbname"
        )
    return url.set(drivername=target)


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory and `file:` URI databases."""
    database = url.database
    if not database or database == ":memory:" or url.query.get("uri") in {"true", "1"}:
        return None
    return Path(database)


def create_engine(database_url: str | URL) -> AsyncEngine:
    """Create an engine for `database_url` (see `normalize_url`) without connecting yet.

    For a SQLite file the parent folder is created, so the default `data/pytunes.db` works in a
    fresh checkout.
    """
    url = normalize_url(database_url)
    if url.drivername == SQLITE_DRIVER:
        return _create_sqlite_engine(url)
    return create_async_engine(
        url,
        pool_size=5,
        max_overflow=5,
        pool_timeout=30,
        # A bot runs for weeks: servers restart and idle connections get cut by proxies, so check
        # before use and recycle rather than hand a dead connection to a command.
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"timeout": 10, "server_settings": {"application_name": "pytunes"}},
    )


def _create_sqlite_engine(url: URL) -> AsyncEngine:
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers proceed while a writer commits; NORMAL sync is durable enough under WAL
        # (a power cut can lose only the last commit, never corrupt the file).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # SQLite ships with foreign keys off, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()
    # The sqlite3 module's own transaction handling skips BEGIN for SELECT and DDL, which makes
    # migrations non-atomic and read-modify-write sequences racy; SQLAlchemy emits BEGIN instead.
    dbapi_connection.isolation_level = None


def _sqlite_on_begin(connection: Connection) -> None:
    # DEFERRED by default, so readers never wait for each other or for a writer (WAL). A deferred
    # transaction that reads and then writes fails at once with SQLITE_BUSY if another connection
    # committed in between (the busy timeout does not cover that case); work that needs this asks
    # for IMMEDIATE through BEGIN_IMMEDIATE_OPTION and queues for the write lock up front instead.
    immediate = connection.get_execution_options().get(BEGIN_IMMEDIATE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN DEFERRED")
