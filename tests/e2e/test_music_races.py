"""Effects that run late: a volume change whose restart runs only after a skip already moved the model on,
and a restart whose voice connection drops while its stream is being opened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from pytunes.music.audio import AudioOutput
from pytunes.music.guild import GuildMusic
from pytunes.music.model import Track
from pytunes.music.sources import Playable
from pytunes.music.store import MusicSettings
from tests.e2e.command_world import say
from tests.e2e.music_world import MusicWorld, Room, music_world
from tests.media.conftest import MediaFiles, MediaServer
from tests.unit.players import song

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def mw(
    tmp_path_factory: pytest.TempPathFactory, media_server: MediaServer
) -> AsyncIterator[MusicWorld]:
    async with music_world(Path(tmp_path_factory.mktemp("races")) / "music.db") as world:
        yield world


async def playing(mw: MusicWorld, room: Room, url: str) -> GuildMusic:
    await room.alice.join_voice(room.voice)
    await say(mw, room, f"!play {url}", "🎵  Now playing")
    since = time.monotonic()
    await mw.sim.wait_for(lambda: mw.sim.voice.audio_seconds(room.guild.id, since=since) >= 1, timeout=20)
    music = mw.bot.music.existing(room.guild.id)
    assert music is not None
    return music


async def leave(mw: MusicWorld, room: Room) -> None:
    mw.sim.faults.clear()
    await room.alice.send(room.text, "!leave")
    await mw.sim.wait_for(lambda: room.guild.voice_channel_of(mw.app.bot.id) is None, timeout=10)


async def test_a_skip_that_overtakes_a_volume_change_starts_the_next_track_once_from_its_beginning(
    mw: MusicWorld, media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = mw.room
    music = await playing(mw, room, media_server.url("/media/long440.webm"))
    await say(mw, room, f"!play {media_server.url('/media/tone660.mp3')}", "🎵  Track added")
    built: list[tuple[bool, float]] = []  # (the next track?, from where)
    build = music._build

    def recording(playable: Playable, start_at: float, generation: int) -> discord.FFmpegOpusAudio:
        built.append(("tone660" in str(playable.input), start_at))
        return build(playable, start_at, generation)

    monkeypatch.setattr(music, "_build", recording)
    # The volume change's effect waits until its reply is out; the skip moves the model on meanwhile.
    mw.sim.faults.latency_for[f"POST /channels/{room.text.id}/messages"] = 0.5
    await room.alice.send(room.text, "!volume 30")
    await room.alice.send(room.text, "!skip")
    await mw.sim.wait_for(lambda: any(next_track for next_track, _ in built), timeout=15)
    await mw.sim.wait_for(lambda: music.output.current is not None, timeout=15)
    await asyncio.sleep(0.5)  # a late restart would build once more
    assert [at for next_track, at in built if next_track] == [0.0], built
    assert music.player.volume == 30
    await say(mw, room, "!volume 100", "🔊  Volume changed")
    await leave(mw, room)


async def test_voice_refusing_a_restart_leaves_nothing_current_and_ends_its_ffmpeg(
    mw: MusicWorld, media_server: MediaServer, media_files: MediaFiles
) -> None:
    room = mw.room
    music = await playing(mw, room, media_server.url("/media/long440.webm"))
    vc = music.voice_client
    assert vc is not None
    await leave(mw, room)  # `vc` is now a voice client that is no longer connected
    output = AudioOutput(lambda audio, error: None)
    source = discord.FFmpegPCMAudio(str(media_files.long_webm), executable=mw.bot.music.ffmpeg)
    process = source._process
    with pytest.raises(discord.ClientException):
        output.play(vc, source, generation=1, track=song("gone"), start_offset=0.0, gain_percent=100)
    assert output.current is None
    assert process.poll() is not None, "FFmpeg is left running"


async def test_a_restart_whose_voice_drops_while_its_stream_opens_keeps_the_track_playing(
    mw: MusicWorld, media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = mw.room
    music = await playing(mw, room, media_server.url("/media/long440.webm"))
    vc = music.voice_client
    assert vc is not None
    sources = mw.bot.music.sources
    opening, release = asyncio.Event(), asyncio.Event()
    open_stream = sources.open

    async def held(track: Track) -> Playable:
        opening.set()
        await release.wait()
        return await open_stream(track)

    monkeypatch.setattr(music.sound, "reopen", lambda generation: None)  # resolve again: an await
    monkeypatch.setattr(sources, "open", held)
    await say(mw, room, "!volume 30", "🔊  Volume changed")
    await asyncio.wait_for(opening.wait(), 10)
    await mw.sim.voice.crash(room.guild.id)  # discord.py resumes the voice connection in a moment
    # Disconnected for only a few milliseconds, and nothing signals it: look at every loop turn.
    async with asyncio.timeout(5):
        while vc.is_connected():  # noqa: ASYNC110
            await asyncio.sleep(0)
    release.set()
    since = time.monotonic()
    await mw.sim.wait_for(lambda: mw.sim.voice.audio_seconds(room.guild.id, since=since) >= 1, timeout=20)
    assert music.output.current is not None
    assert music.player.current is not None
    monkeypatch.undo()
    await say(mw, room, "!volume 100", "🔊  Volume changed")
    await leave(mw, room)


async def test_a_failing_settings_write_still_changes_the_volume_and_is_retried(
    mw: MusicWorld, media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = mw.room
    music = await playing(mw, room, media_server.url("/media/long440.webm"))
    store = mw.bot.music.store
    save = store.save
    attempts: list[MusicSettings] = []

    async def fails_once(guild_id: int, settings: MusicSettings) -> None:
        attempts.append(settings)
        if len(attempts) == 1:
            raise OSError("database is locked")
        await save(guild_id, settings)

    monkeypatch.setattr(store, "save", fails_once)
    await say(mw, room, "!volume 30", "🔊  Volume changed")
    await mw.sim.wait_for(
        lambda: music.output.current is not None and music.output.current.gain_percent == 30, timeout=10
    )
    async with asyncio.timeout(10):  # the retry comes about a second later; the database signals nothing
        while (await store.load(room.guild.id)).volume != 30:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
    assert len(attempts) >= 2, "written without a retry?"
    monkeypatch.undo()
    await say(mw, room, "!volume 100", "🔊  Volume changed")
    await leave(mw, room)
