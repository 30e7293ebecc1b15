"""Spotify as a source for the resolver: what a link queues, and which YouTube video plays a track.

Queuing costs Spotify API calls only: a 500-track playlist becomes 500 Spotify tracks without a single
YouTube search. The search happens when a track is about to play (`youtube_id`), and its result is kept
per Spotify track id, so replays and repeats don't search again. Track metadata read at queue time is
kept too; after a restart it is read again from the API (one request).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import aiohttp

from pytunes.music.media.config import MediaConfig
from pytunes.music.media.errors import NoResultsError, NotConfiguredError
from pytunes.music.media.matching import Candidate, Wanted, best_match, search_text
from pytunes.music.media.results import MediaEntry, SourceKind
from pytunes.music.media.spotify import Clock, Sleep, SpotifyClient, SpotifyTrack
from pytunes.music.media.spotify_links import SpotifyKind, SpotifyLink, track_url

log = logging.getLogger(__name__)

MATCH_CANDIDATES = 8  # one search.list call either way; more candidates, better odds
CACHE_SIZE = 5000

NOT_CONFIGURED = (
    "Spotify links aren't set up on this bot: its owner needs to set SPOTIFY_CLIENT_ID and "
    "SPOTIFY_CLIENT_SECRET (from an app at developer.spotify.com)."
)

Search = Callable[[str, int], Awaitable[list[MediaEntry]]]
K = TypeVar("K")
V = TypeVar("V")


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
    ) -> None:
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

    @property
    def client(self) -> SpotifyClient:
        if self._client is None:
            raise NotConfiguredError(NOT_CONFIGURED)
        return self._client

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

    async def youtube_id(self, track_id: str, search: Search, *, max_search_length: int) -> str:
        """The YouTube video that plays this Spotify track: searched by artist and title, then judged."""
        cached = self._matches.get(track_id)
        if cached is not None:
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
            found = await search(search_text(wanted)[:max_search_length], MATCH_CANDIDATES)
        except NoResultsError:
            raise not_found from None
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
        return chosen.id
