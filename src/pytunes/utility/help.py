"""The help listing, built from the registered commands themselves so nothing can go missing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from discord.ext import commands


@dataclass(frozen=True)
class CommandHelp:
    name: str
    usage: str
    description: str
    aliases: tuple[str, ...]
    group: str


def describe(command: commands.Command[Any, ..., Any], prefix: str) -> CommandHelp:
    signature = f" {command.signature}" if command.signature else ""
    return CommandHelp(
        name=command.qualified_name,
        usage=f"{prefix}{command.qualified_name}{signature}",
        description=command.description or command.short_doc or "",
        aliases=tuple(command.aliases),
        group=command.cog_name or "General",
    )


def catalogue(bot: commands.Bot | commands.AutoShardedBot, prefix: str) -> list[CommandHelp]:
    """Every visible command and subcommand, grouped by feature, in a stable order."""
    entries: list[CommandHelp] = []
    for command in bot.walk_commands():
        if command.hidden:
            continue
        entries.append(describe(command, prefix))
    return sorted(entries, key=lambda e: (e.group, e.name))


def lines(entries: Iterable[CommandHelp]) -> list[str]:
    out = []
    for entry in entries:
        aliases = f" (also {', '.join(entry.aliases)})" if entry.aliases else ""
        out.append(f"`{entry.usage}`{aliases}\n{entry.description}")
    return out


def help_fields(entries: list[CommandHelp], *, limit: int = 1024) -> list[tuple[str, str]]:
    """One embed field per feature, continued in further fields rather than cut at Discord's 1,024 limit."""
    out: list[tuple[str, str]] = []
    for group in dict.fromkeys(e.group for e in entries):
        chunks: list[list[str]] = [[]]
        for text in lines(e for e in entries if e.group == group):
            if chunks[-1] and len("\n".join([*chunks[-1], text])) > limit:
                chunks.append([])
            chunks[-1].append(text)
        out.extend(
            (group if i == 0 else f"{group} (cont.)", "\n".join(chunk)) for i, chunk in enumerate(chunks)
        )
    return out


PAGE_FIELDS_MAX = 25
PAGE_CHARS_MAX = 5000  # below Discord's 6,000 per embed, leaving room for title, intro and footer


def paginate(fields: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Fields split into pages that each fit one embed; a page break never falls inside a field."""
    pages: list[list[tuple[str, str]]] = [[]]
    size = 0
    for field in fields:
        length = len(field[0]) + len(field[1])
        if pages[-1] and (len(pages[-1]) >= PAGE_FIELDS_MAX or size + length > PAGE_CHARS_MAX):
            pages.append([])
            size = 0
        pages[-1].append(field)
        size += length
    return pages


def context_menu_field(names: list[str]) -> tuple[str, str] | None:
    """The right-click (Apps) commands, which have no prefix form and no description on Discord."""
    if not names:
        return None
    return ("Context menus", "Right-click a member → Apps → " + ", ".join(f"**{n}**" for n in names))
