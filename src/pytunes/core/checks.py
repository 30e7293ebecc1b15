"""Voice-channel preconditions shared by the music, gather and utility commands.

A failed check raises `CheckRefusal`, which carries the embed the user sees; the bot's error handler
shows it like every other error (privately for slash commands).
"""

from __future__ import annotations

from typing import Any

import discord
from discord.ext import commands

from pytunes.core.replies import error_embed


class CheckRefusal(commands.CheckFailure):
    def __init__(self, title: str, text: str, *, fields: list[tuple[str, str]] | None = None) -> None:
        super().__init__(text)
        self.title = title
        self.text = text
        self.fields = fields or []

    def embed(self) -> discord.Embed:
        embed = error_embed(self.text, title=self.title)
        for name, value in self.fields:
            embed.add_field(name=name, value=value, inline=False)
        return embed


def author_voice_channel(ctx: commands.Context[Any]) -> discord.VoiceChannel | discord.StageChannel:
    """The author's voice channel, or a refusal saying they must join one."""
    if ctx.guild is None or not isinstance(ctx.author, discord.Member):
        raise commands.NoPrivateMessage()
    state = ctx.author.voice
    if state is None or state.channel is None:
        raise CheckRefusal("🚫  User not in voice channel", "Join a voice channel first.")
    return state.channel


def bot_voice_channel(guild: discord.Guild) -> discord.VoiceChannel | discord.StageChannel | None:
    state = guild.me.voice if guild.me is not None else None
    return state.channel if state is not None else None


def require_same_channel(ctx: commands.Context[Any]) -> discord.VoiceChannel | discord.StageChannel:
    """The author is in voice, and the bot is either not in voice or in the same channel."""
    channel = author_voice_channel(ctx)
    assert ctx.guild is not None
    bot_channel = bot_voice_channel(ctx.guild)
    if bot_channel is not None and bot_channel.id != channel.id:
        raise CheckRefusal(
            "🚫  User not in same voice channel",
            "I'm playing in another channel; join it to control the music.",
            fields=[("Bot channel:", f"{bot_channel.mention} (click to join)")],
        )
    return channel


async def _in_voice(ctx: commands.Context[Any]) -> bool:
    author_voice_channel(ctx)
    return True


async def _same_channel(ctx: commands.Context[Any]) -> bool:
    require_same_channel(ctx)
    return True


in_voice = commands.check(_in_voice)
"""Decorator: the author must be in a voice channel."""

same_voice_channel = commands.check(_same_channel)
"""Decorator: the author must be in the bot's voice channel (or the bot in none)."""
