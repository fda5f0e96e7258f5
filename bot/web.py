"""Fetching feeds and pages from news sites: the only module that requests other sites (httpx).

Every fetch is bounded, because a feed list is a list of strangers' servers: http and https
only (also after a redirect), at most `max_redirects` redirects, the whole exchange within
`timeout` seconds, and the body cut off (and refused) past `max_bytes`, however much the server
says or sends. A failure is a FetchError whose message says what happened in words an admin
understands ("HTTP 500", "no answer within 20 s", "larger than 5 MB").
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from .errors import NewsbotError

log = logging.getLogger(__name__)

USER_AGENT = "newsbot/0.1 (news summaries; feed reader)"


class FetchError(NewsbotError):
    """A fetch that did not give a usable answer; str() says why."""


@dataclass(frozen=True)
class Limits:
    timeout: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    # Loopback, private, link-local, multicast and reserved addresses are refused unless an
    # operator reads a deliberately local feed ([feeds] allow_private_addresses).
    allow_private: bool = False


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    body: bytes
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    # What a feed reader needs besides the type: the base for relative links and the default
    # language (feedparser reads both from the response headers).
    content_location: str | None = None
    content_language: str | None = None


def check_url(url: str) -> str:
    """The URL, if it is an absolute http(s) URL; FetchError otherwise."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # "http://[::1": an unclosed IPv6 address, say
        raise FetchError(f"not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"only http and https URLs are fetched, not {parts.scheme or 'this'!r}")
    if not parts.hostname:
        raise FetchError("the URL has no host")
    return url.strip()


def client(limits: Limits) -> httpx.AsyncClient:
    """One client for a poll: connections reused, redirects followed here (and checked), and
    every connection made only to a public address (see _GuardedBackend)."""
    transport = httpx.AsyncHTTPTransport()
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx/httpcore changed: the address guard cannot be installed")
    pool._network_backend = _GuardedBackend(allow_private=limits.allow_private)
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(limits.timeout),
        headers={"User-Agent": USER_AGENT},
    )


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to public addresses: the host is resolved here, every address it has is
    checked, and the connection goes to the checked address itself, so a DNS answer that
    changes between the check and the connection (DNS rebinding) cannot reach inside. This is
    where each redirect's connection is made too. TLS still verifies the name in the URL."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await _checked_address(host, port, allow_private=self._allow_private)
        return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise FetchError("only network addresses are fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _checked_address(host: str, port: int, *, allow_private: bool) -> str:
    """The first address of `host`, if every address it has may be fetched; FetchError if not."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot find the host {host!r} ({exc})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchError(f"cannot find the host {host!r}")
    if not allow_private:
        for address in addresses:
            why = not_public(address)
            if why:
                log.warning("refused a fetch from %s: %s is %s", host, address, why)
                raise FetchError(f"{host} is a {why} address ({address}); not fetched")
    return addresses[0]


def not_public(address: str) -> str | None:
    """Why an IP address is not one to fetch from ("loopback", "private", ...), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for why, test in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("non-public", not ip.is_global),
    ):
        if test:
            return why
    return None


async def fetch(
    http: httpx.AsyncClient,
    url: str,
    limits: Limits,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched | None:
    """GET `url`; None when the server says it has not changed (304)."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(limits.timeout):
            return await _follow(http, check_url(url), limits, headers)
    except TimeoutError:
        raise FetchError(f"no answer within {limits.timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"network error ({_describe(exc)})") from None


async def _follow(
    http: httpx.AsyncClient, url: str, limits: Limits, headers: dict[str, str]
) -> Fetched | None:
    for _ in range(limits.max_redirects + 1):
        async with http.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return None
            if response.is_redirect:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(f"HTTP {response.status_code} redirect without a Location")
                url = check_url(str(response.url.join(location)))
                continue
            if response.status_code >= 400:
                reason = response.reason_phrase or ""
                raise FetchError(f"HTTP {response.status_code} {reason}".strip())
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limits.max_bytes:
                raise FetchError(f"larger than {_mb(limits.max_bytes)} ({_mb(int(declared))})")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limits.max_bytes:
                    raise FetchError(f"larger than {_mb(limits.max_bytes)}")
            return Fetched(
                url=str(response.url),
                body=bytes(body),
                content_type=response.headers.get("content-type", ""),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                content_location=response.headers.get("content-location"),
                content_language=response.headers.get("content-language"),
            )
    raise FetchError(f"more than {limits.max_redirects} redirects")


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
