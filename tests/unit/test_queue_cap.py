"""The queue cap: a list that does not fit is cut at its end and says so, a full queue refuses and
changes nothing, and a restored session from before the cap is trimmed to it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pytunes.music.model import (
    MAX_QUEUE_TRACKS,
    Added,
    Player,
    PlayerConfig,
    Reason,
    Restored,
    Snapshot,
    queue_cut_text,
)
from tests.unit.players import added, refused, song, state


def test_the_default_cap_is_a_thousand_upcoming_tracks() -> None:
    player = Player()
    tracks = [song(f"s{i}") for i in range(1_200)]
    result = added(player.enqueue(tracks))
    assert player.current == tracks[0]
    assert player.queue == tuple(tracks[1 : MAX_QUEUE_TRACKS + 1]), "the first ones, in order"
    assert result.cut == 1_200 - 1 - MAX_QUEUE_TRACKS
    assert queue_cut_text(MAX_QUEUE_TRACKS, len(result.tracks)) == (
        "The queue holds at most 1,000 tracks; added the first 1001."
    )

    before = state(player)
    full = refused(player.enqueue([song("one more")]))
    assert full.reason is Reason.QUEUE_FULL
    assert "at most 1,000 tracks" in full.message
    assert state(player) == before, "refused: nothing changed"


def test_playnow_and_playtop_on_a_full_queue() -> None:
    player = Player(config=PlayerConfig(max_queue=2))
    added(player.enqueue([song("a"), song("b"), song("c")]))
    assert len(player.queue) == 2
    refused(player.enqueue([song("top")], top=True))
    now = added(player.play_now([song("x"), song("y")]))
    assert [t.title for t in now.tracks] == ["x"], "the first starts at once; no room for the second"
    assert now.cut == 1
    assert player.current is not None
    assert player.current.title == "x"
    assert [t.title for t in player.queue] == ["b", "c"]
    player.pause()
    # Paused: `playtop` cuts the paused track off and starts the new head, which frees one place.
    top = added(player.enqueue([song("t1"), song("t2")], top=True))
    assert [t.title for t in top.tracks] == ["t1"]
    assert top.cut == 1
    assert player.current is not None
    assert player.current.title == "t1"


def test_a_restored_queue_is_trimmed_to_the_cap() -> None:
    saved = Snapshot(current=song("now"), queue=tuple(song(f"q{i}") for i in range(5)))
    player = Player(config=PlayerConfig(max_queue=3))
    result = player.restore(saved, 12.0)
    assert isinstance(result, Restored)
    assert [t.title for t in player.queue] == ["q0", "q1", "q2"]
    assert result.queued == 3


@given(
    cap=st.integers(min_value=1, max_value=6),
    queued=st.integers(min_value=0, max_value=8),
    adding=st.integers(min_value=1, max_value=8),
    top=st.booleans(),
    now=st.booleans(),
)
def test_the_queue_never_grows_past_the_cap(cap: int, queued: int, adding: int, top: bool, now: bool) -> None:
    player = Player(config=PlayerConfig(max_queue=cap))
    for i in range(queued):
        player.enqueue([song(f"old{i}")])
    before = len(player.queue)
    tracks = [song(f"new{i}") for i in range(adding)]
    result = player.play_now(tracks) if now else player.enqueue(tracks, top=top)
    assert len(player.queue) <= cap
    if isinstance(result, Added):
        assert len(result.tracks) + result.cut == adding
        assert [t.title for t in result.tracks] == [f"new{i}" for i in range(len(result.tracks))]
    else:
        assert refused(result).reason is Reason.QUEUE_FULL
        assert len(player.queue) == before
