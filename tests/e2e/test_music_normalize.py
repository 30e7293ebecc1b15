"""Loudness normalization as people use it: `normalize` per guild and across a restart; a quiet stream
that gets louder mid-track once its cached copy is measured; the measurement reused on the next play
(from the cache, with the gain from the first packet); passthrough untouched when normalize is off."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pytunes.music.sources import url_content_id
from simcord.audio import rms
from simcord.tones import render_tone
from tests.e2e.command_world import CommandWorld, command_world, reset_room, say
from tests.e2e.music_world import Room
from tests.media.conftest import MediaFiles, MediaServer

pytestmark = pytest.mark.slow

QUIET_AMPLITUDE = 0.05  # a 440 Hz sine at about -26 LUFS: +6 dB with the default target (-14) and clamp
QUIET_CODEC = ("-c:a", "libopus", "-b:a", "96k")


@pytest.fixture(scope="module")
def quiet_tones(media_files: MediaFiles) -> list[str]:
    """Three 20 s quiet Opus tones next to the session's media files (served by the media server)."""
    names = []
    for name, frequency in (("quiet440.webm", 440), ("quiet660.webm", 660), ("quiet880.webm", 880)):
        render_tone(media_files.root / name, frequency, 20, *QUIET_CODEC, amplitude=QUIET_AMPLITUDE)
        names.append(name)
    return names


@pytest.fixture(scope="module")
async def mw(
    tmp_path_factory: pytest.TempPathFactory, media_server: MediaServer, quiet_tones: list[str]
) -> AsyncIterator[CommandWorld]:
    async with command_world(Path(tmp_path_factory.mktemp("normalize")) / "music.db") as world:
        yield world


@pytest.fixture(autouse=True)
async def fresh_room(mw: CommandWorld) -> AsyncIterator[None]:
    yield
    await reset_room(mw, mw.room)


async def eventually(check: object, what: str, timeout: float = 20) -> None:
    """Poll an async or plain predicate until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def ffmpeg_args(mw: CommandWorld, room: Room) -> list[str]:
    """The command line of the FFmpeg that plays right now."""
    audio = mw.music(room).output.current
    assert audio is not None, "nothing is playing"
    process = getattr(audio.source.inner, "_process", None)
    assert process is not None
    return [str(arg) for arg in process.args]


async def level(mw: CommandWorld, room: Room, *, since: float, seconds: float = 1.0) -> float:
    """RMS of the last `seconds` of what was heard since `since`, once `seconds` + 0.5 s arrived."""
    await mw.sim.wait_for(
        lambda: mw.sim.voice.audio_seconds(room.guild.id, since=since) >= seconds + 0.5, timeout=20
    )
    pcm = await mw.sim.voice.pcm(room.guild.id, since=since)
    return rms(pcm[-int(48000 * seconds) :])


def streamed_by_ffmpeg(media_server: MediaServer, since_request: int) -> list[str]:
    return [
        r.path
        for r in media_server.requests[since_request:]
        if r.path.startswith("/media/quiet") and "Icy-MetaData" in r.headers  # FFmpeg's http client
    ]


def db(ratio: float) -> float:
    return 20 * math.log10(ratio)


async def test_normalize_is_saved_per_guild_and_survives_a_restart(mw: CommandWorld) -> None:
    room = mw.room
    await room.alice.join_voice(room.voice)
    await say(mw, room, "!normalize off", "🎚️  Normalization off")
    on = await say(mw, room, "!normalize", "🎚️  Normalization on")  # no argument: toggles
    assert "LUFS" in on.text()
    refused = await say(mw, room, "!normalize maybe", "🚫")
    assert "maybe" in refused.text()
    assert mw.music(room).settings.normalize, "a refused word changes nothing"
    off = await say(mw, room, "!norm off", "🎚️  Normalization off")
    assert "original loudness" in off.text()
    await say(mw, room, "!loudnorm on", "🎚️  Normalization on")
    await eventually(lambda: _stored_normalize(mw, room), "normalize=True in the database", timeout=5)

    await mw.restart()

    assert mw.bot.music.existing(room.guild.id) is None, "a new bot, with nothing in memory"
    await say(mw, room, "!normalize", "🎚️  Normalization off")  # it was on: the toggle turns it off
    await say(mw, room, "!normalize on", "🎚️  Normalization on")


async def _stored_normalize(mw: CommandWorld, room: Room) -> bool:
    return (await mw.bot.music.store.load(room.guild.id)).normalize


async def test_a_quiet_stream_gets_louder_and_is_measured_once(
    mw: CommandWorld, media_server: MediaServer
) -> None:
    room = mw.room
    normalizer = mw.bot.music.normalizer
    measured_before = normalizer.measurements
    url = media_server.url("/media/quiet440.webm")
    content_id = url_content_id(url)
    await room.alice.join_voice(room.voice)
    await say(mw, room, "!normalize off", "🎚️  Normalization off")
    await say(mw, room, "!volume 100", "🔊  Volume changed")

    # Normalize off: Opus at 100 % is copied, nothing is measured, a first play is not downloaded.
    requests_before = len(media_server.requests)
    since = time.monotonic()
    await say(mw, room, f"!play {url}", "🎵  Now playing")
    plain = await level(mw, room, since=since)
    args = ffmpeg_args(mw, room)
    assert args[args.index("-c:a") + 1] == "copy", "passthrough"
    assert not any(a.startswith("volume=") for a in args)
    first_play = streamed_by_ffmpeg(media_server, requests_before)
    assert len(first_play) >= 2, "probed when queued, then probed and streamed when played"
    assert normalizer.measurements == measured_before
    assert normalizer.cache is not None
    assert normalizer.cache.get(content_id) is None, "a first play with normalize off is not cached"
    assert await mw.bot.music.normalizer.store.get(content_id) is None

    # Switched on mid-track: the stream is cached, measured, and the gain applied where it plays.
    await say(mw, room, "!normalize on", "🎚️  Normalization on")
    await eventually(lambda: normalizer.store.get(content_id), "the measurement in the database")
    stored = await normalizer.store.get(content_id)
    assert stored is not None
    assert stored.lufs is not None
    assert -30 < stored.lufs < -22
    await eventually(
        lambda: any(a.startswith("volume=") for a in ffmpeg_args(mw, room)), "FFmpeg restarted with gain"
    )
    args = ffmpeg_args(mw, room)
    assert args[args.index("-i") + 1].startswith("file:"), "the restart reads the complete cached copy"
    restarted = time.monotonic()
    louder = await level(mw, room, since=restarted)
    assert db(louder / plain) == pytest.approx(6.0, abs=1.0), "clamped to the +6 dB maximum"
    assert normalizer.measurements == measured_before + 1
    assert normalizer.cache.get(content_id) is not None

    # Played again: the stored loudness is used from the first packet; nothing is measured again, and
    # the cached copy plays instead of the stream.
    await say(mw, room, "!stop", "⏹️  Playback stopped")
    requests_before = len(media_server.requests)
    again = time.monotonic()
    await say(mw, room, f"!play {url}", "🎵  Now playing")
    first_second = await level(mw, room, since=again, seconds=0.8)
    assert db(first_second / plain) == pytest.approx(6.0, abs=1.0)
    assert normalizer.measurements == measured_before + 1, "measured once"
    args = ffmpeg_args(mw, room)
    assert args[args.index("-i") + 1].startswith("file:")
    # Queuing still checks and probes the link; playing it costs no request at all.
    assert len(streamed_by_ffmpeg(media_server, requests_before)) < len(first_play)


async def test_normalize_off_brings_back_the_plain_volume(
    mw: CommandWorld, media_server: MediaServer
) -> None:
    room = mw.room
    normalizer = mw.bot.music.normalizer
    url = media_server.url("/media/quiet660.webm")
    await room.alice.join_voice(room.voice)
    await say(mw, room, "!volume 100", "🔊  Volume changed")
    await say(mw, room, "!normalize on", "🎚️  Normalization on")
    await say(mw, room, f"!play {url}", "🎵  Now playing")
    await eventually(
        lambda: any(a.startswith("volume=") for a in ffmpeg_args(mw, room)), "the gain once measured"
    )
    assert await normalizer.store.get(url_content_id(url)) is not None
    louder = await level(mw, room, since=time.monotonic())

    await say(mw, room, "!normalize off", "🎚️  Normalization off")
    await eventually(lambda: "copy" in ffmpeg_args(mw, room), "passthrough again")
    plain = await level(mw, room, since=time.monotonic())
    assert db(louder / plain) == pytest.approx(6.0, abs=1.0)


async def test_a_replayed_stream_is_cached_and_a_cached_file_is_measured_right_away(
    mw: CommandWorld, media_server: MediaServer
) -> None:
    room = mw.room
    normalizer = mw.bot.music.normalizer
    assert normalizer.cache is not None
    url = media_server.url("/media/quiet880.webm")
    content_id = url_content_id(url)
    await room.alice.join_voice(room.voice)
    await say(mw, room, "!volume 100", "🔊  Volume changed")
    await say(mw, room, "!normalize off", "🎚️  Normalization off")
    since = time.monotonic()
    await say(mw, room, f"!play {url}", "🎵  Now playing")
    plain = await level(mw, room, since=since)
    await say(mw, room, "!stop", "⏹️  Playback stopped")
    assert normalizer.cache.get(content_id) is None, "played once: not cached"

    await say(mw, room, f"!play {url}", "🎵  Now playing")
    await eventually(lambda: normalizer.cache.get(content_id) is not None, "a copy of the replayed stream")
    assert await normalizer.store.get(content_id) is None, "normalize is off: nothing measured"
    await say(mw, room, "!stop", "⏹️  Playback stopped")

    # Third play, normalize on: the cached file plays at once, is measured right away, then evened out.
    await say(mw, room, "!normalize on", "🎚️  Normalization on")
    await say(mw, room, f"!play {url}", "🎵  Now playing")
    args = ffmpeg_args(mw, room)
    assert args[args.index("-i") + 1].startswith("file:")
    await eventually(
        lambda: any(a.startswith("volume=") for a in ffmpeg_args(mw, room)), "the gain once measured"
    )
    louder = await level(mw, room, since=time.monotonic())
    assert db(louder / plain) == pytest.approx(6.0, abs=1.0)
    assert await normalizer.store.get(content_id) is not None
