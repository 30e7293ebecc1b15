"""A simcord world with PyTunes in it, wired for music: local media allowed, a test clock, voice ready."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytunes.bot import PyTunes
from pytunes.config import Settings
from pytunes.core.clock import ManualClock
from pytunes.runner import running_bot
from pytunes.sandbox import simcord_settings
from simcord import Channel, Guild, Message, Simcord, SimUser
from simcord.audio import dominant_frequency
from simcord.world import Application

TONES = [440, 660, 880]  # the pitches of the media fixtures' tones


@dataclass
class Room:
    """One guild with a text channel, two voice channels and two listeners."""

    guild: Guild
    text: Channel
    voice: Channel
    other_voice: Channel
    alice: SimUser
    bob: SimUser


@dataclass
class MusicWorld:
    sim: Simcord
    app: Application
    bot: PyTunes
    clock: ManualClock
    rooms: list[Room]

    @property
    def room(self) -> Room:
        return self.rooms[0]

    def from_bot(self, message: Message) -> bool:
        return message.author.id == self.app.bot.id

    def titled(self, prefix: str) -> object:
        def match(message: Message) -> bool:
            return self.from_bot(message) and any(
                str(e.get("title", "")).startswith(prefix)
                or str(e.get("author", {}).get("name", "")).startswith(prefix)
                for e in message.embeds
            )

        return match


def build_room(sim: Simcord, name: str) -> Room:
    alice, bob = sim.create_user(f"{name}-alice"), sim.create_user(f"{name}-bob")
    guild = sim.create_guild(name, alice)
    sim.add_member(guild, bob)
    return Room(
        guild,
        sim.create_text_channel(guild, "general"),
        sim.create_voice_channel(guild, "Lounge"),
        sim.create_voice_channel(guild, "Gaming"),
        alice,
        bob,
    )


@dataclass
class MusicSite:
    """A simcord with rooms and the bot application in them, and the settings a bot there starts with."""

    sim: Simcord
    app: Application
    rooms: list[Room]
    settings: Settings


@asynccontextmanager
async def music_site(database: Path, *, rooms: int = 1, **overrides: Any) -> AsyncIterator[MusicSite]:
    """A simcord wired for music (local media allowed, quick voice heartbeats, no rate limits in the way)
    and the bot's settings for it, with `overrides`."""
    async with Simcord() as sim:
        sim.voice.heartbeat_interval_ms = 1000
        sim.rest.bucket_limit = 1000  # the tests are about music, not the simulator's rate limits
        app = sim.create_application("PyTunes")
        built = [build_room(sim, f"Guild {i + 1}") for i in range(rooms)]
        for room in built:
            sim.add_bot(room.guild, app)
        base = Settings(  # type: ignore[call-arg]
            _env_file=None,
            media_allow_private_hosts=True,
            media_workers=2,
            prefix_cleanup_seconds=30,
            reply_delete_seconds=30,
            stream_stall_seconds=3,
            # Never the repository's data/cache.
            **{"audio_cache_dir": database.parent / "audio-cache", **overrides},
        )
        settings = simcord_settings(base, sim.connection(app), database_url=f"sqlite+aiosqlite:///{database}")
        yield MusicSite(sim, app, built, settings)


@asynccontextmanager
async def music_world(database: Path, *, rooms: int = 1) -> AsyncIterator[MusicWorld]:
    async with music_site(database, rooms=rooms) as site:
        clock = ManualClock()
        async with running_bot(site.settings, clock=clock, guild_ready_timeout=0.05) as bot:
            yield MusicWorld(site.sim, site.app, bot, clock, site.rooms)


async def heard(mw: MusicWorld, room: Room, seconds: float, *, since: float) -> float:
    """Wait until `seconds` of audio arrived after `since`, and return the pitch of the last half second."""
    await mw.sim.wait_for(
        lambda: mw.sim.voice.audio_seconds(room.guild.id, since=since) >= seconds, timeout=20
    )
    pcm = await mw.sim.voice.pcm(room.guild.id, since=since)
    return dominant_frequency(pcm[-24000:], candidates=TONES)
