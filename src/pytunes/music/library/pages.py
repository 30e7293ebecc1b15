"""The library as numbered names in embeds: `local list`'s pages and the pickers' lists.

Every name must be seen. A name is up to 120 characters, and `safe` puts a backslash in front of each `_`,
`*` or `~`, so 20 hostile names can be twice what an embed description holds (4,096 characters), and
`make_embed` would clip the last ones off without a word. So `local list` cuts its pages by characters as
well as by count, and a picker, whose page size the buttons fix, shortens the names instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from pytunes.core.replies import DESCRIPTION_MAX, Tone, clip, make_embed
from pytunes.music.embeds import safe
from pytunes.music.library.store import LibraryFile

if TYPE_CHECKING:
    from pytunes.music.library.store import Library

LIST_PAGE = 20  # names per `local list` page at most
NUMBER_WIDTH = len("`9999.` ")
SHORTEST_NAME = 16  # a picker never shortens a name below this (plus the ellipsis)


def numbered_line(index: int, file: LibraryFile, *, limit: int | None = None) -> str:
    name = file.name if limit is None else clip(file.name, limit)
    return f"`{index + 1}.` {safe(name)}"


def numbered(files: Sequence[LibraryFile], start: int = 0, *, budget: int = DESCRIPTION_MAX) -> str:
    """`files` as numbered lines from `start`, shortening the names only if all of them in full would
    not fit `budget` characters: each gets an equal share of it, in the worst case of escaping."""
    text = "\n".join(numbered_line(start + i, f) for i, f in enumerate(files))
    if len(text) <= budget or not files:
        return text
    share = budget // len(files) - NUMBER_WIDTH - 1  # the newline
    limit = max(SHORTEST_NAME, share // 2)  # `safe` at most doubles a name
    return "\n".join(numbered_line(start + i, f, limit=limit) for i, f in enumerate(files))


def page_starts(lengths: Sequence[int], budget: int, most: int = LIST_PAGE) -> list[int]:
    """Where each page starts, for lines of these lengths: as many lines as fit, at most `most`, whose
    total with the newlines between them is within `budget`. A line longer than `budget` alone gets a
    page of its own. No lines: no pages."""
    starts: list[int] = []
    used = count = 0
    for index, length in enumerate(lengths):
        if starts and count < most and used + 1 + length <= budget:
            used += 1 + length
            count += 1
            continue
        starts.append(index)
        used, count = length, 1
    return starts


class LibraryPages:
    """The library as pages of numbered file names, re-read on every click."""

    def __init__(self, library: Library, prefix: str) -> None:
        self.library = library
        self.prefix = prefix

    @property
    def header(self) -> str:
        return f"Saved tracks (use `{self.prefix}local play <name>`):\n"

    def _paged(self, files: list[LibraryFile]) -> tuple[list[str], list[int]]:
        lines = [numbered_line(i, f) for i, f in enumerate(files)]
        return lines, page_starts([len(line) for line in lines], DESCRIPTION_MAX - len(self.header))

    async def page_count(self) -> int:
        return len(self._paged(await self.library.files())[1])

    async def render(self, page: int) -> list[discord.Embed]:
        files = await self.library.files()
        lines, starts = self._paged(files)
        # The library may have shrunk since the page count was taken: show its last page then.
        page = min(page, max(0, len(starts) - 1))
        bounds = [*starts, len(lines)]
        shown = lines[bounds[page] : bounds[page + 1]] if starts else []
        footer = f"{len(files)} file(s) · page {page + 1}/{max(1, len(starts))}"
        return [make_embed("📁  Local library", self.header + "\n".join(shown), footer=footer)]

    async def render_empty(self) -> list[discord.Embed]:
        return [empty_library(self.prefix)]


def empty_library(prefix: str) -> discord.Embed:
    return make_embed(
        "📁  Local library empty",
        f"Add tracks with `{prefix}local download <url>` or `{prefix}local upload` with a file attached.",
        tone=Tone.WARNING,
    )
