"""A test-only cog exercising the core flows (paginator, picker, deferred commands) inside the real bot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from pytunes.core.commands import defer_first, hybrid_command
from pytunes.core.replies import make_embed
from pytunes.core.views import OnTimeout, Paginator, Picker, PickOutcome

if TYPE_CHECKING:
    from pytunes.bot import PyTunes


class SlowPages:
    """`count` pages whose rendering takes `render_seconds` on the bot's clock (a slow handler)."""

    def __init__(self, bot: PyTunes, count: int, render_seconds: float) -> None:
        self.bot = bot
        self.count = count
        self.render_seconds = render_seconds
        self.rendered: list[int] = []
        self.sleeping = False

    async def page_count(self) -> int:
        return self.count

    async def render(self, page: int) -> list[discord.Embed]:
        self.sleeping = True
        await self.bot.clock.sleep(self.render_seconds)
        self.sleeping = False
        self.rendered.append(page)
        return [make_embed(f"Page {page + 1}", f"content of page {page + 1}")]

    async def render_empty(self) -> list[discord.Embed]:
        return [make_embed("Nothing here")]


class Flows(commands.Cog):
    def __init__(self, bot: PyTunes) -> None:
        self.bot = bot
        self.sources: list[SlowPages] = []
        self.picks: list[tuple[PickOutcome, int | None]] = []
        self.render_seconds = 0.0

    @hybrid_command(description="Test pages")
    async def pages(self, ctx: commands.Context[PyTunes], count: int = 30) -> None:
        source = SlowPages(self.bot, count, self.render_seconds)
        self.sources.append(source)
        paginator = Paginator(
            self.bot.interactions,
            source,
            author_id=ctx.author.id,
            refusal="Only the person who ran this command can turn pages.",
            timeout=60,
            on_timeout=OnTimeout.STRIP,
        )

        async def send(embeds: list[discord.Embed], view: discord.ui.View | None) -> discord.Message | None:
            kwargs: dict[str, Any] = {"embeds": embeds}
            if view is not None:
                kwargs["view"] = view
            return await ctx.send(**kwargs)

        await paginator.run(send)

    @hybrid_command(description="Test picker")
    async def choose(self, ctx: commands.Context[PyTunes], count: int = 5) -> None:
        picker = Picker(
            self.bot.interactions,
            count=count,
            author_id=ctx.author.id,
            refusal="Only the person who ran this command can pick.",
            timeout=120,
        )
        message = await ctx.send(embed=make_embed("Pick one"), view=picker.view())
        result = await picker.run(message)
        self.picks.append((result.outcome, result.index))
        await message.delete()

    @hybrid_command(description="Test slow command")
    @defer_first
    async def slowcmd(self, ctx: commands.Context[PyTunes]) -> None:
        await self.bot.clock.sleep(5)
        await ctx.send("done at last")
