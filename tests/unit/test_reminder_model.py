"""Reminder rules without Discord: the note's limits and safety, the retry schedule, ids."""

from __future__ import annotations

import pytest

from pytunes.reminders.model import (
    NOTE_MAX,
    RETRY_WINDOW_SECONDS,
    ReminderError,
    check_note,
    neutralise,
    next_retry,
    parse_reminder_id,
)


def test_note_limits() -> None:
    assert check_note(None) is None
    assert check_note("   ") is None
    assert check_note("  milk ") == "milk"
    assert check_note("x" * NOTE_MAX) == "x" * NOTE_MAX
    with pytest.raises(ReminderError, match="1001"):
        check_note("x" * (NOTE_MAX + 1))


def test_neutralise_defuses_mentions_and_code_fences() -> None:
    out = neutralise("@everyone @here <@12> <@!12> <@&34> <#56> ``` done")
    for ping in ("@everyone", "@here", "<@12>", "<@!12>", "<@&34>", "<#56>", "```"):
        assert ping not in out
    assert out.replace("\u200b", "") == "@everyone @here <@12> <@!12> <@&34> <#56> ``` done"


def test_retry_backs_off_exponentially_up_to_an_hour_for_a_day() -> None:
    due = 1000.0
    delays = []
    now, attempts = due, 1
    while (at := next_retry(now, due, attempts)) is not None:
        delays.append(at - now)
        now, attempts = at, attempts + 1
    assert delays[:5] == [30, 60, 120, 240, 480]
    assert max(delays) == 3600
    assert due + RETRY_WINDOW_SECONDS - 3600 <= now <= due + RETRY_WINDOW_SECONDS
    assert 25 <= len(delays) <= 35


def test_reminder_ids() -> None:
    assert parse_reminder_id("#12") == 12
    assert parse_reminder_id(" 7 ") == 7
    assert parse_reminder_id("twelve") is None
    assert parse_reminder_id("-3") is None
    assert parse_reminder_id("9" * 20) is None
