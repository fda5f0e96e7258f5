"""What the benchmarks print about the machine they ran on (shared by the scripts in bench/)."""

from __future__ import annotations

import os
import platform
import sqlite3
import time
from pathlib import Path


def cpu_busy(seconds: float = 1.0) -> str:
    """How busy all CPUs were over the last second (Linux), else the 1-minute load average."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    try:
        busy0, total0 = sample()
        time.sleep(seconds)
        busy1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return f"load average {os.getloadavg()[0]:.2f}"
    return f"{100 * (busy1 - busy0) / max(1, total1 - total0):.0f}%"


def describe() -> str:
    """The machine and the versions that matter to the chat benchmarks' figures."""
    import telegram

    return (
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
        f" ({platform.python_implementation()}), SQLite {sqlite3.sqlite_version},"
        f" python-telegram-bot {telegram.__version__}, {platform.platform()}"
    )
