"""What the music cogs (`Music`, `Sound`, `LocalLibrary`) share: guild-only commands, the guild's music
state found from a command, and the apply-then-reply step of every player change."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from discord.ext import commands

from pytunes.core.replies import Tone, make_embed
from pytunes.music import embeds
from pytunes.music.model import Player, Refused, Result

if TYPE_CHECKING:
    from pytunes.bot import PyTunes
    from pytunes.music.guild import GuildMusic
    from pytunes.music.service import MusicService

Ctx = commands.Context["PyTunes"]


async def guild_music(service: MusicService, ctx: Ctx) -> GuildMusic:
    """The music of the command's guild; its announcements go to the channel the command came from.

    Right after a start, waits until the guild's saved session is restored, so the command acts on it.
    """
    assert ctx.guild is not None
    if service.sessions.pending(ctx.guild.id):
        if ctx.interaction is not None and not ctx.interaction.response.is_done():
            await ctx.defer()  # the wait may outlast Discord's 3 s to acknowledge a slash command
        await service.sessions.settled(ctx.guild.id)
    music = await service.guild(ctx.guild.id)
    music.announce_to = ctx.channel
    return music


class MusicCog(commands.Cog):
    """A cog whose commands all act on one guild's music, so none of them work in direct messages."""

    def __init__(self, bot: PyTunes, service: MusicService) -> None:
        self.bot = bot
        self.service = service

    async def cog_check(self, ctx: Ctx) -> bool:  # type: ignore[override]
        if ctx.guild is None:
            raise commands.NoPrivateMessage()
        return True

    async def _music(self, ctx: Ctx) -> GuildMusic:
        return await guild_music(self.service, ctx)

    async def _answer(
        self,
        ctx: Ctx,
        music: GuildMusic,
        change: Callable[[Player], Result],
        title: str,
        text: str | Callable[[Any], str] | None = None,
    ) -> Result:
        """Apply a change, reply (refusal or confirmation), then let its effects run (docs/architecture.md,
        'Confirm, then act')."""
        result, batch = music.act(change, hold=True)
        try:
            if isinstance(result, Refused):
                await self.bot.replies.send(ctx, embed=embeds.refused(result))
            else:
                body = text(result) if callable(text) else text
                await self.bot.replies.send(ctx, embed=make_embed(title, body, tone=Tone.SUCCESS))
        finally:
            music.release(batch)
        return result
