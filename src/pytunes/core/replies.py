"""Replies that always fit: embeds clamped to Discord's limits, the clean-up policy, and error replies.

Every message PyTunes sends is built here, so a long title, a huge playlist description or a 2,000
character reason can never make Discord refuse a send (docs/discord-notes.md, 'Message, embed and
component limits').

Clean-up policy (docs/commands.md, 'Conventions'): transient replies, error replies and the user's prefix
message are deleted after a configurable delay; slash errors are ephemeral.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import discord
from discord.ext import commands

from pytunes.core.clock import Clock
from pytunes.core.tasks import TaskOwner

log = logging.getLogger(__name__)

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
EMBEDS_MAX = 10
ELLIPSIS = "…"

# Never ping anyone through text the bot repeats; features opt in to specific users explicitly.
NO_PINGS = discord.AllowedMentions.none()


class Tone(Enum):
    """Embed colours by meaning."""

    INFO = discord.Colour.dark_blue()
    SUCCESS = discord.Colour.dark_green()
    ERROR = discord.Colour.dark_red()
    WARNING = discord.Colour.dark_gold()
    PAUSED = discord.Colour.orange()
    ATTENDEES = discord.Colour.dark_teal()
    MUTED = discord.Colour.dark_grey()


def clip(text: str | None, limit: int) -> str:
    """`text` cut to `limit` characters, marking the cut with an ellipsis."""
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def embed_size(embed: discord.Embed) -> int:
    """What Discord counts against the 6,000-character total."""
    size = len(embed.title or "") + len(embed.description or "")
    size += sum(len(f.name or "") + len(f.value or "") for f in embed.fields)
    size += len(embed.footer.text or "") + len(embed.author.name or "")
    return size


def make_embed(
    title: str | None = None,
    description: str | None = None,
    *,
    tone: Tone = Tone.INFO,
    fields: Iterable[tuple[str, str] | tuple[str, str, bool]] = (),
    footer: str | None = None,
) -> discord.Embed:
    """An embed that Discord will accept whatever the inputs: every part is clamped to its limit."""
    embed = discord.Embed(colour=tone.value)
    if title:
        embed.title = clip(title, TITLE_MAX)
    if description:
        embed.description = clip(description, DESCRIPTION_MAX)
    for index, item in enumerate(fields):
        if index == FIELDS_MAX:
            break
        name, value = item[0], item[1]
        inline = item[2] if len(item) == 3 else False
        embed.add_field(
            name=clip(name, FIELD_NAME_MAX) or "\u200b",
            value=clip(value, FIELD_VALUE_MAX) or "\u200b",
            inline=inline,
        )
    if footer:
        embed.set_footer(text=clip(footer, FOOTER_MAX))
    return fit_total(embed)


def fit_total(embed: discord.Embed) -> discord.Embed:
    """Shrink an embed until it meets the 6,000 total: drop trailing fields, then shorten the description."""
    while embed_size(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    excess = embed_size(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, max(len(embed.description) - excess, 1))
    return embed


def fit_all(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """At most 10 embeds whose combined size stays within the 6,000 total (later ones shrink first)."""
    kept = [fit_total(e) for e in embeds[:EMBEDS_MAX]]
    while len(kept) > 1 and sum(embed_size(e) for e in kept) > EMBED_TOTAL_MAX:
        last = kept[-1]
        budget = EMBED_TOTAL_MAX - sum(embed_size(e) for e in kept[:-1])
        if budget <= 0 or not (last.fields or last.description):
            kept.pop()
            continue
        while last.fields and embed_size(last) > budget:
            last.remove_field(len(last.fields) - 1)
        if embed_size(last) > budget and last.description:
            last.description = clip(
                last.description, max(len(last.description) - (embed_size(last) - budget), 1)
            )
        if embed_size(last) > budget:
            kept.pop()
    return kept


def error_embed(message: str, *, title: str = "🚫  Error") -> discord.Embed:
    return make_embed(title, message, tone=Tone.ERROR)


@dataclass(frozen=True)
class ReplyPolicy:
    """How long transient replies and prefix invocations stay before they are cleaned up (0 keeps them)."""

    reply_delete_seconds: float = 30.0
    error_delete_seconds: float = 60.0
    prefix_cleanup_seconds: float = 30.0


class Replies:
    """Sends replies for a context (prefix or slash alike) and owns their delayed clean-up."""

    def __init__(self, policy: ReplyPolicy, clock: Clock, tasks: TaskOwner) -> None:
        self.policy = policy
        self.clock = clock
        self.tasks = tasks

    async def send(
        self,
        ctx: commands.Context[Any],
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        embeds: list[discord.Embed] | None = None,
        view: discord.ui.View | None = None,
        transient: bool = True,
        ephemeral: bool = False,
        delete_after: float | None = None,
    ) -> discord.Message | None:
        """Reply to the invoking message or interaction. Transient replies are deleted after the policy delay."""
        kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS}
        if content:
            kwargs["content"] = clip(content, CONTENT_MAX)
        if embed is not None:
            kwargs["embed"] = fit_total(embed)
        if embeds:
            kwargs["embeds"] = fit_all(embeds)
        if view is not None:
            kwargs["view"] = view
        ephemeral = ephemeral and ctx.interaction is not None
        if ctx.interaction is not None:
            kwargs["ephemeral"] = ephemeral
        else:
            # A reply must not fail because the user already deleted their message.
            kwargs["reference"] = ctx.message.to_reference(fail_if_not_exists=False)
            kwargs["mention_author"] = False
        message = await ctx.send(**kwargs)
        delay = (
            delete_after
            if delete_after is not None
            else (self.policy.reply_delete_seconds if transient else 0)
        )
        if message is not None and delay > 0 and not ephemeral:
            self.delete_later(message, delay)
        return message

    async def error(self, ctx: commands.Context[Any], text: str, *, title: str = "🚫  Error") -> None:
        """An error reply: ephemeral for slash commands, cleaned up after a while for prefix commands."""
        await self.send(
            ctx,
            embed=error_embed(text, title=title),
            ephemeral=True,
            delete_after=self.policy.error_delete_seconds,
        )

    def delete_later(self, message: discord.Message, delay: float) -> None:
        self.tasks.spawn(self._delete_after(message, delay), name=f"delete-{message.id}")

    def cleanup_invocation(self, ctx: commands.Context[Any]) -> None:
        """Remove the user's `!command` message after the policy delay (slash invocations leave nothing)."""
        if ctx.interaction is None and ctx.guild is not None and self.policy.prefix_cleanup_seconds > 0:
            self.delete_later(ctx.message, self.policy.prefix_cleanup_seconds)

    async def _delete_after(self, message: discord.Message, delay: float) -> None:
        await self.clock.sleep(delay)
        # Already gone, or no Manage Messages for someone else's message: nothing worth reporting.
        with contextlib.suppress(discord.NotFound, discord.Forbidden):
            await message.delete()
