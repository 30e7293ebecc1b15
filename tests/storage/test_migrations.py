from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.storage import Database
from pytunes.storage.engine import create_engine
from pytunes.storage.migrate import (
    alembic_config,
    current_revision,
    downgrade_to,
    head_revision,
    migrate,
    migrate_to_head,
)
from pytunes.storage.schema import metadata

EXPECTED_TABLES = set(metadata.tables)


def test_revision_chain_is_linear_and_numbered() -> None:
    # Features add migrations independently; numbered ids and a single head keep them from forking.
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(reversed(list(script.walk_revisions())))
    for number, revision in enumerate(revisions, start=1):
        assert revision.revision == f"{number:04d}"
        assert revision.down_revision == (f"{number - 1:04d}" if number > 1 else None)
        assert Path(revision.path).name.startswith(f"{number:04d}_")


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names()))


async def test_migrations_create_the_tables(engine: AsyncEngine) -> None:
    assert await table_names(engine) == EXPECTED_TABLES | {"alembic_version"}
    assert await current_revision(engine) == head_revision()


async def test_migrated_schema_matches_schema_module(engine: AsyncEngine) -> None:
    # schema.py is the source of truth; a hand-written migration that drifts from it fails here.
    def diff(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_primary_keys_follow_the_naming_convention(engine: AsyncEngine) -> None:
    def pk_names(conn: Connection) -> dict[str, str | None]:
        inspector = inspect(conn)
        return {table: inspector.get_pk_constraint(table)["name"] for table in EXPECTED_TABLES}

    async with engine.connect() as conn:
        names = await conn.run_sync(pk_names)
    if engine.dialect.name == "postgresql":  # SQLite does not report constraint names back
        assert names == {table: f"pk_{table}" for table in EXPECTED_TABLES}


async def test_migrating_again_is_a_no_op(engine: AsyncEngine) -> None:
    await migrate_to_head(engine)
    await migrate_to_head(engine)
    assert await table_names(engine) == EXPECTED_TABLES | {"alembic_version"}
    assert await current_revision(engine) == head_revision()


async def test_downgrade_to_base_and_back(engine: AsyncEngine) -> None:
    await downgrade_to(engine, "base")
    assert await table_names(engine) == {"alembic_version"}
    assert await current_revision(engine) is None

    await migrate_to_head(engine)
    assert await table_names(engine) == EXPECTED_TABLES | {"alembic_version"}
    assert await current_revision(engine) == head_revision()


async def test_database_open_migrates_and_close_disposes(database_url: str) -> None:
    db = await Database.open(database_url)
    try:
        assert await table_names(db.engine) == EXPECTED_TABLES | {"alembic_version"}
    finally:
        await db.close()
    # Opening an up-to-date database again is fine.
    async with await Database.open(database_url) as again:
        assert await current_revision(again.engine) == head_revision()


async def test_database_open_without_migrating(database_url: str) -> None:
    async with await Database.open(database_url, migrate=False) as db:
        assert await current_revision(db.engine) is None
        assert await table_names(db.engine) == set()


def test_sync_migrate_entry_point(database_url: str) -> None:
    assert migrate(database_url) == head_revision()
    assert migrate(database_url) == head_revision()


async def test_failed_migration_leaves_no_trace(database_url: str, tmp_path: Path) -> None:
    # A broken revision on top of the real head: it creates a table, then fails. The whole run must
    # roll back, so the database keeps no tables and no recorded revision.
    versions = tmp_path / "versions"
    versions.mkdir()
    source = Path(alembic_config().get_main_option("script_location") or "") / "versions"
    for migration in source.glob("*.py"):
        (versions / migration.name).write_text(migration.read_text())
    head = head_revision()
    broken = f"{int(head) + 1:04d}"
    (versions / f"{broken}_broken.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = '{broken}'\ndown_revision = '{head}'\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n"
        "    op.create_table('half_done', sa.Column('id', sa.Integer(), primary_key=True))\n"
        "    op.execute('SELECT * FROM no_such_table')\n\n\n"
        "def downgrade():\n    pass\n"
    )
    engine = create_engine(database_url)
    try:
        with pytest.MonkeyPatch.context() as patch:
            config = _config_with_versions(str(versions))
            patch.setattr("pytunes.storage.migrate.alembic_config", config)
            assert ScriptDirectory.from_config(config(None)).get_current_head() == broken
            with pytest.raises(Exception, match="no_such_table"):
                await migrate_to_head(engine)
        assert await table_names(engine) == set()
    finally:
        await engine.dispose()


def _config_with_versions(versions: str) -> Callable[[Connection | None], Config]:
    def build(connection: Connection | None = None) -> Config:
        config = alembic_config(connection)
        config.set_main_option("version_locations", versions)
        config.set_main_option("path_separator", "os")
        return config

    return build
