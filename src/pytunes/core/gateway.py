"""State-aware gateway sending: presence (op 3), voice state (op 4) and member requests (op 8) never go
out while a shard is identifying or resuming (docs/architecture.md, 'The guarded gateway'; the Discord side
in docs/discord-notes.md, 'The handshake window').

discord.py publishes a socket as soon as IDENTIFY or RESUME is written and nothing waits for READY or
RESUMED, so these payloads can reach Discord mid-handshake and cost a 4003 and the session. This module
is the only place touching discord.py internals for that (pinned by `tests/contract`): it observes
connect/resumed/disconnect (or their shard_* twins) in `dispatch`, hands out a `GuardedSocket` from
`_get_websocket` (the one funnel for every op 4 and op 8 in the library), keeps presence in a
`PresenceKeeper`, and relies on the three senders reaching the transport without suspending, so the last
check and the write are atomic. The rules live in the discord-free `pytunes.core.gateway_model`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, cast

import discord
from discord.gateway import DiscordWebSocket

from pytunes.core.clock import Clock, SystemClock
from pytunes.core.discord_version import check_discord_version
from pytunes.core.gateway_model import (
    PRESENCE,
    REQUEST_MEMBERS,
    VOICE_STATE,
    EffectLedger,
    GatewayModel,
    GatewayUnavailable,
    ReadyKind,
    ShardKey,
    ShardState,
    SocketClosed,
    Verdict,
)
from pytunes.core.presence import PresenceKeeper
from pytunes.core.tasks import TaskOwner

log = logging.getLogger(__name__)

DEFAULT_SEND_TIMEOUT = 60.0
DISCORD_IDENTIFY_DELAY = 5.0  # discord.py's own pause before every re-IDENTIFY
# At most five presence updates a minute per session (Discord's long-standing soft limit for presence),
# which leaves nearly all of the 120-commands-a-minute gateway budget to voice joins and leaves.
PRESENCE_INTERVAL = 12.0

Presence = tuple[discord.BaseActivity | None, discord.Status | None]
VoiceArgs = tuple[int, int | None, bool, bool]  # guild id, channel id (None: leave), self mute, self deaf
ChunkArgs = tuple[int, dict[str, Any]]  # guild id, request_chunks keyword arguments (with the nonce)

# Set while discord.py runs the identify hook: a guarded send from there would wait for the READY that
# only the IDENTIFY after the hook can bring, so it fails at once instead (rule 5).
_IN_IDENTIFY_HOOK: contextvars.ContextVar[bool] = contextvars.ContextVar("in_identify_hook", default=False)


def _presence(activity: discord.BaseActivity | None, status: discord.Status | None) -> Presence:
    # Checked here, as discord.py does, so a bad value fails the caller rather than a background pump.
    if activity is not None and not isinstance(activity, discord.BaseActivity):
        raise TypeError("activity must derive from BaseActivity.")
    return activity, status


def _refuse_in_identify_hook(what: str) -> None:
    if _IN_IDENTIFY_HOOK.get():
        raise GatewayUnavailable(f"{what} from the identify hook would wait for the READY it precedes")


class GatewayGuard:
    """The model wired to one discord.py client: observes its events, probes its sockets, sends for it."""

    def __init__(
        self,
        client: discord.Client,
        *,
        raw_socket: Callable[[ShardKey], DiscordWebSocket | None],
        write_presence: Callable[[ShardKey, Presence], Awaitable[None]],
        send_timeout: float = DEFAULT_SEND_TIMEOUT,
        presence_interval: float = PRESENCE_INTERVAL,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self._sharded = isinstance(client, discord.AutoShardedClient)
        self._raw = raw_socket
        self._write_presence = write_presence
        self.send_timeout = send_timeout
        # Deadlines here are on real network waits, so they run on real time even when the bot's clock
        # is a test's ManualClock.
        self.model = GatewayModel(clock or SystemClock())
        self._tasks = TaskOwner("gateway-guard")
        self.presence: PresenceKeeper[Presence] = PresenceKeeper(
            self.model, self._send_presence, self._spawn, self.all_shards, min_interval=presence_interval
        )
        # Effect once (docs/architecture.md, 'Exactly-once effects'): voice states until their
        # VOICE_STATE_UPDATE, member requests by nonce until discord.py has their last chunk.
        self.voice: EffectLedger[int, VoiceArgs] = EffectLedger(
            self.model, self._send_voice, self._spawn, lifetime=send_timeout, name="voice state"
        )
        self.chunks: EffectLedger[str, ChunkArgs] = EffectLedger(
            self.model,
            self._send_chunks,
            self._spawn,
            lifetime=send_timeout,
            wanted=lambda nonce: nonce in self._live_nonces(),
            name="member request",
        )

    # ---------------------------------------------------------------- shards and sockets

    def all_shards(self) -> Sequence[ShardKey]:
        if not self._sharded:
            return [None]
        count = self._client.shard_count
        if count is None:
            return self.model.shards()  # not launched yet: the keeper also covers shards that appear later
        ids = cast(discord.AutoShardedClient, self._client).shard_ids
        return list(ids) if ids is not None else list(range(count))

    def shard_for(self, guild_id: int | None, shard_id: int | None) -> ShardKey:
        if not self._sharded:
            return None
        if shard_id is not None:
            return shard_id
        count = self._client.shard_count
        if guild_id is None or count is None:
            raise GatewayUnavailable("the shard of this guild is not known before the shards are launched")
        return (guild_id >> 22) % count

    def state(self, shard: ShardKey) -> ShardState:
        self._sync(shard)
        return self.model.state(shard)

    def _sync(self, shard: ShardKey) -> DiscordWebSocket | None:
        """Bring the model up to date with the socket discord.py currently publishes for `shard`."""
        ws = self._raw(shard)
        link = self.model.link(shard)
        if ws is None or not ws.open:
            # Closed before discord.py dispatched its disconnect (which can lag behind other shards'
            # reconnects in the sharded queue): not sendable from this moment.
            if link.socket is not None:
                self.model.closed(shard, link.socket)
        elif ws is not link.socket:
            # discord.py publishes a socket only after its IDENTIFY or RESUME went out; only a resume
            # carries a session id at that point.
            self.model.opened(shard, ws)
            if ws.session_id is None:
                self.model.identifying(shard)
            else:
                self.model.resuming(shard)
        return ws

    def _probe(self, shard: ShardKey, socket: object) -> tuple[Verdict, float]:
        ws = self._sync(shard)
        if ws is None or ws is not socket or not ws.open:
            return Verdict.GONE, 0.0
        limiter = ws._rate_limiter
        if ws.is_ratelimited() or limiter.lock.locked():
            # discord.py would sleep inside send() and then write unchecked; wait out here instead.
            return Verdict.BUSY, min(max(limiter.per - (time.time() - limiter.window), 0.05), 1.0)
        return Verdict.GO, 0.0

    # ---------------------------------------------------------------- events

    def observe(self, event: str, args: tuple[Any, ...]) -> None:
        """Called synchronously from the client's dispatch, before any listener runs."""
        if self._sharded:
            if event == "shard_connect":
                self._ready(args[0], "identify")
            elif event == "shard_resumed":
                self._ready(args[0], "resume")
            elif event == "shard_disconnect":
                self.model.closed(args[0])
        elif event == "connect":
            self._ready(None, "identify")
        elif event == "resumed":
            self._ready(None, "resume")
        elif event == "disconnect":
            self.model.closed(None)
        if event == "voice_state_update":
            self._voice_seen(*args)

    def _ready(self, shard: ShardKey, kind: ReadyKind) -> None:
        ws = self._sync(shard)
        if ws is None or not ws.open:
            log.warning("shard %s: %s on a socket that is already gone", shard, kind)
            return
        self.model.ready(shard, kind)

    # ---------------------------------------------------------------- sending

    async def run(
        self,
        shard: ShardKey,
        op: int,
        sender: Callable[[DiscordWebSocket], Awaitable[None]],
        *,
        timeout: float | None = None,
    ) -> int:
        """Send one payload through discord.py's own sender on `shard`'s current socket once it is ready;
        return the generation it went out on. Raises GatewayUnavailable after `timeout`."""
        _refuse_in_identify_hook(f"op {op}")

        async def write(socket: object) -> None:
            ws = cast(DiscordWebSocket, socket)
            try:
                await sender(ws)
            except (ConnectionResetError, discord.ConnectionClosed) as exc:
                raise SocketClosed(str(exc) or type(exc).__name__) from exc
            if not ws.open:
                # send_as_json swallows a RuntimeError from a closing socket it can reconnect: the
                # payload never left, so go round again.
                raise SocketClosed("the socket closed during the write")

        return await self.model.send(
            shard, op, write, timeout=timeout or self.send_timeout, probe=self._probe
        )

    async def change_presence(self, presence: Presence, shard_id: int | None) -> None:
        _refuse_in_identify_hook("a presence change")
        await self.presence.apply(presence, self._presence_shards(shard_id), timeout=self.send_timeout)

    def want_presence(self, presence: Presence, shard_id: int | None) -> None:
        self.presence.want(presence, self._presence_shards(shard_id))

    def _presence_shards(self, shard_id: int | None) -> list[ShardKey] | None:
        return None if shard_id is None or not self._sharded else [shard_id]

    async def _send_presence(self, shard: ShardKey, current: Callable[[], Presence]) -> int:
        # discord.py's own change_presence for this one shard: same payload and the same update of
        # guild.me's cached status, and it reaches the socket without suspending. `current()` is read
        # right there, so only the latest desired presence goes out.
        return await self.run(shard, PRESENCE, lambda ws: self._write_presence(shard, current()))

    async def voice_state(self, shard: ShardKey, args: VoiceArgs) -> None:
        generation = await self._send_voice(shard, args)
        self.voice.record(args[0], shard, args, generation)  # the latest request per guild wins

    async def _send_voice(self, shard: ShardKey, args: VoiceArgs) -> int:
        return await self.run(shard, VOICE_STATE, lambda ws: ws.voice_state(*args))

    async def request_chunks(self, shard: ShardKey, args: ChunkArgs) -> None:
        generation = await self._send_chunks(shard, args)
        nonce = args[1].get("nonce")
        if nonce:
            self.chunks.record(nonce, shard, args, generation)

    async def _send_chunks(self, shard: ShardKey, args: ChunkArgs) -> int:
        guild_id, options = args
        return await self.run(shard, REQUEST_MEMBERS, lambda ws: ws.request_chunks(guild_id, **options))

    def _voice_seen(self, member: Any, before: Any, after: Any) -> None:
        user = self._client.user
        if user is None or member.id != user.id:
            return
        pending = self.voice.get(member.guild.id)
        channel_id = after.channel.id if after.channel is not None else None
        if pending is not None and pending.payload[1] == channel_id:
            self.voice.confirm(member.guild.id)

    def _live_nonces(self) -> set[str]:
        # discord.py drops a ChunkRequest once its last chunk arrived (or a READY cleared it): a nonce
        # still listed is still awaited by someone; one that is gone needs no re-send.
        requests = self._client._connection._chunk_requests
        return {request.nonce for request in requests.values()}

    # ---------------------------------------------------------------- lifetime

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> object:
        return self._tasks.spawn(coro, name=name)

    async def stop(self) -> None:
        """Fail every waiting send with GatewayStopped and stop the background reconcilers."""
        self.model.stop()
        await self._tasks.close()


class GuardedSocket:
    """What `_get_websocket` hands to discord.py: sends go through the guard on whatever socket is current
    when they are ready; everything else is read from the current socket."""

    def __init__(self, guard: GatewayGuard, guild_id: int | None, shard_id: int | None) -> None:
        self._guard = guard
        self._guild_id = guild_id
        self._shard_id = shard_id

    @property
    def _shard(self) -> ShardKey:
        return self._guard.shard_for(self._guild_id, self._shard_id)

    async def voice_state(
        self, guild_id: int, channel_id: int | None, self_mute: bool = False, self_deaf: bool = False
    ) -> None:
        await self._guard.voice_state(self._shard, (guild_id, channel_id, self_mute, self_deaf))

    async def request_chunks(
        self,
        guild_id: int,
        query: str | None = None,
        *,
        limit: int,
        user_ids: list[int] | None = None,
        presences: bool = False,
        nonce: str | None = None,
    ) -> None:
        options = dict(query=query, limit=limit, user_ids=user_ids, presences=presences, nonce=nonce)
        await self._guard.request_chunks(self._shard, (guild_id, options))

    async def change_presence(
        self, *, activity: discord.BaseActivity | None = None, status: str | None = None, since: float = 0.0
    ) -> None:
        await self._guard.run(
            self._shard,
            PRESENCE,
            lambda ws: ws.change_presence(activity=activity, status=status, since=since),
        )

    def is_ratelimited(self) -> bool:
        ws = self._guard._raw(self._shard)
        return ws.is_ratelimited() if ws is not None else False

    def __getattr__(self, name: str) -> Any:
        ws = self._guard._raw(self._shard)
        if ws is None:
            raise AttributeError(f"shard {self._shard} has no socket yet ({name})")
        return getattr(ws, name)


if TYPE_CHECKING:
    _ClientBase = discord.Client
else:
    _ClientBase = object


class GatewayGuardMixin(_ClientBase):
    """Put before `commands.Bot` / `commands.AutoShardedBot` (or the discord.Client classes) in the bases.

    Constructor options:
    - `identify_delay` (seconds, default 5): the pause before every re-IDENTIFY, discord.py's pacing
      against Discord's identify limit. Production keeps the default; tests against simcord pass 0.
    - `gateway_send_timeout` (seconds, default 60): how long a presence change, voice state update or
      member request may wait for its shard before the caller gets `GatewayUnavailable`.
    - `presence_interval` (seconds, default 12): the least time between two presence writes in a session.
    """

    gateway_guard: GatewayGuard

    def __init__(
        self,
        *,
        identify_delay: float = DISCORD_IDENTIFY_DELAY,
        gateway_send_timeout: float = DEFAULT_SEND_TIMEOUT,
        presence_interval: float = PRESENCE_INTERVAL,
        **options: Any,
    ) -> None:
        check_discord_version()
        self._identify_delay = identify_delay
        # Built before discord.py's __init__ so the guard exists before anything can be dispatched.
        self.gateway_guard = GatewayGuard(
            self,
            raw_socket=self._raw_websocket,
            write_presence=self._write_presence,
            send_timeout=gateway_send_timeout,
            presence_interval=presence_interval,
        )
        super().__init__(**options)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        self.gateway_guard.observe(event_name, args)
        super().dispatch(event_name, *args, **kwargs)

    def _get_websocket(self, guild_id: int | None = None, *, shard_id: int | None = None) -> Any:
        return GuardedSocket(self.gateway_guard, guild_id, shard_id)

    def _raw_websocket(self, shard: ShardKey) -> DiscordWebSocket | None:
        try:
            ws: DiscordWebSocket | None = super()._get_websocket(shard_id=shard)
        except KeyError:
            return None  # AutoShardedClient: this shard has not been launched yet
        return ws

    async def change_presence(
        self,
        *,
        activity: discord.BaseActivity | None = None,
        status: discord.Status | None = None,
        shard_id: int | None = None,
    ) -> None:
        """Like discord.py's, but the presence is kept: it waits for shards that are not ready (bounded
        by `gateway_send_timeout`) and is re-applied on every new session."""
        await self.gateway_guard.change_presence(_presence(activity, status), shard_id)

    def want_presence(
        self,
        *,
        activity: discord.BaseActivity | None = None,
        status: discord.Status | None = None,
        shard_id: int | None = None,
    ) -> None:
        """The same without waiting: for callers that only state what the presence should be (the
        now-playing line, say). Never raises for a shard that is down; it is applied when it is back."""
        self.gateway_guard.want_presence(_presence(activity, status), shard_id)

    async def _write_presence(self, shard: ShardKey, presence: Presence) -> None:
        activity, status = presence
        base = cast(Any, super())
        if shard is None:
            await base.change_presence(activity=activity, status=status)
        else:
            await base.change_presence(activity=activity, status=status, shard_id=shard)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        token = _IN_IDENTIFY_HOOK.set(True)
        try:
            if not initial and self._identify_delay > 0:
                # Real time on purpose: this paces against Discord's identify limit, not the bot's clock.
                await asyncio.sleep(self._identify_delay)
        finally:
            _IN_IDENTIFY_HOOK.reset(token)

    async def close(self) -> None:
        await self.gateway_guard.stop()
        await super().close()
