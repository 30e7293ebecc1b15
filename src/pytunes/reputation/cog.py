"""Reputation commands (prefix and slash from one handler). Rules live in the model, state in the store;
this only talks: it hands the request to the service and shows the outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, cast

import discord
from discord import app_commands
from discord.ext import commands

from pytunes.core.checks import CheckRefusal
from pytunes.core.commands import Handler, hybrid_command, hybrid_group
from pytunes.core.context import Ctx, FeatureBot
from pytunes.core.replies import make_embed
from pytunes.core.views import OnTimeout, PageSource, Paginator, PaginatorLabels
from pytunes.reputation import embeds
from pytunes.reputation.model import REASON_MAX, Period, Refusal, Source
from pytunes.reputation.service import ReputationService
from pytunes.reputation.store import RepStore

# ⬅️ Previous · p/N · Next ➡️, primary style; 2 minutes without a click ends the navigation and
# leaves the message without buttons. A single page gets no buttons at all.
LABELS = PaginatorLabels(previous="⬅️ Previous", next="Next ➡️", style=discord.ButtonStyle.primary)
NAVIGATION_TIMEOUT = 120.0


async def _can_manage_guild(ctx: Ctx) -> bool:
    if not isinstance(ctx.author, discord.Member) or not ctx.author.guild_permissions.manage_guild:
        raise CheckRefusal(
            "🚫  Missing permission",
            "Only members with the Manage Server permission can change reputation settings or revoke reps.",
        )
    return True


manage_guild = commands.check(_can_manage_guild)


def subcommand(
    group: commands.HybridGroup[Any, ..., None], **attrs: Any
) -> Callable[[Handler], commands.HybridCommand[Any, ..., None]]:
    """`group.command`, typed for cog methods (mypy cannot solve discord.py's decorator overloads)."""
    return cast(Callable[[Handler], commands.HybridCommand[Any, ..., None]], group.command(**attrs))


class Reputation(commands.Cog):
    def __init__(self, bot: FeatureBot, service: ReputationService) -> None:
        self.bot = bot
        self.service = service

    async def cog_check(self, ctx: Ctx) -> bool:  # type: ignore[override]
        if ctx.guild is None:
            raise commands.NoPrivateMessage()  # reputation is per server
        return True

    @property
    def prefix(self) -> str:
        return self.bot.settings.command_prefix

    # ---------------------------------------------------------------------------------------- giving

    @hybrid_command(
        name="add_rep", aliases=["+rep", "plusrep"], description="Give someone +1 reputation, with a reason"
    )
    @app_commands.describe(user="Who deserves it", reason=f"Why (1–{REASON_MAX} characters)")
    async def add_rep(self, ctx: Ctx, user: discord.Member, *, reason: str) -> None:
        await self._give(ctx, user, reason, 1)

    @hybrid_command(
        name="remove_rep",
        aliases=["-rep", "minusrep"],
        description="Give someone -1 reputation, with a reason",
    )
    @app_commands.describe(user="Who it is for", reason=f"Why (1–{REASON_MAX} characters)")
    async def remove_rep(self, ctx: Ctx, user: discord.Member, *, reason: str) -> None:
        await self._give(ctx, user, reason, -1)

    async def _give(self, ctx: Ctx, user: discord.Member, reason: str, value: int) -> None:
        assert ctx.guild is not None
        if ctx.interaction is not None:
            source = Source(ctx.channel.id, interaction_id=ctx.interaction.id)
        else:
            source = Source(ctx.channel.id, message_id=ctx.message.id)
        outcome = await self.service.give(
            guild_id=ctx.guild.id,
            giver_id=ctx.author.id,
            receiver_id=user.id,
            receiver_is_bot=user.bot,
            value=value,
            reason=reason,
            source=source,
        )
        if isinstance(outcome, Refusal):
            await self._refuse(ctx, outcome)
            return
        # Recorded first, announced after: the announcement only ever confirms what happened.
        await self.bot.replies.send(ctx, embed=embeds.given(outcome), transient=False)

    async def _refuse(self, ctx: Ctx, refusal: Refusal) -> None:
        await self.bot.replies.error(ctx, refusal.text, title=refusal.title)

    # ---------------------------------------------------------------------------------------- reading

    @hybrid_command(
        name="list_rep",
        aliases=["reps", "repinfo"],
        description="Show someone's reputation history (yours by default)",
    )
    @app_commands.describe(user="Whose history (default: yours)")
    async def list_rep(self, ctx: Ctx, user: discord.User | None = None) -> None:
        assert ctx.guild is not None
        target = user or ctx.author
        await self._paginate(
            ctx,
            self.service.history(ctx.guild.id, target.id),
            "Only the person who ran this command can navigate the list.",
        )

    @hybrid_command(
        name="rep_leaderboard",
        aliases=["leaderboard", "reptop", "toprep"],
        description="Reputation ranking of this server: all time, last 30 days or last 7 days",
    )
    @app_commands.describe(period="all (default), 30d or 7d")
    async def rep_leaderboard(self, ctx: Ctx, period: Literal["all", "30d", "7d"] = "all") -> None:
        assert ctx.guild is not None
        await self._paginate(
            ctx,
            self.service.board(ctx.guild.id, Period(period), self.prefix),
            "Only the person who ran this command can navigate the leaderboard.",
        )

    async def _paginate(self, ctx: Ctx, source: PageSource, refusal: str) -> None:
        paginator = Paginator(
            self.bot.interactions,
            source,
            author_id=ctx.author.id,
            refusal=refusal,
            timeout=NAVIGATION_TIMEOUT,
            on_timeout=OnTimeout.STRIP,
            labels=LABELS,
        )

        async def send(pages: list[discord.Embed], view: discord.ui.View | None) -> discord.Message | None:
            return await self.bot.replies.send(ctx, embeds=pages, view=view, transient=False)

        await paginator.run(send)

    # ---------------------------------------------------------------------------------------- admin

    @hybrid_group(name="rep", description="Reputation settings and moderation (Manage Server)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def rep(self, ctx: Ctx) -> None:
        # Only a bare prefix `!rep` lands here; slash groups cannot be invoked without a subcommand.
        p = self.prefix
        await self.bot.replies.send(
            ctx,
            embed=make_embed(
                "Reputation",
                f"Give: `{p}+rep @user <reason>` · `{p}-rep @user <reason>`\n"
                f"Read: `{p}reps [@user]` · `{p}leaderboard [all|30d|7d]`\n"
                f"Admins: `{p}rep config [cooldown|budget] [value]` · `{p}rep revoke <number>`",
            ),
        )

    @subcommand(
        rep, name="config", description="Show or change the rep cooldown and daily budget (Manage Server)"
    )
    @app_commands.describe(
        setting="cooldown (per giver and receiver) or budget (reps per giver per 24 h)",
        value="cooldown: e.g. 10m, 90s, 1h or off; budget: 1–1000",
    )
    @manage_guild
    async def rep_config(
        self, ctx: Ctx, setting: Literal["cooldown", "budget"] | None = None, value: str | None = None
    ) -> None:
        assert ctx.guild is not None
        if setting is None:
            current = await self.service.settings(ctx.guild.id)
            await self.bot.replies.send(ctx, embed=embeds.settings(current, self.prefix))
            return
        if value is None:
            example = "10m" if setting == "cooldown" else "10"
            await self.bot.replies.error(
                ctx,
                f"Give the new {setting}, e.g. `{self.prefix}rep config {setting} {example}`.",
                title="🚫  Missing value",
            )
            return
        outcome = await self.service.configure(ctx.guild.id, setting, value, ctx.author.id)
        if isinstance(outcome, Refusal):
            await self._refuse(ctx, outcome)
            return
        await self.bot.replies.send(ctx, embed=embeds.settings(outcome, self.prefix), transient=False)

    @subcommand(
        rep,
        name="revoke",
        description="Revoke a rep by its number; the receiver's total updates (Manage Server)",
    )
    @app_commands.describe(number="The rep's number, as shown in the history (e.g. 12 or #12)")
    @manage_guild
    async def rep_revoke(self, ctx: Ctx, number: str) -> None:
        assert ctx.guild is not None
        outcome = await self.service.revoke(ctx.guild.id, number, ctx.author.id)
        if isinstance(outcome, Refusal):
            await self._refuse(ctx, outcome)
            return
        await self.bot.replies.send(ctx, embed=embeds.revoked(outcome), transient=False)


async def setup(bot: FeatureBot) -> None:
    service = ReputationService(RepStore(bot.database.engine), bot.clock)
    await bot.add_cog(Reputation(bot, service))
