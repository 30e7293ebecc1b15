"""How fast are clicks acknowledged under bursts? Three strategies, same process, same simcord.

* handle-then-ack: each click is handled (one at a time), then acknowledged — the naive design.
* sequential defer: a forwarder acknowledges clicks one after another, then hands them on — the
  reference bot's design after its PR #51.
* stream: PyTunes' `InteractionRouter`: every acknowledgement starts on arrival, concurrently.

For bursts of 1, 5, 25 and 50 clicks and simulated REST latencies of 0, 150 and 300 ms it reports the
p50/p99/max acknowledgement latency and the share of clicks Discord would have shown as "This
interaction failed" (not acknowledged within 3 s). Latencies are also given as a ratio to one REST round
trip measured in the same cell. Prints a table for people, then one JSON line for machines.

    .venv/bin/python bench/acks.py [--quick | --smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from pytunes.config import Settings
from pytunes.runner import running_bot
from pytunes.sandbox import simcord_settings
from simcord import Simcord

if TYPE_CHECKING:
    from pytunes.bot import PyTunes

HANDLER_SECONDS = 0.1
STRATEGIES = ("handle-then-ack", "sequential defer", "stream")


class BenchFlows(commands.Cog):
    """Posts one button per cell and runs the chosen strategy on its clicks."""

    def __init__(self, bot: PyTunes) -> None:
        self.bot = bot
        self.queues: dict[str, asyncio.Queue[discord.Interaction[Any]]] = {}
        self.loops: list[asyncio.Task[None]] = []
        bot.interactions.persistent("bench:", self._claim)

    async def _claim(self, interaction: discord.Interaction[Any]) -> bool:
        # Runs as the first step of a task created in gateway order, so queueing here keeps click order.
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        self.queues[custom_id].put_nowait(interaction)
        return True

    async def start(self, channel: discord.abc.Messageable, strategy: str, cell: int) -> discord.Message:
        custom_id = f"bench:{cell}"
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Click", custom_id=custom_id))
        view.stop()
        message = await channel.send(f"{strategy} #{cell}", view=view)
        if strategy == "stream":
            self.loops.append(asyncio.create_task(self._stream(message)))
        else:
            queue: asyncio.Queue[discord.Interaction[Any]] = asyncio.Queue()
            self.queues[custom_id] = queue
            run = self._handle_then_ack if strategy == "handle-then-ack" else self._sequential_defer
            self.loops.append(asyncio.create_task(run(queue)))
        return message

    async def _stream(self, message: discord.Message) -> None:
        async with self.bot.interactions.stream(message) as stream:
            async for _click in stream:
                await asyncio.sleep(HANDLER_SECONDS)

    async def _handle_then_ack(self, queue: asyncio.Queue[discord.Interaction[Any]]) -> None:
        while True:
            interaction = await queue.get()
            await asyncio.sleep(HANDLER_SECONDS)
            await _ack(interaction)

    async def _sequential_defer(self, queue: asyncio.Queue[discord.Interaction[Any]]) -> None:
        handled: asyncio.Queue[discord.Interaction[Any]] = asyncio.Queue()

        async def consume() -> None:
            while True:
                await handled.get()
                await asyncio.sleep(HANDLER_SECONDS)

        consumer = asyncio.create_task(consume())
        try:
            while True:
                interaction = await queue.get()
                await _ack(interaction)
                handled.put_nowait(interaction)
        finally:
            consumer.cancel()

    async def stop_all(self) -> None:
        for task in self.loops:
            task.cancel()
        await asyncio.gather(*self.loops, return_exceptions=True)
        self.loops.clear()


async def _ack(interaction: discord.Interaction[Any]) -> None:
    # Too late is possible here; the simulator records such a click as failed.
    with contextlib.suppress(discord.HTTPException):
        await interaction.response.defer()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def round_trip(sim: Simcord, bot: PyTunes, channel_id: int) -> float:
    """One REST round trip at the cell's latency: the unit the acknowledgement latencies are measured in."""
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        await bot.http.get_channel(channel_id)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def run(bursts: list[int], latencies: list[float]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    async with Simcord() as sim:
        app = sim.create_application("PyTunes")
        alice = sim.create_user("alice")
        guild = sim.create_guild("Bench", alice)
        channel = sim.create_text_channel(guild, "bench")
        sim.add_bot(guild, app)
        sim.rest.bucket_limit = 10_000  # measure acknowledgements, not the simulator's rate limits
        with tempfile.TemporaryDirectory() as tmp:
            settings = simcord_settings(
                Settings(_env_file=None),
                sim.connection(app),  # type: ignore[call-arg]
                database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            )
            async with running_bot(settings, guild_ready_timeout=0.05) as bot:
                flows = BenchFlows(bot)
                await bot.add_cog(flows)
                bot_channel = bot.get_channel(channel.id)
                assert isinstance(bot_channel, discord.TextChannel)
                cell = 0
                for latency in latencies:
                    sim.faults.latency = 0.0
                    for burst in bursts:
                        for strategy in STRATEGIES:
                            cell += 1
                            sent = await flows.start(bot_channel, strategy, cell)
                            message = sim.world.messages[sent.id]
                            sim.faults.latency = latency
                            rtt = await round_trip(sim, bot, channel.id)
                            records = []
                            for _ in range(burst):
                                records.append(await alice.click(message, "Click"))
                                await asyncio.sleep(0.01)  # a fast human: 100 clicks per second
                            await asyncio.gather(*(r.wait_settled(timeout=10) for r in records))
                            sim.faults.latency = 0.0
                            await flows.stop_all()
                            acked = [
                                r.ack_latency for r in records if r.ack_latency is not None and not r.failed
                            ]
                            failed = sum(1 for r in records if r.failed)
                            results.append(_cell(strategy, burst, latency, rtt, acked, failed))
                            print(_row(results[-1]), file=sys.stderr)
    return results


def _cell(
    strategy: str, burst: int, latency: float, rtt: float, acked: list[float], failed: int
) -> dict[str, Any]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    p50 = percentile(acked, 0.5) if acked else None
    p99 = percentile(acked, 0.99) if acked else None
    worst = max(acked) if acked else None
    return {
        "strategy": strategy,
        "burst": burst,
        "latency_ms": round(latency * 1000),
        "rtt_ms": ms(rtt),
        "p50_ms": ms(p50),
        "p99_ms": ms(p99),
        "max_ms": ms(worst),
        "p99_over_rtt": round(p99 / rtt, 2) if p99 is not None and rtt > 0.001 else None,
        "failed_share": round(failed / (failed + len(acked)), 3) if failed + len(acked) else 0.0,
    }


def _row(c: dict[str, Any]) -> str:
    def show(value: Any) -> str:
        return "—" if value is None else str(value)

    return (
        f"{c['strategy']:<17} {c['burst']:>5} {c['latency_ms']:>7} {show(c['rtt_ms']):>7} {show(c['p50_ms']):>8} "
        f"{show(c['p99_ms']):>8} {show(c['max_ms']):>8} {show(c['p99_over_rtt']):>8} {c['failed_share']:>7.1%}"
    )


HEADER = f"{'strategy':<17} {'burst':>5} {'lat ms':>7} {'rtt ms':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p99/rtt':>8} {'failed':>7}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="burst 25 at 150 ms only")
    parser.add_argument("--smoke", action="store_true", help="burst 1 at 0 ms only: does it still run?")
    args = parser.parse_args(argv)
    if args.smoke:
        bursts, latencies = [1], [0.0]
    elif args.quick:
        bursts, latencies = [25], [0.15]
    else:
        bursts, latencies = [1, 5, 25, 50], [0.0, 0.15, 0.3]
    print(HEADER, file=sys.stderr)
    results = asyncio.run(run(bursts, latencies))
    print("\n" + HEADER)
    for cell in results:
        print(_row(cell))
    goal = next(
        (c for c in results if c["strategy"] == "stream" and c["burst"] == 25 and c["latency_ms"] == 150),
        None,
    )
    verdict: dict[str, Any] = {}
    if goal is not None:
        verdict = {
            "goal_p99_le_2x_rtt": goal["p99_over_rtt"] is not None and goal["p99_over_rtt"] <= 2.0,
            "goal_zero_failed": goal["failed_share"] == 0.0,
        }
    print(json.dumps({"bench": "acks", "handler_seconds": HANDLER_SECONDS, "cells": results, **verdict}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
