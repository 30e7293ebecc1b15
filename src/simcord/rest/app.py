"""The REST server: authentication, fault injection, rate-limit headers and the exchange log.

discord.py quirks honoured here (`reference/discord-protocol.md` §0): JSON responses carry exactly
`Content-Type: application/json` (G3); 429s carry a `Via` header and a `retry_after` body (G4); every
`X-RateLimit-Remaining` comes with `X-RateLimit-Reset-After` (G5).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from simcord.faults import RestFaults
from simcord.interactions import InteractionDesk
from simcord.state import Json
from simcord.world import Application, World, WorldError

API_PREFIX = "/api/v10"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RestExchange:
    """One request/response pair, for assertions and the OpenAPI conformance test."""

    at: float
    method: str
    path: str  # without the /api/v10 prefix
    template: str | None  # the route template, e.g. /channels/{channel_id}/messages
    status: int
    request_body: Any
    response_body: Any
    latency: float


@dataclass
class Bucket:
    limit: int
    window: float
    used: int = 0
    reset_at: float = 0.0


@dataclass
class RestServer:
    world: World
    desk: InteractionDesk
    faults: RestFaults = field(default_factory=RestFaults)
    log: list[RestExchange] = field(default_factory=list)
    bucket_limit: int = 50
    bucket_window: float = 1.0
    buckets: dict[str, Bucket] = field(default_factory=dict)
    files: dict[int, bytes] = field(default_factory=dict)
    base_url: str = ""
    gateway_url: str = ""  # what GET /gateway answers

    def bucket_for(self, method: str, template: str, match: dict[str, str]) -> tuple[str, Bucket]:
        major = match.get("channel_id") or match.get("guild_id") or match.get("webhook_id") or ""
        key = f"{method} {template} {major}"
        bucket = self.buckets.get(key)
        now = time.monotonic()
        if bucket is None or now >= bucket.reset_at:
            bucket = Bucket(self.bucket_limit, self.bucket_window, 0, now + self.bucket_window)
            self.buckets[key] = bucket
        return key, bucket


WORLD_KEY = web.AppKey("world", World)
REST_KEY = web.AppKey("rest", RestServer)
DESK_KEY = web.AppKey("desk", InteractionDesk)
CALLER_KEY = web.RequestKey("application", Application)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps(data, separators=(",", ":"))
    # Exactly "application/json": discord.py compares the header as a plain string.
    response = web.Response(text=body, status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


def error_response(err: WorldError) -> web.Response:
    body: Json = {"message": err.message, "code": err.code}
    if err.errors is not None:
        body["errors"] = err.errors
    return json_response(body, err.status)


def no_content() -> web.Response:
    return web.Response(status=204)


def world_of(request: web.Request) -> World:
    return request.app[WORLD_KEY]


def caller(request: web.Request) -> Application:
    return request[CALLER_KEY]


async def read_json(request: web.Request) -> tuple[Json, list[tuple[str, str, bytes]]]:
    """The JSON body and any uploaded files, from a JSON or multipart (payload_json) request."""
    if request.content_type.startswith("multipart/"):
        payload: Json = {}
        files: list[tuple[str, str, bytes]] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            else:
                data = await part.read(decode=False)
                files.append(
                    (
                        part.filename or "file",
                        part.headers.get("Content-Type", "application/octet-stream"),
                        bytes(data),
                    )
                )
        return payload, files
    if not request.body_exists:
        return {}, []
    try:
        data = await request.json()
    except ValueError as exc:
        raise WorldError(400, 50109, "The request body contains invalid JSON.") from exc
    return (data if isinstance(data, dict) else {"_": data}), []


def parse_id(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise WorldError(
            400,
            50035,
            "Invalid Form Body",
            {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": f'Value "{value}" is not snowflake.'}]},
        ) from exc


NO_AUTH_PREFIXES = ("/interactions/", "/webhooks/", "/attachments/")
NO_AUTH_PATHS = frozenset({"/gateway"})  # GET /gateway is public; /gateway/bot is not


@web.middleware
async def rest_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    rest: RestServer = request.app[REST_KEY]
    path = request.path.removeprefix(API_PREFIX)
    started = time.monotonic()
    template = (
        request.match_info.route.resource.canonical.removeprefix(API_PREFIX)
        if request.match_info.route.resource
        else None
    )
    request_body: Any = None
    if request.body_exists and request.content_type == "application/json":
        with contextlib.suppress(ValueError):  # the handler answers malformed JSON with 50109
            request_body = await request.json()

    delay = rest.faults.delay_for(request.method, path)
    if delay:
        await asyncio.sleep(delay)

    response: web.StreamResponse
    fault = rest.faults.take(request.method, path)
    unrouted = request.match_info.http_exception
    if fault is not None:
        response = fault_response(fault.status, fault.retry_after, fault.is_global)
    elif unrouted is not None:
        # An unknown route (404) or method (405) gets Discord's JSON error, not aiohttp's text page.
        response = json_response(
            {"message": f"{unrouted.status}: {unrouted.reason}", "code": 0}, unrouted.status
        )
    elif not (path.startswith(NO_AUTH_PREFIXES) or path in NO_AUTH_PATHS) and not authenticate(request):
        response = json_response({"message": "401: Unauthorized", "code": 0}, 401)
    else:
        response = await _limited(rest, request, handler, template, path)

    body: Any = None
    if (
        isinstance(response, web.Response)
        and response.body is not None
        and response.content_type == "application/json"
    ):
        body = json.loads(response.text or "null")
    rest.log.append(
        RestExchange(
            time.time(),
            request.method,
            path,
            template,
            response.status,
            request_body,
            body,
            time.monotonic() - started,
        )
    )
    rest.world.changed()
    return response


async def _limited(
    rest: RestServer, request: web.Request, handler: Handler, template: str | None, path: str
) -> web.StreamResponse:
    key, bucket = rest.bucket_for(request.method, template or path, dict(request.match_info))
    now = time.monotonic()
    if bucket.used >= bucket.limit:
        response: web.StreamResponse = fault_response(429, bucket.reset_at - now, False)
    else:
        bucket.used += 1
        try:
            response = await handler(request)
        except WorldError as err:
            response = error_response(err)
    if not path.startswith("/interactions/"):
        response.headers.update(
            {
                "X-RateLimit-Limit": str(bucket.limit),
                "X-RateLimit-Remaining": str(max(bucket.limit - bucket.used, 0)),
                "X-RateLimit-Reset": f"{time.time() + bucket.reset_at - now:.3f}",
                "X-RateLimit-Reset-After": f"{max(bucket.reset_at - now, 0):.3f}",
                "X-RateLimit-Bucket": f"{abs(hash(key.rsplit(' ', 1)[0])):x}",
            }
        )
    return response


def fault_response(status: int, retry_after: float, is_global: bool) -> web.Response:
    if status == 429:
        headers = {
            "Via": "1.1 google",
            "Retry-After": f"{max(retry_after, 0):.3f}",
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        return json_response(
            {
                "message": "You are being rate limited.",
                "retry_after": max(retry_after, 0.0),
                "global": is_global,
                "code": 0,
            },
            429,
            headers,
        )
    return json_response({"message": f"{status}: Server Error", "code": 0}, status)


def authenticate(request: web.Request) -> bool:
    world = world_of(request)
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bot "):
        return False
    bot_id = world.bot_for_token(header)
    if bot_id is None:
        return False
    app = world.application_of_bot(bot_id)
    if app is None:
        return False
    request[CALLER_KEY] = app
    return True


def build_app(rest: RestServer) -> web.Application:
    from simcord.rest import application, guilds, interactions, messages

    app = web.Application(middlewares=[rest_middleware], client_max_size=25 * 1024 * 1024)
    app[WORLD_KEY] = rest.world
    app[REST_KEY] = rest
    app[DESK_KEY] = rest.desk
    for module in (application, guilds, messages, interactions):
        module.register(app.router)
    return app
