"""The pure player driven by random sequences of commands and events, against a reference model."""

from __future__ import annotations

import dataclasses
import itertools
import random

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pytunes.music.model import (
    Added,
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
    Player,
    PlayerConfig,
    Reason,
    Refused,
    Removed,
    Restored,
    Result,
    Resume,
    SetVolume,
    ShowIdle,
    ShowPlaying,
    Skipped,
    SourceKind,
    Start,
    Started,
    Stop,
    Stopped,
    Track,
    VolumeRequest,
    check_track,
    parse_volume,
)
from pytunes.music.model.snapshot import decode, encode
from tests.unit.players import state

LIMITS = GateLimits()
# Small, so random runs fill the queue and hit the cap often.
MAX_QUEUE = 4
CONFIG = PlayerConfig(max_queue=MAX_QUEUE)
IDLE_SECONDS = {LeaveReason.IDLE: 300, LeaveReason.PAUSED: 1800}

track_strategy = st.builds(
    Track,
    title=st.sampled_from(["a", "b", "c"]),
    source=st.sampled_from(SourceKind),
    locator=st.sampled_from(["x", "y"]),
    duration=st.sampled_from([None, 90, 3600, 3601]),
    is_live=st.sampled_from([False, False, False, True]),
)
volume_text = st.sampled_from(["50", "150", "150!", "0", "501!", "abc", "7.5", "100"])


class PlayerMachine(RuleBasedStateMachine):
    """Drives a `Player` like the service would, applying every effect to a fake audio engine, and keeps a
    plain-list reference of what the queue, current track and history must be."""

    def __init__(self) -> None:
        super().__init__()
        self.player = Player(config=CONFIG)
        # The fake service.
        self.audio: int | None = None  # the generation whose audio is on (resolving or playing)
        self.audio_paused = False
        self.timers: set[int] = set()
        self.spent_tokens: set[int] = set()
        self.generations: list[int] = []
        self.latest_start: Start | None = None
        # The reference.
        self.ref_current: Track | None = None
        self.ref_queue: list[Track] = []
        self.ref_paused = False
        self.ref_started = False
        self.ref_history: list[Track] = []
        self.dormant = True  # idle without a timer: never played, or left voice
        # After a restart: the restored track's start is owed (restored paused), and it is never announced.
        self.owed = False
        self.quiet: int | None = None

    # --- the fake service ----------------------------------------------------------------------------

    def apply(self, result: Result) -> None:
        if isinstance(result, Refused | Ignored):
            assert result.effects == ()
        for effect in result.effects:
            match effect:
                case Start(track=track, generation=generation):
                    assert self.audio is None, "two tracks at once"
                    assert not self.generations or generation > self.generations[-1]
                    self.audio, self.audio_paused, self.latest_start = generation, False, effect
                    self.generations.append(generation)
                    self.owed = False
                    assert check_track(track, LIMITS) is None
                case Stop(generation=generation):
                    assert self.audio == generation, "stopped something that is not playing"
                    self.audio, self.audio_paused = None, False
                case Pause(generation=generation):
                    assert self.audio == generation
                    self.audio_paused = True
                case Resume(generation=generation):
                    assert self.audio == generation
                    self.audio_paused = False
                case ArmIdleTimer(token=token, seconds=seconds, reason=reason):
                    assert not self.timers, "the previous timer was not cancelled"
                    assert token not in self.spent_tokens
                    assert token not in self.generations
                    assert seconds == IDLE_SECONDS[reason]
                    self.timers.add(token)
                case CancelIdleTimer(token=token):
                    self.timers.remove(token)
                    self.spent_tokens.add(token)
                case AnnounceNowPlaying(track=track):
                    assert not self.player.silent
                    assert self.quiet is None or self.player.generation != self.quiet, "announced twice"
                case Disconnect():
                    assert self.audio is None
                case SetVolume(percent=percent):
                    assert percent == self.player.volume
                case AnnounceFailure() | ShowPlaying() | ShowIdle():
                    pass

    # --- the reference -----------------------------------------------------------------------------------

    def ref_start_head(self) -> None:
        self.ref_current = self.ref_queue.pop(0) if self.ref_queue else None
        self.ref_paused = self.ref_started = self.owed = False
        if self.ref_current is not None:
            self.dormant = False

    def ref_advance(self) -> None:
        self.ref_start_head()
        if self.ref_current is None:
            self.dormant = False  # idle with a timer

    def ref_leave(self) -> None:
        self.ref_current, self.ref_queue, self.ref_paused, self.ref_started = None, [], False, False
        self.dormant = True
        self.owed = False

    # --- commands ------------------------------------------------------------------------------------------

    @rule(tracks=st.lists(track_strategy, max_size=3), top=st.booleans())
    def push(self, tracks: list[Track], top: bool) -> None:
        result = self.player.enqueue(tracks, top=top)
        self.apply(result)
        admissible = [t for t in tracks if check_track(t, LIMITS) is None]
        starts = self.ref_current is None or (self.ref_paused and top)
        room = MAX_QUEUE - len(self.ref_queue) + starts
        if not admissible or room <= 0:
            assert isinstance(result, Refused)
            assert (result.reason is Reason.QUEUE_FULL) == bool(admissible)
            return
        assert isinstance(result, Added)
        assert len(result.tracks) + len(result.dropped) + result.cut == len(tracks)
        assert [t.title for t in result.tracks] == [t.title for t in admissible[:room]], "the first ones"
        assert result.cut == max(len(admissible) - room, 0)
        new = list(result.tracks)
        if top:
            self.ref_queue[0:0] = new
        else:
            self.ref_queue.extend(new)
        if self.ref_current is None or (self.ref_paused and top):
            self.ref_start_head()
        elif self.ref_paused:
            self.ref_paused = False

    @precondition(lambda self: self.ref_queue)
    @rule(data=st.data())
    def push_an_entry_again(self, data: st.DataObject) -> None:
        entry = data.draw(st.sampled_from(self.ref_queue))
        result = self.player.enqueue([entry])
        self.apply(result)
        if len(self.ref_queue) >= MAX_QUEUE:
            assert isinstance(result, Refused)
            assert result.reason is Reason.QUEUE_FULL
            return
        assert isinstance(result, Added)
        (copy,) = result.tracks
        assert copy.id != entry.id
        self.ref_queue.append(copy)
        if self.ref_paused:
            self.ref_paused = False

    @rule(tracks=st.lists(track_strategy, max_size=3))
    def play_now(self, tracks: list[Track]) -> None:
        result = self.player.play_now(tracks)
        self.apply(result)
        if isinstance(result, Refused):
            assert all(check_track(t, LIMITS) is not None for t in tracks)
            return
        room = MAX_QUEUE - len(self.ref_queue) + 1
        assert len(result.tracks) == min(len(result.tracks) + result.cut, room)
        self.ref_queue[0:0] = result.tracks
        self.ref_start_head()

    @rule(count=st.integers(min_value=-1, max_value=6))
    def skip(self, count: int) -> None:
        result = self.player.skip(count)
        self.apply(result)
        if self.ref_current is None:
            assert isinstance(result, Refused)
            return
        dropped = min(max(count, 1) - 1, len(self.ref_queue))
        del self.ref_queue[:dropped]
        assert isinstance(result, Skipped)
        assert result.count == dropped + 1
        self.ref_advance()

    @rule()
    def stop(self) -> None:
        result = self.player.stop()
        self.apply(result)
        if self.ref_current is None and not self.ref_queue:
            assert isinstance(result, Refused)
            return
        assert isinstance(result, Stopped)
        self.ref_queue.clear()
        self.ref_advance()

    @rule()
    def pause(self) -> None:
        result = self.player.pause()
        self.apply(result)
        if self.ref_current is None or self.ref_paused:
            assert isinstance(result, Refused)
        else:
            self.ref_paused = True

    @rule()
    def resume(self) -> None:
        result = self.player.resume()
        self.apply(result)
        if self.ref_current is None or not self.ref_paused:
            assert isinstance(result, Refused)
            expected = Reason.NOTHING_PLAYING if self.ref_current is None else Reason.NOT_PAUSED
            assert result.reason is expected
        else:
            self.ref_paused = False

    @rule()
    def clear(self) -> None:
        result = self.player.clear()
        self.apply(result)
        assert isinstance(result, Cleared) == bool(self.ref_queue)
        self.ref_queue.clear()

    @rule(position=st.integers(min_value=-1, max_value=6))
    def remove(self, position: int) -> None:
        result = self.player.remove(position)
        self.apply(result)
        if 1 <= position <= len(self.ref_queue):
            assert isinstance(result, Removed)
            assert result.track == self.ref_queue.pop(position - 1)
        else:
            assert isinstance(result, Refused)

    @rule(seed=st.integers(min_value=0, max_value=2**16))
    def shuffle(self, seed: int) -> None:
        self.apply(self.player.shuffle(random.Random(seed)))
        random.Random(seed).shuffle(self.ref_queue)

    @rule(text=volume_text)
    def volume(self, text: str) -> None:
        request = parse_volume(text)
        if isinstance(request, VolumeRequest):
            self.apply(self.player.set_volume(request))

    @rule(silent=st.booleans())
    def silent(self, silent: bool) -> None:
        self.apply(self.player.set_silent(silent))

    @rule(position=st.integers(min_value=1, max_value=11))
    def replay(self, position: int) -> None:
        before = state(self.player)
        result = self.player.replay(position)
        self.apply(result)
        # A replay is a `play` of one track: the queue cap applies to it as to `push`.
        room = MAX_QUEUE - len(self.ref_queue) + (self.ref_current is None)
        if position > len(self.ref_history) or room <= 0:
            assert isinstance(result, Refused)
            if not self.ref_history:
                assert result.reason is Reason.NO_HISTORY
            elif position > len(self.ref_history):
                assert result.reason is Reason.INVALID_POSITION
            else:
                assert result.reason is Reason.QUEUE_FULL
            assert state(self.player) == before, "refused: nothing changed"
            return
        assert isinstance(result, Added)
        (entry,) = result.tracks
        assert entry.same_song(self.ref_history[position - 1])
        self.ref_queue.append(entry)
        if self.ref_current is None:
            self.ref_start_head()
        elif self.ref_paused:
            self.ref_paused = False

    @rule()
    def joined(self) -> None:
        self.apply(self.player.joined())
        if self.ref_current is None:
            self.dormant = False

    @rule()
    def leave(self) -> None:
        self.apply(self.player.leave())
        self.ref_leave()

    @rule(position=st.one_of(st.floats(min_value=-5, max_value=4000), st.just(float("nan"))))
    def restart(self, position: float) -> None:
        """The process dies and a new one restores the saved session (through its JSON form)."""
        saved = decode(encode(self.player.snapshot()))
        volume, silent = self.player.volume, self.player.silent  # settings, saved on their own
        self.player = Player(volume=volume, config=CONFIG)
        self.player.set_silent(silent)
        # Nothing of the old process is left: no audio, no timers, no generations.
        self.audio, self.audio_paused, self.latest_start = None, False, None
        self.timers, self.spent_tokens, self.generations = set(), set(), []
        result = self.player.restore(saved, position)
        assert isinstance(result, Restored)
        self.apply(result)
        assert result.track == self.ref_current
        assert result.queued == len(self.ref_queue)
        assert result.paused == self.ref_paused
        self.ref_started = False
        self.dormant = self.ref_current is None
        self.owed = self.ref_paused
        self.quiet = self.player.generation if self.ref_current is not None else None
        if self.ref_current is not None:
            expected = position if position >= 0 else 0.0  # NaN compares false: 0 too
            assert self.player.start_at == expected
            if not self.ref_paused:
                assert self.latest_start is not None
                assert self.latest_start.start_at == expected

    # --- events ------------------------------------------------------------------------------------------

    @precondition(lambda self: self.audio is not None and not self.ref_started)
    @rule(duration=st.sampled_from([None, 100, 3601]), is_live=st.booleans())
    def stream_starts(self, duration: int | None, is_live: bool) -> None:
        assert self.ref_current is not None
        resolved = dataclasses.replace(self.ref_current, duration=duration, is_live=is_live)
        result = self.player.track_started(self.player.generation, resolved)
        self.apply(result)
        if check_track(resolved, LIMITS) is not None:
            assert isinstance(result, Advanced)
            assert result.failure is not None
            self.ref_advance()
            return
        assert isinstance(result, Started)
        self.ref_current, self.ref_started = resolved, True
        if self.ref_history and self.ref_history[0].same_song(resolved):
            self.ref_history.pop(0)
        self.ref_history = [resolved, *self.ref_history][:10]

    @precondition(lambda self: self.audio is not None)
    @rule()
    def stream_ends(self) -> None:
        generation, self.audio, self.audio_paused = self.audio, None, False
        assert generation is not None
        self.apply(self.player.track_ended(generation))
        self.ref_advance()

    @precondition(lambda self: self.audio is not None)
    @rule()
    def stream_fails(self) -> None:
        assert self.audio is not None
        result = self.player.track_failed(self.audio, "stream died")
        self.apply(result)
        assert isinstance(result, Advanced)
        self.ref_advance()

    @precondition(lambda self: self.timers)
    @rule()
    def timer_fires(self) -> None:
        (token,) = self.timers
        self.timers.clear()
        self.spent_tokens.add(token)
        result = self.player.idle_timer_fired(token)
        self.apply(result)
        assert isinstance(result, Left)
        self.ref_leave()

    @precondition(lambda self: len(self.generations) > 1 or self.spent_tokens)
    @rule(data=st.data(), event=st.sampled_from(["ended", "failed", "started", "timer"]))
    def stale_event(self, data: st.DataObject, event: str) -> None:
        stale = [g for g in self.generations if g != self.audio]
        if event == "timer" or not stale:
            if not self.spent_tokens:
                return
            token = data.draw(st.sampled_from(sorted(self.spent_tokens)))
            before = state(self.player)
            assert isinstance(self.player.idle_timer_fired(token), Ignored)
            assert state(self.player) == before
            return
        generation = data.draw(st.sampled_from(stale))
        before = state(self.player)
        if event == "ended":
            outcome: Result = self.player.track_ended(generation)
        elif event == "failed":
            outcome = self.player.track_failed(generation, "late")
        else:
            outcome = self.player.track_started(generation)
        assert isinstance(outcome, Ignored)
        assert state(self.player) == before

    # --- invariants ----------------------------------------------------------------------------------------

    @invariant()
    def one_track_at_a_time_and_it_is_the_latest_start(self) -> None:
        current = self.player.current
        if current is None:
            assert self.audio is None
            assert self.player.queue == (), "nothing current means nothing waiting"
            return
        if self.owed:
            assert self.audio is None, "a track restored paused plays nothing until resumed"
            return
        assert self.latest_start is not None
        assert self.audio == self.player.generation == self.latest_start.generation
        assert current.id == self.latest_start.track.id

    @invariant()
    def matches_the_reference(self) -> None:
        assert self.player.current == self.ref_current
        assert [t.id for t in self.player.queue] == [t.id for t in self.ref_queue]
        assert self.player.paused == self.ref_paused
        assert self.audio_paused == (self.ref_paused and not self.owed)
        assert [t.id for t in self.player.history] == [t.id for t in self.ref_history]

    @invariant()
    def the_queue_stays_under_its_cap(self) -> None:
        assert len(self.player.queue) <= MAX_QUEUE

    @invariant()
    def entries_are_unique(self) -> None:
        ids = [t.id for t in self.player.queue]
        if self.player.current is not None:
            ids.append(self.player.current.id)
        assert len(ids) == len(set(ids))

    @invariant()
    def history_is_short_and_has_no_consecutive_repeats(self) -> None:
        history = self.player.history
        assert len(history) <= 10
        assert not any(newer.same_song(older) for newer, older in itertools.pairwise(history))

    @invariant()
    def paused_implies_a_current_track(self) -> None:
        assert not self.player.paused or self.player.current is not None

    @invariant()
    def volume_within_bounds(self) -> None:
        assert isinstance(self.player.volume, int)
        assert 1 <= self.player.volume <= 500

    @invariant()
    def idle_timer_armed_exactly_when_idle_or_paused(self) -> None:
        timer = self.player.idle_timer
        assert self.timers == ({timer.token} if timer else set())
        idle = self.player.current is None
        expected = self.player.paused or (idle and not self.dormant)
        assert (timer is not None) == expected
        if timer is not None:
            assert timer.reason is (LeaveReason.PAUSED if self.player.paused else LeaveReason.IDLE)


PlayerMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_player_state_machine = PlayerMachine.TestCase
