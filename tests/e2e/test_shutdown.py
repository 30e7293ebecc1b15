"""`PyTunes.at_shutdown`: when the bot closes, its hooks run once each, the last registered first, while
its task owner still accepts work; the music service is closed through the same list."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from pytunes.bot import PyTunes
from pytunes.core.clock import ManualClock
from pytunes.runner import running_bot
from simcord import Simcord
from tests.e2e import conftest as e2e


def recorder(bot: PyTunes, name: str, ran: list[tuple[str, bool, bool]]) -> Callable[[], Awaitable[None]]:
    async def hook() -> None:
        tasks_open = bot.tasks.spawn(asyncio.sleep(0), name=name) is not None
        try:
            music_open = bot.music is not None
        except RuntimeError:
            music_open = False
        ran.append((name, tasks_open, music_open))

    return hook


async def test_hooks_run_last_registered_first_once_before_the_tasks_and_music_close(tmp_path: Path) -> None:
    ran: list[tuple[str, bool, bool]] = []
    async with Simcord() as sim:
        app = sim.create_application("PyTunes")
        owner = sim.create_user("owner")
        guild = sim.create_guild("Shutdown Guild", owner)
        sim.add_bot(guild, app)
        settings = e2e.test_settings(sim, app, tmp_path / "pytunes.db")
        async with running_bot(settings, clock=ManualClock(), guild_ready_timeout=0.05) as bot:
            bot.at_shutdown(recorder(bot, "first", ran))
            bot.at_shutdown(recorder(bot, "second", ran))
        await bot.close()
    assert ran == [("second", True, True), ("first", True, True)]
    with pytest.raises(RuntimeError, match="built in setup_hook"):
        bot.music  # noqa: B018
