"""Music sessions that survive restarts, `kill -9` included.

Saving. Every model change marks its guild dirty (`changed`, called from `GuildMusic.act`); one writer task
saves dirty guilds one at a time, each from the player's state *at write time*, so a burst (a 500-track
playlist, a shuffle) costs one write and the newest state always wins. The same task checkpoints the
position of every playing guild about once a second in one batched statement. One task for both on
purpose: a position write can never overtake the state write of a later skip and give the new track the
old track's position. A graceful shutdown flushes everything before voice is left.

Restoring. Once per process (not per gateway session, so a reconnect never restores or announces twice),
after READY: every saved guild whose session had something to play and whose voice channel still has
listeners is rejoined, the player continues the current track from its saved position (paused ones stay
paused until `resume`), and one "Resumed after restart" note goes to the channel that last used the
player. The resumed track is not announced as "Now playing" again. A session nobody is waiting for
(channel gone, nobody in it) is not rejoined: its queue is dropped, as the alone-in-voice rule would have
done, and the channel is told; history is kept either way. Until a guild's restore is done nothing is
written for it, and its music commands wait for it (`settled`, bounded): a `play` during the rejoin would
otherwise find an empty player, make the restore a no-op and have the next save drop the saved queue.
A restore that does not finish (shutdown during the rejoin, an unexpected error) leaves the saved row as it
is: until the player holds something of its own, an empty player is not written over it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import discord

from pytunes.music import embeds
from pytunes.music.model import (
    Ignored,
    Refused,
    Restored,
    Result,
    Snapshot,
    SnapshotError,
    format_duration,
)
from pytunes.music.model.snapshot import decode, encode
from pytunes.music.session_store import SavedSession, SessionStore

if TYPE_CHECKING:
    from pytunes.music.guild import GuildMusic
    from pytunes.music.service import MusicService

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 1.0
# A position closer than this to the saved one is not worth a write (and a paused track stands still).
POSITION_STEP = 0.25
RETRY_SECONDS = 2.0
FLUSH_TIMEOUT = 5.0
# How long a command waits for its guild's restore: past the voice connect timeout (20 s), so a rejoin
# that times out still finishes first.
RESTORE_WAIT = 25.0


def position_of(music: GuildMusic) -> float:
    """How far the current track has got: its audio's frame count, or, before that audio exists (still
    resolving, or restored paused), where it will begin."""
    audio, player = music.output.current, music.player
    if audio is not None and player.current is not None and audio.generation == player.generation:
        return audio.elapsed
    return player.start_at


def _voice_channel_id(music: GuildMusic) -> int | None:
    guild = music.guild
    me = guild.me if guild is not None else None
    channel = me.voice.channel if me is not None and me.voice is not None else None
    return channel.id if channel is not None else None


class SessionKeeper:
    def __init__(self, service: MusicService, store: SessionStore) -> None:
        self.service = service
        self.store = store
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._loaded = asyncio.Event()
        self._restoring: set[int] = set()
        self._restored: dict[int, asyncio.Event] = {}  # set once that guild's restore is done
        # Guilds whose restore ended before the player took the saved state over: their empty player must
        # not be saved over (and so delete) the row, which the next start can still restore.
        self._unrestored: set[int] = set()
        self._saved: dict[int, str] = {}  # what each guild's row holds (state and channels)
        self._positions: dict[int, float] = {}
        self._closed = False
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for coro, name in ((self._restore_all(), "music-restore"), (self._write_forever(), "music-sessions")):
            task = self.service.tasks.spawn(coro, name=name)
            if task is not None:
                self._tasks.append(task)

    def changed(self, guild_id: int, result: Result | None = None) -> None:
        """The guild's player (or its voice channel) changed; refusals and stale events change nothing."""
        if self._closed or isinstance(result, Refused | Ignored):
            return
        self._dirty.add(guild_id)
        self._wake.set()

    def pending(self, guild_id: int) -> bool:
        """Whether `guild_id` may still have a saved session to restore (or it is not known yet)."""
        if self._closed:
            return False
        event = self._restored.get(guild_id)
        return not self._loaded.is_set() or (event is not None and not event.is_set())

    async def settled(self, guild_id: int) -> None:
        """Return once `guild_id`'s saved session is back in its player (or there is none), at most after
        `RESTORE_WAIT`."""
        if not self.pending(guild_id):
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RESTORE_WAIT):
                await self._loaded.wait()
                event = self._restored.get(guild_id)
                if event is not None:
                    await event.wait()

    # ------------------------------------------------------------------------------------------ saving

    async def _write_forever(self) -> None:
        await self._loaded.wait()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), CHECKPOINT_SECONDS)
            self._wake.clear()
            try:
                await self._write_dirty()
                await self._checkpoint()
            except Exception:
                # The database away for a moment must not end saving for good: the guilds stay dirty.
                log.exception("could not save music sessions; retrying")
                await asyncio.sleep(RETRY_SECONDS)

    async def _write_dirty(self) -> None:
        while self._dirty:
            guild_id = self._dirty.pop()
            music = self.service.existing(guild_id)
            if music is None or guild_id in self._restoring:
                continue  # a restoring guild is written once its restore is done
            try:
                await self._save(music)
            except BaseException:
                self._dirty.add(guild_id)
                raise

    async def _save(self, music: GuildMusic) -> None:
        guild_id = music.guild_id
        snapshot = music.player.snapshot()
        if snapshot.empty:
            if guild_id in self._unrestored:
                return
            if guild_id in self._saved:
                await self.store.delete(guild_id)
                self._saved.pop(guild_id, None)
                self._positions.pop(guild_id, None)
            return
        position = position_of(music)
        # In a thread: even a capped queue is ~0.3 MB of JSON, rewritten after every skip or add, and the
        # snapshot is immutable, so the event loop need not wait for it.
        state = await asyncio.to_thread(encode, snapshot)
        session = SavedSession(
            guild_id, _voice_channel_id(music), getattr(music.announce_to, "id", None), state, position
        )
        key = f"{session.voice_channel_id}/{session.text_channel_id}/{session.state}"
        saved_at = self._positions.get(guild_id, -1.0)
        if self._saved.get(guild_id) == key and abs(saved_at - session.position) < POSITION_STEP:
            return
        await self.store.save(session)
        self._unrestored.discard(guild_id)  # the player's own session replaced the one it never got back
        self._saved[guild_id] = key
        self._positions[guild_id] = session.position

    async def _checkpoint(self) -> None:
        positions: dict[int, float] = {}
        for music in self.service.all_guilds():
            guild_id = music.guild_id
            if guild_id not in self._saved or guild_id in self._restoring or music.player.paused:
                continue
            if guild_id in self._unrestored:
                continue  # the row's position belongs to the saved track, not to this player
            position = position_of(music)
            if abs(self._positions.get(guild_id, -1.0) - position) >= POSITION_STEP:
                positions[guild_id] = position
        if positions:
            await self.store.save_positions(positions)
            self._positions.update(positions)

    async def close(self) -> None:
        """Stop saving, after a last save of every guild (while the bot is still in voice, so the rows
        still name the channels to come back to)."""
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if not self._loaded.is_set():
            return  # never got as far as reading the saved sessions: nothing here is newer than them
        self._dirty.update(music.guild_id for music in self.service.all_guilds())
        try:
            await asyncio.wait_for(self._write_dirty(), FLUSH_TIMEOUT)
        except Exception:
            log.exception("could not save the music sessions on shutdown")

    # ------------------------------------------------------------------------------------------ restoring

    async def _restore_all(self) -> None:
        while True:
            try:
                saved = await self.store.load_all()
                break
            except Exception:
                log.exception("could not read the saved music sessions; retrying")
                await asyncio.sleep(RETRY_SECONDS)
        for session in saved:
            self._saved[session.guild_id] = ""  # a row exists; its content is unknown to the writer
            self._positions[session.guild_id] = session.position
        self._restoring = {session.guild_id for session in saved}
        self._restored = {session.guild_id: asyncio.Event() for session in saved}
        self._loaded.set()
        await self.service.bot.wait_until_ready()
        results = await asyncio.gather(*(self._restore(s) for s in saved), return_exceptions=True)
        for session, outcome in zip(saved, results, strict=True):
            if isinstance(outcome, Exception):
                log.error(
                    "music session of guild %s could not be restored", session.guild_id, exc_info=outcome
                )
        if saved:
            log.info("restored %d music session(s)", sum(1 for r in results if r is True))

    async def _restore(self, session: SavedSession) -> bool:
        guild_id = session.guild_id
        took_over = False
        try:
            try:
                snapshot = decode(session.state)
            except SnapshotError:
                log.warning("the saved music session of guild %s can't be read; ignoring it", guild_id)
                took_over = True  # nothing in that row can ever be restored: it may go
                return False
            guild = self.service.bot.get_guild(guild_id)
            if guild is None:
                return False  # not (yet) available; the row stays for a later start
            music = await self.service.guild(guild_id)
            text = guild.get_channel_or_thread(session.text_channel_id or 0)
            if isinstance(text, discord.abc.Messageable):
                music.announce_to = text
            problem = await self._rejoin(guild, session.voice_channel_id) if snapshot.playing else None
            dropped = len(snapshot.queue) + (snapshot.current is not None)
            if problem is not None or not snapshot.playing:
                snapshot = Snapshot(history=snapshot.history)
                await self._clear_ghost(guild)
            result, batch = music.act(lambda p: p.restore(snapshot, session.position), hold=True)
            took_over = True
            try:
                if isinstance(result, Restored) and result.track is not None:
                    await music.announce(resumed(result), self.service.leave_seconds)
                elif problem is not None and dropped:
                    note = f"{problem}, so the queue ({dropped} track(s)) was dropped; `history` still lists them."
                    embed = embeds.simple("⏹️  Not resumed after restart", note)
                    await music.announce(embed, self.service.leave_seconds)
            finally:
                music.release(batch)
            return isinstance(result, Restored)
        finally:
            # Cancelled (shutdown during the rejoin) or failed before `restore`: the row stays for later.
            if not took_over:
                self._unrestored.add(guild_id)
            self._restoring.discard(guild_id)
            self._restored.pop(guild_id, asyncio.Event()).set()
            self.changed(guild_id)

    async def _clear_ghost(self, guild: discord.Guild) -> None:
        """A process that died in voice leaves the bot listed in the channel without a connection behind
        it; when not rejoining, take that entry away instead of sitting there mute."""
        if guild.voice_client is not None or guild.me.voice is None or guild.me.voice.channel is None:
            return
        try:
            await asyncio.wait_for(guild.change_voice_state(channel=None), FLUSH_TIMEOUT)
        except (TimeoutError, discord.HTTPException, discord.ClientException):
            log.warning("could not leave the voice channel of a dead session in guild %s", guild.id)

    async def _rejoin(self, guild: discord.Guild, channel_id: int | None) -> str | None:
        """Join the saved voice channel; why not, if that is not possible or nobody would listen."""
        channel = guild.get_channel(channel_id or 0)
        if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
            return "My voice channel is gone"
        me = guild.me.id
        listeners = []
        for user_id in channel.voice_states:
            member = guild.get_member(user_id)
            if user_id != me and not (member is not None and member.bot):
                listeners.append(user_id)
        if not listeners:
            return f"Nobody is in {channel.mention}"
        try:
            await self.service.connect(channel)
        except (TimeoutError, discord.ClientException, discord.HTTPException):
            log.warning("could not rejoin %s after a restart", channel.id, exc_info=True)
            return f"I could not rejoin {channel.mention}"
        return None


def resumed(result: Restored) -> discord.Embed:
    """The one note after a restart: what continues, from where, and what waits behind it."""
    assert result.track is not None
    where = format_duration(result.position)
    if result.paused:
        text = f"{embeds.linked(result.track)} is paused at {where}; `resume` continues it."
    else:
        text = f"{embeds.linked(result.track)} continues from {where}."
    if result.queued:
        text += f" {result.queued} more track(s) queued."
    return embeds.simple("🔄  Resumed after restart", text)
