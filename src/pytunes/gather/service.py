"""Gatherings per voice channel: starting, finding, restoring after a restart, routing voice and clicks.

At most one gathering runs per voice channel; a guild may run several in different channels. A running
gathering lives in the database from its first moment, so restoring is: load the open ones, rebuild
each model by replaying its events, start listening to its buttons before the gateway connects (clicks
made while the bot is starting are acknowledged at once and applied after the catch-up), then catch up
with voice and time once the bot is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord

from pytunes.core.checks import CheckRefusal
from pytunes.core.context import FeatureBot
from pytunes.core.interactions import Click, custom_id_of
from pytunes.core.replies import NO_PINGS
from pytunes.gather import embeds
from pytunes.gather.events import Rules, countdown_refusal
from pytunes.gather.live import Env, LiveGathering, Place
from pytunes.gather.state import Gathering
from pytunes.gather.store import GatherStore, ms_time
from pytunes.gather.timeparse import INVALID_TIME, parse_start

log = logging.getLogger(__name__)

Ctx = Any  # pytunes.core.context.Ctx; kept loose so the service does not take on the cog's types


def rules_from(bot: FeatureBot) -> Rules:
    s = bot.settings
    return Rules(
        grace=s.gather_grace_seconds,
        deadline=s.gather_deadline_seconds,
        max_countdown=s.gather_max_countdown_seconds,
        ping_interval=s.gather_ping_interval_seconds,
        auto_checkin=s.gather_auto_checkin,
    )


def humans_in(channel: discord.VoiceChannel | discord.StageChannel) -> list[discord.Member]:
    return [m for m in channel.members if not m.bot]


class GatherService:
    def __init__(self, bot: FeatureBot, store: GatherStore) -> None:
        self.bot = bot
        self.store = store
        self.env = Env(
            bot=bot,
            clock=bot.clock,
            tasks=bot.tasks,
            store=store,
            router=bot.interactions,
            refresh_seconds=bot.settings.gather_refresh_seconds,
            ping_lifetime=bot.settings.gather_ping_lifetime_seconds,
        )
        self.by_channel: dict[int, LiveGathering] = {}
        self.by_id: dict[int, LiveGathering] = {}
        self._starting: set[int] = set()  # voice channels whose gathering is being created
        self._pending: dict[int, asyncio.Future[LiveGathering]] = {}

    # ------------------------------------------------------------------------------------- lifecycle

    def _adopt(self, live: LiveGathering) -> None:
        self.by_channel[live.place.voice_channel_id] = live
        self.by_id[live.id] = live
        live.on_done = self._forget
        live.start()

    def _forget(self, live: LiveGathering) -> None:
        if self.by_channel.get(live.place.voice_channel_id) is live:
            del self.by_channel[live.place.voice_channel_id]
        self.by_id.pop(live.id, None)

    async def restore(self) -> int:
        """Bring back every gathering that was running when the bot stopped (however it stopped)."""
        restored = 0
        for stored in await self.store.open_gatherings():
            if stored.message_id is None:
                await self.store.discard(stored.id)  # stopped before its message was posted
                continue
            place = Place(
                stored.id,
                stored.guild_id,
                stored.voice_channel_id,
                stored.text_channel_id,
                stored.message_id,
                stored.label,
            )
            try:
                model = stored.replay()
            except Exception:  # a bad row must not keep the bot from starting; it is kept for a look
                log.exception("gathering %s could not be restored", stored.id)
                continue
            live = LiveGathering(self.env, place, model, next_seq=len(stored.events), restored=True)
            live.listen()
            self._adopt(live)
            restored += 1
        if restored:
            log.info("restored %d running gathering(s)", restored)
        return restored

    def resync(self) -> None:
        """A new gateway session: voice events may have been missed, so compare with the cache."""
        for live in list(self.by_id.values()):
            self.bot.tasks.spawn(live.resync(), name=f"gather-{live.id}-resync")

    # ------------------------------------------------------------------------------------- commands

    async def start(
        self, ctx: Ctx, channel: discord.VoiceChannel | discord.StageChannel, when: str | None
    ) -> None:
        rules = rules_from(self.bot)
        now = ms_time(self.bot.clock.now())
        countdown: float | None = None
        label: str | None = None
        if when:
            parsed = parse_start(when, now)
            if parsed is None:
                raise CheckRefusal("🚫  Invalid time", INVALID_TIME)
            countdown, label = ms_time(parsed[0]), parsed[1]
            if reason := countdown_refusal(countdown, rules):
                raise CheckRefusal("🚫  Countdown too long", reason)
        if channel.id in self.by_channel or channel.id in self._starting:
            raise CheckRefusal(
                "🚫  Gathering already running", f"A gathering is already running in {channel.mention}."
            )
        self._starting.add(channel.id)
        try:
            await self._create(ctx, channel, rules, now, countdown, label)
        finally:
            self._starting.discard(channel.id)

    async def _create(
        self,
        ctx: Ctx,
        channel: discord.VoiceChannel | discord.StageChannel,
        rules: Rules,
        now: float,
        countdown: float | None,
        label: str | None,
    ) -> None:
        if ctx.interaction is not None:
            await ctx.send("Starting gathering…", ephemeral=True)
        members = humans_in(channel)
        present = [m.id for m in members]
        model = Gathering.create(
            organizer=ctx.author.id, at=now, rules=rules, countdown=countdown, present=present
        )
        gathering_id = await self.store.create(
            guild_id=channel.guild.id,
            voice_channel_id=channel.id,
            text_channel_id=ctx.channel.id,
            gathering=model,
            label=label,
            present=present,
        )
        names = {m.id: m.display_name for m in [*members, ctx.author]}
        where = embeds.Where(gathering_id, channel.id, label)
        # Clicks can come between the message appearing and its stream opening: they wait for this.
        adopted: asyncio.Future[LiveGathering] = asyncio.get_running_loop().create_future()
        self._pending[gathering_id] = adopted
        try:
            await self._ping(ctx, channel, model, label)
            message = await ctx.channel.send(
                embeds=embeds.message(model, where, names, now),
                view=embeds.view(model, where),
                allowed_mentions=NO_PINGS,
            )
            place = Place(
                gathering_id, channel.guild.id, channel.id, ctx.channel.id, message.id, label, names
            )
            live = LiveGathering(self.env, place, model, next_seq=0, restored=False)
            live.listen()
            self._adopt(live)
            self._starting.discard(channel.id)  # from here on the channel is taken by `live` itself
            adopted.set_result(live)
        except BaseException:
            adopted.cancel()
            await self.store.discard(gathering_id)
            raise
        finally:
            self._pending.pop(gathering_id, None)
        try:
            await self.store.attach_message(gathering_id, message.id)
        except Exception:
            log.exception("gathering %s runs, but would not survive a restart", gathering_id)
        if ctx.interaction is not None:
            with contextlib.suppress(discord.HTTPException):
                await ctx.interaction.edit_original_response(content=f"Gathering started: {message.jump_url}")

    async def _ping(
        self,
        ctx: Ctx,
        channel: discord.VoiceChannel | discord.StageChannel,
        model: Gathering,
        label: str | None,
    ) -> None:
        """The call-back ping: who is listed but not checked in yet (the organizer knows already)."""
        called = sorted(model.listed - model.arrived.keys() - {ctx.author.id})
        if called:
            await ctx.channel.send(
                " ".join(f"<@{u}>" for u in called)
                + f" — {ctx.author.mention} is gathering everyone in {channel.mention}"
                + (f" {label}." if label else "."),
                allowed_mentions=discord.AllowedMentions(users=[discord.Object(u) for u in called]),
            )

    def find(self, ctx: Ctx) -> LiveGathering:
        """The gathering a command means: the one in the author's voice channel, else the guild's only one."""
        voice = getattr(ctx.author, "voice", None)
        if voice is not None and voice.channel is not None and voice.channel.id in self.by_channel:
            return self.by_channel[voice.channel.id]
        mine = [g for g in self.by_id.values() if g.place.guild_id == ctx.guild.id]
        if not mine:
            raise CheckRefusal(
                "🚫  No active gathering", "Nothing is running. Start one with `/gather start`."
            )
        if len(mine) > 1:
            raise CheckRefusal(
                "🚫  Which gathering?",
                "Several gatherings are running here: join the voice channel of the one you mean.",
            )
        return mine[0]

    # ------------------------------------------------------------------------------------- routing

    def voice_changed(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        if member.bot:
            return
        old = before.channel.id if before.channel else None
        new = after.channel.id if after.channel else None
        if old == new:
            return  # mute, deafen, streaming, …: not a join
        if new is not None and (live := self.by_channel.get(new)) is not None:
            live.voice(member, joined=True)
        if old is not None and (live := self.by_channel.get(old)) is not None:
            live.voice(member, joined=False)

    async def on_click(self, interaction: discord.Interaction[Any]) -> bool:
        """Clicks on gather buttons that no live stream claims: a gathering whose stream is about to open
        (it was just posted) or one that has ended."""
        parsed = embeds.parse_custom_id(custom_id_of(interaction))
        gathering_id = parsed[0] if parsed else 0
        live = self.by_id.get(gathering_id)
        pending = self._pending.get(gathering_id)
        if live is None and pending is not None:
            await interaction.response.defer()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                live = await asyncio.shield(pending)
        if live is not None and not live.done.is_set():
            if not interaction.response.is_done():
                await interaction.response.defer()
            acked = asyncio.get_running_loop().create_future()
            acked.set_result(True)
            live.click(Click(interaction, 0, acked))
            return True
        reason = await self.store.end_reason(gathering_id)
        text = {
            "complete": "This gathering has ended: everyone checked in.",
            "timed_out": "This gathering has ended: it timed out.",
            "cancelled": "This gathering was cancelled.",
        }.get(reason or "", "This gathering has ended.")
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        return True
