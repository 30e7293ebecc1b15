"""What `pytunes.core.gateway` assumes about discord.py's source, checked on the installed package.

If one of these fails after an upgrade, the guard may have a hole: read the new source's senders of op 3, 4
and 8 and where it dispatches connect, resumed and disconnect (docs/discord-notes.md, 'The handshake
window'; docs/architecture.md, 'The guarded gateway'), and update `pytunes.core.gateway` (and
SUPPORTED_DISCORD) before relaxing the test.
"""

from __future__ import annotations

import ast
import inspect
import logging
from collections import Counter
from pathlib import Path

import discord
import discord.gateway
import discord.voice_state
import pytest

from pytunes.core.discord_version import (
    SUPPORTED_DISCORD,
    TESTED_DISCORD,
    UnsupportedDiscordVersion,
    check_discord_version,
)

ROOT = Path(discord.__file__).parent
SENDERS = {"change_presence", "voice_state", "request_chunks"}

# Every call of the three senders in the library, as (file, enclosing function, callee). The guard covers
# the first three by overriding change_presence itself, the rest through the _get_websocket proxy.
EXPECTED_SENDER_CALLS = Counter(
    {
        ("client.py", "Client.change_presence", "self.ws.change_presence"): 1,
        ("shard.py", "AutoShardedClient.change_presence", "shard.ws.change_presence"): 2,
        ("guild.py", "Guild.change_voice_state", "ws.voice_state"): 1,
        ("state.py", "ConnectionState.chunker", "ws.request_chunks"): 1,
        ("state.py", "ConnectionState.query_members", "ws.request_chunks"): 1,
        ("state.py", "AutoShardedConnectionState.chunker", "ws.request_chunks"): 1,
    }
)
# Who asks for the socket through _get_websocket, i.e. who receives the GuardedSocket proxy.
EXPECTED_PROXY_USERS = {
    ("guild.py", "Guild.change_voice_state"),
    ("state.py", "ConnectionState.chunker"),
    ("state.py", "ConnectionState.query_members"),
    ("state.py", "AutoShardedConnectionState.chunker"),
    ("ext/commands/converter.py", "MemberConverter.query_member_by_id"),
}
# The dispatches the guard observes, and where discord.py makes them.
EXPECTED_DISPATCHES = {
    ("state.py", "ConnectionState.parse_ready", "connect"),
    ("state.py", "ConnectionState.parse_resumed", "resumed"),
    ("state.py", "AutoShardedConnectionState.parse_ready", "connect"),
    ("state.py", "AutoShardedConnectionState.parse_ready", "shard_connect"),
    ("state.py", "AutoShardedConnectionState.parse_resumed", "resumed"),
    ("state.py", "AutoShardedConnectionState.parse_resumed", "shard_resumed"),
    ("client.py", "Client.connect", "disconnect"),
    ("shard.py", "Shard.disconnect", "shard_disconnect"),
    ("shard.py", "Shard._handle_disconnect", "disconnect"),
    ("shard.py", "Shard._handle_disconnect", "shard_disconnect"),
    ("shard.py", "Shard.reidentify", "disconnect"),
    ("shard.py", "Shard.reidentify", "shard_disconnect"),
}
OBSERVED = {"connect", "resumed", "disconnect", "shard_connect", "shard_resumed", "shard_disconnect"}


class Census(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.scope: list[str] = []
        self.calls: list[tuple[str, str, str]] = []
        self.dispatches: list[tuple[str, str, str]] = []
        self.ws_sources: dict[str, list[str]] = {}  # function -> what its `ws` was assigned from

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Name) and t.id == "ws" for t in node.targets):
            self.ws_sources.setdefault(".".join(self.scope), []).append(ast.unparse(node.value))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        where = ".".join(self.scope)
        if isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in SENDERS or name == "_get_websocket":
                self.calls.append((self.path, where, ast.unparse(node.func)))
            first = node.args[0] if node.args else None
            if (
                name in ("dispatch", "_dispatch")
                and isinstance(first, ast.Constant)
                and first.value in OBSERVED
            ):
                self.dispatches.append((self.path, where, first.value))
        self.generic_visit(node)


@pytest.fixture(scope="module")
def census() -> list[Census]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        visitor = Census(path.relative_to(ROOT).as_posix())
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        found.append(visitor)
    return found


def test_every_op_3_4_8_sender_call_is_known(census: list[Census]) -> None:
    calls = Counter(c for v in census for c in v.calls if c[2].split(".")[-1] in SENDERS)
    assert calls == EXPECTED_SENDER_CALLS


def test_op_4_and_8_senders_get_their_socket_from_get_websocket(census: list[Census]) -> None:
    for visitor in census:
        for path, where, callee in visitor.calls:
            if callee in ("ws.voice_state", "ws.request_chunks"):
                sources = visitor.ws_sources.get(where, [])
                assert sources, f"{path} {where}: `ws` comes from nowhere we know"
                assert all("._get_websocket(" in s for s in sources), (path, where, sources)
    users = {(v.path, w) for v in census for p, w, c in v.calls if c.endswith("._get_websocket")}
    assert users == EXPECTED_PROXY_USERS


def test_only_the_three_senders_build_op_3_4_8(census: list[Census]) -> None:
    source = (ROOT / "gateway.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    users = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "DiscordWebSocket":
            for fn in node.body:
                for sub in ast.walk(fn):
                    if (
                        isinstance(sub, ast.Attribute)
                        and sub.attr in ("PRESENCE", "VOICE_STATE", "REQUEST_MEMBERS")
                        and isinstance(sub.value, ast.Name)
                        and sub.value.id == "self"
                    ):
                        users.add(getattr(fn, "name", "?"))
    assert users == SENDERS


def test_observed_events_are_dispatched_where_expected(census: list[Census]) -> None:
    dispatches = {d for v in census for d in v.dispatches}
    assert dispatches == EXPECTED_DISPATCHES


def test_connect_is_dispatched_before_start_up_chunking_begins() -> None:
    """parse_ready dispatches connect before it starts the task that sends the start-up chunk requests,
    so the guard opens in time for them; on_ready comes only after those requests, so gating on it
    would deadlock start-up chunking."""
    tree = ast.parse((ROOT / "state.py").read_text(encoding="utf-8"))
    for cls in ("ConnectionState", "AutoShardedConnectionState"):
        parse_ready = next(
            fn
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and node.name == cls
            for fn in node.body
            if isinstance(fn, ast.FunctionDef) and fn.name == "parse_ready"
        )
        lines = [ast.unparse(statement) for statement in parse_ready.body]
        connect = lines.index("self.dispatch('connect')")
        starts = [i for i, line in enumerate(lines) if "create_task(self._delay" in line]
        assert starts
        assert connect < min(starts), cls


def test_get_websocket_is_bound_into_the_state_at_construction(census: list[Census]) -> None:
    """A bound method is stored, so a subclass's override is what the library calls."""
    for module, cls in (("client.py", "Client"), ("shard.py", "AutoShardedClient")):
        tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
        init = next(
            fn
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and node.name == cls
            for fn in node.body
            if isinstance(fn, ast.FunctionDef) and fn.name == "__init__"
        )
        assigns = [ast.unparse(n) for n in ast.walk(init) if isinstance(n, ast.Assign)]
        assert "self._connection._get_websocket = self._get_websocket" in assigns


def shape(fn: object) -> list[tuple[str, str, object]]:
    """Parameter names, kinds and defaults (annotations are irrelevant to callers)."""
    P = inspect.Parameter
    return [
        (p.name, p.kind.name, None if p.default is P.empty else p.default)
        for p in inspect.signature(fn).parameters.values()  # type: ignore[arg-type]
    ]


def test_signatures_the_guard_overrides_or_calls() -> None:
    pos, kw = "POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY"
    get_websocket = [("self", pos, None), ("guild_id", pos, None), ("shard_id", kw, None)]
    assert shape(discord.Client._get_websocket) == get_websocket
    assert shape(discord.AutoShardedClient._get_websocket) == get_websocket
    assert shape(discord.Client.before_identify_hook) == [
        ("self", pos, None),
        ("shard_id", pos, None),
        ("initial", kw, False),
    ]
    assert [name for name, _, _ in shape(discord.Client.dispatch)] == ["self", "event", "args", "kwargs"]
    presence = [("self", pos, None), ("activity", kw, None), ("status", kw, None)]
    assert shape(discord.Client.change_presence) == presence
    assert shape(discord.AutoShardedClient.change_presence) == [*presence, ("shard_id", kw, None)]
    ws = discord.gateway.DiscordWebSocket
    assert shape(ws.voice_state) == [
        ("self", pos, None),
        ("guild_id", pos, None),
        ("channel_id", pos, None),
        ("self_mute", pos, False),
        ("self_deaf", pos, False),
    ]
    assert shape(ws.request_chunks) == [
        ("self", pos, None),
        ("guild_id", pos, None),
        ("query", pos, None),
        ("limit", kw, None),
        ("user_ids", kw, None),
        ("presences", kw, False),
        ("nonce", kw, None),
    ]
    assert shape(ws.change_presence) == [
        ("self", pos, None),
        ("activity", kw, None),
        ("status", kw, None),
        ("since", kw, 0.0),
    ]


def test_socket_and_rate_limiter_attributes() -> None:
    ws = discord.gateway.DiscordWebSocket
    assert isinstance(ws.open, property)
    assert callable(ws.is_ratelimited)
    limiter = discord.gateway.GatewayRatelimiter()
    assert not limiter.lock.locked()
    assert limiter.per == 60.0
    assert isinstance(limiter.window, float)
    request = discord.state.ChunkRequest(1, 0, None, lambda guild_id: None)
    assert isinstance(request.nonce, str)


def test_installed_version_is_supported_and_the_check_refuses_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    check_discord_version()
    assert tuple(int(p) for p in discord.__version__.split(".")[:3]) == TESTED_DISCORD
    for outside in ("2.8.0", "2.8.0a1", "2.6.4", "3.0.0", "2.7.1a1", "nonsense"):
        with pytest.raises(UnsupportedDiscordVersion):
            check_discord_version(outside)
    assert SUPPORTED_DISCORD[0] == TESTED_DISCORD
    with caplog.at_level(logging.WARNING, logger="pytunes.core.discord_version"):
        check_discord_version("2.7.2")
    assert "tested on 2.7.1" in caplog.text


def test_what_the_music_voice_client_relies_on() -> None:
    """`pytunes.music.voice_client` stops the voice poller before leaving and unregisters only itself."""
    state_init = inspect.getsource(discord.voice_state.VoiceConnectionState.__init__)
    assert "self._runner" in state_init
    poller = inspect.getsource(discord.voice_state.VoiceConnectionState._poll_voice_ws)
    # The double leave: a close 1000 while no disconnect is "expected" makes the poller leave again.
    assert "exc.code == 1000" in poller
    assert "self._expecting_disconnect" in poller
    assert "except asyncio.CancelledError" in poller, "cancelling the poller ends it quietly"
    leave = inspect.getsource(discord.VoiceClient.disconnect)
    assert "self._connection.disconnect(force=force, wait=True)" in leave
    assert "self.cleanup()" in leave
    cleanup = inspect.getsource(discord.VoiceProtocol.cleanup)
    assert "_get_voice_client_key()" in cleanup
    assert "_remove_voice_client(key_id)" in cleanup
    assert callable(discord.state.ConnectionState._get_voice_client)
