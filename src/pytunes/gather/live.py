"""One running gathering on Discord: a single driver task feeds the state machine and carries out what
it decides.

Everything that can change a gathering — clicks, voice joins and leaves, `gather expect/forget/extend`,
time passing — becomes an event in one FIFO inbox, stamped with the clock when it *happened*. The driver
takes whatever is waiting, applies it to the model, stores the changed events in one transaction, and
only then acts: private answers, the message edit, disconnects, ghost pings. There is no lock: the
driver is the only writer, and it never waits on a Discord call while holding anything.

Clicks come through the bot's click stream, already acknowledged on arrival and in click order, so a
burst of clicks is applied in the order people made them and the next ack never waits for a handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import discord

from pytunes.core.clock import Clock
from pytunes.core.context import FeatureBot
from pytunes.core.interactions import Click, ClickStream, InteractionRouter
from pytunes.core.replies import NO_PINGS
from pytunes.core.tasks import TaskOwner
from pytunes.gather import embeds
from pytunes.gather.events import (
    ENDED_TEXT,
    Action,
    Event,
    Outcome,
    PingSent,
    Press,
    Result,
    Tick,
    VoiceJoined,
    VoiceLeft,
)
from pytunes.gather.state import Gathering
from pytunes.gather.store import GatherStore, ms_time

log = logging.getLogger(__name__)

SAVE_FAILED = "That didn't go through (the database is unavailable). Please try again."
NO_MOVE = "⚠️  I can't disconnect people who said they're out: I'm missing the **Move Members** permission."


@dataclass
class Env:
    """What every live gathering shares."""

    bot: FeatureBot
    clock: Clock
    tasks: TaskOwner
    store: GatherStore
    router: InteractionRouter
    refresh_seconds: float
    ping_lifetime: float


@dataclass
class Input:
    event: Event
    click: Click | None = None
    answer: asyncio.Future[Result] | None = None


@dataclass
class Place:
    id: int
    guild_id: int
    voice_channel_id: int
    text_channel_id: int
    message_id: int
    label: str | None = None
    names: dict[int, str] = field(default_factory=dict)


def is_manager(permissions: discord.Permissions) -> bool:
    return permissions.manage_events or permissions.manage_guild


class LiveGathering:
    def __init__(self, env: Env, place: Place, model: Gathering, *, next_seq: int, restored: bool) -> None:
        self.env = env
        self.place = place
        self.model = model
        self.where = embeds.Where(place.id, place.voice_channel_id, place.label)
        self.next_seq = next_seq
        self.restored = restored
        self.stream: ClickStream | None = None
        self._inbox: deque[Input] = deque()
        self._arrived = asyncio.Event()
        self._end_saved = False
        self._told_no_move = False
        self._last_render = env.clock.now()
        self.done = asyncio.Event()
        self.on_done: Callable[[LiveGathering], None] = lambda _: None

    @property
    def id(self) -> int:
        return self.place.id

    def message(self) -> discord.PartialMessage:
        channel = self.env.bot.get_partial_messageable(self.place.text_channel_id)
        return channel.get_partial_message(self.place.message_id)

    def listen(self) -> None:
        """Start taking clicks on the message (before the gateway connects, when restoring)."""
        # The stream only needs the message id; a partial message has it without fetching anything.
        self.stream = self.env.router.stream(cast(discord.Message, self.message()))

    def start(self) -> None:
        self.env.tasks.spawn(self._run(), name=f"gather-{self.id}")

    # ------------------------------------------------------------------------------------- inputs

    def now(self) -> float:
        return ms_time(self.env.clock.now())

    def put(self, item: Input) -> None:
        if self.done.is_set():
            self._answer(item, Result(reply=ENDED_TEXT, refused=True))
            return
        self._inbox.append(item)
        self._arrived.set()

    def voice(self, member: discord.Member, joined: bool) -> None:
        self.place.names[member.id] = member.display_name
        at = self.now()
        self.put(Input(VoiceJoined(at, member.id) if joined else VoiceLeft(at, member.id)))

    async def command(self, make: Callable[[float], Event]) -> Result:
        answer: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self.put(Input(make(self.now()), answer=answer))
        return await answer

    def click(self, click: Click) -> None:
        parsed = embeds.parse_custom_id(click.custom_id)
        if parsed is None or parsed[0] != self.id:
            self.env.router.say_expired(click)
            return
        self.place.names[click.user.id] = click.user.display_name
        manager = is_manager(click.interaction.permissions)
        self.put(Input(Press(self.now(), click.user.id, parsed[1], manager), click=click))

    # ------------------------------------------------------------------------------------- driver

    async def _run(self) -> None:
        pump: asyncio.Task[None] | None = None
        try:
            if self.restored:
                await self.env.bot.wait_until_ready()
                await self.resync(restoring=True)
            if self.stream is not None:
                pump = asyncio.create_task(self._pump(self.stream))
            while not self.model.ended or not self._end_saved:
                try:
                    await self._process(await self._next() if not self.model.ended else [])
                except Exception:
                    # A failed turn (the database away, an unexpected Discord answer) must not orphan
                    # the gathering: wait a moment and carry on.
                    log.exception("gathering %s: a turn failed; carrying on", self.id)
                    await self.env.clock.sleep(1)
        finally:
            if pump is not None:
                pump.cancel()
            if self.stream is not None:
                self.stream.close()
            self.done.set()
            while self._inbox:
                self.put(self._inbox.popleft())  # answers waiting commands with "ended"
            self.on_done(self)

    async def _pump(self, stream: ClickStream) -> None:
        async for click in stream:
            self.click(click)

    async def _next(self) -> list[Input]:
        """Whatever is waiting, or a tick when the model or the refresh throttle is due."""
        if not self._inbox:
            due = [self._last_render + self.env.refresh_seconds]
            if (model_due := self.model.next_due()) is not None:
                due.append(model_due)
            generation = self.model.generation
            self._arrived.clear()
            timer = asyncio.ensure_future(self._sleep_until(min(due)))
            arrival = asyncio.ensure_future(self._arrived.wait())
            try:
                await asyncio.wait({timer, arrival}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                timer.cancel()
                arrival.cancel()
            if not self._inbox:
                return [Input(Tick(self.now(), generation))]
        items = list(self._inbox)
        self._inbox.clear()
        return items

    async def _sleep_until(self, deadline: float) -> None:
        # The delay is worked out when the timer task first runs, not when it is created: the clock may
        # have moved in between, and a relative delay computed earlier would then wake us too late.
        await self.env.clock.sleep(deadline - self.env.clock.now())

    async def _process(self, items: list[Input]) -> None:
        before = copy.deepcopy(self.model)
        results = [(item, self.model.handle(item.event)) for item in items]
        if not self.model.ended and (due := self.model.ping_due(self.now())):
            ping = Input(PingSent(self.now()))
            results.append((ping, self.model.handle(ping.event)))
        else:
            due = []
        changed = [item.event for item, result in results if result.changed]
        if changed or (self.model.ended and not self._end_saved):
            try:
                await self.env.store.record(self.id, self.place.guild_id, self.next_seq, changed, self.model)
            except Exception:
                # Then nothing happened: back to the state before. People who acted are told; voice
                # changes are kept for the next turn (they carry the time they happened).
                self.model = before
                for item, _ in results:
                    self._answer(item, Result(reply=SAVE_FAILED, refused=True))
                voice = [i for i, _ in results if isinstance(i.event, VoiceJoined | VoiceLeft)]
                self._inbox.extendleft(reversed(voice))
                raise
            self.next_seq += len(changed)
            self._end_saved = self.model.ended
        # Stored: now the side effects.
        for item, result in results:
            self._answer(item, result)
            for user in result.disconnect:
                self.env.tasks.spawn(self._disconnect(user), name=f"gather-{self.id}-out-{user}")
        if due:
            self.env.tasks.spawn(self._ghost_ping(due), name=f"gather-{self.id}-ping")
        stale = self.env.clock.now() - self._last_render >= self.env.refresh_seconds
        if stale or any(result.outcome is not Outcome.NONE for _, result in results):
            await self.render()

    def _answer(self, item: Input, result: Result) -> None:
        if item.answer is not None and not item.answer.done():
            item.answer.set_result(result)
        if item.click is not None and result.reply:
            self.env.router.say_privately(item.click, result.reply)

    # ------------------------------------------------------------------------------------- effects

    async def render(self) -> None:
        self._last_render = self.env.clock.now()
        await self._learn_names()
        now = self.now()
        try:
            await self.message().edit(
                embeds=embeds.message(self.model, self.where, self.place.names, now),
                view=embeds.view(self.model, self.where),
                allowed_mentions=NO_PINGS,
            )
        except discord.NotFound:
            if not self.model.ended:
                log.warning("gathering %s: its message is gone; cancelling it", self.id)
                await self._process([Input(Press(now, self.model.organizer, Action.CANCEL, True))])
        except discord.HTTPException:
            log.warning("gathering %s: could not update its message", self.id, exc_info=True)

    async def _learn_names(self) -> None:
        guild = self.env.bot.get_guild(self.place.guild_id)
        m = self.model
        wanted = {*m.listed, *m.out, m.organizer, *([m.ended_by] if m.ended_by else [])}
        for user in wanted - self.place.names.keys():
            member = guild.get_member(user) if guild else None
            if member is None and guild is not None:
                with contextlib.suppress(discord.HTTPException):
                    member = await guild.fetch_member(user)
            self.place.names[user] = member.display_name if member else ""

    async def _disconnect(self, user: int) -> None:
        guild = self.env.bot.get_guild(self.place.guild_id)
        if guild is None:
            return
        if not guild.me.guild_permissions.move_members:
            await self._tell_no_move()
            return
        try:
            member = guild.get_member(user) or await guild.fetch_member(user)
            channel = member.voice.channel if member.voice is not None else None
            if channel is not None and channel.id == self.place.voice_channel_id:
                await member.move_to(None, reason="Said they are out of the gathering")
        except discord.Forbidden:
            await self._tell_no_move()
        except discord.HTTPException:
            log.warning("gathering %s: could not disconnect %s", self.id, user, exc_info=True)

    async def _tell_no_move(self) -> None:
        if self._told_no_move:
            return
        self._told_no_move = True
        channel = self.env.bot.get_partial_messageable(self.place.text_channel_id)
        with contextlib.suppress(discord.HTTPException):
            await channel.send(NO_MOVE, allowed_mentions=NO_PINGS)

    async def _ghost_ping(self, users: list[int]) -> None:
        """Mention the missing, then delete the message: the notification has fired by then."""
        channel = self.env.bot.get_partial_messageable(self.place.text_channel_id)
        text = f"— the gathering in <#{self.place.voice_channel_id}> has started, join to check in!"
        chunks: list[list[int]] = [[]]
        for user in users:
            if len(" ".join(f"<@{u}>" for u in [*chunks[-1], user])) + len(text) > 1900:
                chunks.append([])
            chunks[-1].append(user)
        sent: list[discord.Message] = []
        try:
            for chunk in chunks:
                mentions = " ".join(f"<@{u}>" for u in chunk)
                allowed = discord.AllowedMentions(users=[discord.Object(u) for u in chunk])
                sent.append(await channel.send(f"{mentions} {text}", allowed_mentions=allowed))
        except discord.HTTPException:
            log.warning("gathering %s: ghost ping failed", self.id, exc_info=True)
        await self.env.clock.sleep(self.env.ping_lifetime)
        for message in sent:
            with contextlib.suppress(discord.HTTPException):
                await message.delete()

    # ------------------------------------------------------------------------------------- voice

    async def resync(self, *, restoring: bool = False) -> None:
        """Catch up with who is in the channel now (after a restart or a new gateway session).

        Someone gone since we last looked left at the last moment we knew about (so they are never
        stamped on time for a check-in that began while we could not see); someone new is stamped at the
        moment we first see them."""
        guild = self.env.bot.get_guild(self.place.guild_id)
        channel = guild.get_channel(self.place.voice_channel_id) if guild else None
        now = self.now()
        if guild is None or not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
            log.warning("gathering %s: its voice channel is gone; cancelling it", self.id)
            self.put(Input(Press(now, self.model.organizer, Action.CANCEL, True)))
            return
        here = set()
        for user_id in channel.voice_states:
            member = guild.get_member(user_id)
            if user_id != guild.me.id and not (member is not None and member.bot):
                here.add(user_id)
                if member is not None:
                    self.place.names[user_id] = member.display_name
        known = set(self.model.present)
        left_at = self.model.now if restoring else now
        items = [Input(VoiceLeft(left_at, u)) for u in sorted(known - here)]
        items += [Input(VoiceJoined(now, u)) for u in sorted(here - known)]
        if restoring:
            self._last_render = float("-inf")  # redraw whatever happened: timers moved on while we were away
            await self._process([*items, Input(Tick(now))])
        else:
            for item in items:
                self.put(item)
