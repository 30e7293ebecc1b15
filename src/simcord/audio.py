"""What recorded voice packets say: streams, seconds of audio, pacing, decoded PCM and its pitch.

Everything here is pure functions over `VoicePacket`s so it can be used on any slice of a recording
(say, the packets after a fault). Decoding goes through FFmpeg: the Opus frames are wrapped in a
minimal Ogg Opus stream (RFC 3533 pages, RFC 7845 headers) and FFmpeg turns it into 48 kHz mono s16le.
numpy is not a dependency, so the pitch estimate is a zero-crossing count or a Goertzel filter.
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from simcord.voice_udp import VoicePacket

SAMPLE_RATE = 48_000
FRAME_SECONDS = 0.020
GAP_SECONDS = 0.060


def opus_samples(packet: bytes) -> int:
    """Samples per channel (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 §3.1)."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:  # SILK: 10, 20, 40, 60 ms
        size = (480, 960, 1920, 2880)[config % 4]
    elif config < 16:  # hybrid: 10, 20 ms
        size = (480, 960)[config % 2]
    else:  # CELT: 2.5, 5, 10, 20 ms
        size = (120, 240, 480, 960)[config % 4]
    code = toc & 0x03
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        frames = packet[1] & 0x3F if len(packet) > 1 else 0
    return size * frames


def audio_seconds(packets: Iterable[VoicePacket]) -> float:
    """Seconds of real audio: silence frames and Ogg headers do not count."""
    return sum(opus_samples(p.opus) for p in packets if p.audio) / SAMPLE_RATE


# ---------------------------------------------------------------- streams


@dataclass(frozen=True)
class Stream:
    """The packets of one SSRC, in arrival order."""

    ssrc: int
    user_id: int
    packets: list[VoicePacket]

    @property
    def audio_frames(self) -> list[VoicePacket]:
        return [p for p in self.packets if p.audio]

    @property
    def seconds(self) -> float:
        return audio_seconds(self.packets)

    def sequence_breaks(self) -> list[tuple[int, int]]:
        """(previous, next) RTP sequence numbers wherever next is not previous + 1 (mod 2^16)."""
        return [
            (a.seq, b.seq)
            for a, b in zip(self.packets, self.packets[1:], strict=False)
            if b.seq != (a.seq + 1) & 0xFFFF
        ]

    @property
    def contiguous(self) -> bool:
        return not self.sequence_breaks()


def group_streams(packets: Iterable[VoicePacket]) -> list[Stream]:
    by_ssrc: dict[int, list[VoicePacket]] = {}
    for packet in packets:
        by_ssrc.setdefault(packet.ssrc, []).append(packet)
    return [Stream(ssrc, group[0].user_id, group) for ssrc, group in by_ssrc.items()]


# ---------------------------------------------------------------- pacing


@dataclass(frozen=True)
class Gap:
    at: float  # arrival time of the frame after the gap
    seconds: float


@dataclass(frozen=True)
class Pacing:
    """How audio frames arrived against a 20 ms grid; lateness in seconds."""

    frames: int
    p50: float
    p99: float
    max: float
    mean_interval: float
    gaps: list[Gap] = field(default_factory=list)


def _percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def pacing(
    packets: Iterable[VoicePacket], *, frame: float = FRAME_SECONDS, gap: float = GAP_SECONDS
) -> Pacing:
    """Lateness of each audio frame against an ideal grid, per speaker, restarting after every gap.

    The grid is anchored so the earliest frame of a run is on time: a sender that sleeps to a
    schedule is never early, so anything above the anchor is delay the listener would hear. Silence
    frames are left out because clients send them in a burst when they stop.
    """
    by_user: dict[int, list[VoicePacket]] = {}
    for packet in packets:
        if packet.audio:
            by_user.setdefault(packet.user_id, []).append(packet)
    lateness: list[float] = []
    intervals: list[float] = []
    gaps: list[Gap] = []
    for frames in by_user.values():
        run: list[float] = []
        for previous, current in zip([None, *frames], frames, strict=False):
            if previous is not None:
                interval = current.at - previous.at
                intervals.append(interval)
                if interval > gap:
                    gaps.append(Gap(current.at, interval))
                    lateness.extend(_run_lateness(run, frame))
                    run = []
            run.append(current.at)
        lateness.extend(_run_lateness(run, frame))
    return Pacing(
        frames=len(lateness),
        p50=_percentile(lateness, 0.50),
        p99=_percentile(lateness, 0.99),
        max=max(lateness, default=0.0),
        mean_interval=sum(intervals) / len(intervals) if intervals else 0.0,
        gaps=sorted(gaps, key=lambda g: g.at),
    )


def _run_lateness(arrivals: list[float], frame: float) -> list[float]:
    offsets = [at - i * frame for i, at in enumerate(arrivals)]
    anchor = min(offsets, default=0.0)
    return [offset - anchor for offset in offsets]


# ---------------------------------------------------------------- Ogg Opus


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_CRC_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    """Ogg's CRC32: polynomial 0x04C11DB7, no reflection, zero initial value and final XOR."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[(crc >> 24) ^ byte]
    return crc


_PAGE = struct.Struct("<4sBBqIIIB")
BOS, EOS = 0x02, 0x04


def _page(packets: list[bytes], *, granule: int, serial: int, number: int, flags: int) -> bytes:
    lacing = bytearray()
    for packet in packets:
        # A packet is split into 255-byte segments; a shorter (possibly empty) one ends it.
        lacing.extend(b"\xff" * (len(packet) // 255))
        lacing.append(len(packet) % 255)
    body = b"".join(packets)
    header = _PAGE.pack(b"OggS", 0, flags, granule, serial, number, 0, len(lacing)) + bytes(lacing)
    crc = ogg_crc(header + body)
    return header[:22] + struct.pack("<I", crc) + header[26:] + body


def ogg_opus(frames: Sequence[bytes], *, channels: int = 2, serial: int = 0x53494D43) -> bytes:
    """Wrap Opus frames in an Ogg Opus stream FFmpeg (or any player) can decode.

    Pre-skip is 0 so decoded sample n is 20 ms × (n / 960) after the first frame: tests can find a
    tone's position in time without undoing an encoder delay.
    """
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, channels, 0, SAMPLE_RATE, 0, 0)
    vendor = b"simcord"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages = [
        _page([head], granule=0, serial=serial, number=0, flags=BOS),
        _page([tags], granule=0, serial=serial, number=1, flags=0 if frames else EOS),
    ]
    granule = 0
    batch: list[bytes] = []
    segments = 0
    for index, frame in enumerate(frames):
        need = len(frame) // 255 + 1
        if batch and segments + need > 255:
            pages.append(_page(batch, granule=granule, serial=serial, number=len(pages), flags=0))
            batch, segments = [], 0
        batch.append(frame)
        segments += need
        granule += opus_samples(frame)
        if index == len(frames) - 1:
            pages.append(_page(batch, granule=granule, serial=serial, number=len(pages), flags=EOS))
    return b"".join(pages)


def ffmpeg_executable() -> str:
    import imageio_ffmpeg  # imported here: only decoding needs it, and it looks for a binary on import

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def decode_pcm(packets: Iterable[VoicePacket], *, ffmpeg: str | None = None) -> array[int]:
    """Decode the audio and silence frames to 48 kHz mono signed 16-bit samples (blocking)."""
    frames = [p.opus for p in packets if not p.container]
    if not frames:
        return array("h")
    command = [ffmpeg or ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-f", "ogg"]
    command += ["-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"]
    result = subprocess.run(command, input=ogg_opus(frames), capture_output=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg could not decode the recording: {result.stderr.decode(errors='replace')}")
    samples = array("h")
    samples.frombytes(result.stdout[: len(result.stdout) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


# ---------------------------------------------------------------- pitch


def rms(samples: Sequence[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def goertzel_power(samples: Sequence[int], frequency: float, rate: int = SAMPLE_RATE) -> float:
    """Energy of `samples` at one frequency, without computing a whole spectrum."""
    coeff = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for sample in samples:
        s1, s2 = sample + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def dominant_frequency(
    samples: Sequence[int], rate: int = SAMPLE_RATE, candidates: Iterable[float] | None = None
) -> float:
    """The pitch of a (near-)pure tone in Hz; 0.0 for silence.

    With `candidates`, the candidate carrying the most energy (Goertzel). Without, the rate of rising
    zero crossings, interpolated between samples, with hysteresis so codec noise near zero does not
    count twice.
    """
    if candidates is not None:
        return max(candidates, key=lambda f: goertzel_power(samples, f, rate))
    level = rms(samples)
    if level < 50:
        return 0.0
    threshold = 0.3 * level
    armed = False
    first = last = -1.0
    crossings = 0
    previous = samples[0]
    for index, sample in enumerate(samples):
        if sample < -threshold:
            armed = True
        elif armed and previous < 0 <= sample:
            at = index - 1 + (-previous) / (sample - previous)
            if crossings == 0:
                first = at
            last = at
            crossings += 1
            armed = False
        previous = sample
    if crossings < 2:
        return 0.0
    return (crossings - 1) * rate / (last - first)


def pitch_track(
    samples: Sequence[int], rate: int = SAMPLE_RATE, *, window: float = 0.1, floor: float = 50.0
) -> list[tuple[float, float]]:
    """(start second, dominant frequency) for every window louder than `floor` RMS."""
    size = max(1, int(rate * window))
    track = []
    for start in range(0, len(samples) - size + 1, size):
        chunk = samples[start : start + size]
        if rms(chunk) >= floor:
            track.append((start / rate, dominant_frequency(chunk, rate)))
    return track
