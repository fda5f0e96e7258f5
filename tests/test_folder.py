from __future__ import annotations

import os
from pathlib import Path

from bot import folder, stories
from bot.config import Settings
from bot.store import FileState

from .conftest import SAMPLE_PAGE, WriteFile, story


def options(settings: Settings) -> folder.ReadOptions:
    return folder.ReadOptions(
        settings.max_file_bytes, settings.boilerplate, settings.summary.language
    )


def test_a_read_file_brings_its_articles_band_keys_by_text(
    settings: Settings, write: WriteFile
) -> None:
    path = write("sample.txt", SAMPLE_PAGE.read_bytes())
    read = folder.read(path, "sample.txt", None, options(settings))
    assert read.parsed is not None and len(read.parsed.articles) == 2
    assert read.bands == {
        a.content_hash: stories.text_bands(a.title, a.body) for a in read.parsed.articles
    }
    assert all(read.bands.values())  # both stories are long enough to have keys
    assert read.state.error is None and read.state.size == path.stat().st_size


def test_a_batch_is_read_in_order_and_a_bad_file_costs_only_itself(
    settings: Settings, write: WriteFile
) -> None:
    good = write("good.txt", story("Good", "A body."))
    empty = write("empty.txt", b"")
    gone = good.parent / "gone.txt"
    jobs: list[folder.Job] = [
        ("good.txt", str(good), None),
        ("empty.txt", str(empty), None),
        ("gone.txt", str(gone), None),
    ]
    reads = folder.read_batch(jobs, options(settings))
    assert [r.state.path for r in reads] == ["good.txt", "empty.txt", "gone.txt"]
    assert reads[0].parsed is not None and reads[0].parsed.articles[0].title == "Good"
    assert [r.parsed for r in reads[1:]] == [None, None]
    assert reads[1].state.error == "empty file"
    assert (reads[2].state.error or "").startswith("cannot read file")


def test_a_file_touched_but_not_changed_gives_no_articles_and_its_new_time(
    settings: Settings, write: WriteFile
) -> None:
    path = write("a.txt", story("A", "A body."))
    first = folder.read(path, "a.txt", None, options(settings))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    again = folder.read(path, "a.txt", first.state, options(settings))
    assert again.parsed is None
    assert again.state.sha256 == first.state.sha256
    assert again.state.mtime_ns == stat.st_mtime_ns + 5_000_000_000


def test_a_file_is_unchanged_with_the_recorded_size_and_time_else_its_size_is_given(
    write: WriteFile, tmp_path: Path
) -> None:
    path = write("a.txt", story("A", "A body."))
    stat = path.stat()
    state = FileState("a.txt", stat.st_size, stat.st_mtime_ns, "sha", None)
    assert folder.changed_size(path, state) is None
    assert folder.changed_size(path, None) == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert folder.changed_size(path, state) == stat.st_size
    assert folder.changed_size(tmp_path / "missing.txt", state) == 0
