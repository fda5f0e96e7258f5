"""Benchmark: chat latency per command, and updates per second, through the whole Application.

The real Application (`bot.chat.app.build_application`) with the in-process Bot API
(`bot.chat.local.LocalBotApi`: no network, every call answered and recorded) and real Update
objects (`bot.chat.local.LocalUser`), on a library of 10,000 and 100,000 articles (`--sizes`).

The library is filled directly through `Store.apply` and `Store.put_summaries`, not by the index
operation (summarizing 100,000 articles with sumy would take hours): articles recombined from the
real BBC News texts with a seeded RNG, each with a cached summary (its first three sentences)
under the key the bot looks up, as a real index would have cached. The articles folder is empty
and the files table too, so the index run in `open_news` finds nothing to do.

Per size, each command gets a short warm-up, then `--updates` updates, each timed around
`await app.process_update(update)` alone (time.perf_counter); then a mixed stream of all five
kinds runs back to back for `--seconds` and gives updates/s. PASS/FAIL lines check the goals
(`/latest` and `/read` p95 <= 5 ms, `/search` p95 <= 20 ms) at the largest size.

With `--database postgresql://…` the libraries are written to new databases on that server
(the goals then are issue 15's: `/latest` and `/read` p95 <= 10 ms, `/search` <= 30 ms).

Usage: python bench/chat_latency.py [--sizes 10000,100000] [--updates 300] [--data PATH]
       [--database postgresql://user@host/db]
The data is not part of the repository (see --help); without it the script exits with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import os
import random
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from machine import cpu_busy, describe  # bench/machine.py, beside this script

if TYPE_CHECKING:
    from bot.articles import Article
    from bot.chat.local import Call, LocalUser
    from bot.config import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path("../shared/data/bbc-news-articles.jsonl")

# The goals (p95, milliseconds, at the largest size), stated for a 2-core machine.
GOALS = {"/latest": 5.0, "/read <id>": 5.0, "/search <word>": 20.0}
# On PostgreSQL (issue 15): every statement is a round trip to the server.
POSTGRES_GOALS = {"/latest": 10.0, "/read <id>": 10.0, "/search <word>": 30.0}

# Search words, all from real BBC headlines: from words in nearly every article ("the", "to",
# "in") through common ones ("government": a fifth of them) to names in about one in a hundred
# (the table printed per size gives the counts).
SEARCH_WORDS = (
    "the",
    "to",
    "in",
    "new",
    "says",
    "uk",
    "government",
    "labour",
    "election",
    "film",
    "music",
    "blair",
    "china",
    "tax",
    "oscar",
    "microsoft",
    "tsunami",
    "arsenal",
    "google",
    "ipod",
    "yukos",
    "mourinho",
    "kilroy",
    "beckham",
)

# The kinds of update measured, in table order; the first five make up the mixed stream.
LATEST = "/latest"
READ = "/read <id>"
SEARCH = "/search <word>"
PAGE = "button lt:<offset>:5 (pages 2-101)"
READ_BUTTON = "button rd:<id>:0"
DEEP_PAGE = "button lt:<offset>:5 (any page)"
MIXED = (LATEST, READ, SEARCH, PAGE, READ_BUTTON)
KINDS = (*MIXED, DEEP_PAGE)

FILL_BATCH = 5000
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’]?\s+(?=[\"'“‘A-Z0-9£$])")


@dataclasses.dataclass(frozen=True)
class Source:
    title: str
    category: str
    paragraphs: tuple[int, ...]  # indexes into Corpus.paragraphs


@dataclasses.dataclass(frozen=True)
class Corpus:
    sources: tuple[Source, ...]
    paragraphs: tuple[str, ...]
    by_category: dict[str, tuple[int, ...]]


@dataclasses.dataclass(frozen=True)
class Library:
    size: int
    ids: tuple[int, ...]
    # What /latest lists: articles that repeat another's paragraphs join its story.
    stories: int
    generate_seconds: float
    write_seconds: float
    megabytes: float
    # Store.apply and put_summaries seconds for each tenth of the fill, first to last: a write
    # phase that grows with the library shows here (the last tenth slower than the first).
    tenths: tuple[float, ...] = ()


@dataclasses.dataclass
class SizeResult:
    library: Library
    latencies: dict[str, list[float]]  # kind -> milliseconds
    per_word: dict[str, list[float]]
    matches: dict[str, int]
    stream_updates: int
    stream_seconds: float


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    data = args.data if args.data.is_absolute() else (REPO_ROOT / args.data).resolve()
    if not data.is_file():
        print(
            f"chat_latency: data file {data} not found.\n"
            "  The benchmark builds its articles from BBC News texts as JSON Lines (id, category,\n"
            "  title, text), the public 'BBC News Summary' dataset (Kaggle). Put it at\n"
            f"  {(REPO_ROOT / DEFAULT_DATA).resolve()} or pass --data PATH.",
            file=sys.stderr,
        )
        return 2
    corpus = _load(data)

    # Imported here, not at the top, so that --help and a missing data file answer at once.
    from bot.config import load_settings

    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"machine: {describe()}")
    print(f"CPU busy just before the run: {cpu_busy()} (anything else running skews this)")
    print(
        f"data: {data} ({len(corpus.sources)} articles, {len(corpus.paragraphs)} paragraphs),"
        f" seed {args.seed}, {args.updates} timed updates per command after {args.warmup}"
        f" warm-up, mixed stream {args.seconds:g} s"
    )

    results: list[SizeResult] = []
    goals = POSTGRES_GOALS if args.database else GOALS
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="newsbot-chat-bench-") as tmp:
            articles_dir = Path(tmp) / "articles"
            articles_dir.mkdir()
            database: str | Path = Path(tmp) / "news.sqlite3"
            kept = None
            if args.database:
                name = f"newsbot_bench_{size}"
                kept = _kept_library(args.database, name, size) if args.reuse else None
                if kept is None:
                    database = _fresh_postgres(args.database, name)
                else:
                    database = f"{args.database.rpartition('/')[0]}/{name}"
            settings = dataclasses.replace(
                load_settings(), articles_dir=articles_dir, database=database
            )
            if kept is not None:
                print(f"\nreusing the library of {size:,} articles in {name} ...", flush=True)
                library = kept
            else:
                print(f"\nfilling a library of {size:,} articles in {tmp} ...", flush=True)
                library = fill(settings, corpus, size, seed=args.seed)
            print(
                f"filled in {library.generate_seconds + library.write_seconds:.1f} s"
                f" (making the articles {library.generate_seconds:.1f} s, Store.apply and"
                f" put_summaries {library.write_seconds:.1f} s), database {library.megabytes:,.0f}"
                " MB; measuring ...",
                flush=True,
            )
            if library.tenths:
                print(
                    "write seconds per tenth of the fill, first to last: "
                    + ", ".join(f"{t:.1f}" for t in library.tenths),
                    flush=True,
                )
            result = asyncio.run(measure(settings, library, args))
            results.append(result)
            print()
            print(_report(result, args))
    print()
    largest = max(results, key=lambda r: r.library.size)
    cores = "" if os.cpu_count() == 2 else f" (goals are for 2 cores; this has {os.cpu_count()})"
    for kind, goal in goals.items():
        p95 = _percentiles(largest.latencies[kind])[1]
        verdict = "PASS" if p95 <= goal else "FAIL"
        print(
            f"{verdict}: {kind.split()[0]} p95 <= {goal:g} ms at {largest.library.size:,}"
            f" articles{cores}: {p95:.2f} ms"
        )
    return 0


# -- the library ------------------------------------------------------------------------------


def _fresh_postgres(url: str, name: str) -> str:
    """A new empty database on the server `url` names; returns its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{url.rpartition('/')[0]}/{name}"


def _kept_library(url: str, name: str, size: int) -> Library | None:
    """The library a run before left in database `name` (--reuse), if it holds `size`
    articles: filling 100,000 takes many minutes."""
    import psycopg

    from bot.store import open_store

    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return None
    with open_store(f"{url.rpartition('/')[0]}/{name}") as store:
        ids = tuple(int(r[0]) for r in store.conn.execute("SELECT id FROM articles ORDER BY id"))
        if len(ids) != size:
            return None
        stories = store.count(heads_only=True)
        size_bytes = store.conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return Library(size, ids, stories, 0.0, 0.0, int(size_bytes[0]) / 1e6)


def fill(settings: Settings, corpus: Corpus, size: int, *, seed: int) -> Library:
    """Write `size` distinct articles and their cached summaries; returns their ids."""
    from bot import index
    from bot.store import Changes, is_url, open_store

    options = index.summary_options(settings)
    rng = random.Random(f"{seed}-articles-{size}")
    seen: set[tuple[int, ...]] = set()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    ids: list[int] = []
    generate = write = 0.0
    tenths = [0.0] * 10
    with open_store(settings.database) as store:
        for first in range(0, size, FILL_BATCH):
            began = time.perf_counter()
            batch = [
                _article(corpus, rng, seen, number, start + timedelta(minutes=10 * number))
                for number in range(first, min(size, first + FILL_BATCH))
            ]
            summaries = [
                (index.summary_key(article, options), _first_sentences(article, 3))
                for article in batch
            ]
            wrote = time.perf_counter()
            applied = store.apply(
                Changes(
                    files=[], removed_files=[], added=batch, updated=[], removed_ids=[], report={}
                )
            )
            ids += applied.added_ids
            store.put_summaries(summaries)
            done = time.perf_counter()
            generate += wrote - began
            write += done - wrote
            tenths[min(9, first * 10 // size)] += done - wrote
        if is_url(settings.database):
            # As autovacuum would have by then: the planner's statistics and visibility map.
            store.conn.execute("VACUUM ANALYZE")
            size_bytes = store.conn.execute(
                "SELECT pg_database_size(current_database())"
            ).fetchone()[0]
        else:
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size_bytes = Path(settings.database).stat().st_size
        stories = store.count(heads_only=True)
    megabytes = int(size_bytes) / 1e6
    return Library(size, tuple(ids), stories, generate, write, megabytes, tuple(tenths))


def _article(
    corpus: Corpus, rng: random.Random, seen: set[tuple[int, ...]], number: int, when: datetime
) -> Article:
    """A headline with its own lead paragraph, then paragraphs of other stories of the same
    category; as many paragraphs as a randomly picked real story has. Never the same twice."""
    from bot.articles import Article, Block

    while True:
        source = rng.choice(corpus.sources)
        count = len(rng.choice(corpus.sources).paragraphs)
        pool = corpus.by_category[source.category]
        picks = (source.paragraphs[0], *rng.sample(pool, count - 1))
        if picks not in seen:
            seen.add(picks)
            break
    # Distinct times, ten minutes apart plus up to nine minutes of jitter: ids follow the dates.
    published = when + timedelta(seconds=rng.randrange(540))
    return Article(
        title=source.title,
        blocks=tuple(Block(corpus.paragraphs[i]) for i in picks),
        source=f"bench/{number}.txt",
        published=published,
        dated=True,
    )


def _first_sentences(article: Article, count: int) -> list[str]:
    sentences: list[str] = []
    for paragraph in article.paragraphs:
        sentences += [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]
        if len(sentences) >= count:
            break
    return sentences[:count]


def _load(path: Path) -> Corpus:
    sources: list[Source] = []
    paragraphs: list[str] = []
    by_category: dict[str, list[int]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            record = json.loads(line)
            texts = [" ".join(p.split()) for p in record["text"].split("\n\n") if p.strip()]
            first = len(paragraphs)
            paragraphs += texts
            numbers = tuple(range(first, len(paragraphs)))
            category = str(record.get("category") or "news")
            by_category.setdefault(category, []).extend(numbers)
            sources.append(Source(" ".join(record["title"].split()), category, numbers))
    sources = [s for s in sources if s.paragraphs]
    if not sources:
        raise SystemExit(f"chat_latency: no articles in {path}")
    return Corpus(tuple(sources), tuple(paragraphs), {k: tuple(v) for k, v in by_category.items()})


# -- measuring ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def local_bot(settings: Settings) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The whole Application on the in-process Bot API, opened as `run` opens it and its
    start-up index run ended: (application, Bot API, News); closed on leaving (also used by
    long_article.py and search_scale.py)."""
    from bot.chat.app import build_application, close_news, open_news
    from bot.chat.jobs import start_up_indexed
    from bot.chat.local import LOCAL_TOKEN, LocalBotApi
    from bot.news import News

    api = LocalBotApi(username="newsbot")
    app = build_application(settings, token=LOCAL_TOKEN, request=api, rate_limit=False)
    await app.initialize()
    await open_news(app)
    await start_up_indexed(app)
    try:
        news = app.bot_data["news"]
        assert isinstance(news, News)
        yield app, api, news
    finally:
        await close_news(app)
        await app.shutdown()


async def measure(settings: Settings, library: Library, args: argparse.Namespace) -> SizeResult:
    from bot.chat.local import LocalUser

    async with local_bot(settings) as (app, api, news):
        if news.count() != library.size:
            raise SystemExit(f"chat_latency: {news.count()} articles, expected {library.size}")
        user = LocalUser(app.bot, user_id=7, chat_id=7)
        await app.process_update(user.message("/latest"))
        on_message = api.sent("sendMessage")[-1].result  # the message the buttons are pressed on
        assert isinstance(on_message, dict)
        makers = _makers(user, on_message, library, args.seed)

        latencies: dict[str, list[float]] = {}
        per_word: dict[str, list[float]] = {word: [] for word in SEARCH_WORDS}
        for kind in KINDS:
            make = makers[kind]
            for _ in range(args.warmup):
                update, _expect = make()
                await app.process_update(update)
            api.calls.clear()
            gc.collect()
            timings: list[float] = []
            for _ in range(args.updates):
                update, expect = make()
                started = time.perf_counter()
                await app.process_update(update)
                elapsed = (time.perf_counter() - started) * 1000
                timings.append(elapsed)
                _check_reply(kind, update, api.calls, expect)
                api.calls.clear()
                if kind == SEARCH:
                    per_word[_search_word(update)].append(elapsed)
            latencies[kind] = timings
        matches = {word: news.store.search(word).total for word in SEARCH_WORDS}

        # The mixed stream: making each Update (Update.de_json, as the Updater does for each one
        # it receives) and processing it, back to back.
        order = random.Random(f"{args.seed}-stream")
        gc.collect()
        done = 0
        started = time.perf_counter()
        deadline = started + args.seconds
        while time.perf_counter() < deadline:
            for _ in range(10):
                update, _expect = makers[order.choice(MIXED)]()
                await app.process_update(update)
                done += 1
            api.calls.clear()
        stream_seconds = time.perf_counter() - started
    return SizeResult(library, latencies, per_word, matches, done, stream_seconds)


Maker = Callable[[], tuple[Any, str]]


def _makers(
    user: LocalUser, on_message: dict[str, Any], library: Library, seed: int
) -> dict[str, Maker]:
    """For each kind: a function making the next Update of that kind, and a text its reply must
    contain. Each kind draws from its own seeded RNG, so runs are repeatable."""
    rngs = {kind: random.Random(f"{seed}-{kind}") for kind in KINDS}
    ids = library.ids

    def latest() -> tuple[Any, str]:
        # "of N": N counts stories (articles repeating paragraphs merge), not articles.
        return user.message("/latest"), "(1–5 of "

    def read() -> tuple[Any, str]:
        article_id = rngs[READ].choice(ids)
        return user.message(f"/read {article_id}"), f"/read {article_id}"

    def search() -> tuple[Any, str]:
        return user.message(f"/search {rngs[SEARCH].choice(SEARCH_WORDS)}"), "🔎"

    def page() -> tuple[Any, str]:
        offset = 5 * rngs[PAGE].randrange(1, 101)
        return user.press(f"lt:{offset}:5", on_message), f"({offset + 1}–"

    def read_button() -> tuple[Any, str]:
        article_id = rngs[READ_BUTTON].choice(ids)
        return user.press(f"rd:{article_id}:0", on_message), f"/read {article_id}"

    def deep_page() -> tuple[Any, str]:
        offset = rngs[DEEP_PAGE].randrange(0, library.stories - 5)
        return user.press(f"lt:{offset}:5", on_message), f"({offset + 1}–"

    return {
        LATEST: latest,
        READ: read,
        SEARCH: search,
        PAGE: page,
        READ_BUTTON: read_button,
        DEEP_PAGE: deep_page,
    }


def _check_reply(kind: str, update: Any, calls: list[Call], expect: str) -> None:
    """Exactly one message sent or edited, holding what that command answers (not an error)."""
    from bot.chat import texts

    replies = [str(c.params.get("text")) for c in calls if c.method in _REPLY_METHODS]
    if len(replies) != 1 or expect not in replies[0] or replies[0] == texts.ERROR:
        raise SystemExit(
            f"chat_latency: unexpected answer to {kind} ({update.to_dict()}):"
            f" {[(c.method, c.params.get('text')) for c in calls]}"
        )


_REPLY_METHODS = ("sendMessage", "editMessageText")


def _search_word(update: Any) -> str:
    return str(update.message.text).split(maxsplit=1)[1]


# -- reporting ----------------------------------------------------------------------------------


def _report(result: SizeResult, args: argparse.Namespace) -> str:
    size = result.library.size
    lines = [
        f"### {size:,} articles",
        "",
        "| command | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for kind in KINDS:
        p50, p95, p99 = _percentiles(result.latencies[kind])
        lines.append(f"| {_md(kind)} | {p50:.2f} | {p95:.2f} | {p99:.2f} |")
    rate = result.stream_updates / result.stream_seconds
    lines += [
        "",
        f"updates/s, mixed stream (the first five rows in equal shares, Update.de_json"
        f" included): {rate:,.0f} ({result.stream_updates:,} updates in"
        f" {result.stream_seconds:.1f} s)",
        "",
        f"/search by word ({args.updates} searches, words drawn evenly):",
        "",
        "| word | articles matching | searches | p50 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for word in SEARCH_WORDS:
        timings = result.per_word[word]
        if not timings:
            continue
        lines.append(
            f"| {word} | {result.matches[word]:,} ({100 * result.matches[word] / size:.1f}%)"
            f" | {len(timings)} | {statistics.median(timings):.2f} | {max(timings):.2f} |"
        )
    return "\n".join(lines)


def _md(kind: str) -> str:
    """Table cell: a command or button, code-formatted, with its note in plain text."""
    code, _, note = kind.partition(" (")
    if code.startswith("button "):
        return f"button `{code.removeprefix('button ')}`" + (f" ({note}" if note else "")
    return f"`{code}`" + (f" ({note}" if note else "")


def _percentiles(values: Sequence[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Latency per chat command and updates/s through the whole Application,"
        " on libraries of real news text."
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=(10_000, 100_000),
        help="library sizes, comma-separated; each is built once (default 10000,100000)",
    )
    parser.add_argument(
        "--updates",
        type=_positive,
        default=300,
        help="timed updates per command and size (default 300)",
    )
    parser.add_argument(
        "--warmup", type=_non_negative, default=20, help="untimed updates first (default 20)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=5.0,
        help="length of the mixed stream for updates/s (default 5)",
    )
    parser.add_argument("--seed", type=int, default=1, help="RNG seed (default 1)")
    parser.add_argument(
        "--database",
        metavar="URL",
        help="a PostgreSQL server (postgresql://user@host/db, a user who may create databases):"
        " each size gets a new database newsbot_bench_<size> there (default: SQLite files)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --database: measure on the newsbot_bench_<size> a run before filled, if it"
        " holds that many articles (its fill is not timed again)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="BBC News JSON Lines file (category, title, text); relative paths are resolved"
        f" against the repository root (default {DEFAULT_DATA})",
    )
    return parser


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("expected whole numbers, like 10000,100000") from None
    if not sizes or min(sizes) < 10:
        raise argparse.ArgumentTypeError("expected sizes of at least 10 articles")
    return sizes


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected a whole number of at least 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("expected a whole number, 0 or more")
    return value


if __name__ == "__main__":
    sys.exit(main())
