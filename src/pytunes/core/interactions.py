"""Every click acknowledged on arrival, and handled in the order it was made.

Discord expires a click 3 s after it is made. discord.py acknowledges nothing by itself and runs each
click's callback as its own task, so later clicks overtake earlier ones at every `await`. Here:

* `InteractionRouter.feed` is called synchronously from the bot's `dispatch`, i.e. in exactly the order
  the gateway delivered the clicks. It starts each click's acknowledgement at once, concurrently with
  every other acknowledgement, and queues the click on the `ClickStream` of its message.
* The consumer of a stream sees its clicks one at a time, in that order (`async for click in stream`,
  `await stream.next_within(seconds)`), only after their acknowledgement succeeded, so an acknowledgement
  never waits for a handler and a handler never waits for later acknowledgements.
* Clicks on a PyTunes message that no flow listens to any more (it timed out, or the bot restarted) are
  answered with a private "this has expired" note instead of silence.
* After the acknowledgement a flow may only edit the message or send followups: `Click` exposes exactly
  those, so no flow can call the initial-response API by mistake.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, cast

import discord

from pytunes.core.clock import Clock
from pytunes.core.replies import CONTENT_MAX, NO_PINGS, clip, fit_total
from pytunes.core.tasks import TaskOwner

log = logging.getLogger(__name__)

EXPIRED_TEXT = "This has expired. Run the command again to get fresh buttons."


class AckStyle(Enum):
    UPDATE = "update"  # deferred update: the message stays as it is until the flow edits it
    PRIVATE = "private"  # deferred ephemeral: the flow answers with a private followup


Acceptance = Callable[["Click"], str | None]
"""Returns None to accept a click, or the reason (shown privately to the clicker) to refuse it; an empty
reason refuses without a word."""


def component_data(interaction: discord.Interaction[Any]) -> dict[str, Any]:
    return cast(dict[str, Any], interaction.data or {})


def custom_id_of(interaction: discord.Interaction[Any]) -> str:
    return str(component_data(interaction).get("custom_id", ""))


@dataclass(eq=False)
class Click:
    """One acknowledged click. Flows talk back only through these methods."""

    interaction: discord.Interaction[Any]
    seq: int
    acked: asyncio.Future[bool] = field(repr=False)

    @property
    def user(self) -> discord.User | discord.Member:
        return self.interaction.user

    @property
    def custom_id(self) -> str:
        return custom_id_of(self.interaction)

    @property
    def values(self) -> list[str]:
        return [str(v) for v in component_data(self.interaction).get("values", [])]

    @property
    def message(self) -> discord.Message | None:
        return self.interaction.message

    async def edit_message(
        self,
        *,
        content: str | None = None,
        embeds: list[discord.Embed] | None = None,
        view: discord.ui.View | None = None,
        remove_view: bool = False,
    ) -> None:
        """Edit the message the clicked control is on."""
        kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS}
        if content is not None:
            kwargs["content"] = clip(content, CONTENT_MAX)
        if embeds is not None:
            kwargs["embeds"] = [fit_total(e) for e in embeds]
        if view is not None or remove_view:
            kwargs["view"] = view
        await self.interaction.edit_original_response(**kwargs)

    async def delete_message(self) -> None:
        with contextlib.suppress(discord.NotFound):
            await self.interaction.delete_original_response()

    async def reply_private(self, content: str | None = None, *, embed: discord.Embed | None = None) -> None:
        """A followup only the clicker sees."""
        await self.interaction.followup.send(
            content=clip(content, CONTENT_MAX) if content else discord.utils.MISSING,
            embed=fit_total(embed) if embed else discord.utils.MISSING,
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    async def reply(
        self, content: str | None = None, *, embed: discord.Embed | None = None
    ) -> discord.Message:
        """A public followup in the channel."""
        return await self.interaction.followup.send(
            content=clip(content, CONTENT_MAX) if content else discord.utils.MISSING,
            embed=fit_total(embed) if embed else discord.utils.MISSING,
            allowed_mentions=NO_PINGS,
            wait=True,
        )


class ClickStream:
    """The clicks on one message, acknowledged on arrival and delivered one at a time in click order."""

    def __init__(
        self,
        router: InteractionRouter,
        message_id: int,
        *,
        ack: AckStyle = AckStyle.UPDATE,
        accept: Acceptance | None = None,
    ) -> None:
        self.router = router
        self.message_id = message_id
        self.ack = ack
        self.accept = accept
        self._queue: deque[Click] = deque()
        self._arrived = asyncio.Event()
        self.closed = False

    def _arrive(self, click: Click) -> None:
        self._queue.append(click)
        self._arrived.set()

    async def next_within(self, seconds: float | None) -> Click | None:
        """The next accepted click, or None when `seconds` pass first or the stream closes."""
        deadline_task: asyncio.Task[None] | None = None
        if seconds is not None:
            deadline_task = asyncio.create_task(self.router.clock.sleep(seconds))
        try:
            while not self.closed:
                while self._queue:
                    click = self._queue.popleft()
                    if not await click.acked:
                        continue  # Discord refused the acknowledgement; nothing can be said to this click
                    reason = self.accept(click) if self.accept else None
                    if reason is None:
                        return click
                    if reason:  # an empty reason refuses silently (the clicker was told a moment ago)
                        self.router.say_privately(click, reason)
                self._arrived.clear()
                waiter = asyncio.create_task(self._arrived.wait())
                waits: set[asyncio.Task[Any]] = {waiter} if deadline_task is None else {waiter, deadline_task}
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                if waiter not in done:
                    waiter.cancel()
                    return None
            return None
        finally:
            if deadline_task is not None:
                deadline_task.cancel()

    def __aiter__(self) -> ClickStream:
        return self

    async def __anext__(self) -> Click:
        click = await self.next_within(None)
        if click is None:
            raise StopAsyncIteration
        return click

    def close(self) -> None:
        """Stop listening. Clicks already acknowledged but not handled are told the control expired."""
        if self.closed:
            return
        self.closed = True
        self._arrived.set()
        self.router._unregister(self)
        while self._queue:
            self.router.say_expired(self._queue.popleft())

    async def __aenter__(self) -> ClickStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


PersistentHandler = Callable[[discord.Interaction[Any]], Awaitable[bool]]


class InteractionRouter:
    """Owns every component click on PyTunes' messages: acknowledgement, routing and expiry notes."""

    def __init__(
        self, clock: Clock, tasks: TaskOwner, is_ours: Callable[[discord.Interaction[Any]], bool]
    ) -> None:
        self.clock = clock
        self.tasks = tasks
        self.is_ours = is_ours
        self._streams: dict[int, ClickStream] = {}
        self._persistent: dict[str, PersistentHandler] = {}
        self._seq = itertools.count(1)

    def stream(
        self,
        message: discord.Message | discord.InteractionMessage,
        *,
        ack: AckStyle = AckStyle.UPDATE,
        accept: Acceptance | None = None,
    ) -> ClickStream:
        """Start listening to clicks on `message`. Close the stream (or use `async with`) when the flow ends."""
        if message.id in self._streams:
            raise RuntimeError(f"message {message.id} already has a click stream")
        stream = ClickStream(self, message.id, ack=ack, accept=accept)
        self._streams[message.id] = stream
        return stream

    def _unregister(self, stream: ClickStream) -> None:
        if self._streams.get(stream.message_id) is stream:
            del self._streams[stream.message_id]

    def persistent(self, prefix: str, handler: PersistentHandler) -> None:
        """Route clicks whose custom_id starts with `prefix` and that no live stream claims (restored flows).
        The handler must acknowledge the click itself and return True if it did."""
        self._persistent[prefix] = handler

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    def feed(self, interaction: discord.Interaction[Any]) -> None:
        """Called synchronously, in gateway order, for every interaction the bot receives."""
        if interaction.type is not discord.InteractionType.component or interaction.message is None:
            return
        stream = self._streams.get(interaction.message.id)
        if stream is not None and not stream.closed:
            acked = asyncio.get_running_loop().create_future()
            click = Click(interaction, next(self._seq), acked)
            self.tasks.spawn(self._acknowledge(click, stream.ack), name=f"ack-{interaction.id}")
            stream._arrive(click)
            return
        custom_id = custom_id_of(interaction)
        for prefix, handler in self._persistent.items():
            if custom_id.startswith(prefix):
                self.tasks.spawn(self._persist(interaction, handler), name=f"persistent-{interaction.id}")
                return
        if self.is_ours(interaction):
            self.tasks.spawn(self._answer(interaction, EXPIRED_TEXT), name=f"expired-{interaction.id}")

    async def _acknowledge(self, click: Click, style: AckStyle) -> None:
        try:
            if style is AckStyle.PRIVATE:
                await click.interaction.response.defer(ephemeral=True, thinking=True)
            else:
                await click.interaction.response.defer()
        except discord.HTTPException:
            log.warning("could not acknowledge click %s", click.interaction.id, exc_info=True)
            click.acked.set_result(False)
        except BaseException:
            click.acked.set_result(False)
            raise
        else:
            click.acked.set_result(True)

    async def _persist(self, interaction: discord.Interaction[Any], handler: PersistentHandler) -> None:
        if not await handler(interaction) and not interaction.response.is_done():
            await self._answer(interaction, EXPIRED_TEXT)

    async def _answer(self, interaction: discord.Interaction[Any], text: str) -> None:
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.send_message(text, ephemeral=True)

    def say_privately(self, click: Click, text: str) -> None:
        self.tasks.spawn(self._followup(click, text), name=f"notice-{click.interaction.id}")

    def say_expired(self, click: Click) -> None:
        self.say_privately(click, EXPIRED_TEXT)

    async def _followup(self, click: Click, text: str) -> None:
        if not await click.acked:
            return
        with contextlib.suppress(discord.HTTPException):
            await click.reply_private(text)
