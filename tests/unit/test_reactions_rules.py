"""The linear-time regex engine (against Python's `re`, and against hostile patterns) and the keyword
rules: loading a file with broken rules, emoji, channel lists, choosing reactions."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytunes.reactions.engine import PATTERN_MAX, PatternError, SafePattern
from pytunes.reactions.rules import (
    ChannelLists,
    RuleError,
    choose_reactions,
    load_rule_file,
    make_rule,
    parse_emoji,
    parse_rule_file,
)

ATOMS = [
    "a",
    "b",
    "A",
    ".",
    "[ab]",
    "[^a]",
    "\\b",
    "\\B",
    "^",
    "$",
    "\\d",
    "\\w",
    "\\s",
    "\\W",
    "(a|b)",
    "(ab|a)",
]
QUANTIFIERS = ["", "", "*", "+", "?", "{2}", "{1,3}", "*?", "+?"]
FLAGS = ["", "(?i)", "(?m)", "(?s)", "(?im)"]


@st.composite
def patterns(draw: st.DrawFn) -> str:
    pieces = [
        draw(st.sampled_from(ATOMS)) + draw(st.sampled_from(QUANTIFIERS))
        for _ in range(draw(st.integers(1, 5)))
    ]
    if draw(st.booleans()):
        pieces = [f"({''.join(pieces)})" + draw(st.sampled_from(["*", "+", "?", ""]))]
    return draw(st.sampled_from(FLAGS)) + "".join(pieces)


@settings(max_examples=400, deadline=None)
@given(patterns(), st.lists(st.text(alphabet="abAB1 \n_!", max_size=12), min_size=1, max_size=8))
def test_matches_exactly_what_python_re_matches(pattern: str, texts: list[str]) -> None:
    try:
        expected = re.compile(pattern)
    except re.error:
        return
    if expected.search(""):
        with pytest.raises(PatternError, match="empty text"):
            SafePattern(pattern)
        return
    safe = SafePattern(pattern)
    for text in texts:
        assert safe.search(text) == bool(expected.search(text)), (pattern, text)


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|a)+$", "(a|aa)+$", ".*.*.*=x", "(\\w+\\s?)+$", "(x+x+)+y"])
def test_hostile_patterns_run_in_linear_time(pattern: str) -> None:
    safe = SafePattern(pattern)
    started = time.perf_counter()
    for text in ("a" * 4000 + "!", "x" * 4000, "a " * 2000 + "!"):
        safe.search(text)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(a)\\1", "backreferences"),
        ("(?=a)b", "lookahead"),
        ("(?<!a)b", "lookahead"),
        ("a++", "possessive"),
        ("(?>a)", "atomic"),
        ("(a)?(?(1)b|c)", "conditional"),
        ("(", "invalid pattern"),
        ("", "empty"),
        ("a*", "matches empty text"),
        ("x" * (PATTERN_MAX + 1), "longer than"),
        ("(a{1,100}){1,100}", "too complex"),
    ],
)
def test_refused_patterns_say_why(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=reason):
        SafePattern(pattern)


def test_emoji() -> None:
    assert parse_emoji("👌").custom_id is None
    custom = parse_emoji("<a:party_blob:123456789012345678>")
    assert (custom.name, custom.custom_id, custom.animated) == ("party_blob", 123456789012345678, True)
    assert parse_emoji("❤️").key == parse_emoji("❤").key
    for bad in ("", "   ", ":smile:", "<:x:12>", "<:name:notanid>", "ok", "👌 👌"):
        with pytest.raises(RuleError):
            parse_emoji(bad)


def test_a_broken_rule_is_skipped_and_the_others_load() -> None:
    loaded = parse_rule_file(
        """{"_notes": "x", "channels": {"allow": [], "deny": ["42", 43]}, "rules": [
            {"pattern": "(?i)\\\\bok\\\\b", "emoji": "👌"},
            {"pattern": "(", "emoji": "😵"},
            {"pattern": "fine", "emoji": ""},
            "not an object",
            {"pattern": 5, "emoji": "🔥"},
            {"pattern": "(a+)+$", "emoji": "💥"}
        ]}"""
    )
    assert [r.emoji.text for r in loaded.rules] == ["👌", "💥"]
    assert [p.origin for p in loaded.problems] == ["file rule 2", "file rule 3", "file rule 4", "file rule 5"]
    assert loaded.deny == frozenset({42, 43})


def test_unusable_files_yield_no_rules_and_a_reason(tmp_path: Path) -> None:
    missing = load_rule_file(tmp_path / "nope.json")
    assert missing.missing
    assert missing.rules == ()
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "not valid JSON" in str(load_rule_file(broken).problems[0])
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"rules": {"pattern": "a"}}')
    assert "rules" in str(load_rule_file(wrong).problems[0])


def test_choose_reactions_dedupes_keeps_order_and_caps() -> None:
    rules = [
        make_rule("(?i)love", "❤️", "1"),
        make_rule("<3", "❤", "2"),
        make_rule("ok", "👌", "3"),
        make_rule("fire", "🔥", "4"),
        make_rule("gg", "🏆", "5"),
    ]
    assert [e.text for e in choose_reactions(rules, "LOVE <3 gg fire ok")] == ["❤️", "👌", "🔥"]
    assert [e.text for e in choose_reactions(rules, "<3")] == ["❤"]
    assert choose_reactions(rules, "nothing here") == []


def test_channel_lists() -> None:
    assert ChannelLists().permits({1})
    assert not ChannelLists(deny=frozenset({1})).permits({1})
    only = ChannelLists(allow=frozenset({2}))
    assert only.permits({2})
    assert not only.permits({1})
    assert only.permits({5, 2}), "a thread in an allowed channel"
    assert not ChannelLists(allow=frozenset({2}), deny=frozenset({5})).permits({5, 2})
