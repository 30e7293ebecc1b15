"""How the music sounds, per guild: volume, loudness normalization, and silent mode (no "Now playing").

All three are saved per guild and survive restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from discord import app_commands
from discord.ext import commands

from pytunes.core.checks import same_voice_channel
from pytunes.core.commands import hybrid_command
from pytunes.core.replies import Tone, make_embed
from pytunes.music import embeds
from pytunes.music.model import Player, Refused, Result, parse_toggle, parse_volume

if TYPE_CHECKING:
    from pytunes.bot import PyTunes
    from pytunes.music.guild import GuildMusic
    from pytunes.music.service import MusicService

Ctx = commands.Context["PyTunes"]


class Sound(commands.Cog):
    def __init__(self, bot: PyTunes, service: MusicService) -> None:
        self.bot = bot
        self.service = service

    async def cog_check(self, ctx: Ctx) -> bool:  # type: ignore[override]
        if ctx.guild is None:
            raise commands.NoPrivateMessage()
        return True

    async def _music(self, ctx: Ctx) -> GuildMusic:
        assert ctx.guild is not None
        music = await self.service.guild(ctx.guild.id)
        music.announce_to = ctx.channel
        return music

    async def _answer(
        self,
        ctx: Ctx,
        music: GuildMusic,
        change: Callable[[Player], Result],
        title: str,
        text: Callable[[Any], str],
    ) -> None:
        """Apply a change, reply (refusal or confirmation), then let its effects run (spec §14.4)."""
        result, batch = music.act(change, hold=True)
        try:
            if isinstance(result, Refused):
                await self.bot.replies.send(ctx, embed=embeds.refused(result))
            else:
                await self.bot.replies.send(ctx, embed=make_embed(title, text(result), tone=Tone.SUCCESS))
        finally:
            music.release(batch)

    @hybrid_command(
        aliases=["vol"], description="Show or set the volume: 1–100, or up to 500 with a trailing !"
    )
    @app_commands.describe(value="e.g. 50, or 150! for overdrive")
    @same_voice_channel
    async def volume(self, ctx: Ctx, *, value: str | None = None) -> None:
        music = await self._music(ctx)
        if value is None:
            await self.bot.replies.send(
                ctx, embed=make_embed("🔊  Volume", f"Volume is {music.player.volume} %.")
            )
            return
        request = parse_volume(value)
        if isinstance(request, Refused):
            await self.bot.replies.send(ctx, embed=embeds.refused(request))
            return
        await self._answer(
            ctx,
            music,
            lambda p: p.set_volume(request),
            "🔊  Volume changed",
            lambda r: f"Volume set to {r.after} %.",
        )

    @hybrid_command(aliases=["shh", "quiet"], description="Silent mode: no 'Now playing' messages")
    @app_commands.describe(state="on or off (default: toggle)")
    @same_voice_channel
    async def silent(self, ctx: Ctx, state: str | None = None) -> None:
        music = await self._music(ctx)
        wanted = parse_toggle(state, music.player.silent)
        if isinstance(wanted, Refused):
            await self.bot.replies.send(ctx, embed=embeds.refused(wanted))
            return
        await self._answer(
            ctx,
            music,
            lambda p: p.set_silent(wanted),
            "🤫  Silent mode",
            lambda _: "On: no 'Now playing' messages." if wanted else "Off: 'Now playing' messages are back.",
        )
        await music.save_settings(silent=wanted)

    @hybrid_command(
        aliases=["norm", "loudnorm"],
        description="Loudness normalization: every track at about the same loudness",
    )
    @app_commands.describe(state="on or off (default: toggle)")
    @same_voice_channel
    async def normalize(self, ctx: Ctx, state: str | None = None) -> None:
        music = await self._music(ctx)
        wanted = parse_toggle(state, music.settings.normalize)
        if isinstance(wanted, Refused):
            await self.bot.replies.send(ctx, embed=embeds.refused(wanted))
            return
        if wanted:
            target = self.service.normalizer.config.target_lufs
            title = "🎚️  Normalization on"
            text = (
                "Tracks get a measured gain so they all play at about the same loudness "
                f"(EBU R128, {target:g} LUFS). A track heard for the first time is measured while it "
                "plays and evens out once that is done."
            )
        else:
            title, text = "🎚️  Normalization off", "Tracks play at their original loudness."
        await self.bot.replies.send(ctx, embed=make_embed(title, text, tone=Tone.SUCCESS))
        await music.save_settings(normalize=wanted)
        music.sound.toggled()  # measure the current track if needed; re-apply its gain
