"""A regular-expression engine whose running time is linear in the text, whatever the pattern.

Keyword rules come from operators and from server managers, so a pattern may be hostile. Python's `re`
backtracks: `(a+)+$` takes exponential time and even `.*.*x` cubic time on a long message, stalling the
whole bot because the match holds the event loop. Patterns here are parsed with Python's own regex
parser (so the syntax is the familiar one) and then run as an automaton: a Thompson NFA simulated as a
lazily built DFA, the technique behind RE2 and Rust's `regex`. Each character of the text costs one
cached transition, or at worst one pass over the NFA's states, so a message costs O(len × states).

Supported: literals, classes, `.`, `\\d \\w \\s` (and negations), alternation, groups, all quantifiers
(greedy and lazy match the same texts), anchors `^ $ \\A \\Z \\b \\B`, and the flags i, m, s, a, x.
Refused, with the reason, because no linear-time engine can run them: backreferences, lookaround,
conditionals, atomic groups and possessive quantifiers. That matches the Rust `regex` syntax the
original rules files were written for.
"""

from __future__ import annotations

import re
import re._constants as sre  # the parser's opcode names; private but stable across 3.11+
import re._parser as sre_parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PATTERN_MAX = 300  # characters
STATES_MAX = 3_000  # NFA states after expanding counted repeats such as x{1,50}
TEXT_MAX = 4_000  # the longest message Discord allows; anything beyond is not scanned
CACHE_MAX = 2_000  # DFA states kept per pattern; the cache is dropped and rebuilt when it grows past

Predicate = Callable[[str], bool]


class PatternError(ValueError):
    """The pattern is invalid or uses a feature this engine refuses; the message says which."""


# Character kinds that anchors look at: start/end of text, word character, newline, anything else.
EDGE, WORD, NEWLINE, OTHER, LAST_NEWLINE = range(5)


def _kind(ch: str | None, *, last: bool = False) -> int:
    if ch is None:
        return EDGE
    if ch == "\n":
        return LAST_NEWLINE if last else NEWLINE
    return WORD if ch.isalnum() or ch == "_" else OTHER


@dataclass
class _State:
    kind: str  # "char", "split", "assert", "match"
    pred: Predicate | None = None
    out: int = -1
    out2: int = -1
    anchor: object = None
    multiline: bool = False


class _Builder:
    def __init__(self) -> None:
        self.states: list[_State] = []

    def add(self, state: _State) -> int:
        if len(self.states) >= STATES_MAX:
            raise PatternError(f"pattern is too complex (over {STATES_MAX} automaton states)")
        self.states.append(state)
        return len(self.states) - 1

    def sequence(self, items: list[tuple[Any, Any]], flags: int, then: int) -> int:
        # Built back to front: every piece is compiled knowing the state that follows it.
        for op, arg in reversed(items):
            then = self.item(op, arg, flags, then)
        return then

    def item(self, op: Any, arg: Any, flags: int, then: int) -> int:
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN):
            return self.add(_State("char", pred=_predicate(op, arg, flags), out=then))
        if op is sre.SUBPATTERN:
            _group, add_flags, del_flags, body = arg
            return self.sequence(list(body), (flags | add_flags) & ~del_flags, then)
        if op is sre.BRANCH:
            _, alternatives = arg
            starts = [self.sequence(list(alt), flags, then) for alt in alternatives]
            entry = starts[-1]
            for start in reversed(starts[:-1]):
                entry = self.add(_State("split", out=start, out2=entry))
            return entry
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, body = arg
            return self.repeat(
                list(body), int(low), None if high is sre.MAXREPEAT else int(high), flags, then
            )
        if op is sre.AT:
            return self.add(_State("assert", anchor=arg, out=then, multiline=bool(flags & re.MULTILINE)))
        raise PatternError(_REFUSED.get(str(op), f"unsupported regex feature ({op})"))

    def repeat(self, body: list[tuple[Any, Any]], low: int, high: int | None, flags: int, then: int) -> int:
        if high is not None and high < low:
            raise PatternError("bad repeat range")
        if high is None:
            # x* : a split that either enters the body (which loops back to the split) or moves on.
            loop = self.add(_State("split", out2=then))
            self.states[loop].out = self.sequence(body, flags, loop)
            tail = loop
        else:
            # x{0,2} = (x(x)?)? : each optional copy may be skipped straight to what follows the repeat.
            tail = then
            for _ in range(high - low):
                tail = self.add(_State("split", out=self.sequence(body, flags, tail), out2=then))
        for _ in range(low):
            tail = self.sequence(body, flags, tail)
        return tail


_REFUSED = {
    "GROUPREF": "backreferences are not supported",
    "GROUPREF_EXISTS": "conditional groups are not supported",
    "ASSERT": "lookahead/lookbehind is not supported",
    "ASSERT_NOT": "lookahead/lookbehind is not supported",
    "ATOMIC_GROUP": "atomic groups are not supported",
    "POSSESSIVE_REPEAT": "possessive quantifiers are not supported",
}


def _category(name: str, ascii_only: bool) -> Predicate:
    def ascii_ok(ch: str) -> bool:
        return not ascii_only or ch.isascii()

    tests: dict[str, Predicate] = {
        "CATEGORY_DIGIT": lambda ch: ch.isdecimal() and ascii_ok(ch),
        "CATEGORY_WORD": lambda ch: (ch.isalnum() or ch == "_") and ascii_ok(ch),
        "CATEGORY_SPACE": lambda ch: ch.isspace() and ascii_ok(ch),
    }
    negated = name.replace("CATEGORY_NOT_", "CATEGORY_")
    if negated != name:
        positive = tests[negated]
        return lambda ch: not positive(ch)
    if name not in tests:
        raise PatternError(f"unsupported character category {name}")
    return tests[name]


def _equals(char: str) -> Predicate:
    return lambda ch: ch == char


def _within(low: int, high: int) -> Predicate:
    return lambda ch: low <= ord(ch) <= high


def _class(items: list[tuple[Any, Any]], ascii_only: bool) -> Predicate:
    negate = False
    tests: list[Predicate] = []
    for op, arg in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            tests.append(_equals(chr(arg)))
        elif op is sre.RANGE:
            low, high = arg
            tests.append(_within(low, high))
        elif op is sre.CATEGORY:
            tests.append(_category(str(arg), ascii_only))
        else:
            raise PatternError(f"unsupported item in a character class ({op})")

    def matches(ch: str) -> bool:
        return any(test(ch) for test in tests) != negate

    return matches


def _predicate(op: Any, arg: Any, flags: int) -> Predicate:
    ascii_only = bool(flags & re.ASCII)
    base: Predicate
    if op is sre.LITERAL:
        char = chr(arg)
        base = lambda ch: ch == char  # noqa: E731
    elif op is sre.NOT_LITERAL:
        char = chr(arg)
        base = lambda ch: ch != char  # noqa: E731
    elif op is sre.ANY:
        dotall = bool(flags & re.DOTALL)
        return lambda ch: dotall or ch != "\n"
    else:
        base = _class(list(arg), ascii_only)
    if flags & re.IGNORECASE:
        if op is sre.NOT_LITERAL:
            folded = chr(arg).casefold()
            return lambda ch: ch.casefold() != folded
        return lambda ch: base(ch) or base(ch.lower()) or base(ch.upper())
    return base


def _anchor_holds(anchor: object, multiline: bool, before: int, after: int) -> bool:
    name = str(anchor)
    if name == "AT_BEGINNING":
        return before == EDGE or (multiline and before == NEWLINE)
    if name == "AT_BEGINNING_STRING":
        return before == EDGE
    if name == "AT_END":
        return after in (EDGE, LAST_NEWLINE) or (multiline and after == NEWLINE)
    if name == "AT_END_STRING":
        return after == EDGE
    if name in ("AT_BOUNDARY", "AT_NON_BOUNDARY"):
        boundary = (before == WORD) != (after == WORD)
        if name == "AT_BOUNDARY":
            return boundary
        # As in Python's `re`: \B never matches in an empty text.
        return not boundary and not (before == EDGE and after == EDGE)
    raise PatternError(f"unsupported anchor {name}")


@dataclass
class _DState:
    states: frozenset[int]
    accepting: bool
    step: dict[str, frozenset[int]] = field(default_factory=dict)


class SafePattern:
    """A compiled pattern: `search(text)` says whether it matches anywhere in `text`, in linear time."""

    def __init__(self, pattern: str) -> None:
        if not pattern:
            raise PatternError("the pattern is empty")
        if len(pattern) > PATTERN_MAX:
            raise PatternError(f"the pattern is longer than {PATTERN_MAX} characters")
        try:
            parsed = sre_parse.parse(pattern)
        except (re.error, OverflowError, RecursionError) as error:
            raise PatternError(f"invalid pattern: {error}") from None
        self.pattern = pattern
        builder = _Builder()
        accept = builder.add(_State("match"))
        self._start = builder.sequence(list(parsed.data), int(parsed.state.flags), accept)
        self._states = builder.states
        self._cache: dict[tuple[frozenset[int], int, int], _DState] = {}
        if self.search(""):
            raise PatternError("the pattern matches empty text, so it would react to every message")

    def _closure(self, kernel: frozenset[int], before: int, after: int) -> _DState:
        key = (kernel, before, after)
        found = self._cache.get(key)
        if found is not None:
            return found
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        seen: set[int] = set()
        stack = list(kernel)
        chars: set[int] = set()
        accepting = False
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            state = self._states[index]
            if state.kind == "char":
                chars.add(index)
            elif state.kind == "match":
                accepting = True
            elif state.kind == "split":
                stack.extend((state.out, state.out2))
            elif _anchor_holds(state.anchor, state.multiline, before, after):
                stack.append(state.out)
        made = _DState(frozenset(chars), accepting)
        self._cache[key] = made
        return made

    def search(self, text: str) -> bool:
        text = text[:TEXT_MAX]
        kernel: frozenset[int] = frozenset()
        before = EDGE
        last = len(text) - 1
        for position, ch in enumerate(text):
            # Unanchored search: a match may start at every position, so the start state joins each step.
            current = self._closure(kernel | {self._start}, before, _kind(ch, last=position == last))
            if current.accepting:
                return True
            following = current.step.get(ch)
            if following is None:
                following = frozenset(
                    self._states[i].out
                    for i in current.states
                    if (pred := self._states[i].pred) is not None and pred(ch)
                )
                current.step[ch] = following
            kernel = following
            before = _kind(ch)
        return self._closure(kernel | {self._start}, before, EDGE).accepting
