"""Keyword rules as plain data: loading the rules file, validating emoji, choosing the reactions.

No Discord here. A bad rule is skipped with its reason and never takes the others down with it (the
original disabled the whole feature for one typo).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytunes.reactions.engine import PatternError, SafePattern

MAX_REACTIONS = 3
EMOJI_MAX = 100
CUSTOM_EMOJI = re.compile(r"<(a?):([A-Za-z0-9_]{2,32}):(\d{15,21})>")
VARIATION_SELECTOR = "\ufe0f"


class RuleError(ValueError):
    """Why a rule cannot be used."""


@dataclass(frozen=True)
class Emoji:
    text: str  # as written: a Unicode emoji or <:name:id> / <a:name:id>
    custom_id: int | None = None
    name: str | None = None
    animated: bool = False

    @property
    def key(self) -> str:
        """Identity for de-duplication: the id of a custom emoji, else the emoji without style selectors."""
        return f"custom:{self.custom_id}" if self.custom_id else self.text.replace(VARIATION_SELECTOR, "")


def parse_emoji(text: str) -> Emoji:
    text = text.strip()
    if not text:
        raise RuleError("the emoji is empty")
    if len(text) > EMOJI_MAX:
        raise RuleError("the emoji is too long")
    custom = CUSTOM_EMOJI.fullmatch(text)
    if custom:
        return Emoji(text, int(custom.group(3)), custom.group(2), bool(custom.group(1)))
    if text.startswith("<") or ":" in text:
        raise RuleError(f"{text!r} is not a custom emoji: write it as <:name:id> or <a:name:id>")
    if any(ch.isspace() or (ch.isascii() and ch.isalnum()) for ch in text) or len(text) > 16:
        raise RuleError(f"{text!r} is not an emoji")
    return Emoji(text)


@dataclass(frozen=True)
class Rule:
    pattern: SafePattern
    emoji: Emoji
    origin: str  # where it came from, for logs and `reactions list`: "file #3" or "#12"
    rule_id: int | None = None  # the database id of a server rule

    def matches(self, content: str) -> bool:
        return self.pattern.search(content)


def make_rule(pattern: str, emoji: str, origin: str, rule_id: int | None = None) -> Rule:
    """A usable rule, or RuleError saying what is wrong with it."""
    if not isinstance(pattern, str) or not isinstance(emoji, str):
        raise RuleError("`pattern` and `emoji` must both be text")
    try:
        compiled = SafePattern(pattern)
    except PatternError as error:
        raise RuleError(str(error)) from None
    return Rule(compiled, parse_emoji(emoji), origin, rule_id)


@dataclass(frozen=True)
class Problem:
    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


@dataclass(frozen=True)
class RuleFile:
    """What the rules file provides: rules, channel lists, and the problems met while reading it."""

    rules: tuple[Rule, ...] = ()
    allow: frozenset[int] = frozenset()
    deny: frozenset[int] = frozenset()
    problems: tuple[Problem, ...] = ()
    missing: bool = False


def load_rule_file(path: Path) -> RuleFile:
    """Read the rules file. Never raises: a missing, unreadable or malformed file yields no rules and a
    problem; a malformed rule is skipped and reported while the others load."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RuleFile(
            problems=(Problem(str(path), "no rules file; only server rules apply"),), missing=True
        )
    except (OSError, UnicodeDecodeError) as error:
        return RuleFile(problems=(Problem(str(path), f"cannot read the file: {error}"),))
    return parse_rule_file(raw, str(path))


def parse_rule_file(raw: str, name: str = "rules file") -> RuleFile:
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        return RuleFile(problems=(Problem(name, f"not valid JSON: {error}"),))
    if not isinstance(document, dict) or not isinstance(document.get("rules", []), list):
        return RuleFile(problems=(Problem(name, 'expected an object with a "rules" list'),))
    problems: list[Problem] = []
    rules: list[Rule] = []
    for number, entry in enumerate(document.get("rules", []), start=1):
        origin = f"file rule {number}"
        if not isinstance(entry, dict):
            problems.append(Problem(origin, 'each rule must be an object with "pattern" and "emoji"'))
            continue
        try:
            rules.append(make_rule(entry.get("pattern"), entry.get("emoji"), origin))  # type: ignore[arg-type]
        except RuleError as error:
            problems.append(Problem(origin, str(error)))
    allow, deny = _channel_lists(document.get("channels"), name, problems)
    return RuleFile(tuple(rules), allow, deny, tuple(problems))


def _channel_lists(
    value: object, name: str, problems: list[Problem]
) -> tuple[frozenset[int], frozenset[int]]:
    if value is None:
        return frozenset(), frozenset()
    lists: list[frozenset[int]] = []
    for key in ("allow", "deny"):
        items = value.get(key, []) if isinstance(value, dict) else None
        ids = _snowflakes(items)
        if ids is None:
            problems.append(Problem(f"{name} channels.{key}", "expected a list of channel ids; ignored"))
            ids = frozenset()
        lists.append(ids)
    return lists[0], lists[1]


def _snowflakes(items: object) -> frozenset[int] | None:
    if not isinstance(items, list):
        return None
    out: set[int] = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            out.add(item)
        elif isinstance(item, str) and item.isdigit():
            out.add(int(item))
        else:
            return None
    return frozenset(out)


@dataclass(frozen=True)
class ChannelLists:
    """Where reactions may happen. An empty allow list allows everywhere not denied."""

    allow: frozenset[int] = field(default_factory=frozenset)
    deny: frozenset[int] = field(default_factory=frozenset)

    def permits(self, channel_ids: Iterable[int]) -> bool:
        """`channel_ids`: the channel and, for a thread, its parent."""
        ids = set(channel_ids)
        if ids & self.deny:
            return False
        return not self.allow or bool(ids & self.allow)


def choose_reactions(rules: Sequence[Rule], content: str, limit: int = MAX_REACTIONS) -> list[Emoji]:
    """Emoji of the matching rules in rule order, each at most once, at most `limit` of them."""
    chosen: list[Emoji] = []
    seen: set[str] = set()
    for rule in rules:
        if len(chosen) >= limit:
            break
        if rule.emoji.key in seen or not rule.matches(content):
            continue
        seen.add(rule.emoji.key)
        chosen.append(rule.emoji)
    return chosen
