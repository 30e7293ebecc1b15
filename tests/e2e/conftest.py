"""PyTunes driven through simcord as people would: one simcord and one bot per test module."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytunes.bot import PyTunes
from pytunes.config import Settings
from pytunes.core.clock import ManualClock
from pytunes.runner import running_bot
from pytunes.sandbox import simcord_settings
from simcord import Channel, Guild, Message, Simcord, SimUser
from simcord.world import Application
from tests.e2e.command_world import CommandWorld


@dataclass
class BotWorld:
    sim: Simcord
    app: Application
    bot: PyTunes
    clock: ManualClock
    guild: Guild
    general: Channel
    lounge: Channel
    alice: SimUser
    bob: SimUser

    def from_bot(self, message: Message) -> bool:
        return message.author.id == self.app.bot.id


def test_settings(sim: Simcord, app: Application, database: Path) -> Settings:
    base = Settings(_env_file=None, prefix_cleanup_seconds=30, reply_delete_seconds=30)  # type: ignore[call-arg]
    return simcord_settings(base, sim.connection(app), database_url=f"sqlite+aiosqlite:///{database}")


@pytest.fixture(scope="module")
async def bot_world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotWorld]:
    async with Simcord() as sim:
        app = sim.create_application("PyTunes")
        alice, bob = sim.create_user("alice"), sim.create_user("bob")
        guild = sim.create_guild("Test Guild", alice)
        sim.add_member(guild, bob)
        general = sim.create_text_channel(guild, "general")
        lounge = sim.create_voice_channel(guild, "Lounge")
        sim.add_bot(guild, app)
        clock = ManualClock()
        settings = test_settings(sim, app, tmp_path_factory.mktemp("db") / "pytunes.db")
        async with running_bot(settings, clock=clock, guild_ready_timeout=0.05) as bot:
            yield BotWorld(sim, app, bot, clock, guild, general, lounge, alice, bob)


@pytest.fixture
def library(mw: CommandWorld) -> Iterator[Path]:
    """The local library folder of the module's `mw` (a `library_world`): there when the test starts, gone
    with all it holds when the test is over."""
    assert mw.settings is not None
    root = Path(mw.settings.library_dir)
    root.mkdir(parents=True, exist_ok=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


# Media made once per session and served locally; shared with the media tests.
from tests.media.conftest import media_files, media_server, server_thread  # noqa: E402, F401
