"""Turning `run_slash(channel, "gather start", time="10m")` into the INTERACTION_CREATE data Discord sends.

The registered command definitions decide option types, so a test passes Python values (a SimUser for a
user option, a Channel for a channel option) and gets exactly the payload a Discord client would build.
"""

from __future__ import annotations

from typing import Any

from simcord.state import Channel, Json, Role, User
from simcord.world import Application, World

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11


def find_command(app: Application, guild_id: int | None, name: str, kind: int) -> Json:
    pools = [app.guild_commands.get(guild_id, []) if guild_id else [], app.global_commands]
    for pool in pools:
        for command in pool:
            if command["name"] == name and int(command.get("type", 1)) == kind:
                return command
    raise LookupError(f"no {'slash' if kind == 1 else 'context menu'} command {name!r} is registered")


def build_command_data(
    world: World,
    app: Application,
    channel: Channel,
    path: str,
    options: dict[str, Any],
    *,
    target: User | None = None,
) -> Json:
    kind = 1 if target is None else 2
    names = path.split() if kind == 1 else [path]
    command = find_command(app, channel.guild_id, names[0], kind)
    data: Json = {"id": command["id"], "name": command["name"], "type": kind}
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    resolved: Json = {}
    if target is not None:
        data["target_id"] = str(target.id)
        _resolve_user(world, channel, target, resolved)
    container: list[Json] = []
    data["options"] = container
    definitions: list[Json] = command.get("options") or []
    for sub in names[1:]:
        definition = next(
            (o for o in definitions if o["name"] == sub and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)),
            None,
        )
        if definition is None:
            raise LookupError(f"{path!r}: no subcommand {sub!r}")
        nested: list[Json] = []
        container.append({"name": sub, "type": definition["type"], "options": nested})
        container, definitions = nested, definition.get("options") or []
    for definition in definitions:
        if definition.get("required") and definition["name"] not in options:
            raise ValueError(f"{path!r}: option {definition['name']!r} is required")
    for name, value in options.items():
        definition = next((o for o in definitions if o["name"] == name), None)
        if definition is None:
            raise LookupError(f"{path!r}: no option {name!r}")
        container.append(
            {
                "name": name,
                "type": definition["type"],
                "value": _value(world, channel, definition["type"], value, resolved),
            }
        )
    if resolved:
        data["resolved"] = resolved
    return data


def _value(world: World, channel: Channel, kind: int, value: Any, resolved: Json) -> Any:
    if kind in (USER, MENTIONABLE) and hasattr(value, "user"):
        value = value.user
    if kind in (USER, MENTIONABLE) and isinstance(value, User):
        _resolve_user(world, channel, value, resolved)
        return str(value.id)
    if kind == CHANNEL and isinstance(value, Channel):
        resolved.setdefault("channels", {})[str(value.id)] = {**value.to_json(), "permissions": "0"}
        return str(value.id)
    if kind in (ROLE, MENTIONABLE) and isinstance(value, Role):
        resolved.setdefault("roles", {})[str(value.id)] = value.to_json()
        return str(value.id)
    if kind == ATTACHMENT:
        attachment_id = str(value["id"])
        resolved.setdefault("attachments", {})[attachment_id] = value
        return attachment_id
    if kind == INTEGER:
        return int(value)
    if kind == NUMBER:
        return float(value)
    if kind == BOOLEAN:
        return bool(value)
    return str(value)


def _resolve_user(world: World, channel: Channel, user: User, resolved: Json) -> None:
    resolved.setdefault("users", {})[str(user.id)] = user.to_json()
    guild = world.guild_of_channel(channel)
    member = guild.members.get(user.id) if guild else None
    if guild is not None and member is not None:
        resolved.setdefault("members", {})[str(user.id)] = {
            **member.to_json(with_user=False),
            "permissions": str(guild.permissions_of(user.id)),
        }
