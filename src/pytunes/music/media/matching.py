"""Choosing which YouTube video plays a Spotify track (pure: no I/O).

The reference bot played the first `ytsearch1:` hit, which is often a live recording, a cover or a
lyric video of the wrong length, or simply another artist's song with the same name. Here
every candidate is judged by:

1. **relevance**: the video's title or channel carries the primary artist (accents folded, spaces
   squashed, so "Beyonce - Topic" and "TheTidesVEVO" count), the title's words are there (all of them
   for a short title, most of them for a long one), and the duration is not wildly off (a 10-hour loop
   or a 30-second clip is not the song). Featured artists are not required: uploads often leave them out;
2. **version**: words such as "live", "cover", "karaoke", "remix", "sped up" mark a different recording,
   unless the Spotify title says so too ("Song - Live at Wembley" wants the live one);
3. **duration**: within ±3 s of Spotify's is the same recording; official audio uploads usually are;
4. **closeness**: title and every credited artist's word overlap (an "Artist - Topic" channel counts as
   the artist), then the smaller duration difference, then YouTube's own order.

Livestreams are never chosen (they can't be queued). Nothing relevant → no match, rather than a guess.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

DURATION_TOLERANCE = 3.0
# Share of a long title's words a candidate must contain to count as the same song (uploads shorten long
# titles); a title of at most SHORT_TITLE_WORDS words must be there whole: "Halo" is not "Halo 3 OST".
MIN_TITLE_COVERAGE = 0.5
SHORT_TITLE_WORDS = 3
# Below this many letters an artist name is found only as whole words or as a channel name: "U2" is in
# "U2 - One" and "U2VEVO", not in "mu2ic".
SHORT_ARTIST = 4
# What channels add to an artist's name: "Artist - Topic", "ArtistVEVO", "Artist Official".
_CHANNEL_SUFFIXES = ("", "vevo", "topic", "official", "music", "tv")

# Different recordings or arrangements of a song. Matched as whole words of the normalised title.
_VERSION_MARKERS = re.compile(
    r"\b(live|concert|cover|karaoke|instrumental|remix|nightcore|sped up|slowed|reverb|8d|reaction"
    r"|tutorial|lesson|mashup|acapella|a cappella|piano version|guitar version)\b"
)
# Suffixes Spotify adds that YouTube titles rarely carry; they only make the search worse.
_SPOTIFY_NOISE = re.compile(
    r"\s*(?:[-–—]\s*(?:\d{4}\s+)?(?:remaster(?:ed)?|mono|stereo|single version|radio edit|album version)"
    r"(?:\s+\d{4})?(?:\s+version)?[^-–—]*$"
    r"|[(\[](?:feat\.?|ft\.?|with)\s[^)\]]*[)\]])",
    re.IGNORECASE,
)
_FILLER_WORDS = frozenset({"the", "a", "an", "and", "of", "feat", "ft", "with"})
# Letters NFKD leaves alone but people type without the stroke: "Røyksopp" is searched as "Royksopp".
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "þ": "th", "ð": "d"})
# "Don't" is typed "Dont" as often as "Don t": apostrophes join, other punctuation separates.
_APOSTROPHES = re.compile(r"['’ʼ`]")


@dataclass(frozen=True, slots=True)
class Wanted:
    """The Spotify track: title, artists in credit order, duration in seconds (None when unknown)."""

    title: str
    artists: tuple[str, ...]
    duration: float | None


@dataclass(frozen=True, slots=True)
class Candidate:
    title: str
    channel: str | None
    duration: float | None
    is_live: bool = False


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation to spaces: "Beyoncé – Don't!" → "beyonce dont"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().translate(_FOLD)
    return " ".join(re.sub(r"[\W_]+", " ", _APOSTROPHES.sub("", plain)).split())


def _squash(words: Sequence[str]) -> str:
    # "&" vanishes in normalising while "and" doesn't: drop both, so "Simon and Garfunkel" still counts.
    return "".join(w for w in words if w != "and")


def carries_artist(artist: str, title: str, channel: str | None) -> bool:
    """Whether a video's title or channel names `artist`, spaced or squashed ("TheTidesVEVO")."""
    artist_words = normalise(artist).split()
    if len(artist_words) > 1 and artist_words[0] == "the":
        artist_words = artist_words[1:]  # "Beatles VEVO" is The Beatles' channel
    name = _squash(artist_words)
    if not name:
        return True  # nothing to look for (an artist named "&")
    title_words, channel_words = normalise(title).split(), normalise(channel or "").split()
    if len(name) >= SHORT_ARTIST or not name.isascii():
        return name in _squash(title_words) + " " + _squash(channel_words)
    channel_name = _squash(channel_words)
    if any(channel_name == name + suffix for suffix in _CHANNEL_SUFFIXES):
        return True
    size = len(artist_words)
    return any(
        words[i : i + size] == artist_words
        for words in (title_words, channel_words)
        for i in range(len(words) - size + 1)
    )


def core_title(title: str) -> str:
    """The Spotify title without remaster/feat. noise, for searching and word matching."""
    cleaned = _SPOTIFY_NOISE.sub("", title).strip()
    return cleaned or title.strip()


def search_text(wanted: Wanted) -> str:
    """What to type into YouTube search: the main artists and the core title."""
    artists = " ".join(wanted.artists[:2])
    title = core_title(wanted.title)
    return f"{artists} - {title}" if artists else title


@dataclass(frozen=True, slots=True)
class Judgement:
    viable: bool  # the primary artist, the title, and not wildly off in length
    other_version: bool  # live/cover/remix… that the Spotify title doesn't ask for
    within_tolerance: bool
    closeness: float
    difference: float  # seconds; inf when unknown
    has_artist: bool = True  # carries the primary artist (True when Spotify names none)

    def key(self, index: int) -> tuple[bool, bool, bool, float, float, int]:
        # The artist is part of `viable`, so it outranks the ±3 s preference: a same-length upload of
        # another band's song of the same name is a different song, not a closer match.
        return (
            not self.viable,
            self.other_version,
            not self.within_tolerance,
            -self.closeness,
            self.difference,
            index,
        )


def judge(wanted: Wanted, candidate: Candidate) -> Judgement:
    text = normalise(f"{candidate.title} {candidate.channel or ''}")
    words = set(text.split())
    squashed = text.replace(" ", "")

    title_words = [w for w in normalise(core_title(wanted.title)).split() if w not in _FILLER_WORDS]
    found = [w for w in title_words if w in words or (not w.isascii() and w in squashed)]
    title_coverage = len(found) / len(title_words) if title_words else 1.0
    needed = 1.0 if len(title_words) <= SHORT_TITLE_WORDS else MIN_TITLE_COVERAGE

    # Only the primary artist is required: uploads often leave featured artists out, and a song of the
    # same name by a featured artist alone is another song. The others still count towards closeness.
    credited = [a for a in wanted.artists if normalise(a)]
    carried = [carries_artist(a, candidate.title, candidate.channel) for a in credited]
    has_artist = carried[0] if carried else True
    artist_coverage = sum(carried) / len(carried) if carried else 0.0
    topic = (candidate.channel or "").endswith(" - Topic")

    difference = math.inf
    if wanted.duration is not None and candidate.duration is not None:
        difference = abs(wanted.duration - candidate.duration)
    far = difference != math.inf and difference > max(60.0, 0.5 * (wanted.duration or 0.0))

    asked_for = set(_VERSION_MARKERS.findall(normalise(wanted.title)))
    offered = set(_VERSION_MARKERS.findall(normalise(candidate.title)))
    return Judgement(
        viable=has_artist and title_coverage >= needed and not far,
        other_version=bool(offered - asked_for),
        within_tolerance=difference <= DURATION_TOLERANCE,
        closeness=title_coverage + 0.5 * artist_coverage + (0.25 if topic else 0.0),
        difference=difference,
        has_artist=has_artist,
    )


def best_match(wanted: Wanted, candidates: Sequence[Candidate]) -> int | None:
    """Index of the candidate to play, or None when none is plausibly the song."""
    best: tuple[bool, bool, bool, float, float, int] | None = None
    for index, candidate in enumerate(candidates):
        if candidate.is_live:
            continue
        key = judge(wanted, candidate).key(index)
        if best is None or key < best:
            best = key
    if best is None or best[0]:
        return None
    return best[-1]
