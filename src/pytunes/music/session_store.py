"""Saved music sessions in the database (`music_session`): one row per guild.

The row holds the snapshot JSON (queue, current track, history, paused), the voice and text channels to
come back to, and how far the current track had got. The position has its own statement because it is
written about once a second for every playing guild, while the rest changes only with commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.storage.schema import music_session
from pytunes.storage.upsert import upsert


@dataclass(frozen=True, slots=True)
class SavedSession:
    guild_id: int
    voice_channel_id: int | None
    text_channel_id: int | None
    state: str
    position: float


class SessionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load_all(self) -> list[SavedSession]:
        columns = music_session.c
        query = select(
            columns.guild_id,
            columns.voice_channel_id,
            columns.text_channel_id,
            columns.state,
            columns.position,
        ).order_by(columns.guild_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [SavedSession(*row) for row in rows]

    async def save(self, session: SavedSession) -> None:
        statement = upsert(
            self.engine,
            music_session,
            {
                "guild_id": session.guild_id,
                "voice_channel_id": session.voice_channel_id,
                "text_channel_id": session.text_channel_id,
                "state": session.state,
                "position": session.position,
            },
            key=[music_session.c.guild_id],
            also_set={"updated_at": func.now()},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def save_positions(self, positions: Mapping[int, float]) -> None:
        """Update the position of several guilds in one statement; guilds without a row are skipped (their
        first full save carries the position)."""
        if not positions:
            return
        statement = (
            update(music_session)
            .where(music_session.c.guild_id == bindparam("g"))
            .values(position=bindparam("p"), updated_at=func.now())
        )
        params = [{"g": guild_id, "p": position} for guild_id, position in positions.items()]
        async with self.engine.begin() as conn:
            await conn.execute(statement, params)

    async def delete(self, guild_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(music_session).where(music_session.c.guild_id == guild_id))
