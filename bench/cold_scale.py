"""Benchmark: does a cold index grow linearly with the number of new articles?

Issue 16's target: the cold index of 40,000 new articles takes at most 4.6 times as long as
that of 10,000 (linear would be 4.0), in CPU time and in wall time, on an idle machine.

For each size N, N articles recombined from real BBC News texts (bench/chat_latency.py's
generator: a real headline and lead paragraph, then paragraphs of other stories of the same
category; never the same twice; ten minutes apart, so the 3-day story window holds ~430 of
them) are written as one JSON file each (title, text, date), as a scraper writes them. Then
`python -m bot index --json` runs on an empty database, `--runs` times (a new database each
time, the same files), with the configured summary method unless --algorithm says otherwise.
CPU time is the index process's and its worker processes' (user + system, from wait4).

Usage: python bench/cold_scale.py [--sizes 10000,40000] [--runs 3] [--algorithm NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chat_latency import DEFAULT_DATA, REPO_ROOT, _article, _load  # beside this script
from machine import cpu_busy

TARGET = 4.6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,40000", help="comma-separated sizes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--algorithm", default=None, help="summary method (default: configured)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    data = args.data if args.data.is_absolute() else (REPO_ROOT / args.data).resolve()
    if not data.is_file():
        print(f"cold_scale: {data} not found (BBC News JSON Lines; see --help)", file=sys.stderr)
        return 2
    corpus = _load(data)
    print(f"command: {' '.join(sys.orig_argv)}")
    print(f"machine: {os.cpu_count()} CPUs; summary method: {args.algorithm or 'configured'}")
    rows: list[tuple[int, int, float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="newsbot-cold-") as tmp:
        for size in sizes:
            folder = Path(tmp) / f"articles-{size}"
            _write(folder, corpus, size)
            for run in range(1, args.runs + 1):
                busy = cpu_busy()
                database = Path(tmp) / f"run-{size}-{run}.sqlite3"
                wall, cpu, report = _index(folder, database, args.algorithm)
                # A recombined text can be all short lines, read as subheadings: no article.
                if report["added"] + len(report["failed"]) != size or len(report["failed"]) > 9:
                    raise SystemExit(f"cold_scale: unexpected report at {size}: {report}")
                rows.append((size, run, wall, cpu, busy))
                print(
                    f"  {size:,} files, run {run}: {report['added']:,} added,"
                    f" {len(report['failed'])} failed; {wall:.1f} s wall, {cpu:.1f} s CPU"
                    f" (CPU busy before: {busy})",
                    flush=True,
                )
                database.unlink()
                for suffix in ("-wal", "-shm"):
                    Path(f"{database}{suffix}").unlink(missing_ok=True)
    print()
    print(_table(rows, sizes))
    return 0


def _write(folder: Path, corpus: object, count: int) -> None:
    rng = random.Random(f"cold-{count}")
    seen: set[tuple[int, ...]] = set()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    folder.mkdir()
    for n in range(count):
        article = _article(corpus, rng, seen, n, start + timedelta(minutes=10 * n))  # type: ignore[arg-type]
        record = {
            "title": article.title,
            "text": "\n\n".join(article.paragraphs),
            "date": article.published.isoformat(),
        }
        (folder / f"{n:06d}.json").write_text(json.dumps(record), encoding="utf-8")


def _index(folder: Path, database: Path, algorithm: str | None) -> tuple[float, float, dict]:
    env = {**os.environ, "NEWSBOT_ARTICLES_DIR": str(folder), "NEWSBOT_DATABASE": str(database)}
    command = [sys.executable, "-m", "bot", "index", "--json"]
    if algorithm:
        # The repository's configuration with another method (no setting in the environment).
        config = database.with_suffix(".toml")
        settings = (REPO_ROOT / "config" / "newsbot.toml").read_text(encoding="utf-8")
        config.write_text(
            settings.replace('algorithm = "lede"', f'algorithm = "{algorithm}"'), encoding="utf-8"
        )
        (config.parent / "boilerplate.toml").write_bytes(
            (REPO_ROOT / "config" / "boilerplate.toml").read_bytes()
        )
        env["NEWSBOT_CONFIG"] = str(config)
    with tempfile.TemporaryFile() as out:
        began = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - began
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"cold_scale: index exited {child.returncode}")
        out.seek(0)
        report = json.loads(out.read())
    # wait4's usage covers the child and the descendants it waited for (its worker processes).
    return wall, usage.ru_utime + usage.ru_stime, report


def _table(rows: list[tuple[int, int, float, float, str]], sizes: list[int]) -> str:
    def spread(values: list[float]) -> str:
        return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"

    lines = [
        "| articles | wall s (min / median / max) | CPU s (min / median / max) | ms CPU per article"
        " (median) | CPU busy before each run |",
        "|---:|---:|---:|---:|---|",
    ]
    medians: dict[int, tuple[float, float]] = {}
    for size in sizes:
        mine = [r for r in rows if r[0] == size]
        walls, cpus = [r[2] for r in mine], [r[3] for r in mine]
        medians[size] = (statistics.median(walls), statistics.median(cpus))
        lines.append(
            f"| {size:,} | {spread(walls)} | {spread(cpus)} |"
            f" {1000 * statistics.median(cpus) / size:.2f} | {', '.join(r[4] for r in mine)} |"
        )
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        wall_ratio = medians[big][0] / medians[small][0]
        cpu_ratio = medians[big][1] / medians[small][1]
        limit = TARGET * big / small / 4  # the target is stated for 40k against 10k
        verdict = "PASS" if max(wall_ratio, cpu_ratio) <= limit else "FAIL"
        lines.append("")
        lines.append(
            f"{verdict}: {big:,} / {small:,} articles (medians): wall {wall_ratio:.2f}x,"
            f" CPU {cpu_ratio:.2f}x (linear: {big / small:.1f}x; target <= {limit:.2f}x)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
