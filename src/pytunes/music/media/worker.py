"""A small pool of worker processes that run yt-dlp.

Why processes: an extraction is seconds of pure-Python work (regexes over large pages, playlist JSON,
signature code). In a thread it would hold the GIL and delay the event loop's acks and discord.py's
audio thread, which must hand out a frame every 20 ms; another process cannot. The pool is spawned, not
forked, so workers inherit none of the bot's sockets, threads or event loop.

Failure handling: a worker that dies (crash, OOM kill) breaks a `ProcessPoolExecutor` for good, so the
pool is replaced and the caller gets `WorkerCrashedError`. A call that exceeds its timeout returns
`ResolveTimeoutError` at once; its worker keeps going until yt-dlp's socket timeout ends it, and if every
worker is stuck like that the pool is killed and replaced so new requests are not starved.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from pytunes.music.media.errors import ResolveTimeoutError, WorkerCrashedError, error_for
from pytunes.music.media.extract import ExtractRequest, run_extraction, warm, worker_init
from pytunes.music.media.results import ExtractFailure, PlaylistResult, ResolvedMedia

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long `close()` waits for a killed pool's manager thread; it exits within milliseconds.
_MANAGER_EXIT_TIMEOUT = 5.0


class Extractor(Protocol):
    """What the resolver needs from the pool (tests substitute a stub here)."""

    async def extract(
        self, request: ExtractRequest, *, timeout: float | None = None
    ) -> ResolvedMedia | PlaylistResult: ...


class MediaWorkers:
    def __init__(self, *, workers: int = 2, call_timeout: float = 30.0) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._workers = workers
        self._call_timeout = call_timeout
        self._pool: ProcessPoolExecutor | None = None
        self._warming: list[concurrent.futures.Future[int]] = []
        self._stuck: set[concurrent.futures.Future[Any]] = set()
        self.restarts = 0

    def start(self) -> list[concurrent.futures.Future[int]]:
        """Start the pool (idempotent) without waiting; returns the warm-up futures (worker pids)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=worker_init,
            )
            # Workers spawn on demand; one warm-up task each makes them all start (and import yt-dlp)
            # now instead of on the first user's request.
            self._warming = [self._pool.submit(warm) for _ in range(self._workers)]
        return list(self._warming)

    async def ready(self) -> None:
        """Wait until every worker has started and imported yt-dlp."""
        await asyncio.gather(*(asyncio.wrap_future(future) for future in self.start()))

    async def extract(
        self, request: ExtractRequest, *, timeout: float | None = None
    ) -> ResolvedMedia | PlaylistResult:
        outcome = await self.run(run_extraction, request, timeout=timeout)
        if isinstance(outcome, ExtractFailure):
            raise error_for(outcome.code, outcome.message, outcome.detail)
        return outcome

    async def run(self, fn: Callable[..., T], *args: object, timeout: float | None = None) -> T:
        """Run a picklable `fn(*args)` in a worker. Cancelling the caller drops a call still queued."""
        self.start()
        pool = self._pool
        assert pool is not None
        try:
            future = pool.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):
            # Broken by an earlier crash nobody was waiting for: replace it and submit again.
            self._discard(pool)
            self.start()
            assert self._pool is not None
            pool, future = self._pool, self._pool.submit(fn, *args)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout or self._call_timeout)
        except TimeoutError:
            self._note_stuck(pool, future)
            raise ResolveTimeoutError("Looking that up took too long.") from None
        except BrokenProcessPool:
            log.warning("media worker died; starting a new pool")
            self._discard(pool)
            raise WorkerCrashedError("The media worker stopped unexpectedly; please try again.") from None

    def pids(self) -> list[int]:
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    def close(self) -> None:
        """Stop at once: running extractions are killed (nothing in them is worth waiting for)."""
        if self._pool is not None:
            self._discard(self._pool, kill=True, replaced=False)

    def _note_stuck(self, pool: ProcessPoolExecutor, future: concurrent.futures.Future[Any]) -> None:
        if future.done() or pool is not self._pool:
            return
        self._stuck.add(future)
        future.add_done_callback(self._stuck.discard)
        if len(self._stuck) >= self._workers:
            log.warning("all %d media workers are stuck; replacing the pool", self._workers)
            self._discard(pool, kill=True)

    def _discard(self, pool: ProcessPoolExecutor, *, kill: bool = False, replaced: bool = True) -> None:
        if pool is self._pool:
            self._pool = None
            self._stuck.clear()
            self.restarts += replaced
        # Read before shutdown(), which forgets them.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
        # shutdown() before the kill: its wake-up reaches the pool's manager thread before the dead workers
        # do, so the manager first drops every queued call (also those their callers already cancelled)
        # and then fails only the running ones with BrokenProcessPool. On Python 3.11 it fails every call
        # it still holds, and `set_exception` on a cancelled one raises InvalidStateError in that thread.
        pool.shutdown(wait=False, cancel_futures=True)
        if kill:
            for process in processes:
                process.kill()
            # The manager holds the executor by weak reference only and drops nothing once it has been
            # collected, so `pool` must stay referenced until the manager is done (a few milliseconds
            # once the workers are dead).
            if manager is not None:
                manager.join(timeout=_MANAGER_EXIT_TIMEOUT)
                if manager.is_alive():
                    log.warning("the media pool's manager thread did not exit after its workers were killed")
