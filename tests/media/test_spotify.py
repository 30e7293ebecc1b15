"""Spotify links: parsing every form, the Web API client against a local fake (token cache, 401, 429, 5xx,
paging with a bound), and the resolver (queue without searching, match to YouTube when played)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import aiohttp
import pytest

from pytunes.music.media.errors import (
    ExtractionError,
    MediaError,
    NoResultsError,
    NotConfiguredError,
    RateLimitedError,
    UnsupportedSourceError,
)
from pytunes.music.media.extract import ExtractKind, ExtractRequest
from pytunes.music.media.resolver import MediaResolver, QueryKind, classify
from pytunes.music.media.results import MediaEntry, PlaylistResult, ResolvedMedia, SourceKind
from pytunes.music.media.spotify import SpotifyClient
from pytunes.music.media.spotify_links import SpotifyKind, SpotifyLink, parse_spotify_link
from tests.media.conftest import MediaServer, local_config
from tests.media.fake_spotify import CLIENT_ID, CLIENT_SECRET, FakeSpotify, Video, fake_spotify, sid

__all__ = ["fake_spotify"]  # the fixture, used by name

ID = "4uLU6hMCjMI75M1A2tKUQC"

# ------------------------------------------------------------------------------------------------ links


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"https://open.spotify.com/track/{ID}", SpotifyKind.TRACK),
        (f"https://open.spotify.com/track/{ID}?si=abc123&context=x", SpotifyKind.TRACK),
        (f"https://open.spotify.com/intl-de/track/{ID}", SpotifyKind.TRACK),
        (f"https://open.spotify.com/intl-pt-br/album/{ID}#top", SpotifyKind.ALBUM),
        (f"http://open.spotify.com/playlist/{ID}", SpotifyKind.PLAYLIST),
        (f"open.spotify.com/artist/{ID}", SpotifyKind.ARTIST),
        (f"https://open.spotify.com/embed/playlist/{ID}", SpotifyKind.PLAYLIST),
        (f"https://open.spotify.com/user/someone/playlist/{ID}", SpotifyKind.PLAYLIST),
        (f"https://play.spotify.com/track/{ID}", SpotifyKind.TRACK),
        (f"spotify:track:{ID}", SpotifyKind.TRACK),
        (f"spotify:album:{ID}", SpotifyKind.ALBUM),
        (f"spotify:artist:{ID}", SpotifyKind.ARTIST),
        (f"spotify:user:someone:playlist:{ID}", SpotifyKind.PLAYLIST),
        (f"  <https://open.spotify.com/track/{ID}>  ", SpotifyKind.TRACK),
    ],
)
def test_every_link_form_is_recognised(text: str, kind: SpotifyKind) -> None:
    query = classify(text)
    assert query.kind is QueryKind.SPOTIFY
    assert query.text == f"spotify:{kind.value}:{ID}"
    assert parse_spotify_link(query.text) == SpotifyLink(kind, ID)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"https://open.spotify.com/episode/{ID}", "podcasts"),
        (f"https://open.spotify.com/show/{ID}", "podcasts"),
        (f"spotify:episode:{ID}", "podcasts"),
        ("https://spotify.link/AbCdEf", "Copy link"),
        ("https://open.spotify.com/track/short", "mistyped"),
        ("https://open.spotify.com/genre/pop", "isn't a track, album, playlist or artist"),
        ("https://open.spotify.com/", "isn't a track"),
    ],
)
def test_unplayable_spotify_links_are_refused_not_searched(text: str, reason: str) -> None:
    with pytest.raises(UnsupportedSourceError, match=reason):
        classify(text)


@pytest.mark.parametrize(
    "text", ["spotify songs", "https://example.com/spotify:track", "https://notspotify.com/track/x"]
)
def test_other_text_is_not_spotify(text: str) -> None:
    assert parse_spotify_link(text) is None
    assert classify(text).kind is not QueryKind.SPOTIFY


# --------------------------------------------------------------------------------------------- catalogue

SONG = sid("song")
LIVE_FIRST = sid("livefirst")


def catalogue(fake: FakeSpotify) -> None:
    fake.add_track("song", "Harbour Lights - 2011 Remaster", ["The Tides"], 214.0)
    fake.add_track("livefirst", "Open Road", ["Juno Vale", "Kit Marr"], 180.0)
    album_tracks = [fake.add_track(f"alb{i}", f"Album Song {i}", ["The Tides"], 200 + i) for i in range(60)]
    fake.add_album("album", "Low Tide", "The Tides", album_tracks)
    songs = [fake.add_track(f"pl{i}", f"Playlist Song {i}", ["Mixed"], 150) for i in range(120)]
    junk: list[object] = [
        None,
        {"is_local": True, "item": {"id": None, "name": "my mp3", "type": "track", "is_local": True}},
        {"item": {"type": "episode", "id": sid("ep"), "name": "A podcast"}},
        {"item": {"type": "track", "id": sid("noname")}},
        {"track": fake.tracks[songs[0]]},  # the pre-2026 shape
    ]
    fake.add_playlist("playlist", "Road Trip", [*songs[:10], *junk, *songs[10:]])
    fake.top_tracks[sid("artist")] = [SONG]
    fake.tracks[SONG]["artists"][0]["id"] = sid("artist")
    # What YouTube offers for the two songs: the first hit is never the right one.
    fake.videos["The Tides - Harbour Lights"] = [
        Video("aaaaaaaaaa1", "The Tides - Harbour Lights (Live at the Pier)", "The Tides", "PT4M40S"),
        Video("aaaaaaaaaa2", "Harbour Lights (Karaoke Version)", "SingAlong", "PT3M34S"),
        Video("aaaaaaaaaa3", "The Tides - Harbour Lights (Official Video)", "TheTidesVEVO", "PT3M58S"),
        Video("aaaaaaaaaa4", "Harbour Lights", "The Tides - Topic", "PT3M35S"),
        Video("aaaaaaaaaa5", "harbour lights 24/7", "radio", "P0D", live=True),
    ]
    fake.videos["Juno Vale Kit Marr - Open Road"] = [
        Video("bbbbbbbbbb1", "Juno Vale - Open Road LIVE", "Juno Vale", "PT3M0S"),
        Video("bbbbbbbbbb2", "Juno Vale & Kit Marr - Open Road (Lyrics)", "Lyric Hub", "PT3M2S"),
    ]


@dataclass
class Sleeps:
    waited: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake(fake_spotify: FakeSpotify) -> Iterator[FakeSpotify]:
    catalogue(fake_spotify)
    fake_spotify.reset()
    yield fake_spotify
    fake_spotify.reset()


@dataclass
class ClientKit:
    client: SpotifyClient
    clock: Clock
    sleeps: Sleeps


@pytest.fixture
async def kit(fake: FakeSpotify) -> AsyncIterator[ClientKit]:
    clock, sleeps = Clock(), Sleeps()
    async with aiohttp.ClientSession() as session:
        yield ClientKit(make_client(fake, session, clock, sleeps), clock, sleeps)


def make_client(
    fake: FakeSpotify, session: aiohttp.ClientSession, clock: Clock, sleeps: Sleeps, **changes: object
) -> SpotifyClient:
    settings: dict[str, object] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "api_base_url": fake.api_base_url,
        "token_url": fake.token_url,
        "max_tracks": 500,
        "timeout": 5.0,
        "max_retry_wait": 5.0,
        "clock": clock,
        "sleep": sleeps,
    }
    settings.update(changes)
    return SpotifyClient(lambda: session, **settings)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ client


async def test_track_metadata(kit: ClientKit) -> None:
    track = await kit.client.track(SONG)
    assert (track.title, track.artists, track.duration) == (
        "Harbour Lights - 2011 Remaster",
        ("The Tides",),
        214.0,
    )


async def test_token_is_reused_until_a_minute_before_it_expires(kit: ClientKit, fake: FakeSpotify) -> None:
    await asyncio.gather(*(kit.client.track(SONG) for _ in range(5)))
    assert len(fake.token_requests) == 1, "concurrent calls share one token fetch"
    kit.clock.now += 3600 - 61
    await kit.client.track(SONG)
    assert len(fake.token_requests) == 1
    kit.clock.now += 2
    await kit.client.track(SONG)
    assert len(fake.token_requests) == 2
    assert [r.headers["Authorization"] for r in fake.seen("/v1/tracks")][-2:] == [
        "Bearer token-1",
        "Bearer token-2",
    ]


async def test_a_refused_token_is_renewed_once(kit: ClientKit, fake: FakeSpotify) -> None:
    await kit.client.track(SONG)
    fake.expire_tokens()  # revoked early: the cache still believes in it
    await kit.client.track(SONG)
    assert len(fake.token_requests) == 2
    fake.fail(f"/v1/tracks/{SONG}", 401, times=5)
    with pytest.raises(ExtractionError, match="HTTP 401"):
        await kit.client.track(SONG)
    # 1 (first call) + 2 (refused, then renewed) + 2 (refused, renewed, refused: it gives up)
    assert len(fake.seen(f"/v1/tracks/{SONG}")) == 5


async def test_wrong_credentials_name_the_settings(fake: FakeSpotify) -> None:
    async with aiohttp.ClientSession() as session:
        client = make_client(fake, session, Clock(), Sleeps(), client_secret="nope")
        with pytest.raises(ExtractionError, match="SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"):
            await client.track(SONG)
    assert not fake.seen("/v1/")


async def test_a_short_rate_limit_is_waited_out(kit: ClientKit, fake: FakeSpotify) -> None:
    fake.fail("/v1/tracks", 429, times=2, headers={"Retry-After": "2"})
    track = await kit.client.track(SONG)
    assert track.id == SONG
    assert kit.sleeps.waited == [2.0, 2.0]


async def test_a_long_or_persistent_rate_limit_is_reported(kit: ClientKit, fake: FakeSpotify) -> None:
    fake.fail("/v1/tracks", 429, headers={"Retry-After": "300"})
    with pytest.raises(RateLimitedError, match="try again in 5 minutes"):
        await kit.client.track(SONG)
    assert kit.sleeps.waited == []
    fake.fail("/v1/tracks", 429, times=3, headers={"Retry-After": "1"})
    with pytest.raises(RateLimitedError):
        await kit.client.track(SONG)
    assert kit.sleeps.waited == [1.0, 1.0], "bounded retries"


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_clear(kit: ClientKit, fake: FakeSpotify, status: int) -> None:
    fake.fail("/v1/tracks", status)
    with pytest.raises(ExtractionError, match=f"Spotify is having trouble right now \\(HTTP {status}\\)"):
        await kit.client.track(SONG)


async def test_unknown_items_are_not_found(kit: ClientKit) -> None:
    with pytest.raises(NoResultsError):
        await kit.client.track(sid("missing"))
    with pytest.raises(NoResultsError):
        await kit.client.collection(SpotifyLink(SpotifyKind.PLAYLIST, sid("missing")))


async def test_playlist_pages_skip_unplayable_items(kit: ClientKit, fake: FakeSpotify) -> None:
    playlist = await kit.client.collection(SpotifyLink(SpotifyKind.PLAYLIST, sid("playlist")))
    assert playlist.name == "Road Trip"
    assert len(playlist.tracks) == 121  # 120 songs and the old-shape entry
    assert playlist.skipped == 4
    assert not playlist.truncated
    assert playlist.tracks[10].id == sid("pl0")
    pages = fake.seen(f"/v1/playlists/{sid('playlist')}/items")
    assert [(r.query["offset"], r.query["limit"]) for r in pages] == [
        ("0", "50"),
        ("50", "50"),
        ("100", "50"),
    ]


async def test_paging_stops_at_the_track_limit(fake: FakeSpotify) -> None:
    async with aiohttp.ClientSession() as session:
        client = make_client(fake, session, Clock(), Sleeps(), max_tracks=55)
        playlist = await client.collection(SpotifyLink(SpotifyKind.PLAYLIST, sid("playlist")))
        album = await client.collection(SpotifyLink(SpotifyKind.ALBUM, sid("album")))
    assert (len(playlist.tracks), playlist.truncated) == (55, True)
    assert len(fake.seen(f"/v1/playlists/{sid('playlist')}/items")) == 2
    assert (len(album.tracks), album.truncated) == (55, True)
    assert album.name == "Low Tide — The Tides"


async def test_album_reads_its_first_page_then_pages_on(kit: ClientKit, fake: FakeSpotify) -> None:
    album = await kit.client.collection(SpotifyLink(SpotifyKind.ALBUM, sid("album")))
    assert [t.title for t in album.tracks] == [f"Album Song {i}" for i in range(60)]
    assert not album.truncated
    assert [r.query["offset"] for r in fake.seen(f"/v1/albums/{sid('album')}/tracks")] == ["50"]


async def test_artist_top_tracks(kit: ClientKit) -> None:
    top = await kit.client.collection(SpotifyLink(SpotifyKind.ARTIST, sid("artist")))
    assert top.name == "Top tracks of The Tides"
    assert [t.id for t in top.tracks] == [SONG]


# ---------------------------------------------------------------------------------------------- resolver


class ScriptedExtractor:
    """Stands in for yt-dlp (YouTube needs the internet): search hits, then the picked video."""

    def __init__(self, media_server: MediaServer, hits: list[MediaEntry] | None = None) -> None:
        self.media_server = media_server
        self.hits = hits or []
        self.requests: list[ExtractRequest] = []

    async def extract(
        self, request: ExtractRequest, *, timeout: float | None = None
    ) -> ResolvedMedia | PlaylistResult:
        self.requests.append(request)
        if request.kind is ExtractKind.SEARCH:
            return PlaylistResult("search", "search", tuple(self.hits))
        return ResolvedMedia(
            title="video",
            page_url=request.target,
            stream_url=self.media_server.url("/media/tone440.webm"),
            duration=3.0,
            is_live=False,
            acodec="opus",
            ext="webm",
            http_headers={},
            source_kind=SourceKind.YOUTUBE,
            id=request.target[-11:],
        )


def spotify_config(fake: FakeSpotify, **changes: object) -> object:
    settings: dict[str, object] = {
        "spotify_client_id": CLIENT_ID,
        "spotify_client_secret": CLIENT_SECRET,
        "spotify_api_base_url": fake.api_base_url,
        "spotify_token_url": fake.token_url,
        "youtube_api_key": "yt-key",
        "youtube_api_base_url": fake.youtube_base_url,
    }
    settings.update(changes)
    return local_config(**settings)


async def test_links_queue_spotify_tracks_without_searching(
    fake: FakeSpotify, media_server: MediaServer
) -> None:
    async with MediaResolver(spotify_config(fake), ScriptedExtractor(media_server)) as resolver:  # type: ignore[arg-type]
        single = await resolver.resolve(f"https://open.spotify.com/intl-fr/track/{SONG}?si=x")
        playlist = await resolver.resolve(f"spotify:playlist:{sid('playlist')}")
    assert single.kind is QueryKind.SPOTIFY
    assert single.title is None
    (entry,) = single.entries
    assert (entry.source_kind, entry.id, entry.title, entry.channel, entry.duration) == (
        SourceKind.SPOTIFY,
        SONG,
        "Harbour Lights - 2011 Remaster",
        "The Tides",
        214.0,
    )
    assert entry.url == f"https://open.spotify.com/track/{SONG}"
    assert (playlist.title, len(playlist.entries), playlist.skipped) == ("Road Trip", 121, 4)
    assert not fake.seen("/youtube/"), "matching waits until a track plays"


async def test_playing_matches_the_studio_recording_once(
    fake: FakeSpotify, media_server: MediaServer
) -> None:
    extractor = ScriptedExtractor(media_server)
    async with MediaResolver(spotify_config(fake), extractor) as resolver:  # type: ignore[arg-type]
        await resolver.resolve(f"spotify:track:{SONG}")
        media = await resolver.fetch_stream(f"spotify:track:{SONG}")
        again = await resolver.fetch_stream(f"spotify:track:{SONG}")
        # A track never resolved here (queued before a restart, say) is read from the API first.
        other = await resolver.fetch_stream(f"spotify:track:{LIVE_FIRST}")
    searches = fake.seen("/youtube/v3/search")
    assert [s.query["q"] for s in searches] == [
        "The Tides - Harbour Lights",
        "Juno Vale Kit Marr - Open Road",
    ]
    assert searches[0].query["maxResults"] == "8"
    # The live version (first hit), the karaoke one and the long video lose to the Topic upload.
    assert [r.target for r in extractor.requests] == [
        "https://www.youtube.com/watch?v=aaaaaaaaaa4",
        "https://www.youtube.com/watch?v=aaaaaaaaaa4",
        "https://www.youtube.com/watch?v=bbbbbbbbbb2",
    ]
    assert resolver.spotify.matched(SONG) == "aaaaaaaaaa4"
    assert media.stream_url.startswith("http://127.0.0.1")
    assert again.id == "aaaaaaaaaa4"
    assert other.id == "bbbbbbbbbb2"
    assert len(fake.seen(f"/v1/tracks/{LIVE_FIRST}")) == 1


async def test_without_a_youtube_key_candidates_come_from_ytdlp(
    fake: FakeSpotify, media_server: MediaServer
) -> None:
    hits = [
        MediaEntry(SourceKind.YOUTUBE, "ccccccccccc", "Harbour Lights (live)", "u", "The Tides", 214.0),
        MediaEntry(SourceKind.YOUTUBE, "ddddddddddd", "The Tides - Harbour Lights", "u", "Fan", 215.0),
    ]
    extractor = ScriptedExtractor(media_server, hits)
    config = spotify_config(fake, youtube_api_key=None)
    async with MediaResolver(config, extractor) as resolver:  # type: ignore[arg-type]
        media = await resolver.fetch_stream(f"spotify:track:{SONG}")
    assert extractor.requests[0].target == "ytsearch8:The Tides - Harbour Lights"
    assert media.id == "ddddddddddd"


async def test_no_plausible_match_is_reported(fake: FakeSpotify, media_server: MediaServer) -> None:
    nothing_alike = [MediaEntry(SourceKind.YOUTUBE, "eeeeeeeeeee", "Cat compilation", "u", "Cats", 214.0)]
    config = spotify_config(fake, youtube_api_key=None)
    async with MediaResolver(config, ScriptedExtractor(media_server, nothing_alike)) as resolver:  # type: ignore[arg-type]
        with pytest.raises(
            NoResultsError, match="Couldn't find “Harbour Lights - 2011 Remaster” by The Tides"
        ):
            await resolver.fetch_stream(f"spotify:track:{SONG}")
        assert resolver.spotify.matched(SONG) is None


async def test_without_credentials_the_missing_settings_are_named(media_server: MediaServer) -> None:
    async with MediaResolver(local_config(), ScriptedExtractor(media_server)) as resolver:  # type: ignore[arg-type]
        for call in (resolver.resolve(f"spotify:album:{ID}"), resolver.fetch_stream(f"spotify:track:{ID}")):
            with pytest.raises(NotConfiguredError, match="SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"):
                await call


async def test_collections_are_not_single_tracks(fake: FakeSpotify, media_server: MediaServer) -> None:
    async with MediaResolver(spotify_config(fake), ScriptedExtractor(media_server)) as resolver:  # type: ignore[arg-type]
        with pytest.raises(MediaError, match="not a single track"):
            await resolver.fetch_stream(f"spotify:album:{sid('album')}")
