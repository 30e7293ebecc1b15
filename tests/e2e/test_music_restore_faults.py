"""A restore that does not finish keeps the saved session: the bot shut down while it rejoins voice, or the
rejoin failing unexpectedly, must leave the saved queue for the next start instead of saving the still
empty player over it (which deletes the row)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import discord
import pytest

from pytunes.bot import PyTunes
from pytunes.core.clock import ManualClock
from pytunes.music.model import Snapshot
from pytunes.music.model.snapshot import decode, encode
from pytunes.music.service import MusicService
from pytunes.music.session_store import SavedSession, SessionStore
from pytunes.runner import running_bot
from pytunes.storage import Database
from tests.e2e.music_world import Room, music_site
from tests.unit.players import song

pytestmark = pytest.mark.slow


async def save_session(url: str, room: Room) -> None:
    saved = Snapshot(current=song("now"), queue=(song("next"), song("last")), history=(song("now"),))
    async with await Database.open(url) as database:
        await SessionStore(database.engine).save(
            SavedSession(room.guild.id, room.voice.id, room.text.id, encode(saved), 42.0)
        )


async def saved_sessions(url: str) -> list[SavedSession]:
    async with await Database.open(url) as database:
        return await SessionStore(database.engine).load_all()


@asynccontextmanager
async def bot_with_saved_session(database: Path) -> AsyncIterator[tuple[PyTunes, Room, str]]:
    """A bot that starts on a database holding a playing session, with a listener in its voice channel."""
    url = f"sqlite+aiosqlite:///{database}"
    async with music_site(database) as site:
        room = site.rooms[0]
        await room.alice.join_voice(room.voice)
        await save_session(url, room)
        async with running_bot(site.settings, clock=ManualClock(), guild_ready_timeout=0.05) as bot:
            yield bot, room, url


def assert_kept(sessions: list[SavedSession], room: Room) -> None:
    assert [s.guild_id for s in sessions] == [room.guild.id], "the saved session was deleted"
    kept = decode(sessions[0].state)
    assert kept.current is not None
    assert kept.current.title == "now"
    assert [t.title for t in kept.queue] == ["next", "last"]
    assert sessions[0].position == 42.0


async def test_a_shutdown_during_the_rejoin_keeps_the_saved_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rejoining = asyncio.Event()

    async def never_connects(self: MusicService, channel: discord.VoiceChannel) -> discord.VoiceClient:
        rejoining.set()
        await asyncio.Event().wait()  # a voice server that never answers (the real wait is up to 20 s)
        raise AssertionError("unreachable")

    monkeypatch.setattr(MusicService, "connect", never_connects)
    async with bot_with_saved_session(tmp_path / "music.db") as (_bot, room, url):
        await asyncio.wait_for(rejoining.wait(), 10)
    assert_kept(await saved_sessions(url), room)


async def test_a_rejoin_that_fails_unexpectedly_keeps_the_saved_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def breaks(self: MusicService, channel: discord.VoiceChannel) -> discord.VoiceClient:
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(MusicService, "connect", breaks)
    async with bot_with_saved_session(tmp_path / "music.db") as (bot, room, url):
        sessions = bot.music.sessions
        await asyncio.wait_for(sessions.settled(room.guild.id), 10)
        music = bot.music.existing(room.guild.id)
        assert music is not None
        assert music.player.snapshot().empty
        sessions.changed(room.guild.id)  # whatever marks it dirty next (a voice update, a refused command)
        for _ in range(15):  # a few writer rounds (one a second at most, woken at once by `changed`)
            await asyncio.sleep(0.1)
    # The shutdown flushed every guild, this one included.
    assert_kept(await saved_sessions(url), room)
