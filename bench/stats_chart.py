"""Benchmark: the /stats chart at 100,000 articles: counting (SQL), drawing (matplotlib), both.

A database is filled through the Store, as the bot fills it: `Store.apply` adds the articles
(with their search entries, stories and one outbox row per subscribed chat), `mark_sent` and
`mark_failed` record the deliveries. The store's clock is moved day by day, so that the
articles are added over `--days` (35: the chart's 30 and some before) from 9 sources (5 feeds,
2 folders, 2 files at the top of the articles folder) in realistic shares, with quiet
weekends; two chats are subscribed (one to all news, one to a word in a fifth of the
articles), and 2 % of the deliveries fail. Texts are made of random words (no data needed).

Then, with the machine's load printed beside them, 3 runs each (min / median / max, wall and
CPU time): the counting alone (News.activity: two GROUP BY day queries and the grouping),
the drawing alone (chart.draw, after a first draw that pays the matplotlib import), both
together; the store's two queries alone, and a count per day read from the rows instead of the
index on (added_at, source) (what the index saves); and the longest pause of the event loop
while `News.stats_chart` makes a chart in its worker thread (a 5 ms ticker: what other users'
updates would wait).

Usage: python bench/stats_chart.py [--articles 100000] [--days 35] [--keep PATH] [--png FILE]
(--keep PATH fills a database there and keeps it; run again with it the same day to measure
without filling again, e.g. once the machine is quiet.)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import os
import random
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from machine import cpu_busy, describe  # bench/machine.py, beside this script

if TYPE_CHECKING:
    from bot.news import News
    from bot.store import Store

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

# Where articles come from, and their shares: feeds (folders below feeds/), folders, files.
SOURCES = (
    ("feeds/bbc-news", 30),
    ("feeds/the-guardian", 22),
    ("feeds/reuters-world", 15),
    ("feeds/ars-technica", 8),
    ("feeds/heise", 5),
    ("local-paper", 10),
    ("press-releases", 4),
    ("wire-briefs.jsonl", 4),
    ("science-roundup.json", 2),
)
FEEDS = ("BBC News", "The Guardian", "Reuters World", "Ars Technica", "heise")
FILTER_WORD = "harbour"  # in a fifth of the articles: the second chat's filter
FAILED_SHARE = 0.02
BATCH = 5000
RUNS = 3


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bot.config import load_settings

    print(f"command: {shlex.join(sys.orig_argv)}")
    # The version without the import: the first draw's row is what the import costs.
    print(f"machine: {describe()}, matplotlib {metadata.version('matplotlib')}")
    with tempfile.TemporaryDirectory(prefix="newsbot-chart-bench-") as tmp:
        database = args.keep or Path(tmp) / "news.sqlite3"
        articles_dir = Path(tmp) / "articles"
        articles_dir.mkdir()
        settings = dataclasses.replace(
            load_settings(), articles_dir=articles_dir, database=database
        )
        now = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0).timestamp()
        if Path(database).exists():
            print(f"measuring on {database} as it is (filled before, the same day)")
        else:
            print(f"filling {args.articles:,} articles over {args.days} days in {database} ...")
            began = time.perf_counter()
            fill(settings, args.articles, args.days, now)
            print(f"filled in {time.perf_counter() - began:.0f} s")
        _describe_database(database)
        print(f"load average before measuring: {_load()}; CPU busy: {cpu_busy()}\n")
        rows, stall = asyncio.run(measure(settings, now, args.png))
    print("| step | wall min / median / max (ms) | CPU min / median / max (ms) |")
    print("|---|---:|---:|")
    for name, walls, cpus in rows:
        print(f"| {name} | {_three(walls)} | {_three(cpus)} |")
    print(f"\nlongest event-loop pause while News.stats_chart ran: {stall:.1f} ms")
    print(f"load average after: {_load()}")
    return 0


def _describe_database(path: Path) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        outbox = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    print(
        f"database: {articles:,} articles, {outbox:,} outbox rows,"
        f" {path.stat().st_size / 1e6:,.0f} MB"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--keep",
        type=Path,
        help="fill this database file and keep it; if it exists, measure on it as it is",
    )
    parser.add_argument("--png", type=Path, help="write the chart drawn here")
    return parser


# -- filling ----------------------------------------------------------------------------------


class _Clock:
    """Stands in for the `time` module in the store's modules while filling: time() is the
    day being filled; sleep() (the pause between two write batches) does nothing; monotonic()
    (how long a transaction has held the lock) is the real one."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        return None


def fill(settings: Any, total: int, days: int, now: float) -> None:
    """Articles added day by day, their deliveries sent or failed that day."""
    import bot.store.articles
    import bot.store.chats
    import bot.store.outbox
    from bot.store import Store

    clock = _Clock()
    modules = (bot.store.articles, bot.store.outbox, bot.store.chats)
    saved = [m.time for m in modules]  # type: ignore[attr-defined]
    rng = random.Random(14)
    vocabulary = [_word(rng) for _ in range(5000)]
    # Words as common as in real text (Zipf: the n-th word 1/n as often as the first).
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(vocabulary) + 1)))
    per_day = _per_day(total, days, now, rng)
    try:
        for module in modules:
            module.time = clock  # type: ignore[attr-defined]
        with Store(settings.database) as store:
            clock.now = now - days * 86400
            store.subscribe(1, "private", "")
            store.subscribe(2, "private", FILTER_WORD)
            for day, count in enumerate(per_day):
                start = now - (days - day) * 86400
                _fill_day(store, clock, rng, (vocabulary, weights), day, count, start)
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.time = original  # type: ignore[attr-defined]


def _per_day(total: int, days: int, now: float, rng: random.Random) -> list[int]:
    """Articles per day: weekends at a third, a little noise, `total` in all."""
    weights = []
    for day in range(days):
        weekday = datetime.fromtimestamp(now - (days - day) * 86400, tz=UTC).weekday()
        weights.append((0.35 if weekday >= 5 else 1.0) * rng.uniform(0.8, 1.2))
    counts = [int(total * w / sum(weights)) for w in weights]
    counts[-1] += total - sum(counts)
    return counts


def _fill_day(
    store: Store,
    clock: _Clock,
    rng: random.Random,
    vocabulary: tuple[list[str], list[float]],
    day: int,
    count: int,
    start: float,
) -> None:
    from bot.store import Changes

    names, weights = zip(*SOURCES, strict=True)
    for first in range(0, count, BATCH):
        size = min(BATCH, count - first)
        clock.now = start + 86400 * (first + size / 2) / max(count, 1) * 0.9
        batch = [
            _article(rng, vocabulary, rng.choices(names, weights)[0], f"{day}-{first + n}", clock)
            for n in range(size)
        ]
        store.apply(Changes([], [], batch, [], [], {}), batch_size=BATCH)
    clock.now = start + 86400 * 0.95
    due = [d.id for d in store.due_deliveries(float("inf"), 10**9)]
    failed = set(rng.sample(due, int(len(due) * FAILED_SHARE)))
    store.mark_sent([i for i in due if i not in failed], 1)
    for delivery_id in failed:
        store.mark_failed(delivery_id, "Forbidden: bot was blocked by the user")


def _article(
    rng: random.Random,
    vocabulary: tuple[list[str], list[float]],
    source: str,
    key: str,
    clock: _Clock,
) -> Any:
    from bot.articles import Article, Block

    words = rng.choices(vocabulary[0], cum_weights=vocabulary[1], k=rng.randrange(200, 500))
    if rng.random() < 0.2:
        words[rng.randrange(len(words))] = FILTER_WORD
    paragraphs = [" ".join(words[i : i + 60]) + "." for i in range(0, len(words), 60)]
    folder = source if "." in source else f"{source}/{key}.json"
    return Article(
        title=" ".join(rng.choices(vocabulary[0], k=8)).capitalize(),
        blocks=tuple(Block(p.capitalize()) for p in paragraphs),
        source=folder,
        ordinal=int(key.split("-")[1]) if "." in source else 0,
        external_id=key if "." in source else None,
        published=datetime.fromtimestamp(clock.now, tz=UTC) - timedelta(hours=rng.randrange(12)),
        dated=True,
    )


def _word(rng: random.Random) -> str:
    return "".join(rng.choices("abcdefghijklmnoprstuvwy", k=rng.randrange(3, 10)))


# -- measuring --------------------------------------------------------------------------------


async def measure(
    settings: Any, now: float, png: Path | None
) -> tuple[list[tuple[str, list[float], list[float]]], float]:
    from bot import chart
    from bot.news import News
    from bot.store import Store

    rows: list[tuple[str, list[float], list[float]]] = []
    with Store(settings.database) as store:
        store.sync_feeds([(name, f"https://example.org/{n}", ()) for n, name in enumerate(FEEDS)])
        news = News(settings, store)
        activity = news.activity(now=now)
        print(
            f"the chart's window: {activity.articles:,} articles, {sum(activity.sent):,} sent,"
            f" {sum(activity.failed):,} failed; sources: {[s for s, _ in activity.sources]}"
        )
        rows.append(("first draw (imports matplotlib)", *_timed(lambda: chart.draw(activity), 1)))
        rows.append(("counting (News.activity)", *_timed(lambda: news.activity(now=now))))
        rows.append(("drawing (chart.draw)", *_timed(lambda: chart.draw(activity))))
        rows.append(("both", *_timed(lambda: chart.draw(news.activity(now=now)))))
        stall = await _loop_stall(news, now)
        if png:
            png.write_bytes(chart.draw(news.activity(now=now)))
            print(f"chart written to {png}")
        since = now - 30 * 86400
        rows.append(
            ("articles per day from the rows (NOT INDEXED)", *_timed(lambda: _scan(store, since)))
        )
        rows.append(
            (
                "articles per day and source (the store's query)",
                *_timed(lambda: store.articles_per_day(since, now)),
            )
        )
        rows.append(
            (
                "deliveries per day and outcome",
                *_timed(lambda: store.deliveries_per_day(since, now)),
            )
        )
        news.close()
    return rows, stall


def _scan(store: Store, since: float) -> list[Any]:
    """Articles per day read from the table's rows, as without the index on added_at."""
    return store.conn.execute(
        "SELECT CAST(added_at / 86400 AS INTEGER) AS day, count(*) FROM articles NOT INDEXED"
        " WHERE added_at >= ? GROUP BY day",
        (since,),
    ).fetchall()


def _timed(work: Callable[[], object], runs: int = RUNS) -> tuple[list[float], list[float]]:
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return walls, cpus


async def _loop_stall(news: News, now: float) -> float:
    """The longest gap between two ticks of a 5 ms ticker while stats_chart runs."""
    longest = 0.0
    done = False

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.005)
            tick = time.perf_counter()
            longest = max(longest, tick - last - 0.005)
            last = tick

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    for _ in range(RUNS):
        await news.stats_chart(now=now)
    done = True
    await task
    return longest * 1000


def _three(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:,.0f}"
    return " / ".join(f"{v:,.0f}" for v in (min(values), statistics.median(values), max(values)))


def _load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
