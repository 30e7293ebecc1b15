"""Per-guild music settings in the database (volume, silent, normalize)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.music.model import DEFAULT_VOLUME
from pytunes.storage.schema import guild_music
from pytunes.storage.upsert import upsert


@dataclass(frozen=True)
class MusicSettings:
    volume: int = DEFAULT_VOLUME
    silent: bool = False
    normalize: bool = False


class MusicStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load(self, guild_id: int) -> MusicSettings:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(guild_music.c.volume, guild_music.c.silent, guild_music.c.normalize).where(
                        guild_music.c.guild_id == guild_id
                    )
                )
            ).first()
        return MusicSettings(*row) if row else MusicSettings()

    async def save(self, guild_id: int, settings: MusicSettings) -> None:
        statement = upsert(
            self.engine,
            guild_music,
            {"guild_id": guild_id, **asdict(settings)},
            key=[guild_music.c.guild_id],
            also_set={"updated_at": func.now()},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)
