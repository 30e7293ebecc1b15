"""Interaction callbacks and the webhook routes (followups, `@original`) that use an interaction token."""

from __future__ import annotations

from aiohttp import web

from simcord.interactions import InteractionRecord
from simcord.limits import validate_message
from simcord.rest.common import API_PREFIX, DESK_KEY, json_response, no_content, parse_id, read_json, world_of
from simcord.rest.messages import store_files
from simcord.state import Json
from simcord.world import WorldError


async def callback(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    body, files = await read_json(request)
    data = body.get("data") or {}
    if int(body.get("type", 0)) in (4, 7):
        validate_message(data, creating=int(body.get("type", 0)) == 4, has_files=bool(files))
    if files:
        data["attachments"] = store_files(request, files, data.get("attachments") or [])
        body["data"] = data
    record, message = desk.callback(
        parse_id(request.match_info["interaction_id"]), request.match_info["interaction_token"], body
    )
    with_response = request.query.get("with_response", "").lower() in ("1", "true")
    if not with_response:
        return no_content()
    interaction: Json = {"id": str(record.id), "type": record.type, "channel_id": str(record.channel.id)}
    if record.guild is not None:
        interaction["guild_id"] = str(record.guild.id)
    if message is not None:
        interaction.update(
            response_message_id=str(message.id),
            response_message_loading=message.loading,
            response_message_ephemeral=message.ephemeral,
        )
    answer: Json = {"interaction": interaction}
    # Only callbacks that produce a message (4 new, 7 updated) have a resource to show; a defer (5, 6)
    # or a modal (9) answers with the interaction alone.
    if message is not None and record.ack_type in (4, 7):
        viewer = record.application.bot.id
        answer["resource"] = {"type": record.ack_type, "message": message.to_json(viewer_id=viewer)}
    return json_response(answer)


def _record(request: web.Request) -> InteractionRecord:
    desk = request.app[DESK_KEY]
    return desk.for_webhook(parse_id(request.match_info["webhook_id"]), request.match_info["webhook_token"])


async def followup(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    record = _record(request)
    body, files = await read_json(request)
    validate_message(body, creating=True, has_files=bool(files))
    if files:
        body["attachments"] = store_files(request, files, body.get("attachments") or [])
    message = desk.followup(record, body)
    return json_response(message.to_json(viewer_id=record.application.bot.id))


async def get_webhook_message(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    record = _record(request)
    message = desk.target(record, request.match_info.get("message_id", "@original"))
    return json_response(message.to_json(viewer_id=record.application.bot.id))


async def edit_webhook_message(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    record = _record(request)
    message = desk.target(record, request.match_info.get("message_id", "@original"))
    body, files = await read_json(request)
    validate_message(body, creating=False)
    if files:
        body["attachments"] = [
            *message.attachments,
            *store_files(request, files, body.get("attachments") or []),
        ]
    world_of(request).edit_message(message, body, body.get("allowed_mentions"))
    return json_response(message.to_json(viewer_id=record.application.bot.id))


async def delete_webhook_message(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    message = desk.target(_record(request), request.match_info.get("message_id", "@original"))
    if message.deleted:
        raise WorldError(404, 10008, "Unknown Message")
    world_of(request).delete_message(message)
    return no_content()


def register(router: web.UrlDispatcher) -> None:
    p = API_PREFIX
    router.add_post(f"{p}/interactions/{{interaction_id}}/{{interaction_token}}/callback", callback)
    w = f"{p}/webhooks/{{webhook_id}}/{{webhook_token}}"
    router.add_post(w, followup)
    for suffix in ("/messages/@original", "/messages/{message_id}"):
        router.add_get(w + suffix, get_webhook_message)
        router.add_patch(w + suffix, edit_webhook_message)
        router.add_delete(w + suffix, delete_webhook_message)
