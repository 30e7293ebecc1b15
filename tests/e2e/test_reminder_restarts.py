"""Reminders survive the bot dying: the bot runs as a real process that the tests `kill -9`, then another
starts on the same database. Each reminder reaches the channel exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from simcord import Channel, Message, Simcord, SimUser
from simcord.world import Application
from tests.e2e.process_bot import bot_process

pytestmark = pytest.mark.slow


@dataclass
class Site:
    sim: Simcord
    app: Application
    alice: SimUser
    general: Channel
    database: Path
    log: Path

    def rows(self, query: str, *args: object) -> list[tuple[object, ...]]:
        with contextlib.closing(sqlite3.connect(self.database, timeout=10)) as conn:
            return conn.execute(query, args).fetchall()

    def deliveries(self, reminder_id: int) -> list[Message]:
        return [
            m
            for m in self.sim.messages(self.general, include_deleted=True)
            if m.author.id == self.app.bot.id
            and any(e.get("footer", {}).get("text") == f"Reminder #{reminder_id}" for e in m.embeds)
        ]

    async def until(self, condition: object, timeout: float = 15.0) -> object:
        deadline = time.monotonic() + timeout
        while not (value := condition()):  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met")
            await asyncio.sleep(0.01)
        return value


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    tmp = tmp_path_factory.mktemp("reminder-restarts")
    async with Simcord() as sim:
        app = sim.create_application("PyTunes")
        alice = sim.create_user("alice")
        guild = sim.create_guild("Restarts", alice)
        general = sim.create_text_channel(guild, "general")
        sim.add_bot(guild, app)
        yield Site(sim, app, alice, general, tmp / "pytunes.db", tmp / "bot.log")


async def create(site: Site, text: str) -> tuple[int, float]:
    """Set a reminder with `!notify me <text>`; its id and due time."""
    typed = await site.alice.send(site.general, f"!notify me {text}")
    reply = await site.sim.wait_for_message(
        site.general, lambda m: m.author.id == site.app.bot.id, after=typed, timeout=15
    )
    reminder_id = re.search(r"`#(\d+)`", reply.text())
    due = re.search(r"<t:(\d+):F>", reply.text())
    assert reminder_id, reply.text()
    assert due, reply.text()
    return int(reminder_id.group(1)), float(due.group(1))


@contextlib.contextmanager
def write_lock(database: Path) -> Iterator[None]:
    """Hold SQLite's write lock: the bot can read but not commit until the block ends."""
    conn = sqlite3.connect(database, isolation_level=None, timeout=10)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


async def test_overdue_reminder_is_delivered_once_after_kill_9(site: Site) -> None:
    async with bot_process(site.sim, site.app, site.database, log=site.log) as bot:
        reminder_id, due = await create(site, "1s overdue after a crash")
        bot.kill()
        await bot.wait()
    assert site.rows("SELECT state FROM reminders WHERE id = ?", reminder_id) == [("pending",)]
    await asyncio.sleep(max(due - time.time(), 0))  # at most a second: the reminder is overdue now
    assert site.deliveries(reminder_id) == []

    async with bot_process(site.sim, site.app, site.database, log=site.log):
        await site.until(lambda: site.deliveries(reminder_id))
        await site.until(
            lambda: site.rows("SELECT count(*) FROM reminders WHERE id = ?", reminder_id) == [(0,)]
        )
    # A third start finds nothing left to send.
    async with bot_process(site.sim, site.app, site.database, log=site.log):
        await create(site, "1h marker")
    assert len(site.deliveries(reminder_id)) == 1


async def test_crash_between_send_and_confirm_does_not_send_twice(site: Site) -> None:
    route = f"POST /channels/{site.general.id}/messages"
    async with bot_process(site.sim, site.app, site.database, log=site.log) as bot:
        reminder_id, _ = await create(site, "1s crash window")
        # The send takes a second (simcord's latency), long enough to take the database's write lock
        # after the claim: the message then reaches Discord but the confirmation cannot be written.
        site.sim.faults.latency_for[route] = 1.0
        try:
            await site.until(
                lambda: site.rows("SELECT state FROM reminders WHERE id = ?", reminder_id) == [("sending",)]
            )
            with write_lock(site.database):
                await site.until(lambda: site.deliveries(reminder_id))
                bot.kill()
                await bot.wait()
        finally:
            site.sim.faults.latency_for.pop(route, None)
    sent = site.deliveries(reminder_id)
    assert len(sent) == 1
    assert site.rows("SELECT state, delivery_key FROM reminders WHERE id = ?", reminder_id) == [
        ("sending", sent[0].nonce)
    ], "the crash left the reminder unconfirmed, with the nonce of the message that went out"

    async with bot_process(site.sim, site.app, site.database, log=site.log) as bot:
        await site.until(
            lambda: site.rows("SELECT count(*) FROM reminders WHERE id = ?", reminder_id) == [(0,)]
        )
        assert "already delivered by an earlier attempt" in bot.output()
    assert len(site.deliveries(reminder_id)) == 1, "recognised by its nonce, not sent again"


async def test_crash_right_after_the_claim_sends_it_once(site: Site) -> None:
    async with bot_process(site.sim, site.app, site.database, log=site.log) as bot:
        reminder_id, _ = await create(site, "1h lost before sending")
        bot.kill()
        await bot.wait()
    # Exactly what a crash between the claim and the send leaves behind: claimed, attempted, nothing sent.
    with contextlib.closing(sqlite3.connect(site.database)) as conn, conn:
        conn.execute(
            "UPDATE reminders SET state = 'sending', attempts = 1, first_attempt_snowflake = ?, "
            "next_attempt_ms = ? WHERE id = ?",
            (snowflake_now(), int(time.time() * 1000), reminder_id),
        )
    async with bot_process(site.sim, site.app, site.database, log=site.log):
        await site.until(lambda: site.deliveries(reminder_id))
        await site.until(
            lambda: site.rows("SELECT count(*) FROM reminders WHERE id = ?", reminder_id) == [(0,)]
        )
    assert len(site.deliveries(reminder_id)) == 1


def snowflake_now() -> int:
    return (int(time.time() * 1000) - 1420070400000 - 120_000) << 22
