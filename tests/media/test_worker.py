"""The yt-dlp worker pool: fixed options, crash recovery, timeouts and cancellation."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures.process import _ExecutorManagerThread

import pytest

from pytunes.music.media.errors import ResolveTimeoutError, WorkerCrashedError
from pytunes.music.media.extract import AUDIO_FORMAT, ExtractKind, ExtractRequest, _failure, ydl_options
from pytunes.music.media.results import ResolvedMedia, SourceKind
from pytunes.music.media.worker import MediaWorkers
from tests.media.conftest import MediaServer


def _request(target: str, **changes: object) -> ExtractRequest:
    fields: dict[str, object] = {
        "kind": ExtractKind.SINGLE,
        "target": target,
        "source_kind": SourceKind.DIRECT,
        "extractors": ("generic",),
        "allow_private": True,
        "socket_timeout": 5.0,
    }
    fields.update(changes)
    return ExtractRequest(**fields)  # type: ignore[arg-type]


def test_yt_dlp_options_are_fixed_by_code() -> None:
    text = "--exec 'touch /tmp/pwned' --cookies-from-browser firefox"
    single = ydl_options(_request("https://example.com/a.mp3", extractors=("generic", "youtube:tab")))
    listing = ydl_options(_request(f"ytsearch5:{text}", kind=ExtractKind.SEARCH, max_entries=5))
    assert single["noplaylist"] is True
    assert single["extract_flat"] is False
    assert single["format"] == AUDIO_FORMAT
    assert single["format"].startswith("bestaudio[acodec=opus]")
    assert single["allowed_extractors"] == ["generic", "youtube:tab"]
    assert single["cookiefile"] is None
    assert single["enable_file_urls"] is False
    assert listing["noplaylist"] is False
    assert listing["extract_flat"] == "in_playlist"
    assert listing["playlistend"] == 6, "one extra entry tells a cut playlist from a full one"
    assert text not in repr(listing), "the search text is only ever the query part of the target"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (
            "ERROR: [youtube] abc: Private video. Sign in if you've been granted access to this video",
            "no_results",
        ),
        (
            "ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader",
            "no_results",
        ),
        (
            "ERROR: [youtube] abc: Sign in to confirm you're not a bot. Use --cookies-from-browser",
            "unsupported",
        ),
        ("ERROR: [youtube] abc: Sign in to confirm your age. This video may be inappropriate", "unsupported"),
        ("ERROR: [generic] Unable to download webpage: timed out", "timeout"),
    ],
)
def test_yt_dlp_errors_are_told_apart(message: str, code: str) -> None:
    """A private video is gone for the bot (its match may be dropped); a sign-in wall is not about the video."""
    assert _failure(Exception(message)).code == code


async def test_local_extraction_returns_plain_data(
    media_workers: MediaWorkers, media_server: MediaServer
) -> None:
    media = await media_workers.extract(_request(media_server.url("/media/tone660.mp3")))
    assert isinstance(media, ResolvedMedia)
    assert (media.title, media.acodec, media.ext) == ("tone660", "mp3", "mp3")
    assert media.stream_url == media_server.url("/media/tone660.mp3")


async def test_the_pool_survives_a_crashed_worker(
    media_workers: MediaWorkers, media_server: MediaServer
) -> None:
    await media_workers.ready()
    before, restarts = media_workers.pids(), media_workers.restarts
    with pytest.raises(WorkerCrashedError, match="try again"):
        await media_workers.run(os._exit, 3)
    assert media_workers.restarts == restarts + 1
    media = await media_workers.extract(_request(media_server.url("/media/tone440.webm")))
    assert isinstance(media, ResolvedMedia)
    assert media.ext == "webm"
    assert not set(media_workers.pids()) & set(before), "a fresh pool replaced the broken one"


async def test_a_call_that_hangs_times_out_and_the_other_worker_keeps_serving(
    media_workers: MediaWorkers, media_server: MediaServer
) -> None:
    started = time.monotonic()
    with pytest.raises(ResolveTimeoutError):
        await media_workers.extract(_request(media_server.silent_url, socket_timeout=2), timeout=0.5)
    assert time.monotonic() - started < 2
    media = await media_workers.extract(_request(media_server.url("/media/tone660.mp3")), timeout=10)
    assert isinstance(media, ResolvedMedia)


async def test_yt_dlp_socket_timeout_ends_a_hung_extraction(
    media_workers: MediaWorkers, media_server: MediaServer
) -> None:
    with pytest.raises(ResolveTimeoutError, match="took too long"):
        await media_workers.extract(_request(media_server.silent_url, socket_timeout=0.5), timeout=10)


async def test_cancelling_the_caller_is_prompt(
    media_workers: MediaWorkers, media_server: MediaServer
) -> None:
    task = asyncio.ensure_future(media_workers.extract(_request(media_server.silent_url, socket_timeout=1)))
    await asyncio.sleep(0.2)
    task.cancel()
    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5
    media = await media_workers.extract(_request(media_server.url("/media/tone880.m4a")))
    assert isinstance(media, ResolvedMedia)


async def test_all_workers_stuck_replaces_the_pool(media_server: MediaServer) -> None:
    workers = MediaWorkers(workers=1, call_timeout=5)
    try:
        await workers.ready()
        with pytest.raises(ResolveTimeoutError):
            await workers.extract(_request(media_server.silent_url, socket_timeout=30), timeout=0.3)
        assert workers.restarts == 1, "the only worker was stuck, so the pool was killed and replaced"
        media = await workers.extract(_request(media_server.url("/media/tone660.mp3")))
        assert isinstance(media, ResolvedMedia)
    finally:
        workers.close()


async def test_closing_after_queued_calls_were_cancelled_fails_nothing_in_the_pool_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Callers gave up on calls still queued, then `close()`: the pool's manager thread must not fail those
    calls with BrokenProcessPool (on Python 3.11 that raises InvalidStateError in the thread). It is a
    race with the manager thread, so a shutdown in the wrong order fails here only now and then."""
    errors: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    others = set(threading.enumerate())  # e.g. the session's pool, which keeps running
    workers = MediaWorkers(workers=1, call_timeout=60)
    await workers.ready()
    # One call runs and two fill the pool's call queue (one more than the workers); two wait behind them.
    calls = [asyncio.ensure_future(workers.run(time.sleep, 30)) for _ in range(5)]
    await asyncio.sleep(0.3)
    for call in calls:
        call.cancel()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    # As when the bot stops, nothing but `workers` may refer to the pool: the callers' frames go with
    # their exceptions, and gather's future goes with the event loop's next step.
    del calls, call, outcomes
    await asyncio.sleep(0)
    managers = [t for t in threading.enumerate() if isinstance(t, _ExecutorManagerThread) and t not in others]
    assert managers
    workers.close()
    for manager in managers:
        manager.join(timeout=10)  # it may still be failing the killed calls after close() returned
    assert [(e.exc_type, e.exc_value) for e in errors] == []
