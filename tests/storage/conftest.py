"""Storage fixtures: every backend-aware test runs on SQLite and on a real PostgreSQL server.

PostgreSQL comes from PYTUNES_TEST_POSTGRES_URL (set by scripts/with-postgres, which `make test`
uses). Each test module gets its own database, and each test a freshly emptied schema in it.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from pytunes.storage.engine import create_engine, normalize_url
from pytunes.storage.migrate import migrate_to_head

POSTGRES_ENV = "PYTUNES_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = (
    f"PostgreSQL not available: set {POSTGRES_ENV} or run through scripts/with-postgres "
    "(PostgreSQL tests SKIPPED)"
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def _url_string(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _autocommit_engine(url: URL) -> AsyncEngine:
    # CREATE/DROP DATABASE cannot run inside a transaction; NullPool leaves no connection behind to
    # block the DROP.
    return create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


@pytest.fixture(scope="module")
async def postgres_database(request: pytest.FixtureRequest) -> AsyncIterator[URL]:
    """A uniquely named PostgreSQL database for the requesting test module, dropped afterwards."""
    raw = os.environ.get(POSTGRES_ENV)
    if not raw:
        pytest.skip(POSTGRES_SKIP_REASON)
    server = normalize_url(raw)
    module = re.sub(r"[^a-z0-9_]", "_", request.module.__name__.rsplit(".", 1)[-1].lower())
    name = f"pytunes_{module[:40]}_{uuid.uuid4().hex[:8]}"
    admin = _autocommit_engine(server)
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name)
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


@pytest.fixture
async def fresh_postgres_url(postgres_database: URL) -> str:
    engine = _autocommit_engine(postgres_database)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            await conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        await engine.dispose()
    return _url_string(postgres_database)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """URL of an empty, never-migrated database on `backend`."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/pytunes.db"
    # Requested only here, so the SQLite parameter never needs (or skips for lack of) a server.
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated engine on a fresh database."""
    eng = create_engine(database_url)
    try:
        await migrate_to_head(eng)
        yield eng
    finally:
        await eng.dispose()
