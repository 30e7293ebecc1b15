"""PyTunes as a separate process (`python -m pytunes run`) against an in-process simcord, so tests can
kill it for real (`kill -9`) and start another one on the same database: restarts as they happen."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from simcord import Simcord
from simcord.world import Application


class BotProcess:
    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or `kill -9`."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def wait(self, timeout: float = 10.0) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def bot_environment(
    sim: Simcord, app: Application, database: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DISCORD_", "DATABASE_"))}
    env.update(sim.connection(app).env())
    env.update(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            # Next to the database, never the repository's data/ folder (the bot runs in the checkout).
            "AUDIO_CACHE_DIR": str(database.parent / "audio-cache"),
            "LIBRARY_DIR": str(database.parent / "library"),
            "LOG_LEVEL": "INFO",
            "MEDIA_ALLOW_PRIVATE_HOSTS": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@contextlib.asynccontextmanager
async def bot_process(
    sim: Simcord,
    app: Application,
    database: Path,
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 30.0,
) -> AsyncIterator[BotProcess]:
    """Start `python -m pytunes run`; ready once simcord has sent it READY. Killed on exit if still running."""
    sessions_before = set(sim.gateway.sessions)
    handle = log.open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytunes",
        "run",
        env=bot_environment(sim, app, database, env),
        stdout=handle,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )
    bot = BotProcess(process, log)
    try:
        await sim.wait_for(
            lambda: (
                process.returncode is not None
                or any(
                    s.bot_user_id == app.bot.id
                    for k, s in sim.gateway.sessions.items()
                    if k not in sessions_before
                )
            ),
            timeout=ready_timeout,
        )
        if process.returncode is not None:
            raise RuntimeError(f"PyTunes exited with {process.returncode}:\n{bot.output()[-3000:]}")
        yield bot
    finally:
        bot.kill()
        with contextlib.suppress(TimeoutError, ProcessLookupError):
            await bot.wait()
        handle.close()
