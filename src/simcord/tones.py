"""Test audio written by FFmpeg's lavfi sources: tones, sweeps and noise for a media server to serve and a
bot to play. The other direction of `simcord.audio`, which reads back what was played."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from simcord.audio import SAMPLE_RATE, ffmpeg_executable


def render_lavfi(
    target: Path,
    *sources: str,
    options: Sequence[str] = (),
    timeout: float = 60,
    ffmpeg: str | None = None,
) -> Path:
    """Write what the lavfi `sources` generate (one FFmpeg input each) to `target`, overwriting it.

    `options` stand between the inputs and the output: filters, channel count, codec and bitrate; without
    a codec FFmpeg picks the one the file name's extension calls for.
    """
    inputs = [arg for source in sources for arg in ("-f", "lavfi", "-i", source)]
    command = [ffmpeg or ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-y", *inputs]
    subprocess.run([*command, *options, str(target)], check=True, timeout=timeout)
    return target


def render_tone(
    target: Path,
    frequency: float,
    seconds: float,
    *codec: str,
    amplitude: float | None = None,
    timeout: float = 60,
) -> Path:
    """A stereo 48 kHz sine. `amplitude` is its peak (full scale is 1), so its loudness is about
    20·log10(amplitude) LUFS; without one it is FFmpeg's `sine` source at its own level (1/8)."""
    if amplitude is None:
        source = f"sine=frequency={frequency}:sample_rate={SAMPLE_RATE}:duration={seconds}"
        return render_lavfi(target, source, options=("-ac", "2", *codec), timeout=timeout)
    wave = f"{amplitude}*sin(2*PI*{frequency}*t)"
    source = f"aevalsrc={wave}|{wave}:s={SAMPLE_RATE}:d={seconds}"
    return render_lavfi(target, source, options=codec, timeout=timeout)
