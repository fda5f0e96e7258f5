"""Benchmark: one index run of N new articles (300,000 by default), then the bot's start.

Issue 11 found that more than ~250,000 new articles in one run made `index` exit with "too many
SQL variables", after which the bot could not start; and that a long run held the write lock
for 16 s, so the bot's sender hit "database is locked". This script checks both:

1. writes N synthetic articles (distinct words, distinct dates: no two are one story) as JSON
   Lines files of 1,000 articles each in a temporary folder, with one subscriber to all news;
2. runs `python -m bot index --json` on an empty database while a probe thread takes the write
   lock (BEGIN IMMEDIATE ... COMMIT) every 50 ms and records how long each wait was: the
   longest wait is how long the index run held the lock in one go;
3. starts the terminal chat (`python -m bot chat`) on that database, types `/start` and times
   its first reply, --starts times (min / median / max): the bot answers from the database at
   once while its start-up re-index (which finds nothing changed) runs in the background; the
   time until the chat notes that index's end is printed too;
4. starts it --starts times more on an EMPTY database with the same folder (a first start):
   the first reply then says the articles are being indexed, with the progress; the chat is
   quit right after it (the start-up run stops at its next file).

Issue 16's "Done when": with 100,000 articles indexed, the first reply to /start in <= 2 s.
Each start's CPU time is the chat process's own (user + system, from /proc) up to the reply;
the machine's load is printed before and after the starts.

Summaries use `lead` unless --algorithm says otherwise: the default method at 300,000 articles
takes about half an hour on 2 cores, and what is measured here is the index and the store.

Usage: python bench/big_index.py [--articles N] [--algorithm NAME] [--starts N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from machine import cpu_busy  # bench/machine.py, beside this script

REPO_ROOT = Path(__file__).resolve().parent.parent
PER_FILE = 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=300_000)
    parser.add_argument("--algorithm", default="lead")
    parser.add_argument("--starts", type=int, default=3, help="bot starts timed, per database")
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

        with sqlite3.connect(database) as conn:
            articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            queued = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        busy_before = cpu_busy()
        warm = [_start(env, wait_for_index=True) for _ in range(args.starts)]
        empty = root / "empty.sqlite3"
        cold = []
        for _ in range(args.starts):  # a first start each time: no summary of a run before
            empty.unlink(missing_ok=True)
            _prepare(empty, env)
            cold.append(_start({**env, "NEWSBOT_DATABASE": str(empty)}, wait_for_index=False))
        busy_after = cpu_busy()

    ok_start = all("/latest" in start.reply for start in warm)
    rows = [
        ("articles written (JSONL)", f"{args.articles:,}", f"{written:.1f} s"),
        ("index run: exit", str(done.returncode), f"{indexed:.1f} s"),
        ("index run: added / failed", f"{report['added']:,} / {len(report['failed'])}", ""),
        ("articles in the database", f"{articles:,}", ""),
        ("deliveries queued (one subscriber)", f"{queued:,}", ""),
        ("write lock: longest wait of a writer", "", f"{probe.longest:.2f} s"),
        ("write lock: waits over 1 s", str(probe.over_one_second), ""),
    ]
    print(f"\nsummaries: {args.algorithm}; CPU busy after the index run: {cpu_busy()}\n")
    print(f"| {'step':<38} | {'count':>18} | {'time':>8} |")
    print(f"|{'-' * 40}|{'-' * 20}|{'-' * 10}|")
    for step, count, seconds in rows:
        print(f"| {step:<38} | {count:>18} | {seconds:>8} |")
    print(f"\nbot starts (terminal chat, /start), {args.starts} each, min / median / max;")
    print(f"CPU busy before the starts: {busy_before}, after: {busy_after}\n")
    print(f"| {'start':<44} | {'wall':>22} | {'CPU (chat process)':>22} |")
    print(f"|{'-' * 46}|{'-' * 24}|{'-' * 24}|")
    print(_spread(f"{articles:,} indexed: first reply to /start", warm, "reply"))
    print(_spread(f"{articles:,} indexed: start-up re-index ended", warm, "indexed"))
    print(_spread("empty database: first reply to /start", cold, "reply"))
    print(_spread("empty database: quit after it (stop)", cold, "quit"))
    print(f"\n{articles:,} indexed, first reply:\n  " + warm[0].reply.replace("\n", "\n  "))
    print("empty database, first reply:\n  " + cold[0].reply.replace("\n", "\n  "))
    good = ok_start and report["added"] == args.articles and articles == args.articles
    print("\nresult:", "PASS" if good else "FAIL")
    return 0 if good else 1


@dataclass
class Start:
    """One start of the terminal chat: seconds (wall) from launch to the reply to /start, to
    the note that the start-up index ended (warm) or to the process's exit after quitting
    (cold); CPU seconds of the chat process at each; the reply's text."""

    reply: str
    seconds: dict[str, float]
    cpu: dict[str, float]


def _start(env: dict[str, str], *, wait_for_index: bool) -> Start:
    """Launch `python -m bot chat`, type /start, read its reply (up to the /help line that
    ends it); then wait for the start-up index's note, or quit at once."""
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        chat = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat"],
            cwd=REPO_ROOT,
            env={**env, "LC_ALL": "C.UTF-8"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert chat.stdin is not None and chat.stdout is not None
        chat.stdin.write("/start\n")
        chat.stdin.flush()
        lines = _lines_until(chat, "/help lists everything")
        seconds["reply"], cpu["reply"] = time.perf_counter() - started, _cpu(chat.pid)
        reply = "".join(lines).split("> /start\n", 1)[-1].strip()
        if wait_for_index:
            # (A small folder's re-index may end before the reply: its note is then above it.)
            if not any("the articles folder is indexed" in line for line in lines):
                _lines_until(chat, "the articles folder is indexed")
            seconds["indexed"], cpu["indexed"] = time.perf_counter() - started, _cpu(chat.pid)
        before_quit = _cpu(chat.pid)
        chat.stdin.close()
        chat.stdout.read()
        chat.wait(timeout=600)
        seconds["quit"], cpu["quit"] = time.perf_counter() - started, before_quit
        if chat.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"the chat exited {chat.returncode}: {errors.read()[-2000:]}")
    return Start(reply, seconds, cpu)


def _lines_until(chat: subprocess.Popen[str], wanted: str) -> list[str]:
    assert chat.stdout is not None
    lines = []
    for line in chat.stdout:
        lines.append(line)
        if wanted in line:
            return lines
    raise SystemExit(f"the chat ended before {wanted!r}:\n{''.join(lines)[-2000:]}")


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc), its own threads only."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spread(label: str, starts: list[Start], key: str) -> str:
    def three(values: list[float]) -> str:
        return " / ".join(f"{v:.2f}" for v in (min(values), statistics.median(values), max(values)))

    walls = three([start.seconds[key] for start in starts])
    cpus = three([start.cpu[key] for start in starts])
    return f"| {label:<44} | {walls + ' s':>22} | {cpus + ' s':>22} |"


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
