"""`ping`, `help`, `uwu` and `uwu_me`, as hybrid commands (prefix and slash from one handler).

`setup` also loads the other utility cogs (wakeup, rename) and the keyword reactions feature.
"""

from __future__ import annotations

import contextlib
import math

import discord
from discord import app_commands
from discord.ext import commands

from pytunes.core.commands import hybrid_command
from pytunes.core.context import Ctx, FeatureBot
from pytunes.core.replies import CONTENT_MAX, DESCRIPTION_MAX, NO_PINGS, Tone, clip, make_embed
from pytunes.core.views import reply_with_pages
from pytunes.utility.help import catalogue, context_menu_field, describe, help_fields, paginate
from pytunes.utility.rename import Rename
from pytunes.utility.uwu import uwuify
from pytunes.utility.wakeup import WakeUp

HELP_TIMEOUT = 120.0
UWU_COLOUR = discord.Colour(0x36393F)


class HelpPages:
    def __init__(self, pages: list[list[tuple[str, str]]], intro: str) -> None:
        self.pages = pages
        self.intro = intro

    async def page_count(self) -> int:
        return len(self.pages)

    async def render(self, page: int) -> list[discord.Embed]:
        footer = "PyTunes · self-hosted community bot"
        if len(self.pages) > 1:
            footer = f"Page {page + 1}/{len(self.pages)} · {footer}"
        return [make_embed("PyTunes commands", self.intro, fields=self.pages[page], footer=footer)]

    async def render_empty(self) -> list[discord.Embed]:
        return [make_embed("PyTunes commands", self.intro)]


class Utility(commands.Cog):
    def __init__(self, bot: FeatureBot) -> None:
        self.bot = bot

    @hybrid_command(description="Check that the bot is alive and how fast Discord answers it")
    async def ping(self, ctx: Ctx) -> None:
        latency = self.bot.latency
        shown = "measuring…" if math.isnan(latency) or math.isinf(latency) else f"{latency * 1000:.0f} ms"
        await self.bot.replies.send(
            ctx, embed=make_embed("🏓  Pong!", f"Gateway latency: {shown}", tone=Tone.SUCCESS)
        )

    @hybrid_command(name="help", aliases=["h"], description="List the commands, or explain one command")
    @app_commands.describe(command="A command name, e.g. play or gather start")
    async def help_command(self, ctx: Ctx, *, command: str | None = None) -> None:
        prefix = self.bot.settings.command_prefix
        if command:
            await self._help_for(ctx, command, prefix)
            return
        fields = help_fields(catalogue(self.bot, prefix))
        menus = context_menu_field(
            sorted(c.name for c in self.bot.tree.get_commands() if isinstance(c, app_commands.ContextMenu))
        )
        if menus:
            fields.append(menus)
        intro = f"Every command works with `{prefix}` and as a slash command. `{prefix}help <command>` for details."
        await reply_with_pages(
            ctx,
            self.bot.interactions,
            self.bot.replies,
            HelpPages(paginate(fields), intro),
            refusal="Run help yourself to turn its pages.",
            timeout=HELP_TIMEOUT,
        )

    async def _help_for(self, ctx: Ctx, command: str, prefix: str) -> None:
        found = self.bot.get_command(command.strip().removeprefix(prefix).removeprefix("/"))
        if found is None or found.hidden:
            await self.bot.replies.error(ctx, f"There is no command called `{command}`. Try `{prefix}help`.")
            return
        entry = describe(found, prefix)
        fields = [("Usage", f"`{entry.usage}`")]
        if entry.aliases:
            fields.append(("Aliases", ", ".join(f"`{a}`" for a in entry.aliases)))
        if isinstance(found, commands.Group):
            subs = sorted(found.commands, key=lambda c: c.name)
            fields.append(
                ("Subcommands", "\n".join(f"`{describe(s, prefix).usage}` {s.description}" for s in subs))
            )
        await self.bot.replies.send(
            ctx, embed=make_embed(f"Help: {entry.name}", entry.description, fields=fields), ephemeral=True
        )

    @help_command.autocomplete("command")
    async def _complete_command(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = [e.name for e in catalogue(self.bot, self.bot.settings.command_prefix)]
        matching = [n for n in names if current.lower() in n.lower()]
        return [app_commands.Choice(name=n, value=n) for n in matching[:25]]

    @hybrid_command(name="uwu", description="Rewrite a text in UwU style")
    @app_commands.describe(text="The text to uwuify")
    async def uwu(self, ctx: Ctx, *, text: str) -> None:
        converted = uwuify(text, seed=_seed(ctx)).replace("```", "`\u200b`\u200b`")
        embed = discord.Embed(
            title="Converted message to UwU format:",
            description=f"```\n{clip(converted, DESCRIPTION_MAX - 8)}\n```",
            colour=UWU_COLOUR,
        )
        # A channel message, not a reply, and it stays.
        await ctx.send(embed=embed, allowed_mentions=NO_PINGS)

    @hybrid_command(name="uwu_me", description="Say something in UwU style, in your name")
    @app_commands.describe(text="What to say")
    async def uwu_me(self, ctx: Ctx, *, text: str) -> None:
        converted = uwuify(text, seed=_seed(ctx))
        if ctx.interaction is None:
            # The original message goes first, so the channel shows only the uwu version.
            with contextlib.suppress(discord.HTTPException):
                await ctx.message.delete()
        body = f"{ctx.author.mention}: "
        await ctx.send(body + clip(converted, CONTENT_MAX - len(body)), allowed_mentions=NO_PINGS)


def _seed(ctx: Ctx) -> int:
    # The same message always gives the same text (an edit re-run does not reshuffle it).
    return ctx.interaction.id if ctx.interaction is not None else ctx.message.id


async def setup(bot: FeatureBot) -> None:
    await bot.add_cog(Utility(bot))
    await bot.add_cog(WakeUp(bot))
    await bot.add_cog(Rename(bot))
    await bot.load_extension("pytunes.reactions.cog")
