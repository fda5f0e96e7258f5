"""The fixture feeds of tests/fixtures/feeds (see its README), each served from 127.0.0.1 with
the headers its kind of server sends: every valid one is read with its text decoded right, every
entry it cannot take is named with the reason, and every file written is indexed."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot import index
from bot.config import FeedSettings, Settings
from bot.feeds import MAX_ATTEMPTS, PollReport, poll_all
from bot.store import Store

from .feed_server import FIXTURE_DIR, FIXTURES, FeedServer, serve_fixture

PAGE_FAILED = "its page failed (HTTP 404 Not Found); the feed's own text is used"


@dataclass(frozen=True)
class Expected:
    # title -> words its text holds (decoded right: the mojibake of the bug never does)
    articles: dict[str, str]
    # reasons the poll notes, each as part of one note, in any order
    notes: tuple[str, ...] = ()
    language: str | None = None
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # title -> record fields


CORPUS: dict[str, Expected] = {
    "wordpress-fulltext.rss": Expected(
        {
            "Council approves a second bridge over the river": "The council’s engineers say",
            "Ferry to stop for a week in January": "A replacement bus will run every",
        },
        language="en",
        fields={
            "Council approves a second bridge over the river": {
                "author": "Anna Schmidt",
                "tags": ["Local", "Transport"],
                "date": "2026-11-27T10:00:00+00:00",
            }
        },
    ),
    "description-only.rss": Expected(
        {
            "The north pier will be closed to vehicles from Monday 30 November until the end of"
            " the week while…": "Pedestrians can use the pier as usual.",
            "High water on Saturday is expected at 11:42, about half a metre above the usual"
            " level.": "Boat owners on the lower moorings",
            "Dredging of the inner basin starts on 4 January.": "The fuel berth stays open",
        },
        notes=("1 empty items skipped",),
        language="en",
    ),
    "atom-titles.atom": Expected(
        {
            "History of the <blink> tag": "Netscape added it in 1994",
            "std::vector<bool> is not a container": "returns a proxy object and not a bool&.",
            "Rust 1.80 & LazyCell": "Rust 1.80 made LazyCell and LazyLock stable.",
        },
        notes=(PAGE_FAILED,) * 3,
        language="en",
        fields={"History of the <blink> tag": {"author": "Lou Montulli <lou@markup.example>"}},
    ),
    "slashdot-rss1.rdf": Expected(
        {
            "Kernel 7.2 Drops Support for Three Old Architectures": "no active maintainer",
            "Café Owner Replaces Wi-Fi Password With a Crossword": "A café in Zürich",
        },
        notes=(PAGE_FAILED,) * 2,
        language="en",
        fields={
            "Kernel 7.2 Drops Support for Three Old Architectures": {
                "author": "msmash",
                "tags": ["linux"],
            }
        },
    ),
    "koi8-r.rss": Expected(
        {
            "Как пережить зиму без простуд": "Врачи советуют чаще проветривать комнаты",
            "В городе откроют новую библиотеку": "читальный зал на двести мест",
        },
        notes=(PAGE_FAILED,) * 2,
        language="ru",  # from Content-Language: the feed names none
    ),
    "shift_jis.rss": Expected(
        {
            "新しい図書館が駅前に開館": "子ども向けの読書室も設けられている。",
            "ソフトウェア更新で表示の不具合を修正": "一部の機種で表の表示が崩れる",
        },
        notes=(PAGE_FAILED,) * 2,
        language="ja",
    ),
    "euc-jp.rss": Expected(
        {
            "新しい図書館が駅前に開館": "子ども向けの読書室も設けられている。",
            "ソフトウェア更新で表示の不具合を修正": "一部の機種で表の表示が崩れる",
        },
        notes=(PAGE_FAILED,) * 2,
        language="ja",
    ),
    "euc-kr.rss": Expected(
        {
            "서울 지하철 새 노선 개통": "도심과 공항을 약 30분 만에 연결한다.",
            "도서관 운영 시간 연장": "시험 기간에는 주말에도",
        },
        notes=(PAGE_FAILED,) * 2,
        language="ko",
    ),
    "gb2312.rss": Expected(
        {
            "北京新开一座公共图书馆": "馆内藏书约二十万册",
            "南方多地迎来降温天气": "专家提醒市民注意添加衣物",
        },
        notes=(PAGE_FAILED,) * 2,
        language="zh",
    ),
    "empty.rss": Expected({}),
    "illformed.rss": Expected(
        {
            "Tools & paint: our winter sale starts Monday": "the garden & the workshop",
            "We are closed on 1 December": "closed on Tuesday 1 December for stocktaking",
        },
        notes=("malformed XML", *(PAGE_FAILED,) * 2),
    ),
    "one-page.rss": Expected(
        {
            "Winter market this Saturday": "forty stalls and a choir at noon",
            "Lantern walk along the canal": "starting at the lock",
            "Free bike repairs at the library": "Bring your own lock.",
        },
        notes=("/events/): only a title, no text",),
        language="en",
        # /events/ is every entry's link: no one's page (and it would make one story of all)
        fields={"Winter market this Saturday": {"url": None}},
    ),
    "feedparser-euc-kr-item.xml": Expected(
        {}, notes=("년: too little text (1 word) and no link to its page",)
    ),
    "media-rss.rss": Expected(
        {
            "Storm closes mountain passes for a second day": "kept three mountain passes closed",
            "Wildlife park welcomes twin red panda cubs": "outside their nest box",
            "City to plant ten thousand trees by spring": "ten thousand street trees",
            "Election count finishes after two recounts": "after two recounts",
        },
        notes=(PAGE_FAILED,) * 4,
        language="en",
        fields={
            # Two sizes of one picture: the wider.
            "Storm closes mountain passes for a second day": {
                "image": "https://i.courier.example/img/storm/460.jpg?width=460&quality=85"
            },
            "Wildlife park welcomes twin red panda cubs": {
                "image": "https://ichef.courier.example/ace/standard/240/red-pandas.jpg"
            },
            "City to plant ten thousand trees by spring": {
                "image": "https://cdn.courier.example/photos/2026/11/trees-1280.jpg"
            },
            "Election count finishes after two recounts": {"image": None},  # a video
        },
    ),
    "podcast-and-wordpress-images.rss": Expected(
        {
            "Podcast: the ferry that runs on chip fat": "used cooking oil",
            "Library reopens after the flood repairs": "six months of repairs",
            "Bridge lights switched on for the winter": "old stone bridge",
        },
        notes=(PAGE_FAILED,) * 3,
        language="en",
        fields={
            # The episode's audio enclosure is not a picture (nor is the podcast's cover).
            "Podcast: the ferry that runs on chip fat": {"image": None},
            # The first <img> that is neither a tracking pixel nor an emoji.
            "Library reopens after the flood repairs": {
                "image": "https://riverside-radio.example/wp-content/uploads/2026/11/"
                "library-reading-room-1024x683.jpg"
            },
            "Bridge lights switched on for the winter": {"image": None},
        },
    ),
}


@pytest.fixture
def feed_settings(settings: Settings) -> Settings:
    local = FeedSettings(timeout_seconds=2.0, allow_private_addresses=True)  # 127.0.0.1
    return dataclasses.replace(settings, feeds=local)


def records(report: PollReport) -> dict[str, dict[str, Any]]:
    out = {}
    for path in report.written:
        record = json.loads(path.read_text(encoding="utf-8"))
        out[record["title"]] = record
    return out


def test_every_fixture_feed_has_its_expectations() -> None:
    files = {p.name for p in FIXTURE_DIR.iterdir() if p.name != "README.md"}
    assert files == set(FIXTURES)
    assert set(CORPUS) | {"forbidden.rss", "not-a-feed.html"} == files


@pytest.mark.parametrize("name", sorted(CORPUS))
async def test_a_fixture_feed_is_read_with_its_text_decoded_right(
    server: FeedServer, feed_settings: Settings, store: Store, name: str
) -> None:
    expected = CORPUS[name]
    store.sync_feeds([(name, serve_fixture(server, name), [])])

    report = await poll_all(feed_settings, store)

    (result,) = report.results
    assert result.error is None
    taken = records(report)
    assert set(taken) == set(expected.articles)
    for title, words in expected.articles.items():
        assert words in taken[title]["text"], title
        assert taken[title]["language"] == expected.language
    for title, values in expected.fields.items():
        assert {key: taken[title][key] for key in values} == values
    assert len(result.notes) == len(expected.notes)
    for reason in expected.notes:
        assert any(reason in note for note in result.notes), (reason, result.notes)
    indexed = index.run(feed_settings, store)
    assert indexed.added == len(taken) and not indexed.failed  # every file written is read
    # The index reads each record's picture back as the article's.
    stored = sorted(str(a.article.image) for a in store.latest(100))
    assert stored == sorted(str(record["image"]) for record in taken.values())


async def test_a_feed_whose_pages_are_all_forbidden_gives_every_entry_with_text(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    for n in range(1, 16):
        server.route(f"/story/{n}", behaviour="status", status=403, body=b"Forbidden")
    store.sync_feeds([("Post", serve_fixture(server, "forbidden.rss"), [])])

    first = await poll_all(feed_settings, store)

    assert first.new == 13 and not first.failed
    notes = first.results[0].notes
    assert sum("the feed's own text is used" in n for n in notes) == 13
    assert sum("HTTP 403 Forbidden; try 1 of 3" in n for n in notes) == 2
    for _ in range(MAX_ATTEMPTS - 1):
        again = await poll_all(feed_settings, store, only="Post")
        assert again.new == 0
    rejected = store.rejected_entries("Post")
    assert sorted(what.rsplit("/", 1)[1] for what, _, _ in rejected) == ["14", "15"]
    assert all(f"given up after {MAX_ATTEMPTS} tries" in reason for _, reason, _ in rejected)
    assert len(server.requests("/story/1")) == 1 and len(server.requests("/story/14")) == 3
    assert (await poll_all(feed_settings, store, only="Post")).results[0].notes == []
    assert index.run(feed_settings, store).added == 13


async def test_a_page_that_is_not_a_feed_fails_with_its_reason(
    server: FeedServer, feed_settings: Settings, store: Store
) -> None:
    store.sync_feeds([("Moved", serve_fixture(server, "not-a-feed.html"), [])])
    (failed,) = (await poll_all(feed_settings, store)).failed
    assert (failed.error or "").startswith("not an RSS or Atom feed")
