"""The /stats chart: the counts behind it (store, News.activity, chart.collect) and the PNG."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot import chart
from bot.articles import Article, Block
from bot.chat import texts
from bot.config import Settings
from bot.news import News
from bot.store import DROPPED, FAILED, MIGRATIONS, QUEUED, SENT, Changes, Store
from bot.store import sqlite as store_module

from .conftest import REPO, png_size

# 15:00 UTC on 1 December 2026: the window is 2 November to 1 December, 30 UTC days.
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC).timestamp()


def at(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


def add(store: Store, source: str, added: float, *, ordinal: int = 0) -> int:
    """One article from `source` (its path in the articles folder), added at `added`."""
    article = Article(
        title=f"Story {source} {ordinal}",
        blocks=(Block(f"The text of {source} number {ordinal}."),),
        source=source,
        published=datetime.fromtimestamp(added, tz=UTC),
        ordinal=ordinal,
    )
    (article_id,) = store.apply(Changes([], [], [article], [], [], {})).added_ids
    # The store writes the time of the call; a test needs the day it is about.
    store.conn.execute("UPDATE articles SET added_at = ? WHERE id = ?", (added, article_id))
    return article_id


def deliver(store: Store, article_id: int, chat_id: int, status: str, when: float) -> None:
    """An outbox row in a final (or waiting) state, as the sender leaves it."""
    store.conn.execute(
        "INSERT INTO outbox (article_id, chat_id, status, created_at, sent_at, failed_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            article_id,
            chat_id,
            status,
            when - 60,
            when if status == SENT else None,
            when if status == FAILED else None,
        ),
    )


@pytest.fixture
def news(settings: Settings, store: Store) -> News:
    store.sync_feeds([("BBC News", "https://bbc.example/rss", ())])
    return News(settings, store)


def test_the_window_is_the_last_30_utc_days_up_to_today() -> None:
    since, until, first = chart.window(NOW)
    assert since == at("2026-11-02T00:00:00+00:00")
    assert until == at("2026-12-02T00:00:00+00:00")
    assert first == since // 86400


def test_articles_are_counted_per_utc_day_by_feed_folder_or_file(news: News, store: Store) -> None:
    for n in range(3):
        add(store, f"feeds/bbc-news/{n}.json", at("2026-11-10T12:00:00+00:00"))
    add(store, "local/first-instant.txt", at("2026-11-02T00:00:00+00:00"))
    add(store, "local/a-second-before.txt", at("2026-11-01T23:59:59+00:00"))  # outside
    add(store, "wire.jsonl", at("2026-11-30T23:59:59+00:00"), ordinal=0)
    # 19:30 in New York on 30 November is 00:30 UTC on 1 December: counted on the UTC day.
    add(store, "wire.jsonl", at("2026-11-30T19:30:00-05:00"), ordinal=1)
    add(store, "wire.jsonl", at("2026-12-02T00:00:00+00:00"), ordinal=2)  # tomorrow: outside
    add(store, "top-level.txt", at("2026-10-01T09:00:00+00:00"))  # long ago: outside

    activity = news.activity(now=NOW)

    assert activity.days[0] == date(2026, 11, 2) and activity.days[-1] == date(2026, 12, 1)
    assert len(activity.days) == 30
    expected = {"BBC News": {8: 3}, "wire.jsonl": {28: 1, 29: 1}, "local/": {0: 1}}
    assert [name for name, _ in activity.sources] == ["BBC News", "wire.jsonl", "local/"]
    for name, counts in activity.sources:
        assert {day: n for day, n in enumerate(counts) if n} == expected[name], name
    assert activity.articles == 6


def test_deliveries_are_counted_per_utc_day_by_outcome(news: News, store: Store) -> None:
    article = add(store, "a.txt", at("2026-11-20T10:00:00+00:00"))
    deliver(store, article, 1, SENT, at("2026-11-30T23:59:59+00:00"))
    deliver(store, article, 2, SENT, at("2026-12-01T00:00:00+00:00"))
    deliver(store, article, 3, SENT, at("2026-12-01T08:00:00+01:00"))  # 07:00 UTC: 1 December
    deliver(store, article, 4, FAILED, at("2026-11-15T08:00:00+00:00"))
    deliver(store, article, 5, SENT, at("2026-10-20T08:00:00+00:00"))  # outside
    deliver(store, article, 6, QUEUED, at("2026-11-30T08:00:00+00:00"))  # neither
    deliver(store, article, 7, DROPPED, at("2026-11-30T08:00:00+00:00"))  # neither

    activity = news.activity(now=NOW)

    assert {day: n for day, n in enumerate(activity.sent) if n} == {28: 1, 29: 2}
    assert {day: n for day, n in enumerate(activity.failed) if n} == {13: 1}
    assert activity.deliveries == 4


def test_a_failed_delivery_is_counted_on_the_day_it_was_given_up(news: News, store: Store) -> None:
    store.subscribe(9, "private", "")
    add(store, "a.txt", NOW)
    (delivery,) = store.due_deliveries(NOW + 1e6, 10)
    store.mark_failed(delivery.id, "Forbidden: bot was blocked by the user")
    activity = news.activity()
    assert activity.failed[-1] == 1 and sum(activity.failed) == 1 and sum(activity.sent) == 0


def test_failures_from_before_the_failure_time_get_their_last_known_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    version = [name for name, _ in MIGRATIONS].index("0017_outbox_times")
    # A database made before 0015 (and every migration after it).
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[:version])
    with Store(path) as db:
        db.conn.execute("INSERT INTO chats (chat_id, kind, created_at) VALUES (1, 'private', 0)")
        for n, (status, created, not_before) in enumerate(
            [(FAILED, 1000.0, 0.0), (FAILED, 1000.0, 5000.0), (SENT, 1000.0, 0.0)]
        ):
            db.conn.execute(
                "INSERT INTO outbox (article_id, chat_id, status, created_at, not_before)"
                " VALUES (?, 1, ?, ?, ?)",
                (n, status, created, not_before),
            )
    monkeypatch.undo()
    with Store(path) as db:
        assert db.schema_version == len(MIGRATIONS)
        times = [r[0] for r in db.conn.execute("SELECT failed_at FROM outbox ORDER BY id")]
    assert times == [1000.0, 5000.0, None]


def test_the_six_biggest_sources_are_drawn_and_the_rest_are_other() -> None:
    first = int(chart.window(NOW)[2])
    rows = [(first + 3, f"source-{n}/", 10 - n) for n in range(8)]
    rows += [(first - 1, "source-7/", 100), (first + 30, "source-7/", 100)]  # outside the window
    activity = chart.collect(first, 30, rows, [], names={"source-0/": "Zero"})
    names = [name for name, _ in activity.sources]
    six = ["Zero", *(f"source-{n}/" for n in range(1, 6))]
    assert names == [*six, texts.CHART_OTHER]
    assert activity.sources[-1][1][3] == 4 + 3
    assert activity.articles == sum(range(3, 11))


def test_the_chart_is_a_png_of_telegrams_photo_size(news: News, store: Store) -> None:
    for n in range(40):
        add(store, f"feeds/bbc-news/{n}.json", NOW - n * 43200, ordinal=n)
        add(store, f"local/{n}.txt", NOW - n * 86400)
    data = chart.draw(news.activity(now=NOW))
    assert png_size(data) == (chart.WIDTH, chart.HEIGHT) == (1280, 960)
    assert len(data) < 300_000


def test_an_empty_database_gives_a_chart_of_zeros_that_says_so(news: News) -> None:
    activity = news.activity(now=NOW)
    assert activity.sources == ()
    assert activity.articles == activity.deliveries == 0
    assert activity.sent == activity.failed == (0,) * 30
    assert png_size(chart.draw(activity)) == (1280, 960)


async def test_the_chart_is_made_off_the_event_loop_on_a_connection_of_its_own(
    news: News, store: Store
) -> None:
    add(store, "a.txt", NOW)
    assert png_size(await news.stats_chart(now=NOW)) == (1280, 960)
    assert not news._readers.empty()  # the worker's connection, kept for the next time
    news.close()


async def test_an_in_memory_store_makes_its_chart_too(settings: Settings) -> None:
    memory = News(dataclasses.replace(settings), Store(":memory:"))
    try:
        assert png_size(await memory.stats_chart(now=NOW)) == (1280, 960)
    finally:
        memory.close()


def test_starting_the_bot_does_not_import_matplotlib() -> None:
    code = (
        "import sys, bot.__main__, bot.chat.app, bot.news, bot.console, bot.chart;"
        " assert 'matplotlib' not in sys.modules, 'imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
