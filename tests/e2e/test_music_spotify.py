"""Spotify links as people use them, against a local fake of the Spotify Web API and of the YouTube Data
API (no network): the confirmations, the queue, paging with the track limit, the API's failures (a revoked
token included), a bot without credentials, and which YouTube video a track is matched to when it plays.

Playing the matched YouTube video needs the internet, so playback is reported and skipped, as in
test_music_pickers; what is asserted is what the bot chose and said.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pytunes.music.spotify_matches import SpotifyMatchStore
from tests.e2e.command_world import CommandWorld, command_world, followup, reset_room, say, slash, titled
from tests.e2e.music_world import Room
from tests.media.conftest import MediaServer
from tests.media.fake_spotify import CLIENT_ID, CLIENT_SECRET, FakeSpotify, fake_spotify, sid
from tests.media.test_spotify import LIVE_FIRST, SONG, catalogue

__all__ = ["fake_spotify"]  # the fixture, used by name

pytestmark = pytest.mark.slow

LIMIT = 55


@pytest.fixture(scope="module")
async def sw(
    tmp_path_factory: pytest.TempPathFactory, fake_spotify: FakeSpotify
) -> AsyncIterator[CommandWorld]:
    catalogue(fake_spotify)
    async with command_world(
        Path(tmp_path_factory.mktemp("spotify")) / "music.db",
        spotify_client_id=CLIENT_ID,
        spotify_client_secret=CLIENT_SECRET,
        spotify_api_base_url=fake_spotify.api_base_url,
        spotify_token_url=fake_spotify.token_url,
        spotify_max_tracks=LIMIT,
        youtube_api_key="yt-key",
        youtube_api_base_url=fake_spotify.youtube_base_url,
    ) as world:
        yield world


@pytest.fixture(scope="module")
async def unconfigured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CommandWorld]:
    async with command_world(Path(tmp_path_factory.mktemp("no-spotify")) / "music.db") as world:
        yield world


@pytest.fixture(autouse=True)
def fresh_fake(fake_spotify: FakeSpotify) -> None:
    fake_spotify.reset()


async def pause_a_long_track(sw: CommandWorld, room: Room, media_server: MediaServer) -> None:
    """Alice joins voice and a long track starts, then is paused: what is played next only queues."""
    await room.alice.join_voice(room.voice)
    await say(sw, room, f"!play {media_server.url('/media/long440.webm')}", "🎵  Now playing")
    await say(sw, room, "!pause", "⏸️  Paused")


async def test_a_track_link_is_queued_then_matched_to_the_studio_upload(
    sw: CommandWorld, fake_spotify: FakeSpotify
) -> None:
    room = sw.room
    await room.alice.join_voice(room.voice)
    link = f"https://open.spotify.com/intl-de/track/{SONG}?si=0123abcd"
    queuing = await say(sw, room, f"!play {link}", "⏳  Queuing…")
    assert "spotify" in queuing.text()
    added = await sw.sim.wait_for_message(room.text, titled(sw, "🎵  Track added"), after=queuing, timeout=15)
    assert "Harbour Lights - 2011 Remaster" in added.text()
    assert "Spotify" in added.text()
    assert f"https://open.spotify.com/track/{SONG}" in added.text()

    # Offline the matched video can't be fetched: reported, and nothing claims it played.
    failure = await sw.sim.wait_for_message(
        room.text, titled(sw, "🚫  Playback error"), after=added, timeout=40
    )
    assert "Harbour Lights" in failure.text()
    searches = fake_spotify.seen("/youtube/v3/search")
    assert [s.query["q"] for s in searches] == ["The Tides - Harbour Lights"]
    # Not the first hit (a live recording), not the karaoke one of the right length: the Topic upload.
    assert sw.bot.music.resolver.spotify.matched(SONG) == "aaaaaaaaaa4"
    # Kept in the bot's database too, so a restart plays the same video without searching.
    assert await SpotifyMatchStore(sw.bot.database.engine).get(SONG) == "aaaaaaaaaa4"
    assert len(fake_spotify.token_requests) <= 1
    await reset_room(sw, room)


async def test_slash_play_a_long_playlist_queues_up_to_the_limit(
    sw: CommandWorld, fake_spotify: FakeSpotify, media_server: MediaServer
) -> None:
    room = sw.room
    await pause_a_long_track(sw, room, media_server)

    record = await slash(sw, room, "play", query=f"spotify:playlist:{sid('playlist')}")
    added = await followup(sw, record, "Road Trip")
    assert "Playlist added to queue" in added.text()
    assert f"Playlist length: {LIMIT}" in added.text()
    assert f"Only the first {LIMIT} tracks were taken" in added.text()
    assert "4 item(s) can't be played" in added.text()
    pages = fake_spotify.seen(f"/v1/playlists/{sid('playlist')}/items")
    assert [p.query["offset"] for p in pages] == ["0", "50"]
    assert all(int(p.query["limit"]) <= 50 for p in pages)

    queue = await say(sw, room, "!queue", "📜  Queue")
    assert "Playlist Song 0" in queue.text()
    assert f"Queue length: {LIMIT}" in queue.text()
    assert [t.source.value for t in sw.music(room).player.queue][:2] == ["spotify", "spotify"]
    assert sw.music(room).player.queue[0].locator == f"spotify:track:{sid('pl0')}"
    assert not fake_spotify.seen("/youtube/"), "queuing searches nothing on YouTube"
    await say(sw, room, "!clear", "🧹  Queue cleared")
    await reset_room(sw, room)


async def test_an_album_and_an_artist_are_confirmed_by_name(
    sw: CommandWorld, media_server: MediaServer
) -> None:
    room = sw.room
    await pause_a_long_track(sw, room, media_server)
    album = await say(sw, room, f"!play spotify:album:{sid('album')}", "🎵  Playlist added")
    assert "Low Tide — The Tides" in album.text()
    assert f"Playlist length: {LIMIT}" in album.text()
    artist = await say(
        sw, room, f"!play https://open.spotify.com/artist/{sid('artist')}", "🎵  Playlist added"
    )
    assert "Top tracks of The Tides" in artist.text()
    assert "Playlist length: 1" in artist.text()
    await reset_room(sw, room)


async def test_api_failures_are_explained(sw: CommandWorld, fake_spotify: FakeSpotify) -> None:
    room = sw.room
    await room.alice.join_voice(room.voice)
    fake_spotify.fail("/v1/tracks", 503)
    broken = await say(sw, room, f"!play spotify:track:{LIVE_FIRST}", "🚫  Could not play that")
    assert "Spotify is having trouble right now (HTTP 503)" in broken.text()
    fake_spotify.fail("/v1/tracks", 429, headers={"Retry-After": "600"})
    limited = await say(sw, room, f"!play spotify:track:{LIVE_FIRST}", "🚧  Too many requests")
    assert "try again in 10 minutes" in limited.text()
    missing = await say(sw, room, f"!play spotify:track:{sid('gone')}", "🔎  No results")
    assert "Spotify doesn't know that item" in missing.text()
    assert sw.bot_channel(room) is None, "nothing to play, so the bot stays out of voice"
    await reset_room(sw, room)


async def test_a_revoked_token_is_renewed_once_between_two_plays(
    sw: CommandWorld, fake_spotify: FakeSpotify, media_server: MediaServer
) -> None:
    room = sw.room
    # Something paused is playing, so the Spotify tracks only queue: the requests asserted are the plays'.
    await pause_a_long_track(sw, room, media_server)
    queuing = await say(sw, room, f"!play spotify:track:{SONG}", "⏳  Queuing…")
    await sw.sim.wait_for_message(room.text, titled(sw, "🎵  Track added", "Harbour Lights"), after=queuing)
    assert len(fake_spotify.token_requests) == 1

    fake_spotify.expire_tokens()  # revoked by Spotify; the bot's cache still believes in it
    queuing = await say(sw, room, f"!play https://open.spotify.com/track/{LIVE_FIRST}", "⏳  Queuing…")
    added = await sw.sim.wait_for_message(room.text, titled(sw, "🎵  Track added"), after=queuing)
    assert "Open Road" in added.text()
    assert len(fake_spotify.token_requests) == 2, "exactly one new token"
    tries = fake_spotify.seen(f"/v1/tracks/{LIVE_FIRST}")
    assert [r.headers["Authorization"] for r in tries] == ["Bearer token-1", "Bearer token-2"]
    assert [t.title for t in sw.music(room).player.queue] == ["Harbour Lights - 2011 Remaster", "Open Road"]
    await say(sw, room, "!clear", "🧹  Queue cleared")
    await reset_room(sw, room)


async def test_without_credentials_the_owner_is_told_what_to_set(unconfigured: CommandWorld) -> None:
    room = unconfigured.room
    await room.alice.join_voice(room.voice)
    reply = await say(unconfigured, room, f"!play https://open.spotify.com/track/{SONG}", "⚙️  Not set up")
    assert "SPOTIFY_CLIENT_ID" in reply.text()
    assert "SPOTIFY_CLIENT_SECRET" in reply.text()
    assert not [m for m in unconfigured.sim.messages(room.text) if "Queuing" in m.text()], "no false start"
    record = await slash(unconfigured, room, "play", query=f"spotify:playlist:{sid('playlist')}")
    assert record.response is not None
    assert "SPOTIFY_CLIENT_ID" in record.response.text() or await followup(
        unconfigured, record, "SPOTIFY_CLIENT_ID"
    )
    # Podcasts are refused with a reason, not searched for on YouTube.
    podcast = await say(
        unconfigured, room, f"!play https://open.spotify.com/episode/{SONG}", "🚫  Could not play that"
    )
    assert "podcasts" in podcast.text()
    assert not [m for m in unconfigured.sim.messages(room.text) if "Search results" in m.text()]
    await reset_room(unconfigured, room)
