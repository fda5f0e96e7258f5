"""Run a benchmark command several times and merge the markdown tables it prints (issue 16).

    python bench/repeat.py [--runs 3] [--out DIR] -- python bench/delivery.py --rate 100

The command runs --runs times in sequence, from the repository root. Before each run the
machine's load is taken (`cpu_busy()` from bench/machine.py, which samples /proc/stat for a
second, and `os.getloadavg()`); each run's wall time and CPU time (user + sys) are measured,
and its stdout and stderr saved to --out (default: a new temporary folder, printed).

CPU time is the command's rusage from `os.wait4`: its own CPU and that of every descendant it
waited for (multiprocessing workers, subprocess.run, ...). A descendant nobody waited for (a
daemon left running, an orphan) is not counted.

Every markdown table in each run's stdout (header row, `|---|` row, body rows) is matched
across runs by its header and order of appearance, its rows by their first cell (or by
position when the first cells differ only in their numbers). A cell's numbers become
`min / median / max` of the runs, written as the script wrote them (decimals, thousands
commas, a unit glued on such as `x`, `%` or `/s`); a cell with more than one number has each
varying number in brackets: `[1.2 / 1.3 / 1.5] / [4.0 / 4.1 / 4.4] ms`. Text cells, and
numbers equal in every run, stay as they are; text that differs between runs is listed with
the runs it came from. PASS/FAIL lines are counted; other lines with numbers are merged the
same way when every run printed them in the same shape.

The command is run as given, without a shell: `python` is whichever is first on PATH (give the
project's interpreter), and environment variables go through `env NAME=value ...`.

A run that exits non-zero counts as failed: the report says so, with its exit status and the
end of its stderr. Its output is still merged (a benchmark that exits 1 on a FAIL measured
all the same) unless --drop-failed is given. repeat.py then exits 1 (2 if it cannot start).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# A number as the scripts print it: `7.172`, `27,080`, `-1.0`, with a unit glued on (`1.51x`,
# `45%`, `29.7/s`). Not the digits inside a word or a version (`p50`, `bm25`, `3.11.7`).
NUMBER = re.compile(
    r"(?<![\w.,/-])(?P<sign>-?)(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?P<decimals>\.\d+)?"
    r"(?P<unit>x|%|/s)?(?![\w.]?\d|\w)"
)
SEPARATOR = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
VERDICT = re.compile(r"\b(PASS|FAIL)\b")
STDERR_TAIL_LINES = 15


@dataclasses.dataclass
class Table:
    """One markdown table as printed: its header cells, `|---|` line and body rows."""

    header: list[str]
    separator: str
    rows: list[list[str]]
    context: str = ""  # the last non-empty line printed before the table, to tell tables apart


@dataclasses.dataclass
class Run:
    """One run of the command: when, the machine's load before it, what it cost and printed."""

    number: int
    started: datetime.datetime
    cpu_busy: str
    load: tuple[float, float, float]
    wall: float
    user: float
    system: float
    status: int  # the exit code, or minus the signal that killed it
    stdout: str
    stderr: str

    @property
    def cpu(self) -> float:
        return self.user + self.system

    @property
    def failed(self) -> bool:
        return self.status != 0


# ---- parsing -------------------------------------------------------------------------------


def split_row(line: str) -> list[str]:
    """The cells of a table row; the outer pipes are optional, `\\|` is not a boundary."""
    text = line.strip()
    text = text.removeprefix("|")
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", text)]


def parse_tables(text: str) -> list[Table]:
    """Every markdown table in `text`, in order of appearance."""
    lines = text.splitlines()
    tables: list[Table] = []
    context = ""
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("|") and i + 1 < len(lines) and SEPARATOR.match(lines[i + 1].strip()):
            rows: list[list[str]] = []
            j = i + 2
            while j < len(lines) and lines[j].strip().startswith("|"):
                rows.append(split_row(lines[j]))
                j += 1
            tables.append(Table(split_row(line), lines[i + 1].strip(), rows, context))
            context = ""  # a table right after this one has no line of its own before it
            i = j
            continue
        if line:
            context = line
        i += 1
    return tables


def non_table_lines(text: str) -> list[str]:
    """The non-empty lines of `text` outside its tables."""
    lines = text.splitlines()
    inside = set()
    for i in range(len(lines) - 1):
        if lines[i].strip().startswith("|") and SEPARATOR.match(lines[i + 1].strip()):
            j = i
            while j < len(lines) and lines[j].strip().startswith("|"):
                inside.add(j)
                j += 1
    return [line.rstrip() for n, line in enumerate(lines) if n not in inside and line.strip()]


def normal_separator(line: str) -> str:
    """`line` (a `|---|` row, perhaps padded or without its outer pipes) as `|---|---:|`."""
    cells = [cell.replace(" ", "") for cell in split_row(line)]
    marks = [
        (":" if cell.startswith(":") else "") + "---" + (":" if cell.endswith(":") else "")
        for cell in cells
    ]
    return "|" + "|".join(marks) + "|"


def shape(text: str) -> str:
    """`text` with each number replaced by `#` (its unit kept): what runs must share to merge."""
    return NUMBER.sub(lambda m: "#" + (m.group("unit") or ""), text)


# ---- merging -------------------------------------------------------------------------------


def _value(match: re.Match[str]) -> float:
    return float(
        match.group("sign")
        + match.group("digits").replace(",", "")
        + (match.group("decimals") or "")
    )


def _format(value: float, matches: Sequence[re.Match[str]]) -> str:
    """`value` written as the runs wrote this number: decimals, thousands commas, unit."""
    decimals = max(len(m.group("decimals") or "") - 1 for m in matches)
    commas = any("," in m.group("digits") for m in matches)
    text = f"{value:{',' if commas else ''}.{max(decimals, 0)}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    return text + (matches[0].group("unit") or "")


def spread(matches: Sequence[re.Match[str]]) -> str:
    """`min / median / max` of one number across runs, or the number if every run had it."""
    if len({m.group(0) for m in matches}) == 1:
        return matches[0].group(0)
    values = [_value(m) for m in matches]
    if len(set(values)) == 1:
        return matches[0].group(0)
    low, mid, high = min(values), statistics.median(values), max(values)
    return " / ".join(_format(v, matches) for v in (low, mid, high))


def _runs_label(numbers: Sequence[int]) -> str:
    return ("run " if len(numbers) == 1 else "runs ") + ", ".join(str(n) for n in numbers)


def _only_in(numbers: Sequence[int], total: int) -> str:
    return f" (in {len(numbers)} of {total} runs: {', '.join(str(n) for n in numbers)})"


def merge_cell(values: Sequence[str], runs: Sequence[int] | None = None) -> str:
    """One cell (or line) from each run made into one: numbers as `min / median / max`.

    `runs` numbers the values for the note written when their text differs (default 1, 2, ...).
    """
    runs = list(runs) if runs is not None else list(range(1, len(values) + 1))
    if len(set(values)) == 1:
        return values[0]
    if len({shape(v) for v in values}) > 1:
        seen: dict[str, list[int]] = {}
        for value, run in zip(values, runs, strict=True):
            seen.setdefault(value, []).append(run)
        return "; ".join(
            f"{value or '(empty)'} ({_runs_label(numbers)})" for value, numbers in seen.items()
        )
    per_run = [list(NUMBER.finditer(v)) for v in values]
    bracket = len(per_run[0]) > 1
    out, last = [], 0
    for k, first in enumerate(per_run[0]):
        merged = spread([matches[k] for matches in per_run])
        varied = merged != first.group(0)
        out += [values[0][last : first.start()], f"[{merged}]" if bracket and varied else merged]
        last = first.end()
    return "".join(out) + values[0][last:]


def _keyed(rows: Sequence[Sequence[str]], key: Callable[[str], str]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    keys = []
    for row in rows:
        k = key(row[0] if row else "")
        keys.append((k, counts.get(k, 0)))
        counts[k] = counts.get(k, 0) + 1
    return keys


def match_rows(
    tables: Sequence[Table],
) -> list[tuple[tuple[str, int], list[tuple[int, list[str]]]]]:
    """Rows of the same table from several runs, grouped: by first cell if every run has the
    same first cells, else by first cell with its numbers masked (by position among rows that
    differ only in numbers), else by first cell with rows some runs lack kept apart."""
    exact = [_keyed(t.rows, lambda cell: cell) for t in tables]
    masked = [_keyed(t.rows, shape) for t in tables]
    if all(set(k) == set(exact[0]) for k in exact):
        keys = exact
    elif all(set(k) == set(masked[0]) for k in masked):
        keys = masked
    else:
        keys = exact
    groups: dict[tuple[str, int], list[tuple[int, list[str]]]] = {}
    for t, (table, table_keys) in enumerate(zip(tables, keys, strict=True)):
        for key, row in zip(table_keys, table.rows, strict=True):
            groups.setdefault(key, []).append((t, row))
    return list(groups.items())


def merge_table(tables: Sequence[Table], runs: Sequence[int], total: int) -> Table:
    """One table from the same table of several runs (`runs` numbers them; `total` runs in
    all): rows a run lacks are merged over the runs that have them, and say so."""
    rows = []
    for _key, members in match_rows(tables):
        width = max(len(row) for _t, row in members)
        cells = []
        for c in range(width):
            present = [(runs[t], row[c]) for t, row in members if c < len(row)]
            cells.append(merge_cell([v for _r, v in present], [r for r, _v in present]))
        if len(members) < total:
            cells[0] += _only_in([runs[t] for t, _row in members], total)
        rows.append(cells)
    first = tables[0]
    context = merge_cell([t.context for t in tables], runs)
    return Table(first.header, normal_separator(first.separator), rows, context)


def merge_tables(
    outputs: Sequence[str], runs: Sequence[int] | None = None
) -> list[tuple[Table, int]]:
    """The tables of several runs' stdout, merged: each with the number of runs that printed it.

    A table is the same table in two runs when its header is the same and as many tables with
    that header came before it. Order: the first run's, then tables only later runs printed."""
    runs = list(runs) if runs is not None else list(range(1, len(outputs) + 1))
    groups: dict[tuple[tuple[str, ...], int], list[tuple[int, Table]]] = {}
    for run, output in zip(runs, outputs, strict=True):
        seen: dict[tuple[str, ...], int] = {}
        for table in parse_tables(output):
            header = tuple(table.header)
            groups.setdefault((header, seen.get(header, 0)), []).append((run, table))
            seen[header] = seen.get(header, 0) + 1
    merged = []
    for members in groups.values():
        member_runs = [run for run, _t in members]
        tables = [t for _run, t in members]
        merged.append((merge_table(tables, member_runs, len(member_runs)), len(members)))
    return merged


def merge_lines(outputs: Sequence[str], runs: Sequence[int]) -> tuple[list[str], int]:
    """The lines outside tables, other than PASS/FAIL, merged like cells when every run printed
    them in the same shape (same text around the numbers), in the first run's order; and how
    many lines were left out because the runs' shapes differ."""
    groups: dict[tuple[str, int], list[str]] = {}
    for output in outputs:
        seen: dict[str, int] = {}
        for line in non_table_lines(output):
            if VERDICT.search(line):
                continue
            key = shape(line)
            groups.setdefault((key, seen.get(key, 0)), []).append(line)
            seen[key] = seen.get(key, 0) + 1
    merged = [merge_cell(v, runs) for v in groups.values() if len(v) == len(outputs)]
    return merged, sum(1 for v in groups.values() if len(v) < len(outputs))


def count_verdicts(outputs: Sequence[str], runs: Sequence[int]) -> list[str]:
    """Each PASS/FAIL line, merged across runs: how many runs passed and failed it (a line is
    the same check in two runs when it reads the same apart from its numbers and verdict)."""
    groups: dict[tuple[str, int], list[tuple[int, str, str]]] = {}
    for run, output in zip(runs, outputs, strict=True):
        seen: dict[str, int] = {}
        for line in non_table_lines(output):
            found = VERDICT.search(line)
            if not found:
                continue
            text = line.strip()
            if text.startswith(found.group(1) + ":"):
                text = text[len(found.group(1)) + 1 :].strip()
            else:
                text = VERDICT.sub("(verdict)", text, count=1)
            key = shape(text)
            groups.setdefault((key, seen.get(key, 0)), []).append((run, found.group(1), text))
            seen[key] = seen.get(key, 0) + 1
    report = []
    for members in groups.values():
        verdicts = [v for _run, v, _text in members]
        counts = [
            f"{verdict} in {verdicts.count(verdict)} of {len(runs)} runs"
            + (
                ""
                if verdict == "PASS"
                else f" ({_runs_label([r for r, v, _t in members if v == verdict])})"
            )
            for verdict in ("PASS", "FAIL")
            if verdict in verdicts
        ]
        missing = [r for r in runs if r not in {run for run, _v, _t in members}]
        if missing:
            counts.append(f"not printed in {_runs_label(missing)}")
        text = merge_cell([t for _r, _v, t in members], [r for r, _v, _t in members])
        report.append(f"{', '.join(counts)}: {text}")
    return report


# ---- running -------------------------------------------------------------------------------


def _cpu_busy() -> str:
    """`cpu_busy()` from bench/machine.py, beside this script (on sys.path when it is run)."""
    try:
        import machine
    except ImportError:  # imported by its path (the tests): bench/ is not on sys.path
        spec = importlib.util.spec_from_file_location(
            "machine", Path(__file__).with_name("machine.py")
        )
        assert spec is not None and spec.loader is not None
        machine = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(machine)
    busy: str = machine.cpu_busy()
    return busy


def run_once(command: Sequence[str], number: int, out: Path) -> Run:
    """Run `command` once from the repository root, its output into `out`/run<number>.*"""
    busy, load = _cpu_busy(), os.getloadavg()
    started = datetime.datetime.now(datetime.UTC)
    stdout, stderr = out / f"run{number}.stdout", out / f"run{number}.stderr"
    with stdout.open("wb") as out_file, stderr.open("wb") as err_file:
        began = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=out_file, stderr=err_file
        )
        try:
            _pid, wait_status, usage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()
            child.wait()
            raise
        wall = time.perf_counter() - began
    child.returncode = status = os.waitstatus_to_exitcode(wait_status)
    return Run(
        number=number,
        started=started,
        cpu_busy=busy,
        load=load,
        wall=wall,
        user=usage.ru_utime,
        system=usage.ru_stime,
        status=status,
        stdout=stdout.read_text(encoding="utf-8", errors="replace"),
        stderr=stderr.read_text(encoding="utf-8", errors="replace"),
    )


# ---- the report ----------------------------------------------------------------------------


def describe_status(status: int) -> str:
    if status >= 0:
        return f"exit {status}"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        name = "unknown signal"
    return f"killed by signal {-status} ({name})"


def _spread_seconds(values: Sequence[float]) -> str:
    return " / ".join(f"{v:.3f}" for v in (min(values), statistics.median(values), max(values)))


def render_runs(command: Sequence[str], runs: Sequence[Run], out: Path) -> list[str]:
    """The command, each run's start, load, wall and CPU time and exit, and failures."""
    lines = [
        f"$ {shlex.join(command)}",
        f"{len(runs)} runs in sequence from {REPO_ROOT}; each run's stdout and stderr in {out}",
        "",
        "| run | started (UTC) | CPU busy before | load average 1 / 5 / 15 min"
        " | wall s | CPU s (user + sys) | CPU / wall | exit |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.number} | {run.started:%Y-%m-%d %H:%M:%S} | {run.cpu_busy}"
            f" | {' / '.join(f'{x:.2f}' for x in run.load)} | {run.wall:.3f}"
            f" | {run.cpu:.3f} ({run.user:.3f} + {run.system:.3f})"
            f" | {run.cpu / max(run.wall, 1e-9):.2f}"
            f" | {describe_status(run.status)} |"
        )
    walls, cpus = [r.wall for r in runs], [r.cpu for r in runs]
    lines += [
        f"| min / median / max | | | | {_spread_seconds(walls)} | {_spread_seconds(cpus)} | | |",
        "",
        "CPU time: user + sys of the command and of every descendant process it waited for"
        " (os.wait4); a descendant nobody waited for (left running, orphaned) is not counted.",
    ]
    failed = [r for r in runs if r.failed]
    lines += ["", f"failed runs: {len(failed)} of {len(runs)}"]
    for run in failed:
        tail = run.stderr.rstrip().splitlines()[-STDERR_TAIL_LINES:] or ["(stderr empty)"]
        lines += [
            "",
            f"FAILED: run {run.number}, {describe_status(run.status)}; end of its stderr:",
        ]
        lines += ["    " + line for line in tail]
    return lines


def render_merged(runs: Sequence[Run], total: int) -> list[str]:
    """The merged tables, the PASS/FAIL counts and the other lines of the runs' stdout."""
    outputs, numbers = [r.stdout for r in runs], [r.number for r in runs]
    lines = [
        "",
        f"## Tables: min / median / max over runs {', '.join(map(str, numbers))}"
        f" ({len(runs)} of {total}) where the runs differ",
    ]
    for table, count in merge_tables(outputs, numbers):
        note = "" if count == len(runs) else f" (printed in {count} of {len(runs)} runs)"
        heading = f"after: {table.context}{note}" if table.context else note.strip()
        lines += ["", heading, ""] if heading else [""]
        lines += ["| " + " | ".join(table.header) + " |", table.separator]
        lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    lines += ["", "## PASS / FAIL", ""]
    lines += ["- " + line for line in count_verdicts(outputs, numbers)] or ["(none printed)"]
    merged, left_out = merge_lines(outputs, numbers)
    lines += ["", "## Other lines, merged the same way", "", "```", *merged, "```"]
    if left_out:
        lines.append(
            f"({left_out} lines left out: not printed by every run, or not in the same shape;"
            " see each run's stdout)"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print(
            "usage: repeat.py [--runs N] [--out DIR] [--drop-failed] -- COMMAND ...",
            file=sys.stderr,
        )
        return 2
    split = argv.index("--")
    args = _parser().parse_args(argv[:split])
    command = argv[split + 1 :]
    if not command or args.runs < 1:
        print("repeat.py: a command after -- and --runs >= 1, please", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-repeat-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"output of each run in {out}", file=sys.stderr, flush=True)
    runs = []
    for number in range(1, args.runs + 1):
        try:
            run = run_once(command, number, out)
        except OSError as error:  # not found, not executable: no use trying again
            print(f"repeat.py: cannot run {shlex.join(command)}: {error}", file=sys.stderr)
            return 2
        print(
            f"run {number} of {args.runs}: {run.wall:.1f} s wall, {run.cpu:.1f} s CPU,"
            f" {describe_status(run.status)}",
            file=sys.stderr,
            flush=True,
        )
        runs.append(run)
    kept = [r for r in runs if not (args.drop_failed and r.failed)]
    lines = render_runs(command, runs, out)
    if args.drop_failed:
        lines.append(f"--drop-failed: figures below from the {len(kept)} runs that exited 0")
    lines += render_merged(kept, len(runs)) if kept else ["", "no run to merge"]
    report = "\n".join(lines) + "\n"
    (out / "report.md").write_text(report, encoding="utf-8")
    print(report, end="")
    return 1 if any(r.failed for r in runs) else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repeat.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--runs", type=int, default=3, help="how many times (default 3)")
    parser.add_argument("--out", help="folder for each run's stdout/stderr (default: a new temp)")
    parser.add_argument(
        "--drop-failed", action="store_true", help="merge only the figures of runs that exit 0"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
