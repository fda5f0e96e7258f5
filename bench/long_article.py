"""Benchmark: a long article's summary costs a bounded multiple of a short one's, and making it
for one person does not hold up anyone else (issue 16, part 4).

1. Summary time per method for articles of 1,000, 5,000 and 20,000 words (recombined from the
   BBC News texts with a seeded RNG: a story's first paragraph, then paragraphs of others),
   `--runs` (3) runs each: CPU (time.process_time) and wall time, min/median/max, and the
   ratio of the 20k median CPU time to the 1k one. PASS when every ratio is <= 5.
2. Other people's `/latest` through the whole Application (`bot.chat.app.build_application`
   with `bot.chat.local.LocalBotApi`, as bench/chat_latency.py) while one person opens
   `--long` (5) uncached 20,000-word articles one after the other with `/read N` (method
   `--method`, news): each `/latest` timed around `await app.process_update(update)`, back to
   back, for as long as the summaries take. Three ways: as the bot does it now (the window, a
   worker process), the window in a thread of the bot's process, and as it was (the first 600
   sentences, in a thread). PASS when the first one's p95 is <= 5 ms.

Usage: python bench/long_article.py [--methods lede,news,...] [--runs 3] [--data PATH]
The data is not part of the repository; without it the script exits with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import random
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chat_latency import Corpus, _load, fill, local_bot  # bench/chat_latency.py, beside this script
from machine import cpu_busy, describe

if TYPE_CHECKING:
    from bot.articles import Article
    from bot.config import Settings, SummaryOptions

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # this checkout's bot/, whatever is installed
DEFAULT_DATA = Path("../shared/data/bbc-news-articles.jsonl")
METHODS = "lede,news,lead,lexrank,reduction,textrank,lsa,luhn,sumbasic,edmundson,kl"
WORDS = (1000, 5000, 20000)
RATIO_GOAL = 5.0
LATEST_GOAL_MS = 5.0
OLD_CAP = 600


def long_article(corpus: Corpus, words: int, seed: int, number: int = 0) -> Article:
    from bot.articles import Article, Block

    rng = random.Random(f"{seed}-{number}")
    source = rng.choice(corpus.sources)
    picks = [source.paragraphs[0]]
    count = len(corpus.paragraphs[picks[0]].split())
    while count < words:
        picks.append(rng.randrange(len(corpus.paragraphs)))
        count += len(corpus.paragraphs[picks[-1]].split())
    return Article(
        title=source.title,
        blocks=tuple(Block(corpus.paragraphs[i]) for i in picks),
        source=f"long/{number}-{words}.txt",
        # Older than the library's articles: /latest lists those, as it would.
        published=datetime(2019, 1, 1, tzinfo=UTC),
        dated=True,
    )


def time_methods(corpus: Corpus, methods: Sequence[str], runs: int, seed: int) -> bool:
    from bot import summarize
    from bot.config import SummaryOptions

    summarize.tools("english")
    articles = {words: long_article(corpus, words, seed) for words in WORDS}
    print("\n## Summary time (ms; min / median / max of", runs, "runs)\n")
    head = " | ".join(f"{w // 1000}k CPU | {w // 1000}k wall" for w in WORDS)
    print(f"| method | {head} | 20k/1k (CPU median) |")
    print("|---|" + "---:|" * (2 * len(WORDS) + 1))
    ok = True
    for method in methods:
        options = SummaryOptions(algorithm=method)
        cells, medians = [], {}
        for words, article in articles.items():
            cpu, wall = [], []
            for _ in range(runs):
                c, w = time.process_time(), time.perf_counter()
                summarize.summarize(article, options)
                cpu.append((time.process_time() - c) * 1000)
                wall.append((time.perf_counter() - w) * 1000)
            medians[words] = statistics.median(cpu)
            cells += [_spread(cpu), _spread(wall)]
        ratio = medians[WORDS[-1]] / max(medians[WORDS[0]], 1e-3)
        ok &= ratio <= RATIO_GOAL
        print(f"| {method} | {' | '.join(cells)} | {ratio:.1f} |", flush=True)
    return ok


def _spread(values: list[float]) -> str:
    return f"{min(values):.0f} / {statistics.median(values):.0f} / {max(values):.0f}"


class ThreadSummaries:
    """The bot's summaries as they were made before the process pool: in a worker thread."""

    def start(self, language: str) -> None:
        pass

    async def summarize(self, article: Article, options: SummaryOptions) -> tuple[list[str], bool]:
        from bot import summarize

        return await asyncio.to_thread(summarize.safe_summarize_job, (article, options)), True

    def close(self) -> None:
        pass


async def chat_while_summarizing(
    settings: Settings, ids: Sequence[int], way: str
) -> tuple[list[float], list[float], list[float], float]:
    """/latest latencies (ms) with nobody reading, while `ids` are read again and again from
    the cache, and while they are read one after the other uncached; the last reads' seconds."""
    from bot.chat.local import LocalUser

    async with local_bot(settings) as (app, api, news):
        if way != "process":
            news.summaries.close()
            news.summaries = ThreadSummaries()  # type: ignore[assignment]
        reader = LocalUser(app.bot, user_id=7, chat_id=7)
        other = LocalUser(app.bot, user_id=8, chat_id=8)
        for _ in range(50):  # warm-up
            await app.process_update(other.message("/latest"))
        # One-time costs before anything is timed: the reader's first card (its translations),
        # the workers started (sumy and nltk imported).
        ordinary = news.latest(limit=1).entries[0].id
        await app.process_update(reader.message(f"/read {ordinary}"))
        first = news.get(ids[0])
        assert first is not None
        await news.summaries.summarize(first.article, news.settings.summary)
        quiet = await _latest_for(app, other, 200)

        async def read_all() -> float:
            began = time.perf_counter()
            for article_id in ids:
                await app.process_update(reader.message(f"/read {article_id}"))
                await asyncio.sleep(0)  # as between two updates from Telegram
            return time.perf_counter() - began

        async def during(reads: Any) -> tuple[list[float], float]:
            task = asyncio.create_task(reads())
            timings: list[float] = []
            while not task.done():
                started = time.perf_counter()
                await app.process_update(other.message("/latest"))
                timings.append((time.perf_counter() - started) * 1000)
                api.calls.clear()
                # An answer can be made without the loop ever waiting (the local Bot API answers
                # at once); a real bot waits for the next update from Telegram, and reads go on.
                await asyncio.sleep(0)
            return timings, await task

        timings, seconds = await during(read_all)

        async def read_cached() -> float:  # the same cards again, 10 times: no summarizing
            began = time.perf_counter()
            for _ in range(10):
                await read_all()
            return time.perf_counter() - began

        cached, _ = await during(read_cached)
        return quiet, cached, timings, seconds


async def _latest_for(app: Any, user: Any, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        await app.process_update(user.message("/latest"))
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_chat(corpus: Corpus, args: argparse.Namespace) -> bool:
    from bot.config import load_settings
    from bot.store import Changes, open_store

    print(
        f"\n## Other people's /latest while one person reads {args.long} uncached"
        f" 20,000-word articles ({args.method})\n"
    )
    print("| how summaries are made | /latest updates | p50 ms | p95 ms | max ms | reads s |")
    print("|---|---:|---:|---:|---:|---:|")
    ok = True
    ways = (("process", None), ("thread", None), ("thread", OLD_CAP))
    for way, cap in ways:
        with tempfile.TemporaryDirectory(prefix="newsbot-long-bench-") as tmp:
            articles_dir = Path(tmp) / "articles"
            articles_dir.mkdir()
            base = load_settings()
            summary = dataclasses.replace(base.summary, algorithm=args.method)
            if cap is not None:
                summary = dataclasses.replace(summary, max_sentences=cap)
            settings = dataclasses.replace(
                base,
                articles_dir=articles_dir,
                database=Path(tmp) / "news.sqlite3",
                summary=summary,
            )
            fill(settings, corpus, args.articles, seed=args.seed)
            longs = [long_article(corpus, 20000, args.seed, n + 1) for n in range(args.long)]
            with open_store(settings.database) as store:
                ids = store.apply(
                    Changes(
                        files=[],
                        removed_files=[],
                        added=longs,
                        updated=[],
                        removed_ids=[],
                        report={},
                    )
                ).added_ids
            quiet, cached, timings, seconds = asyncio.run(
                chat_while_summarizing(settings, ids, way)
            )
        if (way, cap) == ways[0]:
            for label, values in (("nobody reading", quiet), ("cached cards read", cached)):
                print(
                    f"| {label} | {len(values)} | {_percentile(values, 50):.2f}"
                    f" | {_percentile(values, 95):.2f} | {max(values):.1f} | |"
                )
        p50, p95 = _percentile(timings, 50), _percentile(timings, 95)
        label = f"{'window' if cap is None else f'first {cap} sentences'}, {way}"
        if (way, cap) == ways[0]:
            ok = p95 <= LATEST_GOAL_MS
            label += " (now)"
        print(
            f"| {label} | {len(timings)} | {p50:.2f} | {p95:.2f} | {max(timings):.1f}"
            f" | {seconds:.2f} |",
            flush=True,
        )
    return ok


def _percentile(values: Sequence[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    data = args.data if args.data.is_absolute() else (REPO_ROOT / args.data).resolve()
    if not data.is_file():
        print(
            f"long_article: data file {data} not found (the BBC News texts as JSON Lines:"
            f" id, category, title, text); put it at {(REPO_ROOT / DEFAULT_DATA).resolve()}"
            " or pass --data PATH.",
            file=sys.stderr,
        )
        return 2
    corpus = _load(data)
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"machine: {describe()}")
    print(f"CPU busy just before the run: {cpu_busy()} (anything else running skews this)")
    methods = [m for m in args.methods.split(",") if m]
    times_ok = time_methods(corpus, methods, args.runs, args.seed)
    chat_ok = measure_chat(corpus, args)
    print()
    print(f"{'PASS' if times_ok else 'FAIL'}: 20k/1k summary time <= {RATIO_GOAL:g}x, every method")
    print(
        f"{'PASS' if chat_ok else 'FAIL'}: other people's /latest p95 <= {LATEST_GOAL_MS:g} ms"
        " while a 20k-word article is summarized"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default=METHODS, help="comma-separated (default: all)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--method", default="news", help="the method for the chat part")
    parser.add_argument("--long", type=int, default=5, help="20k-word articles read in chat")
    parser.add_argument("--articles", type=int, default=2000, help="ordinary articles")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    return parser


if __name__ == "__main__":
    sys.exit(main())
