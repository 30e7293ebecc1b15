"""Which YouTube video plays a Spotify track: examples, then properties over random candidate lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytunes.music.media.matching import (
    Candidate,
    Wanted,
    best_match,
    core_title,
    judge,
    normalise,
    search_text,
)

SONG = Wanted("Harbour Lights", ("The Tides",), 214.0)


def test_the_first_hit_is_not_taken_blindly() -> None:
    candidates = [
        Candidate("The Tides - Harbour Lights (Live at the Pier)", "The Tides", 214.0),
        Candidate("Harbour Lights - Piano Cover", "Keys", 213.0),
        Candidate("The Tides - Harbour Lights (Official Video)", "TheTidesVEVO", 251.0),
        Candidate("Harbour Lights", "The Tides - Topic", 215.0),
    ]
    assert best_match(SONG, candidates) == 3


def test_within_three_seconds_beats_a_better_title() -> None:
    candidates = [
        Candidate("The Tides - Harbour Lights (Official Video)", "TheTidesVEVO", 240.0),
        Candidate("harbour lights", "some uploader", 216.5),
    ]
    assert best_match(SONG, candidates) == 1


def test_a_studio_version_wins_even_off_length_over_a_live_one() -> None:
    candidates = [
        Candidate("The Tides - Harbour Lights LIVE", "The Tides", 214.0),
        Candidate("The Tides - Harbour Lights (Official Video)", "TheTidesVEVO", 240.0),
    ]
    assert best_match(SONG, candidates) == 1


def test_a_live_spotify_track_wants_the_live_video() -> None:
    live = Wanted("Harbour Lights - Live at the Pier", ("The Tides",), 280.0)
    candidates = [
        Candidate("The Tides - Harbour Lights", "The Tides - Topic", 214.0),
        Candidate("The Tides - Harbour Lights (Live at the Pier)", "The Tides", 281.0),
    ]
    assert best_match(live, candidates) == 1


def test_only_livestreams_or_unrelated_videos_mean_no_match() -> None:
    assert best_match(SONG, []) is None
    assert best_match(SONG, [Candidate("Harbour Lights", "The Tides", None, is_live=True)]) is None
    assert best_match(SONG, [Candidate("Top 10 lighthouses", "Travel", 214.0)]) is None
    assert best_match(SONG, [Candidate("Harbour Lights (10 hours)", "Loops", 36000.0)]) is None


def test_unknown_durations_still_match_by_words() -> None:
    unknown = Wanted("Harbour Lights", ("The Tides",), None)
    candidates = [
        Candidate("Harbour Lights karaoke", "x", None),
        Candidate("Harbour Lights", "The Tides", None),
    ]
    assert best_match(unknown, candidates) == 1


@pytest.mark.parametrize(
    ("title", "core"),
    [
        ("Yesterday - Remastered 2009", "Yesterday"),
        ("Let It Be - 2021 Remaster", "Let It Be"),
        ("Song (feat. Somebody)", "Song"),
        ("Song - Radio Edit", "Song"),
        ("Song - Live at Wembley", "Song - Live at Wembley"),
        ("Song - Artist Remix", "Song - Artist Remix"),
    ],
)
def test_spotify_noise_is_dropped_from_titles(title: str, core: str) -> None:
    assert core_title(title) == core


def test_search_text_and_normalising() -> None:
    assert search_text(Wanted("Halo (feat. X)", ("Beyoncé", "X", "Y"), 200.0)) == "Beyoncé X - Halo"
    assert normalise("Beyoncé – HALO!") == "beyonce halo"


def test_channels_count_as_the_artist_even_squashed() -> None:
    vevo = judge(SONG, Candidate("Harbour Lights", "TheTidesVEVO", 214.0))
    stranger = judge(SONG, Candidate("Harbour Lights", "Someone", 214.0))
    assert vevo.closeness > stranger.closeness


# ------------------------------------------------------------------------------------------ properties

words = st.sampled_from(["harbour", "lights", "tides", "road", "open", "night", "blue", "river", "gold"])
markers = st.sampled_from(["", " (Live)", " karaoke", " cover", " (Official Video)", " [Lyrics]", " remix"])
candidates = st.builds(
    Candidate,
    title=st.builds(lambda ws, m: " ".join(ws) + m, st.lists(words, min_size=1, max_size=4), markers),
    channel=st.one_of(st.none(), st.sampled_from(["The Tides", "The Tides - Topic", "fan", "VEVO"])),
    duration=st.one_of(st.none(), st.floats(min_value=1, max_value=4000)),
    is_live=st.booleans(),
)
PERFECT = Candidate("The Tides - Harbour Lights", "The Tides - Topic", 214.0)


@given(st.lists(candidates, max_size=8))
def test_the_pick_is_a_candidate_and_never_a_livestream(found: list[Candidate]) -> None:
    index = best_match(SONG, found)
    if index is not None:
        assert 0 <= index < len(found)
        assert not found[index].is_live
        assert judge(SONG, found[index]).viable


@given(st.lists(candidates, max_size=8), st.data())
def test_a_perfect_upload_is_always_as_good_as_the_pick(found: list[Candidate], data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(found)))
    found.insert(position, PERFECT)
    index = best_match(SONG, found)
    assert index is not None
    chosen = judge(SONG, found[index])
    assert chosen.viable
    assert not chosen.other_version
    assert chosen.within_tolerance


@given(st.lists(candidates, min_size=1, max_size=8), st.randoms())
def test_the_kind_of_pick_does_not_depend_on_youtube_order(found: list[Candidate], rng: object) -> None:
    index = best_match(SONG, found)
    shuffled = list(found)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    other = best_match(SONG, shuffled)
    assert (index is None) == (other is None)
    if index is not None and other is not None:
        first, second = judge(SONG, found[index]), judge(SONG, shuffled[other])
        assert first.key(0)[:-1] == second.key(0)[:-1]


@given(st.lists(candidates, max_size=8))
def test_a_studio_version_is_preferred_over_other_versions(found: list[Candidate]) -> None:
    index = best_match(SONG, found)
    if index is None:
        return
    studio_exists = any(
        not c.is_live and judge(SONG, c).viable and not judge(SONG, c).other_version for c in found
    )
    if studio_exists:
        assert not judge(SONG, found[index]).other_version
