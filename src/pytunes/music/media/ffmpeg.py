"""FFmpeg: which binary, the argument set it runs with, and discord.py audio sources.

Choices, and why:

- Output always goes through discord.py's `FFmpegOpusAudio`, which muxes Ogg/Opus, so discord.py never
  needs libopus. An Opus source played at unity gain is copied (`codec="copy"`, about 30x less CPU than
  re-encoding); anything else is re-encoded once with a static gain (`-af volume=`) at 128 kb/s
  (`bitrate=128` explicitly: discord.py's probe would pick 512).
- Input restrictions (`-protocol_whitelist`, `-format_whitelist`) are set for every input. Remote inputs
  may use `http,https,tls,tcp`: https is https→tls→tcp in FFmpeg. `crypto` is left out because only HLS
  uses it, and HLS is refused (with DASH) both here (the demuxer whitelist) and in yt-dlp's format choice,
  since a manifest makes FFmpeg fetch further URLs the bot never checked. That costs only livestreams,
  which are refused anyway. Local files get `file` and nothing else.
- `-max_redirects 0` (when the binary has the option; detected once, the bundled n9.0.2 has it): the URL
  handed to FFmpeg is already the final, checked one, so any redirect now would be an unchecked one.
- Nothing from a user reaches the argument list: the URL is re-checked and rebuilt by `safety.parse_url`,
  headers are filtered, gain and offset are numbers formatted here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import discord

from pytunes.music.media.errors import ResolveTimeoutError, UnsafeUrlError, UnsupportedSourceError
from pytunes.music.media.results import ResolvedMedia
from pytunes.music.media.safety import parse_url

REMOTE_PROTOCOLS = "http,https,tls,tcp"
LOCAL_PROTOCOLS = "file"
# Demuxers for the containers audio comes in; everything else (hls, dash, concat, image2, lavfi...) is
# refused even if a server lies about its content.
DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,ogg,mp3,aac,flac,wav"
BITRATE_KBPS = 128
MAX_GAIN = 8.0
# Headers FFmpeg manages itself (Range is how it seeks and reconnects) or that must not be replayed.
_SKIPPED_HEADERS = frozenset(
    {"range", "content-length", "transfer-encoding", "connection", "accept-encoding"}
)
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
_PROBE_AUDIO = re.compile(r"Stream #\d+:\d+\S*: Audio: ([A-Za-z0-9_]+)")
_PROBE_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")

AudioInput = ResolvedMedia | Path


@functools.cache
def ffmpeg_path(override: str | None = None) -> str:
    """The configured binary, else `ffmpeg` on PATH, else the one shipped in the imageio-ffmpeg wheel."""
    if override:
        return override
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.cache
def supports_max_redirects(executable: str) -> bool:
    """Whether this FFmpeg's http protocol has `-max_redirects` (recent builds only; an unknown option
    would make FFmpeg refuse to start)."""
    try:
        shown = subprocess.run(
            [executable, "-hide_banner", "-h", "protocol=http"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "max_redirects" in shown.stdout


async def prepare_ffmpeg(override: str | None = None) -> str:
    """Find the binary and its capabilities off the event loop (call once at startup)."""
    executable = await asyncio.to_thread(ffmpeg_path, override)
    await asyncio.to_thread(supports_max_redirects, executable)
    return executable


@dataclass(frozen=True, slots=True)
class FFmpegPlan:
    source: str  # what follows -i
    before_options: tuple[str, ...]  # input options
    options: tuple[str, ...]  # output options, after discord.py's own
    codec: str  # "copy" or "libopus"
    bitrate: int = BITRATE_KBPS


def clean_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """yt-dlp's request headers without those that could inject a line or that the client manages."""
    kept = {}
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or name.lower() in _SKIPPED_HEADERS:
            continue
        if any(ch in value for ch in "\r\n\0") or len(value) > 4096:
            continue
        kept[name] = value
    return kept


def header_block(headers: Mapping[str, str]) -> str:
    """yt-dlp's request headers as one `-headers` value; anything that could inject a line is dropped."""
    return "".join(f"{name}: {value}\r\n" for name, value in clean_headers(headers).items())


def is_opus(codec: str | None) -> bool:
    return codec is not None and codec.lower() == "opus"


def plan_audio(
    media: AudioInput,
    *,
    gain: float = 1.0,
    start_at: float = 0.0,
    acodec: str | None = None,
    library_root: Path | None = None,
    block_redirects: bool = True,
) -> FFmpegPlan:
    """The FFmpeg arguments for `media` (pure; `build_audio_source` runs them)."""
    if not (math.isfinite(gain) and 0.0 <= gain <= MAX_GAIN):
        raise ValueError(f"gain must be between 0 and {MAX_GAIN}")
    if not (math.isfinite(start_at) and start_at >= 0.0):
        raise ValueError("start_at must be a non-negative number of seconds")
    before = ["-hide_banner", "-nostdin"]
    if isinstance(media, Path):
        source = f"file:{_confined(media, library_root)}"
        before += ["-protocol_whitelist", LOCAL_PROTOCOLS, "-format_whitelist", DEMUXERS]
        codec_name = acodec
    else:
        if media.is_live or not media.stream_url:
            raise UnsupportedSourceError("Livestreams can't be played.")
        source = parse_url(media.stream_url).url
        before += ["-protocol_whitelist", REMOTE_PROTOCOLS, "-format_whitelist", DEMUXERS]
        # Resume a stream cut by the server (CDNs drop long-lived connections) instead of ending the track.
        before += ["-reconnect", "1", "-reconnect_streamed", "1", "-reconnect_delay_max", "5"]
        if block_redirects:
            before += ["-max_redirects", "0"]
        headers = header_block(media.http_headers)
        if headers:
            before += ["-headers", headers]
        codec_name = acodec or media.acodec
    if start_at > 0:
        # Input seeking: fast, and keeps stream copy possible (every Opus packet is a sync point).
        before += ["-ss", f"{start_at:.3f}"]
    copy = is_opus(codec_name) and gain == 1.0
    # One Ogg page per 20 ms packet: the muxer's default second-long pages would hold the first audio back
    # until a whole second of it was encoded (about 40 ms more before the first sound when re-encoding).
    options = ["-map", "0:a:0", "-vn", "-sn", "-dn", "-loglevel", "error", "-page_duration", "20000"]
    if gain != 1.0:
        options += ["-af", f"volume={gain:.6f}"]
    return FFmpegPlan(source, tuple(before), tuple(options), "copy" if copy else "libopus")


def build_audio_source(
    media: AudioInput,
    *,
    gain: float = 1.0,
    start_at: float = 0.0,
    acodec: str | None = None,
    library_root: Path | None = None,
    executable: str | None = None,
) -> discord.FFmpegOpusAudio:
    """Start FFmpeg for `media`; `gain` is linear (1.0 = unchanged). Spawns the process right away."""
    exe = executable or ffmpeg_path()
    plan = plan_audio(
        media,
        gain=gain,
        start_at=start_at,
        acodec=acodec,
        library_root=library_root,
        block_redirects=supports_max_redirects(exe),
    )
    return discord.FFmpegOpusAudio(
        plan.source,
        executable=exe,
        # discord.py reads codec="libopus" (like "opus") as "the source is Opus already" and copies;
        # None is what makes it encode with libopus.
        codec="copy" if plan.codec == "copy" else None,
        bitrate=plan.bitrate,
        before_options=shlex.join(plan.before_options),
        options=shlex.join(plan.options),
    )


async def run_for_report(
    command: Sequence[str], *, timeout: float, too_slow: str, niceness: int | None = None
) -> tuple[int, str]:
    """Run an FFmpeg `command` whose only output is its report on stderr: (exit code, report).

    Raises `ResolveTimeoutError(too_slow)` when it takes longer than `timeout`, and never leaves the
    process behind. `niceness` lowers its CPU priority where the system allows it.
    """
    process = await asyncio.create_subprocess_exec(
        *command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if niceness is not None:
        with contextlib.suppress(OSError):  # already gone, or not allowed: it just runs at normal priority
            os.setpriority(os.PRIO_PROCESS, process.pid, niceness)
    try:
        async with asyncio.timeout(timeout):
            _, report = await process.communicate()
    except TimeoutError:
        raise ResolveTimeoutError(too_slow) from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, report.decode(errors="replace")


async def probe_codec(
    media: AudioInput,
    *,
    executable: str | None = None,
    library_root: Path | None = None,
    timeout: float = 10.0,
) -> tuple[str | None, float | None]:
    """(audio codec, duration in seconds) of `media`, read from `ffmpeg -i`'s report.

    discord.py's `FFmpegOpusAudio.probe(method="fallback")` would also work without ffprobe (which the
    imageio-ffmpeg wheel lacks), but it gives no duration and opens the input without any whitelist.
    """
    exe = executable or ffmpeg_path()
    plan = plan_audio(media, library_root=library_root, block_redirects=supports_max_redirects(exe))
    _, report = await run_for_report(
        [exe, *plan.before_options, "-i", plan.source],
        timeout=timeout,
        too_slow="Reading that media took too long.",
    )
    codec = _PROBE_AUDIO.search(report)
    if codec is None:
        raise UnsupportedSourceError("That file has no audio the bot can read.", detail=report[-500:])
    duration = _PROBE_DURATION.search(report)
    seconds = None
    if duration is not None:
        hours, minutes, secs = duration.groups()
        seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs) or None
    return codec.group(1), seconds


def _confined(path: Path, root: Path | None) -> Path:
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise UnsupportedSourceError("That file doesn't exist anymore.") from None
    if root is not None and not resolved.is_relative_to(root.resolve()):
        raise UnsafeUrlError("That file is outside the library folder.")
    if not resolved.is_file():
        raise UnsupportedSourceError("That is not a file.")
    return resolved
