"""bot/feed_lists.py: an OPML list's feeds added to News and read once, in batches, within one
poll's time; what cannot be added is reported, never raised. (The chat and the command line
are tested in test_chat_feeds.py, test_cli.py and test_run.py, with real feeds.)"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from bot import opml
from bot.config import Settings
from bot.feed_lists import IMPORT_AT_ONCE, import_list
from bot.news import News
from bot.store import Store


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
    # The stuck read takes 30 s; the import gives up on it after a poll (1 s), well within 10.
    report = await asyncio.wait_for(import_list(news, listed), 10.0)
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
    report = await import_list(news, listed)
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
    report = await import_list(news, opml.Parsed(listed, problems=()))
    assert batches == [IMPORT_AT_ONCE, IMPORT_AT_ONCE, 7]
    assert len(report.added) == count
