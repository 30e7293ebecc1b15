"""The gather state machine alone: every rule, and a hypothesis machine throwing any event at any phase."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from pytunes.gather.events import (
    ENDED_TEXT,
    Action,
    EndReason,
    Event,
    Expect,
    Extend,
    Forget,
    Outcome,
    Phase,
    PingSent,
    Press,
    Rules,
    Tick,
    VoiceJoined,
    VoiceLeft,
)
from pytunes.gather.state import Gathering, attendance

T0 = 1_800_000_000.0
ORG, BOB, CAROL, DAVE, ERIN, FRANK = 1, 2, 3, 4, 5, 6
RULES = Rules(grace=60, deadline=1800, max_countdown=7200, ping_interval=30)


def countdown(present: tuple[int, ...] = (ORG, BOB), seconds: float = 600, **rules: object) -> Gathering:
    return Gathering.create(
        organizer=ORG,
        at=T0,
        rules=Rules(**{**RULES.__dict__, **rules}),  # type: ignore[arg-type]
        countdown=seconds,
        present=present,
    )


def test_countdown_list_join_leave_and_voice() -> None:
    g = countdown()
    assert g.listed == {ORG, BOB}
    assert g.handle(Press(T0 + 1, CAROL, Action.JOIN)).outcome is Outcome.REFRESH
    assert g.handle(Press(T0 + 2, CAROL, Action.JOIN)).reply == "You're already on the list."
    assert g.handle(Press(T0 + 3, BOB, Action.LEAVE)).outcome is Outcome.REFRESH
    assert g.listed == {ORG, CAROL}
    assert g.handle(Press(T0 + 4, BOB, Action.LEAVE)).reply == "You're not on the list."
    # Someone called back who steps out for the break stays on the list.
    g.handle(VoiceJoined(T0 + 5, DAVE))
    assert DAVE in g.listed
    assert g.handle(Press(T0 + 6, DAVE, Action.HERE)).refused


def test_start_now_and_cancel_need_the_organizer_or_a_manager() -> None:
    g = countdown()
    refused = g.handle(Press(T0 + 1, BOB, Action.START_NOW))
    assert refused.refused
    assert "Manage Events" in (refused.reply or "")
    assert g.handle(Press(T0 + 1, BOB, Action.CANCEL)).refused
    assert g.phase is Phase.COUNTDOWN
    assert g.handle(Press(T0 + 2, BOB, Action.CANCEL, manager=True)).outcome is Outcome.END
    assert g.end_reason is EndReason.CANCELLED
    assert g.ended_by == BOB
    assert attendance(g) == []  # a cancelled gathering leaves no record
    assert g.handle(Press(T0 + 3, ORG, Action.HERE)).reply == ENDED_TEXT


def test_countdown_and_extensions_are_capped_at_two_hours() -> None:
    with pytest.raises(ValueError, match="at most 2:00:00"):
        countdown(seconds=7201)
    g = countdown(seconds=3600)
    assert g.handle(Extend(T0 + 1, BOB, 600)).refused  # not the organizer
    assert g.handle(Extend(T0 + 1, ORG, 0)).refused
    assert g.handle(Extend(T0 + 2, ORG, 3600)).outcome is Outcome.REFRESH
    assert g.countdown_ends_at == T0 + 7200
    capped = g.handle(Extend(T0 + 3, BOB, 1, manager=True))
    assert capped.refused
    assert "2:00:01" in (capped.reply or "")


def test_checkin_voice_is_the_truth() -> None:
    g = countdown(present=(ORG, BOB, CAROL))
    g.handle(Press(T0 + 10, DAVE, Action.JOIN))
    g.handle(Press(T0 + 11, ERIN, Action.JOIN))
    g.handle(VoiceJoined(T0 + 20, FRANK))  # passes through during the countdown …
    g.handle(VoiceLeft(T0 + 30, FRANK))  # … and leaves again: neither stamped on time nor called back
    g.handle(VoiceLeft(T0 + 40, CAROL))  # called, steps out for the break …
    g.handle(VoiceJoined(T0 + 590, CAROL))  # … and is back before the countdown ends
    g.handle(Tick(T0 + 600))
    assert g.phase is Phase.CHECKIN
    assert g.started_at == T0 + 600
    assert g.arrived == {ORG: 0, BOB: 0, CAROL: 0}
    assert g.missing == {DAVE, ERIN}
    # A mute toggle is not a join; a real join is stamped when it happened.
    assert not g.handle(VoiceJoined(T0 + 630, ERIN)).refused
    assert g.arrived[ERIN] == 0
    assert g.handle(VoiceJoined(T0 + 631, ERIN)).changed is False
    g.handle(VoiceJoined(T0 + 600 + 130, DAVE))
    assert g.arrived[DAVE] == 130  # +02:10, counted from the check-in start


def test_out_disconnects_and_rejoining_counts_late_not_out() -> None:
    g = countdown(present=(ORG, BOB, CAROL))
    g.handle(Press(T0 + 1, DAVE, Action.JOIN))
    g.handle(Press(T0 + 600, ORG, Action.START_NOW))
    assert g.started_at == T0 + 600
    out = g.handle(Press(T0 + 610, CAROL, Action.OUT))
    assert out.disconnect == (CAROL,)
    assert CAROL in g.out
    assert CAROL not in g.arrived
    assert g.handle(Press(T0 + 611, CAROL, Action.OUT)).reply == "You're already marked as not coming."
    assert g.handle(Press(T0 + 612, FRANK, Action.OUT)).reply == "You're not on the list for this gathering."
    g.handle(VoiceLeft(T0 + 611, CAROL))
    assert g.reconsidering == {CAROL}
    g.handle(VoiceJoined(T0 + 600 + 200, CAROL))
    assert g.arrived[CAROL] == 200
    assert CAROL not in g.out


def test_here_needs_voice_and_adds_unexpected_people() -> None:
    g = countdown(present=(ORG,), auto_checkin=False)
    g.handle(Press(T0 + 1, BOB, Action.JOIN))
    g.handle(Tick(T0 + 600))
    assert g.arrived == {}  # without auto check-in everyone presses "I'm here!"
    assert (
        g.handle(Press(T0 + 601, BOB, Action.HERE)).reply
        == "You need to be in the voice channel to check in."
    )
    g.handle(VoiceJoined(T0 + 602, CAROL))
    assert g.handle(Press(T0 + 603, CAROL, Action.HERE)).outcome is Outcome.REFRESH
    assert g.arrived == {CAROL: 0}
    assert g.handle(Press(T0 + 604, CAROL, Action.HERE)).reply == "You're already checked in."


def test_everyone_arriving_ends_grace_and_the_gathering() -> None:
    g = countdown(present=(ORG,))
    g.handle(Press(T0 + 1, BOB, Action.JOIN))
    g.handle(Tick(T0 + 600))
    assert g.in_grace(T0 + 610)
    result = g.handle(VoiceJoined(T0 + 615, BOB))
    assert result.outcome is Outcome.END
    assert g.end_reason is EndReason.COMPLETE
    assert g.grace_ends_at == T0 + 615
    assert [(a.user, a.status) for a in attendance(g)] == [(ORG, "on_time"), (BOB, "on_time")]


def test_deadline_ghost_pings_and_mute() -> None:
    g = countdown(present=(ORG,))
    g.handle(Press(T0 + 1, BOB, Action.JOIN))
    g.handle(Tick(T0 + 600))
    assert g.ping_due(T0 + 659) == []
    assert g.next_due() == T0 + 660
    assert g.ping_due(T0 + 660) == [BOB]
    g.handle(PingSent(T0 + 660))
    assert g.ping_due(T0 + 680) == []
    assert g.next_due() == T0 + 690
    assert g.handle(Press(T0 + 681, BOB, Action.MUTE)).refused
    g.handle(Press(T0 + 682, ORG, Action.MUTE))
    assert g.ping_due(T0 + 700) == []
    stale = g.generation - 1
    assert g.handle(Tick(T0 + 5000, stale)).outcome is Outcome.NONE  # a stale timer does nothing
    assert g.phase is Phase.CHECKIN
    assert g.handle(Tick(T0 + 5000)).outcome is Outcome.END
    assert g.end_reason is EndReason.TIMED_OUT
    assert g.ended_at == T0 + 600 + 1800
    assert [(a.user, a.status) for a in attendance(g)] == [(ORG, "on_time"), (BOB, "missed")]


def test_expect_and_forget_in_both_phases() -> None:
    g = countdown(present=(ORG,))
    assert g.handle(Expect(T0 + 1, BOB, (CAROL,))).refused
    assert g.handle(Expect(T0 + 1, BOB, tuple(range(10, 21)), manager=True)).refused  # 11 users
    assert g.handle(Expect(T0 + 2, ORG, (CAROL, DAVE))).outcome is Outcome.REFRESH
    g.handle(Forget(T0 + 3, ORG, (DAVE,)))
    assert g.listed == {ORG, CAROL}
    g.handle(Tick(T0 + 600))
    g.handle(VoiceJoined(T0 + 610, DAVE))  # forgotten: in the channel, but not on the list
    assert DAVE not in g.expected
    g.handle(Expect(T0 + 700, ORG, (DAVE,)))
    assert g.arrived[DAVE] == 0  # there since 610, within grace
    result = g.handle(Forget(T0 + 701, ORG, (DAVE, CAROL)))
    assert "kept" in (result.reply or "")
    assert g.end_reason is EndReason.COMPLETE  # Carol was the last one missing


def test_immediate_start_with_everyone_there_completes_at_once() -> None:
    g = Gathering.create(organizer=ORG, at=T0, rules=RULES, countdown=None, present=(ORG, BOB))
    assert g.end_reason is EndReason.COMPLETE


# ------------------------------------------------------------------------------------- the machine

USERS = st.sampled_from([ORG, BOB, CAROL, DAVE, ERIN, FRANK])
STEP = st.floats(min_value=0, max_value=400, allow_nan=False)


class GatherMachine(RuleBasedStateMachine):
    @initialize(
        seconds=st.one_of(st.none(), st.floats(min_value=1, max_value=7200)),
        present=st.sets(USERS),
        auto=st.booleans(),
        grace=st.sampled_from([0.0, 30.0, 60.0]),
        deadline=st.sampled_from([120.0, 1800.0]),
    )
    def start(
        self, seconds: float | None, present: set[int], auto: bool, grace: float, deadline: float
    ) -> None:
        self.setup = {
            "organizer": ORG,
            "at": T0,
            "rules": Rules(grace=grace, deadline=deadline, ping_interval=30, auto_checkin=auto),
            "countdown": seconds,
            "present": tuple(sorted(present)),
        }
        self.g = Gathering.create(**self.setup)  # type: ignore[arg-type]
        self.now = T0
        self.stored: list[Event] = []

    def feed(self, event: Event) -> None:
        was_ended = self.g.ended
        arrived_before = dict(self.g.arrived)
        result = self.g.handle(event)
        assert isinstance(result.outcome, Outcome)
        if result.refused:
            assert result.reply
        if was_ended:
            assert result.outcome is Outcome.NONE
            assert not result.changed
        if result.changed:
            self.stored.append(event)
        for user in result.disconnect:
            assert user in self.g.present
        for user, late in arrived_before.items():
            if user in self.g.arrived and not isinstance(event, Press):
                assert self.g.arrived[user] == late  # an arrival is never re-stamped by voice

    def at(self, step: float) -> float:
        self.now += step
        return self.now

    @rule(user=USERS, step=STEP)
    def join(self, user: int, step: float) -> None:
        self.feed(VoiceJoined(self.at(step), user))

    @rule(user=USERS, step=STEP)
    def leave(self, user: int, step: float) -> None:
        self.feed(VoiceLeft(self.at(step), user))

    @rule(user=USERS, action=st.sampled_from(Action), manager=st.booleans(), step=STEP)
    def press(self, user: int, action: Action, manager: bool, step: float) -> None:
        self.feed(Press(self.at(step), user, action, manager))

    @rule(actor=USERS, users=st.lists(USERS, max_size=3), manager=st.booleans(), expect=st.booleans())
    def change_list(self, actor: int, users: list[int], manager: bool, expect: bool) -> None:
        kind = Expect if expect else Forget
        self.feed(kind(self.at(1), actor, tuple(users), manager))

    @rule(actor=USERS, seconds=st.floats(min_value=-10, max_value=8000), manager=st.booleans())
    def extend(self, actor: int, seconds: float, manager: bool) -> None:
        self.feed(Extend(self.at(1), actor, seconds, manager))

    @rule(step=STEP, stale=st.booleans())
    def tick(self, step: float, stale: bool) -> None:
        self.feed(Tick(self.at(step), self.g.generation - 1 if stale else self.g.generation))

    @precondition(lambda self: bool(self.g.ping_due(self.now)))
    @rule()
    def ping(self) -> None:
        self.feed(PingSent(self.now))

    @invariant()
    def nobody_is_both_arrived_and_out(self) -> None:
        assert not (self.g.arrived.keys() & self.g.out)

    @invariant()
    def lateness_is_never_negative(self) -> None:
        assert all(late >= 0 for late in self.g.arrived.values())

    @invariant()
    def check_in_sets_are_consistent(self) -> None:
        g = self.g
        if g.phase is not Phase.COUNTDOWN:
            assert g.arrived.keys() <= g.expected
            assert not (g.out & g.expected)
            assert not (g.forgotten & (g.expected | g.out))

    @invariant()
    def all_arrived_ends_grace_and_the_gathering(self) -> None:
        g = self.g
        if g.phase is Phase.CHECKIN:
            assert g.missing, "with nobody missing the gathering would have completed"
            assert g.deadline_at is not None
            assert g.now < g.deadline_at
        if g.end_reason is EndReason.COMPLETE:
            assert not g.missing
            assert g.grace_ends_at is not None
            assert g.ended_at is not None
            assert g.grace_ends_at <= g.ended_at

    @invariant()
    def replaying_the_stored_events_rebuilds_the_state(self) -> None:
        again = Gathering.create(**self.setup)  # type: ignore[arg-type]
        for event in self.stored:
            again.handle(event)
        assert again.snapshot() == self.g.snapshot()


GatherMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_gather_machine = GatherMachine.TestCase
