"""Integrated loudness (EBU R128) of an audio file, and the static gain that evens it out.

Measured with FFmpeg's `ebur128` filter, not `loudnorm`'s analysis pass: both decode the whole file, but
`loudnorm` also runs its dynamic-normalization machinery (upsampling to 192 kHz, true-peak detection)
that a plain integrated-loudness reading does not need (bench/normalize.py shows the difference). The
stored value is the loudness, not a gain, so changing the target or the clamps never needs a new
measurement.

The gain is a single number applied by the `volume` filter of the one re-encode FFmpeg already does for
volume changes; it is not compression. A gain within `UNITY_DB` of 0 dB counts as exactly 1.0, so an
Opus source that needs no change keeps its stream copy (passthrough).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from pytunes.music.media.errors import UnsupportedSourceError
from pytunes.music.media.ffmpeg import (
    DEMUXERS,
    LOCAL_PROTOCOLS,
    MAX_GAIN,
    ffmpeg_path,
    plan_audio,
    run_for_report,
)

# ebur128 reports -70 LUFS (its absolute gate) for silence: there is no loudness to even out.
SILENCE_LUFS = -70.0
# Below this a gain change is inaudible (and would cost a re-encode for nothing).
UNITY_DB = 0.1
MEASURE_TIMEOUT = 300.0
# Measuring is background work: let playback (FFmpeg streams, the bot) have the CPU first.
MEASURE_NICENESS = 10
_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?(?:\d+(?:\.\d*)?|inf)|nan)\s*LUFS")


def measure_command(path: Path, *, executable: str | None = None, root: Path | None = None) -> list[str]:
    """The FFmpeg arguments that measure `path` (confined to `root` like playback is)."""
    source = plan_audio(path, library_root=root).source  # resolves and confines the path
    return [
        executable or ffmpeg_path(),
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-threads",
        "1",
        "-protocol_whitelist",
        LOCAL_PROTOCOLS,
        "-format_whitelist",
        DEMUXERS,
        "-i",
        source,
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-af",
        "ebur128=framelog=quiet",
        "-f",
        "null",
        "-",
    ]


def parse_integrated(report: str) -> float | None:
    """The integrated loudness from ebur128's summary; None for silence. Raises ValueError if absent."""
    found = _INTEGRATED.findall(report)
    if not found:
        raise ValueError("no ebur128 summary in FFmpeg's report")
    value = float(found[-1])
    if not math.isfinite(value) or value <= SILENCE_LUFS:
        return None
    return value


async def measure_lufs(
    path: Path,
    *,
    executable: str | None = None,
    root: Path | None = None,
    timeout: float = MEASURE_TIMEOUT,
) -> float | None:
    """Integrated loudness of `path` in LUFS, None for silence.

    Runs FFmpeg at a lower CPU priority, off the event loop. Raises `MediaError` when the file can't be
    read or the measurement takes longer than `timeout`.
    """
    returncode, report = await run_for_report(
        measure_command(path, executable=executable, root=root),
        timeout=timeout,
        too_slow="Measuring the loudness took too long.",
        niceness=MEASURE_NICENESS,
    )
    if returncode != 0:
        raise UnsupportedSourceError("FFmpeg could not read that file.", detail=report[-500:])
    try:
        return parse_integrated(report)
    except ValueError:
        raise UnsupportedSourceError("FFmpeg gave no loudness for that file.", detail=report[-500:]) from None


def gain_db_for(lufs: float | None, target: float, min_db: float, max_db: float) -> float:
    """The static gain in dB that brings `lufs` to `target`, clamped to [min_db, max_db]."""
    if lufs is None or not math.isfinite(lufs):
        return 0.0
    return min(max(target - lufs, min_db), max_db)


def gain_for(lufs: float | None, target: float, min_db: float, max_db: float) -> float:
    """`gain_db_for` as a linear factor; exactly 1.0 when unknown or inaudibly small."""
    return snap(10 ** (gain_db_for(lufs, target, min_db, max_db) / 20))


def snap(gain: float) -> float:
    """1.0 for a gain within `UNITY_DB` of unity (keeps passthrough), else `gain` as is."""
    if gain > 0 and abs(20 * math.log10(gain)) < UNITY_DB:
        return 1.0
    return gain


def combined_gain(volume_percent: int, normalization: float) -> float:
    """What FFmpeg applies: the volume times the normalization gain, within FFmpeg's allowed range."""
    gain = min(max(volume_percent, 0) / 100 * normalization, MAX_GAIN)
    # Without normalization the volume is applied exactly as set, as it always was.
    return gain if normalization == 1.0 else snap(gain)
