"""m3u and pls playlist files behind direct links: refused, unless the host is one the operator trusts.

A playlist file is a list of things to open, written by whoever runs the server. Handed to yt-dlp or
FFmpeg it could make them open local paths (`/etc/passwd`, `file:///…`, `C:\\…`), other protocols, or
internal hosts. So:

- a direct link is checked before anything plays it: a `.m3u`/`.pls` path or a playlist Content-Type
  (after the redirect chain, every hop checked) marks a playlist;
- from a host not in `TRUSTED_PLAYLIST_HOSTS` it is refused with a clear message;
- from a trusted host it is read here (never by yt-dlp or FFmpeg), at most `max_bytes`, and only
  entries that are absolute http(s) links passing the URL guard's syntax and address checks are kept;
  file paths, `file:` and other schemes, relative entries and private addresses are dropped. Each kept
  entry is a direct-link track, checked again in full (DNS included) when it is played.

HLS manifests (`.m3u8`, `application/vnd.apple.mpegurl`) are not track lists; they keep going the normal
way and are refused by FFmpeg's demuxer whitelist.
"""

from __future__ import annotations

import configparser
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address
from urllib.parse import unquote, urljoin, urlsplit

import aiohttp

from pytunes.music.media.errors import (
    NoResultsError,
    ResolveTimeoutError,
    UnreachableError,
    UnsafeUrlError,
    UnsupportedSourceError,
)
from pytunes.music.media.fetch import REDIRECT_STATUSES
from pytunes.music.media.results import MediaEntry, PlaylistResult, SourceKind
from pytunes.music.media.safety import SafeUrl, UrlGuard, address_problem, name_problem

log = logging.getLogger(__name__)

PLAYLIST_EXTENSIONS = ("m3u", "pls")
PLAYLIST_CONTENT_TYPES = frozenset(
    {
        "audio/x-mpegurl",
        "audio/mpegurl",
        "application/x-mpegurl",
        "audio/x-scpls",
        "audio/scpls",
        "application/pls+xml",
    }
)
MAX_PLAYLIST_BYTES = 256 * 1024
METADATA = address_problem(ip_address("169.254.169.254"))
MAX_TITLE = 200

UNTRUSTED_MESSAGE = (
    "That link is a playlist file (m3u/pls). Playlist files are only read from hosts the bot's "
    "operator trusts; link the tracks themselves instead."
)


@dataclass(frozen=True, slots=True)
class PlaylistPolicy:
    trusted_hosts: frozenset[str] = field(default_factory=frozenset)
    max_bytes: int = MAX_PLAYLIST_BYTES

    def trusts(self, host: str) -> bool:
        """`host` is a trusted host or a subdomain of one."""
        host = host.lower().rstrip(".")
        return any(host == t or host.endswith(f".{t}") for t in self.trusted_hosts)


def parse_hosts(text: str) -> frozenset[str]:
    """The operator's comma-separated host list; a scheme, path or port written along is ignored."""
    hosts = set()
    for item in text.split(","):
        item = item.strip().lower()
        if not item:
            continue
        host = urlsplit(item if "://" in item else f"//{item}").hostname
        if host:
            hosts.add(host.rstrip("."))
    return frozenset(hosts)


def is_playlist(url: str, content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind in PLAYLIST_CONTENT_TYPES:
        return True
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    return "." in last and last.rsplit(".", 1)[-1].lower() in PLAYLIST_EXTENSIONS


@dataclass(frozen=True, slots=True)
class RawEntry:
    location: str
    title: str | None = None
    duration: float | None = None


def _m3u_entries(text: str) -> Iterator[RawEntry]:
    title: str | None = None
    duration: float | None = None
    for raw in text.splitlines():
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        if line.startswith("#"):
            if line.upper().startswith("#EXT-X-"):
                raise UnsupportedSourceError("That is an HLS stream manifest, not a playlist of tracks.")
            if line.upper().startswith("#EXTINF:"):
                info = line[len("#EXTINF:") :]
                length, _, name = info.partition(",")
                title = name.strip() or None
                try:
                    duration = float(length.split()[0]) if length.strip() else None
                except ValueError:
                    duration = None
            continue
        yield RawEntry(line, title, duration)
        title, duration = None, None


def _pls_entries(text: str) -> Iterator[RawEntry]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        raise UnsupportedSourceError("That pls playlist is malformed.") from None
    section = next((s for s in parser.sections() if s.lower() == "playlist"), None)
    if section is None:
        raise UnsupportedSourceError("That pls playlist is malformed.")
    # Keys by entry number as written: `File01` and `File1` are both entry 1 (the first one wins), and a
    # `Title01` belongs to it whatever padding the writer used.
    fields: dict[str, dict[int, str]] = {"file": {}, "title": {}, "length": {}}
    for key, value in parser[section].items():
        for name, numbered in fields.items():
            digits = key[len(name) :]
            if key.lower().startswith(name) and digits.isascii() and digits.isdigit():
                numbered.setdefault(int(digits), value)
    for n in sorted(fields["file"]):
        length = fields["length"].get(n, "")
        try:
            duration: float | None = float(length) if length.strip() else None
        except ValueError:
            duration = None
        yield RawEntry(fields["file"][n].strip(), fields["title"].get(n) or None, duration)


def safe_entry(location: str, guard: UrlGuard) -> SafeUrl | None:
    """The entry as a checked web link, or None: only absolute http(s) links to allowed hosts pass.
    Paths, `file:`, `smb:`, relative entries and private addresses never do."""
    scheme = location.split(":", 1)[0].lower() if ":" in location else ""
    if scheme not in ("http", "https") or not location[len(scheme) + 1 :].startswith("//"):
        return None
    try:
        url = guard.parse(location)
    except UnsafeUrlError:
        return None
    # Even where the operator allows private hosts, a list someone else wrote never reaches the cloud
    # metadata service.
    problem = address_problem(url.ip) if url.ip is not None else name_problem(url.host)
    return None if problem == METADATA else url


def parse_playlist(text: str, guard: UrlGuard, *, max_entries: int) -> tuple[list[MediaEntry], int, bool]:
    """(kept entries, how many were dropped, whether it was cut at `max_entries`)."""
    is_pls = text.lstrip("\ufeff \r\n\t").lower().startswith("[playlist]")
    raw = _pls_entries(text) if is_pls else _m3u_entries(text)
    kept: list[MediaEntry] = []
    dropped = 0
    for entry in raw:
        if len(kept) >= max_entries:
            return kept, dropped, True
        checked = safe_entry(entry.location, guard)
        if checked is None:
            dropped += 1
            continue
        name = unquote(urlsplit(checked.url).path.rsplit("/", 1)[-1]) or checked.host
        kept.append(
            MediaEntry(
                source_kind=SourceKind.DIRECT,
                id=checked.url,
                title=(entry.title or name)[:MAX_TITLE],
                url=checked.url,
                duration=entry.duration if entry.duration and entry.duration > 0 else None,
            )
        )
    return kept, dropped, False


async def read_playlist(
    session: aiohttp.ClientSession,
    guard: UrlGuard,
    url: str,
    policy: PlaylistPolicy,
    *,
    max_entries: int,
    max_redirects: int = 5,
    timeout: float = 10.0,
) -> PlaylistResult | None:
    """The playlist behind the direct link `url`, or None when it is no playlist file.

    Raises `UnsupportedSourceError` for a playlist from an untrusted host, `NoResultsError` when none of
    its entries may be played.
    """
    checked = await guard.check(url)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    try:
        for _ in range(max_redirects + 1):
            async with session.get(
                checked.url.url, allow_redirects=False, timeout=client_timeout
            ) as response:
                location = response.headers.get("Location")
                if response.status in REDIRECT_STATUSES and location:
                    checked = await guard.check(urljoin(checked.url.url, location))
                    continue
                content_type = response.headers.get("Content-Type")
                if not 200 <= response.status < 300 or not is_playlist(checked.url.url, content_type):
                    return None  # not ours: the normal path reports it
                if not policy.trusts(checked.url.host):
                    raise UnsupportedSourceError(UNTRUSTED_MESSAGE, detail=checked.url.url)
                body = await response.content.read(policy.max_bytes + 1)
                break
        else:
            raise UnsupportedSourceError("That link redirects too many times.")
    except TimeoutError:
        raise ResolveTimeoutError(f"{checked.url.host} took too long to answer.") from None
    except aiohttp.ClientError as exc:
        raise UnreachableError(f"Couldn't reach {checked.url.host}.", detail=repr(exc)) from None
    if len(body) > policy.max_bytes:
        raise UnsupportedSourceError("That playlist file is too large to read.")
    entries, dropped, truncated = parse_playlist(
        body.decode("utf-8", errors="replace"), guard, max_entries=max_entries
    )
    if dropped:
        log.info("playlist %s: %d entries were not web links and were left out", checked.url.url, dropped)
    if not entries:
        raise NoResultsError(
            "That playlist has no web links the bot can play (local files and other kinds of entries "
            "are never opened)."
        )
    title = unquote(urlsplit(checked.url.url).path.rsplit("/", 1)[-1]) or checked.url.host
    return PlaylistResult(
        id=checked.url.url,
        title=title[:MAX_TITLE],
        entries=tuple(entries),
        truncated=truncated,
        skipped=dropped,
    )
