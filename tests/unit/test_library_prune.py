"""Pruning kept uploads: old ones go, except those a player or saved session still holds, and young ones."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pytunes.music.library.store import (
    ATTACHMENTS_KEEP,
    ATTACHMENTS_MAX_AGE,
    ATTACHMENTS_MIN_AGE,
    Library,
    prunable,
)

HOUR = 3600.0


def upload(library: Library, name: str, age: float) -> None:
    library.attachments.mkdir(parents=True, exist_ok=True)
    path = library.attachments / name
    path.write_bytes(b"x")
    then = time.time() - age
    os.utime(path, (then, then))


def kept(library: Path) -> set[str]:
    return set(os.listdir(library / ".attachments"))


async def test_old_uploads_go_unless_something_still_holds_them(tmp_path: Path) -> None:
    library = Library(tmp_path)
    upload(library, "1-queued.mp3", ATTACHMENTS_MAX_AGE + HOUR)
    upload(library, "2-forgotten.mp3", ATTACHMENTS_MAX_AGE + HOUR)
    upload(library, "3-new.mp3", 60)
    await library.prune_attachments({"1-queued.mp3"})
    assert kept(tmp_path) == {"1-queued.mp3", "3-new.mp3"}


async def test_beyond_the_count_only_unheld_uploads_older_than_an_hour_go(tmp_path: Path) -> None:
    library = Library(tmp_path)
    for i in range(ATTACHMENTS_KEEP):
        upload(library, f"{i}-recent.mp3", HOUR + i)  # the newest 200
    upload(library, "a-held.mp3", 2 * HOUR + ATTACHMENTS_KEEP)
    upload(library, "b-unheld.mp3", 2 * HOUR + ATTACHMENTS_KEEP)
    await library.prune_attachments({"a-held.mp3"})
    left = kept(tmp_path)
    assert "a-held.mp3" in left
    assert "b-unheld.mp3" not in left
    assert len(left) == ATTACHMENTS_KEEP + 1


async def test_an_upload_no_queue_took_is_discarded(tmp_path: Path) -> None:
    library = Library(tmp_path)
    upload(library, "1-a.mp3", 0)
    await library.discard_attachment("1-a.mp3")
    await library.discard_attachment("1-a.mp3")  # already gone: nothing to do
    await library.discard_attachment("../escape.mp3")  # not a stored name: nothing outside is touched
    assert kept(tmp_path) == set()


@given(
    ages=st.dictionaries(
        st.text("abc123", min_size=1, max_size=4), st.floats(min_value=0, max_value=2 * ATTACHMENTS_MAX_AGE)
    ),
    picks=st.sets(st.text("abc123", min_size=1, max_size=4)),
    keep=st.integers(min_value=0, max_value=5),
)
def test_pruning_never_takes_a_held_or_young_upload(
    ages: dict[str, float], picks: set[str], keep: int
) -> None:
    needed = picks & set(ages)
    doomed = prunable(ages, needed, keep=keep)
    assert doomed <= set(ages) - needed, "never one a player or saved session holds"
    assert all(ages[name] > ATTACHMENTS_MIN_AGE for name in doomed), "never one younger than an hour"
    assert all(name in doomed for name in set(ages) - needed if ages[name] > ATTACHMENTS_MAX_AGE)
    spared = [name for name in set(ages) - needed - doomed if ages[name] > ATTACHMENTS_MIN_AGE]
    assert len(spared) <= keep, "of those that may go, at most `keep` old ones stay"
