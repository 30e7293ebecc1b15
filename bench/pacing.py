"""Do voice packets leave on time when many guilds stream while the bot is busy with commands?

PyTunes sends audio with discord.py's stock `AudioPlayer` (one thread per voice connection, fed by one
FFmpeg process per stream); there is no custom sender, so this measures that one implementation and
compares each cell with the 1-stream cell of the same source (the baseline of the same run).

Cells: 1, 10 and 50 guilds streaming at once, for two sources:

* passthrough: Opus in WebM at volume 100; FFmpeg copies the Opus packets (no decoding, no encoding).
* re-encode: MP3 at volume 100; FFmpeg decodes it and encodes Opus (any volume other than 100 costs the
  same: the gain is applied before encoding).

Streams are added cell by cell (the 10-stream cell keeps the stream of the 1-stream cell and adds nine)
from 600 s files, so no track ends during a measurement; between the two sources the bot leaves every
channel. Once every stream flows, two windows are measured on the same streams:

* quiet: nothing else happens.
* burst: every `--interval` seconds, each streaming guild's listener sends `!queue` and `!playing`, and
  in up to 10 guilds (whose queues hold 11 more tracks, so `!queue` has two pages) clicks ▶ on the
  newest paginator and ◀ on the one before. The bot deletes commands and replies after 2 s here (30 s
  by default), so that clean-up lands in the burst window too.

Pacing table, per window: audio frames received and expected; lateness against the 20 ms schedule
(simcord's definition: per stream, the grid anchored at its earliest frame and restarted after a gap;
p50/p99/max pooled over all streams' frames); the worst stream's p99; gaps over 60 ms; p99 as a ratio to
the 1-stream cell; the harness's event-loop lag (simcord stamps packets on that loop; the bot runs in a
child process, see bench/_support.py); the burst's clicks and their acknowledgement p99.

Cost table, CPU in % of one core: per stream (bot process plus FFmpeg children, divided by streams), of
which FFmpeg, and the bot's non-main threads (discord.py's audio players, voice keep-alives and socket
readers); the bot's event-loop thread in total; the whole machine (2 cores = 200 %) and what other
processes used of it (neither the bot, its children nor the harness); CPU per stream as a ratio to the
1-stream cell; the bot's RSS, and the FFmpeg children's RSS and PSS per stream (PSS counts the shared
FFmpeg binary once). The machine may be shared: a window during which other processes used more than
`--max-others` % is measured again (up to `--attempts` times, the calmest is kept; "try" says which).
Prints the two tables, then one JSON line.

    .venv/bin/python bench/pacing.py [--quick | --smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _support import (
    MP3,
    OPUS_WEBM,
    BotProcess,
    MediaServer,
    Room,
    TreeReading,
    background_load,
    bot_messages,
    build_rooms,
    busy_pct,
    ms,
    percentile,
    poll,
    sample_tree,
    show,
    snapshot_sources,
    spent,
)
from simcord import InteractionRecord, Message, Simcord
from simcord.tones import render_tone
from simcord.voice_udp import VoicePacket
from simcord.world import WorldError

FRAME = 0.020
GAP = 0.060
TRACK_SECONDS = 600
EXTRA_TRACKS = 11  # one more than a queue page: `!queue` gets ◀ ▶ buttons
CLICK_GUILDS = 10
SOURCES = {"passthrough": "pass.webm", "re-encode": "tone.mp3"}
GOAL_CPU_PCT = 0.1
GOAL_P99_MS = 5.0
STEP_TIMEOUT = 180.0
CLEANUP_SECONDS = 2.0


# --------------------------------------------------------------------------------------------- analysis


def lateness(packets: Iterable[VoicePacket]) -> tuple[list[float], list[float]]:
    """(lateness of every audio frame, lengths of gaps over 60 ms) for one stream, in seconds.

    The same definition as `simcord.audio.pacing`, which returns only summaries: each run of frames
    between gaps is laid on a 20 ms grid anchored so its earliest frame is on time.
    """
    late: list[float] = []
    gaps: list[float] = []
    run: list[float] = []
    previous: float | None = None
    for packet in packets:
        if not packet.audio:
            continue
        if previous is not None and packet.at - previous > GAP:
            gaps.append(packet.at - previous)
            late.extend(_on_grid(run))
            run = []
        run.append(packet.at)
        previous = packet.at
    late.extend(_on_grid(run))
    return late, gaps


def _on_grid(arrivals: list[float]) -> list[float]:
    offsets = [at - i * FRAME for i, at in enumerate(arrivals)]
    anchor = min(offsets, default=0.0)
    return [offset - anchor for offset in offsets]


@dataclass
class LagProbe:
    """How late this process's event loop wakes up (simcord stamps packets on it)."""

    samples: list[tuple[float, float]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.005)
            now = time.monotonic()
            self.samples.append((now, now - before - 0.005))

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    def between(self, start: float, end: float) -> list[float]:
        return [lag for at, lag in self.samples if start <= at <= end]


# --------------------------------------------------------------------------------------------- driving


def _text(message: Message) -> str:
    """A message in short, for diagnostics."""
    embeds = [
        f"{e.get('title') or e.get('author', {}).get('name') or ''}: {e.get('description') or ''}"
        for e in message.embeds
    ]
    return (message.content or " | ".join(embeds))[:300]


class Driver:
    def __init__(self, sim: Simcord, media: MediaServer, bot_id: int, rooms: list[Room]) -> None:
        self.sim = sim
        self.media = media
        self.bot_id = bot_id
        self.rooms = rooms
        self.streaming = 0  # rooms[:streaming] are playing
        self.queued: set[int] = set()  # indexes of rooms whose queue holds the extra tracks
        self.paginators: dict[int, list[Message]] = {}
        self.clicks: list[InteractionRecord] = []
        self.commands = 0
        self.bot: BotProcess | None = None

    async def say_all(self, rooms: list[Room], text: str, answer: str) -> None:
        """Send `text` in every room at once; wait until each has answered with `answer`."""
        typed = [await room.user.send(room.text, text) for room in rooms]

        def answered() -> bool:
            return all(
                bot_messages(self.sim, room.text, self.bot_id, answer, after=message)
                for room, message in zip(rooms, typed, strict=True)
            )

        await poll(answered, timeout=STEP_TIMEOUT, every=0.1, what=f"{answer!r} after {text!r}")

    def flowing(self, room: Room, within: float = 0.2) -> bool:
        packets = self.sim.voice.packets(room.guild.id, since=time.monotonic() - within)
        return any(p.audio for p in packets)

    async def grow(self, mode: str, count: int) -> float:
        """Start streams in rooms[streaming:count] and queue the extra tracks; returns seconds taken."""
        started = time.monotonic()
        new = list(range(self.streaming, count))
        for batch_start in range(0, len(new), 10):
            await self._start(mode, new[batch_start : batch_start + 10])
        self.streaming = count
        for index in range(min(count, CLICK_GUILDS)):
            if index not in self.queued:
                await self._queue_extra(mode, index)
                self.queued.add(index)
        await asyncio.sleep(CLEANUP_SECONDS + 1.0)  # let the last starts and their clean-up settle
        stopped = [i for i, room in enumerate(self.rooms[:count]) if not self.flowing(room)]
        if stopped:
            raise RuntimeError(f"streams not flowing in rooms {stopped}")
        return time.monotonic() - started

    async def _start(self, mode: str, indexes: list[int]) -> None:
        batch = [self.rooms[index] for index in indexes]
        typed = [
            await room.user.send(room.text, f"!play {self.media.url(SOURCES[mode], tag=f'{mode}-g{index}')}")
            for index, room in zip(indexes, batch, strict=True)
        ]

        def flowing() -> bool:
            return all(self.flowing(room, 1.0) for room in batch)

        try:
            await poll(flowing, timeout=STEP_TIMEOUT, every=0.1, what="streams started")
        except TimeoutError as exc:
            stuck = [
                (
                    index,
                    [_text(m) for m in self.sim.messages(room.text, include_deleted=True) if m.id > sent.id],
                )
                for index, room, sent in zip(indexes, batch, typed, strict=True)
                if not self.flowing(room, 1.0)
            ]
            log = self.bot.log_tail() if self.bot is not None else ""
            raise TimeoutError(
                f"{exc}; rooms without audio and what the bot said there: {stuck}; log:\n{log}"
            ) from None

    async def _queue_extra(self, mode: str, index: int) -> None:
        room = self.rooms[index]
        typed = [
            await room.user.send(
                room.text, f"!play {self.media.url(SOURCES[mode], tag=f'{mode}-q{index}-{k}')}"
            )
            for k in range(EXTRA_TRACKS)
        ]

        def queued() -> bool:
            added = bot_messages(self.sim, room.text, self.bot_id, "🎵  Track added", after=typed[0])
            return len(added) >= EXTRA_TRACKS

        await poll(queued, timeout=STEP_TIMEOUT, every=0.1, what="extra tracks queued")

    async def leave_all(self) -> None:
        """`!leave` everywhere, so the next source starts from the same state as the first."""
        rooms = self.rooms[: self.streaming]
        await self.say_all(rooms, "!leave", "👋  Bye")
        await poll(
            lambda: not any(self.flowing(room, 0.5) or self.sim.voice.live(room.guild.id) for room in rooms),
            timeout=STEP_TIMEOUT,
            what="left voice",
        )
        self.streaming = 0
        self.queued.clear()
        self.paginators.clear()
        await asyncio.sleep(CLEANUP_SECONDS + 1.0)

    async def burst(self) -> None:
        """One burst: `!queue` and `!playing` in every streaming room, clicks in the click rooms."""
        for index, room in enumerate(self.rooms[: self.streaming]):
            if index in self.queued:
                await self._click(index, room)
            await room.user.send(room.text, "!queue")
            await room.user.send(room.text, "!playing")
            self.commands += 2

    async def _click(self, index: int, room: Room) -> None:
        """▶ on the newest paginator, ◀ on the one before it (▶ was clicked there in the last burst)."""
        known = self.paginators.setdefault(index, [])
        floor = known[-1].id if known else 0
        for message in self.sim.messages(room.text):
            if message.id > floor and message.author.id == self.bot_id and message.components:
                known.append(message)
        for targets, button in ((known[-1:], "page:next"), (known[-2:-1], "page:prev")):
            for target in targets:
                if target.deleted_at is not None:
                    continue
                with contextlib.suppress(LookupError, WorldError):  # disabled or gone: nothing to click
                    self.clicks.append(await room.user.click(target, button))

    async def settled_clicks(self, since: int) -> list[InteractionRecord]:
        records = self.clicks[since:]
        await asyncio.gather(*(r.wait_settled(timeout=10) for r in records), return_exceptions=True)
        return records


# --------------------------------------------------------------------------------------------- measuring


@dataclass
class Windows:
    """How each cell's windows are measured."""

    quiet: float
    burst: float
    interval: float
    attempts: int  # tries per window when other processes were busy during it
    max_others: float  # % of one core other processes may use during a window


async def measure(
    driver: Driver, bot: BotProcess, probe: LagProbe, mode: str, spec: Windows
) -> list[dict[str, Any]]:
    """The quiet window, then the burst window, each retried while other processes load the machine."""

    async def quiet() -> dict[str, Any]:
        before = sample_tree(bot.pid)
        await asyncio.sleep(spec.quiet)
        return window(driver, probe, mode, "quiet", before, sample_tree(bot.pid), [])

    async def burst() -> dict[str, Any]:
        clicks_from, commands_from = len(driver.clicks), driver.commands
        before = sample_tree(bot.pid)
        end = before.at + spec.burst
        while time.monotonic() < end - 0.5:
            await driver.burst()
            await asyncio.sleep(min(spec.interval, max(0.0, end - time.monotonic())))
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        after = sample_tree(bot.pid)
        records = await driver.settled_clicks(clicks_from)
        cell = window(driver, probe, mode, "burst", before, after, records)
        cell["commands"] = driver.commands - commands_from
        return cell

    return [await _least_disturbed(quiet, spec), await _least_disturbed(burst, spec)]


async def _least_disturbed(
    measure_once: Callable[[], Awaitable[dict[str, Any]]], spec: Windows
) -> dict[str, Any]:
    """Measure up to `spec.attempts` times; the first try other processes left alone, else the calmest."""
    tries: list[dict[str, Any]] = []
    for attempt in range(1, spec.attempts + 1):
        cell = await measure_once()
        cell["attempt"] = attempt
        tries.append(cell)
        if cell["others_pct"] <= spec.max_others:
            break
        print(
            f"  other processes used {cell['others_pct']:.0f} % of a core during the {cell['window']} "
            f"window (limit {spec.max_others:.0f} %)"
            + ("; measuring again" if attempt < spec.attempts else ""),
            file=sys.stderr,
        )
    return min(tries, key=lambda c: c["others_pct"])


def window(
    driver: Driver,
    probe: LagProbe,
    mode: str,
    name: str,
    before: TreeReading,
    after: TreeReading,
    clicks: list[InteractionRecord],
) -> dict[str, Any]:
    start, end = before.at, after.at
    seconds = end - start
    streams = driver.streaming
    late: list[float] = []
    gaps: list[float] = []
    worst_p99 = 0.0
    frames = 0
    for room in driver.rooms[:streams]:
        packets = [p for p in driver.sim.voice.packets(room.guild.id, since=start) if p.at <= end]
        mine, my_gaps = lateness(packets)
        late.extend(mine)
        gaps.extend(my_gaps)
        frames += len(mine)
        if mine:
            worst_p99 = max(worst_p99, percentile(mine, 0.99))

    def ns_pct(ns: int) -> float:
        return ns / 1e9 / seconds * 100

    def pct(ns: int) -> float:
        return round(ns_pct(ns), 3)

    ffmpeg_ns = spent(before, after, "ffmpeg")
    workers_ns = spent(before, after, "python")
    harness_ns = after.harness_ns - before.harness_ns
    reaped_ns = after.reaped_ns - before.reaped_ns
    loop_ns = after.bot_main_ns - before.bot_main_ns
    threads_ns = after.bot_threads_ns - before.bot_threads_ns
    machine = busy_pct(before.system_busy, after.system_busy)
    ffmpegs = [c for c in after.children.values() if c.kind == "ffmpeg"]
    lags = probe.between(start, end)
    acked = [r.ack_latency for r in clicks if r.ack_latency is not None and not r.failed]
    return {
        "mode": mode,
        "streams": streams,
        "window": name,
        "seconds": round(seconds, 2),
        "frames": frames,
        "frames_expected": round(streams * seconds / FRAME),
        "lateness_p50_ms": ms(percentile(late, 0.5), 2) if late else None,
        "lateness_p99_ms": ms(percentile(late, 0.99), 2) if late else None,
        "lateness_max_ms": ms(max(late), 2) if late else None,
        "worst_stream_p99_ms": ms(worst_p99, 2),
        "gaps_over_60ms": len(gaps),
        "longest_gap_ms": ms(max(gaps)) if gaps else None,
        "cpu_per_stream_pct": pct((loop_ns + threads_ns + ffmpeg_ns + reaped_ns) // max(streams, 1)),
        "ffmpeg_per_stream_pct": pct(ffmpeg_ns // max(streams, 1)),
        "bot_threads_per_stream_pct": pct(threads_ns // max(streams, 1)),
        "bot_loop_pct": pct(loop_ns),
        "harness_pct": pct(harness_ns),
        "machine_busy_pct": round(machine, 1),
        "others_pct": round(
            max(
                0.0, machine - ns_pct(loop_ns + threads_ns + ffmpeg_ns + reaped_ns + workers_ns + harness_ns)
            ),
            1,
        ),
        "bot_threads": after.bot_threads,
        "bot_rss_mb": round(after.bot_rss_kb / 1024, 1),
        "ffmpeg_processes": len(ffmpegs),
        "ffmpeg_rss_mb_per_stream": round(sum(c.rss_kb for c in ffmpegs) / 1024 / max(len(ffmpegs), 1), 2),
        "ffmpeg_pss_mb_per_stream": round(sum(c.pss_kb for c in ffmpegs) / 1024 / max(len(ffmpegs), 1), 2),
        "harness_lag_p99_ms": ms(percentile(lags, 0.99), 2) if lags else None,
        "clicks": len(clicks),
        "clicks_failed": sum(1 for r in clicks if r.failed),
        "click_ack_p99_ms": ms(percentile(acked, 0.99)) if acked else None,
    }


def _cores() -> int:
    return os.cpu_count() or 1


def add_ratios(cells: list[dict[str, Any]]) -> None:
    """p99 lateness and CPU per stream as ratios to the 1-stream cell of the same source and window."""
    base = {(c["mode"], c["window"]): c for c in cells if c["streams"] == 1}
    for cell in cells:
        ref = base.get((cell["mode"], cell["window"]))
        for key, out in (("lateness_p99_ms", "p99_vs_1"), ("cpu_per_stream_pct", "cpu_vs_1")):
            a, b = cell.get(key), ref.get(key) if ref else None
            cell[out] = round(a / b, 2) if a is not None and b else None


# --------------------------------------------------------------------------------------------- running


async def run(counts: list[int], spec: Windows) -> dict[str, Any]:
    cells: list[dict[str, Any]] = []
    setup: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="pytunes-bench-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "media"
        root.mkdir()
        await asyncio.gather(
            asyncio.to_thread(
                render_tone, root / SOURCES["passthrough"], 440, TRACK_SECONDS, *OPUS_WEBM, timeout=300
            ),
            asyncio.to_thread(
                render_tone, root / SOURCES["re-encode"], 660, TRACK_SECONDS, *MP3, timeout=300
            ),
        )
        async with Simcord() as sim, MediaServer(root) as media:
            sim.rest.bucket_limit = 100_000  # measure the bot, not the simulator's rate limits
            app = sim.create_application("PyTunes")
            rooms = build_rooms(sim, app, max(counts))
            for room in rooms:
                await room.user.join_voice(room.voice)
            probe = LagProbe()
            probe.start()
            try:
                sources = snapshot_sources(tmp / "src")
                async with BotProcess(
                    sim.connection(app),
                    tmp / "bench.db",
                    tmp / "bot.log",
                    sources=sources,
                    # Clean-up deletions of the burst's messages then happen inside the burst window,
                    # instead of 30 s later in another cell's quiet window.
                    prefix_cleanup_seconds=CLEANUP_SECONDS,
                    reply_delete_seconds=CLEANUP_SECONDS,
                ) as bot:
                    driver = Driver(sim, media, app.bot.id, rooms)
                    driver.bot = bot
                    await driver.say_all(rooms, "!volume 100", "🔊  Volume changed")
                    for mode in SOURCES:
                        for count in counts:
                            took = await driver.grow(mode, count)
                            setup[f"{mode}/{count}"] = round(took, 1)
                            print(f"  {mode}: {count} streams flowing (setup {took:.1f} s)", file=sys.stderr)
                            windows = await measure(driver, bot, probe, mode, spec)
                            for cell in windows:
                                print("  " + _pacing_row(cell), file=sys.stderr)
                                print("  " + _cost_row(cell), file=sys.stderr)
                            cells.extend(windows)
                        await driver.leave_all()
            finally:
                await probe.stop()
    add_ratios(cells)
    return {"cells": cells, "setup_seconds": setup}


PACING_HEADER = (
    f"{'source':<12} {'streams':>7} {'window':<6} {'frames':>7} {'of':>7} {'p50 ms':>7} {'p99 ms':>7} "
    f"{'max ms':>7} {'worst p99':>9} {'gaps':>5} {'p99 ×1':>7} {'loop lag':>8} {'clicks':>6} {'ack p99':>7}"
)
COST_HEADER = (
    f"{'source':<12} {'streams':>7} {'window':<6} {'cpu/str %':>9} {'ffmpeg %':>8} {'threads %':>9} "
    f"{'loop %':>7} {'busy %':>7} {'others %':>8} {'try':>3} {'cpu ×1':>6} {'bot MB':>7} {'ff RSS':>7} "
    f"{'ff PSS':>7}"
)


def _pacing_row(c: dict[str, Any]) -> str:
    return (
        f"{c['mode']:<12} {c['streams']:>7} {c['window']:<6} {c['frames']:>7} {c['frames_expected']:>7} "
        f"{show(c['lateness_p50_ms'], 7, 2)} {show(c['lateness_p99_ms'], 7, 2)} {show(c['lateness_max_ms'], 7, 1)} "
        f"{show(c['worst_stream_p99_ms'], 9, 2)} {c['gaps_over_60ms']:>5} {show(c.get('p99_vs_1'), 7, 2)} "
        f"{show(c['harness_lag_p99_ms'], 8, 2)} {c['clicks']:>6} {show(c['click_ack_p99_ms'], 7, 1)}"
    )


def _cost_row(c: dict[str, Any]) -> str:
    return (
        f"{c['mode']:<12} {c['streams']:>7} {c['window']:<6} {show(c['cpu_per_stream_pct'], 9, 3)} "
        f"{show(c['ffmpeg_per_stream_pct'], 8, 3)} {show(c['bot_threads_per_stream_pct'], 9, 3)} "
        f"{show(c['bot_loop_pct'], 7, 2)} {show(c['machine_busy_pct'], 7, 1)} {show(c['others_pct'], 8, 1)} "
        f"{show(c.get('attempt'), 3)} "
        f"{show(c.get('cpu_vs_1'), 6, 2)} "
        f"{show(c['bot_rss_mb'], 7, 1)} {show(c['ffmpeg_rss_mb_per_stream'], 7, 2)} "
        f"{show(c['ffmpeg_pss_mb_per_stream'], 7, 2)}"
    )


def verdict(cells: list[dict[str, Any]]) -> dict[str, Any]:
    passthrough = [c for c in cells if c["mode"] == "passthrough" and c["window"] == "quiet"]
    largest = max(passthrough, key=lambda c: c["streams"], default=None)
    at_ten = {c["mode"]: c for c in cells if c["streams"] == 10 and c["window"] == "burst"}
    return {
        "goal_passthrough_cpu_per_stream_le_0_1pct": (
            largest["cpu_per_stream_pct"] <= GOAL_CPU_PCT if largest is not None else None
        ),
        "goal_p99_le_5ms_at_10_streams_with_burst": {
            mode: c["lateness_p99_ms"] is not None and c["lateness_p99_ms"] <= GOAL_P99_MS
            for mode, c in at_ten.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1 and 10 streams, shorter windows")
    parser.add_argument(
        "--smoke", action="store_true", help="1 stream, 1 s windows, one try: does it still run?"
    )
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between command bursts")
    parser.add_argument(
        "--max-others",
        type=float,
        default=20.0,
        help="%% of a core other processes may use during a window before it is measured again (default 20)",
    )
    parser.add_argument("--attempts", type=int, default=3, help="tries per window at most (default 3)")
    args = parser.parse_args(argv)
    if args.smoke:
        counts, quiet, burst, interval, attempts = [1], 1.0, 2.0, 1.0, 1
    else:
        counts, quiet, burst = ([1, 10], 4.0, 6.0) if args.quick else ([1, 10, 50], 6.0, 12.0)
        interval, attempts = args.interval, max(1, args.attempts)
    spec = Windows(quiet, burst, interval, attempts, args.max_others)
    background = background_load()
    started = time.monotonic()
    outcome = asyncio.run(run(counts, spec))
    cells = outcome["cells"]
    print("\n" + PACING_HEADER)
    for cell in cells:
        print(_pacing_row(cell))
    print("\n" + COST_HEADER)
    for cell in cells:
        print(_cost_row(cell))
    print(
        json.dumps(
            {
                "bench": "pacing",
                "sender": "discord.py AudioPlayer",
                "cores": _cores(),
                "background_busy_pct": background,
                "quiet_seconds": quiet,
                "burst_seconds": burst,
                "burst_interval_seconds": interval,
                "max_others_pct": args.max_others,
                "seconds": round(time.monotonic() - started, 1),
                "setup_seconds": outcome["setup_seconds"],
                "cells": cells,
                **verdict(cells),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
