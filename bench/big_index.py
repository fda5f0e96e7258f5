"""Benchmark: one index run of N new articles (300,000 by default), then the bot's start.

Issue 11 found that more than ~250,000 new articles in one run made `index` exit with "too many
SQL variables", after which the bot could not start; and that a long run held the write lock
for 16 s, so the bot's sender hit "database is locked". This script checks both:

1. writes N synthetic articles (distinct words, distinct dates: no two are one story) as JSON
   Lines files of 1,000 articles each in a temporary folder, with one subscriber to all news;
2. runs `python -m bot index --json` on an empty database while a probe thread takes the write
   lock (BEGIN IMMEDIATE ... COMMIT) every 50 ms and records how long each wait was: the
   longest wait is how long the index run held the lock in one go;
3. starts the terminal chat (`python -m bot chat`) on that database with `/start` and measures
   the time to its reply (the start-up re-index finds nothing changed).

Summaries use `lead` unless --algorithm says otherwise: the default method at 300,000 articles
takes about half an hour on 2 cores, and what is measured here is the index and the store.

Usage: python bench/big_index.py [--articles N] [--algorithm NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from machine import cpu_busy  # bench/machine.py, beside this script

REPO_ROOT = Path(__file__).resolve().parent.parent
PER_FILE = 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=300_000)
    parser.add_argument("--algorithm", default="lead")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, CPU busy before the run: {cpu_busy()}")
    with tempfile.TemporaryDirectory(prefix="newsbot-big-") as tmp:
        root = Path(tmp)
        folder = root / "articles"
        started = time.perf_counter()
        _write_articles(folder, args.articles)
        written = time.perf_counter() - started
        config = root / "newsbot.toml"
        config.write_text(
            f'[articles]\ndir = "{folder}"\n[database]\npath = "{root / "news.sqlite3"}"\n'
            f'[summary]\nalgorithm = "{args.algorithm}"\n',
            encoding="utf-8",
        )
        (root / "boilerplate.toml").write_text("", encoding="utf-8")
        env = {**os.environ, "NEWSBOT_CONFIG": str(config)}
        env.pop("TELEGRAM_BOT_TOKEN", None)
        database = root / "news.sqlite3"
        _prepare(database, env)

        probe = _LockProbe(database)
        probe.start()
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bot", "index", "--json"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        indexed = time.perf_counter() - started
        probe.stop()
        if done.returncode != 0:
            print(f"index FAILED (exit {done.returncode}):\n{done.stderr[-2000:]}")
            return 1
        report = json.loads(done.stdout)

        started = time.perf_counter()
        chat = subprocess.run(
            [sys.executable, "-m", "bot", "chat"],
            cwd=REPO_ROOT,
            env=env,
            input="/start\n",
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        answered = time.perf_counter() - started
        with sqlite3.connect(database) as conn:
            articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            queued = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]

    ok_start = chat.returncode == 0 and "/latest" in chat.stdout
    rows = [
        ("articles written (JSONL)", f"{args.articles:,}", f"{written:.1f} s"),
        ("index run: exit", str(done.returncode), f"{indexed:.1f} s"),
        ("index run: added / failed", f"{report['added']:,} / {len(report['failed'])}", ""),
        ("articles in the database", f"{articles:,}", ""),
        ("deliveries queued (one subscriber)", f"{queued:,}", ""),
        ("write lock: longest wait of a writer", "", f"{probe.longest:.2f} s"),
        ("write lock: waits over 1 s", str(probe.over_one_second), ""),
        ("bot start (terminal chat, /start)", "ok" if ok_start else "FAILED", f"{answered:.1f} s"),
    ]
    print(f"\nsummaries: {args.algorithm}; CPU busy after the run: {cpu_busy()}\n")
    print(f"| {'step':<38} | {'count':>18} | {'time':>8} |")
    print(f"|{'-' * 40}|{'-' * 20}|{'-' * 10}|")
    for step, count, seconds in rows:
        print(f"| {step:<38} | {count:>18} | {seconds:>8} |")
    good = ok_start and report["added"] == args.articles and articles == args.articles
    print("\nresult:", "PASS" if good else "FAIL")
    return 0 if good else 1


def _write_articles(folder: Path, count: int) -> None:
    """Distinct articles: random words from a made-up vocabulary, so no two are one story."""
    rng = random.Random(11)
    vocabulary = [
        "".join(rng.choice("abcdefghiklmnoprstuvw") for _ in range(rng.randint(3, 9)))
        for _ in range(20_000)
    ]
    folder.mkdir(parents=True)
    for start in range(0, count, PER_FILE):
        lines = []
        for number in range(start, min(count, start + PER_FILE)):
            sentences = [
                " ".join(rng.choices(vocabulary, k=rng.randint(8, 16))).capitalize() + "."
                for _ in range(6)
            ]
            lines.append(
                json.dumps(
                    {
                        "id": f"a{number}",
                        "title": " ".join(rng.choices(vocabulary, k=6)).capitalize(),
                        "text": " ".join(sentences[:3]) + "\n\n" + " ".join(sentences[3:]),
                        "date": time.strftime(
                            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + number * 60)
                        ),
                    }
                )
            )
        (folder / f"part-{start // PER_FILE:05}.jsonl").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )


def _prepare(database: Path, env: dict[str, str]) -> None:
    """An empty, migrated database with one chat subscribed to all news."""
    code = (
        "from bot.store import Store; import sys; s = Store(sys.argv[1]);"
        " s.subscribe(1, 'private', ''); s.close()"
    )
    subprocess.run([sys.executable, "-c", code, str(database)], cwd=REPO_ROOT, env=env, check=True)


class _LockProbe(threading.Thread):
    """Takes the write lock every 50 ms, as the bot's sender does, and times each wait."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.longest = 0.0
        self.over_one_second = 0
        self._done = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.database, isolation_level=None, timeout=600)
        while not self._done.is_set():
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("COMMIT")
            waited = time.perf_counter() - started
            self.longest = max(self.longest, waited)
            self.over_one_second += waited > 1.0
            self._done.wait(0.05)
        conn.close()

    def stop(self) -> None:
        self._done.set()
        self.join()


if __name__ == "__main__":
    sys.exit(main())
