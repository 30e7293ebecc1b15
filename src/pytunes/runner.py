"""Running the bot: in the foreground until a signal (`pytunes run`), or as a context (sandbox, tests)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from typing import Any

from pytunes.bot import PyTunes
from pytunes.config import Settings

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, *, ready_timeout: float = 30.0, **options: Any
) -> AsyncIterator[PyTunes]:
    """Start PyTunes, wait until it is ready, and shut it down cleanly on exit."""
    token = settings.token
    if not token:
        raise ValueError("DISCORD_TOKEN is not set")
    bot = PyTunes(settings, **options)
    task = asyncio.create_task(bot.start(token), name="pytunes")
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED)
    try:
        if task in done:
            ready.cancel()
            task.result()  # raises the start-up error
            raise RuntimeError("PyTunes stopped during start-up")
        if ready not in done:
            ready.cancel()
            raise TimeoutError(f"PyTunes was not ready within {ready_timeout} s")
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


async def run_forever(settings: Settings) -> None:
    """`pytunes run`: connect to Discord and stay until SIGINT/SIGTERM, then shut down gracefully."""
    token = settings.token
    if not token:
        raise ValueError("DISCORD_TOKEN is not set")
    bot = PyTunes(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(bot.start(token), name="pytunes")
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down")
    await bot.close()
    waiter.cancel()
    if task.done():
        task.result()
    else:
        await asyncio.wait_for(task, 10)
