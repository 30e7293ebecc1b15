"""Reminder scheduling and delivery: one timer for the next due reminder, and exactly-once delivery.

Delivery protocol, per reminder (store.py guards every step with the row's state):

1. **claim**: in one transaction the due row goes from "pending" to "sending"; the first claim also
   records a Discord id bound (`first_attempt_snowflake`) from before the send;
2. **send** with the reminder's fixed `delivery_key` as the message nonce (discord.py sets
   `enforce_nonce`, so Discord itself returns the earlier message instead of posting a second one when
   the same key arrives again within its dedup window);
3. **confirm**: the row is deleted.

A crash between 1 and 3 leaves the row "sending"; the next start puts it back to "pending" (never lost).
Any attempt after the first looks at the channel after `first_attempt_snowflake` for the bot's message
with that nonce (or that reminder's footer) and confirms instead of sending when it is there (never
twice, also beyond Discord's nonce window). A failed send is retried with backoff for 24 h, then the
owner is told by DM.

No lock is held around Discord calls: the claim is a database transition, so two timers (or a timer
and `notify remove`) can never both act on a row, and the timer's generation counter makes a stale
timer exit instead of delivering.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import discord

from pytunes.core.context import FeatureBot
from pytunes.reminders import embeds, store
from pytunes.reminders.model import Reminder, next_retry
from pytunes.reminders.timeparse import resolve_zone

log = logging.getLogger(__name__)

# The timer re-reads the database at least this often, so a wall clock that jumps (NTP, suspend) costs
# at most this much lateness. It is not a poll: with nothing due it sleeps until the next reminder.
MAX_SLEEP_SECONDS = 3600.0
DB_RETRY_SECONDS = 30.0
HISTORY_SCAN_LIMIT = 100
# Snowflakes carry Discord's time, not the bot clock's; the margin covers clock skew between the two.
SNOWFLAKE_MARGIN = timedelta(minutes=2)
CONFIRM_RETRIES = (1.0, 5.0, 30.0)


class ChannelGone(Exception):
    """The reminder's channel cannot take messages any more."""


class ReminderService:
    def __init__(self, bot: FeatureBot) -> None:
        self.bot = bot
        self.engine = bot.database.engine
        self.clock = bot.clock
        self.tasks = bot.tasks
        self.default_zone = bot.settings.default_timezone
        self._generation = 0
        self._sleeping: asyncio.Task[None] | None = None  # the timer, while (and only while) it sleeps

    # ------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        released = await store.release_orphans(self.engine)
        if released:
            log.warning(
                "%d reminder(s) were being sent when the bot stopped; checking and re-sending", released
            )
        self.rearm()

    def close(self) -> None:
        self._generation += 1
        if self._sleeping is not None:
            self._sleeping.cancel()

    def rearm(self) -> None:
        """Something changed (created, removed, rescheduled): restart the timer for the next due reminder.

        The old timer is cancelled only while it sleeps; one busy claiming finishes its claim (so no row
        is left "sending" without a delivery) and then exits on the generation check."""
        self._generation += 1
        if self._sleeping is not None:
            self._sleeping.cancel()
            self._sleeping = None
        self.tasks.spawn(self._timer(self._generation), name=f"reminders-timer-{self._generation}")

    async def _timer(self, generation: int) -> None:
        while generation == self._generation:
            try:
                due = await store.next_due(self.engine)
                if due is None:
                    return
                delay = due - self.clock.now()
                if delay <= 0:
                    claimed = await store.claim_due(self.engine, self.clock.now(), _snowflake_bound())
                    for reminder in claimed:
                        self.tasks.spawn(self._deliver(reminder), name=f"reminder-{reminder.id}")
                    continue
            except Exception:
                log.exception("reminder timer: database error; retrying in %.0f s", DB_RETRY_SECONDS)
                delay = DB_RETRY_SECONDS
            # The delay is turned into a deadline in this same step (no await in between), so a clock
            # that moves meanwhile cannot stretch the sleep.
            self._sleeping = asyncio.current_task()
            try:
                await self.clock.sleep(min(delay, MAX_SLEEP_SECONDS))
            finally:
                if self._sleeping is asyncio.current_task():
                    self._sleeping = None

    # ------------------------------------------------------------------------------------ delivery

    async def _deliver(self, reminder: Reminder) -> None:
        try:
            channel = await self._channel(reminder.channel_id)
            if reminder.attempted and await self._already_sent(channel, reminder):
                log.info("reminder #%d was already delivered by an earlier attempt", reminder.id)
            else:
                await self._send(channel, reminder)
        except discord.NotFound as error:
            await self._give_up(reminder, f"the channel is gone ({error.text or 'not found'})")
        except ChannelGone as error:
            await self._give_up(reminder, str(error))
        except discord.HTTPException as error:
            # 4xx other than permissions, timeouts and rate limits will fail the same way every time.
            if 400 <= error.status < 500 and error.status not in (403, 408, 429):
                await self._give_up(reminder, f"Discord refused the message ({error.text or error.status})")
            else:
                await self._retry(reminder, f"HTTP {error.status}: {error.text}")
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            await self._retry(reminder, f"{type(error).__name__}: {error}")
        else:
            await self._confirm(reminder)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise ChannelGone("the channel no longer takes messages")
        return channel

    async def _send(self, channel: discord.abc.Messageable, reminder: Reminder) -> None:
        jump = None
        reference = None
        if reminder.source_message_id is not None and isinstance(channel, discord.abc.GuildChannel):
            jump = f"https://discord.com/channels/{reminder.guild_id}/{reminder.channel_id}/{reminder.source_message_id}"
            # The confirmation may have been deleted since: then the reminder is sent without the reply.
            reference = discord.MessageReference(
                message_id=reminder.source_message_id,
                channel_id=reminder.channel_id,
                guild_id=reminder.guild_id,
                fail_if_not_exists=False,
            )
        content, embed = embeds.delivery(reminder, jump)
        await channel.send(
            content,
            embed=embed,
            reference=reference,  # type: ignore[arg-type]
            mention_author=False,
            allowed_mentions=discord.AllowedMentions(
                users=[discord.Object(u) for u in reminder.targets], roles=False, everyone=False
            ),
            nonce=reminder.delivery_key,
        )

    async def _already_sent(self, channel: discord.abc.Messageable, reminder: Reminder) -> bool:
        """Whether an earlier attempt's message is in the channel (found by nonce or footer)."""
        me = self.bot.user
        if me is None or reminder.first_attempt_snowflake is None:
            return False
        footer = embeds.marker(reminder)
        try:
            async for message in channel.history(
                limit=HISTORY_SCAN_LIMIT,
                after=discord.Object(reminder.first_attempt_snowflake),
                oldest_first=True,
            ):
                if message.author.id != me.id:
                    continue
                if str(message.nonce) == reminder.delivery_key or any(
                    e.footer.text == footer for e in message.embeds
                ):
                    return True
        except discord.Forbidden:
            # No history access: rely on the nonce alone (Discord dedups it for a few minutes).
            log.warning("cannot read history in %s to check reminder #%d", reminder.channel_id, reminder.id)
        return False

    async def _confirm(self, reminder: Reminder) -> None:
        for pause in (*CONFIRM_RETRIES, None):
            try:
                await store.confirm(self.engine, reminder.id)
                return
            except Exception:
                if pause is None:
                    # The row stays "sending": the next start re-checks the channel and confirms then.
                    log.exception("reminder #%d was sent but could not be confirmed", reminder.id)
                    return
                log.warning("confirming reminder #%d failed; retrying", reminder.id, exc_info=True)
                await self.clock.sleep(pause)

    async def _retry(self, reminder: Reminder, error: str) -> None:
        at = next_retry(self.clock.now(), reminder.due_at, reminder.attempts + 1)
        if at is None:
            await self._give_up(reminder, f"sending kept failing for 24 hours (last error: {error})")
            return
        log.warning("reminder #%d: send failed (%s); retrying at %.0f", reminder.id, error, at)
        await store.reschedule(self.engine, reminder.id, at, error)
        self.rearm()

    async def _give_up(self, reminder: Reminder, reason: str) -> None:
        log.warning("reminder #%d dropped: %s", reminder.id, reason)
        try:
            user = self.bot.get_user(reminder.owner_id) or await self.bot.fetch_user(reminder.owner_id)
            await user.send(embed=embeds.undeliverable(reminder, reminder.channel_id, reason))
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError):
            # DMs closed or Discord away: the reminder is dropped all the same (its day of retries is over).
            log.warning("could not tell user %d about reminder #%d", reminder.owner_id, reminder.id)
        await store.drop(self.engine, reminder.id)

    # ------------------------------------------------------------------------------------ commands

    async def zone_for(self, guild_id: int | None, user_id: int) -> tuple[ZoneInfo, str]:
        """The zone a user's times are read in: their own, else the guild's, else the configured default."""
        for name in (
            await store.user_zone(self.engine, user_id),
            await store.guild_zone(self.engine, guild_id) if guild_id is not None else None,
            self.default_zone,
        ):
            zone = resolve_zone(name) if name else None
            if zone is not None:
                return zone, zone.key
        return ZoneInfo("UTC"), "UTC"

    async def create(
        self,
        *,
        guild_id: int,
        channel_id: int,
        scheduler_id: int,
        targets: Sequence[int],
        note: str | None,
        due_at: float,
        max_pending: int,
    ) -> Reminder | None:
        reminder = await store.create(
            self.engine,
            guild_id=guild_id,
            channel_id=channel_id,
            scheduler_id=scheduler_id,
            targets=targets,
            note=note,
            created_at=self.clock.now(),
            due_at=due_at,
            max_pending=max_pending,
        )
        if reminder is not None:
            self.rearm()
        return reminder

    async def remove(self, guild_id: int, reminder_id: int, user_id: int) -> Reminder | str | None:
        removed = await store.remove(self.engine, guild_id, reminder_id, user_id)
        if isinstance(removed, Reminder):
            self.rearm()
        return removed


def _snowflake_bound() -> int:
    return discord.utils.time_snowflake(datetime.now(UTC) - SNOWFLAKE_MARGIN)
