"""`pytunes check`: is this installation ready to run? Prints one line per check."""

from __future__ import annotations

import asyncio
import shutil

import imageio_ffmpeg

from pytunes.config import Settings
from pytunes.storage import Database


def ffmpeg_path() -> str:
    """The system FFmpeg when installed, else the one shipped in the imageio-ffmpeg wheel."""
    return shutil.which("ffmpeg") or imageio_ffmpeg.get_ffmpeg_exe()


async def _database_ok(url: str) -> str:
    database = await Database.open(url)
    await database.close()
    return "reachable, migrations applied"


def report(settings: Settings) -> int:
    checks: list[tuple[str, bool, str]] = []
    checks.append(("token", bool(settings.token), "set" if settings.token else "missing (sandbox only)"))
    try:
        checks.append(("database", True, asyncio.run(_database_ok(settings.database_url))))
    except Exception as exc:
        checks.append(("database", False, f"{type(exc).__name__}: {exc}"))
    try:
        checks.append(("ffmpeg", True, ffmpeg_path()))
    except RuntimeError as exc:
        checks.append(("ffmpeg", False, str(exc)))
    for name, ok, detail in checks:
        print(f"{'ok ' if ok else 'BAD'} {name:10} {detail}")
    return 0 if all(ok for name, ok, _ in checks if name != "token") else 1
