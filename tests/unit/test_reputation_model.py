"""Reputation rules and layout, without Discord or a database."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytunes.core.replies import EMBED_TOTAL_MAX, FIELD_VALUE_MAX, embed_size
from pytunes.reputation import embeds
from pytunes.reputation.model import (
    DAY,
    Board,
    Given,
    NewRep,
    Period,
    Ranked,
    Refusal,
    RefusalKind,
    RepEntry,
    RepSettings,
    Source,
    board_page,
    board_pages,
    check_limits,
    check_target,
    clean_reason,
    describe_duration,
    neutralise_mentions,
    parse_budget,
    parse_cooldown,
    parse_rep_id,
    relative,
)

T = 1_800_000_000.0
PING = re.compile(r"@everyone|@here|<@[!&]?\d+>")


def test_targets() -> None:
    assert check_target(1, 2, receiver_is_bot=False) is None
    myself = check_target(1, 1, receiver_is_bot=False)
    assert myself is not None
    assert myself.kind is RefusalKind.SELF
    robot = check_target(1, 2, receiver_is_bot=True)
    assert robot is not None
    assert robot.kind is RefusalKind.BOT


def test_reason_is_trimmed_and_bounded() -> None:
    assert clean_reason("  thanks for the help \n") == "thanks for the help"
    assert clean_reason("x" * 300) == "x" * 300
    for blank in ("", "   ", "\n\t"):
        refused = clean_reason(blank)
        assert isinstance(refused, Refusal)
        assert refused.kind is RefusalKind.NO_REASON
    too_long = clean_reason("x" * 301)
    assert isinstance(too_long, Refusal)
    assert too_long.kind is RefusalKind.LONG_REASON
    assert "301 characters" in too_long.text


def test_reason_pings_are_defused() -> None:
    cleaned = clean_reason("hi @everyone @here <@123> <@!456> <@&789> mail a@b.org")
    assert cleaned == ("hi @\u200beveryone @\u200bhere <@\u200b123> <@\u200b!456> <@\u200b&789> mail a@b.org")


@given(st.text(alphabet=st.sampled_from("@<>!&#0123456789 everyonhr"), max_size=80))
def test_no_ping_survives_neutralising(text: str) -> None:
    shown = neutralise_mentions(text)
    assert not PING.search(shown)
    assert shown.replace("\u200b", "") == text.replace("\u200b", "")


def test_cooldown_ends_exactly_on_time_whatever_the_sign() -> None:
    settings = RepSettings(cooldown_seconds=600, daily_budget=10)
    refused = check_limits(T + 599, settings, 7, last_to_receiver=T, given_last_day=[T])
    assert refused is not None
    assert refused.kind is RefusalKind.COOLDOWN
    assert refused.retry_at == T + 600
    assert f"<t:{int(T) + 600}:R>" in refused.text
    assert "<@7>" in refused.text
    assert check_limits(T + 600, settings, 7, last_to_receiver=T, given_last_day=[T]) is None
    assert check_limits(T + 1, RepSettings(0, 10), 7, last_to_receiver=T, given_last_day=[T]) is None


def test_budget_is_rolling() -> None:
    settings = RepSettings(cooldown_seconds=600, daily_budget=3)
    times = [T, T + 100, T + 200]
    refused = check_limits(T + 300, settings, 7, last_to_receiver=None, given_last_day=times)
    assert refused is not None
    assert refused.kind is RefusalKind.BUDGET
    assert refused.retry_at == T + DAY
    assert check_limits(T + DAY, settings, 7, last_to_receiver=None, given_last_day=times) is None
    # Budget lowered to 1 with three reps in the window: the last of them has to leave first.
    lowered = check_limits(T + 300, RepSettings(600, 1), 7, last_to_receiver=None, given_last_day=times)
    assert lowered is not None
    assert lowered.retry_at == T + 200 + DAY


def test_when_both_limits_apply_the_longer_one_is_reported() -> None:
    settings = RepSettings(cooldown_seconds=3600, daily_budget=2)
    # Budget frees at T + DAY, the cooldown at T + 3600 + 500: the budget is what really blocks.
    refused = check_limits(T + 600, settings, 7, last_to_receiver=T + 500, given_last_day=[T, T + 500])
    assert refused is not None
    assert refused.kind is RefusalKind.BUDGET
    refused = check_limits(
        T + DAY + 600, settings, 7, last_to_receiver=T + DAY + 500, given_last_day=[T + 1, T + DAY + 500]
    )
    assert refused is not None
    assert refused.kind is RefusalKind.COOLDOWN


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10m", 600),
        ("90s", 90),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("5", 300),
        ("off", 0),
        ("0", 0),
        ("24h", DAY),
    ],
)
def test_cooldown_values(text: str, seconds: int) -> None:
    assert parse_cooldown(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "25h", "10 minutes", "-5", "1d", "`@everyone`"])
def test_bad_cooldown_values(text: str) -> None:
    refused = parse_cooldown(text)
    assert isinstance(refused, Refusal)
    assert not PING.search(refused.text)


def test_budget_and_rep_id_values() -> None:
    assert parse_budget("1") == 1
    assert parse_budget("1000") == 1000
    for bad in ("0", "1001", "ten", "-1", ""):
        assert isinstance(parse_budget(bad), Refusal)
    assert parse_rep_id("#12") == 12
    assert parse_rep_id(" 7 ") == 7
    for bad in ("0", "-3", "abc", "#", str(2**40)):
        assert isinstance(parse_rep_id(bad), Refusal)


def test_durations_and_timestamps_read_well() -> None:
    assert describe_duration(600) == "10 minutes"
    assert describe_duration(3661) == "1 hour 1 minute 1 second"
    assert relative(T + 0.2) == f"<t:{int(T) + 1}:R>"  # never promises a moment too early


def test_source_is_exactly_one_message_or_interaction() -> None:
    Source(1, message_id=2)
    Source(1, interaction_id=3)
    with pytest.raises(ValueError, match="exactly one"):
        Source(1)
    with pytest.raises(ValueError, match="exactly one"):
        Source(1, message_id=2, interaction_id=3)


# ------------------------------------------------------------------------------------------ layout


def test_board_layout_matches_the_reference() -> None:
    assert board_pages(0) == 0
    assert [board_pages(n) for n in (1, 5, 10, 11, 15, 16, 25, 26)] == [1, 1, 1, 2, 2, 3, 3, 4]
    assert board_page(7, 0).top == (0, 7)
    assert board_page(7, 0).hidden == 0
    summary = board_page(16, 0)
    assert (summary.top, summary.bottom, summary.hidden) == ((0, 5), 5, 6)
    assert board_page(16, 1).top == (5, 10)
    assert board_page(16, 2).top == (15, 1)
    assert board_page(16, 99).top == (15, 1)  # clamped


@given(st.integers(min_value=1, max_value=500))
def test_board_pages_cover_every_rank_once(ranked: int) -> None:
    summary = board_page(ranked, 0)
    assert summary.top[1] + summary.bottom + summary.hidden == ranked
    detail = [board_page(ranked, p).top for p in range(1, board_pages(ranked))]
    shown = [r for offset, count in detail for r in range(offset, offset + count)]
    assert all(1 <= count <= 10 for _, count in detail)
    assert shown == (list(range(5, ranked)) if ranked > 10 else [])


# ------------------------------------------------------------------------------------------ embeds


def test_history_page_of_worst_case_reasons_fits_discord() -> None:
    # Longest reasons, one line break every character, pings everywhere; also an over-long legacy row.
    nasty = ("@everyone\n" * 40)[:300]
    entries = [RepEntry(2**31 - i, 2**63 - i, 1, nasty if i else "y" * 5000, T) for i in range(5)]
    embed = embeds.history_page(2**63 - 1, entries, total=-(10**9), count=10**9)
    assert len(embed.fields) == 5, "no entry may be dropped to make the page fit"
    assert all(len(f.value or "") <= FIELD_VALUE_MAX for f in embed.fields)
    assert embed_size(embed) <= EMBED_TOTAL_MAX
    assert "@everyone" not in str(embed.to_dict())


def test_announcement_and_board_embeds() -> None:
    rep = NewRep(1, 2, 3, -1, "x" * 300, Source(1, message_id=5))
    embed = embeds.given(Given(42, rep, T, -3))
    assert embed.title == "❌  Reputation Decreased"
    assert [f.name for f in embed.fields] == [
        "Given by",
        "-->",
        "Target",
        "Amount",
        "\u200b",
        "Current rep",
        "Reason",
    ]
    assert embed.fields[-1].value == "> " + "x" * 300
    assert embed.footer.text == "Rep #42"
    ranks = [Ranked(r, 10**18 + r, 100 - r, 1) for r in (1, 2, 3, 4, 5, 96, 97, 98, 99, 100)]
    line = embeds.board_line  # the line format
    assert line(ranks[0]) == f"🥇 <@{10**18 + 1}> `+99` (1 rep)"
    assert line(Ranked(12, 5, -1, 2)) == "**#12** <@5> `-1` (2 reps)"
    assert line(Ranked(4, 5, 0, 3)) == "**#4** <@5> `0` (3 reps)"
    page = embeds.board(Period.WEEK, Board(100, board_page(100, 0), ranks[:5], ranks[5:]))
    lines = (page.description or "").splitlines()
    assert lines[5] == "⋯ *90 more users in between* ⋯"
    assert page.footer.text == "👥 Ranked users: 100"
    assert page.title == "🏆  Reputation leaderboard · last 7 days"
