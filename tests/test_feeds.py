"""Feeds against a web server of our own on 127.0.0.1: RSS and Atom, pages behind teasers,
conditional requests, and every way a site fails while the other feeds keep working."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from bot import library
from bot.config import FeedSettings, Settings
from bot.extract import fragment
from bot.feeds import FeedError, feed_name_for, parse, poll_all
from bot.store import Store

from .feed_server import FeedServer, atom, page, rss

BODY = (
    "The town council approved a second bridge over the river on Monday evening.",
    "Building work will start in the spring and should take about two years to finish.",
    "Residents of the east bank have asked for a second crossing for more than a decade.",
)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def feed_settings(settings: Settings) -> Settings:
    feeds = FeedSettings(timeout_seconds=2.0, max_bytes=1024 * 1024, max_redirects=3)
    return dataclasses.replace(settings, feeds=feeds)


def teaser(server: FeedServer, n: int, title: str) -> dict[str, str]:
    """An RSS item with a one-line teaser whose page holds the article."""
    link = server.route(f"/news/{n}", page(title, *BODY, canonical=f"https://site.example/{n}"))
    return {
        "title": title,
        "link": link,
        "guid": f"story-{n}",
        "description": "A short teaser.",
        "pubDate": "Fri, 27 Nov 2026 10:00:00 GMT",
    }


async def test_an_rss_feed_of_teasers_brings_the_pages_main_text(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    items = [teaser(server, 1, "Council approves bridge"), teaser(server, 2, "Ferry to stop")]
    url = server.route("/rss", rss("Gazette", *items), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, ["local"])])

    report = await poll_all(feed_settings, store)

    assert report.new == 2 and not report.failed
    records = [json.loads(p.read_text(encoding="utf-8")) for p in report.written]
    first = next(r for r in records if r["title"] == "Council approves bridge")
    assert first["text"].split("\n\n") == list(BODY)  # no navigation, no footer
    assert first["url"] == "https://site.example/1"  # the page's canonical URL
    assert first["source"] == "Gazette" and first["tags"] == ["local"]
    assert first["date"].startswith("2026-11-27T10:00:00")
    indexed = library.index(feed_settings, store)
    assert indexed.added == 2 and not indexed.failed
    assert {h.title for h in store.search("ferry").hits} == {"Ferry to stop"}


async def test_a_second_poll_asks_conditionally_and_brings_only_new_entries(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    items = [teaser(server, 1, "Council approves bridge")]
    url = server.route("/rss", rss("Gazette", *items), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, [])])
    assert (await poll_all(feed_settings, store)).new == 1

    again = await poll_all(feed_settings, store, only="Gazette")
    assert again.new == 0 and again.results[0].not_modified
    assert server.requests("/rss")[-1].headers.get("if-none-match")

    items.insert(0, teaser(server, 2, "Ferry to stop in January"))
    server.route("/rss", rss("Gazette", *items), content_type="application/rss+xml")
    third = await poll_all(feed_settings, store, only="Gazette")
    assert third.new == 1
    assert len(server.requests("/news/1")) == 1  # the old entry's page is not fetched again


async def test_an_atom_entry_with_its_whole_text_needs_no_page(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    content = "".join(f"<p>{s}</p>" for s in BODY * 3) + "<h2>What next</h2><p>More to come.</p>"
    entry = {
        "title": "Bridge approved",
        "id": "urn:1",
        "link": server.url("/never"),
        "content": content,
    }
    url = server.route("/atom", atom("Wire", entry), content_type="application/atom+xml")
    settings = dataclasses.replace(
        feed_settings, feeds=dataclasses.replace(feed_settings.feeds, full_text_words=30)
    )
    store.sync_feeds([("Wire", url, [])])
    report = await poll_all(settings, store)
    assert report.new == 1
    assert server.requests("/never") == []
    record = json.loads(report.written[0].read_text(encoding="utf-8"))
    assert "What next" in record["text"].split("\n\n")


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ({"body": "<html><body>Not a feed at all</body></html>"}, "not an RSS or Atom feed"),
        ({"behaviour": "status", "status": 500}, "HTTP 500"),
        ({"behaviour": "slow", "seconds": 3.0, "body": "<rss/>"}, "no answer within 2 s"),
        ({"behaviour": "huge", "size": 50 * 1024 * 1024}, "larger than 1.0 MB"),
        ({"behaviour": "loop"}, "more than 3 redirects"),
        ({"behaviour": "redirect", "location": "file:///etc/passwd"}, "only http and https"),
    ],
)
async def test_a_broken_feed_is_reported_and_the_others_keep_working(
    server: FeedServer,
    feed_settings: Settings,
    store: Store,
    route: dict[str, object],
    reason: str,
) -> None:
    good = server.route(
        "/rss", rss("Gazette", teaser(server, 1, "Bridge")), content_type="text/xml"
    )
    bad = server.route("/bad", **route)  # type: ignore[arg-type]
    store.sync_feeds([("Gazette", good, []), ("Broken", bad, [])])

    report = await poll_all(feed_settings, store)

    assert report.new == 1
    (failed,) = report.failed
    assert failed.name == "Broken" and reason in (failed.error or "")
    broken = next(f for f in store.feeds() if f.name == "Broken")
    assert broken.failures == 1 and reason in (broken.last_error or "")
    assert broken.next_poll > next(f for f in store.feeds() if f.name == "Gazette").next_poll


async def test_a_failing_feed_backs_off_longer_each_time(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    url = server.route("/bad", behaviour="status", status=503)
    store.sync_feeds([("Broken", url, [])])
    clock = [1_800_000_000.0]
    waits = []
    for _ in range(3):
        await poll_all(feed_settings, store, clock=lambda: clock[0])
        (feed,) = store.feeds()
        waits.append(feed.next_poll - clock[0])
        clock[0] = feed.next_poll
    assert waits[0] < waits[1] < waits[2]
    assert store.feeds()[0].failures == 3


async def test_an_entry_whose_page_fails_is_tried_again_next_poll(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    item = teaser(server, 1, "Bridge")
    server.route("/news/1", behaviour="status", status=502)
    url = server.route("/rss", rss("Gazette", item), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, [])])
    first = await poll_all(feed_settings, store)
    assert first.new == 0 and "HTTP 502" in first.results[0].notes[0]
    assert not first.failed  # the feed itself works

    server.route("/news/1", page("Bridge", *BODY))
    second = await poll_all(feed_settings, store, only="Gazette")
    assert second.new == 1


def test_malformed_xml_is_named_and_what_can_be_read_is_kept() -> None:
    broken = parse(b"<rss><channel><item><title>Cut off</title><link>http://x.example/1</link>")
    assert broken.problem and "malformed XML" in broken.problem
    assert [e.title for e in broken.entries] == ["Cut off"]
    for nothing in (b"", b"<html><body>Hello</body></html>", b"<rss><channel><item"):
        with pytest.raises(FeedError):
            parse(nothing)


def test_rss_1_0_and_old_rss_0_91_are_read() -> None:
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="http://x.example/"><title>Old</title><link>http://x.example/</link>
<description>d</description></channel>
<item rdf:about="http://x.example/1"><title>First</title><link>http://x.example/1</link></item>
</rdf:RDF>"""
    old = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title>
<link>http://x.example/</link><description>d</description><language>de</language>
<item><title>Zweite</title><link>http://x.example/2</link><description>Text.</description></item>
</channel></rss>"""
    assert [e.title for e in parse(rdf).entries] == ["First"]
    parsed = parse(old)
    assert [e.key for e in parsed.entries] == ["http://x.example/2"]
    assert parsed.meta["language"] == "de" and parsed.problem is None


def test_a_feed_added_by_url_is_named_after_its_site() -> None:
    assert feed_name_for("https://feeds.bbci.co.uk/news/rss.xml") == "bbci.co.uk"
    assert feed_name_for("http://www.example.org:8080/feed") == "example.org"


async def test_the_same_story_in_two_feeds_is_one_story_with_two_sources(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    text = (
        "The town council approved a second bridge over the river on Monday evening after a"
        " debate that ran past midnight.",
        "The crossing will link the station with the new housing on the east bank, and"
        " councillors voted 21 to 9 for the plan after two delays over its cost.",
        "Building work is expected to start in the spring and to take about two years.",
    )
    first = server.route("/a/bridge", page("Council approves bridge", *text))
    second = server.route(
        "/b/bridge", page("Second bridge gets the go-ahead", *text[:2], "It opens in 2028.")
    )
    ferry = (
        "The river ferry will stop for a week in January while its landing stages are repaired.",
        "A replacement bus will run every twenty minutes by way of the old bridge instead.",
        "Season tickets will be valid on the bus, and a week is added to each of them.",
    )
    other = server.route("/a/ferry", page("Ferry stops in January", *ferry))
    feed_a = rss(
        "A",
        {"title": "Council approves bridge", "link": first, "guid": "a1"},
        {"title": "Ferry stops in January", "link": other, "guid": "a2"},
    )
    feed_b = rss("B", {"title": "Second bridge gets the go-ahead", "link": second, "guid": "b1"})
    store.sync_feeds(
        [
            ("A", server.route("/a.xml", feed_a, content_type="text/xml"), []),
            ("B", server.route("/b.xml", feed_b, content_type="text/xml"), []),
        ]
    )
    assert (await poll_all(feed_settings, store)).new == 3
    assert library.index(feed_settings, store).added == 3

    titles = [s.article.title for s in store.latest(10, 0)]
    assert len(titles) == 2 and "Ferry stops in January" in titles  # one line per story
    head = next(s for s in store.latest(10, 0) if s.article.title != "Ferry stops in January")
    (other_source,) = store.story_sources(head.id)
    assert {head.article.title, other_source[1]} == {
        "Council approves bridge",
        "Second bridge gets the go-ahead",
    }


# -- entry HTML ----------------------------------------------------------------------------------

# The shape of a real entry that kept 14 of its 65 words: most of its text was outside <p>.
LOOSE = (
    "Lead text straight in the entry, before any paragraph."
    "<p>A first paragraph, in a p element.</p>"
    "Text after the paragraph, still the entry's own."
    "<div>A paragraph in a div<br>and a line after a break.</div>"
    "<h2>A subheading</h2>"
    "<figure><img src='x.jpg'><figcaption>A caption to drop</figcaption></figure>"
    "<script>var tracking = 1;</script><style>p { color: red }</style>"
    "<ul><li>One item</li><li>Another <b>bold</b> item</li></ul>"
    "<blockquote><p>A quoted paragraph.</p></blockquote>"
    "Last words, after every element."
)


def test_entry_html_keeps_all_its_text_in_order() -> None:
    assert fragment(LOOSE) == [
        ("Lead text straight in the entry, before any paragraph.", False),
        ("A first paragraph, in a p element.", False),
        ("Text after the paragraph, still the entry's own.", False),
        ("A paragraph in a div", False),
        ("and a line after a break.", False),
        ("A subheading", True),
        ("One item", False),
        ("Another bold item", False),
        ("A quoted paragraph.", False),
        ("Last words, after every element.", False),
    ]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("Fish &amp; chips &lt;3", [("Fish & chips <3", False)]),
        ("<p>un<b>believ</b>able</p><!-- a comment -->", [("unbelievable", False)]),
        (
            "One line<br/>Next line<br><br>Third",
            [("One line", False), ("Next line", False), ("Third", False)],
        ),
        (
            "First paragraph.\n\nSecond paragraph.",
            [("First paragraph.", False), ("Second paragraph.", False)],
        ),
        ("<h3>Only <em>a</em> heading<script>x()</script></h3>", [("Only a heading", True)]),
        ("<p>broken <b>markup</p> and more", [("broken markup", False), ("and more", False)]),
        ("nul\x00 and \x0bcontrols <i>here</i>", [("nul and controls here", False)]),
        ("<script>only()</script>", []),
    ],
)
def test_entry_html_becomes_plain_paragraphs(html: str, expected: list[tuple[str, bool]]) -> None:
    assert fragment(html) == expected
