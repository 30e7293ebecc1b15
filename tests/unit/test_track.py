"""Tracks, their display helpers and the length/livestream gates."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytunes.music.model import (
    GateLimits,
    Reason,
    Requester,
    SourceKind,
    Track,
    check_track,
    clean_duration,
    clip,
    format_duration,
    may_cache,
    needs_probe,
    progress_bar,
    progress_text,
)


def make(
    *,
    source: SourceKind = SourceKind.YOUTUBE,
    duration: int | None = 200,
    is_live: bool = False,
    url: str | None = "https://www.youtube.com/watch?v=abc",
    title: str = "Song",
) -> Track:
    return Track(title=title, source=source, locator="abc", url=url, duration=duration, is_live=is_live)


# --- the track itself ---------------------------------------------------------------------------------


def test_every_track_gets_its_own_id_and_fresh_keeps_everything_else() -> None:
    requester = Requester(user_id=7, name="alice")
    track = Track(title="Song", source=SourceKind.SPOTIFY, locator="ytsearch1:A - Song", added_by=requester)
    other = Track(title="Song", source=SourceKind.SPOTIFY, locator="ytsearch1:A - Song", added_by=requester)
    assert track.id != other.id
    assert len(track.id) == 32
    copy = track.fresh()
    assert copy.id != track.id
    assert dataclasses.replace(copy, id=track.id) == track
    assert copy.added_by == requester
    assert copy.same_song(track)


def test_same_song_compares_source_and_locator() -> None:
    assert make().same_song(make())
    assert not make().same_song(make(source=SourceKind.SEARCH))
    assert not make().same_song(dataclasses.replace(make(), locator="other"))


@pytest.mark.parametrize("duration", [0, -5, True])
def test_track_refuses_durations_that_are_not_positive_whole_seconds(duration: int) -> None:
    with pytest.raises(ValueError, match="duration"):
        make(duration=duration)


def test_track_refuses_a_float_duration() -> None:
    with pytest.raises(ValueError, match="duration"):
        Track(title="x", source=SourceKind.YOUTUBE, locator="x", duration=1.5)  # type: ignore[arg-type]


def test_track_needs_a_locator() -> None:
    with pytest.raises(ValueError, match="locator"):
        Track(title="x", source=SourceKind.YOUTUBE, locator="")


def test_tracks_are_immutable() -> None:
    track = make()
    with pytest.raises(dataclasses.FrozenInstanceError):
        track.title = "other"  # type: ignore[misc]


def test_display_title_and_short_title() -> None:
    assert make(title="  ").display_title == "Untitled"
    long = make(title="x" * 300)
    assert len(long.short_title) == 100
    assert long.short_title.endswith("…")
    assert make(title="Song").short_title == "Song"


def test_duration_text_for_known_unknown_and_live() -> None:
    assert make(duration=65).duration_text == "01:05"
    assert make(duration=None).duration_text == "--:--"
    assert make(duration=None, is_live=True).duration_text == "LIVE"


def test_requester_name() -> None:
    assert make().requester_name is None
    assert dataclasses.replace(make(), added_by=Requester(1, "bob")).requester_name == "bob"


@pytest.mark.parametrize(
    ("source", "label", "emoji"),
    [
        (SourceKind.YOUTUBE, "YouTube", "🎬"),
        (SourceKind.SPOTIFY, "Spotify", "🟢"),
        (SourceKind.LOCAL, "Local file", "📁"),
        (SourceKind.DIRECT, "Web link", "🔗"),
        (SourceKind.ATTACHMENT, "Upload", "📎"),
        (SourceKind.SEARCH, "Search", "🔍"),
    ],
)
def test_every_source_has_a_label_and_an_emoji(source: SourceKind, label: str, emoji: str) -> None:
    assert source.label == label
    assert source.emoji == emoji
    assert source.text == f"{emoji} {label}"


def test_location_line_is_the_link_or_where_the_track_comes_from() -> None:
    assert make().location_line == "https://www.youtube.com/watch?v=abc"
    assert make(url=None).location_line == "🎬 YouTube"
    # A local track's file:// URL is nothing a user can open.
    assert make(source=SourceKind.LOCAL, url="file:///music/a.mp3").location_line == "📁 Local file"


def test_clip() -> None:
    assert clip("abc", 3) == "abc"
    assert clip("abcd", 3) == "ab…"
    with pytest.raises(ValueError, match="positive"):
        clip("abc", 0)


# --- durations ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "00:00"),
        (5, "00:05"),
        (59.9, "00:59"),
        (65, "01:05"),
        (599, "09:59"),
        (3599, "59:59"),
        (3600, "1:00:00"),
        (3723, "1:02:03"),
        (36000 + 61, "10:01:01"),
        (-3, "00:00"),
        (math.nan, "00:00"),
        (math.inf, "00:00"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (212, 212),
        (212.4, 212),
        (212.6, 213),
        ("212.0", 212),
        (" 90 ", 90),
        (0.4, 1),
        (0, None),
        (-1, None),
        (math.nan, None),
        (math.inf, None),
        ("NA", None),
        ("", None),
        (None, None),
        (True, None),
        ([212], None),
    ],
)
def test_clean_duration(raw: object, seconds: int | None) -> None:
    assert clean_duration(raw) == seconds


# --- progress bar -------------------------------------------------------------------------------------


def test_progress_bar_rendering() -> None:
    assert progress_bar(0, 100, 11) == "●──────────"
    assert progress_bar(50, 100, 11) == "━━━━━●─────"
    assert progress_bar(100, 100, 11) == "━━━━━━━━━━●"
    assert progress_bar(99, 100, 11) == "━━━━━━━━━●─", "the knob reaches the end only when the track is over"
    assert progress_bar(500, 100, 11) == "━━━━━━━━━━●"
    assert progress_bar(-5, 100, 11) == "●──────────"
    assert progress_bar(30, None, 5) == "●────"
    assert progress_bar(30, 0, 5) == "●────"
    assert progress_bar(math.nan, 100, 5) == "●────"
    assert progress_bar(3, 10, 1) == "●"
    with pytest.raises(ValueError, match="width"):
        progress_bar(1, 2, 0)


@given(
    elapsed=st.floats(allow_nan=True, allow_infinity=True),
    total=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    width=st.integers(min_value=1, max_value=60),
)
def test_progress_bar_always_has_the_requested_width_and_one_knob(
    elapsed: float, total: float | None, width: int
) -> None:
    bar = progress_bar(elapsed, total, width)
    assert len(bar) == width
    assert bar.count("●") == 1


def test_progress_text() -> None:
    assert progress_text(83, 245, width=5) == "━●─── 01:23 / 04:05"
    assert progress_text(250, 245, width=5) == "━━━━● 04:05 / 04:05", "never past the end"
    assert progress_text(83, None, width=5) == "●──── 01:23 / --:--"
    assert progress_text(83, 245, width=5, live=True) == "●──── 01:23 / LIVE"
    assert progress_text(3725, 7200, width=5) == "━━●── 1:02:05 / 2:00:00"


# --- gates --------------------------------------------------------------------------------------------

LIMITS = GateLimits()


def test_tracks_up_to_an_hour_pass_and_longer_ones_are_refused() -> None:
    assert check_track(make(duration=3600), LIMITS) is None
    refused = check_track(make(duration=3601, title="Long mix"), LIMITS)
    assert refused is not None
    assert refused.reason is Reason.TOO_LONG
    assert refused.message == "“Long mix” is 1:00:01 long, over the 60-minute maximum."
    assert not refused.ok


def test_unknown_durations_pass_until_probed() -> None:
    track = make(duration=None)
    assert check_track(track, LIMITS) is None
    assert needs_probe(track)
    assert not needs_probe(make(duration=100))
    assert not needs_probe(make(duration=None, is_live=True)), "liveness already decides"
    assert not needs_probe(make(source=SourceKind.LOCAL, duration=None)), "local files are never probed"


def test_livestreams_are_refused_unless_allowed() -> None:
    live = make(duration=None, is_live=True, title="Radio")
    refused = check_track(live, LIMITS)
    assert refused is not None
    assert refused.reason is Reason.LIVESTREAM
    assert "Radio" in refused.message
    assert check_track(live, GateLimits(allow_livestreams=True)) is None


def test_local_files_have_no_cap() -> None:
    assert check_track(make(source=SourceKind.LOCAL, duration=5 * 3600), LIMITS) is None


def test_the_cap_is_configurable_and_can_be_lifted() -> None:
    assert check_track(make(duration=5 * 3600), GateLimits(max_seconds=None)) is None
    refused = check_track(make(duration=100), GateLimits(max_seconds=90))
    assert refused is not None
    assert "01:30 maximum" in refused.message
    assert check_track(make(duration=100), GateLimits(max_seconds=120)) is None


def test_stream_only_threshold_decides_caching_not_playing() -> None:
    assert may_cache(make(duration=600), LIMITS)
    assert not may_cache(make(duration=601), LIMITS)
    assert check_track(make(duration=601), LIMITS) is None
    assert may_cache(make(duration=None), LIMITS), "unknown lengths are cached, as in the reference bot"
    assert may_cache(make(source=SourceKind.SPOTIFY), LIMITS)
    assert may_cache(make(source=SourceKind.SEARCH), LIMITS)
    assert not may_cache(make(is_live=True, duration=None), GateLimits(allow_livestreams=True))
    for source in (SourceKind.LOCAL, SourceKind.DIRECT, SourceKind.ATTACHMENT):
        assert not may_cache(make(source=source), LIMITS)
