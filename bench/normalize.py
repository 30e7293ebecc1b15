"""What loudness normalization costs in CPU: measuring a track, and playing it with a gain.

1. Measuring a 5-minute Opus/WebM track (pink noise with a tone, so the decoder has real work), as the
   bot does it, with FFmpeg's `ebur128` filter, against the reference bot's `loudnorm` analysis pass
   (`-af loudnorm=I=-16:print_format=json`). The ratio is loudnorm / ebur128.
2. Playing it: the FFmpeg the player starts (`build_audio_source`, read to the end as fast as it goes),
   once as passthrough (Opus copied: volume 100 %, no normalization gain) and once with a gain (one
   libopus re-encode with `-af volume=`, which is what a normalized track costs). Reported as CPU seconds
   per minute of audio, as the share of one core a real-time stream takes, and as the ratio to
   passthrough, the baseline of the same run.

CPU is the children's user + system time (`getrusage(RUSAGE_CHILDREN)`) around each FFmpeg run; each
number is the median of `--runs` runs (default 5, `--quick` 3). Prints a table, then one JSON line.

    .venv/bin/python bench/normalize.py [--quick | --smoke] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pytunes.music.media.ffmpeg import build_audio_source
from pytunes.music.media.loudness import combined_gain, measure_command, measure_lufs
from simcord.tones import render_lavfi

TRACK_SECONDS = 300
SMOKE_SECONDS = 10


def make_track(target: Path, seconds: int) -> Path:
    """Pink noise under a 440 Hz tone, stereo 48 kHz, Opus in WebM (what YouTube serves most)."""
    return render_lavfi(
        target,
        f"anoisesrc=color=pink:amplitude=0.2:sample_rate=48000:duration={seconds}",
        f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        options=(
            "-filter_complex",
            "amix=inputs=2:duration=shortest,aformat=channel_layouts=stereo",
            "-c:a",
            "libopus",
            "-b:a",
            "128k",
        ),
        timeout=600,
    )


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(run: Callable[[], None]) -> tuple[float, float]:
    """(CPU seconds of the children `run` started and reaped, wall seconds)."""
    cpu, wall = child_cpu(), time.perf_counter()
    run()
    return child_cpu() - cpu, time.perf_counter() - wall


def ebur128(track: Path) -> None:
    subprocess.run(measure_command(track, root=track.parent), capture_output=True, check=True, timeout=600)


def loudnorm(track: Path) -> None:
    # The reference bot's measurement (a `loudnorm` analysis pass), same input restrictions as ours.
    command = measure_command(track, root=track.parent)
    command[command.index("ebur128=framelog=quiet")] = "loudnorm=I=-16:print_format=json"
    subprocess.run(command, capture_output=True, check=True, timeout=600)


def play(track: Path, gain: float) -> None:
    """The player's FFmpeg for `track`, drained as fast as it produces packets."""
    source = build_audio_source(track, gain=gain, acodec="opus", library_root=track.parent)
    try:
        while source.read():
            pass
    finally:
        source.cleanup()  # waits for (reaps) the process, so its CPU time is counted


def median_of(runs: int, run: Callable[[], None]) -> dict[str, float]:
    readings = [timed(run) for _ in range(runs)]
    return {
        "cpu_s": round(statistics.median(r[0] for r in readings), 3),
        "wall_s": round(statistics.median(r[1] for r in readings), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="3 runs per case instead of 5")
    parser.add_argument("--smoke", action="store_true", help="a 10 s track, one run: does it still run?")
    parser.add_argument("--runs", type=int, default=None, help="runs per case (default 5, quick 3)")
    args = parser.parse_args(argv)
    runs = 1 if args.smoke else args.runs or (3 if args.quick else 5)
    seconds = SMOKE_SECONDS if args.smoke else TRACK_SECONDS
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pytunes-bench-normalize-") as tmp:
        track = make_track(Path(tmp) / "track.webm", seconds)
        lufs = asyncio.run(measure_lufs(track, root=track.parent))
        gain = combined_gain(100, 10 ** (3 / 20))  # +3 dB: any gain but 1.0 means the re-encode
        measure = {"ebur128": median_of(runs, lambda: ebur128(track))}
        measure["loudnorm"] = median_of(runs, lambda: loudnorm(track))
        stream = {"passthrough": median_of(runs, lambda: play(track, 1.0))}
        stream["gain"] = median_of(runs, lambda: play(track, gain))

    minutes = seconds / 60
    base_measure = measure["ebur128"]["cpu_s"]
    base_stream = stream["passthrough"]["cpu_s"]
    print(f"\nMeasuring a {seconds} s Opus track (median of {runs}; {lufs} LUFS)")
    print(f"{'method':<12}{'CPU s':>9}{'wall s':>9}{'× ebur128':>11}")
    for name, cell in measure.items():
        ratio = cell["cpu_s"] / base_measure if base_measure else None
        print(f"{name:<12}{cell['cpu_s']:>9.3f}{cell['wall_s']:>9.3f}{_ratio(ratio):>11}")
    print(f"\nPlaying it, one FFmpeg per stream (median of {runs})")
    print(f"{'stream':<12}{'CPU s':>9}{'CPU s/min':>11}{'% core RT':>11}{'× copy':>9}")
    for name, cell in stream.items():
        per_minute = cell["cpu_s"] / minutes
        core = 100 * cell["cpu_s"] / seconds
        ratio = cell["cpu_s"] / base_stream if base_stream else None
        print(f"{name:<12}{cell['cpu_s']:>9.3f}{per_minute:>11.3f}{core:>11.2f}{_ratio(ratio):>9}")
    print(
        json.dumps(
            {
                "bench": "normalize",
                "runs": runs,
                "track_seconds": seconds,
                "lufs": lufs,
                "seconds": round(time.monotonic() - started, 1),
                "measure": measure,
                "loudnorm_over_ebur128": round(measure["loudnorm"]["cpu_s"] / base_measure, 2)
                if base_measure
                else None,
                "stream": stream,
                "gain_over_passthrough": round(stream["gain"]["cpu_s"] / base_stream, 1)
                if base_stream
                else None,
            }
        )
    )
    return 0


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}×"


if __name__ == "__main__":
    raise SystemExit(main())
