"""Keyword reactions: the listener, and `reactions add|remove|list|reload|channel`.

Rules come from the operator's file (`EMOTICONS_CONFIG`) and from each server (`reactions add`, Manage
Server). Reactions happen in servers only, never on bots' messages or on commands, only in channels the
allow/deny lists permit, and at most three per message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

import discord
from discord import app_commands
from discord.ext import commands

from pytunes.core.checks import CheckRefusal
from pytunes.core.commands import Handler, hybrid_group
from pytunes.core.context import Ctx, FeatureBot
from pytunes.core.replies import Tone, clip, make_embed
from pytunes.core.views import reply_with_pages
from pytunes.reactions import store
from pytunes.reactions.rules import (
    MAX_REACTIONS,
    ChannelLists,
    Emoji,
    Rule,
    RuleError,
    RuleFile,
    choose_reactions,
    load_rule_file,
    make_rule,
)

log = logging.getLogger(__name__)

GUILD_RULES_MAX = 50
LIST_PAGE = 12
LIST_TIMEOUT = 120.0


def subcommand(
    group: commands.HybridGroup[Any, ..., None], **attrs: Any
) -> Callable[[Handler], commands.HybridCommand[Any, ..., None]]:
    """`group.command`, typed for cog methods (mypy cannot solve discord.py's decorator overloads)."""
    return cast(Callable[[Handler], commands.HybridCommand[Any, ..., None]], group.command(**attrs))


async def _manage_guild(ctx: Ctx) -> bool:
    if not isinstance(ctx.author, discord.Member) or not ctx.author.guild_permissions.manage_guild:
        raise CheckRefusal(
            "🚫  Missing permission", "Only members with Manage Server can change keyword reactions."
        )
    return True


manage_guild = commands.check(_manage_guild)


@dataclass(frozen=True)
class GuildRules:
    rules: tuple[Rule, ...]
    channels: ChannelLists


def _discord_emoji(emoji: Emoji) -> str | discord.PartialEmoji:
    if emoji.custom_id is None:
        return emoji.text
    return discord.PartialEmoji(name=emoji.name or "_", id=emoji.custom_id, animated=emoji.animated)


class Lines:
    def __init__(self, title: str, lines: list[str]) -> None:
        self.title = title
        self.lines = lines

    async def page_count(self) -> int:
        return -(-len(self.lines) // LIST_PAGE)

    async def render(self, page: int) -> list[discord.Embed]:
        chunk = self.lines[page * LIST_PAGE : (page + 1) * LIST_PAGE]
        pages = await self.page_count()
        footer = f"Page {page + 1}/{pages}" if pages > 1 else None
        return [make_embed(self.title, "\n".join(chunk), footer=footer)]

    async def render_empty(self) -> list[discord.Embed]:
        return [make_embed(self.title, "No keyword rules yet.")]


class Reactions(commands.Cog):
    def __init__(self, bot: FeatureBot) -> None:
        self.bot = bot
        self.engine = bot.database.engine
        self.path = bot.settings.emoticons_config
        self.file = RuleFile()
        self._guilds: dict[int, GuildRules] = {}

    async def cog_load(self) -> None:
        self.reload_file()

    def reload_file(self) -> RuleFile:
        self.file = load_rule_file(self.path)
        for problem in self.file.problems:
            if self.file.missing:
                log.info("keyword reactions: %s", problem)
            else:
                log.warning("keyword reactions: skipped %s", problem)
        log.info("keyword reactions: %d rule(s) from %s", len(self.file.rules), self.path)
        self._guilds.clear()
        return self.file

    async def guild_rules(self, guild_id: int) -> GuildRules:
        cached = self._guilds.get(guild_id)
        if cached is not None:
            return cached
        rules: list[Rule] = []
        for stored in await store.rules(self.engine, guild_id):
            try:
                rules.append(make_rule(stored.pattern, stored.emoji, f"#{stored.id}", stored.id))
            except RuleError as error:
                log.warning("keyword reactions: guild %d rule #%d skipped: %s", guild_id, stored.id, error)
        modes = await store.channel_modes(self.engine, guild_id)
        lists = ChannelLists(
            allow=frozenset(c for c, m in modes.items() if m == "allow"),
            deny=frozenset(c for c, m in modes.items() if m == "deny"),
        )
        loaded = GuildRules(tuple(rules), lists)
        self._guilds[guild_id] = loaded
        return loaded

    # --------------------------------------------------------------------------------------- listener

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if (
            message.guild is None
            or message.author.bot
            or message.webhook_id is not None
            or not message.content
        ):
            return
        if await self._is_command(message):
            return
        channel_ids = {message.channel.id}
        parent = getattr(message.channel, "parent_id", None)
        if parent:
            channel_ids.add(parent)
        file_lists = ChannelLists(self.file.allow, self.file.deny)
        guild = await self.guild_rules(message.guild.id)
        if not (file_lists.permits(channel_ids) and guild.channels.permits(channel_ids)):
            return
        for emoji in choose_reactions((*self.file.rules, *guild.rules), message.content, MAX_REACTIONS):
            try:
                await message.add_reaction(_discord_emoji(emoji))
            except discord.HTTPException as error:
                log.warning("keyword reactions: could not react with %s: %s", emoji.text, error)

    async def _is_command(self, message: discord.Message) -> bool:
        prefixes = await self.bot.get_prefix(message)
        options = [prefixes] if isinstance(prefixes, str) else list(prefixes)
        return any(message.content.startswith(p) for p in options if p)

    # --------------------------------------------------------------------------------------- commands

    @hybrid_group(
        name="reactions", invoke_without_command=True, description="Keyword reactions of this server"
    )
    @app_commands.guild_only()
    async def reactions(self, ctx: Ctx) -> None:
        p = ctx.clean_prefix
        await self.bot.replies.send(
            ctx,
            embed=make_embed(
                "Keyword reactions",
                f"`{p}reactions list` · `{p}reactions add <emoji> <pattern>` · `{p}reactions remove <id>`\n"
                f"`{p}reactions channel #channel allow|deny|default` · `{p}reactions reload`\n"
                "Patterns are regular expressions, e.g. `(?i)\\bparty\\b`. Changing them needs Manage Server.",
            ),
        )

    @subcommand(reactions, name="list", description="The keyword rules that apply in this server")
    async def reactions_list(self, ctx: Ctx) -> None:
        guild = _guild(ctx)
        state = await self.guild_rules(guild.id)
        lines = [f"`{r.origin}` {r.emoji.text} ← `{clip(r.pattern.pattern, 80)}`" for r in self.file.rules]
        lines += [f"`{r.origin}` {r.emoji.text} ← `{clip(r.pattern.pattern, 80)}`" for r in state.rules]
        lines += [f"⚠️ skipped {clip(str(p), 150)}" for p in self.file.problems if not self.file.missing]
        for channel in sorted(state.channels.allow):
            lines.append(f"✅ only in <#{channel}>")
        for channel in sorted(state.channels.deny):
            lines.append(f"🚫 never in <#{channel}>")
        await reply_with_pages(
            ctx,
            self.bot.interactions,
            self.bot.replies,
            Lines("Keyword reactions", lines),
            refusal="Run the command yourself to turn its pages.",
            timeout=LIST_TIMEOUT,
        )

    @subcommand(reactions, name="add", description="React with an emoji to messages matching a pattern")
    @app_commands.describe(
        emoji="A Unicode emoji or a custom one (<:name:id>)", pattern="A regular expression"
    )
    @manage_guild
    async def reactions_add(self, ctx: Ctx, emoji: str, *, pattern: str) -> None:
        guild = _guild(ctx)
        try:
            rule = make_rule(pattern, emoji, "new")
        except RuleError as error:
            raise CheckRefusal("🚫  Rule refused", str(error)) from None
        added = await store.add_rule(
            self.engine, guild.id, pattern, rule.emoji.text, ctx.author.id, GUILD_RULES_MAX
        )
        if added == "full":
            raise CheckRefusal("🚫  Too many rules", f"A server can have at most {GUILD_RULES_MAX} rules.")
        if added == "duplicate":
            raise CheckRefusal("🚫  Already there", "This server already has that rule.")
        self._guilds.pop(guild.id, None)
        await self.bot.replies.send(
            ctx,
            embed=make_embed(
                "✅  Rule added", f"`#{added}` {rule.emoji.text} ← `{pattern}`", tone=Tone.SUCCESS
            ),
            transient=False,
        )

    @subcommand(reactions, name="remove", description="Delete one of this server's keyword rules")
    @app_commands.describe(id="The rule's number, as shown by reactions list")
    @manage_guild
    async def reactions_remove(self, ctx: Ctx, id: str) -> None:
        guild = _guild(ctx)
        number = id.strip().removeprefix("#")
        removed = await store.remove_rule(self.engine, guild.id, int(number)) if number.isdigit() else None
        if removed is None:
            raise CheckRefusal("🚫  No such rule", f"This server has no rule `{id}`. See `reactions list`.")
        self._guilds.pop(guild.id, None)
        await self.bot.replies.send(
            ctx, embed=make_embed("🗑️  Rule removed", f"`#{removed.id}` {removed.emoji} ← `{removed.pattern}`")
        )

    @subcommand(reactions, name="channel", description="Allow or stop keyword reactions in a channel")
    @app_commands.describe(channel="The channel", mode="allow: only allowed channels react; deny: never here")
    @manage_guild
    async def reactions_channel(
        self, ctx: Ctx, channel: discord.TextChannel, mode: Literal["allow", "deny", "default"]
    ) -> None:
        guild = _guild(ctx)
        await store.set_channel_mode(self.engine, guild.id, channel.id, None if mode == "default" else mode)
        self._guilds.pop(guild.id, None)
        text = {
            "allow": f"Reactions are allowed in {channel.mention}; once any channel is allowed, only allowed "
            "channels get reactions.",
            "deny": f"No keyword reactions in {channel.mention}.",
            "default": f"{channel.mention} follows the server's default again.",
        }[mode]
        await self.bot.replies.send(ctx, embed=make_embed("✅  Reaction channels", text, tone=Tone.SUCCESS))

    @subcommand(reactions, name="reload", description="Re-read the rules file and this server's rules")
    @manage_guild
    async def reactions_reload(self, ctx: Ctx) -> None:
        loaded = self.reload_file()
        guild = await self.guild_rules(_guild(ctx).id)
        text = f"{len(loaded.rules)} rule(s) from the rules file, {len(guild.rules)} of this server."
        fields = []
        if loaded.problems:
            fields.append(
                (
                    "Skipped" if not loaded.missing else "Note",
                    "\n".join(clip(str(p), 200) for p in loaded.problems[:10]),
                )
            )
        await self.bot.replies.send(ctx, embed=make_embed("🔄  Reactions reloaded", text, fields=fields))


def _guild(ctx: Ctx) -> discord.Guild:
    if ctx.guild is None:
        raise commands.NoPrivateMessage()
    return ctx.guild


async def setup(bot: FeatureBot) -> None:
    await bot.add_cog(Reactions(bot))
