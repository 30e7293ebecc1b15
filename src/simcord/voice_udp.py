"""simcord's voice UDP socket: IP discovery, then every RTP packet decrypted and recorded.

Packet formats are in docs/discord-notes.md, 'The voice handshake' and 'Audio packets'. Only the
transport encryption mode simcord offers, `aead_xchacha20_poly1305_rtpsize`, is decrypted: the RTP header
(12 bytes, plus CSRCs and the 4-byte extension preamble when present) is the AEAD's associated data, the
last 4 bytes of the datagram are the nonce counter, zero-padded to XChaCha20's 24 bytes.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

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


class VoiceUdp(asyncio.DatagramProtocol):
    """The datagram endpoint every voice session's READY points at."""

    def __init__(
        self,
        peer_for_ssrc: Callable[[int], UdpPeer | None],
        on_packet: Callable[[VoicePacket], None],
        on_reject: Callable[[RejectedPacket], None],
    ) -> None:
        self._peer_for_ssrc = peer_for_ssrc
        self._on_packet = on_packet
        self._on_reject = on_reject
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Typed as a BaseTransport; asyncio's selector datagram transport does not subclass
        # DatagramTransport, but has its sendto().
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        now = time.monotonic()
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
        reply = DISCOVERY.pack(DISCOVERY_RESPONSE, 70, ssrc, addr[0].encode("ascii"), addr[1])
        if self.transport is not None:
            self.transport.sendto(reply, addr)

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
