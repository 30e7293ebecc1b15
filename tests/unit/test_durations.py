"""The relative-duration grammar gather and reminders share: examples, refusals, hostile input, and
Hypothesis properties against a reference model."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytunes.core.durations import MAX_DIGITS, parse_duration
from pytunes.gather import timeparse as gather_time
from pytunes.reminders import timeparse as reminder_time

MINUTE, HOUR, DAY = 60, 3600, 86400
MONTH = 30 * DAY
UNITS = [
    (MONTH, ["mo", "month", "months"]),
    (DAY, ["d", "day", "days"]),
    (HOUR, ["h", "hour", "hours"]),
    (MINUTE, ["m", "minute", "minutes"]),
    (1, ["s", "second", "seconds"]),
]
LARGEST = 999_999 * (MONTH + DAY + HOUR + MINUTE + 1)


def seconds(text: str) -> int | None:
    duration = parse_duration(text)
    return None if duration is None else int(duration.total_seconds())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10m", 10 * MINUTE),
        ("30s", 30),
        ("1h30m", HOUR + 30 * MINUTE),
        ("1h 30m", HOUR + 30 * MINUTE),
        ("1 h 30 m", HOUR + 30 * MINUTE),
        ("2 hours", 2 * HOUR),
        ("2 days 4 hours", 2 * DAY + 4 * HOUR),
        ("1 day 1 hour 1 minute 1 second", DAY + HOUR + MINUTE + 1),
        ("1mo", MONTH),
        ("1 mo", MONTH),  # gather used to refuse a space before `mo`; reminders took it
        ("2 months", 2 * MONTH),
        ("1months", MONTH),
        ("0h30m", 30 * MINUTE),
        ("10M", 10 * MINUTE),
        ("1H 30MINUTES", HOUR + 30 * MINUTE),
        ("  5m  ", 5 * MINUTE),
        ("\t1h\n30m\n", HOUR + 30 * MINUTE),
        ("1h\xa030m", HOUR + 30 * MINUTE),  # any whitespace, as Python's str.split sees it
        ("000001s", 1),
        ("999999s", 999_999),
        ("999999mo 999999d 999999h 999999m 999999s", LARGEST),
    ],
)
def test_durations(text: str, expected: int) -> None:
    assert seconds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "0m",
        "0h 0m 0s",
        "soon",
        "10",
        "m",
        "h1",
        "1h30",
        "10 min",
        "1hr",
        "1 hou r",
        "10 m o",
        "30m1h",  # units out of order
        "1h1h",  # a unit twice
        "1m 2minutes",
        "1 0m",  # a number split by a space
        "1.5h",
        "+5m",
        "-5m",
        "1,000s",
        "1000000s",  # seven digits
        "0000001s",
        "²m",  # '²'.isdigit() is true, int('²') fails
        "١٠m",  # Arabic-Indic digits: int() reads them, the grammar does not
        "１０m",  # fullwidth digits
        "1_000s",  # int() reads it, the grammar does not
        "10ſ",  # long s: equal to `s` only under Unicode case folding
        "10\u212am",  # Kelvin sign before m
        "10m!",
        "'10m'",
    ],
)
def test_refusals(text: str) -> None:
    assert parse_duration(text) is None


def test_hostile_input_is_read_in_linear_time() -> None:
    hostile = [
        "1h" + " " * 100_000 + "x",
        " " * 100_000 + "1",
        "9" * 100_000 + "m",
        "1" + " " * 100_000 + "m" * 100_000,
        "1h" * 50_000,
        "1 " * 50_000,
    ]
    started = time.perf_counter()
    for text in hostile:
        assert parse_duration(text) is None
    # A backtracking regex took seconds on a few thousand spaces; one pass over 600 kB takes milliseconds.
    assert time.perf_counter() - started < 2


# --- properties ---------------------------------------------------------------------------------------

SPACES = st.sampled_from(["", " ", "  ", "\t", "\n", "\xa0"])


@st.composite
def typed_durations(draw: st.DrawFn) -> tuple[str, int]:
    """A duration as a person might type it, and its length in seconds, summed part by part."""
    text = draw(SPACES)
    total = 0
    for size, spellings in UNITS:
        if draw(st.booleans()):
            n = draw(st.integers(min_value=0, max_value=10**MAX_DIGITS - 1))
            digits = str(n).zfill(draw(st.integers(min_value=len(str(n)), max_value=MAX_DIGITS)))
            spelling = draw(st.sampled_from(spellings))
            if draw(st.booleans()):
                spelling = spelling.upper()
            text += digits + draw(SPACES) + spelling + draw(SPACES)
            total += n * size
    return text, total


@given(typed_durations())
def test_typed_durations_add_up(case: tuple[str, int]) -> None:
    text, total = case
    assert seconds(text) == (total or None)


def reference(text: str) -> int | None:
    """The grammar read the plain way: cut the text into runs of ASCII digits, runs of ASCII letters,
    whitespace and single other characters; drop the whitespace; what is left must be number, unit,
    number, unit… with numbers of at most six digits, known units in strictly falling size, and a
    total above zero."""
    runs = re.findall(r"[0-9]+|[A-Za-z]+|\s+|.", text, re.DOTALL)
    tokens = [run for run in runs if not run.isspace()]
    if not tokens or len(tokens) % 2:
        return None
    sizes = {spelling: size for size, spellings in UNITS for spelling in spellings}
    total, previous = 0, None
    for number, unit in zip(tokens[0::2], tokens[1::2], strict=True):
        if not re.fullmatch("[0-9]{1,6}", number):
            return None
        size = sizes.get(unit.lower())
        if size is None or (previous is not None and size >= previous):
            return None
        total += int(number) * size
        previous = size
    return total or None


NUMBERS = st.sampled_from(
    [
        "0",
        "1",
        "7",
        "42",
        "000001",
        "999999",
        "1000000",
        "",
        "1 0",
        "1.5",
        "-5",
        "+5",
        "²",
        "١٠",
        "１",
        "1_000",
    ]
)
WORDS = st.sampled_from(
    [
        *[spelling for _, spellings in UNITS for spelling in spellings],
        "MO",
        "Hours",
        "hr",
        "min",
        "m o",
        "",
        "x",
        "ſ",
        "\u212a",
        "'",
    ]
)
GAPS = st.sampled_from(["", " ", "\t", "\n", "\xa0", "\u3000", "\x1c"])
# Near misses: parts of a number, a gap and a word, in any order, hostile characters included.
PARTS = st.tuples(NUMBERS, GAPS, WORDS, GAPS).map("".join)


@given(st.lists(PARTS, max_size=6).map("".join) | st.text(max_size=30))
def test_matches_the_reference(text: str) -> None:
    expected = reference(text)
    assert seconds(text) == expected
    if expected is not None:
        assert 0 < expected <= LARGEST


# --- both features read durations through it -----------------------------------------------------------


@pytest.mark.parametrize("text", ["10m", "1h 30m", "1 mo", "2 days 4 hours", "0m", "١٠m", "1_000s", "soon"])
def test_gather_and_reminders_share_the_grammar(text: str) -> None:
    now = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    duration = parse_duration(text)
    assert gather_time.parse_duration(text) == (None if duration is None else duration.total_seconds())
    assert reminder_time.interpret(text, now, ZoneInfo("UTC")) == (
        None if duration is None else now + duration
    )
