"""What the player model answers: refusals, effects for the service, and results for the reply.

Every `Player` method returns a `Result`. Its `effects` are the side effects the service must carry out,
in order, *after* it has confirmed the result to the user (docs/architecture.md, 'Confirm, then act': push →
confirm → kick off). A `Refused` result never has effects: bad input changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pytunes.music.model.track import Track


class Reason(StrEnum):
    """Why a command was refused or a track was skipped; the cog picks its embed by this."""

    NOTHING_PLAYING = "nothing_playing"
    ALREADY_PAUSED = "already_paused"
    NOT_PAUSED = "not_paused"
    EMPTY_QUEUE = "empty_queue"
    INVALID_POSITION = "invalid_position"
    NO_HISTORY = "no_history"
    NOTHING_TO_ADD = "nothing_to_add"
    TOO_LONG = "too_long"
    LIVESTREAM = "livestream"
    PLAYBACK_ERROR = "playback_error"
    INVALID_VOLUME = "invalid_volume"
    VOLUME_OUT_OF_RANGE = "volume_out_of_range"
    INVALID_TOGGLE = "invalid_toggle"
    QUEUE_FULL = "queue_full"


class LeaveReason(StrEnum):
    """Why the bot leaves voice; the idle ones are also why an idle timer was armed."""

    IDLE = "idle"  # nothing to play (queue ran out, `stop`, joined with nothing queued)
    PAUSED = "paused"  # paused for too long
    REQUESTED = "requested"  # `leave`, or the voice watcher (kicked, left alone)


# --- effects: what the service must do --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    """Resolve `track`'s stream and play it at the player's volume.

    Before playing, the service probes unknown durations and re-checks the gates (`Player.gate`); it then
    reports `track_started(generation, resolved)` or `track_failed(generation, why)`, and later
    `track_ended(generation)`. If a `Stop(generation)` arrives while still resolving, it must not play.
    """

    track: Track
    generation: int
    # Where to begin, in seconds: a restored session continues where it was. 0 means the track's own
    # start (a YouTube link's t=, say); sources that cannot seek (livestreams) start from 0 anyway.
    start_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop the audio of `generation` if it is still the one playing (or still resolving).

    The voice library reports the stopped audio as ended; that `track_ended(generation)` is stale by then
    and the model ignores it, so the queue never advances twice.
    """

    generation: int


@dataclass(frozen=True, slots=True)
class Pause:
    generation: int


@dataclass(frozen=True, slots=True)
class Resume:
    generation: int


@dataclass(frozen=True, slots=True)
class SetVolume:
    """Apply the new volume to the playing audio (times any normalisation gain) and persist it."""

    percent: int


@dataclass(frozen=True, slots=True)
class ArmIdleTimer:
    """Start a timer; when it runs out, call `idle_timer_fired(token)`. A stale token is ignored."""

    token: int
    seconds: int
    reason: LeaveReason


@dataclass(frozen=True, slots=True)
class CancelIdleTimer:
    """Cancel the timer armed with `token` (it would be ignored anyway; this frees the task)."""

    token: int


@dataclass(frozen=True, slots=True)
class AnnounceNowPlaying:
    """Post the NowPlaying embed. Issued only after the stream started, never when silent."""

    track: Track


@dataclass(frozen=True, slots=True)
class AnnounceFailure:
    """Tell the channel that `track` was skipped and why (too long, livestream, playback error)."""

    track: Track
    problem: Refused


@dataclass(frozen=True, slots=True)
class ShowPlaying:
    """Presence: playing `track`."""

    track: Track


@dataclass(frozen=True, slots=True)
class ShowIdle:
    """Presence: waiting for `!play`."""


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Leave the voice channel (a no-op when not connected); announce it unless `reason` is REQUESTED."""

    reason: LeaveReason


Effect = (
    Start
    | Stop
    | Pause
    | Resume
    | SetVolume
    | ArmIdleTimer
    | CancelIdleTimer
    | AnnounceNowPlaying
    | AnnounceFailure
    | ShowPlaying
    | ShowIdle
    | Disconnect
)


# --- results: what happened, for the reply ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    effects: tuple[Effect, ...] = ()

    @property
    def ok(self) -> bool:
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused(Result):
    """A command that changed nothing, or a track that may not play, with a message fit for a reply."""

    reason: Reason
    message: str

    def __post_init__(self) -> None:
        if self.effects:
            raise ValueError("a refusal changes nothing, so it has no effects")

    @property
    def ok(self) -> bool:
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class Ignored(Result):
    """A stale event (old generation or timer token): nothing changed."""

    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Added(Result):
    """Tracks went into the queue (`play`, `playtop`, `playnow`, history replay).

    `position` is the 1-based queue position of the first added track at the moment it was pushed;
    `starts_now` says that it is being started right away (so it has already left the queue), `resumed`
    that the paused track was resumed instead (`play` while paused), `replaced` which track `playnow` or
    `playtop`-while-paused cut off. `dropped` are the tracks the gates refused, each with its reason;
    `cut` how many more were left out because the queue was full (the last ones of the list).
    """

    tracks: tuple[Track, ...]
    position: int
    starts_now: bool = False
    resumed: bool = False
    replaced: Track | None = None
    dropped: tuple[tuple[Track, Refused], ...] = ()
    cut: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped(Result):
    """`count` tracks were skipped, the current one included; `next` is starting (None: now idle)."""

    count: int
    next: Track | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Stopped(Result):
    track: Track | None
    cleared: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Paused(Result):
    track: Track


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed(Result):
    track: Track


@dataclass(frozen=True, slots=True, kw_only=True)
class Cleared(Result):
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Removed(Result):
    position: int
    track: Track


@dataclass(frozen=True, slots=True, kw_only=True)
class Shuffled(Result):
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VolumeChanged(Result):
    before: int
    after: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SilentChanged(Result):
    silent: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Started(Result):
    """The stream of the current track is playing (as resolved, e.g. with its probed duration)."""

    track: Track


@dataclass(frozen=True, slots=True, kw_only=True)
class Advanced(Result):
    """The current track ended or failed; `next` is starting (None: the queue ran out)."""

    finished: Track
    next: Track | None
    failure: Refused | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Restored(Result):
    """A saved session was put back after a restart: `track` continues from `position` (None: nothing to
    play, only the history came back), `queued` tracks wait behind it, `paused` says it waits for
    `resume`."""

    track: Track | None
    position: float
    queued: int
    paused: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Left(Result):
    """Playback stopped, the queue cleared and voice left, by request or because the timer ran out."""

    reason: LeaveReason
    track: Track | None
    cleared: int
