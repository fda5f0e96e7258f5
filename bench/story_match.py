"""Benchmark: Store.apply of N new articles on an empty library and on a library of L.

Issue 16: the story matching in Store.apply should cost the same per new article whatever the
library's size. Articles are recombined real BBC News texts (bench/chat_latency.py's generator,
ten minutes apart), written through Store.apply as the index does (APPLY_BATCH per
transaction), on SQLite files in a temporary folder. Reports each timing's min/median/max.

Usage: python bench/story_match.py [--new 5000] [--library 45000] [--repeat 3] [--data PATH]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chat_latency import DEFAULT_DATA, REPO_ROOT, _article, _load  # beside this script

sys.path.insert(0, str(REPO_ROOT))

from bot.store import Changes, open_store


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--new", type=int, default=5000)
    parser.add_argument("--library", type=int, default=45_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    data = args.data if args.data.is_absolute() else (REPO_ROOT / args.data).resolve()
    corpus = _load(data)
    rng = random.Random("story-match")
    seen: set[tuple[int, ...]] = set()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    total = args.library + args.new
    articles = [
        _article(corpus, rng, seen, n, start + timedelta(minutes=10 * n)) for n in range(total)
    ]
    old, new = articles[: args.library], articles[args.library :]
    for label, before in (("empty", []), (f"{args.library:,}", old)):
        fills, times = [], []
        for _ in range(args.repeat):
            with (
                tempfile.TemporaryDirectory(prefix="newsbot-story-") as tmp,
                open_store(Path(tmp) / "news.sqlite3") as store,
            ):
                began = time.perf_counter()
                _apply(store, before)
                filled = time.perf_counter()
                _apply(store, new)
                done = time.perf_counter()
                stories = store.count(heads_only=True)
            fills.append(filled - began)
            times.append(done - filled)
        print(
            f"{args.new:,} new on {label}: {_stats(times)} s"
            + (f" (library filled in {_stats(fills)} s)" if before else "")
            + f", {stories:,} stories of {len(before) + len(new):,}",
            flush=True,
        )
    return 0


def _apply(store, articles) -> None:  # type: ignore[no-untyped-def]
    if articles:
        store.apply(
            Changes(
                files=[], removed_files=[], added=articles, updated=[], removed_ids=[], report={}
            )
        )


def _stats(values: list[float]) -> str:
    return f"{min(values):.1f}/{statistics.median(values):.1f}/{max(values):.1f}"


if __name__ == "__main__":
    sys.exit(main())
