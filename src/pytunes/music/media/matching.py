"""Choosing which YouTube video plays a Spotify track (pure: no I/O).

The reference bot played the first `ytsearch1:` hit, which is often a live recording, a cover or a
lyric video of the wrong length (spec 16 #25). Here every candidate is judged by:

1. **relevance**: most of the title's words appear in the video's title or channel, and the duration
   is not wildly off (a 10-hour loop or a 30-second clip is not the song);
2. **version**: words such as "live", "cover", "karaoke", "remix", "sped up" mark a different recording,
   unless the Spotify title says so too ("Song - Live at Wembley" wants the live one);
3. **duration**: within ±3 s of Spotify's is the same recording; official audio uploads usually are;
4. **closeness**: title and artist word overlap (an "Artist - Topic" channel counts as the artist),
   then the smaller duration difference, then YouTube's own order.

Livestreams are never chosen (they can't be queued). Nothing relevant → no match, rather than a guess.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

DURATION_TOLERANCE = 3.0
# Share of the title's words a candidate must contain to count as the same song.
MIN_TITLE_COVERAGE = 0.5

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
    """Lower case, accents removed, punctuation to spaces: "Beyoncé – Halo!" → "beyonce halo"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


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
    viable: bool  # relevant and not wildly off in length
    other_version: bool  # live/cover/remix… that the Spotify title doesn't ask for
    within_tolerance: bool
    closeness: float
    difference: float  # seconds; inf when unknown

    def key(self, index: int) -> tuple[bool, bool, bool, float, float, int]:
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

    # Channels squash names together ("TheBeatlesVEVO"), so artists are looked for without spaces.
    artists = [normalise(a).replace(" ", "") for a in wanted.artists[:2] if normalise(a)]
    artist_coverage = sum(a in squashed for a in artists) / len(artists) if artists else 0.0
    topic = (candidate.channel or "").endswith(" - Topic")

    difference = math.inf
    if wanted.duration is not None and candidate.duration is not None:
        difference = abs(wanted.duration - candidate.duration)
    far = difference != math.inf and difference > max(60.0, 0.5 * (wanted.duration or 0.0))

    asked_for = set(_VERSION_MARKERS.findall(normalise(wanted.title)))
    offered = set(_VERSION_MARKERS.findall(normalise(candidate.title)))
    return Judgement(
        viable=title_coverage >= MIN_TITLE_COVERAGE and not far,
        other_version=bool(offered - asked_for),
        within_tolerance=difference <= DURATION_TOLERANCE,
        closeness=title_coverage + 0.5 * artist_coverage + (0.25 if topic else 0.0),
        difference=difference,
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
