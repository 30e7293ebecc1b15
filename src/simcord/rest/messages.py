"""Messages, reactions, typing, and the attachment files simcord serves back."""

from __future__ import annotations

import time
import urllib.parse

from aiohttp import web

from simcord.limits import validate_message
from simcord.rest.common import (
    API_PREFIX,
    REST_KEY,
    caller,
    json_response,
    no_content,
    parse_id,
    read_json,
    world_of,
)
from simcord.state import Channel, Json, Message, Permissions
from simcord.world import World, WorldError


def channel_for(world: World, request: web.Request) -> Channel:
    channel = world.channels.get(parse_id(request.match_info["channel_id"]))
    if channel is None:
        raise WorldError(404, 10003, "Unknown Channel")
    bot = caller(request).bot
    guild = world.guild_of_channel(channel)
    if guild is not None and bot.id not in guild.members:
        raise WorldError(403, 50001, "Missing Access")
    # DM channels list only the other user as recipient; the bot is implicitly part of them.
    return channel


def message_in(world: World, channel: Channel, request: web.Request) -> Message:
    message = world.messages.get(parse_id(request.match_info["message_id"]))
    if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
        raise WorldError(404, 10008, "Unknown Message")
    return message


def require(world: World, channel: Channel, user_id: int, permission: int) -> None:
    guild = world.guild_of_channel(channel)
    if guild is not None and not guild.permissions_of(user_id) & permission:
        raise WorldError(403, 50013, "Missing Permissions")


def store_files(
    request: web.Request, files: list[tuple[str, str, bytes]], attachments: list[Json]
) -> list[Json]:
    """Keep uploaded bytes and describe them as Discord attachment objects served by simcord."""
    rest = request.app[REST_KEY]
    world = world_of(request)
    out = []
    for index, (filename, content_type, data) in enumerate(files):
        attachment_id = world.snowflakes.next()
        rest.files[attachment_id] = data
        meta = next((a for a in attachments if str(a.get("id")) == str(index)), {})
        url = f"{rest.base_url}/attachments/{attachment_id}/{urllib.parse.quote(filename)}"
        item: Json = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }
        if meta.get("description"):
            item["description"] = meta["description"]
        out.append(item)
    return out


async def create_message(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_for(world, request)
    bot = caller(request).bot
    require(world, channel, bot.id, Permissions.SEND_MESSAGES)
    body, files = await read_json(request)
    validate_message(body, creating=True, has_files=bool(files))
    message = world.post_message(
        channel,
        bot,
        content=body.get("content") or "",
        embeds=body.get("embeds"),
        components=body.get("components"),
        attachments=store_files(request, files, body.get("attachments") or []),
        flags=int(body.get("flags") or 0) & ((1 << 2) | (1 << 12)),
        reference=body.get("message_reference"),
        allowed_mentions=body.get("allowed_mentions"),
        nonce=body.get("nonce"),
    )
    return json_response(message.to_json(viewer_id=bot.id))


async def get_message(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_for(world, request)
    viewer = caller(request).bot.id
    return json_response(message_in(world, channel, request).to_json(viewer_id=viewer))


async def list_messages(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_for(world, request)
    limit = min(max(int(request.query.get("limit", "50")), 1), 100)
    visible = [m for m in world.channel_messages.get(channel.id, []) if not m.deleted and not m.ephemeral]
    before = request.query.get("before")
    if before:
        visible = [m for m in visible if m.id < int(before)]
    after = request.query.get("after")
    if after:
        visible = [m for m in visible if m.id > int(after)]
    newest_first = sorted(visible, key=lambda m: m.id, reverse=True)[:limit]
    viewer = caller(request).bot.id
    return json_response([m.to_json(viewer_id=viewer) for m in newest_first])


async def edit_message(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_for(world, request)
    message = message_in(world, channel, request)
    if message.author.id != caller(request).bot.id:
        raise WorldError(403, 50005, "Cannot edit a message authored by another user")
    body, files = await read_json(request)
    validate_message(body, creating=False)
    if files:
        body["attachments"] = [
            *message.attachments,
            *store_files(request, files, body.get("attachments") or []),
        ]
    world.edit_message(message, body, body.get("allowed_mentions"))
    return json_response(message.to_json(viewer_id=caller(request).bot.id))


async def delete_message(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_for(world, request)
    message = message_in(world, channel, request)
    bot = caller(request).bot
    if message.author.id != bot.id:
        require(world, channel, bot.id, Permissions.MANAGE_MESSAGES)
    world.delete_message(message)
    return no_content()


def _emoji(request: web.Request) -> str:
    emoji = urllib.parse.unquote(request.match_info["emoji_name"])
    if not emoji or len(emoji) > 64:
        raise WorldError(400, 10014, "Unknown Emoji")
    return emoji


async def add_reaction(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_for(world, request)
    message = message_in(world, channel, request)
    bot = caller(request).bot
    require(world, channel, bot.id, Permissions.ADD_REACTIONS)
    emoji = _emoji(request)
    if len(message.reactions) >= 20 and emoji not in message.reactions:
        raise WorldError(400, 30010, "Maximum number of reactions reached (20)")
    world.react(message, bot, emoji)
    return no_content()


async def remove_reaction(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_for(world, request)
    message = message_in(world, channel, request)
    world.react(message, caller(request).bot, _emoji(request), add=False)
    return no_content()


async def trigger_typing(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = channel_for(world, request)
    world.typing.append((time.time(), channel.id, caller(request).bot.id))
    world.changed()
    return no_content()


async def get_attachment(request: web.Request) -> web.StreamResponse:
    rest = request.app[REST_KEY]
    data = rest.files.get(parse_id(request.match_info["attachment_id"]))
    if data is None:
        raise WorldError(404, 0, "Not Found")
    return web.Response(body=data, content_type="application/octet-stream")


def register(router: web.UrlDispatcher) -> None:
    p = f"{API_PREFIX}/channels/{{channel_id}}"
    router.add_post(f"{p}/messages", create_message)
    router.add_get(f"{p}/messages", list_messages)
    router.add_get(f"{p}/messages/{{message_id}}", get_message)
    router.add_patch(f"{p}/messages/{{message_id}}", edit_message)
    router.add_delete(f"{p}/messages/{{message_id}}", delete_message)
    router.add_put(f"{p}/messages/{{message_id}}/reactions/{{emoji_name}}/@me", add_reaction)
    router.add_delete(f"{p}/messages/{{message_id}}/reactions/{{emoji_name}}/@me", remove_reaction)
    router.add_post(f"{p}/typing", trigger_typing)
    router.add_get("/attachments/{attachment_id}/{filename}", get_attachment)
