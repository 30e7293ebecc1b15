"""What the bot may fetch on a user's behalf.

Users' links reach yt-dlp and FFmpeg, which would happily open `file:` paths, the cloud metadata
service or an admin page on the LAN. Every link therefore passes here first:

- `parse_url` (pure): http/https only; no user:password@ part (it is the classic way to make a link look
  like one host while it goes to another); no whitespace, control characters or backslashes (parsers
  disagree about them); legacy numeric hosts (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) refused
  outright; IDNA hosts converted to ASCII. It returns a canonical URL rebuilt from the checked parts, and
  only that string is passed on, so no second parser ever sees the user's original spelling.
- `address_problem` (pure): an address is allowed only when it is globally routable; IPv6 forms that
  embed an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged by the embedded address.
- `UrlGuard.check` (async): the host's DNS answers are screened too, and one bad answer among several
  refuses the link (the connection could go to any of them). Private hosts are allowed only when the
  operator says so (`allow_private`).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import quote, urlsplit

from pytunes.music.media.errors import ResolveTimeoutError, UnreachableError, UnsafeUrlError

IPAddress = IPv4Address | IPv6Address
Resolve = Callable[[str, int], Awaitable[Sequence[str]]]

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

# Well-known metadata endpoints get a precise reason; they are all non-global addresses anyway.
_METADATA_ADDRESSES = frozenset(
    ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)
_METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
# Names that only ever mean "this machine" or "this network" (RFC 6761, RFC 8375, mDNS, cloud DNS).
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
_EMBEDS_IPV4_IN_LOW_BITS = (ip_network("64:ff9b::/96"), ip_network("64:ff9b:1::/48"), ip_network("::/96"))

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# WHATWG URL rule: a host whose last label is a number is an IPv4 address in some notation.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass(frozen=True, slots=True)
class SafeUrl:
    url: str  # canonical form, rebuilt from the checked parts; the only form that is passed on
    scheme: str
    host: str  # ASCII, lower case; IPv6 without brackets
    port: int  # explicit, or the scheme's default
    ip: IPAddress | None  # set when the host is an IP literal


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    url: SafeUrl
    # Public addresses the host resolved to when it was checked; empty when no lookup was needed
    # (private hosts allowed).
    addresses: tuple[str, ...]


def _embedded_ipv4(ip: IPv6Address) -> list[IPv4Address]:
    found: list[IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in _EMBEDS_IPV4_IN_LOW_BITS):
        found.append(IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_problem(ip: IPAddress) -> str | None:
    """Why the bot must not connect to `ip` for a user, or None when the address is public."""
    if isinstance(ip, IPv6Address):
        if ip.scope_id:
            return "a link-local address"
        # :: and ::1 sit inside the IPv4-compatible range; judge them as what they are.
        if ip.is_loopback or ip.is_unspecified:
            return "a loopback address (this machine)" if ip.is_loopback else "an unspecified address"
        for inner in _embedded_ipv4(ip):
            problem = address_problem(inner)
            if problem is not None:
                return problem
    if ip in _METADATA_ADDRESSES:
        return "a cloud metadata service"
    if ip.is_loopback:
        return "a loopback address (this machine)"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private network address"
    if not ip.is_global:
        return "a reserved address"
    return None


def problem_for_address(text: str) -> str | None:
    """`address_problem` for an address as getaddrinfo prints it (IPv6 may carry a %scope)."""
    try:
        ip = ip_address(text)
    except ValueError:
        return "an unrecognised address"
    return address_problem(ip)


def name_problem(host: str) -> str | None:
    """Host names that mean this machine, the local network or a metadata service, whatever DNS says."""
    if host in _METADATA_NAMES:
        return "a cloud metadata service"
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return "a local host name"
    return None


def _malformed(why: str = "That link is malformed.") -> UnsafeUrlError:
    return UnsafeUrlError(why)


def _ascii_host(host: str) -> str:
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _malformed("That link's host name is not valid.") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _malformed("That link's host name is not valid.")
    return ascii_host


def _ipv4_literal(host: str) -> IPv4Address | None:
    if not _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        return None
    if not _DOTTED_QUAD.fullmatch(host):
        # Decimal, octal, hex and shortened forms are only ever used to sneak past filters.
        raise UnsafeUrlError("That link uses an unusual numeric address form; use a normal host name.")
    return IPv4Address(host)


def parse_url(text: str) -> SafeUrl:
    """Check the syntax of a user's link and rebuild it canonically (no DNS, no address policy)."""
    if not text or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in text):
        raise _malformed("That link contains characters a link can't have.")
    try:
        parts = urlsplit(text)
        explicit_port = parts.port
    except ValueError:
        raise _malformed() from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeUrlError("Only http:// and https:// links can be played.")
    if "@" in parts.netloc:
        raise UnsafeUrlError("Links with a user name or password (`user@host`) are not accepted.")
    raw_host = parts.hostname
    if not raw_host:
        raise _malformed()
    if explicit_port == 0:
        raise _malformed()
    ip: IPAddress | None
    if parts.netloc.startswith("["):
        if "%" in raw_host:
            raise UnsafeUrlError("Links with an IPv6 zone are not accepted.")
        try:
            ip = IPv6Address(raw_host)
        except ValueError:
            raise _malformed() from None
        host = str(ip)
        host_in_url = f"[{host}]"
    else:
        host = _ascii_host(raw_host.removesuffix("."))
        ip = _ipv4_literal(host)
        host_in_url = host
    port = explicit_port if explicit_port is not None else DEFAULT_PORTS[scheme]
    port_in_url = "" if explicit_port is None else f":{explicit_port}"
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    query = quote(parts.query, safe=_QUERY_SAFE)
    url = f"{scheme}://{host_in_url}{port_in_url}{path}" + (f"?{query}" if query else "")
    return SafeUrl(url=url, scheme=scheme, host=host, port=port, ip=ip)


async def system_resolve(host: str, port: int) -> list[str]:
    """The default resolver: the event loop's getaddrinfo (run in its thread pool)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class UrlGuard:
    """Applies the address policy; `resolve` is injectable so tests can fake DNS answers."""

    def __init__(
        self, *, allow_private: bool = False, resolve: Resolve | None = None, dns_timeout: float = 5.0
    ) -> None:
        self.allow_private = allow_private
        self._resolve = resolve or system_resolve
        self._dns_timeout = dns_timeout

    def parse(self, text: str) -> SafeUrl:
        """Syntax plus the checks that need no DNS (IP literals, local and metadata names)."""
        url = parse_url(text)
        if self.allow_private:
            return url
        problem = address_problem(url.ip) if url.ip is not None else name_problem(url.host)
        if problem is not None:
            raise UnsafeUrlError(
                f"That link points to {problem}; only links to public hosts can be played.",
                detail=url.url,
            )
        return url

    async def check(self, text: str) -> CheckedUrl:
        url = self.parse(text)
        if self.allow_private:
            return CheckedUrl(url, ())
        if url.ip is not None:
            return CheckedUrl(url, (str(url.ip),))
        return CheckedUrl(url, tuple(await self.public_addresses(url.host, url.port)))

    async def public_addresses(self, host: str, port: int) -> list[str]:
        """Resolve `host`; refuse it when any answer is not public (unless private hosts are allowed)."""
        try:
            async with asyncio.timeout(self._dns_timeout):
                addresses = list(await self._resolve(host, port))
        except TimeoutError:
            raise ResolveTimeoutError(f"Looking up {host} took too long.") from None
        except OSError as exc:
            raise UnreachableError(f"Couldn't find the host {host}.", detail=str(exc)) from None
        if not addresses:
            raise UnreachableError(f"Couldn't find the host {host}.")
        if not self.allow_private:
            for address in addresses:
                problem = problem_for_address(address)
                if problem is not None:
                    raise UnsafeUrlError(
                        f"{host} points to {problem}; only links to public hosts can be played.",
                        detail=f"{host} -> {address}",
                    )
        return addresses
