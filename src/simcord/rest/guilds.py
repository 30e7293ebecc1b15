"""Channels, guilds and members (including moving or disconnecting members in voice)."""

from __future__ import annotations

from aiohttp import web

from simcord.rest.common import API_PREFIX, caller, json_response, parse_id, read_json, world_of
from simcord.state import Guild, Json, Member, Permissions
from simcord.world import World, WorldError

NICK_MAX = 32


def guild_for(world: World, request: web.Request) -> Guild:
    guild = world.guilds.get(parse_id(request.match_info["guild_id"]))
    if guild is None or caller(request).bot.id not in guild.members:
        raise WorldError(404, 10004, "Unknown Guild")
    return guild


def member_for(guild: Guild, raw_id: str) -> Member:
    member = guild.members.get(parse_id(raw_id))
    if member is None:
        raise WorldError(404, 10007, "Unknown Member")
    return member


async def get_channel(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = world.channels.get(parse_id(request.match_info["channel_id"]))
    if channel is None:
        raise WorldError(404, 10003, "Unknown Channel")
    guild = world.guild_of_channel(channel)
    if guild is not None and caller(request).bot.id not in guild.members:
        raise WorldError(403, 50001, "Missing Access")
    return json_response(channel.to_json())


async def get_guild(request: web.Request) -> web.Response:
    return json_response(guild_for(world_of(request), request).to_json())


async def get_member(request: web.Request) -> web.Response:
    guild = guild_for(world_of(request), request)
    return json_response(member_for(guild, request.match_info["user_id"]).to_json())


def _outranks(guild: Guild, actor_id: int, target_id: int) -> bool:
    if target_id == guild.owner_id:
        return False
    if actor_id == guild.owner_id:
        return True
    return guild.top_role_position(actor_id) > guild.top_role_position(target_id)


def _apply_nick(guild: Guild, bot_id: int, member: Member, body: Json) -> None:
    nick = body["nick"]
    if nick is not None and (not isinstance(nick, str) or len(nick) > NICK_MAX):
        raise WorldError(
            400,
            50035,
            "Invalid Form Body",
            {
                "nick": {
                    "_errors": [
                        {
                            "code": "BASE_TYPE_BAD_LENGTH",
                            "message": f"Must be between 1 and {NICK_MAX} in length.",
                        }
                    ]
                }
            },
        )
    perms = guild.permissions_of(bot_id)
    needed = Permissions.CHANGE_NICKNAME if member.user.id == bot_id else Permissions.MANAGE_NICKNAMES
    if not perms & needed or (member.user.id != bot_id and not _outranks(guild, bot_id, member.user.id)):
        raise WorldError(403, 50013, "Missing Permissions")
    member.nick = nick or None


def _apply_voice_move(world: World, guild: Guild, bot_id: int, member: Member, raw_channel: object) -> None:
    if guild.voice_channel_of(member.user.id) is None:
        raise WorldError(400, 40032, "Target user is not connected to voice.")
    if not guild.permissions_of(bot_id) & Permissions.MOVE_MEMBERS:
        raise WorldError(403, 50013, "Missing Permissions")
    target = None
    if raw_channel is not None:
        target = guild.channels.get(parse_id(str(raw_channel)))
        if target is None or not target.is_voice:
            raise WorldError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "channel_id": {
                        "_errors": [{"code": "CHANNEL_TYPE_INVALID", "message": "Not a voice channel"}]
                    }
                },
            )
    world.set_voice_state(guild, member.user, target.id if target else None)


async def modify_member(request: web.Request) -> web.Response:
    world = world_of(request)
    guild = guild_for(world, request)
    bot_id = caller(request).bot.id
    raw_user = request.match_info.get("user_id", "@me")
    member = guild.members[bot_id] if raw_user == "@me" else member_for(guild, raw_user)
    body, _ = await read_json(request)
    if "nick" in body:
        _apply_nick(guild, bot_id, member, body)
    if "channel_id" in body:
        _apply_voice_move(world, guild, bot_id, member, body["channel_id"])
    world.update_member(guild, member)
    return json_response(member.to_json())


def register(router: web.UrlDispatcher) -> None:
    p = API_PREFIX
    router.add_get(f"{p}/channels/{{channel_id}}", get_channel)
    router.add_get(f"{p}/guilds/{{guild_id}}", get_guild)
    router.add_patch(f"{p}/guilds/{{guild_id}}/members/@me", modify_member)
    router.add_get(f"{p}/guilds/{{guild_id}}/members/{{user_id}}", get_member)
    router.add_patch(f"{p}/guilds/{{guild_id}}/members/{{user_id}}", modify_member)
