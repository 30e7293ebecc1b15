"""Restarting the playing track's FFmpeg where it is: volume and normalization gain are baked into the
FFmpeg command, so changing them on a playing (or resuming) track means a new source from the same spot.

Such a restart runs from the guild's executor, possibly well after the command that asked for it, so it
restarts its own audio's track and gives up once the model moved on (a skip whose `Stop` is still queued)
or voice went away meanwhile.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytunes.music.audio import PlayingAudio
    from pytunes.music.guild import GuildMusic

log = logging.getLogger(__name__)


async def restart(music: GuildMusic, audio: PlayingAudio) -> bool:
    """Play `audio`'s track again from where it is, at the current volume (FFmpeg bakes the gain in);
    False if that was no longer the thing to do. Its own track: the model may already have moved on
    (a skip whose `Stop` is still queued)."""
    if music.player.generation != audio.generation:
        return False
    track = audio.track
    playable = music.sound.reopen(audio.generation) or await music.service.sources.open(track)
    source = music._build(playable, audio.elapsed, audio.generation)
    # Re-read after the await: voice may have dropped (or be resuming) while the stream opened, and
    # playing on a disconnected client would stop the old audio for nothing; it plays on instead.
    vc = music.voice_client
    stale = music.output.current is not audio or music.player.generation != audio.generation
    if stale or vc is None or not vc.is_connected():
        source.cleanup()  # something else happened meanwhile (skip, stop, voice gone): that wins
        return False
    restarted = music.output.play(
        vc,
        source,
        generation=audio.generation,
        track=track,
        start_offset=audio.elapsed,
        gain_percent=music.player.volume,
    )
    music.sound.playing(restarted, fresh=False)
    return True


async def restart_or_fail(music: GuildMusic, audio: PlayingAudio) -> bool:
    """Restart `audio`; False if it was not restarted and the old audio still holds the track (it
    plays on at its old gain). A failure that took the old audio with it fails the track."""
    try:
        return await restart(music, audio) or music.output.current is not audio
    except Exception as exc:  # a vanished file, a stream that no longer resolves, FFmpeg, voice
        log.warning("could not restart the track at its new gain", exc_info=True)
        failure = str(exc) or "its source could not be opened again."
    if music.output.current is audio:
        return False
    generation = audio.generation
    music.act(lambda p: p.track_failed(generation, failure))
    return True
