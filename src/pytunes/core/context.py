"""The bot as a feature package sees it, and the command context its commands receive.

Features annotate with `FeatureBot` and `Ctx` rather than with `pytunes.bot.PyTunes`: the composition root
imports the features it wires, so naming it would tie each feature to the others. `PyTunes` derives from
`FeatureBot` and provides everything declared here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeAlias

from discord.ext import commands

from pytunes.core.clock import Clock
from pytunes.core.interactions import InteractionRouter
from pytunes.core.replies import Replies
from pytunes.core.tasks import TaskOwner

if TYPE_CHECKING:
    from pytunes.config import Settings
    from pytunes.storage import Database

ShutdownHook: TypeAlias = Callable[[], Awaitable[object]]


class FeatureBot(commands.AutoShardedBot):
    """What every feature may use of the bot besides discord.py's own `AutoShardedBot`."""

    settings: Settings
    clock: Clock
    tasks: TaskOwner
    replies: Replies
    interactions: InteractionRouter

    @property
    def database(self) -> Database:
        raise NotImplementedError

    def at_shutdown(self, hook: ShutdownHook) -> None:
        """Await `hook` when the bot closes, before its background tasks are cancelled and the gateway
        closes. Hooks run once each, the last registered first."""
        raise NotImplementedError


Ctx: TypeAlias = commands.Context[FeatureBot]
"""The context of a feature's commands."""
