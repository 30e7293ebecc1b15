"""simcord's voice server: voice gateway endpoints (v8 over TLS), one UDP socket, and what they saw.

The flow is Discord's (docs/discord-notes.md, 'The voice handshake'): the main gateway hands the bot an
endpoint and a token (VOICE_SERVER_UPDATE, through `World.voice_endpoint`); the bot opens
`wss://{endpoint}/?v=8`, IDENTIFYs, gets HELLO and READY (SSRC, UDP address, encryption modes), does IP
discovery over UDP, SELECTs a mode, gets SESSION_DESCRIPTION (secret key, DAVE version 0) and streams
RTP. Every packet is decrypted and recorded per guild.

    voice = VoiceServer(world)
    endpoint = await voice.start()
    world.voice_endpoint = voice.endpoint_for
    ...  # the client trusts voice.ca_file (see simcord.tls)
    voice.audio_seconds(guild.id), voice.pacing(guild.id), await voice.pcm(guild.id)
    await voice.crash(guild.id); await voice.move(guild.id); await voice.kick(guild.id)

The websocket protocol lives in `simcord.voice_gateway`, the UDP side in `simcord.voice_udp`, the
analysis of recorded packets in `simcord.audio`.
"""

from __future__ import annotations

import asyncio
import socket
from array import array
from typing import TYPE_CHECKING

from aiohttp import web

from simcord import audio
from simcord.tls import ThrowawayCA
from simcord.voice_gateway import (
    HOST,
    SpeakingEvent,
    VoiceConnection,
    VoiceFrame,
    VoiceGateway,
    VoiceSession,
)
from simcord.voice_udp import RejectedPacket, UdpReceiver, VoicePacket, VoiceUdp

if TYPE_CHECKING:
    from simcord.world import World

__all__ = [
    "RejectedPacket",
    "SpeakingEvent",
    "VoiceConnection",
    "VoiceFrame",
    "VoicePacket",
    "VoiceServer",
    "VoiceSession",
]


class VoiceServer:
    """Voice gateway endpoints (TLS websockets, one per simulated voice server) plus one UDP socket."""

    def __init__(self, world: World, *, heartbeat_interval_ms: int = 13_750) -> None:
        self.world = world
        self.gateway = VoiceGateway(world, heartbeat_interval_ms=heartbeat_interval_ms)
        self.endpoint = ""
        self.rejected: list[RejectedPacket] = []
        self._packets: dict[int, list[VoicePacket]] = {}
        self._guild_endpoints: dict[int, str] = {}
        self._ca: ThrowawayCA | None = None
        self._runner: web.AppRunner | None = None
        self._udp: UdpReceiver | None = None

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> str:
        """Start the UDP socket and the first endpoint; returns the endpoint ("127.0.0.1:port")."""
        self._ca = ThrowawayCA()
        self._udp = UdpReceiver(HOST)
        self._udp.start(
            VoiceUdp(self.gateway.peers.get, self._record_packet, self._record_reject, self._udp.send)
        )
        self.gateway.udp_port = self._udp.port
        app = web.Application()
        app.router.add_get("/", self.gateway.handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        self.endpoint = await self.add_endpoint()
        return self.endpoint

    async def add_endpoint(self) -> str:
        """Another voice server address sharing sessions and the UDP socket, e.g. to move a guild to."""
        if self._runner is None or self._ca is None:
            raise RuntimeError("start() the voice server first")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((HOST, 0))
        site = web.SockSite(self._runner, sock, ssl_context=self._ca.server_context())
        await site.start()
        return f"{HOST}:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        for conn in self.gateway.live():
            await self.gateway.close(conn, 1001, "simcord stopping")
        self.gateway.cancel_tasks()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._udp is not None:
            await self._udp.close()
            self._udp = None
        if self._ca is not None:
            self._ca.cleanup()

    async def __aenter__(self) -> VoiceServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def ca_file(self) -> str:
        """PEM file of the CA that signed every endpoint's certificate (exists once started)."""
        if self._ca is None:
            raise RuntimeError("the voice server is not started")
        return self._ca.ca_file

    @property
    def udp_port(self) -> int:
        return self.gateway.udp_port

    @property
    def heartbeat_interval_ms(self) -> int:
        return self.gateway.heartbeat_interval_ms

    @heartbeat_interval_ms.setter
    def heartbeat_interval_ms(self, value: int) -> None:
        self.gateway.heartbeat_interval_ms = value

    # ---------------------------------------------------------------- hooks for the world

    def endpoint_for(self, guild_id: int, user_id: int) -> str | None:
        """For `World.voice_endpoint`: the voice server a guild's calls live on."""
        return self._guild_endpoints.get(guild_id, self.endpoint) or None

    def issue_token(self, guild_id: int, user_id: int) -> str:
        """For the world's VOICE_SERVER_UPDATE: a token IDENTIFY and RESUME will be checked against.

        Once the world takes its tokens from here, only the latest token per (guild, user) is
        accepted; before that, any token from a user whose voice state and session id match.
        """
        return self.gateway.issue_token(guild_id, user_id, from_world=True)

    # ---------------------------------------------------------------- observations

    def packets(self, guild_id: int, *, since: float | None = None) -> list[VoicePacket]:
        """Every decrypted packet for a guild in arrival order (`since`: a time.monotonic() value)."""
        packets = self._packets.get(guild_id, [])
        return [p for p in packets if p.at >= since] if since is not None else list(packets)

    def streams(self, guild_id: int, *, since: float | None = None) -> list[audio.Stream]:
        """The guild's packets grouped by SSRC (a new one after every IDENTIFY, e.g. after a move)."""
        return audio.group_streams(self.packets(guild_id, since=since))

    def audio_seconds(self, guild_id: int, ssrc: int | None = None, *, since: float | None = None) -> float:
        """Seconds of real audio (silence frames and Ogg headers excluded)."""
        return audio.audio_seconds(
            p for p in self.packets(guild_id, since=since) if ssrc is None or p.ssrc == ssrc
        )

    def pacing(self, guild_id: int, *, since: float | None = None) -> audio.Pacing:
        """Lateness of audio frames against a 20 ms grid (p50/p99/max) and gaps over 60 ms."""
        return audio.pacing(self.packets(guild_id, since=since))

    async def pcm(self, guild_id: int, ssrc: int | None = None, *, since: float | None = None) -> array[int]:
        """What a listener heard, as 48 kHz mono s16 samples (FFmpeg runs in a worker thread)."""
        packets = [p for p in self.packets(guild_id, since=since) if ssrc is None or p.ssrc == ssrc]
        return await asyncio.to_thread(audio.decode_pcm, packets)

    def speaking(self, guild_id: int) -> list[SpeakingEvent]:
        return [s for s in self.gateway.speaking if s.guild_id == guild_id]

    @property
    def frames(self) -> list[VoiceFrame]:
        """Every voice websocket message, both directions, all guilds."""
        return self.gateway.frames

    def connections(self, guild_id: int | None = None) -> list[VoiceConnection]:
        """Every voice websocket in the order it opened, live or closed (endpoint, close code...)."""
        return [c for c in self.gateway.connections if guild_id is None or c.guild_id == guild_id]

    def closes(self, guild_id: int | None = None) -> list[VoiceConnection]:
        """Closed connections in the order they closed, with code, reason and initiator."""
        closed = [c for c in self.connections(guild_id) if c.closed]
        return sorted(closed, key=lambda c: c.closed_at or 0.0)

    def live(self, guild_id: int | None = None) -> list[VoiceConnection]:
        return self.gateway.live(guild_id)

    def session(self, guild_id: int, user_id: int) -> VoiceSession | None:
        return self.gateway.sessions.get((guild_id, user_id))

    # ---------------------------------------------------------------- faults

    async def crash(self, guild_id: int) -> None:
        """The voice server crashed: close with 4015; sessions stay resumable and UDP keeps flowing."""
        for conn in self.gateway.live(guild_id):
            await self.gateway.close(conn, 4015, "voice server crashed")

    async def move(self, guild_id: int, endpoint: str | None = None) -> str:
        """Move the guild's calls to another voice server (a new one unless `endpoint` is given).

        Each user with a voice session gets a VOICE_SERVER_UPDATE with the endpoint and a new token;
        discord.py then closes its old voice socket itself (4014) and IDENTIFYs on the new one.
        """
        sessions = [s for s in self.gateway.sessions.values() if s.guild_id == guild_id]
        if not sessions:
            raise LookupError(f"no voice session in guild {guild_id}")
        target = endpoint or await self.add_endpoint()
        self._guild_endpoints[guild_id] = target
        for session in sessions:
            token = self.gateway.issue_token(guild_id, session.user_id)
            data = {"token": token, "guild_id": str(guild_id), "endpoint": target}
            self.world.dispatch("VOICE_SERVER_UPDATE", data, guild_id=guild_id, to_user=session.user_id)
        return target

    async def kick(self, guild_id: int, user_id: int | None = None) -> None:
        """An admin disconnects the bot: VOICE_STATE_UPDATE with no channel, then close 4014.

        discord.py copes with either order of the two (`voice_state.py` `_poll_voice_ws`); this is
        the order Discord uses, so the client knows it was removed when the socket closes.
        """
        guild = self.world.guilds[guild_id]
        for (gid, uid), session in list(self.gateway.sessions.items()):
            if gid != guild_id or (user_id is not None and uid != user_id):
                continue
            if uid in guild.voice_states:
                self.world.set_voice_state(guild, self.world.users[uid], None)
            self.gateway.forget(session)
            if session.connection is not None:
                await self.gateway.close(session.connection, 4014, "disconnected")

    async def close(self, guild_id: int, code: int, reason: str = "closed by simcord") -> None:
        """Close the guild's voice websockets with any code (docs/discord-notes.md, 'Voice close codes', says
        what discord.py does with each)."""
        for conn in self.gateway.live(guild_id):
            await self.gateway.close(conn, code, reason)

    # ---------------------------------------------------------------- recording

    def _record_packet(self, packet: VoicePacket) -> None:
        self._packets.setdefault(packet.guild_id, []).append(packet)
        self.world.changed()

    def _record_reject(self, rejected: RejectedPacket) -> None:
        self.rejected.append(rejected)
        self.world.changed()
