"""A server for the reminder, utility and reaction tests: an owner who stays out of the way, a moderator
(Move Members, Manage Nicknames, Manage Server), two members, voice channels with an AFK channel, and the
bot on a ManualClock that starts wherever the test module needs it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytunes.bot import PyTunes
from pytunes.core.clock import ManualClock
from pytunes.runner import running_bot
from simcord import Channel, Guild, Message, Permissions, Role, Simcord, SimUser
from simcord.world import Application
from tests.e2e.conftest import test_settings


@dataclass
class Community:
    sim: Simcord
    app: Application
    bot: PyTunes
    clock: ManualClock
    guild: Guild
    general: Channel
    random: Channel
    lounge: Channel
    den: Channel
    afk: Channel
    owner: SimUser
    mod: SimUser
    alice: SimUser
    bob: SimUser
    mod_role: Role
    member_role: Role
    database: Path

    def from_bot(self, message: Message) -> bool:
        return message.author.id == self.app.bot.id

    async def reply_to(self, typed: Message, timeout: float = 5.0) -> Message:
        """The bot's next message in the channel of `typed`, sent after it."""
        channel = self.sim.world.channels[typed.channel_id]
        return await self.sim.wait_for_message(channel, self.from_bot, after=typed, timeout=timeout)

    def rows(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """Read the bot's database directly (what is stored, not what the bot says)."""
        with contextlib.closing(sqlite3.connect(self.database)) as conn:
            return conn.execute(query, args).fetchall()

    async def until(self, condition: Any, timeout: float = 5.0) -> Any:
        """Poll `condition` every few milliseconds: for state simcord does not announce (the database)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (value := condition()):
            if loop.time() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await asyncio.sleep(0.005)
        return value

    async def advance_until(self, condition: Any, *, step: float, limit: float) -> float:
        """Advance the bot clock `step` at a time until `condition()` holds; returns the time advanced.
        Before each step the bot may work until something sleeps for at most `step` (a pause it waits
        in), so the clock never runs ahead of the bot."""
        moved = 0.0
        while not condition():
            if moved >= limit:
                raise AssertionError(f"condition not met after advancing {limit} s")
            with contextlib.suppress(TimeoutError):
                await self.until(
                    lambda: condition() or any(left <= step + 1e-6 for left in self.clock.pending()),
                    timeout=1,
                )
            if condition():
                break
            await self.clock.advance(step)
            moved += step
        return moved

    def direct_messages(self, user: SimUser) -> list[Message]:
        """What the bot sent `user` privately, oldest first (simcord may open several DM channels)."""
        channels = [
            c for c in self.sim.world.channels.values() if c.guild_id is None and user.user in c.recipients
        ]
        found = [m for c in channels for m in self.sim.messages(c) if self.from_bot(m)]
        return sorted(found, key=lambda m: m.id)


@contextlib.asynccontextmanager
async def community(
    tmp: Path, *, start: float = 1_800_000_000.0, **settings: Any
) -> AsyncIterator[Community]:
    async with Simcord() as sim:
        app = sim.create_application("PyTunes")
        owner = sim.create_user("olivia")
        mod, alice, bob = sim.create_user("mod"), sim.create_user("alice"), sim.create_user("bob")
        guild = sim.create_guild("Community", owner)
        mod_role = sim.create_role(
            guild,
            "Moderator",
            Permissions.MOVE_MEMBERS | Permissions.MANAGE_NICKNAMES | Permissions.MANAGE_GUILD,
            position=5,
        )
        member_role = sim.create_role(guild, "Member", 0, position=2)
        sim.add_member(guild, mod, [mod_role])
        sim.add_member(guild, alice, [member_role])
        sim.add_member(guild, bob, [member_role])
        general = sim.create_text_channel(guild, "general")
        random = sim.create_text_channel(guild, "random")
        lounge = sim.create_voice_channel(guild, "Lounge")
        den = sim.create_voice_channel(guild, "Den")
        afk = sim.create_voice_channel(guild, "AFK", afk=True)
        sim.add_bot(guild, app)
        clock = ManualClock(start)
        database = tmp / "pytunes.db"
        config = test_settings(sim, app, database).model_copy(update=settings)
        async with running_bot(config, clock=clock, guild_ready_timeout=0.05) as bot:
            yield Community(
                sim, app, bot, clock, guild, general, random, lounge, den, afk,
                owner, mod, alice, bob, mod_role, member_role, database,
            )  # fmt: skip
