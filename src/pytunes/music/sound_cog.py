"""How the music sounds, per guild: volume, loudness normalization, and silent mode (no "Now playing").

All three are saved per guild and survive restarts.
"""

from __future__ import annotations

from discord import app_commands

from pytunes.core.checks import same_voice_channel
from pytunes.core.commands import hybrid_command
from pytunes.core.replies import Tone, make_embed
from pytunes.music import embeds
from pytunes.music.cog_support import Ctx, MusicCog
from pytunes.music.model import Refused, parse_toggle, parse_volume


class Sound(MusicCog):
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
        music.change_settings(silent=wanted)

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
        music.change_settings(normalize=wanted)  # in effect now, whether or not the save lands at once
        try:
            await self.bot.replies.send(ctx, embed=make_embed(title, text, tone=Tone.SUCCESS))
        finally:
            music.sound.toggled()  # measure the current track if needed; re-apply its gain
