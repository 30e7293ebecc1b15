"""`wakeup <member> [count]` (prefix and slash) and the "WakeUp!" user context menu: bounce someone
between their voice channel and the away channel so their client chimes.

Fixes over the reference bot's version: the away channel is the server's AFK channel or a configured
one, never a hard-coded id; the caller needs Move Members or must share the target's voice channel; the
target must be in voice; one wakeup per target per cooldown; and it works as a prefix command too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands

from pytunes.core.checks import CheckRefusal
from pytunes.core.commands import hybrid_command
from pytunes.core.context import Ctx, FeatureBot
from pytunes.core.replies import error_embed
from pytunes.core.voice_states import seen_in_voice, voice_channel_id
from pytunes.utility.rules import (
    WAKEUP_COUNT_DEFAULT,
    WAKEUP_COUNT_MAX,
    WAKEUP_COUNT_MIN,
    Cooldowns,
    away_channel,
    may_wake,
)

log = logging.getLogger(__name__)

PAUSE_SECONDS = 0.1  # in the away channel before coming back: long enough for the client to notice
MOVE_SEEN_TIMEOUT = 5.0  # real seconds for the gateway to report a move the REST call already made
Announce = Callable[[str, discord.AllowedMentions], Awaitable[object]]
Voice = discord.VoiceChannel | discord.StageChannel


class WakeUp(commands.Cog):
    def __init__(self, bot: FeatureBot) -> None:
        self.bot = bot
        self.cooldowns = Cooldowns(bot.settings.wakeup_cooldown_seconds)
        self.menu = app_commands.ContextMenu(name="WakeUp!", callback=self._from_menu)
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @hybrid_command(name="wakeup", description="Bounce a member to the AFK channel and back so they notice")
    @app_commands.describe(
        member="Who to wake up (must be in voice)", count="How many bounces, 1–5 (default 2)"
    )
    @app_commands.guild_only()
    async def wakeup(
        self,
        ctx: Ctx,
        member: discord.Member,
        count: commands.Range[int, WAKEUP_COUNT_MIN, WAKEUP_COUNT_MAX] = WAKEUP_COUNT_DEFAULT,
    ) -> None:
        if ctx.guild is None or not isinstance(ctx.author, discord.Member):
            raise commands.NoPrivateMessage()

        async def announce(text: str, allowed: discord.AllowedMentions) -> None:
            # A plain channel message; for slash it is the interaction's answer.
            await ctx.send(text, allowed_mentions=allowed)

        async def report(text: str) -> None:
            await self.bot.replies.error(ctx, text, title="🚫  Wakeup failed")

        await self.run(ctx.author, member, count, announce, report)

    async def _from_menu(self, interaction: discord.Interaction, member: discord.Member) -> None:
        author = interaction.user
        if interaction.guild is None or not isinstance(author, discord.Member):
            await interaction.response.send_message("This only works in a server.", ephemeral=True)
            return

        async def announce(text: str, allowed: discord.AllowedMentions) -> None:
            await interaction.response.send_message(text, allowed_mentions=allowed)

        async def report(text: str) -> None:
            await interaction.followup.send(
                embed=error_embed(text, title="🚫  Wakeup failed"), ephemeral=True
            )

        try:
            await self.run(author, member, WAKEUP_COUNT_DEFAULT, announce, report)
        except CheckRefusal as refusal:
            await interaction.response.send_message(embed=refusal.embed(), ephemeral=True)

    def _away(self, guild: discord.Guild) -> Voice | None:
        voice_ids = {
            c.id for c in guild.channels if isinstance(c, discord.VoiceChannel | discord.StageChannel)
        }
        chosen = away_channel(
            self.bot.settings.away_channel_id, voice_ids, guild.afk_channel.id if guild.afk_channel else None
        )
        channel = guild.get_channel(chosen) if chosen is not None else None
        return channel if isinstance(channel, discord.VoiceChannel | discord.StageChannel) else None

    async def run(
        self,
        author: discord.Member,
        target: discord.Member,
        count: int,
        announce: Announce,
        report: Callable[[str], Awaitable[None]],
    ) -> None:
        """Check everything first (a refusal changes nothing), then announce, then move."""
        guild = author.guild
        if target.bot:
            raise CheckRefusal("🚫  Not a sleeper", "Bots never sleep; pick a person.")
        home = target.voice.channel if target.voice else None
        if home is None:
            raise CheckRefusal("🚫  Not in voice", f"{target.mention} is not in a voice channel.")
        author_channel = author.voice.channel if author.voice else None
        if not may_wake(
            can_move_members=home.permissions_for(author).move_members,
            author_channel=author_channel.id if author_channel else None,
            target_channel=home.id,
        ):
            raise CheckRefusal(
                "🚫  Not allowed",
                f"You need the Move Members permission, or to be in {home.mention} with {target.mention}.",
            )
        away = self._away(guild)
        if away is None:
            raise CheckRefusal(
                "🚫  No AFK channel",
                "This server has no AFK channel to bounce people through. Set one in Server Settings → "
                "Overview (Inactive Channel), or ask the bot's operator to set AWAY_CHANNEL_ID.",
            )
        if away.id == home.id:
            raise CheckRefusal("🚫  Already away", f"{target.mention} is already in {away.mention}.")
        me = guild.me
        if not (away.permissions_for(me).move_members and home.permissions_for(me).move_members):
            raise CheckRefusal("🚫  I can't move members", "I need the Move Members permission for that.")
        key = (guild.id, target.id)
        left = self.cooldowns.claim(key, self.bot.clock.monotonic())
        if left is not None:
            retry_at = self.bot.clock.now() + left
            raise CheckRefusal(
                "🚫  Slow down",
                f"{target.mention} was woken up recently; try again <t:{int(retry_at) + 1}:R>.",
            )
        await announce(
            f"{author.mention}: Hey {target.mention}, wake up!",
            discord.AllowedMentions(users=[target], everyone=False, roles=False),
        )
        await self._bounce(target, home, away, count, key, report)

    async def _bounce(
        self,
        target: discord.Member,
        home: Voice,
        away: Voice,
        count: int,
        key: tuple[int, int],
        report: Callable[[str], Awaitable[None]],
    ) -> None:
        for bounce in range(count):
            try:
                await target.move_to(away, reason="wakeup")
            except discord.HTTPException as error:
                if bounce == 0:
                    self.cooldowns.release(key)  # nothing happened to them
                if target.voice is not None:  # still in voice: a real failure, not someone who left
                    await report(f"Could not move {target.mention} to {away.mention}: {error.text or error}")
                return
            # The move's answer comes over REST, its voice state update over the gateway a moment later:
            # judged before that, the check below would see them still at home and stop, leaving them in
            # the away channel.
            if not await seen_in_voice(self.bot, target, away.id, timeout=MOVE_SEEN_TIMEOUT):
                return  # they left meanwhile: leave them be
            await self.bot.clock.sleep(PAUSE_SECONDS)
            if voice_channel_id(target) != away.id:
                return  # they left or someone else moved them: leave them be
            try:
                await target.move_to(home, reason="wakeup")
            except discord.HTTPException as error:
                await report(f"Could not move {target.mention} back to {home.mention}: {error.text or error}")
                return
