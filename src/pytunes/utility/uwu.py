"""An uwuifier in the spirit of the `uwu-rs` crate the original used: lower-casing, expression
replacements, r/l → w, n+vowel → ny, random stutters and random kaomoji.

Randomness comes from a `random.Random(seed)`, so the same text and seed always give the same output
(tests assert exact strings; the bot seeds with the message id). Mentions, custom emoji, channel links,
URLs and code spans pass through untouched, so a transformed message still links and renders.
"""

from __future__ import annotations

import random
import re

WORDS = {
    "small": "smol",
    "cute": "kawaii~",
    "fluff": "floof",
    "love": "luv",
    "stupid": "baka",
    "what": "nani",
    "meow": "nya~",
    "hello": "hewwo",
    "you": "yuw",
    "the": "da",
    "this": "dis",
    "that": "dat",
    "no": "nu",
    "have": "haz",
}
FACES = ("(・`ω´・)", ";;w;;", "owo", "UwU", ">w<", "^w^", "(ᵘʷᵘ)", "(˘ω˘)", "OwO", "uwu", "x3", "(◕ᴥ◕)")
STUTTER_CHANCE = 0.1
FACE_CHANCE = 0.05

# Things that must survive verbatim: code spans, URLs, user/role/channel mentions, custom emoji.
_PROTECTED = re.compile(
    r"```.*?```|`[^`]*`|https?://\S+|<(?:@[!&]?|#)\d+>|<a?:\w+:\d+>|@everyone|@here", re.S
)
_WORD = re.compile(r"[A-Za-z']+")


def _w_replace(word: str) -> str:
    word = re.sub(r"[rl]", "w", word)
    word = re.sub(r"[RL]", "W", word)
    word = re.sub(r"n([aeiou])", r"ny\1", word)
    return re.sub(r"N([aeiouAEIOU])", r"Ny\1", word)


def _plain(text: str, rng: random.Random) -> str:
    def word(match: re.Match[str]) -> str:
        original = match.group(0).lower()
        out = WORDS.get(original) or _w_replace(original)
        if out[0].isalpha() and rng.random() < STUTTER_CHANCE:
            out = f"{out[0]}-{out}"
        return out

    text = _WORD.sub(word, text)

    def punctuation(match: re.Match[str]) -> str:
        if rng.random() < FACE_CHANCE * 4:
            return f"{match.group(0)} {rng.choice(FACES)}"
        return match.group(0)

    text = re.sub(r"[.!?]+(?=\s|$)", punctuation, text)
    words = text.split(" ")
    for index in range(len(words) - 1, 0, -1):
        if words[index] and rng.random() < FACE_CHANCE:
            words.insert(index, rng.choice(FACES))
    return " ".join(words)


def uwuify(text: str, seed: int | None = None) -> str:
    """`text`, uwuified. Deterministic for a given `seed`."""
    rng = random.Random(seed)
    out: list[str] = []
    last = 0
    for match in _PROTECTED.finditer(text):
        out.append(_plain(text[last : match.start()], rng))
        out.append(match.group(0))
        last = match.end()
    out.append(_plain(text[last:], rng))
    return "".join(out)
