"""The per-guild player as a pure state machine: commands and playback events in, results and effects out.

State: the current track (resolving or playing, maybe paused), the upcoming FIFO queue, the last 10
started tracks, volume, silent mode and at most one armed idle timer.

Two tokens make late events harmless:
- every `Start` carries a new *generation*; `track_started/ended/failed` for any other generation are
  ignored, so the end of a track that `skip`, `playnow` or `playtop`-while-paused cut off can never
  advance the queue a second time;
- every `ArmIdleTimer` carries a new *token*; a timer armed in an earlier idle period cannot fire into a
  later one.
Both come from one counter, so a generation can never be mistaken for a timer token.

The service serialises calls per guild and carries out each result's effects in order. The state itself
and the steps the commands are made of are in `player_state`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from pytunes.music.model.outcomes import (
    Added,
    Advanced,
    AnnounceNowPlaying,
    Cleared,
    Effect,
    Ignored,
    LeaveReason,
    Left,
    Pause,
    Paused,
    Reason,
    Refused,
    Removed,
    Restored,
    Result,
    Resumed,
    SetVolume,
    ShowPlaying,
    Shuffled,
    SilentChanged,
    Skipped,
    Start,
    Started,
    Stopped,
    VolumeChanged,
)
from pytunes.music.model.player_state import HISTORY_SIZE, PlayerState
from pytunes.music.model.rules import VolumeRequest, queue_full
from pytunes.music.model.snapshot import Snapshot
from pytunes.music.model.track import Track


class Player(PlayerState):
    """One guild's player. Not thread-safe by design: the service calls it under the guild's lock."""

    # --- adding -------------------------------------------------------------------------------------

    def enqueue(self, tracks: Sequence[Track], *, top: bool = False) -> Added | Refused:
        """`play` (append) or `playtop` (in front, in the given order), then kick off.

        Idle: the head starts. Paused: `playtop` cuts the paused track off and starts the new head,
        `play` resumes the paused track. Playing: nothing more. Tracks the gates refuse are dropped and
        reported; if none is left the whole command is refused. What does not fit under the queue cap is
        cut off the end of the list (`cut`); a full queue refuses.
        """
        admitted, dropped = self._admit(tracks)
        if not admitted:
            return _nothing_admitted(tracks, dropped)
        admitted, cut = self._fit(admitted, starts=self._current is None or (self._paused and top))
        if not admitted:
            return queue_full(self.config.max_queue)
        position = 1 if top else len(self._queue) + 1
        if top:
            self._queue[0:0] = admitted
        else:
            self._queue.extend(admitted)
        effects: list[Effect] = []
        starts_now = resumed = False
        replaced = None
        if self._current is None:
            starts_now = True
            effects += self._start_head()
        elif self._paused and top:
            replaced = self._current
            starts_now = True
            effects += self._drop_current()
            effects += self._start_head()
        elif self._paused:
            resumed = True
            effects += self._unpause()
        return Added(
            tracks=tuple(admitted),
            position=position,
            starts_now=starts_now,
            resumed=resumed,
            replaced=replaced,
            dropped=tuple(dropped),
            cut=cut,
            effects=tuple(effects),
        )

    def play_now(self, tracks: Sequence[Track]) -> Added | Refused:
        """`playnow`: put `tracks` in front and start the first at once. The track it cuts off is not
        requeued."""
        admitted, dropped = self._admit(tracks)
        if not admitted:
            return _nothing_admitted(tracks, dropped)
        admitted, cut = self._fit(admitted, starts=True)  # never empty: the first one starts at once
        self._queue[0:0] = admitted
        replaced = self._current
        effects = self._drop_current() + self._start_head()
        return Added(
            tracks=tuple(admitted),
            position=1,
            starts_now=True,
            replaced=replaced,
            dropped=tuple(dropped),
            cut=cut,
            effects=tuple(effects),
        )

    def replay(self, position: int) -> Added | Refused:
        """Append the `position`-th history entry (1 = newest) as a new entry, like `play`."""
        if not self._history:
            return Refused(reason=Reason.NO_HISTORY, message="Nothing has been played yet.")
        if not 1 <= position <= len(self._history):
            return _invalid_position(position, len(self._history), "history")
        return self.enqueue([self._history[position - 1].fresh()])

    # --- transport ----------------------------------------------------------------------------------

    def skip(self, count: int = 1) -> Skipped | Refused:
        """Skip `count` tracks, the current one included; below 1 means 1 (`skip 0` skips one and says
        so). Skipping past the end stops and arms the idle timer. Un-pauses."""
        if self._current is None:
            return _nothing_playing()
        dropped = min(max(count, 1) - 1, len(self._queue))
        del self._queue[:dropped]
        effects = self._drop_current()
        upcoming = self._queue[0] if self._queue else None
        effects += self._start_head() if upcoming else self._go_idle()
        return Skipped(count=dropped + 1, next=upcoming, effects=tuple(effects))

    def stop(self) -> Stopped | Refused:
        """Stop, clear the queue, stay in voice with the idle timer armed."""
        if self._current is None and not self._queue:
            return _nothing_playing()
        track = self._current
        cleared = len(self._queue)
        self._queue.clear()
        effects = self._drop_current() + self._go_idle()
        return Stopped(track=track, cleared=cleared, effects=tuple(effects))

    def pause(self) -> Paused | Refused:
        if self._current is None:
            return _nothing_playing()
        if self._paused:
            return Refused(reason=Reason.ALREADY_PAUSED, message="Playback is already paused.")
        self._paused = True
        effects: list[Effect] = [Pause(self._generation)]
        # A paused bot is idle too, only with more patience.
        effects += self._arm(self.config.paused_idle_seconds, LeaveReason.PAUSED)
        return Paused(track=self._current, effects=tuple(effects))

    def resume(self) -> Resumed | Refused:
        if self._current is None:
            return _nothing_playing()
        if not self._paused:
            # Its own reason, not "no song playing".
            return Refused(reason=Reason.NOT_PAUSED, message="Playback is not paused.")
        return Resumed(track=self._current, effects=tuple(self._unpause()))

    def clear(self) -> Cleared | Refused:
        """Empty the upcoming queue; the current track keeps playing."""
        if not self._queue:
            return _empty_queue()
        count = len(self._queue)
        self._queue.clear()
        return Cleared(count=count)

    def remove(self, position: int) -> Removed | Refused:
        """Remove the `position`-th (1-based) upcoming track."""
        if not self._queue:
            return _empty_queue()
        if not 1 <= position <= len(self._queue):
            return _invalid_position(position, len(self._queue), "queue")
        return Removed(position=position, track=self._queue.pop(position - 1))

    def shuffle(self, rng: random.Random) -> Shuffled | Refused:
        """Shuffle the upcoming queue with `rng` (injected, so tests are deterministic)."""
        if not self._queue:
            return _empty_queue()
        rng.shuffle(self._queue)
        return Shuffled(count=len(self._queue))

    def set_volume(self, request: VolumeRequest) -> VolumeChanged:
        """Always succeeds: `VolumeRequest` cannot hold an out-of-range value (see `parse_volume`)."""
        before, self._volume = self._volume, request.percent
        return VolumeChanged(before=before, after=request.percent, effects=(SetVolume(request.percent),))

    def set_silent(self, silent: bool) -> SilentChanged:
        """Silent mode suppresses only NowPlaying announcements."""
        self._silent = silent
        return SilentChanged(silent=silent)

    # --- voice --------------------------------------------------------------------------------------

    def joined(self) -> Result:
        """The bot is now in a voice channel. With nothing to play it arms the idle timer, so a bare
        `join` does not keep the bot there forever."""
        if self._current is not None or self._timer is not None:
            return Result()
        return Result(effects=tuple(self._arm(self.config.idle_seconds, LeaveReason.IDLE)))

    def leave(self) -> Left:
        """`leave`, or the voice watcher found the bot kicked or alone: stop, clear, disconnect."""
        return self._leave(LeaveReason.REQUESTED)

    def restore(self, saved: Snapshot, position: float) -> Restored | Ignored:
        """Put a session saved before a restart back into this new player and continue its current track
        from `position`: at once, or, when it was paused, on `resume` (so a paused bot stays silent and
        opens no stream). The continued track is not announced again; the service says "resumed" once.
        The gates apply as to any added track, since the limits may have changed meanwhile."""
        if self._current is not None or self._queue or self._history:
            return Ignored(why="the player is already in use")
        self._history.extend(saved.history[:HISTORY_SIZE])
        entries = [saved.current, *saved.queue] if saved.current else list(saved.queue)
        self._queue, _ = self._admit(entries)
        # Saved before the cap existed or was lowered: the current track and as many as fit.
        del self._queue[self.config.max_queue + 1 :]
        if not self._queue:
            return Restored(track=None, position=0.0, queued=0, paused=False)
        # A current track the gates now refuse is dropped; the next one then starts from its beginning.
        resumed = saved.current is not None and self._queue[0].id == saved.current.id
        position = max(position, 0.0) if resumed and math.isfinite(position) else 0.0
        effects = self._start_head(position)
        self._quiet = self._generation if resumed else None
        if resumed and saved.paused:
            effects = [e for e in effects if not isinstance(e, Start)]
            self._paused = self._owed = True
            effects += self._arm(self.config.paused_idle_seconds, LeaveReason.PAUSED)
        return Restored(
            track=self._current,
            position=position,
            queued=len(self._queue),
            paused=self._paused,
            effects=tuple(effects),
        )

    # --- events from the service ----------------------------------------------------------------------

    def track_started(self, generation: int, resolved: Track | None = None) -> Started | Advanced | Ignored:
        """The stream of `generation` is playing. `resolved` is the same entry (same id) with what resolving
        learned (probed duration, liveness); the gates are checked again, so a track that turned out to be
        too long or live is skipped here even if the service forgot to check."""
        if not self._is_current(generation) or self._started:
            return Ignored(why=f"generation {generation} is not starting")
        assert self._current is not None
        if resolved is not None:
            if resolved.id != self._current.id:
                raise ValueError("track_started must describe the entry that was started")
            self._current = resolved
        problem = self.gate(self._current)
        if problem is not None:
            return self._fail(problem)
        self._started = True
        self._remember(self._current)
        effects: list[Effect] = [ShowPlaying(self._current)]
        if not self._silent and generation != self._quiet:
            effects.append(AnnounceNowPlaying(self._current))
        if self._paused:
            # Paused while resolving: the service started the audio anyway; hold it right away.
            effects.append(Pause(generation))
        return Started(track=self._current, effects=tuple(effects))

    def track_ended(self, generation: int) -> Advanced | Ignored:
        """The audio of `generation` finished. Only the current generation advances the queue."""
        if not self._is_current(generation):
            return Ignored(why=f"generation {generation} is not current")
        assert self._current is not None
        finished = self._current
        self._clear_current()
        upcoming = self._queue[0] if self._queue else None
        effects = self._start_head() if upcoming else self._go_idle()
        return Advanced(finished=finished, next=upcoming, effects=tuple(effects))

    def track_failed(self, generation: int, error: str | Refused) -> Advanced | Ignored:
        """Resolving or streaming `generation` failed, or the gates refused it after resolving. Reported,
        then the queue advances as after an end, so one dead stream cannot stall it."""
        if not self._is_current(generation):
            return Ignored(why=f"generation {generation} is not current")
        assert self._current is not None
        if isinstance(error, str):
            error = Refused(
                reason=Reason.PLAYBACK_ERROR,
                message=f"Could not play “{self._current.short_title}”: {error or 'unknown error'}",
            )
        return self._fail(error)

    def idle_timer_fired(self, token: int) -> Left | Ignored:
        """The timer armed with `token` ran out: leave voice, unless it was cancelled or replaced since."""
        if self._timer is None or self._timer.token != token:
            return Ignored(why=f"idle timer {token} is not armed")
        # Spent, not cancelled: a CancelIdleTimer here would make the service cancel the very task that
        # is delivering this call.
        reason, self._timer = self._timer.reason, None
        return self._leave(reason)


def _nothing_playing() -> Refused:
    return Refused(reason=Reason.NOTHING_PLAYING, message="No song is playing.")


def _empty_queue() -> Refused:
    return Refused(reason=Reason.EMPTY_QUEUE, message="The queue is empty.")


def _invalid_position(position: int, size: int, where: str) -> Refused:
    entries = "entry" if size == 1 else "entries"
    return Refused(
        reason=Reason.INVALID_POSITION,
        message=f"There is no position {position} in the {where}; pick 1 to {size} ({size} {entries}).",
    )


def _nothing_admitted(tracks: Sequence[Track], dropped: list[tuple[Track, Refused]]) -> Refused:
    if len(dropped) == 1 and len(tracks) == 1:
        return dropped[0][1]
    if not tracks:
        return Refused(reason=Reason.NOTHING_TO_ADD, message="There were no tracks to add.")
    return Refused(
        reason=Reason.NOTHING_TO_ADD,
        message=f"None of the {len(tracks)} tracks can be played (too long, or livestreams).",
    )
