"""A local fake of the Spotify Web API (and of the YouTube Data API answers the matcher needs).

Served on the media tests' server thread, so tests on any event loop can use it. It checks what the real
API checks (Basic auth on the token endpoint, a valid Bearer token, page sizes of at most 50), pages
with `next`, and can be told to answer the next matching requests with 401, 429 or 5xx. Every request
is recorded, so tests can assert on token reuse, paging and the YouTube searches made for matching.

Paths: token `POST /api/token`; API under `/v1`; YouTube Data API under `/youtube/v3`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import BasicAuth, web

from tests.media.conftest import ServerThread

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
MAX_PAGE = 50


def sid(label: str) -> str:
    """A valid 22-character Spotify id made from a readable label."""
    cleaned = "".join(ch for ch in label if ch.isalnum())
    assert 0 < len(cleaned) <= 22
    return cleaned.ljust(22, "Z")  # labels are lower case, so "a1" and "a10" stay apart


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass
class Fault:
    prefix: str
    status: int
    headers: dict[str, str]
    times: int
    reason: str = "injected"


@dataclass(frozen=True)
class Video:
    """A YouTube search hit the fake YouTube Data API returns."""

    id: str  # 11 characters
    title: str
    channel: str
    duration: str  # ISO 8601, P0D for live
    live: bool = False


@dataclass
class FakeSpotify:
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    tracks: dict[str, dict[str, Any]] = field(default_factory=dict)
    albums: dict[str, dict[str, Any]] = field(default_factory=dict)
    playlists: dict[str, dict[str, Any]] = field(default_factory=dict)
    top_tracks: dict[str, list[str]] = field(default_factory=dict)
    videos: dict[str, list[Video]] = field(default_factory=dict)  # YouTube search text → hits
    faults: list[Fault] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    issued: int = 0
    expires_in: int = 3600

    # --------------------------------------------------------------------------------------- addresses

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def api_base_url(self) -> str:
        return self.url("/v1")

    @property
    def token_url(self) -> str:
        return self.url("/api/token")

    @property
    def youtube_base_url(self) -> str:
        return self.url("/youtube/v3")

    # ---------------------------------------------------------------------------------------- catalogue

    def add_track(
        self, label: str, name: str, artists: list[str], seconds: float | None, **extra: Any
    ) -> str:
        track_id = sid(label)
        self.tracks[track_id] = {
            "type": "track",
            "id": track_id,
            "name": name,
            "artists": [{"id": sid(a[:22]), "name": a} for a in artists],
            "duration_ms": None if seconds is None else int(seconds * 1000),
            "is_local": False,
            **extra,
        }
        return track_id

    def add_album(self, label: str, name: str, artist: str, track_ids: list[str]) -> str:
        album_id = sid(label)
        self.albums[album_id] = {"name": name, "artist": artist, "tracks": track_ids}
        return album_id

    def add_playlist(self, label: str, name: str, items: list[Any]) -> str:
        """`items` are track ids, or raw item objects (None, local files, episodes, junk) as they are."""
        playlist_id = sid(label)
        self.playlists[playlist_id] = {"name": name, "items": items}
        return playlist_id

    def fail(
        self,
        prefix: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        reason: str = "injected",
    ) -> None:
        """Answer the next `times` requests whose path starts with `prefix` with `status`.

        `reason` is the error's reason, as Google APIs give it ("quotaExceeded" for a used-up quota).
        """
        self.faults.append(Fault(prefix, status, headers or {}, times, reason))

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    def reset(self) -> None:
        self.requests.clear()
        self.faults.clear()
        self.valid_tokens.clear()
        self.issued = 0
        self.expires_in = 3600

    def seen(self, prefix: str, method: str = "GET") -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    @property
    def token_requests(self) -> list[Request]:
        return self.seen("/api/token", "POST")

    # ---------------------------------------------------------------------------------------- answers

    def _fault(self, path: str) -> web.Response | None:
        for fault in self.faults:
            if fault.times > 0 and path.startswith(fault.prefix):
                fault.times -= 1
                body = {
                    "error": {
                        "status": fault.status,
                        "message": "injected",
                        "errors": [{"reason": fault.reason}],
                    }
                }
                return web.json_response(body, status=fault.status, headers=fault.headers)
        return None

    def _page(self, request: web.Request, base: str, items: list[Any]) -> dict[str, Any] | web.Response:
        limit = int(request.query.get("limit", "20"))
        offset = int(request.query.get("offset", "0"))
        if not 1 <= limit <= MAX_PAGE:
            return web.json_response({"error": {"status": 400, "message": "Invalid limit"}}, status=400)
        chunk = items[offset : offset + limit]
        more = offset + limit < len(items)
        return {
            "href": self.url(f"{base}?offset={offset}&limit={limit}"),
            "items": chunk,
            "limit": limit,
            "offset": offset,
            "total": len(items),
            "next": self.url(f"{base}?offset={offset + limit}&limit={limit}") if more else None,
            "previous": None,
        }

    def _item(self, entry: Any) -> Any:
        if isinstance(entry, str):
            return {"added_at": "2024-01-01T00:00:00Z", "is_local": False, "item": self.tracks[entry]}
        return entry


def _app(fake: FakeSpotify) -> web.Application:
    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        fake.requests.append(
            Request(request.method, request.path, dict(request.query), dict(request.headers))
        )
        injected = fake._fault(request.path)
        if injected is not None:
            return injected
        if request.path.startswith("/youtube/"):
            return await handler(request)
        if request.path.startswith("/v1/"):
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in fake.valid_tokens:
                error = {"error": {"status": 401, "message": "The access token expired"}}
                return web.json_response(error, status=401)
        return await handler(request)

    async def token(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        try:
            auth = BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            auth = None
        if auth is None or (auth.login, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response({"error": "invalid_client"}, status=400)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        fake.issued += 1
        access = f"token-{fake.issued}"
        fake.valid_tokens.add(access)
        return web.json_response(
            {"access_token": access, "token_type": "Bearer", "expires_in": fake.expires_in}
        )

    async def track(request: web.Request) -> web.StreamResponse:
        found = fake.tracks.get(request.match_info["id"])
        if found is None:
            return web.json_response({"error": {"status": 404, "message": "Not found"}}, status=404)
        return web.json_response(found)

    async def album(request: web.Request) -> web.StreamResponse:
        album_id = request.match_info["id"]
        found = fake.albums.get(album_id)
        if found is None:
            return web.json_response({"error": {"status": 404, "message": "Not found"}}, status=404)
        simplified = [{k: v for k, v in fake.tracks[t].items() if k != "album"} for t in found["tracks"]]
        first = fake._page(_with(request, limit="50"), f"/v1/albums/{album_id}/tracks", simplified)
        return web.json_response(
            {"id": album_id, "name": found["name"], "artists": [{"name": found["artist"]}], "tracks": first}
        )

    async def album_tracks(request: web.Request) -> web.StreamResponse:
        album_id = request.match_info["id"]
        found = fake.albums[album_id]
        page = fake._page(request, f"/v1/albums/{album_id}/tracks", [fake.tracks[t] for t in found["tracks"]])
        return page if isinstance(page, web.Response) else web.json_response(page)

    async def playlist(request: web.Request) -> web.StreamResponse:
        found = fake.playlists.get(request.match_info["id"])
        if found is None:
            return web.json_response({"error": {"status": 404, "message": "Not found"}}, status=404)
        return web.json_response({"name": found["name"]})

    async def playlist_items(request: web.Request) -> web.StreamResponse:
        playlist_id = request.match_info["id"]
        found = fake.playlists[playlist_id]
        items = [fake._item(entry) for entry in found["items"]]
        page = fake._page(request, f"/v1/playlists/{playlist_id}/items", items)
        return page if isinstance(page, web.Response) else web.json_response(page)

    async def top(request: web.Request) -> web.StreamResponse:
        if not request.query.get("market"):
            return web.json_response({"error": {"status": 400, "message": "Missing market"}}, status=400)
        ids = fake.top_tracks.get(request.match_info["id"])
        if ids is None:
            return web.json_response({"error": {"status": 404, "message": "Not found"}}, status=404)
        return web.json_response({"tracks": [fake.tracks[t] for t in ids]})

    async def youtube_search(request: web.Request) -> web.StreamResponse:
        hits = fake.videos.get(request.query.get("q", ""), [])[: int(request.query.get("maxResults", "5"))]
        items = [
            {
                "id": {"kind": "youtube#video", "videoId": v.id},
                "snippet": {
                    "title": v.title,
                    "channelTitle": v.channel,
                    "liveBroadcastContent": "live" if v.live else "none",
                },
            }
            for v in hits
        ]
        return web.json_response({"items": items})

    async def youtube_videos(request: web.Request) -> web.StreamResponse:
        wanted = set(request.query.get("id", "").split(","))
        every = {v.id: v for hits in fake.videos.values() for v in hits}
        items = [{"id": i, "contentDetails": {"duration": every[i].duration}} for i in wanted if i in every]
        return web.json_response({"items": items})

    app = web.Application(middlewares=[record])
    app.router.add_post("/api/token", token)
    app.router.add_get("/v1/tracks/{id}", track)
    app.router.add_get("/v1/albums/{id}", album)
    app.router.add_get("/v1/albums/{id}/tracks", album_tracks)
    app.router.add_get("/v1/playlists/{id}", playlist)
    app.router.add_get("/v1/playlists/{id}/items", playlist_items)
    app.router.add_get("/v1/artists/{id}/top-tracks", top)
    app.router.add_get("/youtube/v3/search", youtube_search)
    app.router.add_get("/youtube/v3/videos", youtube_videos)
    return app


def _with(request: web.Request, **query: str) -> web.Request:
    return request.clone(rel_url=request.rel_url.with_query(query))


@pytest.fixture(scope="session")
def fake_spotify(server_thread: ServerThread) -> Iterator[FakeSpotify]:
    fake = FakeSpotify()
    runner = web.AppRunner(_app(fake))

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        fake.port = runner.addresses[0][1]

    server_thread.call(start())
    yield fake
    server_thread.call(runner.cleanup())
