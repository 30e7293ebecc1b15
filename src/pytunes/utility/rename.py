"""`rename <user> [name]` and the "Rename" user context menu (a modal with one optional field).

Rule: the server owner, the member themselves, or anyone whose top role is at least as
high as the target's. Empty name resets the nickname; over 32 characters is refused before Discord is
asked; when Discord refuses (the bot's role is too low, the target owns the server) the reason is shown.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from pytunes.core.checks import CheckRefusal
from pytunes.core.commands import hybrid_command
from pytunes.core.context import Ctx, FeatureBot
from pytunes.core.replies import Tone, make_embed
from pytunes.utility.rules import NICK_MAX, may_rename, nickname

FIELD_ID = "rename:nick"


def shown_name(member: discord.Member | discord.User) -> str:
    return getattr(member, "nick", None) or member.global_name or member.name


async def rename(actor: discord.Member, target: discord.Member, text: str | None) -> discord.Embed:
    """Rename `target` on behalf of `actor`; returns the success embed or raises CheckRefusal."""
    guild = actor.guild
    if not may_rename(
        actor_id=actor.id,
        target_id=target.id,
        owner_id=guild.owner_id or 0,
        actor_top=actor.top_role.position,
        target_top=target.top_role.position,
    ):
        raise CheckRefusal("🚫  Insufficient role", f"{target.mention}'s top role outranks yours.")
    try:
        name = nickname(text)
    except ValueError as error:
        raise CheckRefusal("🚫  Nickname too long", str(error)) from None
    old = shown_name(target)
    try:
        await target.edit(nick=name, reason=f"rename by {actor} ({actor.id})")
    except discord.HTTPException as error:
        raise CheckRefusal(
            "🚫  Rename failed",
            f"Discord refused: {error.text or error}. I need Manage Nicknames, my role must be above "
            f"{target.mention}'s top role, and nobody can rename the server owner.",
        ) from None
    new = name or target.global_name or target.name
    return make_embed(
        "✏️  Renamed", f"`{old}` → `{new}`", tone=Tone.SUCCESS, fields=[("Target:", target.mention)]
    )


class RenameModal(discord.ui.Modal, title="Rename"):
    def __init__(self, target: discord.Member) -> None:
        super().__init__(timeout=600)
        self.target = target
        self.nick: discord.ui.TextInput[RenameModal] = discord.ui.TextInput(
            label="New nickname",
            placeholder=f"Leave empty to reset (max {NICK_MAX})",
            required=False,
            max_length=NICK_MAX,
            custom_id=FIELD_ID,
        )
        self.add_item(self.nick)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        actor = interaction.user
        if not isinstance(actor, discord.Member):
            await interaction.response.send_message("This only works in a server.", ephemeral=True)
            return
        try:
            embed = await rename(actor, self.target, self.nick.value)
        except CheckRefusal as refusal:
            await interaction.response.send_message(embed=refusal.embed(), ephemeral=True)
            return
        await interaction.response.send_message(embed=embed, allowed_mentions=discord.AllowedMentions.none())


class Rename(commands.Cog):
    def __init__(self, bot: FeatureBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Rename", callback=self._from_menu)
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @hybrid_command(name="rename", description="Change a member's nickname (empty name resets it)")
    @app_commands.describe(
        user="Whose nickname", name=f"The new nickname, up to {NICK_MAX} characters; empty resets"
    )
    @app_commands.guild_only()
    async def rename_command(self, ctx: Ctx, user: discord.Member, *, name: str | None = None) -> None:
        if not isinstance(ctx.author, discord.Member):
            raise commands.NoPrivateMessage()
        embed = await rename(ctx.author, user, name)
        await self.bot.replies.send(ctx, embed=embed, transient=False)

    async def _from_menu(self, interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_modal(RenameModal(member))
