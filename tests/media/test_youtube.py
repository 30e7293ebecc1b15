"""YouTube links in every form, and how a `play` argument is classified (pure: no network)."""

from __future__ import annotations

import pytest

from pytunes.music.media.errors import EmptyQueryError, UnsupportedSourceError
from pytunes.music.media.resolver import QueryKind, classify
from pytunes.music.media.youtube import parse_timestamp, parse_youtube_url

VID = "dQw4w9WgXcQ"
PL = "PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI"
WATCH = f"https://www.youtube.com/watch?v={VID}"


@pytest.mark.parametrize(
    ("link", "start_at"),
    [
        (WATCH, 0),
        (f"http://youtube.com/watch?v={VID}&feature=share", 0),
        (f"https://m.youtube.com/watch?v={VID}", 0),
        (f"m.youtube.com/watch?v={VID}", 0),
        (f"www.youtube.com/watch?v={VID}", 0),
        (f"youtube.com/watch?v={VID}", 0),
        (f"https://music.youtube.com/watch?v={VID}&list=RDAMVM{VID}", 0),
        (f"https://youtu.be/{VID}", 0),
        (f"youtu.be/{VID}?si=AbCdEf123", 0),
        (f"https://youtu.be/{VID}?t=42", 42),
        (f"https://youtu.be/{VID}?si=x&t=1m30s", 90),
        (f"https://www.youtube.com/shorts/{VID}?feature=share", 0),
        (f"https://youtube.com/shorts/{VID}", 0),
        (f"https://www.youtube.com/embed/{VID}?start=15", 15),
        (f"https://www.youtube-nocookie.com/embed/{VID}", 0),
        (f"https://www.youtube.com/live/{VID}?si=abc", 0),
        (f"https://www.youtube.com/v/{VID}", 0),
        (f"https://www.youtube.com/e/{VID}", 0),
        (f"{WATCH}&t=1h2m3s", 3723),
        (f"{WATCH}&t=90s", 90),
        (f"{WATCH}#t=2m", 120),
        (f"{WATCH}&time_continue=7", 7),
        (f"{WATCH}&t=junk", 0),
        (f"HTTPS://WWW.YOUTUBE.COM/watch?v={VID}", 0),
        (f"<{WATCH}>", 0),
        (f"  {WATCH}  ", 0),
    ],
)
def test_every_video_link_form_becomes_the_canonical_watch_url(link: str, start_at: float) -> None:
    query = classify(link)
    assert query.kind is QueryKind.YOUTUBE_VIDEO
    assert query.text == WATCH
    assert query.video_id == VID
    assert query.start_at == start_at


@pytest.mark.parametrize(
    "link",
    [
        f"{WATCH}&list={PL}",
        f"{WATCH}&list={PL}&index=3",
        f"https://youtu.be/{VID}?list={PL}",
        f"https://music.youtube.com/watch?v={VID}&list={PL}",
    ],
)
def test_a_video_inside_a_playlist_plays_the_video(link: str) -> None:
    query = classify(link)
    assert query.kind is QueryKind.YOUTUBE_VIDEO
    assert query.text == WATCH
    assert query.playlist_id == PL, "kept for the caller, who may offer the whole playlist"


@pytest.mark.parametrize(
    "link",
    [
        f"https://www.youtube.com/playlist?list={PL}",
        f"https://youtube.com/playlist?list={PL}&si=xyz",
        f"https://m.youtube.com/playlist?list={PL}",
        f"https://music.youtube.com/playlist?list={PL}",
        f"https://www.youtube.com/watch?list={PL}",
        f"https://www.youtube.com/embed/videoseries?list={PL}",
        f"youtube.com/playlist?list={PL}",
    ],
)
def test_pure_playlist_links_queue_the_playlist(link: str) -> None:
    query = classify(link)
    assert query.kind is QueryKind.YOUTUBE_PLAYLIST
    assert query.text == f"https://www.youtube.com/playlist?list={PL}"
    assert query.playlist_id == PL


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("https://www.youtube.com/watch?v=tooshort", "no valid video id"),
        ("https://youtu.be/", "no video or playlist"),
        ("https://www.youtube.com/@RickAstleyYT", "not that page"),
        ("https://www.youtube.com/feed/trending", "not that page"),
        ("https://www.youtube.com/playlist?list=WL", "private"),
        ("https://www.youtube.com/playlist?list=LL", "private"),
        (f"https://www.youtube.com/playlist?list=RD{VID}", "mixes"),
        ("https://www.youtube.com/playlist?list=bad!id", "no video or playlist"),
    ],
)
def test_youtube_links_that_are_not_playable_say_why(link: str, reason: str) -> None:
    with pytest.raises(UnsupportedSourceError, match=reason):
        classify(link)


@pytest.mark.parametrize(
    "link",
    [
        f"https://notyoutube.com/watch?v={VID}",
        f"https://youtube.com.evil.example/watch?v={VID}",
        f"https://evil.example/youtube.com/watch?v={VID}",
        f"ftp://youtube.com/watch?v={VID}",
    ],
)
def test_lookalikes_are_ordinary_links(link: str) -> None:
    assert parse_youtube_url(link) is None
    assert classify(link).kind is QueryKind.URL


@pytest.mark.parametrize(
    ("text", "kind", "normalised"),
    [
        ("never gonna give you up", QueryKind.SEARCH, "never gonna give you up"),
        ("  daft punk  ", QueryKind.SEARCH, "daft punk"),
        ("artist: song (live)", QueryKind.SEARCH, "artist: song (live)"),
        ("--exec 'rm -rf /'", QueryKind.SEARCH, "--exec 'rm -rf /'"),
        ("https://example.com/a.mp3", QueryKind.URL, "https://example.com/a.mp3"),
        ("<https://example.com/a.mp3>", QueryKind.URL, "https://example.com/a.mp3"),
        ("www.example.com/a.mp3", QueryKind.URL, "https://www.example.com/a.mp3"),
        ("file:///etc/passwd", QueryKind.URL, "file:///etc/passwd"),
    ],
)
def test_classification_of_other_arguments(text: str, kind: QueryKind, normalised: str) -> None:
    query = classify(text)
    assert query.kind is kind
    assert query.text == normalised


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_query(text: str) -> None:
    with pytest.raises(EmptyQueryError):
        classify(text)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0),
        ("42", 42),
        ("42s", 42),
        ("1m", 60),
        ("1m5s", 65),
        ("2h", 7200),
        ("1h0m1s", 3601),
        ("1.5", 1.5),
    ],
)
def test_timestamps(value: str, seconds: float) -> None:
    assert parse_timestamp(value) == seconds
