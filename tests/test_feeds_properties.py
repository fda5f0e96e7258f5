"""Feed entries on any input (Hypothesis): parse never fails but with FeedError, entry HTML
becomes plain paragraphs with all of its text, and a poll writes only files the index reads."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.articles import read_file
from bot.config import DEFAULT_CONFIG, FeedSettings, Settings, load_settings
from bot.extract import fragment
from bot.feeds import FeedError, Parsed, PollReport, parse, poll_all
from bot.store import Store

from .feed_server import FIXTURE_DIR, FIXTURES, FeedServer, rss

QUICK = settings(max_examples=150, deadline=None)

# -- any bytes are a feed or a FeedError -----------------------------------------------------------

XML_PIECES = [
    b'<?xml version="1.0" encoding="utf-8"?>',
    b'<?xml version="1.0" encoding="koi8-r"?>',
    b'<rss version="2.0">',
    b"<channel>",
    b"<item>",
    b"</item>",
    b"<title>",
    b"</title>",
    b"<description>",
    b"</description>",
    b"<link>http://127.0.0.1/a</link>",
    b"<guid>g</guid>",
    b'<feed xmlns="http://www.w3.org/2005/Atom">',
    b"<entry>",
    b'<content type="html">',
    b"&lt;p&gt;",
    b"&amp;",
    b"&bogus;",
    b"<![CDATA[<p>x</p>]]>",
    b"\xff\xfe",
    b"\x00",
    b"\xe2\x80",
    "Привет".encode("koi8-r"),
    "日本語".encode("shift_jis"),
    b"text",
]
CONTENT_TYPES = [
    "",
    "application/rss+xml",
    "text/html; charset=utf-8",
    "text/xml; charset=koi8-r",
    "application/xml; charset=no-such-charset",
    "text/plain; charset=utf-16",
]


def fixture_bytes() -> list[bytes]:
    return [(FIXTURE_DIR / name).read_bytes() for name in sorted(FIXTURES)]


@st.composite
def mangled_fixture(draw: st.DrawFn) -> bytes:
    """A real feed cut short, or with bytes overwritten or inserted."""
    data = bytearray(draw(st.sampled_from(fixture_bytes())))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        piece = draw(st.binary(min_size=1, max_size=8))
        if draw(st.booleans()):
            data[at : at + len(piece)] = piece
        else:
            data[at:at] = piece
    return bytes(data[: draw(st.integers(0, len(data)))])


FEED_BYTES = st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from(XML_PIECES), max_size=30).map(b"".join),
    mangled_fixture(),
)


@QUICK
@given(body=FEED_BYTES, content_type=st.sampled_from(CONTENT_TYPES))
# What it found: feedparser's decoders raise on a bad encoding name, and asking it for a missing
# "updated" date warns (an error in the tests).
@example(body=b'<?encoding="\x80"?>', content_type="")
@example(body=b'<?encoding="\x00"?>', content_type="")
@example(
    body=b"<rss version='2.0'><channel><item><guid>g</guid><pubDate>Tomorrow</pubDate></item>"
    b"</channel></rss>",
    content_type="application/rss+xml",
)
def test_any_bytes_are_a_feed_or_a_feed_error(body: bytes, content_type: str) -> None:
    try:
        parsed = parse(body, "http://127.0.0.1/feed", content_type=content_type)
    except FeedError as exc:
        assert str(exc).startswith("not an RSS or Atom feed")
        return
    assert isinstance(parsed, Parsed)
    for entry in parsed.entries:
        assert entry.key and "\x00" not in entry.title


# -- entry HTML becomes plain paragraphs -----------------------------------------------------------

TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc", "Cn"), exclude_characters="<>&"
    ),
    max_size=12,
)
# Entities HTML 4 names (what lxml knows) and numeric ones, with the text each stands for.
ENTITIES = st.sampled_from(
    [
        *[("&amp;", "&"), ("&quot;", '"'), ("&eacute;", "é"), ("&nbsp;", "\xa0")],
        *[("&copy;", "©"), ("&#8217;", "’"), ("&#x2014;", "—"), ("&#38;", "&")],
    ]
)
INLINE = ["b", "i", "em", "strong", "span", "a", "code", "small"]
BLOCK = ["p", "div", "blockquote", "section", "li", "td"]
JUNK = ["script", "style", "figcaption"]


@dataclasses.dataclass(frozen=True)
class Snippet:
    html: str
    text: str  # what a reader sees, in order
    headings: tuple[str, ...] = ()
    block: bool = False  # holds a block element (a parser would end a heading there)


def leaf() -> st.SearchStrategy[Snippet]:
    return st.one_of(
        TEXT.map(lambda t: Snippet(html.escape(t, quote=False), t)),
        ENTITIES.map(lambda e: Snippet(e[0], e[1])),
        st.just(Snippet("<br>", " ")),
        st.just(Snippet("<!-- a comment -->", "")),
        st.sampled_from(JUNK).map(lambda tag: Snippet(f"<{tag}>x = 1;</{tag}>", "")),
    )


def element(children: st.SearchStrategy[list[Snippet]]) -> st.SearchStrategy[Snippet]:
    def wrap(tag: str, parts: list[Snippet]) -> Snippet:
        inner = "".join(p.html for p in parts)
        return Snippet(
            f"<{tag}>{inner}</{tag}>",
            "".join(p.text for p in parts),
            tuple(h for p in parts for h in p.headings),
            block=tag in BLOCK or any(p.block for p in parts),
        )

    def heading(parts: list[Snippet]) -> Snippet:
        inline = [p for p in parts if not p.block]
        text = "".join(p.text for p in inline)
        return Snippet(f"<h2>{''.join(p.html for p in inline)}</h2>", text, (text,), block=True)

    return st.one_of(
        st.builds(wrap, st.sampled_from(INLINE + BLOCK), children),
        children.map(heading),
    )


SNIPPETS = st.recursive(leaf(), lambda inner: element(st.lists(inner, max_size=4)), max_leaves=20)
SNIPPET_LISTS = st.lists(SNIPPETS, max_size=6)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@QUICK
@given(parts=SNIPPET_LISTS)
@example(parts=[Snippet("<h2>0<br>0</h2>", "0 0", ("0 0",), block=True)])  # it found: "00"
def test_entry_html_gives_all_its_text_and_no_markup(parts: list[Snippet]) -> None:
    snippet = "".join(p.html for p in parts)
    blocks = fragment(snippet)
    text = "".join(t for t, _ in blocks)
    assert squeeze(text) == squeeze("".join(p.text for p in parts))
    assert "<" not in text and ">" not in text  # no tag survives; none was in the text
    assert all(t == " ".join(t.split()) and t for t, _ in blocks)
    headings = [t for t, heading in blocks if heading]
    expected = [" ".join(h.split()) for p in parts for h in p.headings if h.strip()]
    assert headings == expected


@QUICK
@given(snippet=st.text(max_size=300))
def test_any_text_as_entry_html_never_fails(snippet: str) -> None:
    for text, heading in fragment(snippet):
        assert text and isinstance(heading, bool)
        assert "\x00" not in text


# -- a poll writes only what the index reads -------------------------------------------------------

ENTRY_TEXT = st.one_of(
    st.just(""),
    TEXT,
    st.text(max_size=200),
    SNIPPET_LISTS.map(lambda parts: "".join(p.html for p in parts)),
    st.lists(
        st.sampled_from(
            [
                "The council approved a second bridge over the river on Monday evening.",
                "Building work will start in the spring.",
                "Read more…",
                "<p>Councillors voted 21 to 9 for the plan after two delays over its cost.</p>",
                "<figure><figcaption>Photo: AP</figcaption></figure>",
                "<h2>What next</h2>",
                "Follow us on Twitter",
                "\x92quoted\x92 in Windows-1252",
            ]
        ),
        max_size=8,
    ).map(" ".join),
)
ITEMS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "title": st.one_of(TEXT, st.text(max_size=60)),
            "description": ENTRY_TEXT,
            "content": ENTRY_TEXT,
            "guid": st.text(alphabet="abcdefgh", min_size=1, max_size=4).map("urn:x:{}".format),
            "link": st.sampled_from(["/forbidden", "/page", "/missing"]),
        },
    ),
    min_size=1,
    max_size=5,
)

PAGE = (
    "<!doctype html><html lang='en'><head><title>Page</title></head><body><article><h1>Page"
    "</h1>"
    + "<p>The town council approved a second bridge over the river on Monday evening after a"
    " debate that ran past midnight, and building work is expected to start in the spring.</p>"
    * 3
    + "</article></body></html>"
)


BASE = dataclasses.replace(
    load_settings(DEFAULT_CONFIG, environ={}),
    feeds=FeedSettings(timeout_seconds=2.0, full_text_words=40),
    workers=1,
)


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        running.route("/forbidden", behaviour="status", status=403)
        running.route("/page", PAGE)
        yield running


async def poll(config: Settings, store: Store) -> PollReport:
    # A client of our own: web.client's TLS set-up (30 ms) is for sites, not 127.0.0.1.
    async with httpx.AsyncClient(timeout=2.0, verify=False) as http:
        return await poll_all(config, store, http=http)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=ITEMS)
def test_every_file_a_poll_writes_is_read_by_the_index(
    server: FeedServer, items: list[dict[str, str]]
) -> None:
    for item in items:
        if "link" in item:
            item["link"] = server.url(item["link"])
    # CDATA cannot hold "]]>"; the feed would be another test (see any_bytes above).
    assume(not any("]]>" in value for item in items for value in item.values()))
    body = rss("Fuzz", *items)
    url = server.route("/feed", body, content_type="application/rss+xml")
    keys = [e.key for e in parse(body.encode(), url, content_type="application/rss+xml").entries]
    with tempfile.TemporaryDirectory() as folder:
        config = dataclasses.replace(BASE, articles_dir=Path(folder) / "articles")
        with Store(":memory:") as store:
            store.sync_feeds([("Fuzz", url, [])])
            report = asyncio.run(poll(config, store))
            (result,) = report.results
            assert result.error is None
            for path in report.written:
                parsed = read_file(
                    path,
                    source="feeds/fuzz",
                    boilerplate=config.boilerplate,
                    max_bytes=config.max_file_bytes,
                )
                assert parsed.articles and not parsed.problems
            # Each entry is taken, or given up, or left for the next poll, and named in a note.
            taken_or_rejected = store.seen_entries("Fuzz", keys)
            retried = set(store.entry_attempts("Fuzz", keys))
            assert taken_or_rejected | retried == set(keys)
            assert len(result.notes) >= len(keys) - len(report.written)
