"""One guild's music settings (volume, silent, normalize): changed in memory at once, written behind.

A change takes effect immediately and is persisted by a background writer, so a slow or failing database
never delays the audio (a volume restart waits for nothing) and never loses the change: writes are
coalesced (the newest settings win, one write at a time, so an older snapshot never commits last) and a
failed one is retried until it lands. A shutdown makes one last, bounded attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

from pytunes.core.tasks import TaskOwner
from pytunes.music.store import MusicSettings, MusicStore

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
FLUSH_TIMEOUT = 5.0


class SettingsWriter:
    def __init__(self, store: MusicStore, tasks: TaskOwner, guild_id: int, settings: MusicSettings) -> None:
        self.store = store
        self.tasks = tasks
        self.guild_id = guild_id
        self.settings = settings
        self.retry_seconds = RETRY_SECONDS
        self._dirty = False
        self._task: asyncio.Task[None] | None = None

    def change(self, **changes: object) -> MusicSettings:
        """Apply `changes` now; they reach the database in the background."""
        self.settings = dataclasses.replace(self.settings, **changes)  # type: ignore[arg-type]
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = self.tasks.spawn(self._write(), name=f"music-settings-{self.guild_id}")
        return self.settings

    @property
    def pending(self) -> bool:
        """Whether a change has not reached the database yet."""
        return self._dirty

    async def _write(self) -> None:
        while self._dirty:
            self._dirty = False
            settings = self.settings
            try:
                await self.store.save(self.guild_id, settings)
            except asyncio.CancelledError:
                self._dirty = True  # whether it landed is unknown: `close` writes it once more
                raise
            except Exception:
                # A database away for a moment must not lose the change: keep it and try again.
                log.exception("could not save the music settings of guild %s; retrying", self.guild_id)
                self._dirty = True
                await asyncio.sleep(self.retry_seconds)

    async def close(self) -> None:
        """Stop writing in the background, after one last attempt at anything not yet written."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if not self._dirty:
            return
        try:
            await asyncio.wait_for(self.store.save(self.guild_id, self.settings), FLUSH_TIMEOUT)
            self._dirty = False
        except Exception:
            log.exception("could not save the music settings of guild %s on shutdown", self.guild_id)
