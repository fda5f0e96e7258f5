"""Benchmark: 5 MB hostile files, read and summarized (issue 11: "read or refused within 5 s").

Each file repeats one pattern that once made a reader rescan to the end of the input at every
occurrence (an unclosed Markdown link "[a](", an unclosed "<a", nested tags in a page) or that
makes one huge paragraph. For each: the seconds `python -m bot summarize FILE` takes, interpreter
start-up included, and whether the file was read or refused (with the reason).

Usage: python bench/hostile_files.py [--mb 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from machine import cpu_busy  # bench/machine.py, beside this script

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 5.0

CASES = [
    ("unclosed links", ".md", b"[a]("),
    ("unclosed images", ".md", b"![a]("),
    ("unclosed tags", ".md", b"<a"),
    ("emphasis marks", ".md", b"*a_"),
    ("one huge paragraph", ".md", b"The harbour festival drew crowds. "),
    ("headline-like lines", ".txt", b"A\n\n\n"),
    ("unclosed links", ".txt", b"[a]("),
    ("deep JSON", ".jsonl", b'{"a":'),
    ("nested tags", ".html", b"<p><b>"),
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mb", type=float, default=5.0)
    args = parser.parse_args(argv)
    size = int(args.mb * 1024 * 1024) - 100  # under the 5 MB file limit
    print(f"machine: CPU busy before the run {cpu_busy()}; files of {args.mb:g} MB\n")
    print(f"| {'pattern':<20} | {'format':<6} | {'seconds':>7} | outcome")
    print(f"|{'-' * 22}|{'-' * 8}|{'-' * 9}|{'-' * 50}")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="newsbot-hostile-") as tmp:
        for name, suffix, unit in CASES:
            path = Path(tmp) / f"hostile{suffix}"
            path.write_bytes(b"# Headline\n\n" + unit * (size // len(unit)) + b".\n")
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "bot", "summarize", str(path), "--json"],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.perf_counter() - started
            worst = max(worst, seconds)
            if done.returncode == 0:
                outcome = "read and summarized"
            else:
                outcome = "refused: " + done.stderr.strip().splitlines()[-1][-60:]
            print(f"| {name:<20} | {suffix:<6} | {seconds:>7.2f} | {outcome}")
    verdict = "PASS" if worst <= TARGET_SECONDS else "FAIL"
    print(f"\nslowest {worst:.2f} s against {TARGET_SECONDS:g} s: {verdict}")
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
