"""What survives a restart: the snapshot's JSON form, and `Player.restore` continuing a saved session."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytunes.music.model import (
    AnnounceNowPlaying,
    ArmIdleTimer,
    CancelIdleTimer,
    GateLimits,
    Ignored,
    LeaveReason,
    Phase,
    Player,
    PlayerConfig,
    Requester,
    Restored,
    Resumed,
    ShowPlaying,
    Skipped,
    Snapshot,
    SnapshotError,
    SourceKind,
    Start,
    Started,
    Stop,
    Track,
)
from pytunes.music.model.snapshot import decode, encode
from tests.unit.players import song


def restored(player: Player, saved: Snapshot, position: float) -> Restored:
    result = player.restore(saved, position)
    assert isinstance(result, Restored), result
    return result


# --- the JSON form ----------------------------------------------------------------------------------------

text = st.text(max_size=30)
tracks = st.builds(
    Track,
    title=text,
    source=st.sampled_from(SourceKind),
    locator=st.text(min_size=1, max_size=40),
    url=st.none() | text,
    author=st.none() | text,
    duration=st.none() | st.integers(min_value=1, max_value=10**6),
    is_live=st.booleans(),
    added_by=st.none()
    | st.builds(Requester, user_id=st.integers(min_value=0, max_value=2**63 - 1), name=text),
)
snapshots = st.builds(
    Snapshot,
    current=st.none() | tracks,
    queue=st.lists(tracks, max_size=8).map(tuple),
    history=st.lists(tracks, max_size=10).map(tuple),
    paused=st.booleans(),
)


@given(snapshots)
def test_a_snapshot_survives_its_json_form(saved: Snapshot) -> None:
    back = decode(encode(saved))
    assert back.current == saved.current
    assert back.queue == saved.queue
    assert back.history == saved.history
    assert back.paused == (saved.paused and saved.current is not None), "nothing current is never paused"
    assert [t.id for t in back.queue] == [t.id for t in saved.queue]


def test_unreadable_entries_cost_only_themselves() -> None:
    good = song("good")
    data = json.loads(encode(Snapshot(current=good, queue=(song("a"), song("b")), history=(good,))))
    data["queue"][0]["source"] = "gramophone"  # a source this version does not know
    data["queue"].append({"title": "no locator", "source": "youtube"})
    data["queue"].append("not even an object")
    data["queue"][1]["added_in_a_later_version"] = True
    data["history"][0]["duration"] = -3
    back = decode(json.dumps(data))
    assert back.current == good
    assert [t.title for t in back.queue] == ["b"]
    assert back.history == ()


@pytest.mark.parametrize("stored", ["", "{", "[]", '{"v": 99, "queue": []}', '"text"'])
def test_text_that_is_no_snapshot_is_refused_as_a_whole(stored: str) -> None:
    with pytest.raises(SnapshotError):
        decode(stored)


def test_a_big_queue_stays_one_compact_line() -> None:
    queue = tuple(song(f"track{i}") for i in range(500))
    encoded = encode(Snapshot(current=song("now"), queue=queue))
    assert "\n" not in encoded
    assert ", " not in encoded
    assert len(decode(encoded).queue) == 500


# --- Player.restore -----------------------------------------------------------------------------------------


def test_a_playing_session_continues_from_its_position_without_a_second_now_playing() -> None:
    now, a, b = song("now"), song("a"), song("b")
    older = song("older")
    player = Player()
    result = restored(player, Snapshot(current=now, queue=(a, b), history=(now, older)), 83.5)
    assert (result.track, result.position, result.queued, result.paused) == (now, 83.5, 2, False)
    assert result.effects == (Start(now, player.generation, 83.5),)
    assert player.phase is Phase.STARTING
    assert player.queue == (a, b)
    assert player.start_at == 83.5

    started = player.track_started(player.generation)
    assert isinstance(started, Started)
    assert started.effects == (ShowPlaying(now),), "the resumed track was announced before the restart"
    assert [t.title for t in player.history] == ["now", "older"], "not remembered twice"

    # The next track is announced as usual, and starts from its beginning.
    advanced = player.track_ended(player.generation)
    assert Start(a, player.generation, 0.0) in advanced.effects
    assert player.start_at == 0.0
    assert AnnounceNowPlaying(a) in player.track_started(player.generation).effects


def test_a_paused_session_stays_silent_until_resume_and_then_continues_from_its_position() -> None:
    now, a = song("now"), song("a")
    player = Player(config=PlayerConfig(paused_idle_seconds=1800))
    result = restored(player, Snapshot(current=now, queue=(a,), paused=True), 42.0)
    assert result.paused
    timer = player.idle_timer
    assert timer is not None
    assert result.effects == (ArmIdleTimer(timer.token, 1800, LeaveReason.PAUSED),), "no Start: nothing opens"
    assert player.phase is Phase.PAUSED
    assert player.start_at == 42.0

    resumed = player.resume()
    assert isinstance(resumed, Resumed)
    assert resumed.effects == (Start(now, player.generation, 42.0), CancelIdleTimer(timer.token))
    started = player.track_started(player.generation)
    assert AnnounceNowPlaying(now) not in started.effects


def test_play_while_restored_paused_starts_the_owed_track() -> None:
    now, extra = song("now"), song("extra")
    player = Player()
    restored(player, Snapshot(current=now, paused=True), 10.0)
    result = player.enqueue([extra])
    starts = [e for e in result.effects if isinstance(e, Start)]
    assert starts == [Start(now, player.generation, 10.0)]
    assert not player.paused


def test_skipping_a_track_restored_paused_stops_nothing_and_starts_the_next_from_zero() -> None:
    now, a = song("now"), song("a")
    player = Player()
    restored(player, Snapshot(current=now, queue=(a,), paused=True), 10.0)
    skipped = player.skip()
    assert isinstance(skipped, Skipped)
    assert not any(isinstance(e, Stop) for e in skipped.effects), "its audio never started"
    assert Start(a, player.generation, 0.0) in skipped.effects
    left = player.leave()
    assert Stop(player.generation) in left.effects, "a started track is stopped as usual"


def test_only_history_comes_back_when_nothing_was_playing() -> None:
    history = (song("x"), song("y"))
    player = Player()
    result = restored(player, Snapshot(history=history), 12.0)
    assert (result.track, result.queued, result.effects) == (None, 0, ())
    assert player.history == history
    assert player.phase is Phase.IDLE


def test_the_gates_apply_again_and_a_refused_current_track_gives_way_to_the_next() -> None:
    long, short = song("long", duration=7200), song("short")
    player = Player(config=PlayerConfig(gates=GateLimits(max_seconds=3600)))
    result = restored(player, Snapshot(current=long, queue=(short,)), 600.0)
    assert result.track == short
    assert result.position == 0.0
    assert result.effects == (Start(short, player.generation, 0.0),)
    assert AnnounceNowPlaying(short) in player.track_started(player.generation).effects


@pytest.mark.parametrize("position", [-4.0, float("nan"), float("inf")])
def test_a_nonsense_position_starts_from_the_beginning(position: float) -> None:
    player = Player()
    result = restored(player, Snapshot(current=song("now")), position)
    assert result.position == 0.0
    assert player.start_at == 0.0


def test_repeated_entry_ids_become_separate_entries() -> None:
    now = song("now")
    player = Player()
    restored(player, Snapshot(current=now, queue=(now, now)), 0.0)
    ids = [t.id for t in (player.current, *player.queue) if t is not None]
    assert len(set(ids)) == 3
    assert player.current == now


def test_a_player_already_in_use_is_not_overwritten() -> None:
    player = Player()
    player.enqueue([song("live")])
    result = player.restore(Snapshot(current=song("saved")), 5.0)
    assert isinstance(result, Ignored)
    assert result.effects == ()
    assert player.current is not None
    assert player.current.title == "live"


def test_a_restored_player_snapshots_what_it_restored() -> None:
    saved = Snapshot(current=song("now"), queue=(song("a"),), history=(song("now"), song("b")), paused=True)
    player = Player()
    restored(player, saved, 3.0)
    assert player.snapshot() == saved
