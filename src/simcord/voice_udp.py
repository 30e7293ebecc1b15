"""simcord's voice UDP socket: IP discovery, then every RTP packet decrypted and recorded.

Packet formats are in docs/discord-notes.md, 'The voice handshake' and 'Audio packets'. Only the
transport encryption mode simcord offers, `aead_xchacha20_poly1305_rtpsize`, is decrypted: the RTP header
(12 bytes, plus CSRCs and the 4-byte extension preamble when present) is the AEAD's associated data, the
last 4 bytes of the datagram are the nonce counter, zero-padded to XChaCha20's 24 bytes.

A thread reads the socket and stamps each datagram as it arrives; the event loop handles them in
batches. A real voice server's socket is drained whatever the bot's machine is doing; sharing the bot's
event loop (tests run both in one process) would let a busy moment overflow the socket's buffer, drop
packets (IP discovery among them) and delay the arrival times the pacing measurements read.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.secret

SILENCE_FRAME = b"\xf8\xff\xfe"
# discord.py's FFmpegOpusAudio forwards every Ogg packet as a voice frame, the Ogg Opus identification
# and comment headers included; they are recorded, but they are not audio.
CONTAINER_MAGICS = (b"OpusHead", b"OpusTags")
DISCOVERY = struct.Struct(">HHI64sH")  # type, length (70), SSRC, address, port: 74 bytes
DISCOVERY_REQUEST, DISCOVERY_RESPONSE = 1, 2
NONCE_BYTES = 4
TAG_BYTES = 16
RTCP_TYPES = range(200, 205)  # sender/receiver report, SDES, BYE, APP share RTP's first byte layout

Address = tuple[str, int]


@dataclass(frozen=True)
class VoicePacket:
    """One decrypted RTP packet as simcord received it."""

    at: float  # time.monotonic() on arrival
    guild_id: int
    user_id: int
    ssrc: int
    seq: int
    timestamp: int
    opus: bytes
    silence: bool  # the F8 FF FE frame clients send before they stop talking
    container: bool  # OpusHead / OpusTags forwarded from an Ogg stream, not an audio frame

    @property
    def audio(self) -> bool:
        return not self.silence and not self.container


@dataclass(frozen=True)
class RejectedPacket:
    """A datagram simcord could not attribute or decrypt; a correct client produces none."""

    at: float
    address: Address
    ssrc: int | None
    size: int
    reason: str


@dataclass(eq=False)
class UdpPeer:
    """What the UDP side knows about one voice session: set up by the voice websocket."""

    guild_id: int
    user_id: int
    ssrc: int
    key: bytes | None = None  # set when SESSION_DESCRIPTION goes out
    address: Address | None = None  # learnt from IP discovery
    _box: Any = None

    def set_key(self, key: bytes) -> None:
        self.key = key
        self._box = nacl.secret.Aead(key)

    def decrypt(self, ciphertext: bytes, header: bytes, nonce: bytes) -> bytes:
        return bytes(self._box.decrypt(ciphertext, header, nonce))


def rtp_header_length(data: bytes) -> tuple[int, int]:
    """(unencrypted header length, extension body length) of an RTP packet under an rtpsize mode."""
    first = data[0]
    if first >> 6 != 2:
        raise ValueError("not RTP version 2")
    length = 12 + 4 * (first & 0x0F)  # fixed header + CSRCs
    extension = 0
    if first & 0x10:
        # rtpsize modes leave the 4-byte extension preamble in the clear and encrypt its body.
        (words,) = struct.unpack_from(">H", data, length + 2)
        length += 4
        extension = 4 * words
    return length, extension


class VoiceUdp:
    """What the socket every voice session's READY points at does with each datagram."""

    def __init__(
        self,
        peer_for_ssrc: Callable[[int], UdpPeer | None],
        on_packet: Callable[[VoicePacket], None],
        on_reject: Callable[[RejectedPacket], None],
        send: Callable[[bytes, Address], None],
    ) -> None:
        self._peer_for_ssrc = peer_for_ssrc
        self._on_packet = on_packet
        self._on_reject = on_reject
        self._send = send

    def datagram_received(self, data: bytes, addr: Address, now: float) -> None:
        if len(data) == DISCOVERY.size and data[:2] == DISCOVERY_REQUEST.to_bytes(2, "big"):
            self._discover(now, data, addr)
        elif len(data) >= 12 and data[1] in RTCP_TYPES:
            self._reject(now, addr, None, data, "RTCP is not recorded")
        else:
            self._rtp(now, data, addr)

    def _discover(self, now: float, data: bytes, addr: Address) -> None:
        _, _, ssrc, _, _ = DISCOVERY.unpack(data)
        peer = self._peer_for_ssrc(ssrc)
        if peer is None:
            self._reject(now, addr, ssrc, data, "IP discovery for an unknown SSRC")
            return
        peer.address = addr
        self._send(DISCOVERY.pack(DISCOVERY_RESPONSE, 70, ssrc, addr[0].encode("ascii"), addr[1]), addr)

    def _rtp(self, now: float, data: bytes, addr: Address) -> None:
        try:
            header_length, extension = rtp_header_length(data)
            seq, timestamp, ssrc = struct.unpack_from(">HII", data, 2)
        except (ValueError, struct.error, IndexError):
            self._reject(now, addr, None, data, "not an RTP packet")
            return
        if len(data) < header_length + TAG_BYTES + NONCE_BYTES:
            self._reject(now, addr, ssrc, data, "too short for header, tag and nonce")
            return
        peer = self._peer_for_ssrc(ssrc)
        if peer is None or peer.key is None:
            self._reject(now, addr, ssrc, data, "no session description for this SSRC")
            return
        nonce = data[-NONCE_BYTES:] + bytes(24 - NONCE_BYTES)
        try:
            plain = peer.decrypt(data[header_length:-NONCE_BYTES], data[:header_length], nonce)
        except nacl.exceptions.CryptoError:
            self._reject(now, addr, ssrc, data, "decryption failed")
            return
        opus = plain[extension:]
        self._on_packet(
            VoicePacket(
                at=now,
                guild_id=peer.guild_id,
                user_id=peer.user_id,
                ssrc=ssrc,
                seq=seq,
                timestamp=timestamp,
                opus=opus,
                silence=opus == SILENCE_FRAME,
                container=opus.startswith(CONTAINER_MAGICS),
            )
        )

    def _reject(self, now: float, addr: Address, ssrc: int | None, data: bytes, reason: str) -> None:
        self._on_reject(RejectedPacket(now, addr, ssrc, len(data), reason))


class UdpReceiver:
    """The voice UDP socket, read by its own thread; datagrams reach `handler` on the event loop."""

    POLL_SECONDS = 0.2  # how soon the reading thread notices `close()`

    def __init__(self, host: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(self.POLL_SECONDS)
        self.port = int(self.sock.getsockname()[1])
        self._pending: list[tuple[float, bytes, Address]] = []
        self._lock = threading.Lock()
        self._scheduled = False
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._handler: VoiceUdp | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def send(self, data: bytes, addr: Address) -> None:
        # The peer's socket may be gone: UDP loses the datagram, as the network would.
        with contextlib.suppress(OSError):
            self.sock.sendto(data, addr)

    def start(self, handler: VoiceUdp) -> None:
        self._handler = handler
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._read, name=f"simcord-voice-udp:{self.port}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._closed.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            arrived = time.monotonic()
            with self._lock:
                self._pending.append((arrived, data, addr))
                if self._scheduled:
                    continue
                self._scheduled = True
            assert self._loop is not None
            try:
                self._loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:
                return  # the loop closed under us

    def _deliver(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            self._scheduled = False
        if self._handler is None or self._closed.is_set():
            return
        for arrived, data, addr in batch:
            self._handler.datagram_received(data, addr, arrived)

    async def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        self.sock.close()
