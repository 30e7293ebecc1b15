"""The music service: one `GuildMusic` per guild, voice connections, presence, and the voice watcher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import discord

from pytunes.core.clock import Clock
from pytunes.core.replies import Replies
from pytunes.core.tasks import TaskOwner
from pytunes.core.voice_states import seen_in_voice
from pytunes.music import embeds
from pytunes.music.guild import GuildMusic
from pytunes.music.loudness import Normalizer
from pytunes.music.media.resolver import MediaResolver
from pytunes.music.media.worker import MediaWorkers
from pytunes.music.model import PlayerConfig, Track
from pytunes.music.session import SessionKeeper
from pytunes.music.session_store import SessionStore
from pytunes.music.sources import Sources
from pytunes.music.store import MusicStore
from pytunes.music.voice_client import MusicVoiceClient

log = logging.getLogger(__name__)

# A voice join that has not completed in this time is abandoned and tried once more: discord.py sends its
# one UDP discovery packet only once, and a lost datagram would otherwise stall the join until it times out.
JOIN_ATTEMPT_TIMEOUT = 10.0
JOIN_ATTEMPTS = 2
LEAVE_CONFIRM_TIMEOUT = 5.0
MOVE_TIMEOUT = 5.0
SHUTDOWN_LEAVE_TIMEOUT = 5.0


class MusicService:
    def __init__(
        self,
        bot: discord.Client,
        *,
        resolver: MediaResolver,
        workers: MediaWorkers,
        store: MusicStore,
        sessions: SessionStore,
        clock: Clock,
        tasks: TaskOwner,
        replies: Replies,
        ffmpeg: str,
        player_config: PlayerConfig,
        alone_seconds: float,
        stall_seconds: float,
        set_presence: Callable[[str | None], None],
        normalizer: Normalizer,
    ) -> None:
        self.bot = bot
        self.resolver = resolver
        self.normalizer = normalizer
        self.sources = Sources(resolver, cache=normalizer.cache)
        self.workers = workers
        self.store = store
        self.clock = clock
        self.tasks = tasks
        self.replies = replies
        self.ffmpeg = ffmpeg
        self.player_config = player_config
        self.alone_seconds = alone_seconds
        self.stall_seconds = stall_seconds
        self._set_presence = set_presence
        self.reply_seconds = replies.policy.reply_delete_seconds
        self.leave_seconds = 60.0
        self.move_timeout = MOVE_TIMEOUT
        self._guilds: dict[int, GuildMusic] = {}
        self._loading: dict[int, asyncio.Lock] = {}
        # One voice operation (join, move, leave) at a time per guild: a join that overtook a leave would
        # be torn down by the leave's late confirmation.
        self._voice_locks: dict[int, asyncio.Lock] = {}
        self._playing: dict[int, Track] = {}
        self._alone: dict[int, asyncio.Task[None]] = {}
        self._reconnecting: set[int] = set()
        self._watchdog = tasks.spawn(self._watch_streams(), name="stream-watchdog")
        # Saves every player as it changes and brings the saved ones back after a restart.
        self.sessions = SessionKeeper(self, sessions)
        self.sessions.start()

    async def _watch_streams(self) -> None:
        # Real time on purpose: it measures real audio flowing, which the bot's (test) clock doesn't drive.
        while True:
            await asyncio.sleep(1.0)
            for music in list(self._guilds.values()):
                music.check_stall(self.stall_seconds)

    async def guild(self, guild_id: int) -> GuildMusic:
        """The guild's music, created on first use with its saved settings."""
        music = self._guilds.get(guild_id)
        if music is not None:
            return music
        lock = self._loading.setdefault(guild_id, asyncio.Lock())
        async with lock:  # two first commands at once must not build two players
            music = self._guilds.get(guild_id)
            if music is None:
                music = GuildMusic(self, guild_id, await self.store.load(guild_id))
                self._guilds[guild_id] = music
        return music

    def existing(self, guild_id: int) -> GuildMusic | None:
        return self._guilds.get(guild_id)

    def all_guilds(self) -> list[GuildMusic]:
        return list(self._guilds.values())

    # ------------------------------------------------------------------------------------------ voice

    async def connect(self, channel: discord.VoiceChannel | discord.StageChannel) -> discord.VoiceClient:
        """Join `channel`, or move there when already connected elsewhere in its guild."""
        async with self._voice_lock(channel.guild.id):
            return await self._connect(channel)

    async def _connect(self, channel: discord.VoiceChannel | discord.StageChannel) -> discord.VoiceClient:
        guild = channel.guild
        vc = guild.voice_client
        if isinstance(vc, discord.VoiceClient) and vc.is_connected():
            if vc.channel.id == channel.id:
                return vc
            music = self._guilds.get(guild.id)
            busy = vc.is_playing() or vc.is_paused()
            if music is not None and (music.player.current is not None or music.player.queue):
                busy = True
            if busy:
                # A move keeps the audio going. discord.py finishes it only once Discord closes the old
                # voice socket (4014); if that never comes it would wait, half connected, for 30 s. So
                # wait a bounded time, then reconnect below (the current track then breaks off, is
                # reported and skipped; the queue stays).
                await vc.move_to(channel, timeout=self.move_timeout)
                if vc.is_connected() and vc.channel.id == channel.id:
                    return vc
            # Nothing to keep playing (or the move did not finish): a fresh connection is as quick and
            # needs no move handshake.
        if vc is None:
            return await self._join(channel)
        # Connected elsewhere, or a half-dead connection from a failed attempt. Leaving on the way to
        # another channel is no reason for the voice watcher to stop playback and clear the queue.
        self._reconnecting.add(guild.id)
        try:
            await vc.disconnect(force=True)
            return await self._join(channel)
        finally:
            self._reconnecting.discard(guild.id)

    async def _join(self, channel: discord.VoiceChannel | discord.StageChannel) -> discord.VoiceClient:
        for _ in range(JOIN_ATTEMPTS - 1):
            try:
                return await self._connect_once(channel)
            except TimeoutError:
                log.info("joining voice in guild %s timed out; trying again", channel.guild.id)
                # discord.py left again after the timeout; the next attempt must not get that leave's
                # confirmation, which would end it.
                await seen_in_voice(self.bot, channel.guild.me, None, timeout=LEAVE_CONFIRM_TIMEOUT)
        return await self._connect_once(channel)

    @staticmethod
    async def _connect_once(channel: discord.VoiceChannel | discord.StageChannel) -> discord.VoiceClient:
        return await channel.connect(timeout=JOIN_ATTEMPT_TIMEOUT, self_deaf=True, cls=MusicVoiceClient)

    async def leave_voice(self, guild_id: int) -> None:
        """Leave the guild's voice channel (if in one), after any join or move under way there."""
        async with self._voice_lock(guild_id):
            guild = self.bot.get_guild(guild_id)
            vc = guild.voice_client if guild is not None else None
            if vc is not None:
                await vc.disconnect(force=True)

    async def voice_settled(self, guild_id: int) -> None:
        """Return once no join, move or leave is under way in the guild (a track that starts during a
        reconnect plays on the new connection instead of failing on the old one)."""
        async with self._voice_lock(guild_id):
            pass

    def _voice_lock(self, guild_id: int) -> asyncio.Lock:
        return self._voice_locks.setdefault(guild_id, asyncio.Lock())

    def voice_changed(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        """Keep playback in line with voice: kicked or moved away, or left alone with no humans."""
        guild = member.guild
        music = self._guilds.get(guild.id)
        me = guild.me
        if music is None or me is None:
            return
        if member.id == me.id:
            self.sessions.changed(guild.id)  # the saved session names the channel to come back to
        if member.id == me.id and after.channel is None and before.channel is not None:
            self._cancel_alone(guild.id)
            if guild.id in self._reconnecting:
                return
            if music.player.current is not None or music.player.queue:
                music.act(lambda p: p.leave())
            return
        bot_channel = me.voice.channel if me.voice is not None else None
        if bot_channel is None:
            self._cancel_alone(guild.id)
            return
        humans = [m for m in bot_channel.members if not m.bot]
        if humans:
            self._cancel_alone(guild.id)
        elif guild.id not in self._alone:
            task = self.tasks.spawn(self._leave_when_alone(music, bot_channel), name=f"alone-{guild.id}")
            if task is not None:
                self._alone[guild.id] = task

    def _cancel_alone(self, guild_id: int) -> None:
        task = self._alone.pop(guild_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _leave_when_alone(
        self, music: GuildMusic, channel: discord.VoiceChannel | discord.StageChannel
    ) -> None:
        await self.clock.sleep(self.alone_seconds)
        self._alone.pop(music.guild_id, None)
        if any(not m.bot for m in channel.members):
            return
        await music.announce(
            embeds.simple("👋  Leaving voice channel", f"Nobody is listening in {channel.mention}."),
            self.leave_seconds,
        )
        music.act(lambda p: p.leave())
        await self.leave_voice(music.guild_id)

    # ------------------------------------------------------------------------------------------ presence

    def presence_changed(self, guild_id: int, track: Track | None) -> None:
        if track is None:
            self._playing.pop(guild_id, None)
        else:
            self._playing[guild_id] = track
        if not self._playing:
            self._set_presence(None)
        elif len(self._playing) == 1:
            only = next(iter(self._playing.values()))
            self._set_presence(f"Playing {only.title} · {only.source.label}")
        else:
            self._set_presence(f"Playing music in {len(self._playing)} servers")

    async def close(self) -> None:
        # First, while still in voice: leaving below clears the players, which must not be saved.
        await self.sessions.close()
        if self._watchdog is not None:
            self._watchdog.cancel()
        for task in self._alone.values():
            task.cancel()
        for music in self._guilds.values():
            await music.close()
        # Leave voice while the gateway is still up, so the leave is confirmed instead of timing out; every
        # guild at once, so a stop takes as long as the slowest leave, not the sum of them.
        await asyncio.gather(
            *(
                asyncio.wait_for(vc.disconnect(force=True), SHUTDOWN_LEAVE_TIMEOUT)
                for vc in list(self.bot.voice_clients)
            ),
            return_exceptions=True,
        )
        await self.normalizer.close()
        await self.resolver.aclose()
        self.workers.close()
