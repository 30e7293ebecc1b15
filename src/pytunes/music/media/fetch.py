"""The bot's own HTTP requests to user-supplied hosts: redirect checks and connection pinning.

yt-dlp and FFmpeg follow redirects on their own, so a public link could bounce them to 127.0.0.1.
Before either sees a link, `follow_redirects` walks the redirect chain itself, one hop at a time, with
every hop checked by the `UrlGuard`; the final, checked URL is what they get. In production the session
uses `GuardedResolver`, so the address our request connects to is the very one that was screened (no
window for a DNS answer to change between check and connect).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from pytunes.music.media.errors import (
    ResolveTimeoutError,
    UnreachableError,
    UnsupportedSourceError,
)
from pytunes.music.media.safety import CheckedUrl, UrlGuard

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that only hands out addresses the guard accepts."""

    def __init__(self, guard: UrlGuard) -> None:
        self._guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._guard.public_addresses(host.removesuffix("."), port)
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        return None


async def follow_redirects(
    session: aiohttp.ClientSession,
    guard: UrlGuard,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    max_redirects: int = 5,
    timeout: float = 10.0,
) -> CheckedUrl:
    """The checked URL that `url` finally lands on, following at most `max_redirects` redirects.

    Only redirects matter here: any other answer (200, 206, 403, 405...) ends the walk and is left to
    yt-dlp/FFmpeg to interpret. The request asks for one byte so a media file is not streamed.
    """
    checked = await guard.check(url)
    request_headers = {**(headers or {}), "Range": "bytes=0-0"}
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    for _ in range(max_redirects + 1):
        try:
            async with session.get(
                checked.url.url, headers=request_headers, allow_redirects=False, timeout=client_timeout
            ) as response:
                status, location = response.status, response.headers.get("Location")
        except TimeoutError:
            raise ResolveTimeoutError(f"{checked.url.host} took too long to answer.") from None
        except aiohttp.ClientError as exc:
            raise UnreachableError(f"Couldn't reach {checked.url.host}.", detail=repr(exc)) from None
        if status not in REDIRECT_STATUSES or not location:
            return checked
        checked = await guard.check(urljoin(checked.url.url, location))
    raise UnsupportedSourceError("That link redirects too many times.")


def pin_http(checked: CheckedUrl) -> tuple[str, dict[str, str]]:
    """A URL (and Host header) that makes FFmpeg connect to the address that was checked.

    FFmpeg resolves the host again on its own; for plain http the checked address is put into the URL
    and the name moves to the Host header, so a DNS answer that changes in between cannot redirect it.
    https cannot be pinned this way (TLS needs the name for SNI and the certificate check); there a
    rebound name would have to present a valid certificate for the attacker's host name, which FFmpeg
    builds that verify certificates (the bundled one does) refuse.
    """
    url = checked.url
    if url.scheme != "http" or url.ip is not None or not checked.addresses:
        return url.url, {}
    # IPv4 first: a host with both families may be unreachable over IPv6 from the bot's machine.
    address = next((a for a in checked.addresses if ":" not in a), checked.addresses[0])
    host_in_url = f"[{address}]" if ":" in address else address
    rest = url.url.split("://", 1)[1]
    path = rest[rest.index("/") :] if "/" in rest else "/"
    host_header = url.host if url.port == 80 else f"{url.host}:{url.port}"
    return f"http://{host_in_url}:{url.port}{path}", {"Host": host_header}
