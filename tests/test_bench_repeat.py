"""bench/repeat.py's parsing and merging, on tables as the benchmarks print them (samples from
docs/benchmarks.md). bench/ is not a package: the script is loaded from its path."""

from __future__ import annotations

import datetime
import importlib.util
import sys
import types
from pathlib import Path

import pytest

from .conftest import REPO

_spec = importlib.util.spec_from_file_location("bench_repeat", REPO / "bench" / "repeat.py")
assert _spec is not None and _spec.loader is not None
repeat = importlib.util.module_from_spec(_spec)
sys.modules["bench_repeat"] = repeat  # dataclasses look their module up while defining
_spec.loader.exec_module(repeat)

INDEX_VS_LOOP = """\
machine: 2 CPUs, Python 3.11.7 (CPython), Linux-6.18.44-fc-v657-x86_64-with-glibc2.36
CPU busy just before the run: {busy}% (anything else running skews this)

| step | seconds | articles/s | speed-up vs hand loop |
|---|---:|---:|---:|
| hand loop (sumy LexRank, 1 process) | {loop} | 65 | 1.00x |
| index, cold (empty database) | 6.685 | {rate} | 2.29x |
| index, nothing changed | 0.040 | 25,165 | {speedup} |
| `python -m bot index --json`, nothing changed | 0.252 | 3,968 | 61x |

PASS: cold index >= 1.5x faster than the hand loop: 2.29x
{verdict}: re-index, nothing changed, >= 50x faster: {speedup}
"""


def _index_run(busy: int, loop: str, rate: str, speedup: str, verdict: str = "PASS") -> str:
    return INDEX_VS_LOOP.format(busy=busy, loop=loop, rate=rate, speedup=speedup, verdict=verdict)


RUNS = [
    _index_run(0, "15.339", "150", "386x"),
    _index_run(12, "14.100", "1,322", "296x"),
    _index_run(3, "16.002", "998", "613x"),
]


def test_a_table_is_found_with_its_header_rows_and_the_line_before_it() -> None:
    (table,) = repeat.parse_tables(RUNS[0])
    assert table.header == ["step", "seconds", "articles/s", "speed-up vs hand loop"]
    assert table.separator == "|---|---:|---:|---:|"
    assert [row[0] for row in table.rows] == [
        "hand loop (sumy LexRank, 1 process)",
        "index, cold (empty database)",
        "index, nothing changed",
        "`python -m bot index --json`, nothing changed",
    ]
    assert table.context == "CPU busy just before the run: 0% (anything else running skews this)"


def test_a_table_without_closing_pipes_is_read_too() -> None:
    # bench/hostile_files.py prints its rows with no pipe at the end
    text = (
        "| pattern              | format | seconds | outcome\n"
        "|----------------------|--------|---------|--------------------------------------\n"
        "| unclosed links `[a](` | .md    |    1.33 | read and summarized\n"
        '| deep JSON `{"a":`    | .jsonl |    0.64 | refused: nested too deeply\n'
        "\nslowest 1.33 s against 5 s: PASS\n"
    )
    (table,) = repeat.parse_tables(text)
    assert table.header == ["pattern", "format", "seconds", "outcome"]
    assert table.rows[1] == ['deep JSON `{"a":`', ".jsonl", "0.64", "refused: nested too deeply"]
    merged = repeat.merge_table([table], [1], 1)
    assert merged.separator == "|---|---|---|---|"
    assert repeat.normal_separator("| :--- | ---: |:-:") == "|:---|---:|:---:|"


def test_numbers_become_min_median_max_written_as_the_script_wrote_them() -> None:
    (merged, count), *_ = repeat.merge_tables(RUNS)
    assert count == 3
    assert merged.header == ["step", "seconds", "articles/s", "speed-up vs hand loop"]
    assert merged.rows == [
        ["hand loop (sumy LexRank, 1 process)", "14.100 / 15.339 / 16.002", "65", "1.00x"],
        ["index, cold (empty database)", "6.685", "150 / 998 / 1,322", "2.29x"],
        ["index, nothing changed", "0.040", "25,165", "296x / 386x / 613x"],
        ["`python -m bot index --json`, nothing changed", "0.252", "3,968", "61x"],
    ]


def test_units_signs_and_percentages_are_kept() -> None:
    assert repeat.merge_cell(["2.77 ms", "2.61 ms", "2.90 ms"]) == "2.61 / 2.77 / 2.90 ms"
    assert repeat.merge_cell(["45%", "47%", "44%"]) == "44% / 45% / 47%"
    assert repeat.merge_cell(["-1.0 %", "-1.3 %", "-1.2 %"]) == "-1.3 / -1.2 / -1.0 %"
    assert repeat.merge_cell(["29.7/s", "29.5/s", "29.8/s"]) == "29.5/s / 29.7/s / 29.8/s"
    assert repeat.merge_cell(["0.0%", "0.0%", "0.0%"]) == "0.0%"
    assert repeat.merge_cell(["-0.04", "0.01", "-1,000.00"]) == "-1,000.00 / -0.04 / 0.01"
    assert repeat.merge_cell(["-0.1", "0.0", "0.1"]) == "-0.1 / 0.0 / 0.1"


def test_numbers_inside_words_and_code_are_not_figures() -> None:
    cell = "button `lt:<offset>:5` (pages 2-101), p50 on Python 3.11.7, bm25"
    assert repeat.merge_cell([cell, cell]) == cell
    assert repeat.shape("p50 of bm25 in 3.11.7") == "p50 of bm25 in 3.11.7"
    assert repeat.shape("2,000 (20.0%) in 1.51x") == "# (#%) in #x"


def test_each_number_of_a_cell_with_several_is_bracketed_when_it_varies() -> None:
    # bench/long_article.py and the chat goals print p50 / p95 / p99 in one cell
    cells = ["6.12 / 8.27 / 11.26 ms", "5.90 / 8.27 / 12.01 ms", "6.40 / 8.27 / 10.99 ms"]
    assert repeat.merge_cell(cells) == "[5.90 / 6.12 / 6.40] / 8.27 / [10.99 / 11.26 / 12.01] ms"
    # bench/chat_latency.py: a count and its share of the library
    assert (
        repeat.merge_cell(["2,000 (20.0%)", "1,291 (12.9%)", "2,000 (20.0%)"])
        == "[1,291 / 2,000 / 2,000] ([12.9% / 20.0% / 20.0%])"
    )


def test_text_that_differs_between_runs_is_listed_with_its_runs() -> None:
    cells = ["read and summarized", "refused: nested too deeply", "read and summarized"]
    assert (
        repeat.merge_cell(cells)
        == "read and summarized (runs 1, 3); refused: nested too deeply (run 2)"
    )
    assert repeat.merge_cell(["ok", "2.2 s"], [1, 3]) == "ok (run 1); 2.2 s (run 3)"
    assert repeat.merge_cell(["", "1.2"]) == "(empty) (run 1); 1.2 (run 2)"


def test_a_row_missing_from_a_run_is_merged_over_the_runs_that_have_it_and_says_so() -> None:
    lines = RUNS[1].splitlines()
    shorter = "\n".join(line for line in lines if "index, cold" not in line)
    (merged, _count), *_ = repeat.merge_tables([RUNS[0], shorter, RUNS[2]])
    assert len(merged.rows) == 4
    assert merged.rows[1] == [
        "index, cold (empty database) (in 2 of 3 runs: 1, 3)",
        "6.685",
        "150 / 574 / 998",  # the median of two: their mean
        "2.29x",
    ]
    assert merged.rows[0][1] == "14.100 / 15.339 / 16.002"
    assert merged.context == (
        "CPU busy just before the run: 0% / 3% / 12% (anything else running skews this)"
    )


def test_rows_whose_first_cells_hold_numbers_are_matched_by_position() -> None:
    def delivery(subscribers: str, rate: str, cpu: str) -> str:
        return (
            "| subscribers | configured rate | achieved rate | deviation | bot CPU per message |\n"
            "|---:|---:|---:|---:|---:|\n"
            f"| {subscribers} | 100/s (raised to run in minutes) | {rate} | -1.3 % | {cpu} |\n"
        )

    outputs = [
        delivery("10,000", "98.7/s", "5.0 ms"),
        delivery("9,998", "97.1/s", "5.3 ms"),
        delivery("10,000", "99.0/s", "4.8 ms"),
    ]
    ((merged, _count),) = repeat.merge_tables(outputs)
    assert merged.rows == [
        [
            "9,998 / 10,000 / 10,000",
            "100/s (raised to run in minutes)",
            "97.1/s / 98.7/s / 99.0/s",
            "-1.3 %",
            "4.8 / 5.0 / 5.3 ms",
        ]
    ]


def test_tables_with_the_same_header_are_told_apart_by_their_order() -> None:
    # bench/chat_latency.py prints the same table for each library size
    head = "| command | p50 ms | p95 ms | p99 ms |\n|---|---:|---:|---:|\n"

    def sizes(small: str, large: str) -> str:
        return (
            f"### 10,000 articles\n\n{head}| `/latest` | {small} | 0.84 | 1.17 |\n\n"
            f"### 100,000 articles\n\n{head}| `/latest` | {large} | 3.01 | 8.09 |\n"
        )

    merged = repeat.merge_tables([sizes("0.72", "1.34"), sizes("0.80", "1.02")])
    assert [(t.context, t.rows[0][1], n) for t, n in merged] == [
        ("### 10,000 articles", "0.72 / 0.76 / 0.80", 2),
        ("### 100,000 articles", "1.02 / 1.18 / 1.34", 2),
    ]


def test_pass_and_fail_lines_are_counted() -> None:
    runs = [
        RUNS[0],
        _index_run(5, "15.000", "150", "45x", verdict="FAIL"),
        RUNS[2],
    ]
    assert repeat.count_verdicts(runs, [1, 2, 3]) == [
        "PASS in 3 of 3 runs: cold index >= 1.5x faster than the hand loop: 2.29x",
        "PASS in 2 of 3 runs, FAIL in 1 of 3 runs (run 2):"
        " re-index, nothing changed, >= 50x faster: [45x / 386x / 613x]",
    ]
    assert repeat.count_verdicts(
        ["slowest 1.33 s against 5 s: PASS\n", "no verdict\n"], [1, 2]
    ) == ["PASS in 1 of 2 runs, not printed in run 2: slowest 1.33 s against 5 s: (verdict)"]


def test_lines_outside_tables_are_merged_when_every_run_printed_them_alike() -> None:
    merged, left_out = repeat.merge_lines(RUNS, [1, 2, 3])
    assert merged == [
        "machine: 2 CPUs, Python 3.11.7 (CPython), Linux-6.18.44-fc-v657-x86_64-with-glibc2.36",
        "CPU busy just before the run: 0% / 3% / 12% (anything else running skews this)",
    ]
    assert left_out == 0


def _run(number: int, status: int, stderr: str = "") -> object:
    return repeat.Run(
        number=number,
        started=datetime.datetime(2026, 12, 1, 20, number, tzinfo=datetime.UTC),
        cpu_busy=f"{number}%",
        load=(0.5, 0.4, 0.3),
        wall=10.0 + number,
        user=15.0,
        system=1.0 + number,
        status=status,
        stdout=RUNS[number - 1],
        stderr=stderr,
    )


def test_a_failed_run_is_reported_with_its_status_and_stderr_and_still_merged() -> None:
    runs = [
        _run(1, 0),
        _run(2, 1, "Traceback ...\nsqlite3.OperationalError: locked\n"),
        _run(3, -9),
    ]
    lines = repeat.render_runs(["python", "bench/x.py"], runs, Path("/tmp/out"))
    text = "\n".join(lines)
    assert (
        "| 2 | 2026-12-01 20:02:00 | 2% | 0.50 / 0.40 / 0.30 | 12.000 | 18.000 (15.000 + 3.000)"
        in text
    )
    assert (
        "| min / median / max | | | | 11.000 / 12.000 / 13.000 | 17.000 / 18.000 / 19.000 |" in text
    )
    assert "failed runs: 2 of 3" in text
    assert (
        "FAILED: run 2, exit 1; end of its stderr:\n    Traceback ...\n    sqlite3.Operational"
        in text
    )
    assert (
        "FAILED: run 3, killed by signal 9 (SIGKILL); end of its stderr:\n    (stderr empty)"
        in text
    )
    merged = "\n".join(repeat.render_merged(runs, 3))
    assert (
        "| hand loop (sumy LexRank, 1 process) | 14.100 / 15.339 / 16.002 | 65 | 1.00x |" in merged
    )


def test_main_runs_the_command_and_saves_each_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    machine = types.ModuleType("machine")
    machine.cpu_busy = lambda seconds=1.0: "7%"  # type: ignore[attr-defined]  # no 1 s sample
    monkeypatch.setitem(sys.modules, "machine", machine)
    code = "import sys; print('| a | b |'); print('|---|---:|'); print('| x | 3.5 |'); sys.exit(3)"
    status = repeat.main(["--runs", "2", "--out", str(tmp_path), "--", sys.executable, "-c", code])
    out = capsys.readouterr().out
    assert status == 1
    assert "failed runs: 2 of 2" in out
    assert "| x | 3.5 |" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "report.md",
        "run1.stderr",
        "run1.stdout",
        "run2.stderr",
        "run2.stdout",
    ]
    assert (tmp_path / "run2.stdout").read_text().startswith("| a | b |")
    missing = [str(tmp_path / "no-such-command")]
    assert repeat.main(["--runs", "1", "--out", str(tmp_path / "b"), "--", *missing]) == 2
