"""Which YouTube video plays a Spotify track: examples, then properties over random candidate lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytunes.music.media.matching import (
    Candidate,
    Wanted,
    best_match,
    carries_artist,
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
        Candidate("the tides harbour lights", "some uploader", 216.5),
    ]
    assert best_match(SONG, candidates) == 1


HALO = Wanted("Halo", ("Beyoncé",), 261.0)


def test_the_same_title_by_another_artist_is_another_song() -> None:
    candidates = [
        Candidate("Halo", "Random Band", 262.0),
        Candidate("Beyoncé - Halo (Official Video)", "BeyonceVEVO", 270.0),
    ]
    assert best_match(HALO, candidates) == 1
    assert best_match(HALO, candidates[:1]) is None


def test_an_unrelated_video_sharing_a_word_is_no_match() -> None:
    assert best_match(HALO, [Candidate("Halo 3 OST - Never Forget", "Halo Music", 255.0)]) is None
    # Even by the right artist, a short title must be there whole.
    assert best_match(SONG, [Candidate("The Tides - Harbour Nights", "The Tides", 214.0)]) is None


@pytest.mark.parametrize(
    "candidate",
    [
        Candidate("Halo", "Beyoncé - Topic", 261.0),
        Candidate("Halo", "BeyonceVEVO", 261.0),
        Candidate("Halo (Official Audio)", "Beyonce Official", 261.0),
        Candidate("BEYONCE - HALO", "lyrics4u", 261.0),
    ],
)
def test_the_artist_counts_in_a_topic_vevo_or_official_channel_and_accents_fold(
    candidate: Candidate,
) -> None:
    assert best_match(HALO, [Candidate("Halo", "Halo fans", 261.0), candidate]) == 1
    assert best_match(Wanted("Halo", ("Beyonce",), 261.0), [candidate]) == 0


@pytest.mark.parametrize(
    ("artist", "title", "channel", "carried"),
    [
        ("The Beatles", "Let It Be", "TheBeatlesVEVO", True),
        ("The Beatles", "Let It Be", "Beatles VEVO", True),
        ("Simon & Garfunkel", "Simon and Garfunkel - The Boxer", None, True),
        ("Røyksopp", "Royksopp - Eple", None, True),
        ("Sigur Rós", "Hoppípolla", "Sigur Ros - Topic", True),
        ("U2", "One", "U2VEVO", True),
        ("U2", "U2 - One (Live)", "fan", True),
        ("U2", "One", "Mu2ic Channel", False),
        ("MØ", "Lean On", "MO - Topic", True),
        ("Halo", "Never Forget", "Halo Music", True),
        ("Beyoncé", "Halo", "Random Band", False),
    ],
)
def test_where_an_artist_is_found(artist: str, title: str, channel: str | None, carried: bool) -> None:
    assert carries_artist(artist, title, channel) is carried


def test_featured_artists_are_not_required_but_help() -> None:
    wanted = Wanted("Lean On (feat. MØ & DJ Snake)", ("Major Lazer", "MØ", "DJ Snake"), 176.0)
    audio = Candidate("Lean On", "Major Lazer - Topic", 176.0)
    assert best_match(wanted, [audio]) == 0
    # A featured artist alone is not the track: the main artist must be there.
    assert best_match(wanted, [Candidate("MØ - Lean On", "MØ", 176.0)]) is None
    both = Candidate("Major Lazer & DJ Snake - Lean On (feat. MØ)", "Major Lazer Official", 176.0)
    assert judge(wanted, both).closeness > judge(wanted, audio).closeness
    assert best_match(wanted, [Candidate("Lean On", "Major Lazer", 176.0), both]) == 1


def test_without_credited_artists_the_title_decides() -> None:
    anonymous = Wanted("Harbour Lights", (), 214.0)
    assert best_match(anonymous, [Candidate("Harbour Lights", "anyone", 214.0)]) == 0


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
    assert normalise("Don’t Stop Me Now") == normalise("Dont stop me now") == "dont stop me now"


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
    channel=st.one_of(
        st.none(), st.sampled_from(["The Tides", "The Tides - Topic", "fan", "VEVO", "Tide Pod", "Marr"])
    ),
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


@given(st.lists(candidates, max_size=8))
def test_the_pick_always_names_the_primary_artist(found: list[Candidate]) -> None:
    index = best_match(SONG, found)
    if index is not None:
        assert carries_artist("The Tides", found[index].title, found[index].channel)
    without_artist = [c for c in found if not carries_artist("The Tides", c.title, c.channel)]
    assert best_match(SONG, without_artist) is None


@given(candidates, st.lists(st.sampled_from(["Kit Marr", "Juno", "fan"]), max_size=3))
def test_featured_artists_never_change_what_is_viable(candidate: Candidate, featured: list[str]) -> None:
    credited = Wanted(SONG.title, (*SONG.artists, *featured), SONG.duration)
    assert judge(credited, candidate).viable == judge(SONG, candidate).viable


@given(
    st.builds(
        Candidate,
        title=st.sampled_from(["Halo", "Beyoncé - Halo", "BEYONCE HALO (Live)", "Halo 3 OST"]),
        channel=st.sampled_from([None, "Beyoncé - Topic", "BeyonceVEVO", "Halo Music", "fan"]),
        duration=st.one_of(st.none(), st.floats(min_value=1, max_value=600)),
    )
)
def test_accents_never_change_a_judgement(candidate: Candidate) -> None:
    accented, plain = Wanted("Halo", ("Beyoncé",), 261.0), Wanted("Halo", ("BEYONCE",), 261.0)
    assert judge(accented, candidate) == judge(plain, candidate)
