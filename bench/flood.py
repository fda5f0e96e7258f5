"""Benchmark: a flood and a pathological search do not hold up anyone else (issue 11).

The real Application (`bot.chat.app.build_application`, started as `run` starts it) with the
in-process Bot API (`bot.chat.local.LocalBotApi`: no network, every call answered and recorded).
Updates go into `application.update_queue`, where the Updater puts what it fetches from
Telegram, so they take the bot's whole path: update processor (concurrency, order, flood
control), handlers, the Bot API.

The library: `--articles` ordinary articles (the BBC News texts, recombined with a seeded RNG
past the 1,788 there are; without the data file, seeded synthetic text) and one of `--big-mb`
(5) MB, its paragraphs from the same texts with "harbour" in every sentence. Written directly
through `Store.apply` (the index run at start-up then finds nothing to do).

At the same time, for `--seconds` (5):
- the flooder sends `--flood` (1,000) plain-text searches in the first `--flood-seconds` (1);
- the searcher sends "/search harbour harbour ..." (the word 32 times) at 0.1 s, 1 s and 2 s;
- `--bystanders` (10) other people each send /help every 0.5 s.
Latency is from putting an update in the queue to its answer reaching the Bot API. Then all
updates are waited for (at most `--timeout` seconds). PASS when the bystanders' /help p95 is
under 1 s.

Usage: python bench/flood.py [--articles 3000] [--big-mb 5] [--flood 1000] [--bystanders 10]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import random
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from machine import cpu_busy, describe  # bench/machine.py, beside this script

if TYPE_CHECKING:
    from bot.articles import Article
    from bot.chat.local import Call
    from bot.config import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path("../shared/data/bbc-news-articles.jsonl")
WORD = "harbour"
PATHOLOGICAL = "/search " + " ".join([WORD] * 32)
SEARCH_AT = (0.1, 1.0, 2.0)
HELP_EVERY = 0.5
GOAL_SECONDS = 1.0
FLOODER, SEARCHER, FIRST_BYSTANDER = 100, 200, 300


@dataclasses.dataclass
class Sent:
    who: str
    chat_id: int
    text: str
    at: float  # perf_counter when it went into the queue


@dataclasses.dataclass
class Outcome:
    sent: list[Sent]
    replies: dict[int, list[tuple[float, str]]]  # chat -> (perf_counter, text) of each answer
    wall: float  # from the first update in to the last one handled
    cpu: float  # this process's CPU seconds meanwhile
    finished: bool


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    data = args.data if args.data.is_absolute() else (REPO_ROOT / args.data).resolve()
    from bot.config import load_settings

    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"machine: {describe()}")
    print(f"CPU busy just before the run: {cpu_busy()} (anything else running skews this)")
    corpus = _corpus(data)
    with tempfile.TemporaryDirectory(prefix="newsbot-flood-bench-") as tmp:
        articles_dir = Path(tmp) / "articles"
        articles_dir.mkdir()
        settings = dataclasses.replace(
            load_settings(), articles_dir=articles_dir, database=Path(tmp) / "news.sqlite3"
        )
        tg = settings.telegram
        print(
            f"library: {args.articles:,} articles from {corpus[0]} and one of {args.big_mb:g} MB;"
            f" flood limit {getattr(tg, 'flood_messages', '-')} per"
            f" {getattr(tg, 'flood_seconds', '-')} s",
            flush=True,
        )
        began = time.perf_counter()
        _fill(settings, corpus[1], args)
        print(f"filled in {time.perf_counter() - began:.1f} s; running ...", flush=True)
        outcome = asyncio.run(_measure(settings, args))
    print()
    return _report(outcome, args)


# -- the library ------------------------------------------------------------------------------


def _corpus(path: Path) -> tuple[str, list[tuple[str, list[str]]]]:
    """(where from, [(title, paragraphs)]): the BBC texts, else seeded synthetic ones."""
    if path.is_file():
        stories = []
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    record = json.loads(line)
                    paragraphs = [" ".join(p.split()) for p in record["text"].split("\n\n")]
                    stories.append((str(record["title"]), [p for p in paragraphs if p]))
        return f"{path} ({len(stories):,} texts)", stories
    rng = random.Random(7)
    words = ["council", "vote", "budget", "rain", "storm", "ferry", "port", "market", "team"]
    stories = [
        (
            " ".join(rng.choice(words) for _ in range(6)).capitalize(),
            [
                " ".join(rng.choice(words) for _ in range(60)).capitalize() + "."
                for _ in range(rng.randrange(4, 12))
            ],
        )
        for _ in range(500)
    ]
    return f"synthetic text ({path} not found)", stories


def _fill(settings: Settings, stories: list[tuple[str, list[str]]], args: Any) -> None:
    from bot.articles import Article, Block
    from bot.store import Changes, Store

    rng = random.Random(1)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    articles: list[Article] = []
    for number in range(args.articles):
        title, paragraphs = stories[number % len(stories)]
        if number >= len(stories):  # a recombination: the lead, then others' paragraphs
            others = rng.choice(stories)[1]
            paragraphs = [paragraphs[0], *rng.sample(others, len(others))]
        articles.append(
            Article(
                title=title,
                blocks=tuple(Block(p) for p in paragraphs),
                source=f"bench/{number}.txt",
                published=start + timedelta(minutes=10 * number),
                dated=True,
            )
        )
    # The big one, newest: every sentence of it says the word searched for.
    target = int(args.big_mb * 1_000_000)
    blocks: list[Block] = []
    size = 0
    while size < target:
        paragraph = rng.choice(stories)[1][0].replace(". ", f" near the {WORD}. ")
        paragraph += f" The {WORD} again."
        blocks.append(Block(paragraph))
        size += len(paragraph) + 2
    big = Article(
        title=f"Everything about the {WORD}",
        blocks=tuple(blocks),
        source="bench/big.txt",
        published=start + timedelta(minutes=10 * args.articles + 5),
        dated=True,
    )
    with Store(settings.database) as store:
        for first in range(0, len(articles), 2000):
            batch = articles[first : first + 2000]
            store.apply(Changes([], [], batch, [], [], {}))
        store.apply(Changes([], [], [big], [], [], {}))


# -- measuring ----------------------------------------------------------------------------------


async def _measure(settings: Settings, args: Any) -> Outcome:
    from bot.chat.app import build_application, close_news, open_news
    from bot.chat.jobs import start_up_indexed
    from bot.chat.local import LOCAL_TOKEN, LocalBotApi, LocalUser

    replies: dict[int, list[tuple[float, str]]] = {}

    def record(call: Call) -> None:
        if call.method in ("sendMessage", "editMessageText"):
            chat_id = int(call.params["chat_id"])
            replies.setdefault(chat_id, []).append((time.perf_counter(), str(call.params["text"])))

    api = LocalBotApi(username="newsbot", on_call=record)
    app = build_application(settings, token=LOCAL_TOKEN, request=api, rate_limit=False)
    await app.initialize()
    await open_news(app)
    await start_up_indexed(app)
    await app.start()
    sent: list[Sent] = []

    def user(chat_id: int) -> LocalUser:
        return LocalUser(app.bot, user_id=chat_id, chat_id=chat_id)

    async def at(offset: float, who: str, person: LocalUser, text: str, t0: float) -> None:
        delay = t0 + offset - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        update = person.message(text)
        sent.append(Sent(who, person.chat_id, text, time.perf_counter()))
        await app.update_queue.put(update)

    async def flooder(t0: float) -> None:
        person = user(FLOODER)
        step = args.flood_seconds / args.flood
        for i in range(args.flood):
            await at(i * step, "flooder", person, f"{WORD} news {i}", t0)

    async def searcher(t0: float) -> None:
        person = user(SEARCHER)
        for offset in SEARCH_AT:
            await at(offset, "searcher", person, PATHOLOGICAL, t0)

    async def bystander(number: int, t0: float) -> None:
        person = user(FIRST_BYSTANDER + number)
        offset = number * HELP_EVERY / args.bystanders  # spread over the half second
        while offset < args.seconds:
            await at(offset, "bystander", person, "/help", t0)
            offset += HELP_EVERY

    cpu0 = time.process_time()
    t0 = time.perf_counter() + 0.05
    producers = [flooder(t0), searcher(t0), *(bystander(n, t0) for n in range(args.bystanders))]
    await asyncio.gather(*producers)
    finished = True
    try:
        await asyncio.wait_for(app.update_queue.join(), timeout=args.timeout)
    except TimeoutError:
        finished = False
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    if not finished:  # what is still waiting is dropped, so that the bot can stop
        print(f"dropping {app.update_queue.qsize():,} updates still waiting ...", flush=True)
        while not app.update_queue.empty():
            app.update_queue.get_nowait()
            app.update_queue.task_done()
    try:
        await app.stop()
    finally:
        await close_news(app)
        await app.shutdown()
    return Outcome(sent, replies, wall, cpu, finished)


# -- reporting ----------------------------------------------------------------------------------


def _report(outcome: Outcome, args: Any) -> int:
    from bot.chat import texts

    # getattr: the script also runs against the code from before issue 11, for comparison.
    flood_notice = getattr(texts, "FLOOD", None)
    too_slow = getattr(texts, "SEARCH_TOO_SLOW", None)
    rows = []
    by_chat: dict[int, list[Sent]] = {}
    for item in outcome.sent:
        by_chat.setdefault(item.chat_id, []).append(item)
    latencies: dict[str, list[float]] = {"flooder": [], "searcher": [], "bystander": []}
    notes: dict[str, str] = {}
    for chat_id, items in by_chat.items():
        answers = outcome.replies.get(chat_id, [])
        who = items[0].who
        if who == "flooder":
            notices = sum(1 for _, text in answers if text == flood_notice)
            notes[who] = f"{len(answers) - notices} answered, {notices} flood notice"
            # The first answers are for the first messages (one person's are kept in order).
            latencies[who] += [t - s.at for s, (t, _) in zip(items, answers, strict=False)]
        else:
            latencies[who] += [t - s.at for s, (t, _) in zip(items, answers, strict=False)]
            if who == "searcher":
                kinds = sorted({"too slow" if a == too_slow else "hits" for _, a in answers})
                notes[who] = f"answers: {', '.join(kinds) or 'none'}"
    for who, label in (
        ("bystander", f"bystanders: /help every {HELP_EVERY:g} s ({args.bystanders} people)"),
        ("searcher", "searcher: the word 32 times"),
        ("flooder", f"flooder: {args.flood:,} texts in {args.flood_seconds:g} s"),
    ):
        count = sum(1 for s in outcome.sent if s.who == who)
        values = sorted(latencies[who])
        if values:
            p50 = statistics.median(values)
            p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
            figures = " | ".join(_ms(v) for v in (p50, p95, values[-1]))
        else:
            figures = "- | - | -"
        rows.append(f"| {label} | {count:,} | {len(values):,} | {figures} | {notes.get(who, '')} |")
    print("| who | sent | answered | p50 ms | p95 ms | max ms | |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    load = os.getloadavg()
    print()
    print(
        f"all updates handled in {outcome.wall:.1f} s"
        + ("" if outcome.finished else f" (NOT all: stopped waiting after {args.timeout:g} s)")
        + f"; bot process CPU {outcome.cpu:.1f} s ({100 * outcome.cpu / outcome.wall:.0f}% of"
        f" one core); load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        f" on {os.cpu_count()} CPUs"
    )
    help_times = sorted(latencies["bystander"])
    expected = sum(1 for s in outcome.sent if s.who == "bystander")
    if not help_times or len(help_times) < expected:
        print(f"FAIL: {expected - len(help_times)} bystander /help not answered")
        return 1
    p95 = help_times[min(len(help_times) - 1, int(0.95 * len(help_times)))]
    verdict = "PASS" if p95 < GOAL_SECONDS else "FAIL"
    print(f"{verdict}: bystanders' /help p95 < {GOAL_SECONDS:g} s: {_ms(p95)} ms")
    return 0 if verdict == "PASS" else 1


def _ms(seconds: float) -> str:
    milliseconds = seconds * 1000
    return f"{milliseconds:.1f}" if milliseconds < 100 else f"{milliseconds:,.0f}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="A flood and a pathological search against the whole Application: are"
        " other people still answered?"
    )
    parser.add_argument("--articles", type=int, default=3000, help="ordinary articles (3000)")
    parser.add_argument("--big-mb", type=float, default=5.0, help="the big article's MB (5)")
    parser.add_argument("--flood", type=int, default=1000, help="the flooder's messages (1000)")
    parser.add_argument(
        "--flood-seconds", type=float, default=1.0, help="sent within this many seconds (1)"
    )
    parser.add_argument("--bystanders", type=int, default=10, help="people sending /help (10)")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long they send (5)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="wait at most this long for answers (300)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"BBC News JSON Lines (title, text), relative to the repository ({DEFAULT_DATA})",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
