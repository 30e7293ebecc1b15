"""What the REST route modules share with the app builder: the server's state, the request keys, and
the helpers every handler uses to read requests and answer them. Route modules import this, never the
app builder.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from simcord.faults import RestFaults
from simcord.interactions import InteractionDesk
from simcord.state import Json
from simcord.world import Application, World, WorldError

API_PREFIX = "/api/v10"


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
