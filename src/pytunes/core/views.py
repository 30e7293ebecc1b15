"""The paginator and the picker, both built on the ordered click stream.

Buttons are rendered with discord.ui but never registered as discord.py views: clicks reach the flow
through `InteractionRouter` only, acknowledged on arrival and in order. Layouts respect Discord's
5 rows × 5 buttons by construction.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import discord
from discord.ext import commands

from pytunes.core.interactions import Click, InteractionRouter
from pytunes.core.replies import Replies

ROW_WIDTH = 5
MAX_ROWS = 5


@dataclass(frozen=True)
class ButtonSpec:
    label: str
    custom_id: str
    style: discord.ButtonStyle = discord.ButtonStyle.secondary
    disabled: bool = False


def render_view(rows: Sequence[Sequence[ButtonSpec]]) -> discord.ui.View | None:
    """A discord.ui.View holding `rows` of buttons, or None when there are none."""
    if not any(rows):
        return None
    if len(rows) > MAX_ROWS or any(len(r) > ROW_WIDTH for r in rows):
        raise ValueError("Discord allows at most 5 rows of 5 buttons")
    view = discord.ui.View(timeout=None)
    for index, row in enumerate(rows):
        for spec in row:
            view.add_item(
                discord.ui.Button(
                    label=spec.label[:80],
                    custom_id=spec.custom_id,
                    style=spec.style,
                    disabled=spec.disabled,
                    row=index,
                )
            )
    # Stopped before it is sent: discord.py must not dispatch these clicks itself.
    view.stop()
    return view


def rows_of(buttons: Sequence[ButtonSpec], *, balanced: bool = False) -> list[list[ButtonSpec]]:
    """Rows of at most 5. Balanced spreads them evenly (10 → 5+5, 7 → 4+3, 6 → 3+3)."""
    if not buttons:
        return []
    rows = math.ceil(len(buttons) / ROW_WIDTH)
    width = math.ceil(len(buttons) / rows) if balanced else ROW_WIDTH
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def author_only(
    author_id: int, refusal: str, *, cooldown: float = 0.0, clock: Callable[[], float] = time.monotonic
) -> Callable[[Click], str | None]:
    """Accept only the author's clicks; others are told `refusal`, at most once per `cooldown` seconds each."""
    told: dict[int, float] = {}

    def accept(click: Click) -> str | None:
        if click.user.id == author_id:
            return None
        now = clock()
        if cooldown and now - told.get(click.user.id, -math.inf) < cooldown:
            return ""  # refused silently: they were told a moment ago
        told[click.user.id] = now
        return refusal

    return accept


# --------------------------------------------------------------------------------------------- paginator


class PageSource(Protocol):
    """What a paginator shows. Re-read on every click, so a live list (the queue) stays current."""

    async def page_count(self) -> int: ...

    async def render(self, page: int) -> list[discord.Embed]:
        """Page `page` (0-based, always < page_count)."""

    async def render_empty(self) -> list[discord.Embed]:
        """What to show when the source has become empty."""


class OnTimeout(Enum):
    DELETE = "delete"  # remove the message
    STRIP = "strip"  # keep the message, remove its buttons


@dataclass(frozen=True)
class PaginatorLabels:
    previous: str = "◀"
    next: str = "▶"
    style: discord.ButtonStyle = discord.ButtonStyle.secondary


def nav_row(page: int, pages: int, labels: PaginatorLabels, prefix: str = "page") -> list[ButtonSpec]:
    return [
        ButtonSpec(labels.previous, f"{prefix}:prev", labels.style, disabled=page <= 0),
        ButtonSpec(f"{page + 1}/{pages}", f"{prefix}:at", discord.ButtonStyle.secondary, disabled=True),
        ButtonSpec(labels.next, f"{prefix}:next", labels.style, disabled=page >= pages - 1),
    ]


Send = Callable[[list[discord.Embed], discord.ui.View | None], Awaitable[discord.Message | None]]


class Paginator:
    """◀ · page i/n · ▶ over a `PageSource`. A single page gets no buttons at all."""

    def __init__(
        self,
        router: InteractionRouter,
        source: PageSource,
        *,
        author_id: int,
        refusal: str,
        timeout: float,
        on_timeout: OnTimeout = OnTimeout.STRIP,
        notice_cooldown: float = 0.0,
        labels: PaginatorLabels | None = None,
    ) -> None:
        self.router = router
        self.source = source
        self.author_id = author_id
        self.refusal = refusal
        self.timeout = timeout
        self.on_timeout = on_timeout
        self.notice_cooldown = notice_cooldown
        self.labels = labels or PaginatorLabels()
        self.page = 0

    def _view(self, pages: int) -> discord.ui.View | None:
        return render_view([nav_row(self.page, pages, self.labels)]) if pages > 1 else None

    async def run(self, send: Send, *, start: int = 0) -> discord.Message | None:
        """Send the first page with `send`, then follow clicks until `timeout` seconds pass without one."""
        pages = await self.source.page_count()
        if pages == 0:
            return await send(await self.source.render_empty(), None)
        self.page = min(max(start, 0), pages - 1)
        message = await send(await self.source.render(self.page), self._view(pages))
        if message is None or pages == 1:
            return message
        accept = author_only(
            self.author_id, self.refusal, cooldown=self.notice_cooldown, clock=self.router.clock.monotonic
        )
        async with self.router.stream(message, accept=accept) as stream:
            while (click := await stream.next_within(self.timeout)) is not None:
                pages = await self.source.page_count()
                if pages == 0:
                    await click.edit_message(embeds=await self.source.render_empty(), remove_view=True)
                    return message
                step = {"page:prev": -1, "page:next": 1}.get(click.custom_id, 0)
                self.page = min(max(self.page + step, 0), pages - 1)
                await click.edit_message(
                    embeds=await self.source.render(self.page), view=self._view(pages), remove_view=pages == 1
                )
        with contextlib.suppress(discord.HTTPException):
            if self.on_timeout is OnTimeout.DELETE:
                await message.delete()
            else:
                await message.edit(view=None)
        return message


# --------------------------------------------------------------------------------------------- picker


class PickOutcome(Enum):
    PICKED = "picked"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@dataclass
class Pick:
    outcome: PickOutcome
    index: int | None = None
    click: Click | None = None


CANCEL_ID = "pick:cancel"
SINGLE_PAGE_MAX = ROW_WIDTH * MAX_ROWS - 1  # 24 choices + Cancel fill 25 buttons
PAGED_CHOICES = ROW_WIDTH * (MAX_ROWS - 1)  # 20 choices + a navigation row


class Picker:
    """Numbered choices plus ❌ Cancel; only the author may pick; expires after `timeout` seconds.

    More choices than fit on one message are paged (20 per page plus ◀ page ▶ ❌), so Discord's
    25-component limit can never be exceeded.
    """

    def __init__(
        self,
        router: InteractionRouter,
        *,
        count: int,
        author_id: int,
        refusal: str,
        timeout: float,
        cancel: bool = True,
        balanced: bool = False,
        notice_cooldown: float = 0.0,
    ) -> None:
        if count < 1:
            raise ValueError("a picker needs at least one choice")
        self.router = router
        self.count = count
        self.author_id = author_id
        self.refusal = refusal
        self.timeout = timeout
        self.cancel = cancel
        self.balanced = balanced
        self.notice_cooldown = notice_cooldown
        self.page = 0

    @property
    def per_page(self) -> int:
        return (
            self.count
            if self.count <= (SINGLE_PAGE_MAX if self.cancel else SINGLE_PAGE_MAX + 1)
            else PAGED_CHOICES
        )

    @property
    def pages(self) -> int:
        return math.ceil(self.count / self.per_page)

    def page_range(self) -> range:
        start = self.page * self.per_page
        return range(start, min(start + self.per_page, self.count))

    def view(self) -> discord.ui.View | None:
        choices = [ButtonSpec(str(i + 1), f"pick:{i}") for i in self.page_range()]
        rows = rows_of(choices, balanced=self.balanced)
        cancel = ButtonSpec("❌ Cancel", CANCEL_ID, discord.ButtonStyle.danger)
        if self.pages > 1:
            rows.append(
                [*nav_row(self.page, self.pages, PaginatorLabels()), *([cancel] if self.cancel else [])]
            )
        elif self.cancel:
            if rows and len(rows[-1]) < ROW_WIDTH and not self.balanced:
                rows[-1].append(cancel)
            else:
                rows.append([cancel])
        return render_view(rows)

    async def run(
        self, message: discord.Message, on_page: Callable[[Click, int], Awaitable[None]] | None = None
    ) -> Pick:
        """Follow clicks on `message` (already sent with `view()`); the deadline is absolute from now.
        `on_page(click, page)` re-renders the message when the user pages through the choices."""
        accept = author_only(
            self.author_id, self.refusal, cooldown=self.notice_cooldown, clock=self.router.clock.monotonic
        )
        deadline = self.router.clock.monotonic() + self.timeout
        async with self.router.stream(message, accept=accept) as stream:
            while (click := await stream.next_within(deadline - self.router.clock.monotonic())) is not None:
                if click.custom_id == CANCEL_ID:
                    return Pick(PickOutcome.CANCELLED, click=click)
                if click.custom_id in ("page:prev", "page:next"):
                    self.page = min(
                        max(self.page + (1 if click.custom_id == "page:next" else -1), 0), self.pages - 1
                    )
                    if on_page is not None:
                        await on_page(click, self.page)
                    else:
                        await click.edit_message(view=self.view())
                    continue
                index = int(click.custom_id.removeprefix("pick:"))
                if 0 <= index < self.count:
                    return Pick(PickOutcome.PICKED, index, click)
        return Pick(PickOutcome.EXPIRED)


async def reply_with_pages(
    ctx: commands.Context[Any],
    router: InteractionRouter,
    replies: Replies,
    source: PageSource,
    *,
    refusal: str,
    timeout: float,
) -> None:
    """A paged reply to `ctx`: private for a slash command; for a prefix command it is public and removed
    once its buttons stop working."""
    paginator = Paginator(
        router, source, author_id=ctx.author.id, refusal=refusal, timeout=timeout, on_timeout=OnTimeout.STRIP
    )

    async def send(pages: list[discord.Embed], view: discord.ui.View | None) -> discord.Message | None:
        return await replies.send(ctx, embeds=pages, view=view, ephemeral=True, delete_after=timeout)

    await paginator.run(send)
