"""Feeds against a web server of our own on 127.0.0.1: RSS and Atom, pages behind teasers,
conditional requests, and every way a site fails while the other feeds keep working; charsets
named in HTTP headers, the feed's own text when a page cannot be had, entries that cannot make
an article (each with its reason), titles as the feed marks them, and entry HTML to paragraphs."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from bot import extract, index
from bot.config import FeedSettings, Settings
from bot.extract import fragment
from bot.feeds import MAX_ATTEMPTS, FeedError, FeedResult, feed_name_for, parse, poll_all
from bot.store import Store

from .feed_server import FeedServer, atom, page, rss

BODY = (
    "The town council approved a second bridge over the river on Monday evening.",
    "Building work will start in the spring and should take about two years to finish.",
    "Residents of the east bank have asked for a second crossing for more than a decade.",
)


@pytest.fixture
def feed_settings(settings: Settings) -> Settings:
    feeds = FeedSettings(
        timeout_seconds=2.0, max_bytes=1024 * 1024, max_redirects=3, allow_private_addresses=True
    )
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
    indexed = index.run(feed_settings, store)
    assert indexed.added == 2 and not indexed.failed
    assert {h.title for h in store.search("ferry").hits} == {"Ferry to stop"}


async def test_a_teasers_picture_is_its_pages_og_image_resolved_against_the_page(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    og_image = '<meta property="og:image" content="/media/bridge-1200.jpg">'
    link = server.route("/news/1", page("Council approves bridge", *BODY, head=og_image))
    plain = teaser(server, 2, "Ferry to stop")  # a page without a picture
    items = [
        {"title": "Council approves bridge", "link": link, "guid": "s1", "description": "Teaser."},
        plain,
    ]
    url = server.route("/rss", rss("Gazette", *items), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, [])])

    report = await poll_all(feed_settings, store)

    records = {r["title"]: r for r in (json.loads(p.read_text()) for p in report.written)}
    assert records["Council approves bridge"]["image"] == link.rsplit("/news/", 1)[0] + (
        "/media/bridge-1200.jpg"
    )
    assert records["Ferry to stop"]["image"] is None
    index.run(feed_settings, store)
    images = {a.article.title: a.article.image for a in store.latest(10)}
    assert images["Council approves bridge"] == records["Council approves bridge"]["image"]


def test_a_feeds_own_picture_takes_the_wider_media_and_never_audio() -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>T</title><link>https://site.example/</link>"
        "<item><title>Podcast</title><link>https://site.example/p</link><description>x</description>"
        '<enclosure url="https://site.example/e.mp3" type="audio/mpeg" length="1"/></item>'
        "<item><title>Both</title><link>https://site.example/b</link><description>x</description>"
        '<media:thumbnail url="https://site.example/small.jpg" width="120"/>'
        '<media:content url="https://site.example/big.jpg" medium="image" width="1200"/>'
        '<media:content url="https://site.example/mid.jpg" medium="image" width="600"/></item>'
        "<item><title>Relative</title><link>https://site.example/news/r</link>"
        "<description>x</description>"
        '<enclosure url="/img/r.png" type="image/png" length="1"/></item>'
        "<item><title>Inline</title><link>https://site.example/i</link><description>"
        "&lt;img src=&quot;https://t.example/p.gif&quot; width=&quot;1&quot;&gt;"
        "&lt;img src=&quot;javascript:alert(1)&quot;&gt;"
        "&lt;img src=&quot;/i.jpg&quot; width=&quot;800&quot;&gt;</description></item>"
        "<item><title>Teaser</title><link>https://site.example/t</link>"
        "<description>&lt;p&gt;&lt;img src=&quot;/t.jpg&quot;&gt;Teaser.&lt;/p&gt;</description>"
        "<content:encoded>&lt;p&gt;No picture here.&lt;/p&gt;</content:encoded></item>"
        "</channel></rss>"
    )
    images = {e.title: e.image for e in parse(feed.encode(), "https://site.example/rss").entries}
    assert images == {
        "Podcast": None,
        "Both": "https://site.example/big.jpg",
        "Relative": "https://site.example/img/r.png",
        "Inline": "https://site.example/i.jpg",
        "Teaser": "https://site.example/t.jpg",  # the summary's, the content having none
    }


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
    assert index.run(feed_settings, store).added == 3

    titles = [s.article.title for s in store.latest(10, 0)]
    assert len(titles) == 2 and "Ferry stops in January" in titles  # one line per story
    head = next(s for s in store.latest(10, 0) if s.article.title != "Ferry stops in January")
    (other_source,) = store.story_sources(head.id)
    assert {head.article.title, other_source[1]} == {
        "Council approves bridge",
        "Second bridge gets the go-ahead",
    }


# -- HTTP headers -------------------------------------------------------------------------------

RUSSIAN = (
    "<?xml version='1.0'?><rss version='2.0'><channel><title>Новости</title><link>/</link>"
    "<description>d</description><item><title>Как пережить зиму</title><guid>z1</guid>"
    "<description>Врачи советуют чаще проветривать комнаты и гулять на свежем воздухе."
    " Сон не меньше семи часов помогает справляться с вирусами.</description></item>"
    "</channel></rss>"
)


async def test_a_koi8r_feed_named_only_by_its_http_charset_is_read_in_cyrillic(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    url = server.route(
        "/ru.xml",
        RUSSIAN.encode("koi8-r"),
        content_type="application/rss+xml; charset=koi8-r",
        headers={"Content-Language": "ru"},
    )
    store.sync_feeds([("Ru", url, [])])

    report = await poll_all(feed_settings, store)

    (path,) = report.written
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["title"] == "Как пережить зиму"
    assert record["text"].startswith("Врачи советуют чаще проветривать комнаты")
    assert record["language"] == "ru"  # from Content-Language: the feed names none


@pytest.mark.parametrize("encoding", ["euc-jp", "shift_jis", "euc-kr", "gb2312", "koi8-r"])
def test_the_http_charset_decodes_a_feed_that_does_not_declare_its_own(encoding: str) -> None:
    title = {
        "euc-jp": "新しい図書館が開館",
        "shift_jis": "ソフトウェア更新で表示を修正",  # ソ and 表 hold a backslash byte
        "euc-kr": "서울 지하철 새 노선 개통",
        "gb2312": "北京新开一座公共图书馆",
        "koi8-r": "Как пережить зиму",
    }[encoding]
    body = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item>"
        f"<title>{title}</title><guid>g</guid></item></channel></rss>"
    ).encode(encoding)
    parsed = parse(body, "http://127.0.0.1/x", content_type=f"text/xml; charset={encoding}")
    assert [e.title for e in parsed.entries] == [title]


@pytest.mark.parametrize("content_type", ["application/rss+xml", "text/html; charset=utf-8", ""])
async def test_a_valid_feed_with_no_items_is_a_poll_that_worked(
    server: FeedServer, feed_settings: Settings, store: Store, content_type: str
) -> None:
    empty = rss("Quiet")
    url = server.route("/empty.xml", empty, content_type=content_type)
    store.sync_feeds([("Quiet", url, [])])

    report = await poll_all(feed_settings, store)

    assert not report.failed and report.new == 0
    (feed,) = store.feeds()
    assert feed.failures == 0 and feed.last_error is None and feed.last_ok_at is not None


# -- entry text ---------------------------------------------------------------------------------

FULL_TEXT = (
    "<p>The river ferry will not run from 11 to 17 January while its landing stages are"
    " repaired, the operator said on Thursday.</p><p>A replacement bus will run every twenty"
    " minutes between the two landing stages by way of the old bridge.</p>"
)


async def test_the_feeds_own_text_stands_in_for_a_forbidden_page(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    link = server.route("/news/ferry", behaviour="status", status=403)
    item = {"title": "Ferry to stop", "link": link, "guid": "f1", "description": FULL_TEXT}
    url = server.route("/rss", rss("Gazette", item), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, [])])

    report = await poll_all(feed_settings, store)

    (path,) = report.written
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["text"].split("\n\n") == [
        "The river ferry will not run from 11 to 17 January while its landing stages are"
        " repaired, the operator said on Thursday.",
        "A replacement bus will run every twenty minutes between the two landing stages by"
        " way of the old bridge.",
    ]
    assert record["url"] == link
    (note,) = report.results[0].notes
    assert "HTTP 403" in note and "the feed's own text is used" in note
    assert "HTTP 403" in (store.feeds()[0].last_error or "")


async def test_a_full_text_description_needs_no_page(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    settings = dataclasses.replace(
        feed_settings, feeds=dataclasses.replace(feed_settings.feeds, full_text_words=30)
    )
    item = {"title": "Ferry", "link": server.url("/never"), "guid": "f1", "description": FULL_TEXT}
    url = server.route("/rss", rss("Gazette", item), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, [])])

    report = await poll_all(settings, store)

    assert report.new == 1 and server.requests("/never") == []
    assert not report.results[0].notes


async def test_an_entry_with_no_text_of_its_own_is_given_up_after_a_few_polls(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    link = server.route("/news/1", behaviour="status", status=403)
    item = {"title": "Bridge", "link": link, "guid": "b1", "description": "Read more…"}
    url = server.route("/rss", rss("Gazette", item), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, [])])

    notes = []
    for _ in range(MAX_ATTEMPTS + 2):
        report = await poll_all(feed_settings, store, only="Gazette")
        assert report.new == 0 and not report.failed
        notes += report.results[0].notes

    assert len(server.requests("/news/1")) == MAX_ATTEMPTS  # and never again
    assert len(notes) == MAX_ATTEMPTS
    assert "try 1 of 3" in notes[0] and "given up after 3 tries" in notes[-1]
    ((what, reason, _),) = store.rejected_entries("Gazette")
    assert what == link and reason.startswith("HTTP 403")


async def test_an_entry_given_up_no_longer_keeps_the_feed_from_asking_conditionally(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    link = server.route("/news/1", behaviour="status", status=404)
    item = {"title": "Bridge", "link": link, "guid": "b1"}
    url = server.route("/rss", rss("Gazette", item), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, [])])
    for _ in range(MAX_ATTEMPTS + 1):
        await poll_all(feed_settings, store, only="Gazette")
    assert server.requests("/rss")[-1].headers.get("if-none-match")


def test_an_item_with_only_a_description_is_kept() -> None:
    parsed = parse(
        b"<rss version='2.0'><channel><title>Harbour</title><item><description>The north pier"
        b" will be closed to vehicles from Monday. Pedestrians can use it as usual."
        b"</description></item><item></item></channel></rss>",
    )
    (entry,) = parsed.entries
    assert entry.title == "The north pier will be closed to vehicles from Monday."
    assert entry.key and entry.link is None
    assert parsed.empty == 1


async def test_description_only_items_become_articles(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    items = [
        {"description": "The north pier will be closed to vehicles from Monday 30 November."},
        {"description": "High water on Saturday is expected at 11:42, half a metre high."},
    ]
    url = server.route("/rss", rss("Harbour", *items), content_type="text/xml")
    store.sync_feeds([("Harbour", url, [])])

    report = await poll_all(feed_settings, store)

    assert report.new == 2
    records = [json.loads(p.read_text(encoding="utf-8")) for p in report.written]
    assert {r["text"] for r in records} == {i["description"] for i in items}
    assert index.run(feed_settings, store).added == 2
    assert (await poll_all(feed_settings, store, only="Harbour")).new == 0  # the same keys


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        # A guid that is no http(s) URL is no link (RSS takes a guid for a permalink).
        ({"title": "Council meeting moved", "guid": "urn:m1"}, "only a title, no text"),
        (
            {"title": "Meeting moved", "guid": "urn:m1", "description": "<p>Meeting moved.</p>"},
            "only a title, no text",
        ),
        ({"title": "Photos", "guid": "urn:p1", "description": "Photos: 12"}, "too little text"),
    ],
)
async def test_an_entry_with_no_text_is_rejected_with_its_reason(
    server: FeedServer,
    feed_settings: Settings,
    store: Store,
    item: dict[str, str],
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = server.route("/rss", rss("Gazette", item), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, [])])

    report = await poll_all(feed_settings, store)

    assert report.new == 0 and list(feed_settings.feeds_folder.rglob("*.json")) == []
    (note,) = report.results[0].notes
    assert reason in note
    assert reason in caplog.text
    assert reason in (store.feeds()[0].last_error or "")
    ((_, stored, _),) = store.rejected_entries("Gazette")
    assert reason in stored
    assert (await poll_all(feed_settings, store, only="Gazette")).results[0].notes == []


async def test_entries_that_all_link_to_one_page_keep_their_own_text(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    shared = server.route("/events/", page("What's on", *BODY))
    texts = [
        "The winter market returns to the square this Saturday, with forty stalls and a choir.",
        "Families are invited to a lantern walk along the canal on Friday 4 December.",
    ]
    items = [
        {"title": f"Event {n}", "link": shared, "description": text} for n, text in enumerate(texts)
    ]
    url = server.route("/rss", rss("Events", *items), content_type="application/rss+xml")
    store.sync_feeds([("Events", url, [])])

    report = await poll_all(feed_settings, store)

    assert server.requests("/events/") == []  # the shared page is no entry's article
    records = [json.loads(p.read_text(encoding="utf-8")) for p in report.written]
    assert sorted(r["text"] for r in records) == sorted(texts)
    assert index.run(feed_settings, store).added == 2
    assert len(store.latest(10, 0)) == 2  # two stories, not one


# -- titles and authors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("History of the &lt;blink&gt; tag", "History of the <blink> tag"),
        ("std::vector&lt;bool&gt; is special", "std::vector<bool> is special"),
        ("<![CDATA[Tom & Jerry <3]]>", "Tom & Jerry <3"),
        ("  A title\n  on two lines ", "A title on two lines"),
    ],
)
def test_a_plain_text_rss_title_is_taken_as_it_is(title: str, expected: str) -> None:
    body = (
        "<rss version='2.0'><channel><title>t</title><item>"
        f"<title>{title}</title><guid>g</guid></item></channel></rss>"
    )
    (entry,) = parse(body.encode()).entries
    assert entry.title == expected


@pytest.mark.parametrize(
    ("kind", "title", "expected"),
    [
        ("text", "History of the &lt;blink&gt; tag", "History of the <blink> tag"),
        ("text", "AT&amp;amp;T", "AT&amp;T"),
        ("html", "&lt;em&gt;Rust&lt;/em&gt; 1.80 &amp;amp; LazyCell", "Rust 1.80 & LazyCell"),
        ("html", "Fish &amp;amp;amp; chips", "Fish &amp; chips"),
        (
            "xhtml",
            "<div xmlns='http://www.w3.org/1999/xhtml'>A <b>bold</b> move</div>",
            "A bold move",
        ),
    ],
)
def test_only_an_html_atom_title_loses_its_tags(kind: str, title: str, expected: str) -> None:
    body = (
        "<feed xmlns='http://www.w3.org/2005/Atom'><title>f</title><entry>"
        f"<title type='{kind}'>{title}</title><id>e</id>"
        "<author><name>Anna &lt;b&gt; &amp;amp; Co</name></author></entry></feed>"
    )
    (entry,) = parse(body.encode()).entries
    assert entry.title == expected
    assert entry.author == "Anna <b> &amp; Co"  # a name is text, never HTML


# -- more than a poll takes ------------------------------------------------------------------------


async def test_entries_past_the_per_poll_limit_come_at_the_next_poll(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    settings = dataclasses.replace(
        feed_settings, feeds=dataclasses.replace(feed_settings.feeds, max_new_entries=2)
    )
    items = [teaser(server, n, f"Story {n}") for n in range(3)]
    url = server.route("/rss", rss("Gazette", *items), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, [])])

    assert (await poll_all(settings, store)).new == 2
    assert (await poll_all(settings, store, only="Gazette")).new == 1


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


async def test_an_entry_that_trips_a_bug_waits_and_the_others_are_taken(
    server: FeedServer, feed_settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = extract.page

    def page_or_bug(html: bytes, url: str | None = None, **options: Any) -> extract.Page:
        if url and url.endswith("/news/2"):
            raise RuntimeError("a library's surprise")
        return real(html, url, **options)

    monkeypatch.setattr(extract, "page", page_or_bug)
    items = [teaser(server, 1, "Bridge"), teaser(server, 2, "Ferry")]
    url = server.route("/rss", rss("Gazette", *items), content_type="application/rss+xml")
    store.sync_feeds([("Gazette", url, [])])

    report = await poll_all(feed_settings, store)

    assert report.new == 1 and not report.failed
    (note,) = report.results[0].notes
    assert "unexpected error (a library's surprise); try 1 of 3" in note


async def test_relative_links_are_resolved_against_the_content_location(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    server.route("/archive/news/1", page("Bridge", *BODY))
    body = rss("Gazette", {"title": "Bridge", "link": "news/1", "guid": "urn:b1"})
    url = server.route(
        "/rss",
        body,
        content_type="application/rss+xml",
        headers={"Content-Location": "/archive/feed.xml"},
    )
    store.sync_feeds([("Gazette", url, [])])

    assert (await poll_all(feed_settings, store)).new == 1
    assert len(server.requests("/archive/news/1")) == 1


async def test_a_slow_feed_neither_holds_the_others_nor_its_poll_past_the_deadline(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    # Six teasers whose pages answer after 4 s each: read one after another they held the
    # poll for minutes, and every other feed's news with it.
    slow_items = []
    for n in range(6):
        body = page(f"Slow story {n}", *BODY)
        link = server.route(f"/slow/{n}", body, behaviour="slow", seconds=4.0)
        slow_items.append({"title": f"Slow story {n}", "link": link, "guid": f"s{n}"})
    slow = server.route("/slow.xml", rss("Slow", *slow_items), content_type="text/xml")
    fast = server.route("/fast.xml", rss("Fast", teaser(server, 1, "Ferry to stop")))
    store.sync_feeds([("Slow", slow, []), ("Fast", fast, [])])
    settings = dataclasses.replace(
        feed_settings, feeds=dataclasses.replace(feed_settings.feeds, poll_seconds=1.0)
    )
    arrivals: list[str] = []

    async def arrived(result: FeedResult) -> None:
        arrivals.append(result.name)

    report = await poll_all(settings, store, arrived=arrived)

    assert arrivals == ["Fast"]  # as soon as it was read; the slow one brought nothing in time
    slow_result = next(r for r in report.results if r.name == "Slow")
    assert slow_result.new == 0 and slow_result.error is None
    assert len(slow_result.notes) == 6
    assert all("not read within the feed's 1 s poll; try 1 of 3" in n for n in slow_result.notes)
    keys = [f"{server.base_url}/s{n}" for n in range(6)]  # the guids, resolved as links
    assert store.entry_attempts("Slow", keys) == dict.fromkeys(keys, 1)
