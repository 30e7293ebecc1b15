"""YouTube links in all their forms, reduced to a video id, a playlist id and a start offset.

Recognised hosts: youtube.com (www., m., music.), youtube-nocookie.com and youtu.be. Paths: /watch?v=,
/shorts/<id>, /embed/<id>, /v/<id>, /e/<id>, /live/<id>, /playlist?list=, /embed/videoseries?list=,
youtu.be/<id>. Timestamps: t= / start= / time_continue= in the query or t= in the fragment, as seconds
("90", "90s") or "1h2m3s".

Decision: a link with both a video and a list= plays the single video. That is what the person was
watching when they copied it; YouTube adds list= to nearly every link opened from a playlist or a mix.
Only a pure playlist link (/playlist?list=, or a watch link without v=) queues the playlist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from pytunes.music.media.errors import UnsupportedSourceError

VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
PLAYLIST_ID = re.compile(r"[A-Za-z0-9_-]{2,64}")
_SITE_HOSTS = frozenset(
    {
        "youtube.com",
        "www.youtube.com",
        "m.youtube.com",
        "music.youtube.com",
        "youtube-nocookie.com",
        "www.youtube-nocookie.com",
    }
)
_SHORT_HOSTS = frozenset({"youtu.be", "www.youtu.be"})
_ID_PATHS = frozenset({"shorts", "embed", "v", "e", "live"})
_SCHEMELESS = re.compile(r"(?:(?:www|m|music)\.)?(?:youtube\.com|youtu\.be)/", re.IGNORECASE)
_TIMESTAMP = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?")
# Watch later, liked videos and liked music need the owner's cookies, which the bot never uses.
_PRIVATE_PLAYLISTS = frozenset({"WL", "LL", "LM"})


@dataclass(frozen=True, slots=True)
class YouTubeRef:
    video_id: str | None
    playlist_id: str | None
    start_at: float = 0.0

    @property
    def is_playlist(self) -> bool:
        return self.video_id is None and self.playlist_id is not None


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def playlist_url(playlist_id: str) -> str:
    return f"https://www.youtube.com/playlist?list={playlist_id}"


def parse_timestamp(value: str) -> float:
    """Seconds from "90", "90s", "1m30s" or "1h2m3s"; 0 for anything else."""
    match = _TIMESTAMP.fullmatch(value.strip().lower())
    if not value.strip() or match is None:
        return 0.0
    hours, minutes, seconds = (float(group) if group else 0.0 for group in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def is_youtube_host(host: str) -> bool:
    return host in _SITE_HOSTS or host in _SHORT_HOSTS


def parse_youtube_url(text: str) -> YouTubeRef | None:
    """The YouTube reference in `text`, or None when it is not a YouTube link at all.

    Raises `UnsupportedSourceError` for YouTube links that are neither a video nor a playlist (channels,
    feeds) and for playlists the bot cannot read.
    """
    text = text.strip()
    if _SCHEMELESS.match(text):
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not is_youtube_host(host):
        return None
    query = parse_qs(parts.query)
    segments = [segment for segment in parts.path.split("/") if segment]

    video_id: str | None = None
    if host in _SHORT_HOSTS:
        video_id = segments[0] if segments else None
    elif segments[:1] == ["watch"]:
        video_id = _first(query, "v")
    elif len(segments) >= 2 and segments[0] in _ID_PATHS and segments[1] != "videoseries":
        video_id = segments[1]
    elif segments[:1] != ["playlist"] and segments != ["embed", "videoseries"]:
        raise UnsupportedSourceError("Only YouTube videos and playlists can be played, not that page.")

    playlist_id = _first(query, "list")
    if video_id is not None and not VIDEO_ID.fullmatch(video_id):
        raise UnsupportedSourceError("That YouTube link has no valid video id.")
    if playlist_id is not None and not PLAYLIST_ID.fullmatch(playlist_id):
        playlist_id = None
    if video_id is None:
        if playlist_id is None:
            raise UnsupportedSourceError("That YouTube link has no video or playlist in it.")
        if playlist_id in _PRIVATE_PLAYLISTS:
            raise UnsupportedSourceError("That playlist is private to its owner; the bot can't read it.")
        if playlist_id.startswith("RD"):
            raise UnsupportedSourceError(
                "YouTube mixes are endless and can't be queued; open a video from it or use a playlist."
            )
        return YouTubeRef(None, playlist_id)
    return YouTubeRef(video_id, playlist_id, _start_offset(query, parts.fragment))


def _first(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _start_offset(query: dict[str, list[str]], fragment: str) -> float:
    for key in ("t", "start", "time_continue"):
        value = _first(query, key)
        if value:
            return parse_timestamp(value)
    fragment_query = parse_qs(fragment)
    value = _first(fragment_query, "t")
    return parse_timestamp(value) if value else 0.0
