"""A queue that survives restarts: the bot is killed (`kill -9`) or shut down mid-track, a new one starts on
the same database and simcord, rejoins voice, says "Resumed after restart" once and plays on from where it
was, with its queue, history, volume and paused state.

Where playback is, is heard, not asked: the test track is a chirp whose pitch rises 20 Hz per second
(300 Hz at 0 s, 900 Hz at 30 s), so the pitch of the first audio after the restart says from which second
it resumed, and the pitch of the last audio before the kill where it was.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytunes.bot import PyTunes
from pytunes.config import Settings
from pytunes.core.clock import ManualClock
from pytunes.runner import running_bot
from pytunes.sandbox import simcord_settings
from simcord import Channel, Guild, Message, Simcord, SimUser
from simcord.audio import SAMPLE_RATE, pitch_track
from simcord.tones import render_lavfi
from simcord.world import Application
from tests.e2e.process_bot import bot_process
from tests.media.conftest import MediaFiles, MediaServer

pytestmark = pytest.mark.slow

CHIRP_BASE = 300.0  # Hz at 0 s
CHIRP_RATE = 20.0  # Hz per second
CHIRP_SECONDS = 30
TOLERANCE = 2.0  # seconds
WINDOW = 0.1


@pytest.fixture(scope="module")
def chirp(media_files: MediaFiles) -> str:
    """/media/chirp.webm: 30 s of Opus in WebM whose pitch tells the second it is at."""
    target = media_files.root / "chirp.webm"
    if not target.exists():
        phase = f"{CHIRP_BASE}*t+{CHIRP_RATE / 2}*t*t"  # the integral of 300 + 20 t
        source = f"aevalsrc=0.5*sin(2*PI*({phase})):s=48000:d={CHIRP_SECONDS}"
        render_lavfi(target, source, options=("-ac", "2", "-c:a", "libopus", "-b:a", "96k"))
    return "/media/chirp.webm"


def chirp_second(frequency: float) -> float:
    return (frequency - CHIRP_BASE) / CHIRP_RATE


def position_at_start(pcm: Sequence[int]) -> float:
    """Where in the chirp the first half second of `pcm` begins."""
    windows = pitch_track(pcm, window=WINDOW)[:5]
    assert len(windows) >= 3, "too little audio to tell"
    return statistics.median(chirp_second(f) - start - WINDOW / 2 for start, f in windows)


def position_at_end(pcm: Sequence[int]) -> float:
    """Where in the chirp the last half second of `pcm` ends."""
    total = len(pcm) / SAMPLE_RATE
    windows = pitch_track(pcm, window=WINDOW)[-5:]
    assert len(windows) >= 3, "too little audio to tell"
    return statistics.median(chirp_second(f) + (total - start - WINDOW / 2) for start, f in windows)


@dataclass
class Site:
    sim: Simcord
    app: Application
    guild: Guild
    text: Channel
    voice: Channel
    alice: SimUser
    database: Path
    log: Path

    def from_bot(self, message: Message) -> bool:
        return message.author.id == self.app.bot.id

    def is_titled(self, message: Message, prefix: str) -> bool:
        return self.from_bot(message) and any(
            str(e.get("title", "")).startswith(prefix)
            or str(e.get("author", {}).get("name", "")).startswith(prefix)
            for e in message.embeds
        )

    def titled(self, prefix: str) -> list[Message]:
        return [m for m in self.sim.messages(self.text, include_deleted=True) if self.is_titled(m, prefix)]

    async def say(self, text: str, answer: str, *, timeout: float = 20) -> Message:
        typed = await self.alice.send(self.text, text)
        try:
            return await self.sim.wait_for_message(
                self.text,
                lambda m: self.is_titled(m, answer),
                after=typed,
                timeout=timeout,
            )
        except TimeoutError:
            seen = [m.text() for m in self.sim.messages(self.text, include_deleted=True) if m.id > typed.id]
            raise AssertionError(f"no {answer!r} after {text!r}; saw {seen}") from None

    def current_ssrc(self) -> int | None:
        packets = self.sim.voice.packets(self.guild.id)
        return packets[-1].ssrc if packets else None

    async def audio_of(self, ssrc: int, seconds: float, *, timeout: float = 30) -> None:
        await self.sim.wait_for(
            lambda: self.sim.voice.audio_seconds(self.guild.id, ssrc) >= seconds, timeout=timeout
        )

    async def new_stream(self, *, besides: set[int], seconds: float, timeout: float = 30) -> int:
        """The SSRC of a voice stream that is not in `besides`, once it carried `seconds` of audio."""

        def found() -> int | None:
            for stream in self.sim.voice.streams(self.guild.id):
                if stream.ssrc not in besides and stream.seconds >= seconds:
                    return stream.ssrc
            return None

        ssrc: int = await self.sim.wait_for(found, timeout=timeout)
        return ssrc

    def ssrcs(self) -> set[int]:
        return {s.ssrc for s in self.sim.voice.streams(self.guild.id)}

    def bot_in_process(self) -> AbstractAsyncContextManager[PyTunes]:
        """A new bot run in this process (with its own `ManualClock`) on this site's simcord and database;
        starting one after another has stopped is a restart."""
        base = Settings(_env_file=None, media_allow_private_hosts=True, reply_delete_seconds=30)  # type: ignore[call-arg]
        settings = simcord_settings(
            base, self.sim.connection(self.app), database_url=f"sqlite+aiosqlite:///{self.database}"
        )
        return running_bot(settings, clock=ManualClock(), guild_ready_timeout=0.05)


class SlowVoice:
    """Discord slow to hand out a voice server: a bot's join hangs until `release` sends the server
    update it was waiting for."""

    def __init__(self, sim: Simcord) -> None:
        self.world = sim.world
        self.endpoint = self.world.voice_endpoint
        self.held: list[tuple[int, int]] = []

    def __enter__(self) -> SlowVoice:
        self.world.voice_endpoint = self._hold
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _hold(self, guild_id: int, user_id: int) -> str | None:
        self.held.append((guild_id, user_id))
        return None

    def release(self) -> None:
        self.world.voice_endpoint = self.endpoint
        held, self.held = self.held, []
        for guild_id, user_id in held:
            data = {
                "token": self.world.voice_token(guild_id, user_id),
                "guild_id": str(guild_id),
                "endpoint": self.endpoint(guild_id, user_id),
            }
            self.world.dispatch("VOICE_SERVER_UPDATE", data, guild_id=guild_id, to_user=user_id)


@pytest.fixture
async def site(tmp_path: Path, media_server: MediaServer) -> AsyncIterator[Site]:
    async with Simcord() as sim:
        sim.rest.bucket_limit = 1000  # about music, not rate limits
        app = sim.create_application("PyTunes")
        alice = sim.create_user("alice")
        guild = sim.create_guild("Restarts", alice)
        text = sim.create_text_channel(guild, "general")
        voice = sim.create_voice_channel(guild, "Lounge")
        sim.add_bot(guild, app)
        yield Site(sim, app, guild, text, voice, alice, tmp_path / "pytunes.db", tmp_path / "bot.log")


async def test_kill_9_mid_track_resumes_where_it_was_with_everything_else(
    site: Site, media_server: MediaServer, chirp: str
) -> None:
    await site.alice.join_voice(site.voice)
    async with bot_process(site.sim, site.app, site.database, log=site.log) as bot:
        await site.say("!volume 80", "🔊  Volume changed")
        await site.say(f"!play {media_server.url('/media/tone440.webm')}", "🎵  Now playing")
        await site.say(f"!play {media_server.url(chirp)}", "🎵  Track added")
        await site.say(f"!play {media_server.url('/media/tone660.mp3')}", "🎵  Track added")
        await site.say(f"!play {media_server.url('/media/tone880.m4a')}", "🎵  Track added")
        await site.sim.wait_for(
            lambda: any("chirp" in m.text() for m in site.titled("🎵  Now playing")), timeout=20
        )
        # Not silent mode: it would hide a second "Now playing", the very thing checked below. (Silent
        # survives restarts like every setting: test_music_commands.py.)
        await site.say("!normalize on", "🎚️  Normalization on")
        old = await site.sim.wait_for(site.current_ssrc, timeout=10)
        await site.audio_of(old, 3 + 10)  # the 3 s tone, then 10 s into the chirp
        bot.kill()
        await bot.wait()
    killed_at = position_at_end(await site.sim.voice.pcm(site.guild.id, old))
    assert 9 <= killed_at <= 12, f"killed at {killed_at:.2f} s, meant to be about 10 s"
    assert site.guild.voice_channel_of(site.app.bot.id) == site.voice.id, "Discord still lists the dead bot"

    before = site.ssrcs()
    async with bot_process(site.sim, site.app, site.database, log=site.log):
        notes = await site.sim.wait_for(lambda: site.titled("🔄  Resumed after restart"), timeout=30)
        new = await site.new_stream(besides=before, seconds=1.0)
        resumed_at = position_at_start(await site.sim.voice.pcm(site.guild.id, new))
        assert abs(resumed_at - killed_at) <= TOLERANCE, (
            f"killed at {killed_at:.2f} s, resumed at {resumed_at:.2f} s"
        )
        assert site.guild.voice_channel_of(site.app.bot.id) == site.voice.id
        assert site.sim.voice.live(site.guild.id), "a live voice connection again"
        (note,) = notes
        assert "chirp" in note.text()
        assert "2 more track(s) queued" in note.text()

        queue = await site.say("!queue", "📜")
        assert queue.text().index("tone660") < queue.text().index("tone880")
        volume = await site.say("!volume", "🔊  Volume")
        assert "Volume is 80 %" in volume.text()
        history = await site.say("!history", "📜  Recently played")
        assert re.search(r"1\. chirp.*2\. tone440", history.text(), re.S), history.text()

        # Once only, however long the bot runs: the resumed track is not announced as new.
        await site.audio_of(new, 3.0)
        assert len(site.titled("🔄  Resumed after restart")) == 1
        announced = [m for m in site.titled("🎵  Now playing") if len(m.embeds) == 1]  # not `queue`
        assert [m for m in announced if "chirp" in m.text()][1:] == []
        resumed_audio = site.sim.voice.audio_seconds(site.guild.id, new)
        print(f"resume accuracy (kill -9): killed at {killed_at:.2f} s, resumed at {resumed_at:.2f} s")
        assert resumed_audio < CHIRP_SECONDS - killed_at + TOLERANCE

        # Normalize was on before the kill: toggling it now turns it off.
        await site.say("!normalize", "🎚️  Normalization off")


async def test_a_paused_player_comes_back_paused_and_resume_continues_where_it_stood(
    site: Site, media_server: MediaServer, chirp: str
) -> None:
    await site.alice.join_voice(site.voice)
    async with bot_process(site.sim, site.app, site.database, log=site.log) as bot:
        await site.say(f"!play {media_server.url(chirp)}", "🎵  Now playing")
        old = await site.sim.wait_for(site.current_ssrc, timeout=10)
        await site.audio_of(old, 5.0)
        await site.say("!pause", "⏸️  Paused")
        paused_at = position_at_end(await site.sim.voice.pcm(site.guild.id, old))
        bot.kill()
        await bot.wait()

    before = site.ssrcs()
    async with bot_process(site.sim, site.app, site.database, log=site.log):
        (note,) = await site.sim.wait_for(lambda: site.titled("🔄  Resumed after restart"), timeout=30)
        assert "is paused at" in note.text()
        assert site.guild.voice_channel_of(site.app.bot.id) == site.voice.id
        await site.sim.wait_for(lambda: site.sim.voice.live(site.guild.id), timeout=10)
        playing = await site.say("!playing", "⏸️  Paused")
        shown = re.search(r"(\d\d):(\d\d) / 00:30", playing.text())
        assert shown, playing.text()
        assert abs(int(shown.group(2)) - paused_at) <= TOLERANCE
        assert site.sim.voice.audio_seconds(site.guild.id, since=time.monotonic() - 1.0) == 0, "silent"

        await site.say("!resume", "▶️  Resumed")
        new = await site.new_stream(besides=before, seconds=1.0)
        resumed_at = position_at_start(await site.sim.voice.pcm(site.guild.id, new))
        print(f"resume accuracy (paused): paused at {paused_at:.2f} s, resumed at {resumed_at:.2f} s")
        assert abs(resumed_at - paused_at) <= TOLERANCE
        assert len(site.titled("🎵  Now playing")) == 1, "announced when it first started only"


async def test_a_graceful_restart_in_process_resumes_and_an_empty_channel_is_not_rejoined(
    site: Site, media_server: MediaServer, chirp: str
) -> None:
    await site.alice.join_voice(site.voice)
    async with site.bot_in_process():
        await site.say(f"!play {media_server.url(chirp)}", "🎵  Now playing")
        await site.say(f"!play {media_server.url('/media/tone660.mp3')}", "🎵  Track added")
        old = await site.sim.wait_for(site.current_ssrc, timeout=10)
        await site.audio_of(old, 4.0)
    stopped_at = position_at_end(await site.sim.voice.pcm(site.guild.id, old))
    assert site.guild.voice_channel_of(site.app.bot.id) is None, "a clean shutdown leaves voice"

    before = site.ssrcs()
    async with site.bot_in_process() as bot:
        await site.sim.wait_for(lambda: site.titled("🔄  Resumed after restart"), timeout=30)
        new = await site.new_stream(besides=before, seconds=1.0)
        resumed_at = position_at_start(await site.sim.voice.pcm(site.guild.id, new))
        print(f"resume accuracy (graceful): stopped at {stopped_at:.2f} s, resumed at {resumed_at:.2f} s")
        assert abs(resumed_at - stopped_at) <= TOLERANCE
        music = bot.music.existing(site.guild.id)
        assert music is not None
        assert [t.title for t in music.player.queue] == ["tone660"]
        assert len(site.titled("🎵  Now playing")) == 1

        # A new gateway session (READY again) is no new start: nothing is restored or said again.
        sessions = set(site.sim.gateway.sessions)
        site.sim.invalidate_session(resumable=False)
        await site.sim.wait_for(lambda: set(site.sim.gateway.sessions) - sessions, timeout=10)
        await site.say("!volume", "🔊  Volume")  # the bot has handled the new READY by now
        assert len(site.titled("🔄  Resumed after restart")) == 1
        assert len(site.titled("🎵  Now playing")) == 1

    # Nobody left to listen: the bot stays away, says why once, and keeps the history.
    await site.alice.leave_voice(site.guild)
    async with site.bot_in_process() as bot:
        (note,) = await site.sim.wait_for(lambda: site.titled("⏹️  Not resumed after restart"), timeout=30)
        assert "Nobody is in" in note.text()
        assert site.guild.voice_channel_of(site.app.bot.id) is None
        music = bot.music.existing(site.guild.id)
        assert music is not None
        assert music.player.current is None
        assert [t.title for t in music.player.history] == ["chirp"]
    assert len(site.titled("🔄  Resumed after restart")) == 1


async def test_a_command_during_the_restore_waits_for_it_and_adds_to_the_saved_queue(
    site: Site, media_server: MediaServer, chirp: str
) -> None:
    await site.alice.join_voice(site.voice)
    async with site.bot_in_process():
        await site.say(f"!play {media_server.url(chirp)}", "🎵  Now playing")
        await site.say(f"!play {media_server.url('/media/tone660.mp3')}", "🎵  Track added")

    with SlowVoice(site.sim) as voice:
        async with site.bot_in_process() as bot:
            await site.sim.wait_for(lambda: voice.held, timeout=10)  # the restore is rejoining voice
            typed = await site.alice.send(site.text, f"!play {media_server.url('/media/tone880.m4a')}")
            await asyncio.sleep(0.5)  # the command reached the bot and waits
            assert not [m for m in site.sim.messages(site.text) if m.id > typed.id and site.from_bot(m)]
            voice.release()

            added = await site.sim.wait_for_message(
                site.text, lambda m: site.is_titled(m, "🎵  Track added"), after=typed, timeout=20
            )
            assert "Position 2" in added.text(), "behind the restored queue"
            (note,) = site.titled("🔄  Resumed after restart")
            assert note.id < added.id
            assert "1 more track(s) queued" in note.text()
            music = bot.music.existing(site.guild.id)
            assert music is not None
            assert music.player.current is not None
            assert music.player.current.title == "chirp"
            assert [t.title for t in music.player.queue] == ["tone660", "tone880"]
