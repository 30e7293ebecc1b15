"""A small Spotify Web API client: tracks, albums, playlists and artists' top tracks.

- Client-credentials token, cached until a minute before it expires; one fetch serves concurrent calls.
- 401 (token revoked or expired early): a new token, and the call is tried once more.
- 429: waits `Retry-After` when that is short (at most `max_retry_wait`), at most twice, else reports it.
- 5xx and everything else: a clear `MediaError`; 404 is "not found".
- Albums and playlists are paged up to `max_tracks`; more is reported as truncated. Unplayable items
  (null, local files, podcast episodes, no id or name) are skipped and counted.

Requests go only to the operator's configured API and token URLs, never to a URL from user text or from
an API answer: pages are requested by offset, `next` only says whether there is more.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from pytunes.music.media.errors import (
    ExtractionError,
    NoResultsError,
    RateLimitedError,
    ResolveTimeoutError,
    UnreachableError,
)
from pytunes.music.media.results import api_object
from pytunes.music.media.spotify_links import SpotifyKind, SpotifyLink

log = logging.getLogger(__name__)

TOKEN_MARGIN = 60.0  # seconds before expiry at which a cached token is no longer used
PAGE_SIZE = 50  # the most the album and playlist item endpoints return per page
MAX_RATE_LIMIT_RETRIES = 2
MAX_REPORTED_WAIT = 86400.0  # a longer Retry-After is named "later", not "in 1666666 minutes"
# Artists' top tracks depend on a market, and a client-credentials token has no user country.
TOP_TRACKS_MARKET = "US"


@dataclass(frozen=True, slots=True)
class SpotifyTrack:
    id: str
    title: str
    artists: tuple[str, ...]
    duration: float | None  # seconds

    @property
    def artist_text(self) -> str:
        return ", ".join(self.artists)


@dataclass(frozen=True, slots=True)
class SpotifyCollection:
    """An album, a playlist or an artist's top tracks, read up to the track limit."""

    kind: SpotifyKind
    name: str
    tracks: tuple[SpotifyTrack, ...]
    truncated: bool = False
    skipped: int = 0  # unplayable items left out


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SpotifyClient:
    def __init__(
        self,
        http: Callable[[], aiohttp.ClientSession],
        *,
        client_id: str,
        client_secret: str,
        api_base_url: str,
        token_url: str,
        max_tracks: int,
        timeout: float,
        max_retry_wait: float = 5.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._http = http
        self._basic_auth = aiohttp.encode_basic_auth(client_id, client_secret)
        self._base_url = api_base_url.rstrip("/")
        self._token_url = token_url
        self.max_tracks = max(1, max_tracks)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retry_wait = max_retry_wait
        self._clock = clock
        self._sleep = sleep
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    # ------------------------------------------------------------------------------------------ items

    async def track(self, track_id: str) -> SpotifyTrack:
        track = parse_track(await self._get(f"/tracks/{track_id}"))
        if track is None:
            raise NoResultsError("That Spotify track isn't available.")
        return track

    async def collection(self, link: SpotifyLink) -> SpotifyCollection:
        if link.kind is SpotifyKind.ALBUM:
            return await self._album(link.id)
        if link.kind is SpotifyKind.PLAYLIST:
            return await self._playlist(link.id)
        if link.kind is SpotifyKind.ARTIST:
            return await self._top_tracks(link.id)
        raise ValueError(f"not a collection: {link.kind}")

    async def _album(self, album_id: str) -> SpotifyCollection:
        album = await self._get(f"/albums/{album_id}")
        artists = _artist_names(album.get("artists"))
        name = str(album.get("name") or "Album")
        if artists:
            name = f"{name} — {', '.join(artists)}"
        # Album pages hold simplified tracks; the first page is inside the album object.
        tracks, truncated, skipped = await self._pages(f"/albums/{album_id}/tracks", album.get("tracks"))
        return SpotifyCollection(SpotifyKind.ALBUM, name, tracks, truncated, skipped)

    async def _playlist(self, playlist_id: str) -> SpotifyCollection:
        playlist = await self._get(f"/playlists/{playlist_id}", {"fields": "name"})
        name = str(playlist.get("name") or "Spotify playlist")
        tracks, truncated, skipped = await self._pages(f"/playlists/{playlist_id}/items", None)
        return SpotifyCollection(SpotifyKind.PLAYLIST, name, tracks, truncated, skipped)

    async def _top_tracks(self, artist_id: str) -> SpotifyCollection:
        data = await self._get(f"/artists/{artist_id}/top-tracks", {"market": TOP_TRACKS_MARKET})
        raw = _list(data.get("tracks"))
        tracks = [track for track in map(parse_track, raw) if track is not None]
        # The artist's name comes with its tracks; that saves a request for the artist object.
        name = next(
            (
                str(artist.get("name"))
                for item in raw
                if isinstance(item, dict)
                for artist in item.get("artists") or []
                if isinstance(artist, dict) and artist.get("id") == artist_id and artist.get("name")
            ),
            "this artist",
        )
        kept = tracks[: self.max_tracks]
        return SpotifyCollection(
            SpotifyKind.ARTIST,
            f"Top tracks of {name}",
            tuple(kept),
            truncated=len(tracks) > len(kept),
            skipped=len(raw) - len(tracks),
        )

    async def _pages(self, path: str, first: object) -> tuple[tuple[SpotifyTrack, ...], bool, int]:
        """Every item of a paged list, by offset, up to `max_tracks`. `first` is an already read page."""
        tracks: list[SpotifyTrack] = []
        skipped = 0
        offset = 0
        page = first if isinstance(first, dict) else None
        while True:
            if page is None:
                limit = min(PAGE_SIZE, self.max_tracks - len(tracks))
                page = await self._get(path, {"limit": str(limit), "offset": str(offset)})
            items = _list(page.get("items"))
            for item in items:
                track = parse_track(_unwrap(item))
                if track is None:
                    skipped += 1
                elif len(tracks) < self.max_tracks:
                    tracks.append(track)
                else:
                    return tuple(tracks), True, skipped
            offset += len(items)
            more = bool(page.get("next")) and bool(items)
            if not more:
                return tuple(tracks), False, skipped
            if len(tracks) >= self.max_tracks:
                return tuple(tracks), True, skipped
            page = None

    # -------------------------------------------------------------------------------------------- HTTP

    async def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        renewed = False
        rate_limited = 0
        while True:
            token = await self._access_token()
            status, body, retry_after = await self._send(
                "GET", f"{self._base_url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}
            )
            if status == 401 and not renewed:
                renewed = True
                self._forget(token)
                continue
            if status == 429:
                rate_limited += 1
                wait = retry_after if retry_after is not None else 1.0
                if rate_limited > MAX_RATE_LIMIT_RETRIES or wait > self._max_retry_wait:
                    raise RateLimitedError(
                        f"Spotify is rate-limiting the bot; try again {_later(wait)}.",
                        detail=f"Retry-After {retry_after}",
                    )
                await self._sleep(wait)
                continue
            return _answer(status, body)

    async def _access_token(self) -> str:
        async with self._token_lock:
            if self._token is not None and self._clock() < self._token_expires:
                return self._token
            status, body, _ = await self._send(
                "POST",
                self._token_url,
                data={"grant_type": "client_credentials"},
                headers={"Authorization": self._basic_auth},
            )
            if status in (400, 401, 403):
                raise ExtractionError(
                    "Spotify refused the bot's credentials; the bot's owner should check "
                    "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET.",
                    detail=f"token HTTP {status}: {body[:200]}",
                )
            data = _answer(status, body)
            token, expires_in = data.get("access_token"), data.get("expires_in")
            if not isinstance(token, str) or not token:
                raise ExtractionError("Spotify answered the sign-in with something unreadable.")
            lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
            self._token = token
            self._token_expires = self._clock() + lifetime - min(TOKEN_MARGIN, lifetime / 2)
            return token

    def _forget(self, token: str) -> None:
        # Only the token that was refused: a concurrent call may already have fetched a new one.
        if self._token == token:
            self._token = None

    async def _send(self, method: str, url: str, **kwargs: Any) -> tuple[int, str, float | None]:
        try:
            async with self._http().request(method, url, timeout=self._timeout, **kwargs) as response:
                body = await response.text()
                return response.status, body, _retry_after(response.headers.get("Retry-After"))
        except TimeoutError:
            raise ResolveTimeoutError("Spotify took too long to answer.") from None
        except aiohttp.ClientError as exc:
            raise UnreachableError("Couldn't reach Spotify.", detail=type(exc).__name__) from None


# ------------------------------------------------------------------------------------------ parsing


def parse_track(item: object) -> SpotifyTrack | None:
    """A playable track from an API track object; None for null, local, episode or malformed items."""
    if not isinstance(item, dict) or item.get("is_local") or item.get("type", "track") != "track":
        return None
    track_id, title = item.get("id"), item.get("name")
    if not isinstance(track_id, str) or not track_id or not isinstance(title, str) or not title.strip():
        return None
    duration_ms = item.get("duration_ms")
    duration = (
        duration_ms / 1000
        if isinstance(duration_ms, int | float) and not isinstance(duration_ms, bool) and duration_ms > 0
        else None
    )
    return SpotifyTrack(track_id, title.strip(), _artist_names(item.get("artists")), duration)


def _unwrap(item: object) -> object:
    """A playlist entry holds its track under `item` (current API) or `track` (before 2026)."""
    if isinstance(item, dict) and ("item" in item or "track" in item):
        return item.get("item") if "item" in item else item.get("track")
    return item


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _artist_names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        str(artist["name"]).strip()
        for artist in value
        if isinstance(artist, dict) and isinstance(artist.get("name"), str) and artist["name"].strip()
    )


def _answer(status: int, body: str) -> dict[str, Any]:
    if status in (400, 404):
        # Spotify answers a well-formed but unknown id with 400 "invalid id" or 404.
        raise NoResultsError("Spotify doesn't know that item, or it isn't available.")
    if status == 403:
        raise ExtractionError(
            "Spotify won't give the bot that item (apps in Spotify's development mode can't read "
            "some playlists and artists' top tracks).",
            detail=body[:300],
        )
    if status >= 500:
        raise ExtractionError(
            f"Spotify is having trouble right now (HTTP {status}). Try again later.", detail=body[:300]
        )
    if status != 200:
        raise ExtractionError(f"Spotify answered with an error (HTTP {status}).", detail=body[:300])
    return api_object(body, unreadable="Spotify answered with something unreadable.")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait; None when absent or unreadable (an HTTP date, say), inf for nonsense.

    "inf", "1e400", "nan" or a negative number is no wait the bot can honour: inf makes it the "too long"
    case, reported instead of slept on.
    """
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else math.inf


def _later(value: float) -> str:
    if not math.isfinite(value) or value > MAX_REPORTED_WAIT:
        return "later"
    whole = max(1, round(value))
    if whole >= 120:
        return f"in {whole // 60} minutes"
    return f"in {whole} second{'s' if whole > 1 else ''}"
