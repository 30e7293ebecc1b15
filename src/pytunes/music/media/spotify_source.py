"""Spotify as a source for the resolver: what a link queues, and which YouTube video plays a track.

Queuing costs Spotify API calls only: a 500-track playlist becomes 500 Spotify tracks without a single
YouTube search. The search happens when a track is about to play (`youtube_id`), and its result is kept
per Spotify track id, in memory and (with a `MatchStore`) in the database, so replays, repeats and
restarts don't search again. Track metadata read at queue time is kept in memory; after a restart an
unmatched track's metadata is read again from the API (one request). A kept match whose video has since
gone private or been deleted is dropped (`forget`) and the track matched again without that video.

A search through the YouTube Data API costs about 101 of its 10,000 daily units, so a long playlist can
use the quota up. Then matching carries on with the `fallback` search (yt-dlp, no quota) instead of
failing every remaining track, and leaves the API alone for a while.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import aiohttp

from pytunes.music.media.config import MediaConfig
from pytunes.music.media.errors import NoResultsError, NotConfiguredError, QuotaExceededError
from pytunes.music.media.matching import Candidate, Wanted, best_match, search_text
from pytunes.music.media.results import MediaEntry, SourceKind
from pytunes.music.media.spotify import Clock, Sleep, SpotifyClient, SpotifyTrack
from pytunes.music.media.spotify_links import SpotifyKind, SpotifyLink, track_url

log = logging.getLogger(__name__)

MATCH_CANDIDATES = 8  # one search.list call either way; more candidates, better odds
CACHE_SIZE = 5000
# After the Data API says its quota is used up, matching searches with the fallback for this long. The
# quota comes back once a day; one refused request an hour finds out when without costing anything.
QUOTA_PAUSE = 3600.0

NOT_CONFIGURED = (
    "Spotify links aren't set up on this bot: its owner needs to set SPOTIFY_CLIENT_ID and "
    "SPOTIFY_CLIENT_SECRET (from an app at developer.spotify.com)."
)

Search = Callable[[str, int], Awaitable[list[MediaEntry]]]
K = TypeVar("K")
V = TypeVar("V")


class MatchStore(Protocol):
    """Where matches outlive the process (the database); see `pytunes.music.spotify_matches`."""

    async def get(self, track_id: str) -> str | None: ...
    async def put(self, track_id: str, video_id: str) -> None: ...
    async def forget(self, track_id: str, video_id: str) -> None: ...


class Lru(Generic[K, V]):
    """A small bounded mapping: the oldest entry goes when it is full (long-running bots, big playlists)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def discard(self, key: K, value: V) -> None:
        """Remove the entry only while it still holds `value` (a newer one was put by someone else)."""
        if self._items.get(key) == value:
            del self._items[key]


@dataclass(frozen=True, slots=True)
class SpotifyResolution:
    entries: tuple[MediaEntry, ...]
    title: str | None = None  # the collection's name; None for a single track
    truncated: bool = False
    skipped: int = 0


def entry_for(track: SpotifyTrack) -> MediaEntry:
    return MediaEntry(
        source_kind=SourceKind.SPOTIFY,
        id=track.id,
        title=track.title,
        url=track_url(track.id),
        channel=track.artist_text or None,
        duration=track.duration,
        is_live=False,
    )


class SpotifySource:
    def __init__(
        self,
        config: MediaConfig,
        http: Callable[[], aiohttp.ClientSession],
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        store: MatchStore | None = None,
    ) -> None:
        self.store = store
        self._clock = clock
        self._quota_out_until: float | None = None
        self._client: SpotifyClient | None = None
        if config.spotify_client_id and config.spotify_client_secret:
            self._client = SpotifyClient(
                http,
                client_id=config.spotify_client_id,
                client_secret=config.spotify_client_secret,
                api_base_url=config.spotify_api_base_url,
                token_url=config.spotify_token_url,
                max_tracks=config.spotify_max_tracks,
                timeout=config.http_timeout,
                max_retry_wait=config.spotify_max_retry_wait,
                clock=clock,
                sleep=sleep,
            )
        self._tracks: Lru[str, SpotifyTrack] = Lru(CACHE_SIZE)
        self._matches: Lru[str, str] = Lru(CACHE_SIZE)
        # Videos that turned out unplayable for a track: re-matching must not pick one of them again.
        self._unavailable: Lru[str, frozenset[str]] = Lru(CACHE_SIZE)

    @property
    def client(self) -> SpotifyClient:
        self.require_configured()
        assert self._client is not None
        return self._client

    def require_configured(self) -> None:
        """Raises `NotConfiguredError` (naming the missing settings) when there are no credentials."""
        if self._client is None:
            raise NotConfiguredError(NOT_CONFIGURED)

    async def resolve(self, link: SpotifyLink) -> SpotifyResolution:
        client = self.client
        if link.kind is SpotifyKind.TRACK:
            track = await client.track(link.id)
            self._tracks.put(track.id, track)
            return SpotifyResolution((entry_for(track),))
        collection = await client.collection(link)
        if not collection.tracks:
            raise NoResultsError(f"“{collection.name}” has no playable tracks on Spotify.")
        for track in collection.tracks:
            self._tracks.put(track.id, track)
        return SpotifyResolution(
            tuple(entry_for(track) for track in collection.tracks),
            title=collection.name,
            truncated=collection.truncated,
            skipped=collection.skipped,
        )

    def matched(self, track_id: str) -> str | None:
        """The YouTube video id chosen for a Spotify track, if it was matched already."""
        return self._matches.get(track_id)

    async def youtube_id(
        self, track_id: str, search: Search, *, max_search_length: int, fallback: Search | None = None
    ) -> str:
        """The YouTube video that plays this Spotify track: searched by artist and title, then judged.

        `fallback` searches without the Data API's quota; it is used while the quota is used up.
        """
        unavailable = self._unavailable.get(track_id) or frozenset()
        cached = self._matches.get(track_id) or await self._stored(track_id)
        # The database may still hold a dead match when forgetting it there failed.
        if cached is not None and cached not in unavailable:
            self._matches.put(track_id, cached)
            return cached
        track = self._tracks.get(track_id)
        if track is None:
            track = await self.client.track(track_id)
            self._tracks.put(track_id, track)
        wanted = Wanted(track.title, track.artists, track.duration)
        not_found = NoResultsError(
            f"Couldn't find “{track.title}” by {track.artist_text or 'an unknown artist'} on YouTube."
        )
        try:
            found = await self._search(search_text(wanted)[:max_search_length], search, fallback)
        except NoResultsError:
            raise not_found from None
        found = [entry for entry in found if entry.id not in unavailable]
        index = best_match(
            wanted, [Candidate(e.title, e.channel, e.duration, bool(e.is_live)) for e in found]
        )
        if index is None:
            raise not_found
        chosen = found[index]
        log.info(
            "spotify track %s matched to YouTube %s (%d candidates, pick #%d)",
            track_id,
            chosen.id,
            len(found),
            index + 1,
        )
        self._matches.put(track_id, chosen.id)
        await self._keep(track_id, chosen.id)
        return chosen.id

    async def forget(self, track_id: str, video_id: str) -> None:
        """`video_id` can't be played (private, deleted): drop it as this track's match, here and in the
        database, so the next `youtube_id` searches again and picks another video."""
        log.info("spotify track %s: its YouTube match %s is unavailable; matching again", track_id, video_id)
        self._unavailable.put(track_id, (self._unavailable.get(track_id) or frozenset()) | {video_id})
        self._matches.discard(track_id, video_id)
        if self.store is None:
            return
        try:
            await self.store.forget(track_id, video_id)
        except Exception:  # `_unavailable` still keeps this process off the dead video
            log.warning("couldn't forget the match of spotify track %s", track_id, exc_info=True)

    async def _search(self, text: str, search: Search, fallback: Search | None) -> list[MediaEntry]:
        if fallback is not None and self._quota_out_until is not None:
            if self._clock() < self._quota_out_until:
                return await fallback(text, MATCH_CANDIDATES)
            self._quota_out_until = None
        try:
            return await search(text, MATCH_CANDIDATES)
        except QuotaExceededError:
            if fallback is None:
                raise
            log.warning("YouTube API quota used up; matching Spotify tracks through yt-dlp search for now")
            self._quota_out_until = self._clock() + QUOTA_PAUSE
            return await fallback(text, MATCH_CANDIDATES)

    async def _stored(self, track_id: str) -> str | None:
        if self.store is None:
            return None
        try:
            return await self.store.get(track_id)
        except Exception:  # the database is down: a search costs quota, but the track still plays
            log.warning("couldn't read the stored match of spotify track %s", track_id, exc_info=True)
            return None

    async def _keep(self, track_id: str, video_id: str) -> None:
        if self.store is None:
            return
        try:
            await self.store.put(track_id, video_id)
        except Exception:  # kept in memory anyway; only a restart would search again
            log.warning("couldn't store the match of spotify track %s", track_id, exc_info=True)
