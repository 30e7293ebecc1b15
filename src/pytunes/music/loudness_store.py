"""Measured loudness per piece of audio, in the database (table `audio_loudness`).

Keyed by a content id ("youtube:<video id>", "url:<hash>", "file:<sha256>"), not by a file path: the
same song measured once serves every guild, the cached copy and the next restart. A row with a NULL
loudness means "measured, and silent": it is not measured again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.storage.schema import audio_loudness
from pytunes.storage.upsert import upsert

CONTENT_ID_MAX = 200  # the column's length


@dataclass(frozen=True, slots=True)
class Loudness:
    """A measurement: integrated loudness in LUFS, or None for silence."""

    lufs: float | None


class LoudnessStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, content_id: str) -> Loudness | None:
        """The stored measurement, or None when this content was never measured."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(audio_loudness.c.lufs).where(audio_loudness.c.content_id == content_id)
                )
            ).first()
        return Loudness(row[0]) if row is not None else None

    async def put(self, content_id: str, loudness: Loudness) -> None:
        if not content_id or len(content_id) > CONTENT_ID_MAX:
            raise ValueError("content ids are 1 to 200 characters")
        statement = upsert(
            self.engine,
            audio_loudness,
            {"content_id": content_id, "lufs": loudness.lufs},
            key=[audio_loudness.c.content_id],
            also_set={"measured_at": func.now()},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)
