"""Spotify matching under the YouTube Data API's quota: a used-up quota falls back to yt-dlp search,
matches are kept in the database for the next process (and dropped once their video is gone), and
nonsense Retry-After values are refused. Against the local fakes of the Spotify and YouTube Data APIs
(no network)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.music.media.errors import (
    MediaError,
    NoResultsError,
    QuotaExceededError,
    RateLimitedError,
    ResolveTimeoutError,
    UnsupportedSourceError,
    error_for,
)
from pytunes.music.media.extract import ExtractKind, ExtractRequest, _failure
from pytunes.music.media.resolver import MediaResolver
from pytunes.music.media.results import MediaEntry, PlaylistResult, ResolvedMedia, SourceKind
from pytunes.music.media.spotify import _later, _retry_after
from pytunes.music.media.spotify_source import QUOTA_PAUSE
from pytunes.music.spotify_matches import SpotifyMatchStore
from pytunes.storage.engine import create_engine
from pytunes.storage.migrate import migrate_to_head
from tests.media.conftest import MediaServer
from tests.media.fake_spotify import FakeSpotify, Video, fake_spotify, sid
from tests.media.test_spotify import (
    LIVE_FIRST,
    SONG,
    Clock,
    ScriptedExtractor,
    Sleeps,
    catalogue,
    make_client,
    spotify_config,
)

__all__ = ["fake_spotify"]  # the fixture, used by name

# What yt-dlp's search finds for either song (the scripted extractor answers every search alike).
YTDLP_HITS = [
    MediaEntry(SourceKind.YOUTUBE, "ccccccccccc", "Harbour Lights", "u", "The Tides - Topic", 214.0),
    MediaEntry(SourceKind.YOUTUBE, "ddddddddddd", "Juno Vale - Open Road", "u", "Juno Vale", 180.0),
]


@pytest.fixture
def fake(fake_spotify: FakeSpotify) -> Iterator[FakeSpotify]:
    catalogue(fake_spotify)
    fake_spotify.reset()
    yield fake_spotify
    fake_spotify.reset()


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path}/matches.db")
    try:
        await migrate_to_head(eng)
        yield eng
    finally:
        await eng.dispose()


def searched_with_ytdlp(extractor: ScriptedExtractor) -> list[str]:
    return [r.target for r in extractor.requests if r.target.startswith("ytsearch")]


# --------------------------------------------------------------------------------------------- quota


async def test_a_used_up_quota_falls_back_to_ytdlp_search(
    fake: FakeSpotify, media_server: MediaServer
) -> None:
    fake.fail("/youtube/v3/search", 403, reason="quotaExceeded")
    clock = Clock()
    extractor = ScriptedExtractor(media_server, YTDLP_HITS)
    async with MediaResolver(spotify_config(fake), extractor, clock=clock) as resolver:  # type: ignore[arg-type]
        first = await resolver.fetch_stream(f"spotify:track:{SONG}")
        second = await resolver.fetch_stream(f"spotify:track:{LIVE_FIRST}")
        assert (first.id, second.id) == ("ccccccccccc", "ddddddddddd")
        assert searched_with_ytdlp(extractor) == [
            "ytsearch8:The Tides - Harbour Lights",
            "ytsearch8:Juno Vale Kit Marr - Open Road",
        ]
        assert len(fake.seen("/youtube/v3/search")) == 1, "the refused API is left alone for a while"

        # Later the API is asked again (and is back).
        fake.videos["The Tides - Album Song 0"] = [
            Video("eeeeeeeeee1", "Album Song 0", "The Tides - Topic", "PT3M20S")
        ]
        clock.now += QUOTA_PAUSE + 1
        later = await resolver.fetch_stream(f"spotify:track:{sid('alb0')}")
    assert later.id == "eeeeeeeeee1"
    assert len(fake.seen("/youtube/v3/search")) == 2
    assert len(searched_with_ytdlp(extractor)) == 2


async def test_plain_searches_still_report_the_quota(fake: FakeSpotify, media_server: MediaServer) -> None:
    fake.fail("/youtube/v3/search", 403, reason="quotaExceeded")
    extractor = ScriptedExtractor(media_server, YTDLP_HITS)
    async with MediaResolver(spotify_config(fake), extractor) as resolver:  # type: ignore[arg-type]
        with pytest.raises(QuotaExceededError):
            await resolver.search("harbour lights")
    assert not searched_with_ytdlp(extractor)


# ----------------------------------------------------------------------------------------- persistence


async def test_a_second_resolver_on_the_same_database_reuses_the_match(
    fake: FakeSpotify, media_server: MediaServer, engine: AsyncEngine
) -> None:
    async with MediaResolver(spotify_config(fake), ScriptedExtractor(media_server)) as resolver:  # type: ignore[arg-type]
        resolver.spotify.store = SpotifyMatchStore(engine)
        first = await resolver.fetch_stream(f"spotify:track:{SONG}")
    assert first.id == "aaaaaaaaaa4"
    assert len(fake.seen("/youtube/")) == 2  # search.list and videos.list
    fake.reset()

    # A restart: a new process, nothing in memory, the queue restored from the database.
    extractor = ScriptedExtractor(media_server)
    async with MediaResolver(spotify_config(fake), extractor) as restarted:  # type: ignore[arg-type]
        restarted.spotify.store = SpotifyMatchStore(engine)
        again = await restarted.fetch_stream(f"spotify:track:{SONG}")
        assert restarted.spotify.matched(SONG) == "aaaaaaaaaa4"
    assert again.id == "aaaaaaaaaa4"
    assert not fake.seen("/youtube/"), "no search, no quota"
    assert not fake.seen("/v1/"), "not even the track's metadata is needed"
    assert [r.target for r in extractor.requests] == ["https://www.youtube.com/watch?v=aaaaaaaaaa4"]


class BrokenStore:
    async def get(self, track_id: str) -> str | None:
        raise OSError("database is down")

    async def put(self, track_id: str, video_id: str) -> None:
        raise OSError("database is down")

    async def forget(self, track_id: str, video_id: str) -> None:
        raise OSError("database is down")


async def test_a_broken_database_costs_a_search_not_the_track(
    fake: FakeSpotify, media_server: MediaServer
) -> None:
    async with MediaResolver(spotify_config(fake), ScriptedExtractor(media_server)) as resolver:  # type: ignore[arg-type]
        resolver.spotify.store = BrokenStore()
        media = await resolver.fetch_stream(f"spotify:track:{SONG}")
        again = await resolver.fetch_stream(f"spotify:track:{SONG}")
    assert media.id == again.id == "aaaaaaaaaa4"
    assert len(fake.seen("/youtube/v3/search")) == 1, "kept in memory all the same"


# ------------------------------------------------------------------------------ matches that went away

# yt-dlp's own words for a video that can't be had any more, and for a slow network.
PRIVATE = "ERROR: [youtube] {id}: Private video. Sign in if you've been granted access to this video"
DELETED = "ERROR: [youtube] {id}: Video unavailable. This video has been removed by the uploader"
SLOW = "ERROR: [youtube] {id}: Unable to download API page: The read operation timed out"
BOT_CHECK = "ERROR: [youtube] {id}: Sign in to confirm you're not a bot. Use --cookies-from-browser"


class GoneVideos(ScriptedExtractor):
    """The scripted extractor, except that fetching the listed videos fails as the worker reports it:
    yt-dlp's message classified by the worker's own rules, then rebuilt into an error on this side."""

    def __init__(self, media_server: MediaServer) -> None:
        super().__init__(media_server)
        self.failures: dict[str, str] = {}  # video id → yt-dlp's error text

    async def extract(
        self, request: ExtractRequest, *, timeout: float | None = None
    ) -> ResolvedMedia | PlaylistResult:
        video_id = request.target[-11:]
        if request.kind is ExtractKind.SINGLE and video_id in self.failures:
            self.requests.append(request)
            failure = _failure(Exception(self.failures[video_id].format(id=video_id)))
            raise error_for(failure.code, failure.message, failure.detail)
        return await super().extract(request, timeout=timeout)

    def videos(self) -> list[str]:
        return [r.target[-11:] for r in self.requests if r.kind is ExtractKind.SINGLE]


async def test_a_stored_match_whose_video_went_private_is_matched_again(
    fake: FakeSpotify, media_server: MediaServer, engine: AsyncEngine
) -> None:
    store = SpotifyMatchStore(engine)
    async with MediaResolver(spotify_config(fake), ScriptedExtractor(media_server)) as resolver:  # type: ignore[arg-type]
        resolver.spotify.store = store
        assert (await resolver.fetch_stream(f"spotify:track:{SONG}")).id == "aaaaaaaaaa4"
    fake.reset()

    # A later process: the stored video has gone private since.
    extractor = GoneVideos(media_server)
    extractor.failures["aaaaaaaaaa4"] = PRIVATE
    async with MediaResolver(spotify_config(fake), extractor) as restarted:  # type: ignore[arg-type]
        restarted.spotify.store = store
        media = await restarted.fetch_stream(f"spotify:track:{SONG}")
        assert restarted.spotify.matched(SONG) == "aaaaaaaaaa3"
    assert media.id == "aaaaaaaaaa3", "the next best hit, never the private video again"
    assert extractor.videos() == ["aaaaaaaaaa4", "aaaaaaaaaa3"]
    assert len(fake.seen("/youtube/v3/search")) == 1
    assert await store.get(SONG) == "aaaaaaaaaa3", "every guild and the next restart get the new video"
    fake.reset()

    third = GoneVideos(media_server)
    third.failures["aaaaaaaaaa4"] = PRIVATE
    async with MediaResolver(spotify_config(fake), third) as again:  # type: ignore[arg-type]
        again.spotify.store = store
        assert (await again.fetch_stream(f"spotify:track:{SONG}")).id == "aaaaaaaaaa3"
    assert third.videos() == ["aaaaaaaaaa3"]
    assert not fake.seen("/youtube/")


async def test_a_match_in_memory_whose_video_was_deleted_is_matched_again(
    fake: FakeSpotify, media_server: MediaServer
) -> None:
    extractor = GoneVideos(media_server)
    async with MediaResolver(spotify_config(fake), extractor) as resolver:  # type: ignore[arg-type]
        assert (await resolver.fetch_stream(f"spotify:track:{SONG}")).id == "aaaaaaaaaa4"
        extractor.failures["aaaaaaaaaa4"] = DELETED
        assert (await resolver.fetch_stream(f"spotify:track:{SONG}")).id == "aaaaaaaaaa3"
        assert (await resolver.fetch_stream(f"spotify:track:{SONG}")).id == "aaaaaaaaaa3"
    assert extractor.videos() == ["aaaaaaaaaa4", "aaaaaaaaaa4", "aaaaaaaaaa3", "aaaaaaaaaa3"]
    assert len(fake.seen("/youtube/v3/search")) == 2, "one search to match, one to match again"


@pytest.mark.parametrize(
    ("failure", "error"), [(SLOW, ResolveTimeoutError), (BOT_CHECK, UnsupportedSourceError)]
)
async def test_failures_that_say_nothing_about_the_video_keep_the_match(
    fake: FakeSpotify,
    media_server: MediaServer,
    engine: AsyncEngine,
    failure: str,
    error: type[MediaError],
) -> None:
    store = SpotifyMatchStore(engine)
    await store.put(SONG, "aaaaaaaaaa4")
    extractor = GoneVideos(media_server)
    extractor.failures["aaaaaaaaaa4"] = failure
    async with MediaResolver(spotify_config(fake), extractor) as resolver:  # type: ignore[arg-type]
        resolver.spotify.store = store
        with pytest.raises(error):
            await resolver.fetch_stream(f"spotify:track:{SONG}")
        assert resolver.spotify.matched(SONG) == "aaaaaaaaaa4"
    assert await store.get(SONG) == "aaaaaaaaaa4"
    assert not fake.seen("/youtube/"), "a slow network or YouTube's bot check hits every video alike"


async def test_when_the_new_match_is_gone_too_the_play_fails_after_one_more_search(
    fake: FakeSpotify, media_server: MediaServer, engine: AsyncEngine
) -> None:
    store = SpotifyMatchStore(engine)
    await store.put(SONG, "aaaaaaaaaa4")
    extractor = GoneVideos(media_server)
    extractor.failures.update({"aaaaaaaaaa4": PRIVATE, "aaaaaaaaaa3": DELETED})
    async with MediaResolver(spotify_config(fake), extractor) as resolver:  # type: ignore[arg-type]
        resolver.spotify.store = store
        with pytest.raises(NoResultsError, match="doesn't exist or isn't available"):
            await resolver.fetch_stream(f"spotify:track:{SONG}")
        assert extractor.videos() == ["aaaaaaaaaa4", "aaaaaaaaaa3"]
        assert len(fake.seen("/youtube/v3/search")) == 1, "matched again once, not in a loop"
        assert await store.get(SONG) is None, "neither dead video is kept"

        # The next play searches again and skips both videos it has seen fail.
        assert (await resolver.fetch_stream(f"spotify:track:{SONG}")).id == "aaaaaaaaaa1"
    assert await store.get(SONG) == "aaaaaaaaaa1"


async def test_forgetting_a_match_spares_a_newer_one(engine: AsyncEngine) -> None:
    store = SpotifyMatchStore(engine)
    await store.put(SONG, "aaaaaaaaaa3")  # another guild already re-matched the track
    await store.forget(SONG, "aaaaaaaaaa4")
    assert await store.get(SONG) == "aaaaaaaaaa3"
    await store.forget(SONG, "aaaaaaaaaa3")
    assert await store.get(SONG) is None


# ------------------------------------------------------------------------------------------ Retry-After


@pytest.mark.parametrize("value", ["inf", "Infinity", "1e400", "nan", "-5"])
async def test_a_nonsense_retry_after_is_reported_not_waited(fake: FakeSpotify, value: str) -> None:
    sleeps = Sleeps()
    async with aiohttp.ClientSession() as session:
        client = make_client(fake, session, Clock(), sleeps)
        fake.fail("/v1/tracks", 429, headers={"Retry-After": value})
        with pytest.raises(RateLimitedError, match="rate-limiting the bot; try again later"):
            await client.track(SONG)
    assert sleeps.waited == []


@given(st.one_of(st.none(), st.text(max_size=20), st.floats().map(repr)))
def test_any_retry_after_header_reads_as_a_wait_or_nothing(value: str | None) -> None:
    seconds = _retry_after(value)
    assert seconds is None or seconds == math.inf or (math.isfinite(seconds) and seconds >= 0)
    if seconds is not None:
        assert _later(seconds).startswith(("in ", "later"))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.2, "in 1 second"), (90, "in 90 seconds"), (600, "in 10 minutes"), (1e300, "later")],
)
def test_waits_are_named_readably(seconds: float, text: str) -> None:
    assert _later(seconds) == text
