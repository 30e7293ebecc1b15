"""Rules of wakeup, rename and help, without Discord."""

from __future__ import annotations

import pytest

from pytunes.utility.help import PAGE_CHARS_MAX, PAGE_FIELDS_MAX, paginate
from pytunes.utility.rules import Cooldowns, away_channel, may_rename, may_wake, nickname


def test_cooldown_per_key() -> None:
    cooldowns = Cooldowns(300)
    assert cooldowns.claim(("g", 1), now=0) is None
    assert cooldowns.claim(("g", 1), now=100) == 200
    assert cooldowns.claim(("g", 2), now=100) is None, "another target is not affected"
    assert cooldowns.claim(("g", 1), now=300) is None
    cooldowns.release(("g", 1))
    assert cooldowns.claim(("g", 1), now=301) is None


@pytest.mark.parametrize(
    ("actor", "target", "owner", "actor_top", "target_top", "allowed"),
    [
        (1, 2, 9, 5, 5, True),  # equal roles
        (1, 2, 9, 4, 5, False),  # outranked
        (1, 1, 9, 0, 5, True),  # yourself
        (9, 2, 9, 0, 5, True),  # the owner
        (1, 2, 9, 6, 5, True),
    ],
)
def test_rename_rule(
    actor: int, target: int, owner: int, actor_top: int, target_top: int, allowed: bool
) -> None:
    assert (
        may_rename(
            actor_id=actor, target_id=target, owner_id=owner, actor_top=actor_top, target_top=target_top
        )
        is allowed
    )


def test_nickname() -> None:
    assert nickname(None) is None
    assert nickname("   ") is None
    assert nickname(" Bob ") == "Bob"
    assert nickname("x" * 32) == "x" * 32
    with pytest.raises(ValueError, match="32"):
        nickname("x" * 33)


def test_wakeup_rules() -> None:
    assert may_wake(can_move_members=True, author_channel=None, target_channel=5)
    assert may_wake(can_move_members=False, author_channel=5, target_channel=5)
    assert not may_wake(can_move_members=False, author_channel=6, target_channel=5)
    assert not may_wake(can_move_members=False, author_channel=None, target_channel=5)
    assert away_channel(7, {7, 8}, 8) == 7
    assert away_channel(7, {8}, 8) == 8, "a configured channel of another server is ignored"
    assert away_channel(None, {8}, None) is None


def test_help_pages_fit_discord() -> None:
    fields = [(f"Feature {n}", "x" * 1000) for n in range(12)] + [(f"Small {n}", "y") for n in range(40)]
    pages = paginate(fields)
    assert [f for page in pages for f in page] == fields
    for page in pages:
        assert len(page) <= PAGE_FIELDS_MAX
        assert sum(len(a) + len(b) for a, b in page) <= PAGE_CHARS_MAX
    assert paginate([("a", "b")]) == [[("a", "b")]]
