"""How fast are reputation pages with 100,000 users and 1,000,000 reps in one server?

Seeds one guild (a seeded RNG: receivers skewed so a few users hold thousands of reps, givers uniform,
80 % +1, times spread over the last year), bulk-loaded with `executemany` on SQLite and `COPY` on
PostgreSQL, then scores rebuilt from the log as `RepStore.rebuild` does. Each cell is what the bot does for
one command or click: the page source's `page_count()` then `render(page)` (database reads, the rolling
window catch-up check, the embed). Reported as p50/p99 over many runs, next to a baseline in the same
process: ranking by a GROUP BY over the log, the design the materialised scores replace.

PostgreSQL runs when PYTUNES_TEST_POSTGRES_URL is set (scripts/with-postgres sets it) in a throwaway
database; otherwise it is skipped with a note. Prints a table for people, then one JSON line.

    .venv/bin/python bench/leaderboard.py [--quick | --smoke]  # --quick: 10,000 users, 100,000 reps
    scripts/with-postgres .venv/bin/python bench/leaderboard.py
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import math
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from pytunes.core.clock import SystemClock
from pytunes.reputation.model import Period
from pytunes.reputation.service import BoardPages, HistoryPages
from pytunes.reputation.store import RepStore
from pytunes.storage.engine import create_engine, normalize_url
from pytunes.storage.migrate import migrate_to_head
from pytunes.storage.schema import reputation

GUILD = 1_000_000_000_000_000_001
CHANNEL = 1_000_000_000_000_000_002
USER_BASE = 2_000_000_000_000_000_000
YEAR = 365 * 86_400
GOAL_MS = 20.0
COLUMNS = ["guild_id", "giver_id", "receiver_id", "value", "reason", "created_at", "channel_id", "message_id"]
REASONS = [f"seeded reason {i}: thanks for the help with that thing" for i in range(64)]


def generate(users: int, reps: int, now: float, seed: int = 20_260_101) -> list[tuple[Any, ...]]:
    """Rows in id (time) order. Receivers follow a Zipf-like skew; no one reps themselves."""
    rng = random.Random(seed)
    weights = list(itertools.accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(users)))
    receivers = rng.choices(range(users), cum_weights=weights, k=reps)
    times = sorted(now - rng.random() * YEAR for _ in range(reps))
    rows = []
    for i in range(reps):
        receiver = receivers[i]
        giver = rng.randrange(users - 1)
        giver += giver >= receiver
        value = 1 if rng.random() < 0.8 else -1
        rows.append(
            (
                GUILD,
                USER_BASE + giver,
                USER_BASE + receiver,
                value,
                REASONS[i % len(REASONS)],
                datetime.fromtimestamp(times[i], UTC),
                CHANNEL,
                i + 1,
            )
        )
    return rows


async def load(engine: AsyncEngine, rows: list[tuple[Any, ...]]) -> None:
    async with engine.begin() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        if engine.dialect.name == "postgresql":
            await driver.copy_records_to_table("reputation", records=rows, columns=COLUMNS)
        else:
            # SQLAlchemy's own storage format for SQLite datetimes (naive UTC text).
            as_text = [(*r[:5], r[5].strftime("%Y-%m-%d %H:%M:%S.%f"), *r[6:]) for r in rows]
            placeholders = ", ".join("?" for _ in COLUMNS)
            await driver.executemany(
                f"INSERT INTO reputation ({', '.join(COLUMNS)}) VALUES ({placeholders})", as_text
            )


async def settle(engine: AsyncEngine) -> None:
    """After the bulk load: the state a long-running bot's database would be in."""
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            # What autovacuum does soon after a bulk load (insert-triggered since PostgreSQL 13): statistics,
            # and the visibility map that lets index-only scans skip the table.
            await conn.execute(text("VACUUM ANALYZE"))
        else:
            # SQLite checkpoints its WAL as it goes; a single million-row WAL would slow every read.
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    gc.collect()  # the generated rows are gone; don't bill their collection to the first cells


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


async def measure(call: Callable[[], Awaitable[object]], runs: int, warmup: int = 10) -> dict[str, float]:
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return {
        "p50_ms": round(percentile(samples, 0.5) * 1000, 2),
        "p99_ms": round(percentile(samples, 0.99) * 1000, 2),
        "runs": runs,
    }


def board_page(store: RepStore, period: Period, page: int) -> Callable[[], Awaitable[object]]:
    source = BoardPages(store, SystemClock(), GUILD, period, "!")

    async def run() -> object:
        pages = await source.page_count()
        return await source.render(min(page if page >= 0 else pages + page, pages - 1))

    return run


def history_page(store: RepStore, user_id: int, page: int) -> Callable[[], Awaitable[object]]:
    source = HistoryPages(store, GUILD, user_id)

    async def run() -> object:
        pages = await source.page_count()
        return await source.render(min(page if page >= 0 else pages + page, pages - 1))

    return run


def group_by_baseline(engine: AsyncEngine) -> Callable[[], Awaitable[object]]:
    """The design replaced: count and rank receivers with a GROUP BY over the whole log."""
    r = reputation.c
    totals = (
        select(r.receiver_id, func.sum(r.value).label("total"), func.count().label("reps"))
        .where(r.guild_id == GUILD, r.revoked_at.is_(None))
        .group_by(r.receiver_id)
    ).subquery()

    async def run() -> object:
        async with engine.connect() as conn:
            ranked = await conn.scalar(select(func.count()).select_from(totals))
            rows = await conn.execute(
                select(totals)
                .order_by(totals.c.total.desc(), totals.c.reps.desc(), totals.c.receiver_id)
                .limit(5)
            )
            return ranked, list(rows)

    return run


async def bench_backend(name: str, url: str, users: int, reps: int, runs: int) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        await migrate_to_head(engine)
        now = time.time()
        started = time.perf_counter()
        rows = generate(users, reps, now)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        await load(engine, rows)
        loaded = time.perf_counter() - started
        heaviest = USER_BASE  # rank 0 of the skew
        typical = rows[len(rows) // 2][2]
        del rows
        store = RepStore(engine)
        started = time.perf_counter()
        await store.rebuild(GUILD, time.time())
        rebuilt = time.perf_counter() - started
        await settle(engine)
        ranked = await store.ranked_count(GUILD, Period.ALL, time.time())
        heavy_reps = (await store.history_size(GUILD, heaviest))[1]
        print(
            f"[{name}] generated {reps:,} reps in {generated:.1f} s, loaded in {loaded:.1f} s, "
            f"scores rebuilt in {rebuilt:.1f} s; {ranked:,} ranked users; heaviest has {heavy_reps:,} reps",
            file=sys.stderr,
        )
        cells: dict[str, Callable[[], Awaitable[object]]] = {
            "board all · page 1": board_page(store, Period.ALL, 0),
            "board all · page 2": board_page(store, Period.ALL, 1),
            "board 30d · page 1": board_page(store, Period.MONTH, 0),
            "board 7d · page 1": board_page(store, Period.WEEK, 0),
            "history · typical user p1": history_page(store, typical, 0),
            "history · heaviest user p1": history_page(store, heaviest, 0),
            "board all · middle page": board_page(store, Period.ALL, -(ranked // 20)),
            "history · heaviest user last": history_page(store, heaviest, -1),
        }
        results = {}
        for cell, call in cells.items():
            results[cell] = await measure(call, runs)
            print(f"[{name}] {cell}: {results[cell]}", file=sys.stderr)
        baseline = await measure(group_by_baseline(engine), max(3, runs // 50), warmup=1)
        page_one = results["board all · page 1"]["p50_ms"]
        return {
            "backend": name,
            "seed_s": {
                "generate": round(generated, 2),
                "load": round(loaded, 2),
                "rebuild": round(rebuilt, 2),
            },
            "ranked_users": ranked,
            "heaviest_user_reps": heavy_reps,
            "cells": results,
            "baseline_group_by": {
                **baseline,
                "p50_over_materialised": round(baseline["p50_ms"] / page_one, 1),
            },
        }
    finally:
        await engine.dispose()


GOAL_CELLS = [
    "board all · page 1",
    "board all · page 2",
    "board 30d · page 1",
    "board 7d · page 1",
    "history · typical user p1",
    "history · heaviest user p1",
]


async def run(users: int, reps: int, runs: int) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        results.append(await bench_backend("sqlite", url, users, reps, runs))
    server = os.environ.get("PYTUNES_TEST_POSTGRES_URL")
    if not server:
        print(
            "PostgreSQL skipped: set PYTUNES_TEST_POSTGRES_URL or run through scripts/with-postgres",
            file=sys.stderr,
        )
        return results
    admin = create_async_engine(normalize_url(server), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    database = f"pytunes_bench_{uuid.uuid4().hex[:8]}"
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
        url = normalize_url(server).set(database=database).render_as_string(hide_password=False)
        results.append(await bench_backend("postgres", url, users, reps, runs))
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.dispose()
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'backend':<9} {'cell':<30} {'p50 ms':>8} {'p99 ms':>8}"]
    for backend in results:
        for cell, numbers in backend["cells"].items():
            lines.append(f"{backend['backend']:<9} {cell:<30} {numbers['p50_ms']:>8} {numbers['p99_ms']:>8}")
        base = backend["baseline_group_by"]
        lines.append(
            f"{backend['backend']:<9} {'baseline: GROUP BY over log':<30} {base['p50_ms']:>8} {base['p99_ms']:>8}"
            f"   ({base['p50_over_materialised']}× page 1)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10,000 users and 100,000 reps")
    parser.add_argument(
        "--smoke", action="store_true", help="200 users, 2,000 reps, 5 runs: does it still run?"
    )
    parser.add_argument("--runs", type=int, default=300, help="measured runs per cell")
    args = parser.parse_args(argv)
    if args.smoke:
        users, reps, runs = 200, 2_000, 5
    else:
        users, reps = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
        runs = args.runs
    results = asyncio.run(run(users, reps, runs))
    print(table(results))
    sqlite = next(r for r in results if r["backend"] == "sqlite")
    goal = all(sqlite["cells"][cell]["p99_ms"] <= GOAL_MS for cell in GOAL_CELLS)
    print(
        json.dumps(
            {
                "bench": "leaderboard",
                "users": users,
                "reps": reps,
                "goal_cells": GOAL_CELLS,
                "goal_sqlite_p99_le_20ms": goal,
                "cpus": os.cpu_count(),
                "load_average_1m_at_end": round(os.getloadavg()[0], 2),
                "backends": results,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
