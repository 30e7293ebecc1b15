"""The REST server: authentication, fault injection, rate-limit headers and the exchange log. The
route modules (application, guilds, messages, interactions) share their helpers through `common`.

discord.py quirks honoured by the REST server (docs/discord-notes.md, 'discord.py quirks the code works
around'): JSON responses carry exactly `Content-Type: application/json` (in `common.json_response`); 429s
carry a `Via` header and a `retry_after` body; every `X-RateLimit-Remaining` comes with
`X-RateLimit-Reset-After`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simcord.rest import application, guilds, interactions, messages
from simcord.rest.common import (
    API_PREFIX,
    CALLER_KEY,
    DESK_KEY,
    REST_KEY,
    WORLD_KEY,
    RestExchange,
    RestServer,
    json_response,
    world_of,
)
from simcord.state import Json
from simcord.world import WorldError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

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


def error_response(err: WorldError) -> web.Response:
    body: Json = {"message": err.message, "code": err.code}
    if err.errors is not None:
        body["errors"] = err.errors
    return json_response(body, err.status)


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
    app = web.Application(middlewares=[rest_middleware], client_max_size=25 * 1024 * 1024)
    app[WORLD_KEY] = rest.world
    app[REST_KEY] = rest
    app[DESK_KEY] = rest.desk
    for module in (application, guilds, messages, interactions):
        module.register(app.router)
    return app
