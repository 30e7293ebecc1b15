"""What reminders look like: confirmations, the delivery, the list pages. Times are Discord timestamps,
so every reader sees them in their own zone."""

from __future__ import annotations

import discord

from pytunes.core.replies import Tone, clip, make_embed
from pytunes.reminders.model import Reminder, neutralise
from pytunes.reminders.timeparse import FORMATS_HELP, both_times, discord_time

PAGE_SIZE = 10
NOTE_PREVIEW = 60


def mentions(user_ids: tuple[int, ...] | list[int]) -> str:
    return ", ".join(f"<@{u}>" for u in user_ids)


def note_block(note: str) -> str:
    return f"```\n{neutralise(note)}\n```"


def created(reminder: Reminder, zone_name: str) -> discord.Embed:
    if reminder.for_others:
        title = "🔔  Reminder set"
        text = (
            f"ID `#{reminder.id}` — I will remind {mentions(reminder.targets)} {both_times(reminder.due_at)}."
        )
    else:
        title = "🔔  Notification created"
        text = f"ID `#{reminder.id}` — you will be notified {both_times(reminder.due_at)}."
    fields = [("Note:", note_block(reminder.note))] if reminder.note else []
    return make_embed(title, text, tone=Tone.SUCCESS, fields=fields, footer=f"Times read in {zone_name}")


def delivery(reminder: Reminder, jump_url: str | None) -> tuple[str, discord.Embed]:
    """(message content, embed) for a due reminder; the content pings exactly the targets."""
    if reminder.for_others:
        content = " ".join(f"<@{u}>" for u in reminder.targets)
        text = f"Hey {mentions(reminder.targets)}, you have a reminder for {discord_time(reminder.due_at)}."
    else:
        content = f"||<@{reminder.owner_id}>||"
        text = f"Hey <@{reminder.owner_id}>, you wanted to be notified at {discord_time(reminder.due_at)}."
    fields: list[tuple[str, str]] = [("Requested at:", discord_time(reminder.created_at))]
    if reminder.for_others:
        fields.append(("From:", f"<@{reminder.scheduler_id}>"))
    if jump_url:
        fields.append(("Message:", jump_url))
    if reminder.note:
        fields.append(("Note:", note_block(reminder.note)))
    return content, make_embed("🔔  Notification", text, fields=fields, footer=marker(reminder))


def marker(reminder: Reminder) -> str:
    """The footer that identifies a delivered reminder when looking for an earlier send."""
    return f"Reminder #{reminder.id}"


def undeliverable(reminder: Reminder, channel_id: int, reason: str) -> discord.Embed:
    fields = [("Note:", note_block(reminder.note))] if reminder.note else []
    return make_embed(
        "⚠️  Reminder not delivered",
        f"I could not post reminder `#{reminder.id}` (due {discord_time(reminder.due_at)}) in "
        f"<#{channel_id}>: {reason}. I have stopped trying.",
        tone=Tone.WARNING,
        fields=fields,
    )


def invalid_time(reason: str) -> discord.Embed:
    return make_embed("🚫  Invalid notify format", reason, tone=Tone.ERROR)


def formats() -> str:
    return FORMATS_HELP


def list_page(reminders: list[Reminder], viewer_id: int, page: int, pages: int) -> discord.Embed:
    lines = []
    for reminder in reminders[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        line = f"`#{reminder.id:>3}` {both_times(reminder.due_at)}"
        if reminder.for_others and reminder.scheduler_id == viewer_id:
            line += f" for {mentions(reminder.targets)}"
        elif reminder.scheduler_id != viewer_id:
            line += f" (from <@{reminder.scheduler_id}>)"
        if reminder.state != "pending":
            line += " · being delivered"
        if reminder.note:
            preview = clip(reminder.note.replace("\n", " "), NOTE_PREVIEW).replace("`", "'")
            line += f" — {neutralise(preview)}"
        lines.append(line)
    footer = f"Page {page + 1}/{pages} · " if pages > 1 else ""
    return make_embed(
        "🔔  Your notifications",
        "\n".join(lines),
        footer=f"{footer}{len(reminders)} pending · remove one with notify remove <id>",
    )


def no_reminders() -> discord.Embed:
    return make_embed("🔔  Notifications", "You have no pending notifications.")


def removed(reminder: Reminder) -> discord.Embed:
    return make_embed(
        "🗑️  Notification removed",
        f"`#{reminder.id}`, due {both_times(reminder.due_at)}, will not be sent.",
        tone=Tone.SUCCESS,
    )
