from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator

import pytest

from bot import opml, summarize
from bot.config import Settings
from bot.news import IMPORT_AT_ONCE, MAX_SENTENCES, News
from bot.store import Store

from .conftest import SAMPLE_PAGE, WriteFile


@pytest.fixture
def news(settings: Settings, store: Store, write: WriteFile) -> Iterator[News]:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    service = News(settings, store)
    asyncio.run(service.reload())
    yield service


def test_latest_pages_and_clamps_the_offset(news: News) -> None:
    first = news.latest(limit=1)
    assert (len(first.entries), first.offset, first.total) == (1, 0, 2)
    beyond = news.latest(offset=50, limit=5)
    assert beyond.offset == 1 and len(beyond.entries) == 1


def test_an_entry_line_is_the_first_summary_sentence(news: News) -> None:
    entry = news.latest(limit=5).entries[-1]
    stored = news.get(entry.id)
    assert stored is not None
    assert entry.line == news.cached_summary(stored)[0]


def test_a_new_summary_length_is_made_once_then_cached(
    news: News, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = news.get(news.latest(limit=5).entries[-1].id)
    assert stored is not None
    calls = []
    real = summarize.safe_summarize_job

    def counting(job: tuple[object, object]) -> list[str]:
        calls.append(job)
        return real(job)  # type: ignore[arg-type]

    monkeypatch.setattr(summarize, "safe_summarize_job", counting)
    five = asyncio.run(news.summary(stored, 5))
    again = asyncio.run(news.summary(stored, 5))
    assert len(five) == 5 and again == five and len(calls) == 1
    assert len(asyncio.run(news.summary(stored, 999))) <= MAX_SENTENCES


def test_queries_get_short_stable_ids(news: News) -> None:
    first = news.remember_query(7, "prime minister")
    assert news.remember_query(7, "prime minister") == first
    assert news.query_text(first, 7) == "prime minister"
    assert news.query_text(first + 1000, 7) is None


def test_a_saved_query_is_found_only_in_the_chat_that_saved_it(news: News) -> None:
    alice = news.remember_query(7, "prime minister")
    bob = news.remember_query(8, "prime minister")
    assert alice != bob
    assert news.query_text(alice, 8) is None and news.query_text(bob, 7) is None
    assert news.query_text(bob, 8) == "prime minister"


async def test_reloads_take_turns(news: News, write: WriteFile) -> None:
    write("more.txt", "Another story\n\nWith a body.\n")
    reports = await asyncio.gather(news.reload(), news.reload())
    assert sorted(r.added for r in reports) == [0, 1]
    assert news.count() == 3


async def test_an_import_waits_one_poll_at_most_and_a_feed_not_read_by_then_is_left_to_the_job(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = dataclasses.replace(settings.feeds, poll_seconds=1.0, timeout_seconds=0.2)
    news = News(dataclasses.replace(settings, feeds=feeds), store)
    polled: list[object] = []

    async def stuck(**options: object) -> None:
        polled.append(options["only"])
        await asyncio.sleep(30)  # a feed whose reading never ends

    monkeypatch.setattr(news, "poll_feeds", stuck)
    listed = opml.Parsed(
        (opml.Outline("Slow", "https://slow.example/rss"), opml.Outline("", "ftp://x.example/")),
        problems=(),
    )
    started = time.monotonic()
    report = await news.import_feeds(listed)
    assert time.monotonic() - started < 1.2 + 1.0
    assert polled == [["Slow"]]
    assert report.added == [("Slow", None)]
    assert [(f.name, f.kept) for f in report.failed] == [("ftp://x.example/", False)]
    # Added but not due for the feeds job before its own time: it is not read twice at once.
    assert store.due_feeds(time.time()) == []
    assert store.due_feeds(time.time() + settings.feeds.poll_minutes * 60 + 1)[0].name == "Slow"


@pytest.mark.parametrize("title", ["", "Named"])
async def test_an_import_of_unusable_addresses_reports_each_and_raises_nothing(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch, title: str
) -> None:
    news = News(settings, store)

    async def no_network(**options: object) -> None:
        return None

    monkeypatch.setattr(news, "poll_feeds", no_network)
    urls = ["", "http://", "javascript:alert(1)", "http://[::1", "file:///etc/passwd", "//x.org/"]
    listed = opml.Parsed(tuple(opml.Outline(title, url) for url in urls), problems=())
    report = await news.import_feeds(listed)
    assert len(report.failed) == len(urls) and not report.added
    assert all(not f.kept and f.reason for f in report.failed)
    assert store.feeds() == []


async def test_an_import_reads_its_feeds_a_batch_at_a_time(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    news = News(settings, store)
    batches: list[int] = []

    async def poll(**options: object) -> None:
        only = options["only"]
        assert isinstance(only, list)
        batches.append(len(only))

    monkeypatch.setattr(news, "poll_feeds", poll)
    count = 2 * IMPORT_AT_ONCE + 7
    listed = tuple(opml.Outline(f"F{n}", f"https://f{n}.example/rss") for n in range(count))
    report = await news.import_feeds(opml.Parsed(listed, problems=()))
    assert batches == [IMPORT_AT_ONCE, IMPORT_AT_ONCE, 7]
    assert len(report.added) == count
