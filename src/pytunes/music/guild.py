"""One guild's music: the pure player model driven against discord.py voice and FFmpeg.

Mutations of the model are synchronous, so they need no lock: each one happens in a single event-loop
step and its effects are queued in the same step. One executor task per guild then carries the effects
out in exactly that order, so Discord calls never run under a lock and never overtake each other. A
command can *hold* its effects until it has confirmed the result to the user (docs/architecture.md,
'Confirm, then act': push → confirm → kick off), which is how "Added to queue" always comes before "Now
playing".
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import discord

from pytunes.core.replies import NO_PINGS, fit_total
from pytunes.music import embeds
from pytunes.music.audio import AudioOutput, PlayingAudio
from pytunes.music.loudness import GuildSound, RefreshGain
from pytunes.music.media import MediaError
from pytunes.music.media.ffmpeg import build_audio_source
from pytunes.music.model import (
    AnnounceFailure,
    AnnounceNowPlaying,
    ArmIdleTimer,
    CancelIdleTimer,
    Disconnect,
    Effect,
    LeaveReason,
    Pause,
    Player,
    Result,
    Resume,
    SetVolume,
    ShowIdle,
    ShowPlaying,
    Start,
    Stop,
    Track,
)
from pytunes.music.restart import restart_or_fail
from pytunes.music.settings_writer import SettingsWriter
from pytunes.music.sources import Playable
from pytunes.music.store import MusicSettings

if TYPE_CHECKING:
    from pytunes.music.service import MusicService

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Result)

# A held batch is released by the command once it replied; if that never happens, don't stall forever.
HOLD_LIMIT = 15.0
# An FFmpeg stream that ends this much before its known duration broke off.
EARLY_END_TOLERANCE = 3.0


@dataclass(eq=False)
class Batch:
    effects: tuple[Effect | RefreshGain, ...]
    released: asyncio.Event = field(default_factory=asyncio.Event)


class GuildMusic:
    def __init__(self, service: MusicService, guild_id: int, settings: MusicSettings) -> None:
        self.service = service
        self.guild_id = guild_id
        self._settings = SettingsWriter(service.store, service.tasks, guild_id, settings)
        self.player = Player(volume=settings.volume, config=service.player_config)
        self.player.set_silent(settings.silent)
        self.output = AudioOutput(self._audio_ended)
        self.announce_to: discord.abc.Messageable | None = None
        self._batches: deque[Batch] = deque()
        self._wake = asyncio.Event()
        self._starting: dict[int, asyncio.Task[None]] = {}
        self._timers: dict[int, asyncio.Task[None]] = {}
        self.sound = GuildSound(
            service.normalizer,
            service.tasks,
            enabled=lambda: self.settings.normalize,
            generation=lambda: self.player.generation,
            enqueue=self._enqueue,
        )
        self._executor = service.tasks.spawn(self._execute_forever(), name=f"music-{guild_id}")

    # ------------------------------------------------------------------------------------------ model access

    def act(self, change: Callable[[Player], R], *, hold: bool = False) -> tuple[R, Batch | None]:
        """Apply `change` to the model and queue its effects; with `hold`, they wait for `release`."""
        result = change(self.player)
        self.service.sessions.changed(self.guild_id, result)
        if not result.effects:
            return result, None
        batch = Batch(result.effects)
        if not hold:
            batch.released.set()
        self._batches.append(batch)
        self._wake.set()
        return result, batch

    def _enqueue(self, effect: RefreshGain) -> None:
        """Queue one of our own effects behind the model's (so a gain restart never races a volume one)."""
        batch = Batch((effect,))
        batch.released.set()
        self._batches.append(batch)
        self._wake.set()

    @staticmethod
    def release(batch: Batch | None) -> None:
        if batch is not None:
            batch.released.set()

    @property
    def guild(self) -> discord.Guild | None:
        return self.service.bot.get_guild(self.guild_id)

    @property
    def voice_client(self) -> discord.VoiceClient | None:
        guild = self.guild
        vc = guild.voice_client if guild is not None else None
        return vc if isinstance(vc, discord.VoiceClient) else None

    @property
    def elapsed(self) -> float | None:
        audio = self.output.current
        if audio is None:
            # A track restored paused has no audio yet, but a place where it stands.
            return self.player.start_at if self.player.current is not None else None
        return audio.elapsed

    # ------------------------------------------------------------------------------------------ executor

    async def _execute_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._batches:
                batch = self._batches[0]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(batch.released.wait(), HOLD_LIMIT)
                self._batches.popleft()
                for effect in batch.effects:
                    try:
                        await self._execute(effect)
                    except Exception:
                        log.exception("music effect %s failed in guild %s", effect, self.guild_id)

    async def _execute(self, effect: Effect | RefreshGain) -> None:
        match effect:
            case RefreshGain(generation=generation):
                await self._refresh_gain(generation)
            case Start(track=track, generation=generation, start_at=start_at):
                task = self.service.tasks.spawn(
                    self._start(track, generation, start_at), name=f"start-{generation}"
                )
                if task is not None:
                    self._starting[generation] = task
                    task.add_done_callback(self._started_callback(generation))
            case Stop(generation=generation):
                starting = self._starting.pop(generation, None)
                if starting is not None:
                    starting.cancel()
                self.output.stop(self.voice_client, generation)
            case Pause(generation=generation):
                vc = self.voice_client
                if vc is not None and self.output.current and self.output.current.generation == generation:
                    vc.pause()
            case Resume(generation=generation):
                await self._resume(generation)
            case SetVolume(percent=percent):
                await self._set_volume(percent)
            case ArmIdleTimer(token=token, seconds=seconds, reason=reason):
                timer = self.service.tasks.spawn(
                    self._idle_timer(token, seconds, reason), name=f"idle-{token}"
                )
                if timer is not None:
                    self._timers[token] = timer
            case CancelIdleTimer(token=token):
                timer = self._timers.pop(token, None)
                if timer is not None and timer is not asyncio.current_task():
                    timer.cancel()
            case AnnounceNowPlaying(track=track):
                await self.announce(embeds.now_playing(track), self.service.reply_seconds)
            case AnnounceFailure(track=track, problem=problem):
                await self.announce(embeds.skipped_track(track, problem), self.service.reply_seconds)
            case ShowPlaying(track=track):
                self.service.presence_changed(self.guild_id, track)
            case ShowIdle():
                self.service.presence_changed(self.guild_id, None)
                self.sound.idle()  # else the last track stays pinned in the audio cache for good
            case Disconnect(reason=reason):
                await self._disconnect(reason)

    def _started_callback(self, generation: int) -> Callable[[asyncio.Task[None]], None]:
        def done(_task: asyncio.Task[None]) -> None:
            self._starting.pop(generation, None)

        return done

    # ------------------------------------------------------------------------------------------ playback

    async def _start(self, track: Track, generation: int, resume_at: float = 0.0) -> None:
        try:
            playable = await self.service.sources.open(track)
        except MediaError as exc:
            failure = str(exc)  # `exc` is unbound after the except block; the lambda must not capture it
            self.act(lambda p: p.track_failed(generation, failure))
            return
        playable = await self.sound.prepare(generation, playable)
        resolved = dataclasses.replace(
            track, duration=playable.duration or track.duration, is_live=playable.is_live
        )
        refusal = self.player.gate(resolved)
        if refusal is not None:
            self.act(lambda p: p.track_failed(generation, refusal))
            return
        await self.service.voice_settled(self.guild_id)
        vc = self.voice_client
        if vc is None or not vc.is_connected():
            self.act(lambda p: p.track_failed(generation, "I'm not connected to a voice channel."))
            return
        # A restored track continues where it was, unless its source can't seek (a livestream).
        start_at = (
            resume_at if resume_at > 0 and not playable.is_live else self.service.sources.start_at(track)
        )
        try:
            source = self._build(playable, start_at, generation)
        except (OSError, MediaError) as exc:
            failure = f"FFmpeg could not start: {exc}"
            self.act(lambda p: p.track_failed(generation, failure))
            return
        # Stopped or replaced while the stream was being resolved: play nothing.
        if self.player.generation != generation:
            source.cleanup()
            return
        try:
            audio = self.output.play(
                vc,
                source,
                generation=generation,
                track=resolved,
                start_offset=start_at,
                gain_percent=self.player.volume,
            )
        except discord.ClientException as exc:  # voice dropped since the check above
            failure = str(exc)
            self.act(lambda p: p.track_failed(generation, failure))
            return
        self.sound.playing(audio, fresh=True)
        self.act(lambda p: p.track_started(generation, resolved))

    def _build(self, playable: Playable, start_at: float, generation: int) -> discord.FFmpegOpusAudio:
        return build_audio_source(
            playable.input,
            gain=self.sound.gain(self.player.volume, generation),
            start_at=start_at,
            acodec=playable.acodec,
            library_root=playable.root,
            executable=self.service.ffmpeg,
        )

    def _audio_ended(self, audio: PlayingAudio, error: Exception | None) -> None:
        generation = audio.generation
        problem = str(error) if error else self._broke_off(audio)
        if problem:
            self.act(lambda p: p.track_failed(generation, problem))
        else:
            self.act(lambda p: p.track_ended(generation))

    def _broke_off(self, audio: PlayingAudio) -> str | None:
        code = audio.source.exit_status
        if code not in (None, 0):
            return "The stream broke off (FFmpeg stopped with an error)."
        current = self.player.current
        duration = current.duration if current is not None else None
        if duration is not None and audio.elapsed < duration - EARLY_END_TOLERANCE:
            return "The stream broke off before the end of the track."
        return None

    def check_stall(self, stall_seconds: float) -> None:
        """A stream that stopped delivering audio (a dead server FFmpeg keeps retrying) is a failed track."""
        audio, vc = self.output.current, self.voice_client
        if audio is None or vc is None or self.player.paused or not vc.is_playing():
            return
        if audio.source.stalled_for() > stall_seconds:
            generation = audio.generation
            self.output.stop(vc, generation)
            self.act(lambda p: p.track_failed(generation, "The stream stopped sending audio."))

    async def _refresh_gain(self, generation: int) -> None:
        """Normalization of the playing track changed (measured, or switched): apply it where it is.
        A paused track gets it when it resumes."""
        audio = self.output.current
        if audio is None or audio.generation != generation or self.player.generation != generation:
            return  # that audio is on its way out (its `Stop` is queued behind this)
        if not self.player.paused and self.sound.stale(audio):
            await restart_or_fail(self, audio)

    async def _resume(self, generation: int) -> None:
        vc, audio = self.voice_client, self.output.current
        if vc is None or audio is None or audio.generation != generation:
            return
        if self.player.generation != generation:
            return  # skipped or stopped since: its `Stop` is queued behind this
        if audio.gain_percent == self.player.volume and not self.sound.stale(audio):
            vc.resume()
            return
        # The model already says "playing": never leave the voice client paused behind its back.
        if not await restart_or_fail(self, audio) and vc.is_paused():
            vc.resume()  # the paused FFmpeg still holds the track: play on at the old gain

    async def _set_volume(self, percent: int) -> None:
        self.change_settings(volume=percent)  # written behind: a slow database never delays the audio
        audio = self.output.current
        if audio is None or audio.generation != self.player.generation:
            return  # no audio, or audio on its way out: the next track is built at the new volume
        if not self.player.paused and audio.gain_percent != percent:
            await restart_or_fail(self, audio)

    @property
    def settings(self) -> MusicSettings:
        return self._settings.settings

    def change_settings(self, **changes: object) -> None:
        """Change the settings now; they are saved in the background (retried until the write lands)."""
        self._settings.change(**changes)

    # ------------------------------------------------------------------------------------------ timers, leaving

    async def _idle_timer(self, token: int, seconds: int, reason: LeaveReason) -> None:
        await self.service.clock.sleep(seconds)
        self._timers.pop(token, None)
        self.act(lambda p: p.idle_timer_fired(token))

    async def _disconnect(self, reason: LeaveReason) -> None:
        vc = self.voice_client
        if reason is not LeaveReason.REQUESTED and vc is not None:
            text = "No tracks queued for 5 minutes." if reason is LeaveReason.IDLE else "Paused for too long."
            await self.announce(embeds.simple("👋  Leaving voice channel", text), self.service.leave_seconds)
        self.output.stop(vc)
        await self.service.leave_voice(self.guild_id)

    async def announce(self, embed: discord.Embed, delete_after: float) -> None:
        channel = self.announce_to
        if channel is None:
            return
        try:
            message = await channel.send(embed=fit_total(embed), allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            log.warning("could not announce in guild %s", self.guild_id, exc_info=True)
            return
        if delete_after > 0:
            self.service.replies.delete_later(message, delete_after)

    async def close(self) -> None:
        tasks: Iterable[asyncio.Task[None] | None] = [
            self._executor,
            *self._starting.values(),
            *self._timers.values(),
        ]
        for task in tasks:
            if task is not None:
                task.cancel()
        self.sound.close()
        self.output.stop(self.voice_client)
        await self._settings.close()
