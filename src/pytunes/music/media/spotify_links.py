"""Recognising Spotify links in every form people paste them (pure: no network).

Forms accepted, for the kinds track, album, playlist and artist:

- `https://open.spotify.com/track/<id>`, with or without the scheme, `http://`, a locale segment
  (`/intl-de/`, `/intl-pt-br/`), an `/embed/` segment, a query string (`?si=…`) or a fragment;
- the legacy `open.spotify.com/user/<name>/playlist/<id>` and `play.spotify.com/…`;
- URIs: `spotify:track:<id>`, `spotify:user:<name>:playlist:<id>`.

Podcast links (episode, show) and other Spotify pages are recognised too, so they are refused with a
clear reason instead of falling into a YouTube text search. Short `spotify.link` links are
refused with a hint: opening them would mean fetching a user's URL just to learn where it points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from pytunes.music.media.errors import UnsupportedSourceError

# Spotify ids are 22 base-62 characters.
SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{22}")
_WEB_HOSTS = ("open.spotify.com", "play.spotify.com")
_SHORT_HOSTS = ("spotify.link", "spoti.fi", "spotify.app.link")
_LOCALE = re.compile(r"intl-[a-z]{2}(?:-[a-z]{2,4})?", re.IGNORECASE)
_PODCAST_KINDS = ("episode", "show", "audiobook", "chapter")


class SpotifyKind(StrEnum):
    TRACK = "track"
    ALBUM = "album"
    PLAYLIST = "playlist"
    ARTIST = "artist"


@dataclass(frozen=True, slots=True)
class SpotifyLink:
    kind: SpotifyKind
    id: str

    @property
    def uri(self) -> str:
        """The canonical form, also used as a queued track's locator (`spotify:track:<id>`)."""
        return f"spotify:{self.kind.value}:{self.id}"

    @property
    def url(self) -> str:
        return f"https://open.spotify.com/{self.kind.value}/{self.id}"


def track_uri(track_id: str) -> str:
    return SpotifyLink(SpotifyKind.TRACK, track_id).uri


def track_url(track_id: str) -> str:
    return SpotifyLink(SpotifyKind.TRACK, track_id).url


def parse_spotify_link(text: str) -> SpotifyLink | None:
    """The Spotify item `text` names; None when it is not a Spotify link at all.

    Raises `UnsupportedSourceError` for Spotify links that can't be played (podcasts, profiles, short
    links, malformed ids), so they get a reason rather than a search for the link text.
    """
    text = text.strip()
    lowered = text.lower()
    if lowered.startswith("spotify:"):
        return _from_parts(text.split(":")[1:])
    if "://" not in text:
        if not lowered.startswith(("open.spotify.com/", "play.spotify.com/", "spotify.link/")):
            return None
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https"):
        return None
    if host in _SHORT_HOSTS:
        raise UnsupportedSourceError(
            "Short Spotify links can't be opened. In Spotify use Share → Copy link (open.spotify.com/…)."
        )
    if host not in _WEB_HOSTS:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if segments and _LOCALE.fullmatch(segments[0]):
        segments = segments[1:]
    if segments and segments[0].lower() == "embed":
        segments = segments[1:]
    return _from_parts(segments)


def _from_parts(parts: list[str]) -> SpotifyLink:
    # Legacy playlist form: user/<name>/playlist/<id> (URI: spotify:user:<name>:playlist:<id>).
    if len(parts) >= 4 and parts[0].lower() == "user" and parts[2].lower() == "playlist":
        parts = parts[2:]
    if len(parts) < 2:
        raise UnsupportedSourceError(
            "That Spotify link isn't a track, album, playlist or artist, so there is nothing to play."
        )
    kind_text, item_id = parts[0].lower(), parts[1]
    if kind_text in _PODCAST_KINDS:
        raise UnsupportedSourceError(
            "Spotify podcasts and audiobooks can't be played; tracks, albums, playlists and artists can."
        )
    try:
        kind = SpotifyKind(kind_text)
    except ValueError:
        raise UnsupportedSourceError(
            "That Spotify link isn't a track, album, playlist or artist, so there is nothing to play."
        ) from None
    if not SPOTIFY_ID.fullmatch(item_id):
        raise UnsupportedSourceError(f"That Spotify {kind.value} link is incomplete or mistyped.")
    return SpotifyLink(kind, item_id)
