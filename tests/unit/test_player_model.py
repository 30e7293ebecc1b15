"""The pure player: every command and event alone (random sequences: test_player_machine.py)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import pytest

from pytunes.music.model import (
    Advanced,
    AnnounceFailure,
    AnnounceNowPlaying,
    ArmIdleTimer,
    CancelIdleTimer,
    Cleared,
    Disconnect,
    GateLimits,
    Ignored,
    LeaveReason,
    Left,
    Pause,
    Paused,
    Phase,
    Player,
    PlayerConfig,
    Reason,
    Refused,
    Removed,
    Resume,
    Resumed,
    SetVolume,
    ShowIdle,
    ShowPlaying,
    Shuffled,
    SilentChanged,
    Skipped,
    Start,
    Started,
    Stop,
    Stopped,
    Track,
    VolumeChanged,
    VolumeRequest,
    parse_toggle,
    parse_volume,
)
from tests.unit.players import ALICE, added, playing, refused, song, state, timer_token

# --- a fresh player -------------------------------------------------------------------------------------


def test_a_new_player_is_idle_and_quiet() -> None:
    player = Player()
    assert player.phase is Phase.IDLE
    assert player.current is None
    assert player.queue == ()
    assert player.history == ()
    assert player.volume == 50
    assert not player.silent
    assert not player.paused
    assert player.idle_timer is None
    assert player.generation == 0


@pytest.mark.parametrize("volume", [0, 501, True])
def test_a_player_refuses_an_impossible_starting_volume(volume: int) -> None:
    with pytest.raises(ValueError, match="volume"):
        Player(volume=volume)


# --- play / playtop / playnow ----------------------------------------------------------------------------


def test_play_on_an_idle_player_starts_the_track_and_announces_only_once_it_plays() -> None:
    player = Player()
    track = song("a")
    result = added(player.enqueue([track]))
    assert result.tracks == (track,)
    assert result.position == 1
    assert result.starts_now
    assert result.effects == (Start(track, player.generation),)
    assert player.current == track
    assert player.phase is Phase.STARTING
    assert player.queue == ()
    assert not player.history, "history holds started tracks; this one is still resolving"
    started = player.track_started(player.generation)
    assert started == Started(track=track, effects=(ShowPlaying(track), AnnounceNowPlaying(track)))
    assert player.phase.value == "playing"
    assert player.history == (track,)


def test_play_while_playing_appends_without_effects() -> None:
    player, (a, b) = playing("a", "b")
    c = song("c")
    result = added(player.enqueue([c]))
    assert result.position == 2
    assert not result.starts_now
    assert result.effects == ()
    assert player.queue == (b, c)
    assert player.current == a


def test_playtop_inserts_in_front_keeping_the_given_order() -> None:
    player, (_a, b) = playing("a", "b")
    c, d = song("c"), song("d")
    result = added(player.enqueue([c, d], top=True))
    assert result.position == 1
    assert result.effects == ()
    assert player.queue == (c, d, b)


def test_play_while_paused_resumes_the_paused_track() -> None:
    player, (a,) = playing("a")
    player.pause()
    token = timer_token(player)
    b = song("b")
    result = added(player.enqueue([b]))
    assert result.resumed
    assert not result.starts_now
    assert result.effects == (Resume(player.generation), CancelIdleTimer(token))
    assert player.current == a
    assert player.queue == (b,)
    assert player.phase is Phase.PLAYING
    assert player.idle_timer is None


def test_playtop_while_paused_cuts_the_paused_track_off_and_its_late_end_changes_nothing() -> None:
    player, (a, b) = playing("a", "b")
    player.pause()
    old_generation, token = player.generation, timer_token(player)
    c = song("c")
    result = added(player.enqueue([c], top=True))
    assert result.starts_now
    assert result.replaced == a
    assert result.effects == (Stop(old_generation), CancelIdleTimer(token), Start(c, player.generation))
    assert player.current == c
    assert player.queue == (b,), "the cut-off track is not requeued"
    assert not player.paused
    # The voice library reports the stopped track as ended; that must not advance again.
    before = state(player)
    assert isinstance(player.track_ended(old_generation), Ignored)
    assert state(player) == before


def test_playnow_replaces_the_current_track_and_keeps_the_queue() -> None:
    player, (a, b) = playing("a", "b")
    old_generation = player.generation
    c = song("c")
    result = added(player.play_now([c]))
    assert result.starts_now
    assert result.replaced == a
    assert result.effects == (Stop(old_generation), Start(c, player.generation))
    assert player.current == c
    assert player.queue == (b,)


def test_playnow_with_an_empty_queue_is_not_undone_by_the_old_tracks_end() -> None:
    # The reference bot marked itself idle here while the new track kept playing, and armed the timer.
    player, (_a,) = playing("a")
    old_generation = player.generation
    c = song("c")
    added(player.play_now([c]))
    assert isinstance(player.track_ended(old_generation), Ignored)
    assert player.current == c
    assert player.idle_timer is None


def test_playnow_on_an_idle_player_cancels_the_idle_timer() -> None:
    player, _ = playing("a")
    player.stop()
    token = timer_token(player)
    c = song("c")
    result = added(player.play_now([c]))
    assert result.replaced is None
    assert result.effects == (CancelIdleTimer(token), Start(c, player.generation))
    assert player.idle_timer is None


def test_playnow_with_a_playlist_splices_it_in_front_in_order() -> None:
    player, (_a, b) = playing("a", "b")
    c, d, e = song("c"), song("d"), song("e")
    added(player.play_now([c, d, e]))
    assert player.current == c
    assert player.queue == (d, e, b)


def test_a_track_known_to_be_too_long_is_refused_and_nothing_changes() -> None:
    player, _ = playing("a")
    before = state(player)
    result = refused(player.enqueue([song("long", duration=3601)]))
    assert result.reason is Reason.TOO_LONG
    assert state(player) == before
    assert refused(player.play_now([song("long", duration=3601)])).reason is Reason.TOO_LONG
    assert state(player) == before


def test_a_known_livestream_is_refused() -> None:
    player = Player()
    assert refused(player.enqueue([song("radio", duration=None, is_live=True)])).reason is Reason.LIVESTREAM
    assert player.phase is Phase.IDLE


def test_livestreams_and_long_tracks_can_be_allowed_by_configuration() -> None:
    player = Player(config=PlayerConfig(gates=GateLimits(max_seconds=None, allow_livestreams=True)))
    added(player.enqueue([song("radio", duration=None, is_live=True), song("long", duration=99999)]))
    assert len(player.queue) == 1


def test_a_playlist_drops_what_the_gates_refuse_and_reports_it() -> None:
    player = Player()
    ok, long, live = song("ok"), song("long", duration=7200), song("live", duration=None, is_live=True)
    result = added(player.enqueue([long, ok, live]))
    assert result.tracks == (ok,)
    assert [(track, problem.reason) for track, problem in result.dropped] == [
        (long, Reason.TOO_LONG),
        (live, Reason.LIVESTREAM),
    ]
    assert player.current == ok


def test_a_playlist_with_nothing_playable_is_refused() -> None:
    player = Player()
    result = refused(player.enqueue([song("x", duration=7200), song("y", duration=7200)]))
    assert result.reason is Reason.NOTHING_TO_ADD
    assert result.message == "None of the 2 tracks can be played (too long, or livestreams)."
    assert refused(player.enqueue([])).reason is Reason.NOTHING_TO_ADD
    assert refused(player.play_now([])).reason is Reason.NOTHING_TO_ADD
    assert player.phase is Phase.IDLE


def test_the_same_track_pushed_twice_becomes_two_entries() -> None:
    player, (a,) = playing("a")
    b = song("b")
    added(player.enqueue([b]))
    again = added(player.enqueue([b, a]))
    ids = [player.current.id if player.current else None] + [t.id for t in player.queue]
    assert len(set(ids)) == 4
    assert all(new.same_song(old) for new, old in zip(again.tracks, (b, a), strict=True))
    removed = player.remove(1)
    assert isinstance(removed, Removed)
    assert removed.track == b
    assert player.queue == again.tracks, "removing one entry leaves its twin alone"


# --- skip -------------------------------------------------------------------------------------------------


def test_skip_with_nothing_playing_is_refused() -> None:
    assert refused(Player().skip()).reason is Reason.NOTHING_PLAYING


def test_skip_one_starts_the_next_and_the_skipped_tracks_end_is_stale() -> None:
    player, (_a, b, c) = playing("a", "b", "c")
    old = player.generation
    result = player.skip()
    assert result == Skipped(count=1, next=b, effects=(Stop(old), Start(b, player.generation)))
    assert player.queue == (c,)
    before = state(player)
    assert isinstance(player.track_ended(old), Ignored)
    assert isinstance(player.track_failed(old, "stopped"), Ignored)
    assert state(player) == before


@pytest.mark.parametrize("amount", [0, -3])
def test_skip_zero_or_less_skips_one_and_says_one(amount: int) -> None:
    player, (_a, b) = playing("a", "b")
    result = player.skip(amount)
    assert isinstance(result, Skipped)
    assert result.count == 1
    assert player.current == b


def test_skip_n_counts_the_current_track() -> None:
    player, tracks = playing("a", "b", "c", "d", "e")
    result = player.skip(3)
    assert isinstance(result, Skipped)
    assert result.count == 3
    assert result.next == tracks[3]
    assert player.current == tracks[3]
    assert player.queue == (tracks[4],)


def test_skipping_past_the_end_stops_and_reports_what_was_actually_skipped() -> None:
    player, _ = playing("a", "b", "c")
    old = player.generation
    result = player.skip(10)
    assert isinstance(result, Skipped)
    assert result.count == 3
    assert result.next is None
    assert result.effects == (Stop(old), ShowIdle(), ArmIdleTimer(timer_token(player), 300, LeaveReason.IDLE))
    assert player.phase is Phase.IDLE
    assert player.queue == ()


def test_skip_while_paused_unpauses_and_cancels_the_paused_timer() -> None:
    player, (_a, b) = playing("a", "b")
    player.pause()
    token = timer_token(player)
    result = player.skip()
    assert isinstance(result, Skipped)
    assert CancelIdleTimer(token) in result.effects
    assert player.current == b
    assert not player.paused
    assert player.idle_timer is None


# --- stop / pause / resume --------------------------------------------------------------------------------


def test_stop_clears_the_queue_and_arms_the_idle_timer() -> None:
    player, (a, _b, _c) = playing("a", "b", "c")
    old = player.generation
    result = player.stop()
    assert result == Stopped(
        track=a,
        cleared=2,
        effects=(Stop(old), ShowIdle(), ArmIdleTimer(timer_token(player), 300, LeaveReason.IDLE)),
    )
    assert player.phase is Phase.IDLE
    assert player.queue == ()
    assert isinstance(player.track_ended(old), Ignored), "a stopped track's end does not advance"


def test_stop_when_idle_is_refused() -> None:
    player, _ = playing("a")
    player.stop()
    before = state(player)
    assert refused(player.stop()).reason is Reason.NOTHING_PLAYING
    assert state(player) == before


def test_stop_while_paused_replaces_the_paused_timer() -> None:
    player, _ = playing("a")
    player.pause()
    paused_token = timer_token(player)
    result = player.stop()
    assert isinstance(result, Stopped)
    assert result.effects[-2:] == (
        CancelIdleTimer(paused_token),
        ArmIdleTimer(timer_token(player), 300, LeaveReason.IDLE),
    )


def test_pause_holds_the_track_and_arms_the_long_idle_timer() -> None:
    player, (a,) = playing("a")
    result = player.pause()
    assert result == Paused(
        track=a,
        effects=(Pause(player.generation), ArmIdleTimer(timer_token(player), 1800, LeaveReason.PAUSED)),
    )
    assert player.phase is Phase.PAUSED
    assert refused(player.pause()).reason is Reason.ALREADY_PAUSED


def test_pause_with_nothing_playing_is_refused() -> None:
    assert refused(Player().pause()).reason is Reason.NOTHING_PLAYING


def test_resume_cancels_the_paused_timer() -> None:
    player, (a,) = playing("a")
    player.pause()
    token = timer_token(player)
    assert player.resume() == Resumed(track=a, effects=(Resume(player.generation), CancelIdleTimer(token)))
    assert player.phase is Phase.PLAYING
    assert player.idle_timer is None


def test_resume_distinguishes_not_paused_from_nothing_playing() -> None:
    # The reference bot said "No song playing" to a resume while a song was playing.
    nothing = refused(Player().resume())
    assert nothing.reason is Reason.NOTHING_PLAYING
    player, _ = playing("a")
    not_paused = refused(player.resume())
    assert not_paused.reason is Reason.NOT_PAUSED
    assert not_paused.message == "Playback is not paused."


def test_pause_while_resolving_holds_the_track_as_soon_as_it_starts() -> None:
    player = Player()
    a = song("a")
    added(player.enqueue([a]))
    generation = player.generation
    assert isinstance(player.pause(), Paused)
    assert player.phase is Phase.PAUSED
    started = player.track_started(generation)
    assert isinstance(started, Started)
    assert started.effects[-1] == Pause(generation)
    assert player.phase is Phase.PAUSED


# --- clear / remove / shuffle / queue pages -------------------------------------------------------------


def test_clear_empties_the_queue_and_keeps_the_current_track() -> None:
    player, (a, _b, _c) = playing("a", "b", "c")
    assert player.clear() == Cleared(count=2)
    assert player.queue == ()
    assert player.current == a
    assert refused(player.clear()).reason is Reason.EMPTY_QUEUE


def test_remove_is_one_based_and_refuses_out_of_range_clearly() -> None:
    player, (_a, b, c, d) = playing("a", "b", "c", "d")
    assert player.remove(2) == Removed(position=2, track=c)
    assert player.queue == (b, d)
    for position in (0, 3, -1):
        problem = refused(player.remove(position))
        assert problem.reason is Reason.INVALID_POSITION
        assert f"no position {position} in the queue" in problem.message
        assert "pick 1 to 2" in problem.message
    assert player.queue == (b, d)


def test_remove_from_an_empty_queue_is_refused() -> None:
    player, _ = playing("a")
    assert refused(player.remove(1)).reason is Reason.EMPTY_QUEUE


def test_shuffle_uses_the_injected_random_source() -> None:
    player, tracks = playing(*"abcdefgh")
    upcoming = list(player.queue)
    assert player.shuffle(random.Random(4)) == Shuffled(count=7)
    random.Random(4).shuffle(upcoming)
    assert list(player.queue) == upcoming
    assert sorted(t.id for t in player.queue) == sorted(t.id for t in tracks[1:])
    assert player.current == tracks[0]


def test_shuffle_of_an_empty_queue_is_refused() -> None:
    player, _ = playing("a")
    assert refused(player.shuffle(random.Random(0))).reason is Reason.EMPTY_QUEUE


def test_queue_pages_hold_ten_and_clamp_the_page_number() -> None:
    player, tracks = playing(*(f"t{i}" for i in range(26)))
    first = player.queue_page(1)
    assert (first.page, first.pages, first.total) == (1, 3, 25)
    assert [position for position, _ in first.entries] == list(range(1, 11))
    assert first.entries[0][1] == tracks[1]
    last = player.queue_page(3)
    assert [position for position, _ in last.entries] == list(range(21, 26))
    assert player.queue_page(0) == first
    assert player.queue_page(99) == last
    empty = Player().queue_page(5)
    assert (empty.entries, empty.page, empty.pages, empty.total) == ((), 1, 1, 0)


# --- volume and silent -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "percent", "overdrive"),
    [
        ("50", 50, False),
        ("1", 1, False),
        ("100", 100, False),
        ("150!", 150, True),
        ("150 !", 150, True),
        ("  500!  ", 500, True),
        ("57!", 57, True),
        ("57.5", 58, False),
        ("57,4", 57, False),
        ("99.5", 100, False),
        ("80%", 80, False),
        ("1.0", 1, False),
        ("+20", 20, False),
    ],
)
def test_parse_volume_accepts(text: str, percent: int, overdrive: bool) -> None:
    assert parse_volume(text) == VolumeRequest(percent=percent, overdrive=overdrive)


@pytest.mark.parametrize(
    ("text", "reason", "hint"),
    [
        ("150", Reason.VOLUME_OUT_OF_RANGE, "Add ! (e.g. `150!`)"),
        ("100.4", Reason.VOLUME_OUT_OF_RANGE, "above 100%"),
        ("0", Reason.VOLUME_OUT_OF_RANGE, "at least 1%"),
        ("0.5", Reason.VOLUME_OUT_OF_RANGE, "at least 1%"),
        ("-5", Reason.VOLUME_OUT_OF_RANGE, "at least 1%"),
        ("501!", Reason.VOLUME_OUT_OF_RANGE, "even overdrive stops at 500%"),
        ("abc", Reason.INVALID_VOLUME, "Invalid volume value: “abc”"),
        ("", Reason.INVALID_VOLUME, "Invalid volume value"),
        ("1e3", Reason.INVALID_VOLUME, "Invalid volume value"),
        ("nan", Reason.INVALID_VOLUME, "Invalid volume value"),
        ("inf!", Reason.INVALID_VOLUME, "Invalid volume value"),
        ("50!!", Reason.INVALID_VOLUME, "Invalid volume value"),
        ("5 0", Reason.INVALID_VOLUME, "Invalid volume value"),
    ],
)
def test_parse_volume_refuses(text: str, reason: Reason, hint: str) -> None:
    result = parse_volume(text)
    assert isinstance(result, Refused)
    assert result.reason is reason
    assert hint in result.message


def test_parse_volume_keeps_absurd_input_out_of_the_message() -> None:
    result = parse_volume("9" * 5000)
    assert isinstance(result, Refused)
    assert len(result.message) < 200


@pytest.mark.parametrize(("percent", "overdrive"), [(0, False), (101, False), (501, True), (True, False)])
def test_a_volume_request_cannot_hold_an_out_of_range_value(percent: int, overdrive: bool) -> None:
    with pytest.raises(ValueError, match="outside"):
        VolumeRequest(percent=percent, overdrive=overdrive)


def test_set_volume_stores_whole_percent_and_applies_it() -> None:
    player = Player(volume=30)
    request = parse_volume("57.4")
    assert isinstance(request, VolumeRequest)
    assert player.set_volume(request) == VolumeChanged(before=30, after=57, effects=(SetVolume(57),))
    assert player.volume == 57
    assert f"{player.volume}%" == "57%", "an integer percent never shows float artifacts"
    overdrive = parse_volume("250!")
    assert isinstance(overdrive, VolumeRequest)
    player.set_volume(overdrive)
    assert player.volume == 250


@pytest.mark.parametrize("word", ["on", "ON", "true", "1", "yes", "y", " Y "])
def test_parse_toggle_on_words(word: str) -> None:
    assert parse_toggle(word, current=False) is True


@pytest.mark.parametrize("word", ["off", "False", "0", "no", "n"])
def test_parse_toggle_off_words(word: str) -> None:
    assert parse_toggle(word, current=True) is False


def test_parse_toggle_without_an_argument_toggles_and_refuses_nonsense() -> None:
    assert parse_toggle(None, current=False) is True
    assert parse_toggle("  ", current=True) is False
    problem = parse_toggle("maybe", current=False)
    assert isinstance(problem, Refused)
    assert problem.reason is Reason.INVALID_TOGGLE
    assert "`on` or `off`" in problem.message


def test_silent_mode_suppresses_only_now_playing() -> None:
    player = Player()
    assert player.set_silent(True) == SilentChanged(silent=True)
    a, b = song("a"), song("b")
    added(player.enqueue([a, b]))
    started = player.track_started(player.generation)
    assert started.effects == (ShowPlaying(a),)
    failed = player.track_failed(player.generation, "403 Forbidden")
    assert any(isinstance(effect, AnnounceFailure) for effect in failed.effects)
    player.set_silent(False)
    assert AnnounceNowPlaying(b) in player.track_started(player.generation).effects


# --- playback events ---------------------------------------------------------------------------------------


def test_a_natural_end_starts_the_next_track() -> None:
    player, (a, b) = playing("a", "b")
    result = player.track_ended(player.generation)
    assert result == Advanced(finished=a, next=b, effects=(Start(b, player.generation),))
    assert player.current == b
    assert player.phase is Phase.STARTING


def test_the_end_of_the_last_track_goes_idle_and_arms_the_timer() -> None:
    player, (a,) = playing("a")
    result = player.track_ended(player.generation)
    assert result == Advanced(
        finished=a, next=None, effects=(ShowIdle(), ArmIdleTimer(timer_token(player), 300, LeaveReason.IDLE))
    )
    assert player.phase is Phase.IDLE
    assert player.history == (a,)


def test_an_end_before_the_start_was_confirmed_still_advances() -> None:
    player = Player()
    a, b = song("a"), song("b")
    added(player.enqueue([a, b]))
    result = player.track_ended(player.generation)
    assert isinstance(result, Advanced)
    assert player.current == b
    assert player.history == ()


def test_events_for_unknown_generations_are_ignored() -> None:
    player, _ = playing("a", "b")
    before = state(player)
    for generation in (0, player.generation + 1, -1):
        assert isinstance(player.track_ended(generation), Ignored)
        assert isinstance(player.track_failed(generation, "x"), Ignored)
        assert isinstance(player.track_started(generation), Ignored)
    assert isinstance(player.track_started(player.generation), Ignored), "already started"
    assert state(player) == before


def test_an_end_after_going_idle_is_ignored() -> None:
    player, _ = playing("a")
    generation = player.generation
    player.track_ended(generation)
    before = state(player)
    assert isinstance(player.track_ended(generation), Ignored)
    assert state(player) == before


def test_a_playback_error_is_reported_and_the_queue_moves_on() -> None:
    # The reference bot logged the error and stalled with a dead handle.
    player, (a, b) = playing("a", "b")
    generation = player.generation
    result = player.track_failed(generation, "HTTP Error 403")
    assert isinstance(result, Advanced)
    assert result.failure is not None
    assert result.failure.reason is Reason.PLAYBACK_ERROR
    assert result.failure.message == "Could not play “a”: HTTP Error 403"
    assert result.effects == (
        Stop(generation),
        AnnounceFailure(a, result.failure),
        Start(b, player.generation),
    )
    assert player.current == b


def test_a_failure_before_starting_is_not_history() -> None:
    player = Player()
    a = song("a")
    added(player.enqueue([a]))
    result = player.track_failed(player.generation, "")
    assert isinstance(result, Advanced)
    assert result.failure is not None
    assert result.failure.message.endswith("unknown error")
    assert player.history == ()
    assert player.phase is Phase.IDLE
    assert player.idle_timer is not None


def test_the_gates_apply_when_a_queued_track_starts() -> None:
    # The reference bot probed unknown lengths only on the first start, never on a natural advance.
    player, (_a, b, c) = playing("a", "b", "c")
    player.track_ended(player.generation)
    assert player.current == b
    generation = player.generation
    resolved = dataclasses.replace(b, duration=2 * 3600)
    result = player.track_started(generation, resolved)
    assert isinstance(result, Advanced)
    assert result.failure is not None
    assert result.failure.reason is Reason.TOO_LONG
    assert result.effects[0] == Stop(generation)
    assert result.effects[-1] == Start(c, player.generation)
    assert b not in player.history
    assert resolved not in player.history


def test_a_track_that_turns_out_live_is_skipped_with_its_reason() -> None:
    player = Player()
    a = song("a", duration=None)
    added(player.enqueue([a]))
    generation = player.generation
    problem = player.gate(dataclasses.replace(a, is_live=True))
    assert problem is not None
    result = player.track_failed(generation, problem)
    assert isinstance(result, Advanced)
    assert result.failure == problem
    assert result.failure.reason is Reason.LIVESTREAM


def test_started_records_what_resolving_learned() -> None:
    player = Player()
    a = song("a", duration=None)
    added(player.enqueue([a]))
    resolved = dataclasses.replace(a, duration=245)
    result = player.track_started(player.generation, resolved)
    assert result == Started(track=resolved, effects=(ShowPlaying(resolved), AnnounceNowPlaying(resolved)))
    assert player.current == resolved
    assert player.history == (resolved,)


def test_started_must_describe_the_started_entry() -> None:
    player = Player()
    a = song("a")
    added(player.enqueue([a]))
    with pytest.raises(ValueError, match="entry"):
        player.track_started(player.generation, a.fresh())


# --- idle timer, join, leave ---------------------------------------------------------------------------------


def test_the_idle_timer_leaves_voice() -> None:
    player, _ = playing("a")
    player.track_ended(player.generation)
    token = timer_token(player)
    result = player.idle_timer_fired(token)
    assert result == Left(
        reason=LeaveReason.IDLE, track=None, cleared=0, effects=(ShowIdle(), Disconnect(LeaveReason.IDLE))
    )
    assert player.idle_timer is None
    assert isinstance(player.idle_timer_fired(token), Ignored), "a timer fires once"


def test_a_timer_from_an_earlier_idle_period_cannot_fire_into_a_later_one() -> None:
    # The reference bot: idle at T0, play at T1, idle again at T2; the T0 timer went off at T0 + 5 min.
    player, _ = playing("a")
    player.stop()
    first = timer_token(player)
    b = song("b")
    result = added(player.enqueue([b]))
    assert CancelIdleTimer(first) in result.effects
    player.track_started(player.generation)
    player.stop()
    second = timer_token(player)
    assert second != first
    before = state(player)
    assert isinstance(player.idle_timer_fired(first), Ignored)
    assert state(player) == before
    assert isinstance(player.idle_timer_fired(second), Left)


def test_a_long_pause_leaves_voice_and_drops_the_queue() -> None:
    player, (a, _b) = playing("a", "b")
    player.pause()
    generation, token = player.generation, timer_token(player)
    result = player.idle_timer_fired(token)
    assert result == Left(
        reason=LeaveReason.PAUSED,
        track=a,
        cleared=1,
        effects=(Stop(generation), ShowIdle(), Disconnect(LeaveReason.PAUSED)),
    )
    assert player.phase is Phase.IDLE
    assert player.queue == ()


def test_a_resumed_players_pause_timer_is_stale() -> None:
    player, _ = playing("a")
    player.pause()
    token = timer_token(player)
    player.resume()
    assert isinstance(player.idle_timer_fired(token), Ignored)
    assert player.phase is Phase.PLAYING


def test_joining_with_nothing_to_play_arms_the_idle_timer_once() -> None:
    player = Player()
    result = player.joined()
    assert result.effects == (ArmIdleTimer(timer_token(player), 300, LeaveReason.IDLE),)
    assert player.joined().effects == ()
    busy, _ = playing("a")
    assert busy.joined().effects == ()


def test_leave_stops_clears_and_disconnects() -> None:
    player, (a, _b, _c) = playing("a", "b", "c")
    generation = player.generation
    result = player.leave()
    assert result == Left(
        reason=LeaveReason.REQUESTED,
        track=a,
        cleared=2,
        effects=(Stop(generation), ShowIdle(), Disconnect(LeaveReason.REQUESTED)),
    )
    assert player.phase is Phase.IDLE
    assert player.queue == ()
    assert isinstance(player.track_ended(generation), Ignored)


def test_leave_cancels_a_pending_idle_timer() -> None:
    player, _ = playing("a")
    player.stop()
    token = timer_token(player)
    result = player.leave()
    assert result.effects == (CancelIdleTimer(token), ShowIdle(), Disconnect(LeaveReason.REQUESTED))
    assert isinstance(player.idle_timer_fired(token), Ignored)


def test_generations_and_timer_tokens_never_collide() -> None:
    player, _ = playing("a")
    seen = {player.generation}
    for name in "bcdef":
        player.stop()
        seen.add(timer_token(player))
        added(player.enqueue([song(name)]))
        seen.add(player.generation)
    assert len(seen) == 11


# --- history and replay ------------------------------------------------------------------------------------


def play_through(player: Player, tracks: Sequence[Track]) -> None:
    for track in tracks:
        added(player.enqueue([track]))
        player.track_started(player.generation)
        player.track_ended(player.generation)


def test_history_keeps_the_last_ten_started_newest_first() -> None:
    player = Player()
    tracks = [song(f"t{i}") for i in range(13)]
    play_through(player, tracks)
    assert player.history == tuple(reversed(tracks[3:]))


def test_history_collapses_the_same_song_started_twice_in_a_row_only() -> None:
    player = Player()
    a, b = song("a"), song("b")
    play_through(player, [a, a.fresh(), b, a.fresh()])
    assert [t.title for t in player.history] == ["a", "b", "a"]


def test_replay_appends_a_new_entry_that_keeps_its_requester() -> None:
    player = Player()
    a, b = song("a"), song("b")
    play_through(player, [a, b])
    assert refused(player.replay(3)).reason is Reason.INVALID_POSITION
    assert refused(player.replay(0)).reason is Reason.INVALID_POSITION
    result = added(player.replay(2))
    (entry,) = result.tracks
    assert entry.same_song(a)
    assert entry.id != a.id
    assert entry.added_by == ALICE
    assert result.starts_now
    assert player.current == entry


def test_replay_while_paused_appends_and_resumes() -> None:
    player, (a,) = playing("a")
    player.pause()
    result = added(player.replay(1))
    assert result.resumed
    assert player.current == a
    assert player.queue[0].same_song(a)


def test_replay_with_no_history_is_refused() -> None:
    assert refused(Player().replay(1)).reason is Reason.NO_HISTORY
