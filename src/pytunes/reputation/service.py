"""The reputation service: applies the pure rules, then the store; supplies the paginated views' pages.

Bad input is refused before the database is touched (target, reason, settings, ids); the time-based
limits are decided by the store inside the guild's write lock, so they hold under races. "Now" is the
bot's clock, which tests control.
"""

from __future__ import annotations

import logging

import discord

from pytunes.core.clock import Clock
from pytunes.reputation import embeds
from pytunes.reputation.model import (
    HISTORY_PAGE_SIZE,
    Given,
    NewRep,
    Period,
    Refusal,
    RepSettings,
    Revoked,
    Source,
    board_pages,
    check_target,
    clean_reason,
    history_pages,
    parse_budget,
    parse_cooldown,
    parse_rep_id,
)
from pytunes.reputation.store import RepStore

log = logging.getLogger(__name__)


class ReputationService:
    def __init__(self, store: RepStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def give(
        self,
        *,
        guild_id: int,
        giver_id: int,
        receiver_id: int,
        receiver_is_bot: bool,
        value: int,
        reason: str,
        source: Source,
    ) -> Given | Refusal:
        refused = check_target(giver_id, receiver_id, receiver_is_bot=receiver_is_bot)
        if refused is not None:
            return refused
        cleaned = clean_reason(reason)
        if isinstance(cleaned, Refusal):
            return cleaned
        rep = NewRep(guild_id, giver_id, receiver_id, value, cleaned, source)
        return await self.store.give(rep, self.clock.now())

    async def revoke(self, guild_id: int, rep_id: str, by: int) -> Revoked | Refusal:
        number = parse_rep_id(rep_id)
        if isinstance(number, Refusal):
            return number
        outcome = await self.store.revoke(guild_id, number, by, self.clock.now())
        if isinstance(outcome, Revoked):
            log.info(
                "reputation: rep #%d (%+d from %d to %d) in guild %d revoked by %d; receiver total now %d",
                outcome.rep_id,
                outcome.value,
                outcome.giver_id,
                outcome.receiver_id,
                guild_id,
                by,
                outcome.receiver_total,
            )
        return outcome

    async def settings(self, guild_id: int) -> RepSettings:
        return await self.store.settings(guild_id)

    async def configure(self, guild_id: int, setting: str, value: str, by: int) -> RepSettings | Refusal:
        current = await self.store.settings(guild_id)
        if setting == "cooldown":
            seconds = parse_cooldown(value)
            if isinstance(seconds, Refusal):
                return seconds
            changed = RepSettings(seconds, current.daily_budget)
        else:
            budget = parse_budget(value)
            if isinstance(budget, Refusal):
                return budget
            changed = RepSettings(current.cooldown_seconds, budget)
        await self.store.save_settings(guild_id, changed)
        log.info("reputation: guild %d settings changed by %d: %s", guild_id, by, changed)
        return changed

    def history(self, guild_id: int, user_id: int) -> HistoryPages:
        return HistoryPages(self.store, guild_id, user_id)

    def board(self, guild_id: int, period: Period, prefix: str) -> BoardPages:
        return BoardPages(self.store, self.clock, guild_id, period, prefix)


class HistoryPages:
    """A member's reps, newest first, five per page; re-read on every click."""

    def __init__(self, store: RepStore, guild_id: int, user_id: int) -> None:
        self.store = store
        self.guild_id = guild_id
        self.user_id = user_id
        self.total = 0
        self.count = 0

    async def page_count(self) -> int:
        self.total, self.count = await self.store.history_size(self.guild_id, self.user_id)
        return history_pages(self.count)

    async def render(self, page: int) -> list[discord.Embed]:
        entries = await self.store.history(
            self.guild_id, self.user_id, page * HISTORY_PAGE_SIZE, HISTORY_PAGE_SIZE
        )
        return [embeds.history_page(self.user_id, entries, self.total, self.count)]

    async def render_empty(self) -> list[discord.Embed]:
        return [embeds.history_empty(self.user_id)]


class BoardPages:
    """The guild's leaderboard for a period: a summary page, then detail pages from rank 6."""

    def __init__(self, store: RepStore, clock: Clock, guild_id: int, period: Period, prefix: str) -> None:
        self.store = store
        self.clock = clock
        self.guild_id = guild_id
        self.period = period
        self.prefix = prefix

    async def page_count(self) -> int:
        return board_pages(await self.store.ranked_count(self.guild_id, self.period, self.clock.now()))

    async def render(self, page: int) -> list[discord.Embed]:
        board = await self.store.board(self.guild_id, self.period, self.clock.now(), page)
        if not board.ranked:
            return await self.render_empty()
        return [embeds.board(self.period, board)]

    async def render_empty(self) -> list[discord.Embed]:
        return [embeds.board_empty(self.period, self.prefix)]
