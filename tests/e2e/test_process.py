"""The bot as its own process: it answers, shuts down cleanly on SIGTERM, and survives `kill -9`."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from simcord import Channel, Simcord, SimUser
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


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    tmp = tmp_path_factory.mktemp("process")
    async with Simcord() as sim:
        app = sim.create_application("PyTunes")
        alice = sim.create_user("alice")
        guild = sim.create_guild("Process", alice)
        general = sim.create_text_channel(guild, "general")
        sim.add_bot(guild, app)
        yield Site(sim, app, alice, general, tmp / "pytunes.db", tmp / "bot.log")


async def ping(site: Site) -> None:
    typed = await site.alice.send(site.general, "!ping")
    await site.sim.wait_for_message(
        site.general, lambda m: m.author.id == site.app.bot.id, after=typed, timeout=15
    )


async def test_sigterm_shuts_down_cleanly(site: Site) -> None:
    async with bot_process(site.sim, site.app, site.database, log=site.log) as bot:
        await ping(site)
        closes_before = len(site.sim.gateway_closes)
        bot.process.send_signal(signal.SIGTERM)
        assert await bot.wait(15) == 0, bot.output()[-2000:]
    close = site.sim.gateway_closes[closes_before]
    assert close.initiator == "client"
    assert close.code == 1000, "a clean shutdown ends the session instead of leaving it to time out"


async def test_kill_9_then_restart_on_the_same_database(site: Site) -> None:
    async with bot_process(site.sim, site.app, site.database, log=site.log) as bot:
        await ping(site)
        bot.kill()
        await bot.wait()
    commands_before = list(site.app.global_commands)
    async with bot_process(site.sim, site.app, site.database, log=site.log):
        await ping(site)
    assert site.app.global_commands == commands_before, "unchanged commands are not re-synced"
