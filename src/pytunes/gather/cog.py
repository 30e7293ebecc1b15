"""Gather commands (prefix and slash from one handler): start, expect, forget, extend, stats.

The commands only talk; the rules live in the state machine and the running gatherings in the service.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from pytunes.core.checks import CheckRefusal, author_voice_channel, in_voice
from pytunes.core.commands import Handler, defer_first, hybrid_group
from pytunes.core.context import Ctx, FeatureBot
from pytunes.core.replies import Tone, make_embed
from pytunes.gather import embeds, table
from pytunes.gather.chart import render_chart
from pytunes.gather.events import Expect, Extend, Forget
from pytunes.gather.live import is_manager
from pytunes.gather.service import GatherService
from pytunes.gather.stats import lateness_series, member_stats, top_list
from pytunes.gather.store import GatherStore
from pytunes.gather.timeparse import humanize, parse_duration

Member = discord.Member | None
CHART_FILE = "gather-stats.png"
USAGE = (
    "`gather start [time]` calls everyone back to your voice channel, now or after a countdown "
    "(`10m`, `1h30m`, `20:30`).\n"
    "`gather expect @someone…` / `gather forget @someone…` change who is expected (up to 10 at once).\n"
    "`gather extend <time>` adds time to the countdown.\n"
    "`gather stats [member] [period]` shows punctuality (`30d`, `all`)."
)


def subcommand(
    group: commands.HybridGroup[Any, ..., None], **attrs: Any
) -> Callable[[Handler], commands.HybridCommand[Any, ..., None]]:
    """`group.command`, typed for cog methods (see `pytunes.core.commands`)."""
    return cast(Callable[[Handler], commands.HybridCommand[Any, ..., None]], group.command(**attrs))


def chosen(*members: discord.Member | None) -> tuple[int, ...]:
    """The distinct people named (bots are never expected)."""
    return tuple(dict.fromkeys(m.id for m in members if m is not None and not m.bot))


class Gather(commands.Cog):
    def __init__(self, bot: FeatureBot, service: GatherService) -> None:
        self.bot = bot
        self.service = service
        self._ready_shards: set[int] = set()

    async def cog_load(self) -> None:
        # Before the gateway connects: restored gatherings listen to their buttons from the first click.
        self.bot.interactions.persistent("gather:", self.service.on_click)
        await self.service.restore()

    async def cog_check(self, ctx: Ctx) -> bool:  # type: ignore[override]
        if ctx.guild is None:
            raise commands.NoPrivateMessage()
        return True

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        self.service.voice_changed(member, before, after)

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        # A shard's later READY is a new gateway session: voice events in between were never delivered.
        if shard_id in self._ready_shards:
            self.service.resync()
        self._ready_shards.add(shard_id)

    # ------------------------------------------------------------------------------------- commands

    @hybrid_group(
        name="gather", description="Call the group back to voice and check everyone in", fallback=None
    )
    async def gather(self, ctx: Ctx) -> None:
        if ctx.invoked_subcommand is None:
            await self.bot.replies.send(ctx, embed=make_embed("📣  Gather", USAGE))

    @subcommand(gather, name="start", description="Call everyone back to your voice channel, now or later")
    @app_commands.describe(time="Empty: now. A duration such as 10m or 1h30m, or a clock time such as 20:30")
    @in_voice
    async def start(self, ctx: Ctx, *, time: str | None = None) -> None:
        await self.service.start(ctx, author_voice_channel(ctx), time)

    async def _change_list(
        self, ctx: Ctx, users: tuple[int, ...], change: type[Expect] | type[Forget], title: str
    ) -> None:
        """`expect`/`forget`: apply the roster change to the channel's gathering and answer."""
        live = self.service.find(ctx)
        manager = is_manager(ctx.permissions)
        result = await live.command(lambda at: change(at, ctx.author.id, users, manager))
        if result.refused:
            raise CheckRefusal(f"🚫  {title}", result.reply or "")
        await self.bot.replies.send(ctx, embed=make_embed(f"✅  {title}", result.reply, tone=Tone.SUCCESS))

    @subcommand(gather, name="expect", description="Add people to the gathering's list (up to 10)")
    async def expect(
        self,
        ctx: Ctx,
        user1: discord.Member,
        user2: Member = None,
        user3: Member = None,
        user4: Member = None,
        user5: Member = None,
        user6: Member = None,
        user7: Member = None,
        user8: Member = None,
        user9: Member = None,
        user10: Member = None,
    ) -> None:
        users = chosen(user1, user2, user3, user4, user5, user6, user7, user8, user9, user10)
        await self._change_list(ctx, users, Expect, "Users expected")

    @subcommand(gather, name="forget", description="Take people off the gathering's list (up to 10)")
    async def forget(
        self,
        ctx: Ctx,
        user1: discord.Member,
        user2: Member = None,
        user3: Member = None,
        user4: Member = None,
        user5: Member = None,
        user6: Member = None,
        user7: Member = None,
        user8: Member = None,
        user9: Member = None,
        user10: Member = None,
    ) -> None:
        users = chosen(user1, user2, user3, user4, user5, user6, user7, user8, user9, user10)
        await self._change_list(ctx, users, Forget, "Users forgotten")

    @subcommand(gather, name="extend", description="Add time to the countdown")
    @app_commands.describe(time="How much longer, such as 5m or 1h")
    async def extend(self, ctx: Ctx, *, time: str) -> None:
        seconds = parse_duration(time)
        if seconds is None:
            raise CheckRefusal("🚫  Invalid extension", "Give a duration such as `5m` or `1h30m`.")
        live = self.service.find(ctx)
        manager = is_manager(ctx.permissions)
        result = await live.command(lambda at: Extend(at, ctx.author.id, seconds, manager))
        if result.refused:
            raise CheckRefusal("🚫  Can't extend", result.reply or "")
        await self.bot.replies.send(
            ctx, embed=embeds.extended(ctx.author.id, seconds, live.model), transient=False
        )

    @subcommand(gather, name="stats", description="Who comes on time: per member, a top list and a chart")
    @app_commands.describe(
        user="Whose punctuality (default: yours)", period="For example 30d or 12w; all by default"
    )
    @defer_first
    async def stats(self, ctx: Ctx, user: Member = None, period: str | None = None) -> None:
        assert ctx.guild is not None
        since: float | None = None
        label = "all time"
        if period and period.strip().lower() != "all":
            seconds = parse_duration(period.replace("w", "d") if period.endswith("w") else period)
            if seconds is None:
                raise CheckRefusal("🚫  Invalid period", "Use a duration such as `7d` or `30d`, or `all`.")
            if period.endswith("w"):
                seconds *= 7
            since = self.bot.clock.now() - seconds
            label = f"last {humanize(seconds)}"
        member = user or ctx.author
        records = await self.service.store.history(ctx.guild.id, since)
        mine = member_stats(records, member.id)
        top = top_list(records)
        names = {m.id: m.display_name for m in [member]}
        for entry in top:
            found = ctx.guild.get_member(entry.user)
            names.setdefault(entry.user, found.display_name if found else "")
        embed = embeds.stats_embed(mine, member.display_name, top, names, label)
        series = lateness_series(records, member.id)
        title = f"{table.clean_name(member.display_name, member.id)} · lateness over time ({label})"
        png = await asyncio.to_thread(render_chart, series, title)
        embed.set_image(url=f"attachment://{CHART_FILE}")
        kwargs: dict[str, Any] = {"embed": embed, "file": discord.File(io.BytesIO(png), CHART_FILE)}
        await ctx.send(allowed_mentions=discord.AllowedMentions.none(), **kwargs)


async def setup(bot: FeatureBot) -> None:
    await bot.add_cog(Gather(bot, GatherService(bot, GatherStore(bot.database.engine))))
