"""Shared pieces of the audio benchmarks: media files and a local server for them, PyTunes in a child
process, a world of N guilds, readings from /proc, and small statistics helpers.

Why the bot runs in its own process here (bench/acks.py runs it in-process): the audio benchmarks
measure the bot's CPU time and memory, and the arrival time of every voice packet at simcord. With both
in one process, simcord's packet decryption and REST handling would be billed to the bot, and a busy
bot event loop would delay simcord's receive timestamps (lateness the real listener would not hear).
The child still starts PyTunes the house way: `running_bot(simcord_settings(...))`. It prints one JSON
line when it is ready (worker pool warmed up, as after start-up) and shuts down cleanly when its stdin
closes.

    sources = snapshot_sources(tmp / "src")  # every start of the bot runs the same code
    async with MediaServer(root) as media, BotProcess(conn, database, log, sources=sources) as bot:
        media.url("tone.webm", tag="run-1"), bot.pid, sample_tree(bot.pid)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from simcord import Channel, Connection, Guild, Message, Simcord, SimUser
    from simcord.world import Application

BENCH_DIR = Path(__file__).resolve().parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


# --------------------------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def ms(seconds: float | None, digits: int = 1) -> float | None:
    return None if seconds is None else round(seconds * 1000, digits)


def show(value: Any, width: int, digits: int = 1) -> str:
    """A table cell: — for missing values, fixed decimals for floats."""
    if value is None:
        text = "—"
    elif isinstance(value, float):
        text = f"{value:.{digits}f}"
    else:
        text = str(value)
    return f"{text:>{width}}"


# --------------------------------------------------------------------------------------------- media


OPUS_WEBM = ("-c:a", "libopus", "-b:a", "128k")  # what YouTube serves most: Opus in WebM
MP3 = ("-c:a", "libmp3lame", "-b:a", "128k")


@dataclass(frozen=True)
class SeenRequest:
    at: float  # time.monotonic() when the request arrived
    tag: str
    name: str
    method: str
    agent: str
    range: str | None
    icy: bool  # FFmpeg's http protocol asks for Icy-MetaData; it sends yt-dlp's User-Agent here

    @property
    def client(self) -> str:
        """Who asked: FFmpeg, the bot's own aiohttp checks, or yt-dlp."""
        if self.icy or self.agent.startswith("Lavf"):
            return "ffmpeg"
        if "aiohttp" in self.agent:
            return "aiohttp"
        return "yt-dlp"


class MediaServer:
    """Serves the files in `root` at /m/{tag}/{name} (Range via FileResponse) and records every request.

    The tag is ignored for serving; it makes each run's URL (and FFmpeg command line) distinct, so requests
    and processes can be told apart.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = 0
        self.requests: list[SeenRequest] = []
        self._runner: web.AppRunner | None = None

    def url(self, name: str, *, tag: str) -> str:
        return f"http://127.0.0.1:{self.port}/m/{tag}/{name}"

    def seen(self, tag: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.tag == tag]

    async def __aenter__(self) -> MediaServer:
        from aiohttp import web

        async def media(request: web.Request) -> web.StreamResponse:
            name = request.match_info["name"]
            self.requests.append(
                SeenRequest(
                    time.monotonic(),
                    request.match_info["tag"],
                    name,
                    request.method,
                    request.headers.get("User-Agent", ""),
                    request.headers.get("Range"),
                    "Icy-MetaData" in request.headers,
                )
            )
            path = self.root / name
            if "/" in name or not path.is_file():
                raise web.HTTPNotFound()
            return web.FileResponse(path)

        app = web.Application()
        app.router.add_route("*", "/m/{tag}/{name}", media)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


# --------------------------------------------------------------------------------------------- world


@dataclass
class Room:
    """One guild with a text channel, a voice channel and its listener."""

    guild: Guild
    text: Channel
    voice: Channel
    user: SimUser


def build_rooms(sim: Simcord, app: Application, count: int) -> list[Room]:
    rooms = []
    for index in range(count):
        user = sim.create_user(f"listener{index + 1}")
        guild = sim.create_guild(f"Bench {index + 1}", user)
        rooms.append(
            Room(
                guild,
                sim.create_text_channel(guild, "general"),
                sim.create_voice_channel(guild, "Lounge"),
                user,
            )
        )
        sim.add_bot(guild, app)
    return rooms


def titled(bot_id: int, prefix: str) -> Callable[[Message], bool]:
    """Matches bot messages with an embed whose title (or author line) starts with `prefix`."""

    def match(message: Message) -> bool:
        return message.author.id == bot_id and any(
            str(e.get("title", "")).startswith(prefix)
            or str(e.get("author", {}).get("name", "")).startswith(prefix)
            for e in message.embeds
        )

    return match


def bot_messages(
    sim: Simcord, channel: Channel, bot_id: int, prefix: str, *, after: Message | None = None
) -> list[Message]:
    """Every bot message (deleted ones included) titled `prefix`, newer than `after`."""
    floor = after.id if after is not None else 0
    match = titled(bot_id, prefix)
    return [
        m
        for m in sim.messages(channel, include_deleted=True)
        if m.id > floor and match(m) and not m.ephemeral
    ]


async def poll(predicate: Callable[[], Any], *, timeout: float, every: float = 0.05, what: str = "") -> Any:
    """Wait until `predicate()` is truthy by polling (cheap with thousands of voice packets a second,
    where simcord's change-driven `wait_for` would re-run the predicate for every packet)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not within {timeout} s: {what or predicate}")
        await asyncio.sleep(every)


# --------------------------------------------------------------------------------------------- the bot


_CHILD = "import sys; sys.path[:0] = [{sources!r}, {bench!r}]; import _support; _support.child_main()"


def snapshot_sources(into: Path) -> Path:
    """Copy src/ (pytunes, simcord) to `into`, for `BotProcess(sources=...)`.

    A benchmark that starts the bot many times would otherwise pick up whatever state the working tree
    is in at each start (half-saved edits included); with a snapshot every start runs the same code,
    the code as it was when the benchmark began.
    """
    src = BENCH_DIR.parent / "src"
    for package in ("pytunes", "simcord"):
        shutil.copytree(src / package, into / package, ignore=shutil.ignore_patterns("__pycache__"))
    return into


class BotProcess:
    """PyTunes in a child process, pointed at a simcord; see the module docstring."""

    def __init__(
        self,
        connection: Connection,
        database: Path,
        log_file: Path,
        *,
        sources: Path | None = None,
        ready_timeout: float = 90.0,
        loggers: dict[str, str] | None = None,
        **settings: Any,
    ) -> None:
        self.config = {
            "connection": {
                "token": connection.token,
                "api_base": connection.api_base,
                "gateway_url": connection.gateway_url,
                "ca_file": connection.ca_file,
            },
            "database_url": f"sqlite+aiosqlite:///{database}",
            "settings": {
                "media_allow_private_hosts": True,
                "log_level": "WARNING",
                # Next to the database, never the repository's data/ folder.
                "audio_cache_dir": str(database.parent / "audio-cache"),
                "library_dir": str(database.parent / "library"),
                **settings,
            },
            "loggers": loggers or {},  # e.g. {"discord.voice_state": "DEBUG"} to look into a failure
        }
        self.log_file = log_file
        self.sources = sources or BENCH_DIR.parent / "src"
        self.ready_timeout = ready_timeout
        self.process: asyncio.subprocess.Process | None = None
        self.pid = 0
        self.worker_pids: list[int] = []
        self.started_at = 0.0
        self.ready_at = 0.0
        self._seen: dict[int, int] = {}  # descendant pid -> start time (clock ticks after boot)
        self._drain: asyncio.Task[None] | None = None

    async def __aenter__(self) -> BotProcess:
        self.started_at = time.monotonic()
        with self.log_file.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _CHILD.format(sources=str(self.sources), bench=str(BENCH_DIR)),
                json.dumps(self.config),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        self.pid = self.process.pid
        try:
            assert self.process.stdout is not None
            line = await asyncio.wait_for(self.process.stdout.readline(), self.ready_timeout)
            if not line:
                raise RuntimeError(f"the bot exited during start-up; see {self.log_file}:\n{self.log_tail()}")
            ready = json.loads(line)
            self.worker_pids = list(ready.get("workers", []))
        except BaseException:
            await self.stop()
            raise
        self.ready_at = time.monotonic()
        # Anything else on the child's stdout (which its workers share) goes to the log, so a full pipe
        # can never block it.
        self._drain = asyncio.create_task(self._copy_stdout())
        return self

    async def _copy_stdout(self) -> None:
        process = self.process
        if process is None or process.stdout is None:
            return
        while line := await process.stdout.readline():
            with self.log_file.open("ab") as log:
                log.write(line)

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def remember_children(self) -> None:
        """Note the current descendants (with their start times), so a forced stop ends exactly those."""
        for pid in descendants(self.pid):
            started = _start_time(pid)
            if started is not None:
                self._seen[pid] = started

    async def stop(self, timeout: float = 60.0) -> None:
        """Close stdin (the child shuts down cleanly); after `timeout`, SIGTERM, then SIGKILL."""
        process = self.process
        if process is None:
            return
        self.process = None
        self.remember_children()
        forced = False
        if process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                forced = True
                print(f"bench: the bot did not stop within {timeout} s; terminating it", file=sys.stderr)
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain
        if forced:  # FFmpeg or workers the bot could not end: the very processes noted, none other
            for pid, started in self._seen.items():
                if _start_time(pid) == started:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def child_main() -> None:
    """Entry point of the child process (argv[1] is the JSON config from `BotProcess`)."""
    import logging

    config = json.loads(sys.argv[1])
    logging.basicConfig(
        level=config["settings"].get("log_level", "WARNING"),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for name, level in config.get("loggers", {}).items():
        logging.getLogger(name).setLevel(level)
    asyncio.run(_serve(config))


async def _serve(config: dict[str, Any]) -> None:
    from pytunes.config import Settings
    from pytunes.runner import running_bot
    from pytunes.sandbox import simcord_settings
    from simcord import Connection

    base = Settings(_env_file=None, **config["settings"])  # type: ignore[call-arg]
    settings = simcord_settings(base, Connection(**config["connection"]), database_url=config["database_url"])
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, closed.set)

    async def until_stdin_closes() -> None:
        while await reader.read(4096):
            pass
        closed.set()

    async with running_bot(settings, guild_ready_timeout=0.05) as bot:
        await asyncio.wait_for(bot.music.workers.ready(), 120)
        print(json.dumps({"pid": os.getpid(), "workers": bot.music.workers.pids()}), flush=True)
        watcher = asyncio.create_task(until_stdin_closes())
        await closed.wait()
        watcher.cancel()


# --------------------------------------------------------------------------------------------- /proc


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return None


def _read_stat(pid: int, tid: int | None = None) -> list[str] | None:
    """Fields of /proc/<pid>[/task/<tid>]/stat after the command name (field 3 is index 0)."""
    text = _read(f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat")
    if text is None:
        return None
    return text[text.rfind(")") + 2 :].split()


def thread_ns(pid: int, tid: int) -> int | None:
    """CPU time of one thread in ns: schedstat (ns), else stat's clock ticks."""
    schedstat = _read(f"/proc/{pid}/task/{tid}/schedstat")
    if schedstat:
        return int(schedstat.split()[0])
    fields = _read_stat(pid, tid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLOCK_TICKS


def threads(pid: int) -> list[int]:
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _start_time(pid: int) -> int | None:
    """When the process started (field 22 of stat): with the pid, it names one process for good."""
    fields = _read_stat(pid)
    return int(fields[19]) if fields is not None else None


def cpu_ns(pid: int) -> int | None:
    """CPU time of a process's live threads, in ns (/proc/<pid>/schedstat covers only the main thread)."""
    tids = threads(pid)
    if not tids:
        return None
    return sum(thread_ns(pid, tid) or 0 for tid in tids)


def reaped_children_ns(pid: int) -> int:
    """CPU time of the process's children that exited and were waited for (cutime + cstime)."""
    fields = _read_stat(pid)
    return 0 if fields is None else (int(fields[13]) + int(fields[14])) * 1_000_000_000 // CLOCK_TICKS


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB; PSS shares pages among the processes that map them (e.g. the FFmpeg binary)."""
    rss = pss = 0
    rollup = _read(f"/proc/{pid}/smaps_rollup")
    if rollup:
        for line in rollup.splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
        return rss, pss
    statm = _read(f"/proc/{pid}/statm")
    if statm:
        rss = int(statm.split()[1]) * PAGE_KB
    return rss, rss


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid`, from one scan of /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _read_stat(int(entry))
            if fields is not None:
                parents[int(entry)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return sorted(found)


def cmdline(pid: int) -> list[str]:
    text = _read(f"/proc/{pid}/cmdline")
    return [part for part in text.split("\0") if part] if text else []


@dataclass
class ChildReading:
    pid: int
    kind: str  # "ffmpeg" or "python" (yt-dlp workers)
    args: list[str]
    cpu_ns: int
    rss_kb: int
    pss_kb: int


@dataclass
class TreeReading:
    """One look at the bot process and its children."""

    at: float
    bot_main_ns: int  # the event-loop thread
    bot_threads_ns: int  # every other thread: discord.py's audio players, executors
    bot_threads: int
    bot_rss_kb: int
    bot_pss_kb: int
    reaped_ns: int
    children: dict[int, ChildReading] = field(default_factory=dict)
    harness_ns: int = 0  # this process: simcord, the media server, the driver
    system_busy: tuple[int, int] = (0, 0)  # (busy, total) jiffies of the whole machine


def system_jiffies() -> tuple[int, int]:
    text = _read("/proc/stat") or ""
    for line in text.splitlines():
        if line.startswith("cpu "):
            values = [int(v) for v in line.split()[1:]]
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            return sum(values[:8]) - idle, sum(values[:8])
    return 0, 0


def busy_pct(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The machine's busy time between two `system_jiffies()` readings, in % of one core."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total * 100 * (os.cpu_count() or 1) if total > 0 else 0.0


def background_load(seconds: float = 2.0) -> float:
    """How busy the machine is before the benchmark starts anything (other people's work), % of a core."""
    before = system_jiffies()
    time.sleep(seconds)
    busy = busy_pct(before, system_jiffies())
    print(
        f"bench: the machine was {busy:.0f} % busy (of {100 * (os.cpu_count() or 1)} %) before the start",
        file=sys.stderr,
    )
    return round(busy, 1)


def sample_tree(pid: int) -> TreeReading:
    at = time.monotonic()
    main = thread_ns(pid, pid) or 0
    tids = threads(pid)
    others = sum(thread_ns(pid, tid) or 0 for tid in tids if tid != pid)
    rss, pss = memory_kb(pid)
    reading = TreeReading(
        at, main, others, len(tids), rss, pss, reaped_children_ns(pid), harness_ns=cpu_ns(os.getpid()) or 0
    )
    for child in descendants(pid):
        args = cmdline(child)
        used = cpu_ns(child)
        if not args or used is None:
            continue
        kind = "ffmpeg" if "ffmpeg" in Path(args[0]).name else "python"
        child_rss, child_pss = memory_kb(child)
        reading.children[child] = ChildReading(child, kind, args, used, child_rss, child_pss)
    reading.system_busy = system_jiffies()
    return reading


def spent(before: TreeReading, after: TreeReading, kind: str) -> int:
    """CPU ns used between two readings by the children of `kind` ("ffmpeg" or "python")."""
    total = 0
    for pid, child in after.children.items():
        if child.kind != kind:
            continue
        earlier = before.children.get(pid)
        total += child.cpu_ns - (earlier.cpu_ns if earlier is not None else 0)
    return total


def joined(parts: Iterable[str]) -> str:
    return "  ".join(parts)
