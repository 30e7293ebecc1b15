from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from pytunes.storage import Database, app_state
from pytunes.storage.engine import (
    BEGIN_IMMEDIATE_OPTION,
    POSTGRES_DRIVER,
    SQLITE_DRIVER,
    create_engine,
    normalize_url,
    sqlite_file,
)


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///data/pytunes.db", SQLITE_DRIVER),
        ("sqlite+aiosqlite:///data/pytunes.db", SQLITE_DRIVER),
        ("SQLite:///x.db", SQLITE_DRIVER),
        ("sqlite://", SQLITE_DRIVER),
        ("postgresql://u:pw@db.example:5432/bot", POSTGRES_DRIVER),
        ("postgres://u:pw@db.example/bot", POSTGRES_DRIVER),
        ("postgresql+asyncpg://u:pw@db.example/bot", POSTGRES_DRIVER),
        ("postgres+asyncpg://u@db.example/bot", POSTGRES_DRIVER),
    ],
)
def test_urls_are_rewritten_to_the_async_drivers(url: str, driver: str) -> None:
    normalized = normalize_url(url)
    original = make_url(url)
    assert normalized.drivername == driver
    assert (normalized.host, normalized.port, normalized.database) == (
        original.host,
        original.port,
        original.database,
    )


def test_normalization_keeps_credentials_and_query() -> None:
    url = normalize_url("postgres://bot:s3cret@db.example:6543/pytunes?ssl=require")
    assert url.username == "bot"
    assert url.password == "s3cret"
    assert url.port == 6543
    assert url.query == {"ssl": "require"}


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://u:pw@db.example/bot",
        "postgresql+psycopg://u:pw@db.example/bot",
        "sqlite+pysqlite:///x.db",
        "mysql+aiomysql://u:pw@db.example/bot",
        "mysql://u:pw@db.example/bot",
        "oracle://u:pw@db.example/bot",
    ],
)
def test_unsupported_drivers_are_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported database driver") as excinfo:
        normalize_url(url)
    assert "pw" not in str(excinfo.value), "the password must not leak into the message"


@pytest.mark.parametrize("url", ["", "   ", "not a url", "://nothing"])
def test_malformed_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="database URL"):
        normalize_url(url)


async def test_default_sqlite_path_gets_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = create_engine("sqlite+aiosqlite:///data/pytunes.db")
    try:
        assert (tmp_path / "data").is_dir()
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
        assert (tmp_path / "data" / "pytunes.db").is_file()
    finally:
        await engine.dispose()


async def test_nested_sqlite_folders_are_created(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/a/b/c/bot.db")
    try:
        assert (tmp_path / "a" / "b" / "c").is_dir()
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:///data/pytunes.db", Path("data/pytunes.db")),
        ("sqlite:////srv/pytunes/bot.db", Path("/srv/pytunes/bot.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:shared?mode=memory&uri=true", None),
    ],
)
def test_sqlite_file_of_url(url: str, expected: Path | None) -> None:
    assert sqlite_file(normalize_url(url)) == expected


async def test_in_memory_sqlite_database_works() -> None:
    async with await Database.open("sqlite://") as db:
        await app_state.put(db.engine, "k", "v")
        assert await app_state.get(db.engine, "k") == "v"


async def test_sqlite_pragmas_are_on_for_every_connection(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/bot.db")
    try:
        # Two connections held at once, so the pool cannot hand out the same one twice.
        async with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):
                assert await conn.scalar(text("PRAGMA foreign_keys")) == 1
                assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
                assert await conn.scalar(text("PRAGMA busy_timeout")) == 5000
    finally:
        await engine.dispose()


async def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/bot.db")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))"))
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO child (parent_id) VALUES (42)"))
    finally:
        await engine.dispose()


async def test_sqlite_ddl_is_transactional(tmp_path: Path) -> None:
    # The sqlite3 module's default would auto-commit the CREATE TABLE; a failed migration must not
    # leave half a schema behind.
    engine = create_engine(f"sqlite:///{tmp_path}/bot.db")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE scratch (id INTEGER)"))
            await conn.rollback()
            tables = await conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
            assert "scratch" not in set(tables)
    finally:
        await engine.dispose()


async def test_sqlite_begin_immediate_serialises_read_modify_write(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/bot.db")

    async def increment() -> None:
        async with engine.connect() as conn:
            await conn.execution_options(**{BEGIN_IMMEDIATE_OPTION: True})
            async with conn.begin():
                current = await conn.scalar(text("SELECT n FROM counter"))
                await asyncio.sleep(0.01)  # let the other tasks try to interleave
                await conn.execute(text("UPDATE counter SET n = :n"), {"n": current + 1})

    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
            await conn.execute(text("INSERT INTO counter (n) VALUES (0)"))
        await asyncio.gather(*(increment() for _ in range(5)))
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT n FROM counter")) == 5
    finally:
        await engine.dispose()
