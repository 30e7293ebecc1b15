"""`Database`: the engine the bot owns for its lifetime, opened with the schema brought up to date."""

from __future__ import annotations

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.storage.engine import create_engine
from pytunes.storage.migrate import migrate_to_head


class Database:
    """Owns the engine for the bot's lifetime."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    async def open(cls, database_url: str | URL, *, migrate: bool = True) -> Database:
        """Create the engine and, unless told otherwise, bring the schema up to date."""
        engine = create_engine(database_url)
        try:
            if migrate:
                await migrate_to_head(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
