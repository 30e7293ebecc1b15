"""Gather's vocabulary: phases, outcomes, the rules a gathering runs by, the events that drive it and
the result of each (pure data, no Discord)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Phase(Enum):
    COUNTDOWN = "countdown"
    CHECKIN = "checkin"
    ENDED = "ended"


class EndReason(Enum):
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


class Outcome(Enum):
    """What the driver does after an event: nothing, re-render at once (bypassing the refresh throttle),
    or end the gathering."""

    NONE = 0
    REFRESH = 1
    END = 2


class Action(Enum):
    START_NOW = "start"
    CANCEL = "cancel"
    JOIN = "join"
    LEAVE = "leave"
    HERE = "here"
    OUT = "out"
    MUTE = "mute"


@dataclass(frozen=True)
class Rules:
    grace: float = 60.0
    deadline: float = 1800.0  # check-in ends this long after it started, whoever is missing
    max_countdown: float = 7200.0  # countdown plus extensions
    ping_interval: float = 30.0
    auto_checkin: bool = True
    max_users: int = 10  # per expect / forget


# ------------------------------------------------------------------------------------------------ events


@dataclass(frozen=True)
class VoiceJoined:
    at: float
    user: int


@dataclass(frozen=True)
class VoiceLeft:
    at: float
    user: int


@dataclass(frozen=True)
class Press:
    at: float
    user: int
    action: Action
    manager: bool = False  # has Manage Events or Manage Guild


@dataclass(frozen=True)
class Expect:
    at: float
    actor: int
    users: tuple[int, ...]
    manager: bool = False


@dataclass(frozen=True)
class Forget:
    at: float
    actor: int
    users: tuple[int, ...]
    manager: bool = False


@dataclass(frozen=True)
class Extend:
    at: float
    actor: int
    seconds: float
    manager: bool = False


@dataclass(frozen=True)
class PingSent:
    at: float


@dataclass(frozen=True)
class Tick:
    """Time passing. A tick armed for an older `generation` is stale and does nothing."""

    at: float
    generation: int | None = None


Event = VoiceJoined | VoiceLeft | Press | Expect | Forget | Extend | PingSent | Tick


@dataclass(frozen=True)
class Result:
    outcome: Outcome = Outcome.NONE
    changed: bool = False  # the state changed: store the event
    reply: str | None = None  # a private answer to whoever acted
    refused: bool = False
    disconnect: tuple[int, ...] = ()


ENDED_TEXT = "This gathering has ended."
NOT_ALLOWED = "Only the organizer or someone with Manage Events or Manage Guild can {}."
NOT_STARTED = "Check-in hasn't started yet: it starts when the countdown ends."
ALREADY_STARTED = "The gathering has already started."


def countdown_refusal(seconds: float, rules: Rules) -> str | None:
    """Why a countdown of `seconds` can't be used (None if it can): positive and within the cap."""
    if seconds <= 0:
        return "The countdown must be longer than zero."
    if seconds > rules.max_countdown:
        return f"A countdown can be at most {clock_text(rules.max_countdown)} long."
    return None


def clock_text(seconds: float) -> str:
    """`MM:SS`, or `H:MM:SS` from an hour up."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def mentions(users: Iterable[int]) -> str:
    return ", ".join(f"<@{u}>" for u in sorted(users))


def refuse(text: str) -> Result:
    return Result(reply=text, refused=True)
