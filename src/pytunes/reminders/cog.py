"""`notify` (prefix alias `remind`): me, you, list, remove, tz, servertz. Commands only: parsing lives in
timeparse.py, rules in model.py, state in the service."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from pytunes.core.checks import CheckRefusal
from pytunes.core.commands import Handler, hybrid_group
from pytunes.core.context import Ctx, FeatureBot
from pytunes.core.replies import Tone, make_embed
from pytunes.core.views import reply_with_pages
from pytunes.reminders import embeds, store
from pytunes.reminders.model import TARGETS_MAX, Reminder, ReminderError, check_note, parse_reminder_id
from pytunes.reminders.service import ReminderService
from pytunes.reminders.timeparse import WhenError, parse_when, resolve_zone, split_time_and_note, zone_names

LIST_TIMEOUT = 120.0


def subcommand(
    group: commands.HybridGroup[Any, ..., None], **attrs: Any
) -> Callable[[Handler], commands.HybridCommand[Any, ..., None]]:
    """`group.command`, typed for cog methods (mypy cannot solve discord.py's decorator overloads)."""
    return cast(Callable[[Handler], commands.HybridCommand[Any, ..., None]], group.command(**attrs))


def raw_arguments(ctx: Ctx) -> str:
    """What a prefix invocation typed after the command's name, exactly (spaces and newlines kept):
    discord.py's word splitting would read `1h 30m` as a time and a note."""
    text = ctx.message.content[len(ctx.prefix or "") :]
    for word in (*ctx.invoked_parents, ctx.invoked_with or ""):
        text = text.lstrip()
        if text[: len(word)].lower() == word.lower():
            text = text[len(word) :]
    return text.strip()


class ListPages:
    def __init__(self, reminders: list[Reminder], viewer_id: int) -> None:
        self.reminders = reminders
        self.viewer_id = viewer_id

    async def page_count(self) -> int:
        return -(-len(self.reminders) // embeds.PAGE_SIZE)

    async def render(self, page: int) -> list[discord.Embed]:
        pages = await self.page_count()
        return [embeds.list_page(self.reminders, self.viewer_id, page, pages)]

    async def render_empty(self) -> list[discord.Embed]:
        return [embeds.no_reminders()]


class Reminders(commands.Cog):
    def __init__(self, bot: FeatureBot, service: ReminderService) -> None:
        self.bot = bot
        self.service = service

    async def cog_load(self) -> None:
        await self.service.start()

    async def cog_unload(self) -> None:
        self.service.close()

    async def cog_check(self, ctx: Ctx) -> bool:  # type: ignore[override]
        if ctx.guild is None:
            raise commands.NoPrivateMessage()  # reminders belong to a server and its channels
        return True

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.bot.clock.now(), UTC)

    @hybrid_group(
        name="notify",
        aliases=["remind"],
        invoke_without_command=True,
        description="Reminders for you or others",
    )
    @app_commands.guild_only()
    async def notify(self, ctx: Ctx) -> None:
        p = ctx.clean_prefix
        await self.bot.replies.send(
            ctx,
            embed=make_embed(
                "🔔  Reminders",
                f"`{p}notify me <time> [note]` · `{p}notify you @user [@user2] [@user3] <time> [note]`\n"
                f"`{p}notify list` · `{p}notify remove <id>` · `{p}notify tz [zone]`\n\n{embeds.formats()}",
            ),
        )

    @subcommand(
        notify, name="me", description="Remind yourself: 10m, 1h 30m, tomorrow, 18:30, 1-1-2027 18:30"
    )
    @app_commands.describe(time="When: 10m, 1h 30m, tomorrow, 18:30, 1-1-2027 18:30", note="What about")
    async def notify_me(self, ctx: Ctx, time: str, *, note: str | None = None) -> None:
        await self._create(ctx, [], time, note)

    @subcommand(notify, name="you", description="Remind up to three people at a time, with a note")
    @app_commands.describe(
        user="Who to remind", time="When: 10m, 1h 30m, 18:30, …", user2="Also remind", user3="Also remind"
    )
    async def notify_you(
        self,
        ctx: Ctx,
        user: discord.Member,
        time: str,
        user2: discord.Member | None = None,
        user3: discord.Member | None = None,
        *,
        note: str | None = None,
    ) -> None:
        if ctx.interaction is not None:
            await self._create(ctx, [user, user2, user3], time, note)
            return
        # Prefix form `notify you @a [@b] [@c] <time> [note]`: re-read what was typed, members first.
        text = raw_arguments(ctx)
        members: list[discord.Member | None] = []
        while len(members) < TARGETS_MAX and (word := re.match(r"\S+", text)):
            try:
                members.append(await commands.MemberConverter().convert(ctx, word.group()))
            except commands.BadArgument:
                break
            text = text[word.end() :].lstrip()
        await self._create(ctx, members, None, text)

    async def _create(
        self, ctx: Ctx, members: list[discord.Member | None], time: str | None, note: str | None
    ) -> None:
        """`time` None: prefix text in `note`, to be split into time and note here."""
        assert ctx.guild is not None
        zone, zone_name = await self.service.zone_for(ctx.guild.id, ctx.author.id)
        now = self._now()
        if time is None or ctx.interaction is None:
            text = note if time is None else raw_arguments(ctx)
            time, note = split_time_and_note(text or "", now, zone)
            if not time:
                raise commands.MissingRequiredArgument(ctx.command.clean_params["time"])  # type: ignore[union-attr]
        targets = list(dict.fromkeys(m for m in members if m is not None))
        if any(m.bot for m in targets):
            raise CheckRefusal(
                "🚫  Cannot remind bots", "Reminders are for people; pick members who are not bots."
            )
        try:
            due = parse_when(time, now, zone)
            note = check_note(note)
        except WhenError as error:
            await self.bot.replies.send(
                ctx, embed=embeds.invalid_time(str(error)), ephemeral=True, transient=False
            )
            return
        except ReminderError as error:
            raise CheckRefusal("🚫  Note too long", str(error)) from None
        limit = self.bot.settings.reminder_max_pending
        reminder = await self.service.create(
            guild_id=ctx.guild.id,
            channel_id=ctx.channel.id,
            scheduler_id=ctx.author.id,
            targets=[m.id for m in targets] or [ctx.author.id],
            note=note,
            due_at=due.timestamp(),
            max_pending=limit,
        )
        if reminder is None:
            raise CheckRefusal(
                "🚫  Too many reminders",
                f"You already have {limit} pending reminders in this server. "
                f"Remove one with `{ctx.clean_prefix}notify remove <id>` first.",
            )
        message = await self.bot.replies.send(ctx, embed=embeds.created(reminder, zone_name), transient=False)
        if message is not None:
            # Delivery replies to (and links) this confirmation, which stays; the user's prefix message
            # does not (it is cleaned up after 30 s).
            await store.set_source(self.service.engine, reminder.id, message.id)

    @subcommand(notify, name="list", description="Your pending reminders, and those you set for others")
    async def notify_list(self, ctx: Ctx) -> None:
        assert ctx.guild is not None
        reminders = await store.list_for(self.service.engine, ctx.guild.id, ctx.author.id)
        await reply_with_pages(
            ctx,
            self.bot.interactions,
            self.bot.replies,
            ListPages(reminders, ctx.author.id),
            refusal="Only the person who asked can turn these pages.",
            timeout=LIST_TIMEOUT,
        )

    @subcommand(notify, name="remove", description="Cancel a reminder you own or set (by its #id)")
    @app_commands.describe(id="The reminder's number, as shown by notify list")
    async def notify_remove(self, ctx: Ctx, id: str) -> None:
        assert ctx.guild is not None
        number = parse_reminder_id(id)
        outcome = (
            await self.service.remove(ctx.guild.id, number, ctx.author.id) if number is not None else None
        )
        if outcome is None:
            raise CheckRefusal(
                "🚫  Notification not found", f"No pending reminder `{id}` of yours in this server."
            )
        if isinstance(outcome, str):
            raise CheckRefusal("🚫  Too late", f"Reminder `#{number}` is being delivered right now.")
        await self.bot.replies.send(ctx, embed=embeds.removed(outcome), transient=False)

    @subcommand(notify, name="tz", description="Show or set the time zone your reminder times are read in")
    @app_commands.describe(zone="An IANA zone such as Europe/Prague or America/New_York; `reset` to clear")
    async def notify_tz(self, ctx: Ctx, zone: str | None = None) -> None:
        assert ctx.guild is not None
        if zone is not None:
            name = await self._zone_argument(zone)
            await store.set_user_zone(self.service.engine, ctx.author.id, name)
        await self._show_zone(ctx, "Your time zone" if zone is None else "✅  Time zone saved")

    @subcommand(notify, name="servertz", description="Show or set this server's default reminder time zone")
    @app_commands.describe(zone="An IANA zone such as Europe/Prague; `reset` for the bot's default")
    async def notify_servertz(self, ctx: Ctx, zone: str | None = None) -> None:
        assert ctx.guild is not None
        if zone is not None:
            if not isinstance(ctx.author, discord.Member) or not ctx.author.guild_permissions.manage_guild:
                raise CheckRefusal(
                    "🚫  Missing permission",
                    "Only members with Manage Server can set the server's time zone.",
                )
            name = await self._zone_argument(zone)
            await store.set_guild_zone(self.service.engine, ctx.guild.id, name)
        current = await store.guild_zone(self.service.engine, ctx.guild.id)
        text = (
            f"This server's default is **{current}**."
            if current
            else f"This server has no zone of its own; the bot's default **{self.service.default_zone}** applies."
        )
        await self.bot.replies.send(ctx, embed=make_embed("🕒  Server time zone", text, tone=Tone.INFO))

    async def _zone_argument(self, text: str) -> str | None:
        if text.strip().lower() in ("reset", "default", "none", "clear"):
            return None
        zone = resolve_zone(text)
        if zone is None:
            raise CheckRefusal(
                "🚫  Unknown time zone",
                f"`{text[:60]}` is not an IANA time zone. Examples: `Europe/Prague`, `America/New_York`, "
                "`Asia/Tokyo`, `UTC`.",
            )
        return zone.key

    async def _show_zone(self, ctx: Ctx, title: str) -> None:
        assert ctx.guild is not None
        zone, name = await self.service.zone_for(ctx.guild.id, ctx.author.id)
        local = self._now().astimezone(zone)
        own = await store.user_zone(self.service.engine, ctx.author.id)
        source = "your setting" if own else "the server's or the bot's default"
        await self.bot.replies.send(
            ctx,
            embed=make_embed(
                title,
                f"Reminder times you type are read in **{name}** ({source}); it is {local:%H:%M} there now.",
                tone=Tone.SUCCESS,
            ),
            ephemeral=True,
        )

    @notify_tz.autocomplete("zone")
    @notify_servertz.autocomplete("zone")
    async def _complete_zone(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.lower().replace(" ", "_")
        return [app_commands.Choice(name=n, value=n) for n in zone_names() if needle in n.lower()][:25]


async def setup(bot: FeatureBot) -> None:
    await bot.add_cog(Reminders(bot, ReminderService(bot)))
