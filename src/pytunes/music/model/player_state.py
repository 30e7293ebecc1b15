"""The state of one guild's player and the transitions its commands are made of.

`PlayerState` holds the current track, the queue, the history, volume, silent mode and the idle timer,
and the steps every command and event is built from: admit tracks through the gates, start the queue
head under a new generation, drop the current track, go idle, arm or disarm the idle timer. The commands
and events themselves, and why generations and timer tokens make late events harmless, are in
`pytunes.music.model.player`.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from pytunes.music.model.outcomes import (
    Advanced,
    AnnounceFailure,
    ArmIdleTimer,
    CancelIdleTimer,
    Disconnect,
    Effect,
    LeaveReason,
    Left,
    Refused,
    Resume,
    ShowIdle,
    Start,
    Stop,
)
from pytunes.music.model.rules import (
    DEFAULT_VOLUME,
    MAX_OVERDRIVE_VOLUME,
    MAX_QUEUE_TRACKS,
    MIN_VOLUME,
    GateLimits,
    check_track,
)
from pytunes.music.model.snapshot import Snapshot
from pytunes.music.model.track import Track

HISTORY_SIZE = 10
QUEUE_PAGE_SIZE = 10


class Phase(StrEnum):
    IDLE = "idle"  # nothing current (the queue is then empty too)
    STARTING = "starting"  # `Start` issued, the service is resolving the stream
    PLAYING = "playing"
    PAUSED = "paused"  # a current track, paused (whether it had started yet or not)


@dataclass(frozen=True, slots=True)
class PlayerConfig:
    idle_seconds: int = 300  # leave this long after the queue ran out or `stop`
    paused_idle_seconds: int = 1800  # a paused player counts as idle after this
    gates: GateLimits = field(default_factory=GateLimits)
    max_queue: int = MAX_QUEUE_TRACKS  # upcoming tracks, the current one not counted


@dataclass(frozen=True, slots=True)
class IdleTimer:
    token: int
    seconds: int
    reason: LeaveReason


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the upcoming queue: (1-based position, track) pairs; `page` is already clamped."""

    entries: tuple[tuple[int, Track], ...]
    page: int
    pages: int
    total: int


class PlayerState:
    """What a player holds, what can be read of it, and the steps its commands are made of."""

    def __init__(self, *, volume: int = DEFAULT_VOLUME, config: PlayerConfig | None = None) -> None:
        if isinstance(volume, bool) or not MIN_VOLUME <= volume <= MAX_OVERDRIVE_VOLUME:
            raise ValueError(f"volume {volume!r} is outside {MIN_VOLUME}–{MAX_OVERDRIVE_VOLUME}")
        self.config = config or PlayerConfig()
        self._queue: list[Track] = []
        self._current: Track | None = None
        self._generation = 0
        self._started = False
        self._paused = False
        # Restored sessions: where the current track's audio begins, whether its `Start` is still owed
        # (restored paused: nothing plays, and nothing is resolved, until `resume`), and which generation
        # continues a track that was already announced before the restart.
        self._start_at = 0.0
        self._owed = False
        self._quiet: int | None = None
        self._history: deque[Track] = deque(maxlen=HISTORY_SIZE)
        self._volume = volume
        self._silent = False
        self._timer: IdleTimer | None = None
        self._tokens = itertools.count(1)

    # --- reading ------------------------------------------------------------------------------------

    @property
    def current(self) -> Track | None:
        return self._current

    @property
    def generation(self) -> int:
        """The generation of the latest `Start` (0 before the first)."""
        return self._generation

    @property
    def phase(self) -> Phase:
        if self._current is None:
            return Phase.IDLE
        if self._paused:
            return Phase.PAUSED
        return Phase.PLAYING if self._started else Phase.STARTING

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def queue(self) -> tuple[Track, ...]:
        """Upcoming tracks, next first; the current track is not in it."""
        return tuple(self._queue)

    @property
    def history(self) -> tuple[Track, ...]:
        """The last started tracks, newest first."""
        return tuple(self._history)

    @property
    def volume(self) -> int:
        return self._volume

    @property
    def silent(self) -> bool:
        return self._silent

    @property
    def idle_timer(self) -> IdleTimer | None:
        return self._timer

    @property
    def start_at(self) -> float:
        """Where the current track's audio begins: the saved position of a restored one, else 0."""
        return self._start_at if self._current is not None else 0.0

    def snapshot(self) -> Snapshot:
        return Snapshot(
            current=self._current, queue=tuple(self._queue), history=tuple(self._history), paused=self._paused
        )

    def gate(self, track: Track) -> Refused | None:
        """Why `track` may not play under this player's limits (the service re-checks after resolving)."""
        return check_track(track, self.config.gates)

    def queue_page(self, page: int, per_page: int = QUEUE_PAGE_SIZE) -> QueuePage:
        if per_page < 1:
            raise ValueError("per_page must be positive")
        total = len(self._queue)
        pages = max(1, math.ceil(total / per_page))
        page = min(max(page, 1), pages)
        first = (page - 1) * per_page
        entries = tuple(
            (first + offset + 1, track) for offset, track in enumerate(self._queue[first : first + per_page])
        )
        return QueuePage(entries=entries, page=page, pages=pages, total=total)

    # --- internals ----------------------------------------------------------------------------------

    def _is_current(self, generation: int) -> bool:
        return self._current is not None and generation == self._generation

    def _admit(self, tracks: Iterable[Track]) -> tuple[list[Track], list[tuple[Track, Refused]]]:
        admitted: list[Track] = []
        dropped: list[tuple[Track, Refused]] = []
        taken = {t.id for t in self._queue}
        if self._current is not None:
            taken.add(self._current.id)
        for track in tracks:
            problem = self.gate(track)
            if problem is not None:
                dropped.append((track, problem))
                continue
            # The same Track object pushed twice must still be two entries: ids address entries.
            entry = track.fresh() if track.id in taken else track
            taken.add(entry.id)
            admitted.append(entry)
        return admitted, dropped

    def _fit(self, admitted: list[Track], *, starts: bool) -> tuple[list[Track], int]:
        """The first of `admitted` that fit under the queue cap (counted after a head that `starts` now
        left the queue), and how many did not."""
        room = max(self.config.max_queue - len(self._queue) + starts, 0)
        return admitted[:room], max(len(admitted) - room, 0)

    def _start_head(self, start_at: float = 0.0) -> list[Effect]:
        """Make the queue head current under a new generation. Any idle timer is moot now."""
        effects = self._disarm()
        self._current = self._queue.pop(0)
        self._generation = next(self._tokens)
        self._started = False
        self._paused = False
        self._start_at = start_at
        effects.append(Start(self._current, self._generation, start_at))
        return effects

    def _drop_current(self) -> list[Effect]:
        if self._current is None:
            return []
        # An owed start never reached the service: there is no audio to stop.
        effects: list[Effect] = [] if self._owed else [Stop(self._generation)]
        self._clear_current()
        return effects

    def _clear_current(self) -> None:
        self._current = None
        self._started = False
        self._paused = False
        self._owed = False
        self._start_at = 0.0

    def _go_idle(self) -> list[Effect]:
        return [ShowIdle(), *self._arm(self.config.idle_seconds, LeaveReason.IDLE)]

    def _unpause(self) -> list[Effect]:
        self._paused = False
        if self._owed:
            assert self._current is not None
            self._owed = False
            return [Start(self._current, self._generation, self._start_at), *self._disarm()]
        return [Resume(self._generation), *self._disarm()]

    def _fail(self, problem: Refused) -> Advanced:
        assert self._current is not None
        failed = self._current
        effects: list[Effect] = [*self._drop_current(), AnnounceFailure(failed, problem)]
        upcoming = self._queue[0] if self._queue else None
        effects += self._start_head() if upcoming else self._go_idle()
        return Advanced(finished=failed, next=upcoming, failure=problem, effects=tuple(effects))

    def _leave(self, reason: LeaveReason) -> Left:
        track = self._current
        cleared = len(self._queue)
        self._queue.clear()
        effects = [*self._drop_current(), *self._disarm(), ShowIdle(), Disconnect(reason)]
        return Left(reason=reason, track=track, cleared=cleared, effects=tuple(effects))

    def _arm(self, seconds: int, reason: LeaveReason) -> list[Effect]:
        effects = self._disarm()
        self._timer = IdleTimer(token=next(self._tokens), seconds=seconds, reason=reason)
        effects.append(ArmIdleTimer(self._timer.token, seconds, reason))
        return effects

    def _disarm(self) -> list[Effect]:
        if self._timer is None:
            return []
        token, self._timer = self._timer.token, None
        return [CancelIdleTimer(token)]

    def _remember(self, track: Track) -> None:
        # Newest first. The same song started twice in a row is one history entry (the newer one): a
        # replay picker listing "A, A, B" offers nothing new.
        if self._history and self._history[0].same_song(track):
            self._history.popleft()
        self._history.appendleft(track)
