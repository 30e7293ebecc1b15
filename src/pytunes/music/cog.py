"""Music commands (prefix and slash from one handler). State lives in the service; this only talks."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from pytunes.core.checks import author_voice_channel, bot_voice_channel, in_voice, same_voice_channel
from pytunes.core.commands import defer_first, hybrid_command
from pytunes.core.replies import Tone, make_embed
from pytunes.core.views import OnTimeout, Paginator, Picker, PickOutcome
from pytunes.music import embeds
from pytunes.music.adding import AddFlow, Mode
from pytunes.music.cog_support import MusicCog
from pytunes.music.model import QUEUE_PAGE_SIZE, Added, Refused, Track

if TYPE_CHECKING:
    from pytunes.bot import PyTunes
    from pytunes.music.guild import GuildMusic
    from pytunes.music.service import MusicService

Ctx = commands.Context["PyTunes"]


class QueuePages:
    """The live queue as pages: re-read on every click."""

    def __init__(self, music: GuildMusic) -> None:
        self.music = music

    async def page_count(self) -> int:
        player = self.music.player
        if player.current is None and not player.queue:
            return 0
        return max(1, -(-len(player.queue) // QUEUE_PAGE_SIZE))

    async def render(self, page: int) -> list[discord.Embed]:
        return embeds.queue_page(self.music.player.queue_page(page + 1), self.music.player.current)

    async def render_empty(self) -> list[discord.Embed]:
        return [
            embeds.simple("🚫  Empty queue", "Nothing is playing and nothing is queued.", tone=Tone.WARNING)
        ]


class Music(MusicCog):
    def __init__(self, bot: PyTunes, service: MusicService) -> None:
        super().__init__(bot, service)
        self.adding = AddFlow(bot, service)

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        self.service.voice_changed(member, before, after)

    # ---------------------------------------------------------------------------------------- adding

    # `file` comes first only because a prefix command's `*, query` must be last; for prefix commands it
    # is the message's attachment and consumes no words.
    @hybrid_command(description="Play a song or playlist: a link, search words, or an attached audio file")
    @app_commands.describe(query="A link or search words", file="An audio file to play")
    @same_voice_channel
    @defer_first
    async def play(
        self, ctx: Ctx, file: discord.Attachment | None = None, *, query: str | None = None
    ) -> None:
        await self.adding.start(ctx, query, file, Mode.PLAY)

    @hybrid_command(description="Like play, but puts the track at the front of the queue")
    @app_commands.describe(query="A link or search words", file="An audio file to play")
    @same_voice_channel
    @defer_first
    async def playtop(
        self, ctx: Ctx, file: discord.Attachment | None = None, *, query: str | None = None
    ) -> None:
        await self.adding.start(ctx, query, file, Mode.TOP)

    @hybrid_command(description="Play a track right now, replacing the current one")
    @app_commands.describe(query="A link or search words", file="An audio file to play")
    @same_voice_channel
    @defer_first
    async def playnow(
        self, ctx: Ctx, file: discord.Attachment | None = None, *, query: str | None = None
    ) -> None:
        await self.adding.start(ctx, query, file, Mode.NOW)

    @hybrid_command(description="Pick a recently played track to play again")
    @same_voice_channel
    async def history(self, ctx: Ctx) -> None:
        music = await self._music(ctx)
        recent = list(music.player.history)
        if not recent:
            await self.bot.replies.send(
                ctx, embed=embeds.simple("📜  No history", "Nothing has played yet."), delete_after=15
            )
            return
        picker = Picker(
            self.bot.interactions,
            count=len(recent),
            author_id=ctx.author.id,
            cancel=False,
            balanced=True,
            refusal="Only the person who ran this command can select a track.",
            timeout=120,
            notice_cooldown=5,
        )
        fields = [(f"{i + 1}. {embeds.safe(t.title)}", t.location_line) for i, t in enumerate(recent)]
        embed = make_embed("📜  Recently played", "Pick a number to replay a track:", fields=fields)
        message = await self.bot.replies.send(ctx, embed=embed, view=picker.view(), transient=False)
        if message is None:
            return
        result = await picker.run(message)
        if result.click is not None:
            await result.click.delete_message()
        else:
            await message.delete()
        if result.outcome is not PickOutcome.PICKED or result.index is None:
            await self.bot.replies.send(
                ctx, embed=embeds.simple("🚫  Search expired", "Run history again."), delete_after=15
            )
            return
        channel = author_voice_channel(ctx)
        await self.service.connect(channel)
        # The track that was shown, not whatever is at that place now: the history moves on while the
        # picker is open (up to two minutes).
        shown = recent[result.index].fresh()
        replayed, batch = music.act(lambda p: p.enqueue([shown]), hold=True)
        try:
            if isinstance(replayed, Added):
                await self.adding.confirm(ctx, replayed, Mode.PLAY, None)
            elif isinstance(replayed, Refused):
                await self.bot.replies.send(ctx, embed=embeds.refused(replayed))
        finally:
            music.release(batch)

    # ---------------------------------------------------------------------------------------- transport

    @hybrid_command(description="Pause the current track")
    @same_voice_channel
    async def pause(self, ctx: Ctx) -> None:
        music = await self._music(ctx)
        await self._answer(ctx, music, lambda p: p.pause(), "⏸️  Paused", lambda r: embeds.linked(r.track))

    @hybrid_command(description="Resume the paused track")
    @same_voice_channel
    async def resume(self, ctx: Ctx) -> None:
        music = await self._music(ctx)
        await self._answer(ctx, music, lambda p: p.resume(), "▶️  Resumed", lambda r: embeds.linked(r.track))

    @hybrid_command(description="Skip the current track, or several tracks")
    @app_commands.describe(amount="How many tracks to skip (default 1)")
    @same_voice_channel
    async def skip(self, ctx: Ctx, amount: commands.Range[int, 0, 1000] = 1) -> None:
        music = await self._music(ctx)
        await self._answer(
            ctx,
            music,
            lambda p: p.skip(amount),
            "⏭️  Skipped",
            lambda r: f"Skipped {r.count} track(s)." + ("" if r.next else " The queue is empty."),
        )

    @hybrid_command(description="Stop playback and clear the queue (the bot stays for 5 minutes)")
    @same_voice_channel
    async def stop(self, ctx: Ctx) -> None:
        music = await self._music(ctx)
        await self._answer(
            ctx,
            music,
            lambda p: p.stop(),
            "⏹️  Playback stopped",
            lambda r: f"Cleared {r.cleared} queued track(s).",
        )

    @hybrid_command(description="Remove every upcoming track (the current one keeps playing)")
    @same_voice_channel
    async def clear(self, ctx: Ctx) -> None:
        music = await self._music(ctx)
        await self._answer(
            ctx, music, lambda p: p.clear(), "🧹  Queue cleared", lambda r: f"Removed {r.count} track(s)."
        )

    @hybrid_command(description="Remove one upcoming track by its number in the queue")
    @app_commands.describe(index="The track's number in the queue")
    @same_voice_channel
    async def remove(self, ctx: Ctx, index: int) -> None:
        music = await self._music(ctx)
        await self._answer(
            ctx, music, lambda p: p.remove(index), "🗑️  Track removed", lambda r: embeds.linked(r.track)
        )

    @hybrid_command(description="Shuffle the upcoming tracks")
    @same_voice_channel
    async def shuffle(self, ctx: Ctx) -> None:
        music = await self._music(ctx)
        await self._answer(
            ctx,
            music,
            lambda p: p.shuffle(random.Random()),
            "🔀  Shuffle",
            lambda r: (
                "The queue has been shuffled."
                if r.count > 1
                else "Only one track is queued, so there is nothing to shuffle."
            ),
        )

    # ---------------------------------------------------------------------------------------- voice

    @hybrid_command(description="Bring the bot into your voice channel")
    @in_voice
    @defer_first
    async def join(self, ctx: Ctx) -> None:
        channel = author_voice_channel(ctx)
        music = await self._music(ctx)
        try:
            await self.service.connect(channel)
        except (TimeoutError, discord.ClientException, discord.HTTPException):
            await self.bot.replies.error(ctx, f"Unable to join {channel.mention}.")
            return
        _, batch = music.act(lambda p: p.joined())
        music.release(batch)
        await self.bot.replies.send(
            ctx, embed=make_embed("👋  Joined", f"I'm in {channel.mention}.", tone=Tone.SUCCESS)
        )

    @hybrid_command(description="Stop, clear the queue and leave the voice channel")
    @same_voice_channel
    async def leave(self, ctx: Ctx) -> None:
        assert ctx.guild is not None
        if bot_voice_channel(ctx.guild) is None:
            await self.bot.replies.error(ctx, "I'm not in a voice channel.")
            return
        music = await self._music(ctx)
        await self._answer(ctx, music, lambda p: p.leave(), "👋  Bye", "Stopped, cleared the queue and left.")

    # ---------------------------------------------------------------------------------------- information

    @hybrid_command(description="Show the current track with its progress")
    async def playing(self, ctx: Ctx) -> None:
        music = await self._music(ctx)
        track: Track | None = music.player.current
        if track is None:
            await self.bot.replies.send(
                ctx, embed=embeds.simple("🚫  No song playing", None, tone=Tone.WARNING)
            )
            return
        await self.bot.replies.send(
            ctx, embed=embeds.now_playing(track, elapsed=music.elapsed or 0.0, paused=music.player.paused)
        )

    @hybrid_command(description="Show the queue, 10 tracks per page")
    @app_commands.describe(page="Which page to start on")
    async def queue(self, ctx: Ctx, page: int = 1) -> None:
        music = await self._music(ctx)
        paginator = Paginator(
            self.bot.interactions,
            QueuePages(music),
            author_id=ctx.author.id,
            timeout=60,
            refusal="Only the person who ran this command can navigate the queue.",
            on_timeout=OnTimeout.DELETE,
            notice_cooldown=5,
        )

        async def send(pages: list[discord.Embed], view: discord.ui.View | None) -> discord.Message | None:
            # One page needs no buttons and is short-lived; pages with buttons live until the paginator ends.
            return await self.bot.replies.send(ctx, embeds=pages, view=view, transient=view is None)

        await paginator.run(send, start=page - 1)


async def setup(bot: PyTunes) -> None:
    from pytunes.music.library.local import LocalMedia
    from pytunes.music.local_cog import LocalLibrary
    from pytunes.music.sound_cog import Sound

    local = LocalMedia.for_bot(bot)  # one library for `local` and for attachments given to `play`
    music = Music(bot, bot.music)
    music.adding.local = local
    await bot.add_cog(music)
    await bot.add_cog(Sound(bot, bot.music))
    await bot.add_cog(LocalLibrary(bot, bot.music, local, music.adding))
