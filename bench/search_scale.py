"""Benchmark: /search latency by kind of query at up to 1,000,000 articles (synthetic fill).

The library is made up, not real text, so that a million articles fill in minutes: a database
created by the project's own Store (its real schema and migrations), then rows written straight
into `articles` and `articles_fts` in transactions of APPLY_BATCH (500) articles, as Store.apply
writes them, so FTS5 ends with the segments a bot's index runs would leave (its automerge runs
as it would; nothing is optimized afterwards). Each article is its own story (story_id = id), so
story matching, which /search does not read, is left out. Dates run over three years in id
order, as a bot's ids follow its indexing.

The text: a lead sentence with "the" and "said" in every English article; words with a set share
of the articles (10 %, 1 %, 0.01 %: MARKERS); a phrase in 5 % ("prime minister"); two names per
article from 5,000, drawn Zipf-like; and the rest of a 300-600-word body from a Zipf-like
vocabulary of 20,000 made-up words. One article in five is German or French, with its own
common words ("der", "le") and markers, for the search narrowed by /lang.

Measuring goes the way a person meets /search: the real Application (bot.chat.app) with the
in-process Bot API (bot.chat.local), each update timed around `app.process_update` (the search
runs in its worker thread, the reply is rendered with snippets, the page's rows read), as
bench/chat_latency.py does. Query kinds are interleaved in a seeded random order; three runs,
each after the machine's load is read. CPU time (the whole process, every thread) is taken
beside wall time.

The "matches" column is the total a search shows: at most search.RANK_WINDOW (the newest
matches are ranked, and counted), with how many of the newest articles were searched when not
all were (a phrase of common words: search.PHRASE_CANDIDATES). FTS5 costs that grow with the
library whatever the ranking does show here: a word beginning (word*) merges the lists of every
word it may stand for, in every statement that has it, unless said as those words (at most
search.PREFIX_WORDS); a phrase reads the positions of every article with all of its words,
however seldom they follow each other (hence search.PHRASE_CANDIDATES).

Usage: python bench/search_scale.py [--articles 1000000] [--dir /work/tmp-search]
       [--updates 40] [--runs 3] [--reuse PATH] [--keep]
A fill of 1,000,000 takes about 20 minutes and 10.6 GB (--keep leaves it at
DIR/news-1000000.sqlite3 for --reuse); 100,000 take 1.5 minutes and 1.1 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import hashlib
import json
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

from chat_latency import _check_reply, local_bot  # bench/chat_latency.py, beside this script
from machine import cpu_busy, describe

FILL_BATCH = 500  # Store.apply's APPLY_BATCH: the transaction size a real index run uses
YEARS = 3
START = datetime(2022, 1, 1, tzinfo=UTC).timestamp()

# Words with a set share of the articles they appear in (per language).
MARKERS = {
    "en": {
        "government": 0.10,
        "police": 0.10,
        "minister": 0.10,
        "election": 0.01,
        "hospital": 0.01,
        "football": 0.01,
        "tsunami": 0.0001,
        "volcano": 0.0001,
        "referendum": 0.0001,
    },
    "de": {"regierung": 0.10, "polizei": 0.10, "wahl": 0.01, "vulkan": 0.0001},
    "fr": {"gouvernement": 0.10, "police": 0.10, "élection": 0.01, "volcan": 0.0001},
}
PHRASE_SHARE = 0.05  # "prime minister" in English articles
# Each language's leading words: in nearly every article of that language.
COMMON = {
    "en": ("the", "said", "of", "and", "to", "in", "a", "is", "was", "for", "on", "that"),
    "de": ("der", "die", "und", "sagte", "in", "den", "von", "zu", "das", "mit", "sich", "des"),
    "fr": ("le", "la", "de", "et", "a", "dit", "les", "des", "en", "un", "une", "du"),
}
LANGUAGES = (("en", 0.8), ("de", 0.12), ("fr", 0.08))
VOCABULARY = 20_000
NAMES = 5_000

# The query kinds, each with the texts drawn from evenly; "/lang xx" narrows that kind's chat.
KINDS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "very common word": (None, ("the", "said")),
    "common word (10 %)": (None, ("government", "police", "minister")),
    "medium word (1 %)": (None, ("election", "hospital", "football")),
    "rare word (0.01 %)": (None, ("tsunami", "volcano", "referendum")),
    "two words (AND)": (
        None,
        ("government police", "the minister", "election football", "the tsunami"),
    ),
    "phrase": (None, ('"prime minister"', '"said the"')),
    # Made-up text puts words in random order: these two common words seldom follow each
    # other (0.2 % of articles), and FTS5 reads the positions of every article with both.
    "phrase, words seldom together": (None, ('"the government"',)),
    "prefix (word*)": (None, ("gov*", "elect*", "hosp*")),
    "OR": (None, ("tsunami OR volcano", "government OR police", "election OR hospital")),
    "-word": (None, ("government -police", "the -minister", "election -football")),
    "title:": (None, ("title:government", "title:the", "title:election")),
    "/lang de": ("de", ("der", "regierung", "wahl", "und")),
}


@dataclasses.dataclass(frozen=True)
class Fill:
    path: Path
    articles: int
    seconds: float  # 0 when reused
    megabytes: float


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"machine: {describe()}")
    args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="search-scale-", dir=args.dir) as tmp:
        if args.reuse:
            fill = _existing(args.reuse)
            print(f"reusing {fill.path}: {fill.articles:,} articles, {fill.megabytes:,.0f} MB")
        else:
            path = (
                Path(tmp) / "news.sqlite3"
                if not args.keep
                else args.dir / f"news-{args.articles}.sqlite3"
            )
            print(f"CPU busy before the fill: {cpu_busy()}")
            print(f"filling {args.articles:,} articles into {path} ...", flush=True)
            fill = fill_library(path, args.articles, seed=args.seed)
            print(
                f"filled {fill.articles:,} articles in {fill.seconds:.0f} s,"
                f" database {fill.megabytes:,.0f} MB"
            )
        print(f"FTS5 segments: {_segments(fill.path)}")
        runs = []
        for run in range(args.runs):
            load = cpu_busy()
            print(f"\nrun {run + 1}: CPU busy before it {load}", flush=True)
            timings = asyncio.run(measure(fill, Path(tmp), args, run))
            runs.append((load, timings))
            print(_run_table(timings))
        print()
        print(_summary(fill, runs, args))
    return 0


# -- the library --------------------------------------------------------------------------------


def fill_library(path: Path, size: int, *, seed: int) -> Fill:
    """`size` made-up articles in a new database at `path`, written as Store.apply writes."""
    from bot.store import Store

    began = time.perf_counter()
    rng = random.Random(f"{seed}-fill")
    texts = _Texts(rng)
    store = Store(path)
    try:
        for first in range(1, size + 1, FILL_BATCH):
            rows = [
                texts.article(number, size)
                for number in range(first, min(size + 1, first + FILL_BATCH))
            ]
            with store.transaction() as conn:
                conn.executemany(_INSERT_ARTICLE, [r[0] for r in rows])
                conn.executemany(
                    "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
                    [r[1] for r in rows],
                )
            if first // FILL_BATCH % 200 == 0:
                done = first + len(rows) - 1
                print(f"  {done:,} articles, {time.perf_counter() - began:.0f} s", flush=True)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return Fill(path, size, time.perf_counter() - began, path.stat().st_size / 1e6)


_COLUMNS = (
    "id, key, source, title, blocks, published, dated, url, tags, language, external_id,"
    " ordinal, content_hash, fingerprint, added_at, updated_at, story_id, url_key, author, image"
)
_INSERT_ARTICLE = f"INSERT INTO articles ({_COLUMNS}) VALUES ({', '.join('?' * 20)})"


class _Texts:
    """Made-up words, names and articles (see the module's docstring)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        syllables = [
            c + v for c in "bcdfghklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")
        ]
        words: set[str] = set()
        while len(words) < VOCABULARY:
            words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
        self.words = sorted(words)
        rng.shuffle(self.words)
        # Zipf-like: the k-th word weighs 1/k.
        self.word_weights = list(_cumulative([1 / (k + 1) for k in range(VOCABULARY)]))
        firsts = sorted({w.capitalize() for w in self.words[5000:7000]})
        lasts = sorted({w.capitalize() + "son" for w in self.words[7000:9000]})
        self.names = [f"{rng.choice(firsts)} {rng.choice(lasts)}" for _ in range(NAMES)]
        self.name_weights = list(_cumulative([1 / (k + 1) for k in range(NAMES)]))

    def article(self, number: int, size: int) -> tuple[tuple[object, ...], tuple[object, ...]]:
        """The `articles` row and the `articles_fts` row of article `number`."""
        rng = self.rng
        language = rng.choices([c for c, _ in LANGUAGES], [s for _, s in LANGUAGES])[0]
        common = COMMON[language]
        names = rng.choices(self.names, cum_weights=self.name_weights, k=2)
        markers = [w for w, share in MARKERS[language].items() if rng.random() < share]
        if language == "en" and rng.random() < PHRASE_SHARE:
            markers.append("prime minister")
        chosen = list(markers)
        sentences = [f"{names[0].capitalize()} {common[1]} {common[0]} {self._words(6)}."]
        length = rng.randint(300, 600)
        count = 0
        while count < length:
            words = self._words(rng.randint(6, 18)).split()
            for _ in range(len(words) // 3):
                words.insert(rng.randrange(len(words) + 1), rng.choice(common))
            if markers and rng.random() < 0.2:
                words.insert(rng.randrange(len(words) + 1), markers.pop())
            if rng.random() < 0.1:
                words.insert(rng.randrange(len(words) + 1), names[1])
            count += len(words)
            sentences.append(" ".join(words).capitalize() + ".")
        sentences += [m.capitalize() + "." for m in markers]  # those not placed yet
        paragraphs = [" ".join(sentences[i : i + 5]) for i in range(0, len(sentences), 5)]
        title_words = self._words(rng.randint(4, 9)).split()
        if rng.random() < 0.3:
            title_words.insert(0, common[0])
        if chosen and rng.random() < 0.5:  # a marker in the title is one of the body's
            title_words.append(rng.choice(chosen))
        title = " ".join(title_words).capitalize()
        body = "\n\n".join(paragraphs)
        blocks = json.dumps([[p, False] for p in paragraphs], ensure_ascii=False)
        published = START + (number / size) * YEARS * 365 * 86400
        digest = hashlib.sha256(f"{number}".encode()).hexdigest()
        source = f"bench/{number}.txt"
        url = f"https://news.example/{number}"
        row = (
            number,
            f"{source}#0",
            source,
            title,
            blocks,
            published,
            1,
            url,
            "[]",
            language,
            None,
            0,
            digest,
            digest,
            published,
            published,
            number,
            f"news.example/{number}",
            None,
            None,
        )
        return row, (number, title, body)

    def _words(self, count: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.word_weights, k=count))


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _existing(path: Path) -> Fill:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        count = int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    finally:
        conn.close()
    return Fill(path, count, 0.0, path.stat().st_size / 1e6)


def _segments(path: Path) -> str:
    """How many FTS5 segments the index has (each has its rows in the %_idx table): a search
    reads every segment, so the count is part of what a figure means."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        segments = conn.execute("SELECT count(DISTINCT segid) FROM articles_fts_idx").fetchone()[0]
    finally:
        conn.close()
    return f"{segments}"


# -- measuring ----------------------------------------------------------------------------------


async def measure(
    fill: Fill, tmp: Path, args: argparse.Namespace, run: int
) -> dict[str, list[tuple[float, float]]]:
    """Per kind: (wall ms, CPU ms) of each /search update, through the whole Application."""
    from bot.chat.local import LocalUser
    from bot.config import load_settings

    articles_dir = tmp / "articles"
    articles_dir.mkdir(exist_ok=True)
    settings = dataclasses.replace(load_settings(), articles_dir=articles_dir, database=fill.path)
    timings: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
    async with local_bot(settings) as (app, api, _):
        users = {}
        for number, (kind, (language, _)) in enumerate(KINDS.items()):
            user = LocalUser(app.bot, user_id=100 + number, chat_id=100 + number)
            await app.process_update(user.message(f"/lang {language or 'off'}"))
            users[kind] = user
        rng = random.Random(f"{args.seed}-queries-{run}")
        order = [kind for kind in KINDS for _ in range(args.updates + args.warmup)]
        rng.shuffle(order)
        seen = dict.fromkeys(KINDS, 0)
        api.calls.clear()
        gc.collect()
        for kind in order:
            text = rng.choice(KINDS[kind][1])
            update = users[kind].message(f"/search {text}")
            wall, cpu = time.perf_counter(), time.process_time()
            await app.process_update(update)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            _check_reply(kind, update, api.calls, "")
            api.calls.clear()
            seen[kind] += 1
            if seen[kind] > args.warmup:
                timings[kind].append((wall * 1000, cpu * 1000))
    return timings


# -- reporting ----------------------------------------------------------------------------------


def _percentile(values: Sequence[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def _stats(pairs: Sequence[tuple[float, float]]) -> tuple[float, float, float, float, float]:
    """p50, p95, max of wall time; p50, p95 of CPU time (ms)."""
    wall = [w for w, _ in pairs]
    cpu = [c for _, c in pairs]
    return (
        _percentile(wall, 50),
        _percentile(wall, 95),
        max(wall),
        _percentile(cpu, 50),
        _percentile(cpu, 95),
    )


def _run_table(timings: dict[str, list[tuple[float, float]]]) -> str:
    lines = [
        "| query kind | p50 ms | p95 ms | max ms | CPU p50 ms | CPU p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    everything = [t for pairs in timings.values() for t in pairs]
    for kind, pairs in [*timings.items(), ("all", everything)]:
        p50, p95, top, c50, c95 = _stats(pairs)
        lines.append(f"| {kind} | {p50:.2f} | {p95:.2f} | {top:.2f} | {c50:.2f} | {c95:.2f} |")
    return "\n".join(lines)


def _summary(
    fill: Fill,
    runs: list[tuple[str, dict[str, list[tuple[float, float]]]]],
    args: argparse.Namespace,
) -> str:
    loads = ", ".join(load for load, _ in runs)
    filled = f"filled in {fill.seconds:.0f} s" if fill.seconds else "fill reused"
    lines = [
        f"### /search at {fill.articles:,} articles ({fill.megabytes:,.0f} MB, {filled})",
        "",
        f"{len(runs)} runs of {args.updates} searches per kind (after {args.warmup} warm-up),"
        f" CPU busy before each run: {loads}. Each cell: median of the runs [min–max].",
        "",
        "| query kind | matches | p50 ms | p95 ms | max ms | CPU p50 ms | CPU p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    counts = _match_counts(fill.path)
    for kind in [*KINDS, "all"]:
        per_run = []
        for _, timings in runs:
            pairs = [t for p in timings.values() for t in p] if kind == "all" else timings[kind]
            per_run.append(_stats(pairs))
        cells = []
        for column in range(5):
            values = sorted(r[column] for r in per_run)
            cells.append(f"{statistics.median(values):.2f} [{values[0]:.2f}–{values[-1]:.2f}]")
        lines.append(f"| {kind} | {counts.get(kind, '')} | {' | '.join(cells)} |")
    worst = max(statistics.median(sorted(_stats(t[kind])[1] for _, t in runs)) for kind in KINDS)
    verdict = "PASS" if worst <= args.goal else "FAIL"
    lines += [
        "",
        f"{verdict}: worst kind's p95 (median of runs) {worst:.2f} ms <= {args.goal:g} ms",
    ]
    return "\n".join(lines)


def _match_counts(path: Path) -> dict[str, str]:
    """How many articles each kind's texts match (the store's total), e.g. "1,000 / 10"; "in
    the newest 98,000" where only those were searched (a phrase of common words)."""
    from bot.store import Store

    def shown(total: int, searched: int | None) -> str:
        return f"{total:,}" + ("" if searched is None else f" in the newest {searched:,}")

    store = Store(path)
    try:
        out = {}
        for kind, (language, texts) in KINDS.items():
            results = [store.search(t, language=language) for t in texts]
            out[kind] = " / ".join(shown(r.total, r.searched) for r in results)
        return out
    finally:
        store.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="/search latency by kind of query on a synthetic library (default 1M)."
    )
    parser.add_argument("--articles", type=int, default=1_000_000, help="(default 1000000)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(tempfile.gettempdir()),
        help="where the database is made (a 1M fill takes about 8 GB)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (DIR/news-N.sqlite3)"
    )
    parser.add_argument("--reuse", type=Path, metavar="PATH", help="measure an existing fill")
    parser.add_argument("--updates", type=int, default=40, help="timed searches per kind and run")
    parser.add_argument("--warmup", type=int, default=3, help="untimed searches per kind first")
    parser.add_argument("--runs", type=int, default=3, help="(default 3)")
    parser.add_argument("--goal", type=float, default=20.0, help="p95 goal, ms (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="RNG seed (default 1)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
