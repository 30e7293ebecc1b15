"""`pytunes run | sandbox | migrate | check` (also `python -m pytunes`).

Without a sub-command PyTunes runs against Discord when a token is configured, and otherwise starts the
offline sandbox so a newcomer can try it without Discord.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from pydantic import ValidationError

from pytunes.config import Settings


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    # discord.py's gateway chatter is useful at DEBUG only.
    logging.getLogger("discord").setLevel(max(logging.getLevelName(level), logging.INFO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pytunes", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "command",
        nargs="?",
        choices=["run", "sandbox", "migrate", "check"],
        help="default: run when DISCORD_TOKEN is set, otherwise sandbox",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"Invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    command = args.command or ("run" if settings.token else "sandbox")
    if command == "sandbox":
        # The sandbox prints to the terminal; keep logs to warnings so they don't drown the conversation.
        configure_logging("WARNING" if settings.log_level != "DEBUG" else "DEBUG")
    else:
        configure_logging(settings.log_level)
    if command == "migrate":
        from pytunes.storage.migrate import migrate

        print(f"database at revision {migrate(settings.database_url)}")
        return 0
    if command == "check":
        from pytunes.checkup import report

        return report(settings)
    if command == "run":
        if not settings.token:
            print(
                "DISCORD_TOKEN is not set (see .env.example); `pytunes sandbox` runs offline.",
                file=sys.stderr,
            )
            return 2
        from pytunes.runner import run_forever

        asyncio.run(run_forever(settings))
        return 0
    from pytunes.sandbox import run_sandbox

    asyncio.run(run_sandbox(settings))
    return 0
