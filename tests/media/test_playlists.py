"""m3u/pls playlists behind direct links: refused from untrusted hosts; from trusted ones only public web
links are taken, and nothing a playlist lists is ever opened as a local path."""

from __future__ import annotations

import pytest

from pytunes.music.media.errors import NoResultsError, UnsupportedSourceError
from pytunes.music.media.playlists import (
    PlaylistPolicy,
    is_playlist,
    parse_hosts,
    parse_playlist,
    safe_entry,
)
from pytunes.music.media.resolver import MediaResolver, QueryKind
from pytunes.music.media.safety import UrlGuard
from tests.media.conftest import MediaServer, playlist_m3u

TRUSTED = PlaylistPolicy(frozenset({"localhost"}))


@pytest.fixture
def trusted_resolver(resolver: MediaResolver) -> MediaResolver:
    """The resolver with `localhost` a trusted playlist host (127.0.0.1 is not)."""
    resolver.playlist_policy = TRUSTED
    return resolver


@pytest.mark.parametrize("path", ["/lists/radio.m3u", "/lists/radio.pls", "/lists/song.mp3"])
async def test_playlists_from_untrusted_hosts_are_refused(
    trusted_resolver: MediaResolver, media_server: MediaServer, path: str
) -> None:
    seen = len(media_server.requests)
    with pytest.raises(UnsupportedSourceError, match="only read from hosts the bot's operator trusts"):
        await trusted_resolver.resolve(media_server.url(path))
    # Nothing the playlist lists was requested.
    assert all(p.startswith("/lists/") for p in media_server.paths()[seen:])


async def test_no_host_is_trusted_by_default(resolver: MediaResolver, media_server: MediaServer) -> None:
    with pytest.raises(UnsupportedSourceError, match="playlist file"):
        await resolver.resolve(media_server.url("/lists/radio.m3u", "localhost"))


async def test_a_trusted_m3u_queues_only_its_web_links(
    trusted_resolver: MediaResolver, media_server: MediaServer
) -> None:
    seen = len(media_server.requests)
    resolution = await trusted_resolver.resolve(
        media_server.url("/lists/radio.m3u?host=localhost", "localhost")
    )
    assert resolution.kind is QueryKind.URL
    assert [e.title for e in resolution.entries] == ["Tone six-sixty", "Tone eight-eighty"]
    assert [e.url for e in resolution.entries] == [
        media_server.url("/media/tone660.mp3", "localhost"),
        media_server.url("/media/tone880.m4a", "localhost"),
    ]
    assert resolution.title == "radio.m3u"
    assert resolution.skipped == 8, "every entry that is no web link is counted, for the confirmation"
    assert not resolution.truncated
    # Reading the list fetched the list and nothing else: entries are only opened when they play.
    assert media_server.paths()[seen:] == ["/lists/radio.m3u"]


async def test_a_trusted_pls_keeps_titles_and_lengths(
    trusted_resolver: MediaResolver, media_server: MediaServer
) -> None:
    resolution = await trusted_resolver.resolve(
        media_server.url("/lists/radio.pls?host=localhost", "localhost")
    )
    assert len(resolution.entries) == 1
    entry = resolution.entries[0]
    assert (entry.title, entry.duration) == ("Tone four-forty", 3.0)
    assert entry.url == media_server.url("/media/tone440.webm", "localhost")


async def test_a_trusted_list_of_local_paths_plays_nothing(
    trusted_resolver: MediaResolver, media_server: MediaServer
) -> None:
    with pytest.raises(NoResultsError, match="never opened"):
        await trusted_resolver.resolve(media_server.url("/lists/local.m3u", "localhost"))


async def test_entries_are_checked_again_when_they_play(
    trusted_resolver: MediaResolver, media_server: MediaServer
) -> None:
    resolution = await trusted_resolver.resolve(
        media_server.url("/lists/radio.m3u?host=localhost", "localhost")
    )
    stream = await trusted_resolver.fetch_stream(resolution.entries[0].url)
    assert stream.acodec == "mp3"


async def test_hls_manifests_are_not_track_lists(resolver: MediaResolver, media_server: MediaServer) -> None:
    resolver.playlist_policy = PlaylistPolicy(frozenset({"127.0.0.1"}))
    with pytest.raises(UnsupportedSourceError, match="no audio the bot can stream"):
        await resolver.resolve(media_server.url("/list.m3u8"))


async def test_ordinary_links_are_untouched(resolver: MediaResolver, media_server: MediaServer) -> None:
    resolution = await resolver.resolve(media_server.url("/media/tone660.mp3"))
    assert len(resolution.entries) == 1


@pytest.mark.parametrize(
    "entry",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "/etc/passwd",
        "etc/passwd",
        "../secret.mp3",
        "C:\\music\\a.mp3",
        "\\\\server\\share\\a.mp3",
        "smb://server/a.mp3",
        "ftp://example.org/a.mp3",
        "http:/etc/passwd",
        "http:etc/passwd",
        "data:audio/mp3;base64,AAAA",
        "http://127.0.0.1/a.mp3",
        "http://localhost/a.mp3",
        "http://169.254.169.254/",
        "http://user@example.org/a.mp3",
        "https://exa mple.org/a.mp3",
    ],
)
def test_entries_that_are_not_public_web_links_are_dropped(entry: str) -> None:
    assert safe_entry(entry, UrlGuard()) is None


def test_public_entries_are_kept_in_canonical_form() -> None:
    checked = safe_entry("HTTPS://Example.ORG/a%20b.mp3", UrlGuard())
    assert checked is not None
    assert checked.url == "https://example.org/a%20b.mp3"


def test_parsing_is_bounded() -> None:
    text = "\n".join(f"https://example.org/{i}.mp3" for i in range(500))
    kept, dropped, truncated = parse_playlist(text, UrlGuard(), max_entries=200)
    assert (len(kept), dropped, truncated) == (200, 0, True)


def test_private_entries_are_dropped_even_in_a_trusted_list(media_server: MediaServer) -> None:
    kept, dropped, _ = parse_playlist(playlist_m3u(media_server), UrlGuard(), max_entries=50)
    assert kept == []
    assert dropped == 10


def test_detection_and_host_list() -> None:
    assert is_playlist("https://x.org/a.M3U", None)
    assert is_playlist("https://x.org/listen", "audio/x-scpls")
    assert is_playlist("https://x.org/a.mp3", "audio/x-mpegurl; charset=utf-8")
    assert not is_playlist("https://x.org/a.m3u8", "application/vnd.apple.mpegurl")
    assert not is_playlist("https://x.org/a.mp3", "audio/mpeg")
    assert parse_hosts(" Radio.Example.org, https://cdn.example.net:8443/x ,,") == {
        "radio.example.org",
        "cdn.example.net",
    }
    policy = PlaylistPolicy(parse_hosts("example.org"))
    assert policy.trusts("example.org")
    assert policy.trusts("radio.example.org")
    assert not policy.trusts("evilexample.org")
    assert not policy.trusts("example.org.evil.net")


def test_pls_entry_numbers_may_be_zero_padded() -> None:
    text = (
        "[playlist]\nFile01=https://example.org/one.mp3\nTitle01=One\nLength1=61\n"
        "File2=https://example.org/two.mp3\nTitle002=Two\nNumberOfEntries=2\n"
    )
    kept, dropped, truncated = parse_playlist(text, UrlGuard(), max_entries=10)
    assert [(e.url, e.title, e.duration) for e in kept] == [
        ("https://example.org/one.mp3", "One", 61.0),
        ("https://example.org/two.mp3", "Two", None),
    ]
    assert (dropped, truncated) == (0, False)
