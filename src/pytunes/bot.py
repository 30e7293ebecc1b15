"""Composition root: builds the services, loads the feature cogs, and owns the bot's lifetime."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.ext import commands

from pytunes.config import Settings
from pytunes.core.checks import CheckRefusal
from pytunes.core.clock import Clock, SystemClock
from pytunes.core.context import FeatureBot, ShutdownHook
from pytunes.core.endpoints import connector_trusting, point_at
from pytunes.core.gateway import GatewayGuardMixin
from pytunes.core.interactions import InteractionRouter
from pytunes.core.replies import Replies, ReplyPolicy
from pytunes.core.tasks import TaskOwner
from pytunes.music.service import MusicService
from pytunes.music.wiring import build_music
from pytunes.storage import Database, app_state

log = logging.getLogger(__name__)

FEATURE_COGS = (
    "pytunes.utility.cog",
    "pytunes.music.cog",
    "pytunes.reputation.cog",
    "pytunes.reminders.cog",
    "pytunes.gather.cog",
)


def intents() -> discord.Intents:
    """Default intents plus the two privileged ones PyTunes uses: message content (prefix commands) and
    server members (resolving members named in commands). Presences are not needed."""
    chosen = discord.Intents.default()
    chosen.message_content = True
    chosen.members = True
    return chosen


class PyTunes(GatewayGuardMixin, FeatureBot):
    def __init__(self, settings: Settings, *, clock: Clock | None = None, **options: Any) -> None:
        point_at(settings.discord_api_base_url, settings.discord_gateway_url)
        super().__init__(
            command_prefix=commands.when_mentioned_or(settings.command_prefix),
            intents=intents(),
            help_command=None,
            shard_count=settings.shard_count,
            chunk_guilds_at_startup=False,
            allowed_mentions=discord.AllowedMentions.none(),
            activity=discord.Activity(
                type=discord.ActivityType.listening,
                name=f"{settings.command_prefix}help · waiting for {settings.command_prefix}play",
            ),
            **options,
        )
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.tasks = TaskOwner("pytunes")
        self.replies = Replies(
            ReplyPolicy(
                reply_delete_seconds=settings.reply_delete_seconds,
                error_delete_seconds=settings.error_delete_seconds,
                prefix_cleanup_seconds=settings.prefix_cleanup_seconds,
            ),
            self.clock,
            self.tasks,
        )
        self.interactions = InteractionRouter(self.clock, self.tasks, is_ours=self._is_our_message)
        self._database: Database | None = None
        self._music: MusicService | None = None
        self._shutdown_hooks: list[ShutdownHook] = []

    def _is_our_message(self, interaction: discord.Interaction[Any]) -> bool:
        return (
            interaction.message is not None
            and self.user is not None
            and interaction.message.author.id == self.user.id
        )

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        # Synchronous and in gateway order: clicks are acknowledged and queued before any handler runs.
        if event_name == "interaction":
            self.interactions.feed(args[0])
        super().dispatch(event_name, *args, **kwargs)

    @property
    def music(self) -> MusicService:
        if self._music is None:
            raise RuntimeError("the music service is built in setup_hook")
        return self._music

    @music.setter
    def music(self, service: MusicService) -> None:
        self._music = service

    def at_shutdown(self, hook: ShutdownHook) -> None:
        self._shutdown_hooks.append(hook)

    @property
    def database(self) -> Database:
        if self._database is None:
            raise RuntimeError("the database is opened in setup_hook")
        return self._database

    async def login(self, token: str) -> None:
        # The HTTP session (and so its TLS trust) is created during login; the connector needs a running loop.
        connector = connector_trusting(self.settings.discord_ca_file)
        if connector is not None:
            self.http.connector = connector
        await super().login(token)

    async def setup_hook(self) -> None:
        self._database = await Database.open(self.settings.database_url)
        self.music = await build_music(self)
        self.at_shutdown(self._close_music)
        for extension in FEATURE_COGS:
            await self.load_extension(extension)
        if self.settings.sync_commands:
            await self.sync_commands_if_changed()

    async def sync_commands_if_changed(self) -> None:
        """Bulk-overwrite global slash commands only when their definition changed since the last sync."""
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = f"commands:{self.application_id}"
        if await app_state.get(self.database.engine, key) == digest:
            log.info("slash commands unchanged; not syncing")
            return
        await self.tree.sync()
        await app_state.put(self.database.engine, key, digest)
        log.info("synced %d slash commands", len(payload))

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guild(s)", self.user, len(self.guilds))

    async def on_command_completion(self, ctx: commands.Context[Any]) -> None:
        self.replies.cleanup_invocation(ctx)

    async def on_command_error(self, ctx: commands.Context[Any], error: commands.CommandError) -> None:
        if isinstance(error, commands.CommandNotFound):
            return  # "!" is shared with other bots; unknown commands are not ours to answer
        self.replies.cleanup_invocation(ctx)
        refusal = error.original if isinstance(error, commands.HybridCommandError) else error
        if isinstance(refusal, CheckRefusal):
            await self._report(
                ctx,
                lambda: self.replies.send(
                    ctx,
                    embed=refusal.embed(),
                    ephemeral=True,
                    delete_after=self.replies.policy.error_delete_seconds,
                ),
            )
            return
        text = describe_error(ctx, error)
        if text is None:
            reference = uuid.uuid4().hex[:8]
            log.error("command %s failed [%s]", ctx.command, reference, exc_info=error)
            text = f"Whoops, an internal error occurred (reference `{reference}`)."
        await self._report(ctx, lambda: self.replies.error(ctx, text))

    async def _report(self, ctx: commands.Context[Any], send: Callable[[], Awaitable[object]]) -> None:
        try:
            await send()
        except discord.HTTPException:
            log.warning("could not report an error for %s", ctx.command, exc_info=True)

    def show_activity(self, text: str | None) -> None:
        """Presence: what is playing, or the idle hint. Coalesced: only the latest value is sent."""
        prefix = self.settings.command_prefix
        status = text or f"{prefix}help · waiting for {prefix}play"
        self.want_presence(activity=discord.CustomActivity(name=status[:128]))

    async def _close_music(self) -> None:
        if self._music is not None:
            await self._music.close()
            self._music = None

    async def close(self) -> None:
        while self._shutdown_hooks:
            await self._shutdown_hooks.pop()()
        await self.tasks.close()
        await super().close()
        if self._database is not None:
            await self._database.close()
            self._database = None


def describe_error(ctx: commands.Context[Any], error: commands.CommandError) -> str | None:
    """The text a user sees for a command error, or None for an unexpected (internal) error."""
    if isinstance(error, commands.HybridCommandError):
        error = error.original  # type: ignore[assignment]
    usage = (
        f"`{ctx.clean_prefix}{ctx.command.qualified_name} {ctx.command.signature}`".replace(" `", "`")
        if ctx.command
        else ""
    )
    if isinstance(error, commands.MissingRequiredArgument):
        return f"Missing `{error.param.name}`. Usage: {usage}"
    if isinstance(error, commands.TooManyArguments):
        return f"Too many arguments. Usage: {usage}"
    if isinstance(error, commands.BadArgument | commands.BadUnionArgument | commands.ArgumentParsingError):
        return f"{error} Usage: {usage}"
    if isinstance(error, commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, commands.CheckFailure):
        return str(error) or "You can't use this command here."
    if isinstance(error, discord.app_commands.CheckFailure):
        return str(error) or "You can't use this command here."
    if isinstance(error, commands.UserInputError):
        return f"{error} Usage: {usage}"
    return None
