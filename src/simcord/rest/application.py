"""Users, the application, the gateway URL and application commands."""

from __future__ import annotations

import re

from aiohttp import web

from simcord.rest.common import API_PREFIX, REST_KEY, caller, json_response, parse_id, read_json, world_of
from simcord.state import Json
from simcord.world import WorldError

COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


async def get_me(request: web.Request) -> web.Response:
    user = caller(request).bot.to_json()
    user.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US", "premium_type": 0})
    return json_response(user)


async def get_user(request: web.Request) -> web.Response:
    user = world_of(request).users.get(parse_id(request.match_info["user_id"]))
    if user is None:
        raise WorldError(404, 10013, "Unknown User")
    return json_response(user.to_json())


async def get_application(request: web.Request) -> web.Response:
    app = caller(request)
    return json_response(app.to_json(guild_count=len(world_of(request).guild_ids_of(app.bot.id))))


async def get_gateway(request: web.Request) -> web.Response:
    return json_response({"url": request.app[REST_KEY].gateway_url})


async def get_gateway_bot(request: web.Request) -> web.Response:
    return json_response(
        {
            "url": request.app[REST_KEY].gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }
    )


def _check_app(request: web.Request) -> int:
    app_id = parse_id(request.match_info["application_id"])
    if app_id != caller(request).id:
        raise WorldError(403, 50001, "Missing Access")
    return app_id


def _command(world_app_id: int, guild_id: int | None, index: int, raw: Json, assign_id: int) -> Json:
    name = raw.get("name")
    kind = int(raw.get("type", 1))
    if not isinstance(name, str) or (kind == 1 and not COMMAND_NAME.match(name)) or len(name) > 32:
        raise WorldError(
            400,
            50035,
            "Invalid Form Body",
            {
                str(index): {
                    "name": {
                        "_errors": [
                            {"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "Command name is invalid"}
                        ]
                    }
                }
            },
        )
    description = raw.get("description", "")
    if kind == 1 and (not description or len(description) > 100):
        raise WorldError(
            400,
            50035,
            "Invalid Form Body",
            {
                str(index): {
                    "description": {
                        "_errors": [
                            {
                                "code": "BASE_TYPE_BAD_LENGTH",
                                "message": "Must be between 1 and 100 in length.",
                            }
                        ]
                    }
                }
            },
        )
    if len(raw.get("options") or []) > 25:
        raise WorldError(
            400,
            50035,
            "Invalid Form Body",
            {
                str(index): {
                    "options": {
                        "_errors": [
                            {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}
                        ]
                    }
                }
            },
        )
    command: Json = {
        "id": str(assign_id),
        "application_id": str(world_app_id),
        "version": str(assign_id),
        "type": kind,
        "name": name,
        "description": description,
        "options": raw.get("options") or [],
        "default_member_permissions": raw.get("default_member_permissions"),
        "dm_permission": raw.get("dm_permission", True),
        "nsfw": bool(raw.get("nsfw", False)),
        "integration_types": raw.get("integration_types") or [0],
        "contexts": raw.get("contexts"),
    }
    if guild_id is not None:
        command["guild_id"] = str(guild_id)
    return command


async def put_commands(request: web.Request) -> web.Response:
    app_id = _check_app(request)
    world = world_of(request)
    guild_id = parse_id(request.match_info["guild_id"]) if "guild_id" in request.match_info else None
    body, _ = await read_json(request)
    raw_list = body.get("_", [])
    if not isinstance(raw_list, list):
        raise WorldError(400, 50035, "Invalid Form Body")
    commands = [_command(app_id, guild_id, i, raw, world.snowflakes.next()) for i, raw in enumerate(raw_list)]
    app = caller(request)
    if guild_id is None:
        app.global_commands = commands
    else:
        if guild_id not in world.guilds:
            raise WorldError(404, 10004, "Unknown Guild")
        app.guild_commands[guild_id] = commands
    world.changed()
    return json_response(commands)


async def get_commands(request: web.Request) -> web.Response:
    _check_app(request)
    app = caller(request)
    if "guild_id" in request.match_info:
        return json_response(app.guild_commands.get(parse_id(request.match_info["guild_id"]), []))
    return json_response(app.global_commands)


async def create_dm(request: web.Request) -> web.Response:
    world = world_of(request)
    body, _ = await read_json(request)
    user = world.users.get(parse_id(str(body.get("recipient_id", ""))))
    if user is None:
        raise WorldError(
            400,
            50035,
            "Invalid Form Body",
            {"recipient_id": {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": "Unknown user"}]}},
        )
    channel = world.dm_channel(caller(request).bot, user)
    return json_response(channel.to_json())


def register(router: web.UrlDispatcher) -> None:
    p = API_PREFIX
    router.add_get(f"{p}/users/@me", get_me)
    router.add_post(f"{p}/users/@me/channels", create_dm)
    router.add_get(f"{p}/users/{{user_id}}", get_user)
    router.add_get(f"{p}/oauth2/applications/@me", get_application)
    router.add_get(f"{p}/applications/@me", get_application)
    router.add_get(f"{p}/gateway", get_gateway)
    router.add_get(f"{p}/gateway/bot", get_gateway_bot)
    router.add_put(f"{p}/applications/{{application_id}}/commands", put_commands)
    router.add_get(f"{p}/applications/{{application_id}}/commands", get_commands)
    router.add_put(f"{p}/applications/{{application_id}}/guilds/{{guild_id}}/commands", put_commands)
    router.add_get(f"{p}/applications/{{application_id}}/guilds/{{guild_id}}/commands", get_commands)
