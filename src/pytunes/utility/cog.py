"""`ping` and `help`, as hybrid commands (prefix and slash from one handler)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from pytunes.core.commands import hybrid_command
from pytunes.core.replies import Tone, make_embed
from pytunes.utility.help import catalogue, describe, help_fields

if TYPE_CHECKING:
    from pytunes.bot import PyTunes


class Utility(commands.Cog):
    def __init__(self, bot: PyTunes) -> None:
        self.bot = bot

    @hybrid_command(description="Check that the bot is alive and how fast Discord answers it")
    async def ping(self, ctx: commands.Context[PyTunes]) -> None:
        latency = self.bot.latency
        shown = "measuring…" if math.isnan(latency) or math.isinf(latency) else f"{latency * 1000:.0f} ms"
        await self.bot.replies.send(
            ctx, embed=make_embed("🏓  Pong!", f"Gateway latency: {shown}", tone=Tone.SUCCESS)
        )

    @hybrid_command(name="help", aliases=["h"], description="List the commands, or explain one command")
    @app_commands.describe(command="A command name, e.g. play or gather start")
    async def help_command(self, ctx: commands.Context[PyTunes], *, command: str | None = None) -> None:
        prefix = self.bot.settings.command_prefix
        if command:
            found = self.bot.get_command(command.strip().removeprefix(prefix).removeprefix("/"))
            if found is None or found.hidden:
                await self.bot.replies.error(
                    ctx, f"There is no command called `{command}`. Try `{prefix}help`."
                )
                return
            entry = describe(found, prefix)
            fields = [("Usage", f"`{entry.usage}`")]
            if entry.aliases:
                fields.append(("Aliases", ", ".join(f"`{a}`" for a in entry.aliases)))
            await self.bot.replies.send(
                ctx, embed=make_embed(f"Help: {entry.name}", entry.description, fields=fields), ephemeral=True
            )
            return
        entries = catalogue(self.bot, prefix)
        embed = make_embed(
            "PyTunes commands",
            f"Every command works with `{prefix}` and as a slash command. `{prefix}help <command>` for details.",
            fields=help_fields(entries),
            footer="PyTunes · self-hosted community bot",
        )
        await self.bot.replies.send(ctx, embed=embed, ephemeral=True)

    @help_command.autocomplete("command")
    async def _complete_command(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = [e.name for e in catalogue(self.bot, self.bot.settings.command_prefix)]
        matching = [n for n in names if current.lower() in n.lower()]
        return [app_commands.Choice(name=n, value=n) for n in matching[:25]]


async def setup(bot: PyTunes) -> None:
    await bot.add_cog(Utility(bot))
