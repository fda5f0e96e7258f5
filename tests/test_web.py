"""Fetches never reach inside: loopback, private, link-local, multicast and reserved addresses
are refused after the name is resolved, at every redirect, unless the operator allows them."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import pytest

from bot import web
from bot.config import FeedSettings, Settings
from bot.feeds import poll_all
from bot.store import Store

from .feed_server import FeedServer, page, rss

BODY = (
    "The town council approved a second bridge over the river on Monday evening, after a vote"
    " that followed years of debate about traffic on the old crossing.",
    "Building work will start in the spring and should take about two years to finish, the"
    " council's engineers said in a report published on its website.",
)
PUBLIC = "public.test"  # a name these tests resolve to the local server, as if it were public

Resolver = Callable[..., Awaitable[str]]


@pytest.fixture
def public_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve PUBLIC to 127.0.0.1 without the check, as DNS would a public site's name."""
    real: Resolver = web._checked_address

    async def resolve(host: str, port: int, *, allow_private: bool) -> str:
        if host == PUBLIC:
            return "127.0.0.1"
        return await real(host, port, allow_private=allow_private)

    monkeypatch.setattr(web, "_checked_address", resolve)


def guarded(settings: Settings, *, allow_private: bool = False) -> Settings:
    feeds = FeedSettings(timeout_seconds=2.0, allow_private_addresses=allow_private)
    return dataclasses.replace(settings, feeds=feeds)


def public(url: str) -> str:
    return url.replace("127.0.0.1", PUBLIC)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_only_public_addresses_are_fetched_from(address: str, why: str | None) -> None:
    assert web.not_public(address) == why


async def test_a_host_with_any_inside_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # A name with a public and a private address (or one that changes between answers) must
    # not be fetched: the connection goes to the checked address itself.
    async def getaddrinfo(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(2, 1, 6, "", ("93.184.215.14", port)), (2, 1, 6, "", ("10.0.0.5", port))]

    loop = __import__("asyncio").get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    with pytest.raises(web.FetchError, match=r"private address \(10\.0\.0\.5\)"):
        await web._checked_address("mixed.test", 80, allow_private=False)
    assert await web._checked_address("mixed.test", 80, allow_private=True) == "93.184.215.14"


async def test_a_feed_on_a_loopback_address_is_refused_and_named(
    server: FeedServer, settings: Settings, store: Store
) -> None:
    url = server.route("/rss", rss("Inside", {"title": "Secret", "description": "x"}))
    store.sync_feeds([("Inside", url, [])])
    report = await poll_all(guarded(settings), store)
    (failed,) = report.failed
    assert failed.error == "127.0.0.1 is a loopback address (127.0.0.1); not fetched"
    assert server.requests() == []  # not even asked


async def test_a_redirect_to_an_inside_address_is_refused(
    server: FeedServer, settings: Settings, store: Store, public_name: None
) -> None:
    inside = server.route("/admin/feed", rss("Inside", {"title": "Secret", "description": "x"}))
    outside = server.route("/rss", behaviour="redirect", location=inside)
    store.sync_feeds([("Redirecting", public(outside), [])])
    report = await poll_all(guarded(settings), store)
    (failed,) = report.failed
    assert "loopback address" in str(failed.error)
    assert [r.path for r in server.requests()] == ["/rss"]


async def test_a_teasers_page_that_redirects_inside_is_not_delivered(
    server: FeedServer, settings: Settings, store: Store, public_name: None
) -> None:
    secret = server.route("/internal", page("Internal wiki", *BODY))
    link = server.route("/news/1", behaviour="redirect", location=secret)
    item = {"title": "Council news", "link": public(link), "guid": "n1", "description": "Teaser."}
    url = server.route("/rss", rss("Gazette", item), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", public(url), [])])
    report = await poll_all(guarded(settings), store)
    assert report.written == []
    assert any("loopback address" in note for r in report.results for note in r.notes)
    assert server.requests("/internal") == []


async def test_an_operator_may_read_a_deliberately_local_feed(
    server: FeedServer, settings: Settings, store: Store
) -> None:
    item = {"title": "Local news", "description": " ".join(BODY), "guid": "l1"}
    url = server.route("/rss", rss("Local", item), content_type="application/rss+xml")
    store.sync_feeds([("Local", url, [])])
    report = await poll_all(guarded(settings, allow_private=True), store)
    assert len(report.written) == 1 and not report.failed
