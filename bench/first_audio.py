"""How long from `!play <link>` to the first audio a listener hears? Cold and warm, in voice or joining.

Each run measures from the moment `SimUser.send` returned (simcord has the user's message and has
dispatched it) to the arrival at simcord's voice server of the first audio packet for that guild: not
the Ogg Opus header packets discord.py forwards first, not the silence frame. The link points at a 30 s
Opus/WebM file on a local HTTP server, so the numbers are the bot's own work, not the internet's.

Scenarios, `--runs` times each (default 20):

* cold, must join: a freshly started bot on a new database (its yt-dlp worker pool warmed up, as right
  after start-up); the first command it gets is the `!play`, and it has to join the voice channel first.
  Each cold start gets a database of its own: with the previous run's database the bot would resume
  the queue it was stopped with (as it should after a restart) and rejoin voice before the run.
* cold, in voice: a freshly started bot, brought in with `!join`; then the first `!play`.
* warm, in voice: the same long-running bot, already in voice and idle (`!stop` before each run).
* warm, must join: the same bot, out of voice before each run (`!leave`), so it joins first.
* warm, in voice, passthrough: as "warm, in voice" at volume 100, where FFmpeg copies the Opus stream
  instead of re-encoding it (the other scenarios use the default volume, 50 %, which re-encodes).

The first table gives median, p95, min and max, and the median as a ratio to "warm, in voice" (the
baseline of the same run); runs where a step timed out are counted as failed and left out. The second
splits the runs into phases (medians), read from what simcord and the media server saw: the "⏳
Queuing…" reply; the resolution (until "Track added", less the join); the join (the bot's voice state
update at the gateway until the voice server's SESSION_DESCRIPTION); from "Track added" to the request
of the FFmpeg that plays (the stream resolved when the track was added is reused: no second
resolution); FFmpeg's first packet; and anything sent before the first audio packet (discord.py would
send the two Ogg Opus header packets there, paced like audio; the bot skips them). The third table
splits a second resolution when one happens (a stream that was no longer fresh): to the bot's own URL
check (aiohttp), from there to yt-dlp's request, to the FFmpeg probe's request, and to the playing
FFmpeg's request. Prints the tables, then one JSON line. With `--smoke` (one run of each scenario) a
failed run is an error.

    .venv/bin/python bench/first_audio.py [--quick | --smoke] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _support import (
    OPUS_WEBM,
    BotProcess,
    MediaServer,
    Room,
    background_load,
    bot_messages,
    build_rooms,
    ms,
    percentile,
    poll,
    show,
    snapshot_sources,
)
from simcord import Message, Simcord
from simcord.tones import render_tone

GOAL_WARM_MS = 120.0  # reply, one resolution, FFmpeg's first packet
GOAL_COLD_MS = 250.0
FILE = "tone.webm"
STEP_TIMEOUT = 30.0
SETTLE = 0.5  # quiet time between runs


@dataclass(frozen=True)
class Scenario:
    name: str
    cold: bool
    in_voice: bool
    passthrough: bool = False


COLD_JOIN = Scenario("cold, must join", cold=True, in_voice=False)
COLD_IN_VOICE = Scenario("cold, in voice", cold=True, in_voice=True)
WARM_IN_VOICE = Scenario("warm, in voice", cold=False, in_voice=True)
WARM_JOIN = Scenario("warm, must join", cold=False, in_voice=False)
WARM_PASSTHROUGH = Scenario("warm, in voice, passthrough", cold=False, in_voice=True, passthrough=True)
SCENARIOS = (COLD_JOIN, COLD_IN_VOICE, WARM_IN_VOICE, WARM_JOIN, WARM_PASSTHROUGH)
BASELINE = WARM_IN_VOICE
PHASES = ("reply", "resolve", "join", "added→FFmpeg", "ffmpeg→packet", "before audio")
AGAIN = ("to URL check", "check→yt-dlp", "yt-dlp→probe", "probe→FFmpeg")


@dataclass
class Run:
    scenario: Scenario
    first_audio: float
    milestones: dict[str, float | None]  # seconds after the message

    def between(self, start: str, end: str) -> float | None:
        a, b = self.milestones.get(start), self.milestones.get(end)
        return None if a is None or b is None else b - a

    def phases(self) -> dict[str, float | None]:
        join = self.between("join_asked", "join_ready")
        resolve = self.between("queuing", "added")
        return {
            "reply": self.milestones.get("queuing"),
            "resolve": None if resolve is None else resolve - (join or 0.0),
            "join": join,
            "added→FFmpeg": self.between("added", "ffmpeg"),
            "ffmpeg→packet": self.between("ffmpeg", "first_packet"),
            "before audio": self.between("first_packet", "first_audio"),
            "to URL check": self.between("added", "check"),
            "check→yt-dlp": self.between("check", "yt-dlp"),
            "yt-dlp→probe": self.between("yt-dlp", "probe"),
            "probe→FFmpeg": self.between("probe", "ffmpeg"),
        }


class Bench:
    def __init__(self, sim: Simcord, media: MediaServer, bot_id: int) -> None:
        self.sim = sim
        self.media = media
        self.bot_id = bot_id
        self.counter = 0
        self.bot: BotProcess | None = None

    async def say(self, room: Room, text: str, answer: str) -> Message:
        """Send a command and wait for the bot's reply titled `answer`."""
        typed = await room.user.send(room.text, text)
        try:
            replies = await poll(
                lambda: bot_messages(self.sim, room.text, self.bot_id, answer, after=typed),
                timeout=STEP_TIMEOUT,
                what=f"{answer!r} after {text!r}",
            )
        except TimeoutError as exc:
            raise self.explain(exc, room, typed) from None
        return replies[0]  # type: ignore[no-any-return]

    def explain(self, exc: Exception, room: Room, typed: Message, tag: str | None = None) -> TimeoutError:
        """A timeout with what the bot answered, what it fetched and the end of its log."""
        seen = [
            json.dumps(m.embeds or m.content, ensure_ascii=False)[:300]
            for m in self.sim.messages(room.text, include_deleted=True, include_ephemeral=True)
            if m.id > typed.id
        ]
        fetched = [f"{r.client} {r.range}" for r in self.media.seen(tag)] if tag else []
        log = self.bot.log_tail() if self.bot is not None else ""
        return TimeoutError(
            f"{exc} after {typed.content!r}; the bot answered {seen}; requests: {fetched}; "
            f"its log ends with:\n{log}"
        )

    def in_voice(self, room: Room) -> bool:
        """The bot is in the room's voice channel with a live voice connection that has its key."""
        if room.guild.voice_channel_of(self.bot_id) != room.voice.id:
            return False
        session = self.sim.voice.session(room.guild.id, self.bot_id)
        return (
            bool(self.sim.voice.live(room.guild.id)) and session is not None and session.peer.key is not None
        )

    def out_of_voice(self, room: Room) -> bool:
        return room.guild.voice_channel_of(self.bot_id) is None and not self.sim.voice.live(room.guild.id)

    def silent_since(self, room: Room, seconds: float) -> bool:
        packets = self.sim.voice.packets(room.guild.id, since=time.monotonic() - seconds)
        return not packets

    async def reset(self, room: Room, scenario: Scenario) -> None:
        """Bring the room to the scenario's idle starting point."""
        if scenario.in_voice:
            if not self.in_voice(room):
                await self.say(room, "!join", "👋  Joined")
                await poll(lambda: self.in_voice(room), timeout=STEP_TIMEOUT, what="voice ready")
            else:
                await self.say(room, "!stop", "⏹️  Playback stopped")
        elif not self.out_of_voice(room):
            await self.say(room, "!leave", "👋  Bye")
            await poll(lambda: self.out_of_voice(room), timeout=STEP_TIMEOUT, what="left voice")
        await poll(lambda: self.silent_since(room, 0.3), timeout=STEP_TIMEOUT, what="audio stopped")
        await asyncio.sleep(SETTLE)

    async def play(self, room: Room, scenario: Scenario) -> Run:
        self.counter += 1
        tag = f"run{self.counter}"
        url = self.media.url(FILE, tag=tag)
        typed = await room.user.send(room.text, f"!play {url}")
        t0, t0_wall = time.monotonic(), time.time()
        guild_id = room.guild.id

        def first_audio() -> Any:
            return next((p for p in self.sim.voice.packets(guild_id, since=t0) if p.audio), None)

        try:
            first = await self.sim.wait_for(first_audio, timeout=STEP_TIMEOUT)
        except TimeoutError as exc:
            raise self.explain(exc, room, typed, tag) from None
        packets = self.sim.voice.packets(guild_id, since=t0)

        def message_at(prefix: str) -> float | None:
            found = bot_messages(self.sim, room.text, self.bot_id, prefix, after=typed)
            return found[0].created_at - t0_wall if found else None

        milestones: dict[str, float | None] = {
            "queuing": message_at("⏳"),
            "added": message_at("🎵  Track added"),
            "first_packet": packets[0].at - t0 if packets else None,
            "first_audio": first.at - t0,
        }
        # The voice join: the bot's voice state update (op 4) at the gateway, then the voice server's
        # SESSION_DESCRIPTION (op 4 on the voice socket), after which the bot can send audio.
        asked = [
            f.at
            for f in self.sim.gateway_log
            if f.direction == "recv"
            and f.op == 4
            and f.at >= t0_wall
            and str(f.d.get("guild_id")) == str(guild_id)
        ]
        ready = [f.at for f in self.sim.voice.frames if f.guild_id == guild_id and f.op == 4 and f.at >= t0]
        if asked and ready:
            milestones["join_asked"], milestones["join_ready"] = asked[0] - t0_wall, ready[0] - t0
        # A second resolution at playback, if one happens: the bot's URL check (aiohttp), yt-dlp in a
        # worker, the FFmpeg probe; then the FFmpeg that plays (the last request before the first packet).
        added = milestones["added"]
        requests = [r for r in self.media.seen(tag) if added is not None and t0 + added <= r.at < first.at]
        marks: dict[str, float] = {}
        for client, mark in (("aiohttp", "check"), ("yt-dlp", "yt-dlp"), ("ffmpeg", "probe")):
            found = next((r for r in requests if r.client == client and r.at >= marks.get("last", 0.0)), None)
            if found is None:
                break
            marks[mark] = marks["last"] = found.at
        players = [r.at for r in requests if r.client == "ffmpeg"]
        if players:
            marks["ffmpeg"] = players[-1]
        milestones.update({k: v - t0 for k, v in marks.items() if k != "last"})
        await poll(
            lambda: bot_messages(self.sim, room.text, self.bot_id, "🎵  Now playing", after=typed),
            timeout=STEP_TIMEOUT,
            what="Now playing",
        )
        return Run(scenario, first.at - t0, milestones)


@dataclass
class Failure:
    scenario: Scenario
    reason: str


class Runner:
    """Runs scenarios, keeping failed runs (a step that timed out) apart instead of stopping."""

    def __init__(self, runs: int) -> None:
        self.runs = runs
        self.results: list[Run] = []
        self.failures: list[Failure] = []

    async def attempt(self, scenario: Scenario, steps: Callable[[], Awaitable[Run]]) -> None:
        try:
            result = await steps()
        except TimeoutError as exc:
            self.failures.append(Failure(scenario, str(exc)))
            print(f"  {scenario.name:<28} failed: {str(exc)[:2000]}", file=sys.stderr)
            if len(self.failures) > self.runs:
                raise RuntimeError("too many failed runs; stopping") from exc
            return
        self.results.append(result)
        print(f"  {scenario.name:<28} {result.first_audio * 1000:7.1f} ms", file=sys.stderr)


async def run(runner: Runner) -> None:
    with tempfile.TemporaryDirectory(prefix="pytunes-bench-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "media"
        root.mkdir()
        render_tone(root / FILE, 440, 30, *OPUS_WEBM, timeout=300)
        log = tmp / "bot.log"
        sources = snapshot_sources(tmp / "src")
        async with Simcord() as sim, MediaServer(root) as media:
            sim.rest.bucket_limit = 10_000  # measure the bot, not the simulator's rate limits
            app = sim.create_application("PyTunes")
            cold_room, *warm_rooms = build_rooms(sim, app, 4)
            for room in (cold_room, *warm_rooms):
                await room.user.join_voice(room.voice)
            bench = Bench(sim, media, app.bot.id)

            for scenario in (COLD_JOIN, COLD_IN_VOICE):
                for n in range(runner.runs):
                    database = tmp / f"cold-{scenario.in_voice}-{n}" / "bench.db"
                    database.parent.mkdir()
                    async with BotProcess(sim.connection(app), database, log, sources=sources) as bench.bot:

                        async def cold(scenario: Scenario = scenario) -> Run:
                            await poll(lambda: bench.out_of_voice(cold_room), timeout=STEP_TIMEOUT)
                            if scenario.in_voice:
                                await bench.reset(cold_room, scenario)
                            else:
                                await asyncio.sleep(SETTLE)
                            return await bench.play(cold_room, scenario)

                        await runner.attempt(scenario, cold)
                    await poll(lambda: bench.out_of_voice(cold_room), timeout=STEP_TIMEOUT, what="bot gone")

            warm = list(zip((WARM_IN_VOICE, WARM_JOIN, WARM_PASSTHROUGH), warm_rooms, strict=True))
            database = tmp / "warm" / "bench.db"
            database.parent.mkdir()
            async with BotProcess(sim.connection(app), database, log, sources=sources) as bench.bot:
                for scenario, room in warm:
                    if scenario.passthrough:
                        await bench.say(room, "!volume 100", "🔊  Volume changed")
                    await bench.reset(room, scenario)
                    await bench.play(room, scenario)  # warm-up, not recorded
                for _ in range(runner.runs):
                    for scenario, room in warm:

                        async def warm_run(scenario: Scenario = scenario, room: Room = room) -> Run:
                            await bench.reset(room, scenario)
                            return await bench.play(room, scenario)

                        await runner.attempt(scenario, warm_run)


def summarize(runner: Runner) -> list[dict[str, Any]]:
    cells = []
    baseline_runs = [r.first_audio for r in runner.results if r.scenario == BASELINE]
    baseline = statistics.median(baseline_runs) if baseline_runs else None
    for scenario in SCENARIOS:
        mine = [r for r in runner.results if r.scenario == scenario]
        failed = [f.reason for f in runner.failures if f.scenario == scenario]
        if not mine and not failed:
            continue
        times = [r.first_audio for r in mine]
        median = statistics.median(times) if times else None
        phases: dict[str, float | None] = {}
        for phase in (*PHASES, *AGAIN):
            values = [v for r in mine if (v := r.phases()[phase]) is not None]
            phases[phase] = ms(statistics.median(values)) if values else None
        cells.append(
            {
                "scenario": scenario.name,
                "cold": scenario.cold,
                "bot_in_voice": scenario.in_voice,
                "ffmpeg": "copy" if scenario.passthrough else "re-encode",
                "runs": len(times),
                "failed": len(failed),
                "failures": [reason[:300] for reason in failed],
                "median_ms": ms(median),
                "p95_ms": ms(percentile(times, 0.95)) if times else None,
                "min_ms": ms(min(times, default=None)),
                "max_ms": ms(max(times, default=None)),
                "vs_baseline": round(median / baseline, 2) if median is not None and baseline else None,
                "phases_median_ms": phases,
            }
        )
    return cells


HEADER = (
    f"{'scenario':<28} {'runs':>4} {'failed':>6} {'median ms':>9} {'p95 ms':>8} {'min ms':>8} {'max ms':>8} "
    f"{'vs warm':>7}"
)
PHASE_HEADER = f"{'median phase, ms':<28} " + " ".join(f"{p:>13}" for p in PHASES)
AGAIN_HEADER = f"{'resolve again, median ms':<28} " + " ".join(f"{p:>13}" for p in AGAIN)


def _row(c: dict[str, Any]) -> str:
    return (
        f"{c['scenario']:<28} {c['runs']:>4} {c['failed']:>6} {show(c['median_ms'], 9)} {show(c['p95_ms'], 8)} "
        f"{show(c['min_ms'], 8)} {show(c['max_ms'], 8)} {show(c['vs_baseline'], 7, 2)}"
    )


def _phase_row(c: dict[str, Any], phases: tuple[str, ...]) -> str:
    return f"{c['scenario']:<28} " + " ".join(show(c["phases_median_ms"][p], 13) for p in phases)


def _within(cells: list[dict[str, Any]], which: Callable[[dict[str, Any]], bool], goal: float) -> bool | None:
    chosen = [c for c in cells if which(c)]
    if not chosen:
        return None
    return all(c["median_ms"] is not None and c["median_ms"] <= goal for c in chosen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="3 runs per scenario instead of 20")
    parser.add_argument("--smoke", action="store_true", help="one run per scenario; a failed run is an error")
    parser.add_argument("--runs", type=int, default=None, help="runs per scenario (default 20, quick 3)")
    args = parser.parse_args(argv)
    runner = Runner(1 if args.smoke else args.runs or (3 if args.quick else 20))
    background = background_load()
    started = time.monotonic()
    asyncio.run(run(runner))
    cells = summarize(runner)
    print("\n" + HEADER)
    for cell in cells:
        print(_row(cell))
    print("\n" + PHASE_HEADER)
    for cell in cells:
        print(_phase_row(cell, PHASES))
    print("\n" + AGAIN_HEADER)
    for cell in cells:
        print(_phase_row(cell, AGAIN))
    verdict = {
        # Warm: the bot in voice already (a join is Discord's time, not the bot's).
        "goal_warm_in_voice_median_le_120ms": _within(
            cells, lambda c: not c["cold"] and c["bot_in_voice"], GOAL_WARM_MS
        ),
        "goal_cold_median_le_250ms": _within(cells, lambda c: c["cold"], GOAL_COLD_MS),
    }
    print(
        json.dumps(
            {
                "bench": "first_audio",
                "runs": runner.runs,
                "background_busy_pct": background,
                "seconds": round(time.monotonic() - started, 1),
                "failed_runs": len(runner.failures),
                "cells": cells,
                **verdict,
            }
        )
    )
    return 1 if args.smoke and runner.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
