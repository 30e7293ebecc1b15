"""Library listings fit their embeds: every name is on some page, whatever the names look like."""

from __future__ import annotations

import itertools
from pathlib import Path

import discord
from hypothesis import given
from hypothesis import strategies as st

from pytunes.core.replies import DESCRIPTION_MAX
from pytunes.music.library.names import MAX_NAME_CHARS
from pytunes.music.library.pages import LIST_PAGE, LibraryPages, numbered, page_starts
from pytunes.music.library.store import Library, LibraryFile


def listed(embed: discord.Embed) -> list[str]:
    """The file names a page shows, markdown escapes undone."""
    lines = (embed.description or "").splitlines()[1:]
    return [line.split(" ", 1)[1].replace("\\", "") for line in lines]


async def test_long_underscored_names_are_all_listed(tmp_path: Path) -> None:
    # 20 names of 120 characters, each `_` escaped: about 5,000 characters, more than one embed holds.
    names = [f"{i:02}{'_' * (MAX_NAME_CHARS - 6)}.mp3" for i in range(40)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    pages = LibraryPages(Library(tmp_path), "!")
    count = await pages.page_count()
    seen = []
    for page in range(count):
        (embed,) = await pages.render(page)
        assert embed.description is not None
        assert len(embed.description) <= DESCRIPTION_MAX
        assert f"page {page + 1}/{count}" in (embed.footer.text or "")
        seen += listed(embed)
    assert seen == sorted(names, key=str.casefold), "every name once, in order"
    assert count > -(-len(names) // LIST_PAGE), "more pages than 20 a page would give"


async def test_short_names_still_come_20_a_page(tmp_path: Path) -> None:
    for i in range(47):
        (tmp_path / f"song {i:02}.mp3").write_bytes(b"x")
    pages = LibraryPages(Library(tmp_path), "!")
    assert await pages.page_count() == 3
    (last,) = await pages.render(5)  # past the end (files went meanwhile): the last page
    assert "page 3/3" in (last.footer.text or "")
    assert len(listed(last)) == 7


@given(
    lengths=st.lists(st.integers(min_value=1, max_value=600), max_size=80),
    budget=st.integers(min_value=50, max_value=4096),
    most=st.integers(min_value=1, max_value=25),
)
def test_pages_cover_every_line_once_within_the_budget(lengths: list[int], budget: int, most: int) -> None:
    starts = page_starts(lengths, budget, most)
    assert starts == sorted(set(starts))
    assert (starts[0] == 0) if lengths else (starts == [])
    bounds = [*starts, len(lengths)]
    for start, stop in itertools.pairwise(bounds):
        page = lengths[start:stop]
        assert 1 <= len(page) <= most
        assert len(page) == 1 or sum(page) + len(page) - 1 <= budget, "only a lone line may overflow"


@given(st.lists(st.text(alphabet="_*~`|>a@", min_size=1, max_size=MAX_NAME_CHARS), min_size=1, max_size=24))
def test_a_picker_list_always_fits_by_shortening_names(names: list[str]) -> None:
    files = [LibraryFile(f"{name}.mp3") for name in names]
    text = numbered(files, 0, budget=4000)
    assert len(text) <= 4000
    assert len(text.splitlines()) == len(files), "every file has its numbered line"
