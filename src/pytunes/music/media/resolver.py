"""The media API the music service calls: what a `play` argument is, and what it resolves to.

Resolution order for a `play` argument (docs/commands.md, 'Sources and limits'):

1. Anything longer than `max_url_length` is refused before it is looked at.
2. A YouTube link in any form (watch, youtu.be, shorts, embed, live, m./music., with t= and list=) is
   reduced to its video id and looked up by id through yt-dlp: no search quota, and never a different
   video. A link with a video and a list= plays the video; a pure playlist link queues the
   playlist, enumerated flat (no per-video requests), at most `max_playlist_entries` entries.
3. Any other text with a scheme (`xyz://`) or starting with `www.` is a link: http(s) only, public hosts
   only, every redirect hop checked, then yt-dlp's generic/html5 extractors.
4. A Spotify link or URI (track, album, playlist, artist; see `spotify_links`) is read through the
   Spotify Web API and queued as Spotify tracks; each is matched to a YouTube video only when it is about
   to play (`fetch_stream`), by artist, title and duration (`matching`). Podcasts are refused clearly.
5. Everything else is a text search: the YouTube Data API when a key is configured, otherwise yt-dlp's
   YouTube search. The key is optional.

Every yt-dlp call runs in the worker pool, and everything else here is non-blocking I/O, so the event
loop is never held up. Failures are `MediaError` subclasses whose message can be shown as it is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Protocol

import aiohttp
from aiohttp.abc import AbstractResolver

from pytunes.music.media.config import MediaConfig
from pytunes.music.media.errors import (
    EmptyQueryError,
    ExtractionError,
    NoResultsError,
    QueryTooLongError,
    UnsupportedSourceError,
)
from pytunes.music.media.extract import ExtractKind, ExtractRequest
from pytunes.music.media.fetch import GuardedResolver, follow_redirects, pin_http
from pytunes.music.media.ffmpeg import probe_codec
from pytunes.music.media.fresh import FreshStreams
from pytunes.music.media.playlists import PlaylistPolicy, read_playlist
from pytunes.music.media.results import MediaEntry, PlaylistResult, ResolvedMedia, SourceKind
from pytunes.music.media.safety import CheckedUrl, UrlGuard
from pytunes.music.media.spotify import Clock, Sleep
from pytunes.music.media.spotify_links import SpotifyKind, parse_spotify_link
from pytunes.music.media.spotify_source import SpotifySource
from pytunes.music.media.worker import Extractor
from pytunes.music.media.youtube import parse_youtube_url, playlist_url, watch_url
from pytunes.music.media.ytapi import YouTubeDataApi

log = logging.getLogger(__name__)

YOUTUBE_VIDEO_EXTRACTORS = ("youtube",)
YOUTUBE_PLAYLIST_EXTRACTORS = ("youtube:tab", "youtube:playlist")
YOUTUBE_SEARCH_EXTRACTORS = ("youtube:search",)
MAX_SEARCH_RESULTS = 25
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class QueryKind(StrEnum):
    SEARCH = "search"
    YOUTUBE_VIDEO = "youtube_video"
    YOUTUBE_PLAYLIST = "youtube_playlist"
    URL = "url"
    SPOTIFY = "spotify"  # text is the canonical URI, spotify:<kind>:<id>


@dataclass(frozen=True, slots=True)
class Query:
    kind: QueryKind
    text: str  # the search text, the canonical YouTube URL, or the link as given
    video_id: str | None = None
    playlist_id: str | None = None
    start_at: float = 0.0


class Listing(Protocol):
    """Entries read from one place: a YouTube playlist, an m3u/pls file, a Spotify link."""

    @property
    def entries(self) -> tuple[MediaEntry, ...]: ...
    @property
    def title(self) -> str | None: ...
    @property
    def truncated(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a `play` argument stands for. For SEARCH, `entries` are the candidates for the picker."""

    kind: QueryKind
    entries: tuple[MediaEntry, ...]
    title: str | None = None  # playlist title
    start_at: float = 0.0  # from a YouTube t= parameter
    truncated: bool = False  # the playlist had more than max_playlist_entries
    requested_by: str | None = None
    skipped: int = 0  # unplayable items of a Spotify collection that were left out

    @classmethod
    def of_listing(
        cls, kind: QueryKind, listing: Listing, requested_by: str | None, *, skipped: int = 0
    ) -> Resolution:
        return cls(
            kind,
            listing.entries,
            title=listing.title,
            truncated=listing.truncated,
            requested_by=requested_by,
            skipped=skipped,
        )


def classify(query: str, *, max_url_length: int = 2048, max_search_length: int = 256) -> Query:
    """What kind of argument `query` is (pure: no network). Raises `MediaError` for unusable input."""
    text = query.strip()
    if not text:
        raise EmptyQueryError("Tell me what to play: a link or some search words.")
    if len(text) > max_url_length:
        raise QueryTooLongError(
            f"That is too long ({len(text):,} characters); the limit is {max_url_length:,}."
        )
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()  # Discord's <link> syntax, which suppresses the embed
    spotify = parse_spotify_link(text)
    if spotify is not None:
        return Query(QueryKind.SPOTIFY, spotify.uri)
    youtube = parse_youtube_url(text)
    if youtube is not None:
        if youtube.video_id is not None:
            return Query(
                QueryKind.YOUTUBE_VIDEO,
                watch_url(youtube.video_id),
                video_id=youtube.video_id,
                playlist_id=youtube.playlist_id,
                start_at=youtube.start_at,
            )
        assert youtube.playlist_id is not None
        return Query(
            QueryKind.YOUTUBE_PLAYLIST, playlist_url(youtube.playlist_id), playlist_id=youtube.playlist_id
        )
    if _HAS_SCHEME.match(text):
        return Query(QueryKind.URL, text)
    if text.lower().startswith("www."):
        return Query(QueryKind.URL, f"https://{text}")
    if len(text) > max_search_length:
        raise QueryTooLongError(
            f"That search is too long ({len(text):,} characters); the limit is {max_search_length:,}."
        )
    return Query(QueryKind.SEARCH, text)


class MediaResolver:
    """Resolves `play` arguments and fetches fresh stream URLs. Use as `async with` or call `aclose()`.

    `guard` and `http_resolver` are injectable so tests can fake DNS: the guard decides what a host name
    means for the address policy, `http_resolver` where the bot's own HTTP requests actually connect.
    `clock` and `sleep` (Spotify token expiry, rate-limit waits) are injectable for tests too.
    """

    def __init__(
        self,
        config: MediaConfig,
        extractor: Extractor,
        *,
        guard: UrlGuard | None = None,
        http_resolver: AbstractResolver | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config
        self._extractor = extractor
        self.guard = guard or UrlGuard(allow_private=config.allow_private_hosts)
        self.playlist_policy = PlaylistPolicy()  # m3u/pls hosts the operator trusts (none by default)
        self._http_resolver = http_resolver
        self._session: aiohttp.ClientSession | None = None
        self.spotify = SpotifySource(config, self._http, clock=clock, sleep=sleep)
        self.fresh = FreshStreams(clock=clock)

    async def __aenter__(self) -> MediaResolver:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def classify(self, query: str) -> Query:
        return classify(
            query, max_url_length=self.config.max_url_length, max_search_length=self.config.max_search_length
        )

    async def resolve(self, query: str, *, requester: str | None = None) -> Resolution:
        parsed = self.classify(query)
        log.debug("resolving a %s for %s", parsed.kind, requester)
        if parsed.kind is QueryKind.SEARCH:
            entries = await self.search(parsed.text)
            return Resolution(parsed.kind, tuple(entries), requested_by=requester)
        if parsed.kind is QueryKind.SPOTIFY:
            link = parse_spotify_link(parsed.text)
            assert link is not None
            spotify = await self.spotify.resolve(link)
            return Resolution.of_listing(parsed.kind, spotify, requester, skipped=spotify.skipped)
        if parsed.kind is QueryKind.YOUTUBE_PLAYLIST:
            return Resolution.of_listing(parsed.kind, await self._playlist(parsed.text), requester)
        if parsed.kind is QueryKind.YOUTUBE_VIDEO:
            # The whole stream (checked and pinned) now: the playback that usually follows reuses it.
            media = await self.fetch_stream(parsed.text)
            self.fresh.keep(media)
        else:
            # An m3u/pls file is read here (trusted hosts only), never handed to yt-dlp or FFmpeg.
            listed = await read_playlist(
                self._http(),
                self.guard,
                parsed.text,
                self.playlist_policy,
                max_entries=self.config.max_playlist_entries,
                max_redirects=self.config.max_redirects,
                timeout=self.config.http_timeout,
            )
            if listed is not None:
                return Resolution.of_listing(parsed.kind, listed, requester, skipped=listed.skipped)
            # Direct media has no metadata beyond the file: fetch the stream now to probe its duration,
            # so the length gate applies before the track is queued.
            media = await self.fetch_stream(parsed.text)
            self.fresh.keep(media)
        return Resolution(parsed.kind, (_entry(media),), start_at=parsed.start_at, requested_by=requester)

    async def search(self, text: str, limit: int = 5) -> list[MediaEntry]:
        parsed = self.classify(text)
        if parsed.kind is not QueryKind.SEARCH:
            raise UnsupportedSourceError("That is a link, not search words.")
        return await self._search_youtube(parsed.text, limit)

    async def _search_youtube(self, text: str, limit: int, *, use_api: bool = True) -> list[MediaEntry]:
        limit = max(1, min(limit, MAX_SEARCH_RESULTS))
        if use_api and self.config.youtube_api_key:
            api = YouTubeDataApi(
                self._http(),
                self.config.youtube_api_key,
                self.config.youtube_api_base_url,
                timeout=self.config.http_timeout,
            )
            entries = await api.search(text, limit)
        else:
            # The text is the query part of a search target built here; yt-dlp parses nothing else from it.
            request = self._request(
                ExtractKind.SEARCH,
                f"ytsearch{limit}:{text}",
                SourceKind.YOUTUBE,
                YOUTUBE_SEARCH_EXTRACTORS,
                max_entries=limit,
            )
            result = await self._extractor.extract(request, timeout=self.config.extract_timeout)
            entries = list(result.entries) if isinstance(result, PlaylistResult) else []
        if not entries:
            raise NoResultsError(f"No results for “{text}”.")
        return entries[:limit]

    async def fetch_stream(self, url: str) -> ResolvedMedia:
        """A fresh, checked stream for a track's page URL; call right before playback (streams expire).

        Live items come back with `is_live` set and no stream; the caller refuses them. A stream resolved
        for the same link a moment ago (when it was added) is reused once.
        """
        kept = self.fresh.take(url)
        if kept is not None:
            return kept
        parsed = self.classify(url)
        page: CheckedUrl | None = None
        if parsed.kind is QueryKind.YOUTUBE_VIDEO:
            media = await self._single(parsed.text, SourceKind.YOUTUBE, YOUTUBE_VIDEO_EXTRACTORS)
        elif parsed.kind is QueryKind.SPOTIFY:
            media = await self._spotify_media(parsed.text)
        elif parsed.kind is QueryKind.URL:
            page = await self._follow(parsed.text)
            media = await self._single(page.url.url, SourceKind.DIRECT, self.config.direct_extractors)
            # The page the user gave stays the track's identity; redirects are re-walked on every play.
            media = dataclasses.replace(media, page_url=self.guard.parse(parsed.text).url)
        else:
            raise UnsupportedSourceError("That is not a single track.")
        if media.is_live:
            return media
        stream = page if page is not None and page.url.url == media.stream_url else None
        if stream is None:
            stream = await self._follow(media.stream_url, headers=media.http_headers)
        stream_url, pinned_headers = pin_http(stream)
        media = dataclasses.replace(
            media, stream_url=stream_url, http_headers={**media.http_headers, **pinned_headers}
        )
        if media.source_kind is SourceKind.DIRECT and (media.acodec is None or media.duration is None):
            codec, duration = await probe_codec(
                media, executable=self.config.ffmpeg_path, timeout=self.config.http_timeout
            )
            media = dataclasses.replace(
                media, acodec=media.acodec or codec, duration=media.duration or duration
            )
        return media

    async def _spotify_media(self, uri: str) -> ResolvedMedia:
        """The YouTube video matched to a queued Spotify track (searched once per track, then cached)."""
        link = parse_spotify_link(uri)
        if link is None or link.kind is not SpotifyKind.TRACK:
            raise UnsupportedSourceError("That is not a single track.")
        for attempt in (1, 2):
            video_id = await self.spotify.youtube_id(
                link.id,
                self._search_youtube,
                max_search_length=self.config.max_search_length,
                # yt-dlp's search costs no API quota: a long Spotify playlist keeps playing once it is used up.
                fallback=lambda text, limit: self._search_youtube(text, limit, use_api=False),
            )
            try:
                return await self._single(watch_url(video_id), SourceKind.YOUTUBE, YOUTUBE_VIDEO_EXTRACTORS)
            except NoResultsError:
                # The video itself is gone (deleted, removed, private); timeouts, unreachable hosts and
                # YouTube's bot check are other errors and say nothing about it. Kept, a gone match would
                # fail this track in every guild forever, so it is dropped and the track matched once more.
                await self.spotify.forget(link.id, video_id)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _single(
        self, target: str, source_kind: SourceKind, extractors: tuple[str, ...]
    ) -> ResolvedMedia:
        request = self._request(ExtractKind.SINGLE, target, source_kind, extractors)
        result = await self._extractor.extract(request, timeout=self.config.extract_timeout)
        if not isinstance(result, ResolvedMedia):
            raise ExtractionError("Expected one track but got a list.")
        return result

    async def _playlist(self, target: str) -> PlaylistResult:
        request = self._request(
            ExtractKind.PLAYLIST,
            target,
            SourceKind.YOUTUBE,
            YOUTUBE_PLAYLIST_EXTRACTORS,
            max_entries=self.config.max_playlist_entries,
        )
        result = await self._extractor.extract(request, timeout=self.config.extract_timeout)
        if not isinstance(result, PlaylistResult) or not result.entries:
            raise NoResultsError("That playlist is empty, private or doesn't exist.")
        return result

    def _request(
        self,
        kind: ExtractKind,
        target: str,
        source_kind: SourceKind,
        extractors: tuple[str, ...],
        *,
        max_entries: int = 1,
    ) -> ExtractRequest:
        return ExtractRequest(
            kind=kind,
            target=target,
            source_kind=source_kind,
            extractors=extractors,
            allow_private=self.guard.allow_private,
            socket_timeout=self.config.socket_timeout,
            max_entries=max_entries,
            js_runtimes=self.config.js_runtimes,
        )

    async def _follow(self, url: str, *, headers: Mapping[str, str] | None = None) -> CheckedUrl:
        return await follow_redirects(
            self._http(),
            self.guard,
            url,
            headers=headers,
            max_redirects=self.config.max_redirects,
            timeout=self.config.http_timeout,
        )

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = self._http_resolver or GuardedResolver(self.guard)
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver))
        return self._session


def _entry(media: ResolvedMedia) -> MediaEntry:
    return MediaEntry(
        source_kind=media.source_kind,
        id=media.id or media.page_url,
        title=media.title,
        url=media.page_url,
        channel=media.channel,
        duration=media.duration,
        is_live=media.is_live,
    )
