"""Many guilds at the same moment: music starting in 10 and 25 guilds at once, and 10 guilds leaving and
playing again at once, round after round. Every guild must hear its track; none may be told "I'm not
connected to a voice channel" (a leave that was confirmed late used to tear down the guild's next voice
connection).

Each test has a bot of its own: a gateway connection may send 120 commands a minute, and 25 guilds
joining and leaving twice use half of that; tests sharing one connection would measure the budget left
over by the test before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pytunes.runner import running_bot
from simcord import Message
from tests.e2e.music_world import MusicWorld, Room, music_site, music_world
from tests.media.conftest import MediaServer

pytestmark = pytest.mark.slow

GUILDS = 25


@pytest.fixture
async def mw(tmp_path: Path, media_server: MediaServer) -> AsyncIterator[MusicWorld]:
    async with music_world(tmp_path / "music.db", rooms=GUILDS) as world:
        for room in world.rooms:
            await room.alice.join_voice(room.voice)
        yield world


def said_after(mw: MusicWorld, room: Room, typed: Message) -> list[str]:
    """What the bot said in the room after `typed`, one line per message (titles and descriptions)."""
    lines = []
    for message in mw.sim.messages(room.text, include_deleted=True):
        if message.id > typed.id and mw.from_bot(message):
            lines.append(" ".join([message.content or "", *(str(e) for e in message.embeds)]))
    return lines


async def play_everywhere(mw: MusicWorld, rooms: list[Room], url: str) -> None:
    """Everyone types `!play` at the same moment; every room must then hear audio that started after it."""
    since = time.monotonic()
    typed = await asyncio.gather(*(room.alice.send(room.text, f"!play {url}") for room in rooms))

    def all_hear() -> bool:
        return all(mw.sim.voice.audio_seconds(room.guild.id, since=since) >= 1.0 for room in rooms)

    try:
        await mw.sim.wait_for(all_hear, timeout=60)
    finally:
        complaints = {
            room.guild.name: [line for line in said_after(mw, room, sent) if "🚫" in line]
            for room, sent in zip(rooms, typed, strict=True)
        }
        assert not any(complaints.values()), complaints


async def leave_everywhere(mw: MusicWorld, rooms: list[Room]) -> None:
    typed = await asyncio.gather(*(room.alice.send(room.text, "!leave") for room in rooms))
    for room, sent in zip(rooms, typed, strict=True):
        await mw.sim.wait_for_message(room.text, mw.titled("👋  Bye"), after=sent, timeout=30)
    await mw.sim.wait_for(
        lambda: all(room.guild.voice_channel_of(mw.app.bot.id) is None for room in rooms), timeout=30
    )


async def test_ten_guilds_start_music_at_the_same_moment(mw: MusicWorld, media_server: MediaServer) -> None:
    rooms = mw.rooms[:10]
    await play_everywhere(mw, rooms, media_server.url("/media/long440.webm"))
    assert all(room.guild.voice_channel_of(mw.app.bot.id) == room.voice.id for room in rooms)
    await leave_everywhere(mw, rooms)


async def test_twenty_five_guilds_start_music_at_the_same_moment(
    mw: MusicWorld, media_server: MediaServer
) -> None:
    await play_everywhere(mw, mw.rooms, media_server.url("/media/long440.webm"))
    await leave_everywhere(mw, mw.rooms)


async def test_ten_guilds_leave_and_play_again_at_once_round_after_round(
    mw: MusicWorld, media_server: MediaServer
) -> None:
    rooms = mw.rooms[:10]
    await play_everywhere(mw, rooms, media_server.url("/media/long440.webm"))
    for _ in range(3):
        await leave_everywhere(mw, rooms)
        await asyncio.sleep(1.0)
        await play_everywhere(mw, rooms, media_server.url("/media/long440.webm"))
    await leave_everywhere(mw, rooms)
    # Nothing of the old connections stays registered once the leaves are done.
    await mw.sim.wait_for(lambda: not mw.bot.voice_clients, timeout=10)


async def test_a_bot_playing_in_ten_guilds_stops_within_ten_seconds(
    tmp_path: Path, media_server: MediaServer
) -> None:
    async with music_site(tmp_path / "music.db", rooms=10) as site:
        for room in site.rooms:
            await room.alice.join_voice(room.voice)
        stop_started = 0.0
        async with running_bot(site.settings, guild_ready_timeout=0.05):
            url = media_server.url("/media/long440.webm")
            since = time.monotonic()
            for room in site.rooms:
                await room.alice.send(room.text, f"!play {url}")
            await site.sim.wait_for(
                lambda: all(
                    site.sim.voice.audio_seconds(room.guild.id, since=since) >= 1.0 for room in site.rooms
                ),
                timeout=60,
            )
            stop_started = time.monotonic()
        assert time.monotonic() - stop_started < 10.0
        assert all(room.guild.voice_channel_of(site.app.bot.id) is None for room in site.rooms)
