"""Which discord.py releases the gateway guard (`pytunes.core.gateway`) may run on.

The guard relies on discord.py internals (how its senders reach the socket, dispatch order); tests/contract
checks them against the installed release. Outside the range it refuses to start rather than guess.
"""

from __future__ import annotations

import logging
import re

import discord

log = logging.getLogger(__name__)

TESTED_DISCORD = (2, 7, 1)  # the release tests/contract was last run against
SUPPORTED_DISCORD = ((2, 7, 1), (2, 8, 0))  # [low, high): same internals as far as the contract knows


class UnsupportedDiscordVersion(RuntimeError):
    pass


def check_discord_version(version: str | None = None) -> None:
    """Refuse a discord.py whose internals the guard was not tested against; warn inside the range."""
    found = version or discord.__version__
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(.*)", found)
    parsed = (int(match[1]), int(match[2]), int(match[3])) if match else (0, 0, 0)
    suffix = match[4] if match else ""
    low, high = SUPPORTED_DISCORD
    prerelease_of_low = parsed == low and re.match(r"[.-]?(a|b|rc|dev)", suffix) is not None
    if not low <= parsed < high or prerelease_of_low:
        raise UnsupportedDiscordVersion(
            f"discord.py {found} is outside the range the gateway guard supports "
            f"(>={_dotted(low)},<{_dotted(high)}); the internals it relies on may have changed. "
            "Install the pinned version, or run tests/contract against it and update pytunes.core.gateway."
        )
    if parsed != TESTED_DISCORD or suffix:
        log.warning(
            "discord.py %s is in the supported range but the guard was tested on %s",
            found,
            _dotted(TESTED_DISCORD),
        )


def _dotted(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))
