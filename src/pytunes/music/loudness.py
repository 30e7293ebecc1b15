"""Loudness normalization and the audio cache as the player uses them.

`Normalizer` is shared by all guilds: measurements (one per content, ever: stored in the database),
cache copies (one download per content at a time) and the gain rule. `GuildSound` is one guild's side:
the gain of the track that is playing, and the background work for it.

When what happens (docs/commands.md, 'Loudness normalization' and 'Audio cache'):

- Normalize on and the loudness already known: the gain is in the first FFmpeg of the track.
- Normalize on and not known: the track starts at its plain volume; a file (library, upload, cached copy)
  is measured right away, a stream once its cached copy is complete. Then, if the same track is still
  playing and normalize is still on, FFmpeg restarts at the current position with the gain.
- Normalize off: nothing is measured, and a stream is cached only when it is played again (the second
  play in this bot's lifetime), not on every first play.
- Streams known to be longer than `cache_max_seconds` are never cached, so never normalized.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.core.clock import Clock, SystemClock
from pytunes.core.tasks import TaskOwner
from pytunes.music.cache import AudioCache
from pytunes.music.loudness_store import Loudness, LoudnessStore
from pytunes.music.media import MediaError
from pytunes.music.media.download import Downloader
from pytunes.music.media.ffmpeg import probe_codec
from pytunes.music.media.loudness import combined_gain, gain_for, measure_lufs
from pytunes.music.media.safety import UrlGuard
from pytunes.music.sources import Playable, file_content_id

if TYPE_CHECKING:
    from pytunes.config import Settings
    from pytunes.music.audio import PlayingAudio

log = logging.getLogger(__name__)

V = TypeVar("V")

REMEMBERED = 10_000  # loudness values and play counts kept in memory (the database has them all)
CACHE_MAX_SECONDS = 600
# A failed measurement (FFmpeg choked, the file was being replaced) is tried again after this long: soon
# enough that a passing problem does not cost normalization until the next restart, rarely enough that a
# file FFmpeg can never measure is not measured on every play.
MEASURE_RETRY_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class RefreshGain:
    """Effect: if the gain `generation`'s audio should have changed, restart FFmpeg at its position."""

    generation: int


@dataclass(frozen=True, slots=True)
class NormalizeConfig:
    target_lufs: float = -14.0
    min_gain_db: float = -12.0
    max_gain_db: float = 6.0
    cache_max_seconds: int = CACHE_MAX_SECONDS


class _Bounded(OrderedDict[str, V], Generic[V]):
    def remember(self, key: str, value: V) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > REMEMBERED:
            self.popitem(last=False)


class Normalizer:
    def __init__(
        self,
        *,
        store: LoudnessStore,
        cache: AudioCache | None,
        downloader: Downloader | None,
        ffmpeg: str,
        config: NormalizeConfig,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.cache = cache if cache is not None and cache.enabled else None
        self.downloader = downloader
        self.ffmpeg = ffmpeg
        self.config = config
        self.measurements = 0  # FFmpeg measurements run by this process
        self._known: _Bounded[Loudness] = _Bounded()
        self._plays: _Bounded[int] = _Bounded()  # starts in this process
        self._failed: _Bounded[float] = _Bounded()  # FFmpeg could not measure: when (clock.monotonic)
        self._file_ids: _Bounded[str] = _Bounded()  # (path, size, mtime) -> content id
        self._measuring: dict[str, asyncio.Task[Loudness | None]] = {}

    def gain(self, loudness: Loudness | None) -> float:
        lufs = loudness.lufs if loudness is not None else None
        return gain_for(lufs, self.config.target_lufs, self.config.min_gain_db, self.config.max_gain_db)

    async def known(self, content_id: str) -> Loudness | None:
        """The stored loudness of `content_id`, or None when it was never measured."""
        found = self._known.get(content_id)
        if found is not None:
            return found
        stored = await self.store.get(content_id)
        if stored is not None:
            self._known.remember(content_id, stored)
        return stored

    async def measure(self, content_id: str, path: Path, root: Path | None) -> Loudness | None:
        """Measure `path` once for `content_id` (concurrent calls share one FFmpeg); None on failure."""
        known = await self.known(content_id)
        if known is not None or self._failed_recently(content_id):
            return known
        task = self._measuring.get(content_id)
        if task is None:
            task = asyncio.create_task(self._measure(content_id, path, root), name="measure-loudness")
            self._measuring[content_id] = task
            task.add_done_callback(lambda _: self._measuring.pop(content_id, None))
        return await asyncio.shield(task)

    async def _measure(self, content_id: str, path: Path, root: Path | None) -> Loudness | None:
        self.measurements += 1
        try:
            loudness = Loudness(await measure_lufs(path, executable=self.ffmpeg, root=root))
        except MediaError as exc:
            log.warning("could not measure the loudness of %s: %s (%s)", content_id, exc, exc.detail)
            self._failed.remember(content_id, self.clock.monotonic())
            return None
        self._failed.pop(content_id, None)
        self._known.remember(content_id, loudness)
        await self.store.put(content_id, loudness)
        log.debug("%s: %s LUFS", content_id, loudness.lufs)
        return loudness

    def _failed_recently(self, content_id: str) -> bool:
        failed_at = self._failed.get(content_id)
        return failed_at is not None and self.clock.monotonic() - failed_at < MEASURE_RETRY_SECONDS

    async def file_id(self, path: Path) -> str | None:
        """The content id of a file (hashed once per path, size and modification time)."""
        try:
            stat = await asyncio.to_thread(path.stat)
            key = f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}"
            known = self._file_ids.get(key)
            if known is None:
                known = await asyncio.to_thread(file_content_id, path)
                self._file_ids.remember(key, known)
            return known
        except OSError:
            return None

    def played(self, content_id: str) -> int:
        """Count a start of `content_id`; returns how often it started in this process."""
        count = self._plays.get(content_id, 0) + 1
        self._plays.remember(content_id, count)
        return count

    def cacheable(self, playable: Playable) -> bool:
        if self.cache is None or self.downloader is None or playable.is_file or playable.is_live:
            return False
        if playable.content_id is None:
            return False
        return playable.duration is None or playable.duration <= self.config.cache_max_seconds

    async def cache_copy(self, playable: Playable) -> Playable | None:
        """Download `playable`'s stream into the cache (once, however many ask); the copy as a file."""
        cache, downloader, media = self.cache, self.downloader, playable.input
        if cache is None or downloader is None or isinstance(media, Path) or playable.content_id is None:
            return None
        entry = await cache.store(
            playable.content_id,
            codec=playable.acodec or media.acodec,
            ext=media.ext,
            write=lambda target, limit: downloader.download(media, target, limit),
            verify=self._verify,
        )
        if entry is None:
            return None
        return dataclasses.replace(playable, input=entry.path, acodec=entry.codec, root=cache.root)

    async def _verify(self, path: Path) -> None:
        """A complete download is still useless if FFmpeg finds no audio in it (raises `MediaError`)."""
        await probe_codec(path, executable=self.ffmpeg, library_root=path.parent)

    async def close(self) -> None:
        for task in list(self._measuring.values()):
            task.cancel()
        if self.cache is not None:
            await self.cache.close()
        if self.downloader is not None:
            await self.downloader.aclose()


@dataclass(slots=True)
class _Current:
    generation: int
    playable: Playable
    loudness: Loudness | None  # None: not measured (yet)


class GuildSound:
    """One guild's normalization state. `enqueue` queues an effect on the guild's executor."""

    def __init__(
        self,
        normalizer: Normalizer,
        tasks: TaskOwner,
        *,
        enabled: Callable[[], bool],
        generation: Callable[[], int],
        enqueue: Callable[[RefreshGain], None],
    ) -> None:
        self.normalizer = normalizer
        self._tasks = tasks
        self._enabled = enabled
        self._generation = generation
        self._enqueue = enqueue
        self._current: _Current | None = None
        self._built_norm = 1.0
        self._baked: tuple[int, float] | None = None  # (audio id, normalization gain in its FFmpeg)
        self._work: dict[int, asyncio.Task[None]] = {}

    # ------------------------------------------------------------------------------------------ playback

    async def prepare(self, generation: int, playable: Playable) -> Playable:
        """Before `generation` starts playing `playable`: look its loudness up (returns it with its id)."""
        if not self._enabled():
            # Nothing to look up now; switching normalize on mid-track looks it up then.
            if generation == self._generation():
                self._set_current(_Current(generation, playable, None))
            return playable
        if playable.content_id is None and isinstance(playable.input, Path):
            playable = dataclasses.replace(playable, content_id=await self.normalizer.file_id(playable.input))
        loudness = None
        if playable.content_id is not None:
            try:
                loudness = await self.normalizer.known(playable.content_id)
            except Exception:  # the database is down: play at the plain volume rather than not at all
                log.warning("could not read the loudness of %s", playable.content_id, exc_info=True)
        if generation == self._generation():  # not replaced while we looked
            self._set_current(_Current(generation, playable, loudness))
        return playable

    def gain(self, volume: int, generation: int) -> float:
        """The linear gain for FFmpeg now: volume × normalization (remembered for `playing`)."""
        self._built_norm = self.norm(generation)
        return combined_gain(volume, self._built_norm)

    def norm(self, generation: int) -> float:
        current = self._current
        if current is None or current.generation != generation or not self._enabled():
            return 1.0
        return self.normalizer.gain(current.loudness)

    def playing(self, audio: PlayingAudio, *, fresh: bool) -> None:
        """`audio` was just handed to voice (built by the last `gain` call); `fresh`: a new track."""
        self._baked = (audio.audio_id, self._built_norm)
        current = self._current
        if not fresh or current is None or current.generation != audio.generation:
            return
        if current.playable.content_id is not None:
            plays = self.normalizer.played(current.playable.content_id)
            self._schedule(current, replayed=plays > 1)
        elif self._enabled():
            self._schedule(current, replayed=False)  # a file to hash and measure

    def stale(self, audio: PlayingAudio) -> bool:
        """Whether `audio`'s FFmpeg has a different normalization gain than it should have now."""
        baked = self._baked[1] if self._baked is not None and self._baked[0] == audio.audio_id else 1.0
        return baked != self.norm(audio.generation)

    def reopen(self, generation: int) -> Playable | None:
        """The file `generation` plays from (a cached copy, a library file): no need to resolve again."""
        current = self._current
        if current is not None and current.generation == generation and current.playable.is_file:
            return current.playable
        return None

    def toggled(self) -> None:
        """Normalize was switched: measure the current track if needed, and re-apply its gain."""
        current = self._current
        if current is None:
            return
        if self._enabled() and current.loudness is None:
            self._schedule(current, replayed=False)
        self._enqueue(RefreshGain(current.generation))

    # ------------------------------------------------------------------------------------------ background

    def _schedule(self, current: _Current, *, replayed: bool) -> None:
        generation = current.generation
        if generation in self._work:
            return
        measure = self._enabled() and current.loudness is None
        copy = self.normalizer.cacheable(current.playable)
        if not measure and not (copy and replayed):
            return
        if measure and not current.playable.is_file and not copy:
            return  # a stream that can't be cached can't be measured
        task = self._tasks.spawn(self._background(current, measure), name=f"sound-{generation}")
        if task is not None:
            self._work[generation] = task
            task.add_done_callback(lambda _: self._work.pop(generation, None))

    async def _background(self, current: _Current, measure: bool) -> None:
        playable = current.playable
        try:
            if playable.content_id is None and isinstance(playable.input, Path):
                content_id = await self.normalizer.file_id(playable.input)
                playable = dataclasses.replace(playable, content_id=content_id)
                current = self._replace_current(current, playable)
            known = None
            if measure and playable.content_id is not None:
                known = await self.normalizer.known(playable.content_id)  # measured before?
            if known is not None:
                self._measured(current, known)
                return
            if not playable.is_file:
                copy = await self.normalizer.cache_copy(playable)
                if copy is None:
                    return
                # Later restarts (volume, seek, the gain below) read the complete file instead.
                playable = copy
                current = self._replace_current(current, copy)
            if not (measure or self._enabled()) or playable.content_id is None:
                return
            assert isinstance(playable.input, Path)
            loudness = await self.normalizer.measure(playable.content_id, playable.input, playable.root)
        except Exception as exc:  # a failed download or measurement only means no gain for this track
            log.warning("caching or measuring %s failed: %r", playable.content_id, exc)
            return
        if loudness is not None:
            self._measured(current, loudness)

    def _measured(self, current: _Current, loudness: Loudness) -> None:
        latest = self._current
        if latest is None or latest.generation != current.generation:
            return  # another track is playing by now
        latest.loudness = loudness
        if self._enabled():
            self._enqueue(RefreshGain(current.generation))

    def _replace_current(self, current: _Current, playable: Playable) -> _Current:
        replaced = dataclasses.replace(current, playable=playable)
        if self._current is current:
            self._set_current(replaced)
        return replaced

    def _set_current(self, current: _Current) -> None:
        cache = self.normalizer.cache
        previous = self._current
        if cache is not None and current.playable.content_id is not None:
            cache.pin(current.playable.content_id)
        if cache is not None and previous is not None and previous.playable.content_id is not None:
            cache.unpin(previous.playable.content_id)
        self._current = current

    def idle(self) -> None:
        """Nothing plays any more (stopped, queue ran out, left voice): the last track's cached copy is
        no longer in use, so the cache may evict it again."""
        current, self._current = self._current, None
        cache = self.normalizer.cache
        if cache is not None and current is not None and current.playable.content_id is not None:
            cache.unpin(current.playable.content_id)

    def close(self) -> None:
        for task in list(self._work.values()):
            task.cancel()


async def build_normalizer(
    settings: Settings, engine: AsyncEngine, guard: UrlGuard, ffmpeg: str, clock: Clock | None = None
) -> Normalizer:
    cache = AudioCache(settings.audio_cache_dir, settings.audio_cache_max_mb * 1024 * 1024)
    await asyncio.to_thread(cache.open)  # scans the folder and deletes leftover temp files
    return Normalizer(
        store=LoudnessStore(engine),
        cache=cache,
        downloader=Downloader(guard) if cache.enabled else None,
        ffmpeg=ffmpeg,
        config=NormalizeConfig(
            target_lufs=settings.normalize_target_lufs,
            min_gain_db=settings.normalize_min_gain_db,
            max_gain_db=settings.normalize_max_gain_db,
        ),
        clock=clock,
    )
