"""bot/opml.py: feed lists as real readers export them, read into feeds or refused with a reason,
and written so that reading gives them back."""

from __future__ import annotations

import contextlib
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import opml
from bot.errors import NewsbotError
from bot.opml import OpmlError, Outline

FIXTURES = Path(__file__).parent / "fixtures" / "opml"
FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def fixture(name: str) -> opml.Parsed:
    return opml.read((FIXTURES / name).read_bytes())


def test_feedly_folders_become_categories_and_a_feed_in_two_is_read_once() -> None:
    parsed = fixture("feedly.opml")
    assert parsed.title == "Alice subscriptions in feedly Cloud"
    assert parsed.feeds == (
        Outline(
            "Ars Technica", "https://feeds.arstechnica.com/arstechnica/index", ("Tech", "News")
        ),
        Outline("The Verge - All Posts", "https://www.theverge.com/rss/index.xml", ("Tech",)),
        Outline("BBC News", "https://feeds.bbci.co.uk/news/world/rss.xml", ("News",)),
    )
    assert parsed.problems == (
        "1 repeated listing of a feed was merged (one feed, with all its folders)",
    )


def test_inoreader_feeds_in_a_folder_and_at_the_top() -> None:
    parsed = fixture("inoreader.xml")
    assert [(f.title, f.categories) for f in parsed.feeds] == [
        ("Quanta Magazine", ("Science",)),
        ("Nature", ("Science",)),
        ("Hacker News", ()),
    ]
    assert parsed.problems == ()


def test_newsblur_nested_folders_are_a_path() -> None:
    parsed = fixture("newsblur.opml")
    assert [(f.title, f.url, f.categories) for f in parsed.feeds] == [
        ("Daring Fireball", "https://daringfireball.net/feeds/main", ("Blogs/Tech",)),
        ("kottke.org", "http://feeds.kottke.org/main", ("Blogs",)),
        ("World news | The Guardian", "https://www.theguardian.com/world/rss", ()),
    ]


def test_opml_1_feeds_given_by_url_in_latin_1_and_links_to_other_lists_skipped() -> None:
    parsed = fixture("opml1-url.opml")
    assert [(f.title, f.url) for f in parsed.feeds] == [
        ("Scripting News", "http://scripting.com/rss.xml"),
        ("Café Babel", "http://cafebabel.example/feed.xml"),
    ]
    assert parsed.problems == (
        "Another list: a link to another list, not a feed; skipped",
        "Directory: a link to another list, not a feed; skipped",
    )


def test_a_byte_order_mark_wins_over_the_declared_encoding() -> None:
    parsed = fixture("bom-latin1-declared.opml")
    assert parsed.title == "Presse européenne"
    assert [(f.title, f.categories) for f in parsed.feeds] == [
        ("Le Monde — À la une", ("Français",)),
        ("Süddeutsche Zeitung", ()),
    ]


@pytest.mark.parametrize(
    ("encoding", "title"),
    [
        ("ISO-8859-1", "Café crème"),
        ("windows-1251", "Новости дня"),
        ("Shift_JIS", "今日のニュース"),
        ("KOI8-R", "Новости дня"),
        ("UTF-16", "Ünïcödé"),
    ],
)
def test_the_encoding_the_header_declares_is_used(encoding: str, title: str) -> None:
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<opml version="1.0"><body>'
        f'<outline type="rss" text="{title}" xmlUrl="https://example.org/rss"/></body></opml>'
    )
    (feed,) = opml.read(text.encode(encoding)).feeds
    assert feed.title == title


def test_utf8_declared_as_latin_1_is_read_as_utf8() -> None:
    text = '<?xml version="1.0" encoding="ISO-8859-1"?><opml version="2.0"><body>'
    text += '<outline text="Zürich" xmlUrl="https://example.org/rss"/></body></opml>'
    assert opml.read(text.encode("utf-8")).feeds[0].title == "Zürich"


def test_duplicates_entities_bare_ampersands_feed_urls_and_missing_titles() -> None:
    parsed = fixture("duplicates.opml")
    assert parsed.feeds == (
        Outline(
            "Café Politique",
            "https://example.org/feed?a=1&b=2",
            ("Daily", "Weekly", "Politics", "World/Europe"),
        ),
        Outline("", "https://untitled.example/rss"),
        Outline("Podcast", "http://podcast.example/rss"),
    )
    assert parsed.problems == (
        "1 repeated listing of a feed was merged (one feed, with all its folders)",
    )


def test_the_billion_laughs_is_refused_at_once() -> None:
    started = time.perf_counter()
    with pytest.raises(OpmlError, match="declares XML entities"):
        fixture("billion-laughs.opml")
    assert time.perf_counter() - started < 0.1


def test_an_external_entity_is_refused_and_never_read() -> None:
    with pytest.raises(OpmlError, match="declares XML entities"):
        fixture("external-entity.opml")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ((FIXTURES / "web-page.html").read_bytes(), r"a web page \(HTML\)"),
        ((FEEDS / "wordpress-fulltext.rss").read_bytes(), "a feed itself"),
        ((FEEDS / "atom-titles.atom").read_bytes(), "a feed itself"),
        (bytes(range(256)), "not XML"),
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<svg><g/></svg>", "its root element is <svg>"),
        (b'<opml version="2.0"><body><outline text="Folder"/></body></opml>', "no feeds"),
        (b'<opml version="2.0"><body><outline text="cut', "no feeds"),
    ],
)
def test_what_is_not_a_feed_list_says_what_it_is(data: bytes, reason: str) -> None:
    with pytest.raises(OpmlError, match=reason) as caught:
        opml.read(data)
    assert isinstance(caught.value, NewsbotError)


def test_a_file_cut_short_keeps_the_feeds_before_the_break() -> None:
    data = (FIXTURES / "inoreader.xml").read_bytes()
    cut = data[: data.index(b"Hacker News") - 20]
    parsed = opml.read(cut)
    assert [f.title for f in parsed.feeds] == ["Quanta Magazine", "Nature"]
    assert "breaks off" in parsed.problems[-1]


def test_limits_on_size_and_feed_count_are_stated() -> None:
    with pytest.raises(OpmlError, match=r"the file is 2\.0 MB; at most 1\.0 MB is read"):
        opml.read(b" " * (2 * 1024 * 1024))
    many = opml.write(Outline(f"F{n}", f"https://example.org/{n}") for n in range(4))
    assert len(opml.read(many, max_feeds=4).feeds) == 4
    with pytest.raises(OpmlError, match="more than 3 feeds; at most 3 are imported at once"):
        opml.read(many, max_feeds=3)


def test_a_large_file_is_read_quickly() -> None:
    rows = "".join(
        f'<outline text="Feed {n} &amp; co" xmlUrl="https://example.org/{n}?a=1&b=2"/>'
        for n in range(500)
    )
    folders = '<outline text="folder">' * 20_000
    data = f'<opml version="2.0"><body>{folders}{rows}{"</outline>" * 20_000}</body></opml>'
    assert len(data) < opml.MAX_BYTES
    started = time.perf_counter()
    parsed = opml.read(data.encode())
    assert len(parsed.feeds) == 500
    assert parsed.feeds[0].categories == ("/".join(["folder"] * opml.MAX_FOLDERS),)
    assert time.perf_counter() - started < 1.0


def test_write_makes_opml_2_with_folders_and_categories() -> None:
    when = datetime(2026, 12, 1, 17, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # written in GMT
    data = opml.write(
        [
            Outline("A & B", "https://a.example/rss?x=1&y=2", ("Tech/AI", "Science")),
            Outline("Plain", "https://b.example/feed"),
            Outline("C", "https://c.example/atom", ("Tech/AI",)),
        ],
        title="My feeds",
        now=when,
    )
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "My feeds"
    assert root.findtext("head/dateCreated") == "Tue, 01 Dec 2026 16:00:00 GMT"
    folder, plain = root.find("body") or []
    assert folder.get("text") == "Tech/AI" and folder.get("xmlUrl") is None
    first = folder[0].attrib
    assert first == {
        "type": "rss",
        "text": "A & B",
        "title": "A & B",
        "xmlUrl": "https://a.example/rss?x=1&y=2",
        "category": "Tech/AI,Science",
    }
    assert folder[1].get("text") == "C"
    assert plain.get("xmlUrl") == "https://b.example/feed" and plain.get("category") is None


@pytest.mark.parametrize(
    "name", ["feedly.opml", "inoreader.xml", "newsblur.opml", "duplicates.opml"]
)
def test_export_then_import_gives_the_same_feeds(name: str) -> None:
    feeds = fixture(name).feeds
    assert opml.read(opml.write(feeds)).feeds == feeds


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@st.composite
def outlines(draw: st.DrawFn) -> list[Outline]:
    count = draw(st.integers(1, 8))
    result = []
    for n in range(count):
        title = draw(_TEXT)
        path = draw(st.text(alphabet="abc/é ", max_size=12))
        categories = draw(st.lists(st.sampled_from(["News", "Tech/AI", path, "Ünï"]), max_size=3))
        result.append(Outline(title, f"https://example.org/{n}?q={draw(_TEXT)}", tuple(categories)))
    return result


@given(outlines())
@settings(max_examples=60, deadline=None)
def test_any_feeds_written_are_read_back_cleaned_and_alike(feeds: list[Outline]) -> None:
    once = opml.read(opml.write(feeds)).feeds
    assert len(once) == len(feeds)
    assert [f.title for f in once] == [" ".join(f.title.split()) for f in once]
    assert opml.read(opml.write(once)).feeds == once


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_any_bytes_give_feeds_or_an_opml_error(data: bytes) -> None:
    with contextlib.suppress(OpmlError):  # anything else fails the test
        opml.read(data)


_PIECES = st.sampled_from(
    [
        '<?xml version="1.0" encoding="ISO-8859-1"?>',
        '<?xml version="1.0" encoding="bogus"?>',
        '<?xml version="1.0" encoding="base64"?>',
        '<opml version="2.0">',
        "<body>",
        '<outline text="x" xmlUrl="https://a.example/1">',
        '<outline text="&eacute;&#0;&#xFFFFFF;&bogus;&" url="feed:https://b.example/">',
        '<outline type="include" url="x.opml"/>',
        "</outline>",
        "</body></opml>",
        "<!DOCTYPE opml>",
        "<![CDATA[&]]>",
        "\ufeff",
        "\x00",
        "é",
    ]
)


@given(st.lists(_PIECES, max_size=12), st.sampled_from(["utf-8", "utf-16", "latin-1"]))
@settings(max_examples=300, deadline=None)
def test_any_opml_shaped_text_gives_feeds_or_an_opml_error(pieces: list[str], codec: str) -> None:
    try:
        parsed = opml.read("".join(pieces).encode(codec, errors="replace"))
    except OpmlError:
        return
    assert parsed.feeds and all(f.url for f in parsed.feeds)
