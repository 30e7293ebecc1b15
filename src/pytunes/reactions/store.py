"""Per-guild keyword rules and channel lists."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.storage.engine import BEGIN_IMMEDIATE_OPTION
from pytunes.storage.schema import reaction_channels, reaction_rules
from pytunes.storage.upsert import upsert

rr = reaction_rules.c
rc = reaction_channels.c


@dataclass(frozen=True)
class StoredRule:
    id: int
    pattern: str
    emoji: str
    created_by: int


async def rules(engine: AsyncEngine, guild_id: int) -> list[StoredRule]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(rr.id, rr.pattern, rr.emoji, rr.created_by).where(rr.guild_id == guild_id).order_by(rr.id)
        )
        return [StoredRule(*row) for row in result]


async def add_rule(
    engine: AsyncEngine, guild_id: int, pattern: str, emoji: str, created_by: int, limit: int
) -> int | str:
    """The new rule's id, or "full" (the guild has `limit` rules) or "duplicate"; nothing stored then."""
    try:
        async with engine.execution_options(**{BEGIN_IMMEDIATE_OPTION: True}).begin() as conn:
            count = await conn.scalar(select(func.count()).where(rr.guild_id == guild_id))
            if (count or 0) >= limit:
                return "full"
            result = await conn.execute(
                insert(reaction_rules)
                .values(guild_id=guild_id, pattern=pattern, emoji=emoji, created_by=created_by)
                .returning(rr.id)
            )
            return int(result.scalar_one())
    except IntegrityError:
        return "duplicate"


async def remove_rule(engine: AsyncEngine, guild_id: int, rule_id: int) -> StoredRule | None:
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                select(rr.id, rr.pattern, rr.emoji, rr.created_by).where(
                    rr.id == rule_id, rr.guild_id == guild_id
                )
            )
        ).one_or_none()
        if row is None:
            return None
        await conn.execute(delete(reaction_rules).where(rr.id == rule_id))
        return StoredRule(*row)


async def channel_modes(engine: AsyncEngine, guild_id: int) -> dict[int, str]:
    async with engine.connect() as conn:
        result = await conn.execute(select(rc.channel_id, rc.mode).where(rc.guild_id == guild_id))
        return {channel: mode for channel, mode in result}


async def set_channel_mode(engine: AsyncEngine, guild_id: int, channel_id: int, mode: str | None) -> None:
    """`mode`: "allow", "deny", or None to forget the channel."""
    async with engine.begin() as conn:
        if mode is None:
            await conn.execute(
                delete(reaction_channels).where(rc.guild_id == guild_id, rc.channel_id == channel_id)
            )
            return
        await conn.execute(
            upsert(
                engine,
                reaction_channels,
                {"guild_id": guild_id, "channel_id": channel_id, "mode": mode},
                key=[rc.guild_id, rc.channel_id],
            )
        )
