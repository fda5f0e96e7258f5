"""What the benchmarks print about the machine they ran on (shared by the scripts in bench/)."""

from __future__ import annotations

import os
import platform
import sqlite3
import threading
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


class TreeCPU:
    """CPU seconds (user + system) of this process and every process below it, also those
    that are not its own children to wait for (a forkserver's pool workers): sampled from
    /proc every `interval` seconds while running, so a process that lives shorter than that
    may be missed. Linux only; elsewhere `seconds` stays this process's own time.

        with TreeCPU() as cpu:
            work()
        print(cpu.seconds)
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.seconds = 0.0
        self._seen: dict[int, float] = {}
        self._start: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __enter__(self) -> TreeCPU:
        self._start = self._sample()
        self._own = time.process_time()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._seen.update(self._sample())
        before = sum(self._start.values())
        total = sum(self._seen.values())
        self.seconds = total - before if total else time.process_time() - self._own

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self._seen.update(self._sample())

    def _sample(self) -> dict[int, float]:
        """CPU seconds of each process in this one's tree, by pid."""
        parents: dict[int, int] = {}
        times: dict[int, float] = {}
        for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / self._ticks
        tree = {os.getpid()}
        grew = True
        while grew:
            below = {pid for pid, parent in parents.items() if parent in tree} - tree
            grew = bool(below)
            tree |= below
        return {pid: times[pid] for pid in tree if pid in times}
