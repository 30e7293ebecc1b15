"""Typed slash commands: `/gather start time=10m note="bring snacks"` → a command path and typed options.

The registered definitions decide what a word means (subcommand, option, user, channel, number), so a
mistake is reported the way Discord's client would stop it: before anything reaches the bot.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from simcord.slash import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)
from simcord.state import Channel, Guild, Json, Role, User
from simcord.world import Application, World

ASSIGNMENT = re.compile(r"([\w-]+)=(.*)", re.DOTALL)
MENTION_ID = re.compile(r"<[@#][!&]?(\d+)>")
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "y", "on", "1"}, {"false", "no", "n", "off", "0"}
TYPE_NAMES = {
    STRING: "text",
    INTEGER: "whole number",
    BOOLEAN: "yes/no",
    USER: "user",
    CHANNEL: "channel",
    ROLE: "role",
    MENTIONABLE: "user or role",
    NUMBER: "number",
    ATTACHMENT: "file url",
}


class SlashError(Exception):
    """A typed command Discord's client would not have sent; the message says what to fix."""


@dataclass(frozen=True)
class SlashCall:
    path: str  # "gather start"
    options: dict[str, Any]  # ready for simcord.slash.build_command_data


def registered_commands(app: Application, guild_id: int | None) -> list[Json]:
    """Chat-input commands usable in the guild; a guild command shadows a global one of the same name."""
    guild_pool = app.guild_commands.get(guild_id, []) if guild_id is not None else []
    shadowed = {c["name"] for c in guild_pool}
    pool = guild_pool + [c for c in app.global_commands if c["name"] not in shadowed]
    return sorted((c for c in pool if int(c.get("type", 1)) == 1), key=lambda c: str(c["name"]))


def parse_slash(line: str, *, world: World, app: Application, channel: Channel) -> SlashCall:
    try:
        tokens = shlex.split(line.strip().removeprefix("/"))
    except ValueError as exc:
        raise SlashError(f"can't read that command: {exc}") from None
    if not tokens:
        raise SlashError("type a command name after /  (:commands lists them)")
    commands = {c["name"]: c for c in registered_commands(app, channel.guild_id)}
    command = commands.get(tokens[0].lower())
    if command is None:
        raise SlashError(f"unknown command /{tokens[0]}  (:commands lists the commands)")
    path = [str(command["name"])]
    definitions: list[Json] = command.get("options") or []
    rest = tokens[1:]
    while subs := [o for o in definitions if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]:
        choices = ", ".join(o["name"] for o in subs)
        if not rest or ASSIGNMENT.fullmatch(rest[0]):
            raise SlashError(f"/{' '.join(path)} needs a subcommand: {choices}")
        sub = next((o for o in subs if o["name"] == rest[0].lower()), None)
        if sub is None:
            raise SlashError(f"/{' '.join(path)} has no subcommand {rest[0]!r}; choose one of: {choices}")
        path.append(str(sub["name"]))
        definitions, rest = sub.get("options") or [], rest[1:]
    usage = f"/{' '.join(path)}"
    by_name = {str(d["name"]): d for d in definitions}
    raw: dict[str, str] = {}
    free: list[str] = []
    for token in rest:
        match = ASSIGNMENT.fullmatch(token)
        if match is None:
            free.append(token)
            continue
        key = match.group(1).lower()
        if key not in by_name:
            known = ", ".join(by_name) or "none"
            raise SlashError(f"{usage} has no option {key!r} (options: {known})")
        if key in raw:
            raise SlashError(f"{usage}: option {key!r} given twice")
        raw[key] = match.group(2)
    if free:
        # `/play never gonna give you up` is friendlier than `/play query="never gonna give you up"`.
        target = next((d for d in definitions if d["name"] not in raw), None)
        if target is None:
            raise SlashError(f"{usage}: don't know what {' '.join(free)!r} is for; write option=value")
        raw[str(target["name"])] = " ".join(free)
    missing = [str(d["name"]) for d in definitions if d.get("required") and d["name"] not in raw]
    if missing:
        raise SlashError(f"{usage} needs {' '.join(f'{name}=…' for name in missing)}")
    options = {key: _convert(by_name[key], value, world, channel) for key, value in raw.items()}
    return SlashCall(" ".join(path), options)


def describe_commands(app: Application, guild_id: int | None) -> list[str]:
    """One usage line per invocable command path, for `:commands`."""
    lines: list[str] = []
    for command in registered_commands(app, guild_id):
        lines.extend(_describe(f"/{command['name']}", command))
    return lines


def _describe(prefix: str, node: Json) -> list[str]:
    definitions: list[Json] = node.get("options") or []
    subs = [o for o in definitions if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
    if subs:
        return [line for sub in subs for line in _describe(f"{prefix} {sub['name']}", sub)]
    parts = [prefix]
    for d in definitions:
        kind = "|".join(str(c["name"]) for c in d.get("choices") or []) or TYPE_NAMES.get(d["type"], "value")
        parts.append(f"{d['name']}=<{kind}>" if d.get("required") else f"[{d['name']}=<{kind}>]")
    description = str(node.get("description") or "")
    return [" ".join(parts) + (f"  — {description}" if description else "")]


# ---------------------------------------------------------------- option values


def _convert(definition: Json, raw: str, world: World, channel: Channel) -> Any:
    name, kind = f"{definition['name']}=", int(definition["type"])
    guild = world.guild_of_channel(channel)
    value: Any = raw
    if kind in (INTEGER, NUMBER):
        try:
            value = int(raw) if kind == INTEGER else float(raw)
        except ValueError:
            raise SlashError(f"{name} wants a {TYPE_NAMES[kind]}, not {raw!r}") from None
        low, high = definition.get("min_value"), definition.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise SlashError(f"{name} must be between {low} and {high}")
    elif kind == BOOLEAN:
        if raw.lower() not in TRUE_WORDS | FALSE_WORDS:
            raise SlashError(f"{name} wants yes or no, not {raw!r}")
        value = raw.lower() in TRUE_WORDS
    elif kind in (USER, MENTIONABLE, ROLE):
        value = _find_member_or_role(guild, raw, users=kind != ROLE, roles=kind != USER)
        if value is None:
            raise SlashError(f"{name} wants a {TYPE_NAMES[kind]} of this server; no {raw!r} here")
    elif kind == CHANNEL:
        value = _find_channel(guild, raw)
        if value is None:
            raise SlashError(f"{name} wants a channel of this server; no {raw!r} here")
    elif kind == ATTACHMENT:
        value = _attachment(world, raw)
    elif kind == STRING:
        low, high = definition.get("min_length"), definition.get("max_length")
        if (low is not None and len(raw) < low) or (high is not None and len(raw) > high):
            raise SlashError(f"{name} must be {low or 0}–{high or '∞'} characters long")
    choices: list[Json] = definition.get("choices") or []
    if choices:
        chosen = next(
            (c for c in choices if raw.lower() in (str(c["name"]).lower(), str(c["value"]).lower())), None
        )
        if chosen is None:
            raise SlashError(f"{name} must be one of: {', '.join(str(c['name']) for c in choices)}")
        value = chosen["value"]
    return value


def _find_member_or_role(guild: Guild | None, raw: str, *, users: bool, roles: bool) -> User | Role | None:
    if guild is None:
        return None
    match = MENTION_ID.fullmatch(raw)
    wanted_id = int(match.group(1)) if match else None
    wanted = raw.removeprefix("@").lower()
    if users:
        for member in guild.members.values():
            names = {
                member.user.username.lower(),
                (member.nick or "").lower(),
                (member.user.global_name or "").lower(),
            }
            if member.user.id == wanted_id or wanted in names - {""}:
                return member.user
    if roles:
        for role in guild.roles.values():
            if role.id == wanted_id or role.name.lower() in (wanted, f"@{wanted}"):
                return role
    return None


def _find_channel(guild: Guild | None, raw: str) -> Channel | None:
    if guild is None:
        return None
    match = MENTION_ID.fullmatch(raw)
    wanted = raw.removeprefix("#").lower()
    return next(
        (
            c
            for c in guild.channels.values()
            if (match and c.id == int(match.group(1))) or c.name.lower() == wanted
        ),
        None,
    )


def _attachment(world: World, raw: str) -> Json:
    """An attachment object for a file the user names by URL; the bot fetches it from there."""
    if urlsplit(raw).scheme not in ("http", "https"):
        raise SlashError(
            "attachments are given as an http(s) URL in the terminal, e.g. file=https://…/song.mp3"
        )
    filename = posixpath.basename(urlsplit(raw).path) or "file"
    return {
        "id": str(world.snowflakes.next()),
        "filename": filename,
        "size": 0,
        "url": raw,
        "proxy_url": raw,
        "content_type": mimetypes.guess_type(filename)[0] or "application/octet-stream",
    }
