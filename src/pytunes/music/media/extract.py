"""The code that runs inside the media worker processes: yt-dlp with options fixed by code.

Nothing a user typed ever becomes a yt-dlp option. A request carries a kind, a target built by the
resolver (a checked URL, a canonical YouTube URL, or "ytsearchN:" followed by the search text) and
operator settings; `ydl_options` derives everything else.

The worker processes also replace `socket.getaddrinfo` with a screening version (`install_socket_guard`).
yt-dlp follows redirects and fetches pages on its own; with the guard, every connection it makes, on any
hop, goes through the same address policy as the bot's own checks, and an answer that changed since the
check (DNS rebinding) is refused at connect time.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pytunes.music.media.results import (
    ExtractFailure,
    ExtractOutcome,
    MediaEntry,
    PlaylistResult,
    ResolvedMedia,
    SourceKind,
    positive_duration,
)
from pytunes.music.media.safety import problem_for_address
from pytunes.music.media.youtube import VIDEO_ID, watch_url

# Opus first: Discord's codec, so FFmpeg copies it instead of re-encoding. Plain http(s) formats only:
# an HLS or DASH manifest would make FFmpeg fetch segment URLs from a list the bot never checked.
_PLAIN_HTTP = "[protocol^=http][protocol!*=dash]"
AUDIO_FORMAT = f"bestaudio[acodec=opus]{_PLAIN_HTTP}/bestaudio{_PLAIN_HTTP}/best{_PLAIN_HTTP}"


class ExtractKind(StrEnum):
    SINGLE = "single"
    PLAYLIST = "playlist"
    SEARCH = "search"


@dataclass(frozen=True, slots=True)
class ExtractRequest:
    kind: ExtractKind
    target: str  # built by the resolver, never raw user text
    source_kind: SourceKind
    extractors: tuple[str, ...]
    allow_private: bool = False
    socket_timeout: float = 10.0
    max_entries: int = 200
    js_runtimes: tuple[str, ...] = ("deno",)


def _runtime(name: str) -> dict[str, str]:
    """Where a JavaScript runtime lives. deno comes as a Python package, so it is found even when the
    virtualenv's bin folder is not on PATH (e.g. `make run` calls .venv/bin/python directly)."""
    if name == "deno":
        with contextlib.suppress(ImportError, FileNotFoundError):
            import deno

            return {"path": str(deno.find_deno_bin())}
    return {}


_UNAVAILABLE_TITLES = frozenset({"[Private video]", "[Deleted video]"})
_LIVE_STATUSES = frozenset({"is_live", "is_upcoming", "post_live"})


class _NetPolicy:
    """The socket guard's state, set per request (a worker process runs one request at a time)."""

    def __init__(self) -> None:
        self.allow_private = False
        self.refused: list[str] = []


_policy = _NetPolicy()
_real_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(
    host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> Any:
    infos = _real_getaddrinfo(host, port, family, type, proto, flags)
    if not _policy.allow_private:
        for info in infos:
            problem = problem_for_address(str(info[4][0]))
            if problem is not None:
                _policy.refused.append(f"{host} -> {info[4][0]}")
                raise socket.gaierror(socket.EAI_NONAME, f"{host} points to {problem}")
    return infos


def install_socket_guard() -> None:
    socket.getaddrinfo = _guarded_getaddrinfo


def worker_init() -> None:
    """Process initializer: the guard first, then the slow imports, so the first request is fast."""
    install_socket_guard()
    from yt_dlp.extractor import gen_extractor_classes

    gen_extractor_classes()


def warm() -> int:
    return os.getpid()


class _SilentLogger:
    """yt-dlp prints to the console by default; errors come back as return values instead."""

    def debug(self, message: str) -> None:
        return None

    def info(self, message: str) -> None:
        return None

    def warning(self, message: str) -> None:
        return None

    def error(self, message: str) -> None:
        return None


def ydl_options(request: ExtractRequest) -> dict[str, Any]:
    listing = request.kind is not ExtractKind.SINGLE
    return {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": _SilentLogger(),
        "skip_download": True,
        "format": AUDIO_FORMAT,
        # A live video has no plain-http audio format; returning it without one lets the bot say
        # "livestreams are not allowed" instead of "format not available".
        "ignore_no_formats_error": True,
        "noplaylist": not listing,
        "extract_flat": "in_playlist" if listing else False,
        # One more than allowed, to tell a playlist that was cut from one that fits exactly.
        "playlistend": request.max_entries + 1 if listing else None,
        "allowed_extractors": [re.escape(name) for name in request.extractors],
        "socket_timeout": request.socket_timeout,
        "retries": 0,
        "extractor_retries": 0,
        "js_runtimes": {name: _runtime(name) for name in request.js_runtimes},
        "cookiefile": None,
        "enable_file_urls": False,
        "color": {"stdout": "no_color", "stderr": "no_color"},
    }


def run_extraction(request: ExtractRequest) -> ExtractOutcome:
    import yt_dlp

    _policy.allow_private = request.allow_private
    _policy.refused.clear()
    try:
        with yt_dlp.YoutubeDL(ydl_options(request)) as ydl:
            info = ydl.extract_info(request.target, download=False)
            if not isinstance(info, dict):
                return ExtractFailure("no_results", "Nothing was found.")
            if request.kind is ExtractKind.SINGLE:
                return _single(info, request)
            return _listing(info, request)
    except Exception as exc:  # yt-dlp raises many unrelated types; every one becomes a reported failure
        return _failure(exc)


def _single(info: dict[str, Any], request: ExtractRequest) -> ExtractOutcome:
    if info.get("_type") == "playlist":
        # A page with several <audio> tags: play the first one.
        entries = [entry for entry in info.get("entries") or [] if isinstance(entry, dict)]
        if not entries:
            return ExtractFailure("no_results", "There's nothing playable on that page.")
        info = entries[0]
    live = info.get("is_live") is True or info.get("live_status") in _LIVE_STATUSES
    stream_url = info.get("url")
    if not live and not isinstance(stream_url, str):
        return ExtractFailure("unsupported", "That link has no audio the bot can stream.")
    media_id = str(info.get("id") or "")
    if request.source_kind is SourceKind.YOUTUBE and VIDEO_ID.fullmatch(media_id):
        page_url = watch_url(media_id)
    else:
        page_url = str(info.get("webpage_url") or request.target)
    acodec = info.get("acodec")
    ext = info.get("audio_ext") if info.get("audio_ext") not in (None, "none") else info.get("ext")
    headers = info.get("http_headers") or {}
    return ResolvedMedia(
        title=str(info.get("title") or media_id or "Untitled"),
        page_url=page_url,
        stream_url="" if live else str(stream_url),
        duration=positive_duration(info.get("duration")),
        is_live=live,
        acodec=acodec if isinstance(acodec, str) and acodec != "none" else None,
        ext=ext if isinstance(ext, str) else None,
        http_headers={str(k): str(v) for k, v in headers.items() if isinstance(v, str)},
        source_kind=request.source_kind,
        id=media_id or None,
        channel=_text(info.get("channel") or info.get("uploader")),
    )


def _listing(info: dict[str, Any], request: ExtractRequest) -> ExtractOutcome:
    raw_entries = [entry for entry in info.get("entries") or [] if isinstance(entry, dict)]
    entries = [_entry(raw, request.source_kind) for raw in raw_entries[: request.max_entries]]
    playlist_id = str(info.get("id") or "")
    return PlaylistResult(
        id=playlist_id,
        title=str(info.get("title") or f"Playlist {playlist_id}"),
        entries=tuple(entry for entry in entries if entry is not None),
        truncated=len(raw_entries) > request.max_entries,
    )


def _entry(raw: dict[str, Any], source_kind: SourceKind) -> MediaEntry | None:
    entry_id = str(raw.get("id") or "")
    title = _text(raw.get("title")) or entry_id
    if title in _UNAVAILABLE_TITLES:
        return None
    if source_kind is SourceKind.YOUTUBE:
        if not VIDEO_ID.fullmatch(entry_id):
            return None
        url = watch_url(entry_id)
    else:
        url = str(raw.get("url") or "")
        if not url:
            return None
    live_status = raw.get("live_status")
    return MediaEntry(
        source_kind=source_kind,
        id=entry_id,
        title=title,
        url=url,
        channel=_text(raw.get("channel") or raw.get("uploader")),
        duration=positive_duration(raw.get("duration")),
        is_live=None if live_status is None else live_status in _LIVE_STATUSES,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _failure(exc: Exception) -> ExtractFailure:
    detail = str(exc)[:500]
    text = detail.lower()
    if _policy.refused:
        return ExtractFailure(
            "unsafe_url",
            "That link leads to a non-public address; it can't be played.",
            "; ".join(_policy.refused),
        )
    if "unsupported url" in text or "no suitable extractor" in text:
        return ExtractFailure("unsupported", "That link has nothing the bot can play.", detail)
    if "timed out" in text:
        return ExtractFailure("timeout", "The site took too long to answer.", detail)
    # Before the sign-in check: yt-dlp words a private video "Private video. Sign in if you've been
    # granted access…", and it is gone for the bot, not a matter of an account.
    unavailable = ("unavailable", "private video", "not available", "removed", "does not exist", "404")
    if any(marker in text for marker in unavailable):
        return ExtractFailure(
            "no_results", "That video or playlist doesn't exist or isn't available.", detail
        )
    if "sign in" in text or "confirm your age" in text:
        return ExtractFailure("unsupported", "That video needs a signed-in YouTube account.", detail)
    unreachable = (
        "getaddrinfo",
        "name or service",
        "connection refused",
        "unable to download",
        "reset by peer",
    )
    if any(marker in text for marker in unreachable):
        return ExtractFailure("unreachable", "Couldn't reach that site.", detail)
    return ExtractFailure("failed", "Couldn't get that media.", detail)
