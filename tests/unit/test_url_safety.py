"""URL safety: the links a user can make the bot fetch, and the ones it must refuse before any request."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from ipaddress import IPv4Address, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytunes.music.media import extract
from pytunes.music.media.errors import (
    QueryTooLongError,
    ResolveTimeoutError,
    UnreachableError,
    UnsafeUrlError,
)
from pytunes.music.media.resolver import QueryKind, classify
from pytunes.music.media.safety import (
    UrlGuard,
    address_problem,
    problem_for_address,
)

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:4700:4700::1111"


def fake_dns(table: dict[str, Sequence[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


async def no_dns(host: str, port: int) -> Sequence[str]:
    raise AssertionError(f"no DNS lookup expected, got one for {host}")


STRICT = UrlGuard(allow_private=False, resolve=no_dns)
LENIENT = UrlGuard(allow_private=True, resolve=no_dns)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "ftp://example.com/song.mp3",
        "gopher://example.com/",
        "javascript:alert(1)",
        "data:audio/mp3;base64,AAAA",
        "concat:http://example.com/a.mp3|file:///etc/passwd",
        "//example.com/a.mp3",
        "example.com/a.mp3",
    ],
)
def test_only_http_and_https_schemes(url: str) -> None:
    with pytest.raises(UnsafeUrlError, match="Only http:// and https://"):
        LENIENT.parse(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://public@127.0.0.1/",
        "http://user:password@example.com/a.mp3",
        "http://example.com@127.0.0.1:8080/a.mp3",
        "http://example.com:80@169.254.169.254/",
    ],
)
def test_userinfo_is_refused_even_when_private_hosts_are_allowed(url: str) -> None:
    with pytest.raises(UnsafeUrlError, match="user name or password"):
        LENIENT.parse(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1\\@example.com/",
        "http://exa mple.com/",
        "http://example.com/a\nb",
        "http://example.com/\x00",
        "http://[::1/",
        "http://example.com:99999/",
        "http://example.com:0/",
        "http:///a.mp3",
        "http://%31%32%37.0.0.1/",
        "http://exa_mple-.com/",
    ],
)
def test_malformed_links_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        LENIENT.parse(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.8.9.10:8080/a.mp3", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://100.100.100.200/", "metadata"),
        ("http://169.254.1.1/", "link-local"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://100.64.0.1/", "reserved"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.251/", "multicast"),
        ("http://255.255.255.255/", "private"),
        ("http://[::1]/", "loopback"),
        ("http://[::]/", "unspecified"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "private"),
        ("http://[fd12:3456:789a::1]/", "private"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://[ff02::1]/", "multicast"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::ffff:7f00:1]/", "loopback"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
        ("http://[::ffff:10.1.2.3]/", "private"),
        ("http://[::127.0.0.1]/", "loopback"),
        ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),
        ("http://[2002:7f00:1::1]/", "loopback"),
        ("http://localhost:8080/", "local host name"),
        ("http://LOCALHOST./", "local host name"),
        ("http://media.localhost/", "local host name"),
        ("http://printer.local/", "local host name"),
        ("http://db.internal/", "local host name"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ],
)
def test_non_public_literals_and_names_refused_without_dns(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrlError, match=reason) as refused:
        STRICT.parse(url)
    assert "public" in refused.value.message, "the reply says what is allowed"


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f000001",
        "0x7f.0.0.1",
        "0x7f.1",
        "0177.0.0.1",
        "017700000001",
        "127.1",
        "127.0.1",
        "10.0.0.01",
        "1.2.3.4.5",
        "0xa9fea9fe",
        "2852039166",
        "8.8.8.0x8",
    ],
)
def test_legacy_numeric_hosts_refused_whatever_the_policy(host: str) -> None:
    for guard in (STRICT, LENIENT):
        with pytest.raises(UnsafeUrlError, match="numeric address form"):
            guard.parse(f"http://{host}/")


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Example.COM/Song.mp3", "http://example.com/Song.mp3"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:8443/a.mp3?x=1&y=2#frag", "https://example.com:8443/a.mp3?x=1&y=2"),
        ("https://exämple.com/ä.mp3", "https://xn--exmple-cua.com/%C3%A4.mp3"),
        ("https://example.com/a%20b.mp3", "https://example.com/a%20b.mp3"),
        ('https://example.com/"quoted"', "https://example.com/%22quoted%22"),
        (f"http://{PUBLIC_V4}/a.mp3", f"http://{PUBLIC_V4}/a.mp3"),
        (f"http://[{PUBLIC_V6.upper()}]:8000/", f"http://[{PUBLIC_V6}]:8000/"),
        ("https://example.com./a", "https://example.com/a"),
    ],
)
def test_accepted_links_are_rebuilt_canonically(url: str, canonical: str) -> None:
    assert STRICT.parse(url).url == canonical


def test_private_hosts_pass_when_the_operator_allows_them() -> None:
    assert LENIENT.parse("http://127.0.0.1:8080/a.mp3").url == "http://127.0.0.1:8080/a.mp3"
    assert LENIENT.parse("http://localhost/a.mp3").host == "localhost"
    assert LENIENT.parse("http://[::1]:81/").port == 81


async def test_dns_answers_are_screened_and_one_bad_answer_refuses() -> None:
    guard = UrlGuard(
        resolve=fake_dns(
            {
                "media.example": [PUBLIC_V4, PUBLIC_V6],
                "mixed.example": [PUBLIC_V4, "10.0.0.7"],
                "v6loop.example": [PUBLIC_V6, "::1"],
                "mapped.example": ["::ffff:127.0.0.1"],
                "meta.example": ["169.254.169.254"],
                "scoped.example": ["fe80::1%eth0"],
                "empty.example": [],
            }
        )
    )
    checked = await guard.check("https://media.example/a.mp3")
    assert checked.addresses == (PUBLIC_V4, PUBLIC_V6)
    assert checked.url.url == "https://media.example/a.mp3"
    for host, reason in [
        ("mixed.example", "private"),
        ("v6loop.example", "loopback"),
        ("mapped.example", "loopback"),
        ("meta.example", "metadata"),
        ("scoped.example", "link-local"),
    ]:
        with pytest.raises(UnsafeUrlError, match=reason):
            await guard.check(f"http://{host}/a.mp3")
    with pytest.raises(UnreachableError):
        await guard.check("http://empty.example/")
    with pytest.raises(UnreachableError, match=r"nowhere\.example"):
        await guard.check("http://nowhere.example/")


async def test_a_literal_or_an_allowed_private_host_needs_no_dns() -> None:
    assert (await STRICT.check(f"http://{PUBLIC_V4}/")).addresses == (PUBLIC_V4,)
    assert (await LENIENT.check("http://internal.example/")).addresses == ()


async def test_slow_dns_times_out() -> None:
    async def slow(host: str, port: int) -> Sequence[str]:
        await asyncio.sleep(10)
        return [PUBLIC_V4]

    guard = UrlGuard(resolve=slow, dns_timeout=0.05)
    with pytest.raises(ResolveTimeoutError):
        await guard.check("http://slow.example/")


def test_worker_socket_guard_refuses_non_public_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The getaddrinfo the worker processes use: every connection yt-dlp makes is screened."""
    monkeypatch.setattr(extract._policy, "allow_private", False)
    monkeypatch.setattr(extract._policy, "refused", [])
    with pytest.raises(socket.gaierror, match="loopback"):
        extract._guarded_getaddrinfo("127.0.0.1", 80, 0, socket.SOCK_STREAM)
    assert extract._policy.refused == ["127.0.0.1 -> 127.0.0.1"]
    monkeypatch.setattr(extract._policy, "allow_private", True)
    assert extract._guarded_getaddrinfo("127.0.0.1", 80, 0, socket.SOCK_STREAM)


@pytest.mark.parametrize("length", [10_000, 2049])
def test_overlong_queries_are_refused_before_anything_else(length: int) -> None:
    for text in ("a" * length, "https://example.com/" + "a" * length, "file://" + "a" * length):
        with pytest.raises(QueryTooLongError, match="limit is 2,048"):
            classify(text)


def test_search_text_has_its_own_shorter_limit() -> None:
    assert classify("a " * 128).kind is QueryKind.SEARCH
    with pytest.raises(QueryTooLongError, match="limit is 256"):
        classify("a" * 257)


@given(st.ip_addresses(v=4))
def test_every_ipv4_form_follows_the_policy(ip: IPv4Address) -> None:
    problem = address_problem(ip)
    for url in (f"http://{ip}/", f"http://[::ffff:{ip}]/"):
        if problem is None:
            assert STRICT.parse(url).ip is not None
        else:
            with pytest.raises(UnsafeUrlError):
                STRICT.parse(url)
    # Whatever the address, the decimal form never passes.
    with pytest.raises(UnsafeUrlError):
        LENIENT.parse(f"http://{int(ip)}/")


@given(st.ip_addresses(v=6))
def test_ipv6_embedding_a_non_public_ipv4_is_refused(ip: object) -> None:
    text = str(ip)
    problem = problem_for_address(text)
    embedded = ip_address(text).ipv4_mapped  # type: ignore[union-attr]
    if embedded is not None and address_problem(embedded) is not None:
        assert problem is not None
    if problem is not None:
        with pytest.raises(UnsafeUrlError):
            STRICT.parse(f"http://[{text}]/")
