"""The reminder time grammar: relative offsets (hypothesis), every absolute format, time zones and DST,
refusals, and splitting prefix text into time and note."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytunes.reminders.timeparse import (
    WhenError,
    interpret,
    parse_when,
    resolve_zone,
    split_time_and_note,
)

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
PRAGUE = ZoneInfo("Europe/Prague")
UNITS = [
    (30 * 86400, ["mo", "month", "months"]),
    (86400, ["d", "day", "days"]),
    (3600, ["h", "hour", "hours"]),
    (60, ["m", "minute", "minutes"]),
    (1, ["s", "second", "seconds"]),
]
SPACE = st.sampled_from(["", " ", "  "])


@st.composite
def relative(draw: st.DrawFn) -> tuple[str, int]:
    """A relative time as a person might type it, and its length in seconds."""
    parts: list[str] = []
    total = 0
    for seconds, spellings in UNITS:
        if draw(st.booleans()):
            n = draw(st.integers(min_value=0, max_value=400))
            spelling = draw(st.sampled_from(spellings))
            inner = "" if spelling == "mo" else draw(SPACE)
            parts.append(f"{n}{inner}{spelling}")
            total += n * seconds
    text = "".join(p + draw(SPACE) for p in parts)
    if draw(st.booleans()):
        text = text.upper()
    return text, total


@given(relative())
def test_relative_grammar(case: tuple[str, int]) -> None:
    text, seconds = case
    result = interpret(text, NOW, PRAGUE)
    if seconds == 0:
        assert result is None, f"{text!r} has no duration"
    else:
        assert result == NOW + timedelta(seconds=seconds)


@given(relative(), st.text(max_size=20).filter(lambda t: not t[:1].isspace()))
def test_prefix_text_splits_after_the_time(case: tuple[str, int], note: str) -> None:
    text, seconds = case
    if seconds == 0 or not text.strip():
        return
    typed = f"{text.strip()} {note}"
    time, rest = split_time_and_note(typed, NOW, PRAGUE)
    # The split may take more words when the note itself continues the time ("5m" + "3s"); what it
    # takes must still read as a time, and nothing typed is lost.
    assert interpret(time, NOW, PRAGUE) is not None
    assert f"{time} {rest}".split() == typed.split()


@given(st.text(max_size=40))
def test_anything_else_is_refused_not_crashed(text: str) -> None:
    try:
        when = parse_when(text, NOW, PRAGUE)
    except WhenError:
        return
    assert NOW < when <= NOW + timedelta(days=365)


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("1-2-2027", datetime(2027, 2, 1, 9, 0)),
        ("01-02-2027", datetime(2027, 2, 1, 9, 0)),
        ("1.2.2027", datetime(2027, 2, 1, 9, 0)),
        ("01-02-2027 18:30", datetime(2027, 2, 1, 18, 30)),
        ("01-02-2027_18:30", datetime(2027, 2, 1, 18, 30)),
        ("2027-02-01", datetime(2027, 2, 1, 9, 0)),
        ("2027-02-01T18:30", datetime(2027, 2, 1, 18, 30)),
        ("2027-02-01 18:30:15", datetime(2027, 2, 1, 18, 30, 15)),
        ("18:30", datetime(2027, 1, 15, 18, 30)),
        ("08:30", datetime(2027, 1, 16, 8, 30)),  # 09:00 in Prague now: tomorrow's
        ("tomorrow", datetime(2027, 1, 16, 9, 0)),
        ("  Week ", datetime(2027, 1, 22, 9, 0)),
        ('"1h 30m"', datetime(2027, 1, 15, 10, 30)),
    ],
)
def test_absolute_formats_in_the_users_zone(text: str, local: datetime) -> None:
    assert parse_when(text, NOW, PRAGUE) == local.replace(tzinfo=PRAGUE).astimezone(UTC)


def test_an_explicit_offset_wins_over_the_zone() -> None:
    assert parse_when("2027-02-01T18:30Z", NOW, PRAGUE) == datetime(2027, 2, 1, 18, 30, tzinfo=UTC)
    assert parse_when("2027-02-01T18:30+05:00", NOW, PRAGUE) == datetime(2027, 2, 1, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not a time"),
        ("0m", "not a time"),
        ("10 min", "not a time"),
        ("1hr", "not a time"),
        ("32-01-2027", "not a time"),
        ("24:00", "not a time"),
        ("14-01-2027", "in the past"),
        ("2027-01-15T08:00", "in the past"),
        ("366d", "more than a year ahead"),
        ("16-01-2028 10:00", "more than a year ahead"),
        ("999999mo", "more than a year ahead"),
    ],
)
def test_refusals_say_why(text: str, reason: str) -> None:
    with pytest.raises(WhenError, match=reason):
        parse_when(text, NOW, ZoneInfo("UTC"))


def test_dst_spring_forward_and_fall_back() -> None:
    eve = datetime(2027, 3, 27, 11, 0, tzinfo=UTC)  # 12:00 CET, the day before clocks go forward
    assert parse_when("tomorrow", eve, PRAGUE) - eve == timedelta(hours=23)
    assert parse_when("1d", eve, PRAGUE) - eve == timedelta(hours=24)
    assert parse_when("28-03-2027 12:00", eve, PRAGUE) == datetime(2027, 3, 28, 10, 0, tzinfo=UTC)
    # 02:30 does not exist that night; it resolves to the moment zoneinfo gives it (03:30 CEST).
    assert parse_when("28-03-2027 02:30", eve, PRAGUE) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    autumn = datetime(2027, 10, 30, 11, 0, tzinfo=UTC)  # 13:00 CEST, clocks go back that night
    assert parse_when("tomorrow", autumn, PRAGUE) - autumn == timedelta(hours=25)
    # 02:30 happens twice; the first one counts.
    assert parse_when("31-10-2027 02:30", autumn, PRAGUE) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_split_keeps_the_note_as_typed() -> None:
    assert split_time_and_note("1h 30m buy milk\n and eggs", NOW, PRAGUE) == ("1h 30m", "buy milk\n and eggs")
    assert split_time_and_note("01-02-2027 18:30 party", NOW, PRAGUE) == ("01-02-2027 18:30", "party")
    assert split_time_and_note("soon please", NOW, PRAGUE) == ("soon", "please")
    assert split_time_and_note("", NOW, PRAGUE) == ("", "")


def test_zone_names() -> None:
    assert resolve_zone("europe/PRAGUE") == PRAGUE
    assert resolve_zone("utc") == ZoneInfo("UTC")
    assert resolve_zone("America/New York") == ZoneInfo("America/New_York")
    assert resolve_zone("Mars/Olympus") is None
    assert resolve_zone("../../etc/passwd") is None
