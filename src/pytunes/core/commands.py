"""A typed front for discord.py's `hybrid_command` decorator.

mypy cannot solve the decorator's union-of-callables type variables for methods on a cog, so every cog
would need an ignore comment. This wrapper states the type once.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

from discord.ext import commands

Handler = Callable[..., Coroutine[Any, Any, None]]


def hybrid_command(**attrs: Any) -> Callable[[Handler], commands.HybridCommand[Any, ..., None]]:
    """`commands.hybrid_command` (prefix and slash from one handler), typed for cog methods."""
    return cast(Callable[[Handler], commands.HybridCommand[Any, ..., None]], commands.hybrid_command(**attrs))


def hybrid_group(**attrs: Any) -> Callable[[Handler], commands.HybridGroup[Any, ..., None]]:
    """`commands.hybrid_group`, typed for cog methods."""
    return cast(Callable[[Handler], commands.HybridGroup[Any, ..., None]], commands.hybrid_group(**attrs))


async def _defer(*args: Any) -> None:
    # discord.py passes (cog, ctx) for commands in a cog and (ctx,) otherwise.
    ctx: commands.Context[Any] = args[-1]
    if ctx.interaction is not None:
        await ctx.defer()
    else:
        await ctx.typing()


defer_first = commands.before_invoke(_defer)
"""Decorator for commands that may take over a second (media lookups, database scans): a slash command
shows "thinking…" at once instead of risking "The application did not respond"; a prefix command shows
the typing indicator."""
