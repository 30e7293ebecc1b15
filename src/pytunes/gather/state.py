"""Gather's rules as a pure state machine: no Discord, no clock, no storage (docs/commands.md,
'Gather').

A `Gathering` is driven by events that carry their own time (`at`, seconds since the epoch). Every event,
in every phase, returns a `Result`: what to do next (`Outcome`), whether the event changed the state and
so must be stored, a private answer for whoever acted, and the users to disconnect from voice.

Time-based transitions (countdown over, deadline reached) happen at the instant their deadline says, not
when an event happens to notice them, so replaying the stored events rebuilds exactly the same state —
that is how a restart restores a running gathering.

Vocabulary:
- *present*: in the gathering's voice channel (voice is the truth), with the time they got there;
- *called*: who was in the channel when the gathering was called (they got the ping);
- countdown: the list is (called ∪ present ∪ extra ∪ organizer) − forgotten, so someone who steps out
  during the countdown is still called back, while voice alone decides who actually came;
- check-in: *expected* users either *arrived* (with their lateness, 0 = on time) or are missing; *out*
  users said they are not coming. Out users are reconsidering: joining the channel again un-opts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pytunes.gather.events import (
    ALREADY_STARTED,
    ENDED_TEXT,
    NOT_ALLOWED,
    NOT_STARTED,
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
    Result,
    Rules,
    Tick,
    VoiceJoined,
    VoiceLeft,
    clock_text,
    countdown_refusal,
    mentions,
    refuse,
)


@dataclass
class Gathering:
    organizer: int
    created_at: float
    rules: Rules
    countdown: float | None = None  # original countdown length; None starts check-in at once
    present: dict[int, float] = field(default_factory=dict)
    called: set[int] = field(default_factory=set)
    phase: Phase = Phase.COUNTDOWN
    now: float = 0.0
    extension: float = 0.0
    extra: set[int] = field(default_factory=set)
    forgotten: set[int] = field(default_factory=set)
    expected: set[int] = field(default_factory=set)
    arrived: dict[int, float] = field(default_factory=dict)  # user → lateness in seconds (0: on time)
    out: set[int] = field(default_factory=set)
    started_at: float | None = None  # check-in start: lateness counts from here
    grace_ends_at: float | None = None
    deadline_at: float | None = None
    silent: bool = False
    last_ping_at: float | None = None
    generation: int = 0
    end_reason: EndReason | None = None
    ended_at: float | None = None
    ended_by: int | None = None

    @classmethod
    def create(
        cls,
        *,
        organizer: int,
        at: float,
        rules: Rules,
        countdown: float | None,
        present: Iterable[int] = (),
    ) -> Gathering:
        """A new gathering; `present` are the users in the voice channel right now."""
        if countdown is not None and (reason := countdown_refusal(countdown, rules)):
            raise ValueError(reason)
        users = set(present)
        gathering = cls(organizer, at, rules, countdown, dict.fromkeys(users, at), users, now=at)
        if countdown is None:
            gathering._begin_checkin(at)
        return gathering

    # ------------------------------------------------------------------------------------ reading

    @property
    def countdown_ends_at(self) -> float | None:
        return None if self.countdown is None else self.created_at + self.countdown + self.extension

    @property
    def ended(self) -> bool:
        return self.phase is Phase.ENDED

    @property
    def listed(self) -> set[int]:
        """Who the countdown shows as attending (check-in: who is expected)."""
        if self.phase is Phase.COUNTDOWN:
            return ({*self.called, *self.present, *self.extra, self.organizer}) - self.forgotten
        return set(self.expected)

    @property
    def missing(self) -> set[int]:
        return self.expected - self.arrived.keys()

    @property
    def reconsidering(self) -> set[int]:
        """Out users who are not in the channel: joining it counts as their arrival."""
        return self.out - self.present.keys()

    def in_grace(self, now: float) -> bool:
        return self.grace_ends_at is not None and now < self.grace_ends_at

    def ping_due(self, now: float) -> list[int]:
        """Missing users to ghost-ping now (empty when no ping is due)."""
        if self.phase is not Phase.CHECKIN or self.silent or self.grace_ends_at is None:
            return []
        if now < self.grace_ends_at or not self.missing:
            return []
        if self.last_ping_at is not None and now - self.last_ping_at < self.rules.ping_interval:
            return []
        return sorted(self.missing)

    def next_due(self) -> float | None:
        """When time alone will next change something (phase, grace, a ping, the deadline)."""
        if self.phase is Phase.COUNTDOWN:
            return self.countdown_ends_at
        if self.phase is Phase.ENDED or self.grace_ends_at is None or self.deadline_at is None:
            return None
        due = [self.deadline_at]
        if self.now < self.grace_ends_at:
            due.append(self.grace_ends_at)
        if not self.silent and self.missing:
            last = self.last_ping_at
            due.append(
                self.grace_ends_at
                if last is None
                else max(self.grace_ends_at, last + self.rules.ping_interval)
            )
        return min(due)

    def snapshot(self) -> dict[str, Any]:
        """Everything that matters, for comparing a replayed gathering with the live one."""
        values = {k: v for k, v in self.__dict__.items() if k != "now"}
        return {k: (sorted(v) if isinstance(v, set) else v) for k, v in values.items()}

    # ------------------------------------------------------------------------------------ events

    def handle(self, event: Event) -> Result:
        if self.phase is Phase.ENDED:
            refused = not isinstance(event, VoiceJoined | VoiceLeft | Tick | PingSent)
            return Result(reply=ENDED_TEXT if refused else None, refused=refused)
        if isinstance(event, Tick) and event.generation not in (None, self.generation):
            return Result()  # stale: a newer timer is armed
        moved = self._advance(event.at)
        at = self.now = max(event.at, self.now)
        if self.ended:  # time ran out (or everyone was already there) before this event
            self.generation += 1
            acted = not isinstance(event, VoiceJoined | VoiceLeft | Tick | PingSent)
            return Result(Outcome.END, changed=True, reply=ENDED_TEXT if acted else None, refused=acted)
        result = self._dispatch(event, at)
        outcome = max(moved, result.outcome, key=lambda o: o.value)
        if result.changed and self.phase is Phase.CHECKIN and outcome is not Outcome.END:
            outcome = max(outcome, self._maybe_complete(at), key=lambda o: o.value)
        if result.changed or moved is not Outcome.NONE:
            self.generation += 1
        return Result(
            outcome,
            result.changed or moved is not Outcome.NONE,
            result.reply,
            result.refused,
            result.disconnect,
        )

    def _dispatch(self, event: Event, at: float) -> Result:
        match event:
            case VoiceJoined(user=user):
                return self._joined(user, event.at)
            case VoiceLeft(user=user):
                return self._left(user)
            case Press():
                return self._press(event, at)
            case Expect() | Forget():
                return self._list_change(event)
            case Extend():
                return self._extend(event)
            case PingSent():
                self.last_ping_at = at
                return Result(changed=True)
        return Result()  # Tick: the advance did everything

    def _advance(self, at: float) -> Outcome:
        outcome = Outcome.NONE
        ends = self.countdown_ends_at
        if self.phase is Phase.COUNTDOWN and ends is not None and at >= ends:
            outcome = self._begin_checkin(ends)
        if self.phase is Phase.CHECKIN and self.deadline_at is not None and at >= self.deadline_at:
            self._end(EndReason.TIMED_OUT, self.deadline_at, None)
            outcome = Outcome.END
        return outcome

    def _begin_checkin(self, at: float) -> Outcome:
        self.expected = self.listed  # read while still counting down
        self.phase = Phase.CHECKIN
        self.started_at, self.grace_ends_at = at, at + self.rules.grace
        self.deadline_at = at + self.rules.deadline
        if self.rules.auto_checkin:
            for user in self.expected & self.present.keys():
                self._stamp(user, at)
        return max(Outcome.REFRESH, self._maybe_complete(at), key=lambda o: o.value)

    def _stamp(self, user: int, at: float) -> None:
        assert self.started_at is not None
        assert self.grace_ends_at is not None
        arrival = max(at, self.started_at)
        self.arrived[user] = 0.0 if arrival <= self.grace_ends_at else arrival - self.started_at
        self.out.discard(user)
        self.forgotten.discard(user)
        self.expected.add(user)

    def _maybe_complete(self, at: float) -> Outcome:
        if self.phase is Phase.CHECKIN and not self.missing:
            # Everyone is here: grace ends now and so does the gathering.
            if self.grace_ends_at is not None:
                self.grace_ends_at = min(self.grace_ends_at, at)
            self._end(EndReason.COMPLETE, at, None)
            return Outcome.END
        return Outcome.NONE

    def _end(self, reason: EndReason, at: float, by: int | None) -> None:
        self.phase, self.end_reason, self.ended_at, self.ended_by = Phase.ENDED, reason, at, by

    def _joined(self, user: int, at: float) -> Result:
        if user in self.present:
            return Result()  # already there: a mute or deafen toggle is not a join
        listed = self.listed
        self.present[user] = at
        if self.phase is Phase.COUNTDOWN:
            return Result(Outcome.NONE if user in listed else Outcome.REFRESH, changed=True)
        comes_back = user in self.out
        if comes_back or (
            self.rules.auto_checkin and user not in self.forgotten and user not in self.arrived
        ):
            self._stamp(user, at)
            return Result(Outcome.REFRESH, changed=True)
        return Result(changed=True)

    def _left(self, user: int) -> Result:
        listed = self.listed
        if self.present.pop(user, None) is None:
            return Result()
        return Result(Outcome.REFRESH if self.listed != listed else Outcome.NONE, changed=True)

    def _press(self, event: Press, at: float) -> Result:
        user, action = event.user, event.action
        may_manage = event.manager or user == self.organizer
        if action in (Action.START_NOW, Action.CANCEL, Action.MUTE) and not may_manage:
            what = {Action.START_NOW: "start now", Action.CANCEL: "cancel", Action.MUTE: "mute pings"}
            return refuse(NOT_ALLOWED.format(what[action]))
        if action is Action.CANCEL:
            self._end(EndReason.CANCELLED, at, user)
            return Result(Outcome.END, changed=True)
        if self.phase is Phase.COUNTDOWN:
            return self._countdown_press(user, action, at)
        return self._checkin_press(user, action, at)

    def _countdown_press(self, user: int, action: Action, at: float) -> Result:
        if action is Action.START_NOW:
            return Result(self._begin_checkin(at), changed=True)
        if action is Action.JOIN:
            if user in self.listed:
                return refuse("You're already on the list.")
            self.extra.add(user)
            self.forgotten.discard(user)
            return Result(Outcome.REFRESH, changed=True)
        if action is Action.LEAVE:
            if user not in self.listed:
                return refuse("You're not on the list.")
            self.extra.discard(user)
            self.forgotten.add(user)
            return Result(Outcome.REFRESH, changed=True)
        if action is Action.MUTE:
            return refuse("Ghost pings can be muted once check-in starts.")
        return refuse(NOT_STARTED)

    def _checkin_press(self, user: int, action: Action, at: float) -> Result:
        if action is Action.MUTE:
            self.silent = not self.silent
            return Result(Outcome.REFRESH, changed=True)
        if action is Action.HERE:
            if user not in self.present:
                return refuse("You need to be in the voice channel to check in.")
            if user in self.arrived:
                return refuse("You're already checked in.")
            self._stamp(user, at)
            return Result(Outcome.REFRESH, changed=True)
        if action is Action.OUT:
            if user in self.out:
                return refuse("You're already marked as not coming.")
            if user not in self.expected:
                return refuse("You're not on the list for this gathering.")
            self.arrived.pop(user, None)
            self.expected.discard(user)
            self.out.add(user)
            gone = (user,) if user in self.present else ()
            return Result(Outcome.REFRESH, changed=True, disconnect=gone)
        return refuse(ALREADY_STARTED)

    def _list_change(self, event: Expect | Forget) -> Result:
        expect = isinstance(event, Expect)
        if not (event.manager or event.actor == self.organizer):
            return refuse(NOT_ALLOWED.format("change who is expected"))
        users = tuple(dict.fromkeys(event.users))
        if not users or len(users) > self.rules.max_users:
            return refuse(f"Name between 1 and {self.rules.max_users} members.")
        if self.phase is Phase.COUNTDOWN:
            for user in users:
                (self.extra.add if expect else self.extra.discard)(user)
                (self.forgotten.discard if expect else self.forgotten.add)(user)
            verb = "Expected" if expect else "Forgotten"
            return Result(Outcome.REFRESH, changed=True, reply=f"✅  {verb}: {mentions(users)}")
        kept = [u for u in users if u in self.arrived]
        for user in users:
            if expect:
                self.forgotten.discard(user)
                self.out.discard(user)
                self.expected.add(user)
                if self.rules.auto_checkin and user in self.present and user not in self.arrived:
                    self._stamp(user, self.present[user])  # in the channel since then
            elif user not in self.arrived:
                self.expected.discard(user)
                self.out.discard(user)
                self.forgotten.add(user)
        if expect:
            return Result(Outcome.REFRESH, changed=True, reply=f"✅  Expected: {mentions(users)}")
        done = [u for u in users if u not in self.arrived]
        text = f"✅  Forgotten: {mentions(done)}" if done else "Nobody was forgotten."
        if kept:
            text += f"\nAlready checked in, so kept: {mentions(kept)}"
        return Result(Outcome.REFRESH if done else Outcome.NONE, changed=bool(done), reply=text)

    def _extend(self, event: Extend) -> Result:
        if not (event.manager or event.actor == self.organizer):
            return refuse(NOT_ALLOWED.format("extend the countdown"))
        if self.phase is not Phase.COUNTDOWN or self.countdown is None:
            return refuse("The countdown is over, so there is nothing left to extend.")
        if event.seconds <= 0:
            return refuse("The extension must be longer than zero.")
        total = self.countdown + self.extension + event.seconds
        if total > self.rules.max_countdown:
            return refuse(
                f"That would make the countdown {clock_text(total)} long; "
                f"the most is {clock_text(self.rules.max_countdown)}."
            )
        self.extension += event.seconds
        return Result(Outcome.REFRESH, changed=True)


@dataclass(frozen=True)
class Attendance:
    """How one member did in a finished gathering."""

    user: int
    status: str  # "on_time" | "late" | "out" | "missed"
    lateness: float | None = None


def attendance(gathering: Gathering) -> list[Attendance]:
    """The record of a finished gathering (empty while it runs, or when it was cancelled)."""
    if gathering.end_reason not in (EndReason.COMPLETE, EndReason.TIMED_OUT):
        return []
    rows = [Attendance(u, "out") for u in sorted(gathering.out)]
    for user in sorted(gathering.expected):
        late = gathering.arrived.get(user)
        if late is None:
            rows.append(Attendance(user, "missed"))
        else:
            rows.append(Attendance(user, "on_time" if late == 0 else "late", late))
    return rows
