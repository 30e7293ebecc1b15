"""YouTube Data API v3 text search, used only when the operator configured a key.

A search costs `search.list` (100 quota units) plus one `videos.list` (1 unit) for the durations, so
length and livestream gates can apply to search hits before they are queued. The base URL is
configurable so tests can serve a fake API locally.
"""

from __future__ import annotations

import html
import re
from typing import Any

import aiohttp

from pytunes.music.media.errors import (
    ExtractionError,
    MediaError,
    QuotaExceededError,
    ResolveTimeoutError,
    UnreachableError,
)
from pytunes.music.media.results import MediaEntry, SourceKind, api_object, positive_duration
from pytunes.music.media.youtube import VIDEO_ID, watch_url

_ISO_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")
_QUOTA_MARKERS = ("quotaExceeded", "youtube.quota", "dailyLimitExceeded")


def parse_iso_duration(value: str) -> float | None:
    """Seconds from an ISO 8601 duration such as PT4M13S; None for P0D (livestreams) or junk."""
    match = _ISO_DURATION.fullmatch(value or "")
    if match is None:
        return None
    days, hours, minutes, seconds = (float(group) if group else 0.0 for group in match.groups())
    return positive_duration(days * 86400 + hours * 3600 + minutes * 60 + seconds)


class YouTubeDataApi:
    def __init__(self, session: aiohttp.ClientSession, key: str, base_url: str, *, timeout: float) -> None:
        self._session = session
        self._key = key
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def search(self, text: str, limit: int) -> list[MediaEntry]:
        data = await self._get(
            "search", {"part": "snippet", "type": "video", "maxResults": str(limit), "q": text}
        )
        hits: list[tuple[str, str, str, bool]] = []
        for item in data.get("items") or []:
            video_id = (item.get("id") or {}).get("videoId")
            snippet = item.get("snippet") or {}
            title, channel = snippet.get("title"), snippet.get("channelTitle")
            if not (isinstance(video_id, str) and VIDEO_ID.fullmatch(video_id)) or not title or not channel:
                continue
            live = snippet.get("liveBroadcastContent") in ("live", "upcoming")
            hits.append((video_id, html.unescape(title), html.unescape(channel), live))
        durations = await self._durations([hit[0] for hit in hits]) if hits else {}
        return [
            MediaEntry(
                source_kind=SourceKind.YOUTUBE,
                id=video_id,
                title=title,
                url=watch_url(video_id),
                channel=channel,
                duration=durations.get(video_id),
                is_live=live,
            )
            for video_id, title, channel, live in hits
        ]

    async def _durations(self, ids: list[str]) -> dict[str, float | None]:
        # Durations are a bonus (without them the tracks are probed before they play), so no failure
        # here throws away search results already paid for.
        try:
            data = await self._get("videos", {"part": "contentDetails", "id": ",".join(ids)})
        except MediaError:
            return {}
        return {
            item["id"]: parse_iso_duration((item.get("contentDetails") or {}).get("duration", ""))
            for item in data.get("items") or []
            if isinstance(item.get("id"), str)
        }

    async def _get(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        # Errors never include the request URL: it carries the API key.
        try:
            async with self._session.get(
                f"{self._base_url}/{endpoint}", params={**params, "key": self._key}, timeout=self._timeout
            ) as response:
                status, body = response.status, await response.text()
        except TimeoutError:
            raise ResolveTimeoutError("YouTube search took too long.") from None
        except aiohttp.ClientError as exc:
            raise UnreachableError("Couldn't reach YouTube search.", detail=type(exc).__name__) from None
        if status != 200:
            if any(marker in body for marker in _QUOTA_MARKERS):
                raise QuotaExceededError(
                    "The YouTube API quota is used up for today. Try again later, or ask the bot's owner "
                    "for a new key."
                )
            raise ExtractionError("YouTube search failed.", detail=f"HTTP {status}: {body[:300]}")
        return api_object(body, unreadable="YouTube search answered with something unreadable.")
