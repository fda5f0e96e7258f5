from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from bot import folder, index, summarize
from bot.articles import Article, ArticleError
from bot.config import Settings, SummaryOptions
from bot.index import IndexRunError, summary_key, summary_options
from bot.store import Store, open_store

from .conftest import SAMPLE_PAGE, WriteFile, sqlite_only, story


def titles(db: Store) -> list[str]:
    return sorted(s.article.title for s in db.latest(1000))


def ids_by_title(db: Store) -> dict[str, int]:
    return {s.article.title: s.id for s in db.latest(1000)}


def bump_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


@pytest.fixture
def count_summaries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every article summarized in this process."""
    seen: list[str] = []
    real = summarize.summarize

    def counting(article: Article, options: SummaryOptions) -> list[str]:
        seen.append(article.title)
        return real(article, options)

    monkeypatch.setattr(summarize, "summarize", counting)
    return seen


def test_first_index_adds_every_article_with_its_summary(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    write("sub/one.txt", story("One", "Alpha beta gamma.", "Delta epsilon."))
    report = index.run(settings, store)
    assert (report.added, report.updated, report.removed, report.unchanged) == (3, 0, 0, 0)
    assert report.failed == [] and report.files == 2
    assert report.added_ids == sorted(report.added_ids) and len(report.added_ids) == 3
    options = summary_options(settings)
    for stored in store.latest(10):
        summary = store.summary(summary_key(stored.article, options))
        assert summary and all(s in stored.article.body for s in summary)


def test_bad_files_are_reported_while_the_good_ones_load(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    write("good.txt", story("Good story", "It has a body."))
    write("empty.txt", b"")
    write("binary.bin", bytes(range(256)) * 4)
    write("headings.txt", "Heading one\n\nHeading two\n\nHeading three\n")
    write(
        "windows.txt", "Crème brûlée for €5\n\nThe café’s crème brûlée costs €5.\n".encode("cp1252")
    )
    write("huge.txt", b"x" * (settings.max_file_bytes + 1))
    write("broken.jsonl", '{"title": "JSON good", "text": "Body."}\n{oops\n')
    report = index.run(settings, store)
    failed = {f.path: f.error for f in report.failed}
    assert set(failed) == {"empty.txt", "binary.bin", "headings.txt", "huge.txt", "broken.jsonl"}
    assert failed["empty.txt"] == "empty file"
    assert "binary" in failed["binary.bin"]
    assert "heading" in failed["headings.txt"]
    assert "too large" in failed["huge.txt"]
    assert failed["broken.jsonl"].startswith("line 2: not valid JSON")
    assert titles(store) == ["Crème brûlée for €5", "Good story", "JSON good"]
    assert store.search("brulee").total == 1


def test_bad_files_are_reported_again_on_the_next_run(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    write("empty.txt", b"")
    index.run(settings, store)
    assert [f.path for f in index.run(settings, store).failed] == ["empty.txt"]


def test_reindex_with_nothing_changed_opens_no_file(
    settings: Settings, store: Store, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        write(f"{i}.txt", story(f"Story {i}", "A sentence.", "Another one."))
    index.run(settings, store)

    def no_reading(*_: object, **__: object) -> None:
        raise AssertionError("an unchanged file was read")

    monkeypatch.setattr(folder, "parse_bytes", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    report = index.run(settings, store)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 5)
    assert report.summarized == 0


def test_touched_but_unchanged_file_is_not_updated(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    path = write("a.txt", story("Story", "A sentence."))
    index.run(settings, store)
    bump_mtime(path)
    report = index.run(settings, store)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)


def test_editing_an_article_updates_it_and_keeps_its_id(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    path = write("a.txt", "First\n\nBody one.\n\n\nSecond\n\nBody two.\n")
    index.run(settings, store)
    before = ids_by_title(store)
    path.write_text("First, corrected\n\nBody one, edited.\n\n\nSecond\n\nBody two.\n")
    bump_mtime(path)
    report = index.run(settings, store)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 1)
    after = ids_by_title(store)
    assert after == {"First, corrected": before["First"], "Second": before["Second"]}


def test_a_story_added_at_the_top_of_a_file_is_the_only_new_one(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    path = write("daily.txt", "Second\n\nBody two.\n\n\nThird\n\nBody three.\n")
    index.run(settings, store)
    before = ids_by_title(store)
    path.write_text("First\n\nBody one.\n\n\nSecond\n\nBody two.\n\n\nThird\n\nBody three.\n")
    bump_mtime(path)
    report = index.run(settings, store)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 0, 0, 2)
    after = ids_by_title(store)
    assert {t: after[t] for t in before} == before
    assert report.added_ids == [after["First"]]
    assert store.search("body two").hits[0].id == before["Second"]


def test_stories_swapped_within_a_file_keep_their_ids(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    path = write("a.txt", "One\n\nBody one.\n\n\nTwo\n\nBody two.\n")
    index.run(settings, store)
    before = ids_by_title(store)
    path.write_text("Two\n\nBody two.\n\n\nOne\n\nBody one.\n")
    bump_mtime(path)
    report = index.run(settings, store)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 2)
    assert ids_by_title(store) == before
    report = index.run(settings, store)  # and the new places are recorded: nothing to do next time
    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)


def test_a_body_edit_is_matched_by_headline_even_when_the_story_moved(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    path = write("a.txt", "One\n\nBody one.\n\n\nTwo\n\nBody two.\n")
    index.run(settings, store)
    before = ids_by_title(store)
    path.write_text("Two\n\nBody two, corrected.\n\n\nOne\n\nBody one.\n")
    bump_mtime(path)
    report = index.run(settings, store)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert ids_by_title(store) == before


def test_a_story_moved_to_another_file_keeps_its_id(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    first = write("a.txt", "One\n\nBody one.\n\n\nTwo\n\nBody two.\n")
    index.run(settings, store)
    before = ids_by_title(store)
    first.write_text("One\n\nBody one.\n")
    bump_mtime(first)
    write("b.txt", "Two\n\nBody two.\n")
    report = index.run(settings, store)
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert ids_by_title(store) == before


def test_an_undated_article_keeps_the_time_it_was_first_seen(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    path = write("a.txt", story("Story", "A sentence."))
    index.run(settings, store)
    (first,) = store.latest()
    path.write_text(story("Story", "A sentence, edited."))
    bump_mtime(path)
    index.run(settings, store)
    (edited,) = store.latest()
    assert edited.id == first.id
    assert edited.article.published == first.article.published
    assert edited.article.paragraphs == ("A sentence, edited.",)


def test_removing_a_file_removes_its_articles(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    write("keep.txt", story("Keep", "Kept."))
    gone = write("gone.txt", story("Gone", "Going."))
    index.run(settings, store)
    gone.unlink()
    report = index.run(settings, store)
    assert (report.removed, report.unchanged) == (1, 1)
    assert titles(store) == ["Keep"]
    assert store.search("going").total == 0


def test_a_renamed_file_keeps_its_article_ids(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    old = write("old-name.txt", story("Moving story", "It moves."))
    index.run(settings, store)
    (before,) = store.latest()
    old.rename(old.with_name("new-name.txt"))
    report = index.run(settings, store)
    # Nothing a reader sees has changed: not news, not an update.
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 1)
    (after,) = store.latest()
    assert (after.id, after.article.source) == (before.id, "new-name.txt")


def test_a_file_that_breaks_keeps_its_articles_until_it_is_fixed(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    path = write("a.jsonl", '{"id": "x", "title": "Story", "text": "Body."}\n')
    index.run(settings, store)
    (before,) = store.latest()
    path.write_text("{truncated")
    report = index.run(settings, store)
    assert [f.path for f in report.failed] == ["a.jsonl"]
    assert (report.removed, report.unchanged) == (0, 1)
    path.write_text('{"id": "x", "title": "Story", "text": "Body, fixed."}\n')
    bump_mtime(path)
    report = index.run(settings, store)
    assert (report.updated, report.failed) == (1, [])
    (after,) = store.latest()
    assert after.id == before.id


def test_unchanged_articles_are_never_summarized_twice_across_restarts(
    settings: Settings, write: WriteFile, count_summaries: list[str]
) -> None:
    write("a.txt", story("Story A", "One.", "Two."))
    with open_store(settings.database) as db:
        index.run(settings, db)
    assert count_summaries == ["Story A"]
    write("b.txt", story("Story B", "Three.", "Four."))
    with open_store(settings.database) as db:
        index.run(settings, db)
    assert count_summaries == ["Story A", "Story B"]


def test_an_article_whose_text_comes_back_reuses_its_cached_summary(
    settings: Settings, store: Store, write: WriteFile, count_summaries: list[str]
) -> None:
    path = write("a.txt", story("Story", "Original text."))
    index.run(settings, store)
    path.write_text(story("Story", "Original text."))
    bump_mtime(path)
    index.run(settings, store)
    assert count_summaries == ["Story"]


def test_a_crash_before_commit_leaves_the_previous_state(
    settings: Settings, store: Store, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("a.txt", story("Old", "Old body."))
    index.run(settings, store)
    write("b.txt", story("New", "New body."))

    def crash(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "apply", crash)
    with pytest.raises(KeyboardInterrupt):
        index.run(settings, store)
    monkeypatch.undo()
    assert titles(store) == ["Old"]
    report = index.run(settings, store)
    assert (report.added, report.unchanged) == (1, 1)


def test_an_index_on_several_processes_stores_what_one_process_does(
    settings: Settings, tmp_path: Path, write: WriteFile
) -> None:
    # Files read, languages, story band keys and summaries made in worker processes.
    for i in range(12):
        write(f"{i:02}.txt", SAMPLE_PAGE.read_text(encoding="utf-8").replace("Azerbaijan", f"A{i}"))
    write("empty.txt", b"")
    write(
        "de.txt",
        story(
            "Ein Bericht",
            "Der Bundestag hat am Montag lange beraten und dann "
            "ein neues Gesetz beschlossen, das im Sommer gilt.",
        ),
    )
    stored = []
    for workers in (1, 2):
        tuned = dataclasses.replace(
            settings, workers=workers, database=tmp_path / f"w{workers}.sqlite3"
        )
        with open_store(tuned.database) as db:
            report = index.run(tuned, db)
            # Twelve edited first stories, one summary for the twelve identical second ones,
            # the German one.
            assert (report.added, report.summarized) == (25, 14)
            assert [(f.path, f.error) for f in report.failed] == [("empty.txt", "empty file")]
            options = summary_options(tuned)
            articles = sorted(
                (
                    s.article.key,
                    s.article.language,
                    s.article.fingerprint,
                    db.summary(summary_key(s.article, options)),
                )
                for s in db.latest(100)
            )
            bands = db.conn.execute(
                "SELECT a.key, count(*), sum(b.band % 1000003) FROM story_bands b"
                " JOIN articles a ON a.id = b.article_id GROUP BY a.key ORDER BY a.key"
            ).fetchall()
            stories = db.conn.execute(
                "SELECT a.key, h.key FROM articles a JOIN articles h ON h.id = a.story_id"
                " ORDER BY a.key"
            ).fetchall()
            stored.append((articles, [tuple(r) for r in bands], [tuple(r) for r in stories]))
    assert stored[0] == stored[1]
    articles, bands, _ = stored[1]
    assert all(summary for *_, summary in articles)
    assert {language for _, language, *_ in articles} == {"en", "de"}
    assert len(bands) == 24  # every article long enough to have keys (not the German one)


def test_each_batch_of_articles_is_written_with_the_summaries_it_lacks(
    settings: Settings, store: Store, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Summaries are made by the workers while the articles are written: each batch is written
    # with its own, in one transaction (a /latest meanwhile must not find one without).
    tuned = dataclasses.replace(settings, workers=2)
    for i in range(30):
        write(f"{i:02}.txt", story(f"Story {i}", f"Sentence {i} one.", "Two.", "Three.", "Four."))
    real = Store.apply
    batches: list[int] = []

    def checking(self: Store, changes: object, **kwargs: object) -> object:
        made_for = kwargs["summaries"]

        def summaries(articles: list[Article]) -> object:
            made = made_for(articles)  # type: ignore[operator]
            keys = {summary_key(a, summary_options(tuned)) for a in articles}
            assert self.missing_summaries(keys) == {key for key, _ in made}
            batches.append(len(articles))
            return made

        return real(self, changes, **{**kwargs, "summaries": summaries})  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "apply", checking)
    report = index.run(tuned, store)
    assert report.added == 30 and sum(batches) == 30
    options = summary_options(tuned)
    assert all(store.summary(summary_key(s.article, options)) for s in store.latest(100))


def test_two_runs_at_once_add_each_article_once(settings: Settings, write: WriteFile) -> None:
    for i in range(6):
        write(f"{i}.txt", story(f"Story {i}", "A sentence.", "Another sentence."))
    reports: list[index.Report] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with open_store(settings.database) as db:
                reports.append(index.run(settings, db))
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.added for r in reports) == [0, 0, 6]
    with open_store(settings.database) as db:
        assert db.count() == 6


def test_hidden_files_and_folders_are_skipped(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    write(".DS_Store", bytes(range(256)))
    write(".git/config", "[core]\n")
    write("a.txt~", "backup")
    write("a.txt", story("Visible", "Body."))
    report = index.run(settings, store)
    assert (report.files, report.failed, titles(store)) == (1, [], ["Visible"])


def test_progress_is_reported_per_file_and_per_summary(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    write("a.txt", story("A", "Body."))
    write("b.txt", story("B", "Body."))
    calls: list[tuple[str, int, int]] = []
    index.run(settings, store, progress=lambda *call: calls.append(call))
    assert calls == [("read", 1, 2), ("read", 2, 2), ("summarize", 1, 2), ("summarize", 2, 2)]


def test_a_missing_articles_folder_is_a_clear_error(settings: Settings, store: Store) -> None:
    missing = dataclasses.replace(settings, articles_dir=settings.articles_dir / "nope")
    with pytest.raises(IndexRunError, match=r"articles folder .*nope does not exist"):
        index.run(missing, store)


def test_report_as_dict_has_the_documented_keys(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    write("empty.txt", b"")
    data = index.run(settings, store).as_dict()
    assert {"added", "updated", "removed", "unchanged", "failed"} <= set(data)
    assert data["failed"] == [{"path": "empty.txt", "error": "empty file"}]


def test_new_articles_sharing_one_url_in_one_run_are_one_story(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    # A feed whose entries all link to one page gives several new articles with one canonical
    # URL in the same run; the first of them has no story yet when the next one looks for it.
    lines = [
        f'{{"title": "Entry {i}", "text": "Paragraph number {i} of the story.",'
        f' "url": "https://site.example/same?utm_source={i}"}}'
        for i in range(3)
    ]
    write("same.jsonl", "\n".join(lines) + "\n")
    report = index.run(settings, store)
    assert report.added == 3 and not report.failed
    heads = store.latest(10)  # one line per story
    assert [h.id for h in heads] == report.added_ids[:1]
    assert [s[0] for s in store.story_sources(heads[0].id)] == report.added_ids[1:]


def test_an_article_the_store_cannot_take_is_reported_and_the_others_load(
    settings: Settings, store: Store, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.store import articles as store_articles

    real = store_articles._article_row

    def fussy(article: Article) -> tuple[object, ...]:
        if article.title == "Poison":
            raise ValueError("cannot be stored")
        return real(article)

    monkeypatch.setattr(store_articles, "_article_row", fussy)
    write("good.txt", story("Good story", "It has a body."))
    write("bad.txt", story("Poison", "It has a body too."))
    report = index.run(settings, store)
    assert titles(store) == ["Good story"]
    assert [(f.path, f.error) for f in report.failed] == [
        ("bad.txt", "Poison: could not be stored (ValueError: cannot be stored)")
    ]


FILE_CONTENTS = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=400).map(str.encode),
    st.lists(
        st.sampled_from(
            [
                "Headline here",
                "",
                "",
                "A sentence of body text, as scraped.",
                "Exit mobile version",
                "<p>Some <b>HTML</b> text.</p>",
                '{"title": "T", "text": "Body text here."}',
                '{"title": "T", "url": "https://a.example/x", "text": "Same link."}',
                "---",
                "title: x",
                "# Heading",
            ]
        ),
        max_size=12,
    ).map(lambda lines: "\n".join(lines).encode()),
)


@examples(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.lists(
        st.tuples(st.sampled_from([".txt", ".md", ".json", ".jsonl", ".html"]), FILE_CONTENTS),
        min_size=1,
        max_size=6,
    )
)
def test_whatever_the_files_hold_the_index_run_completes_and_accounts_for_each(
    files: list[tuple[str, bytes]], settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("articles")
    for number, (suffix, content) in enumerate(files):
        (folder / f"f{number}{suffix}").write_bytes(content)
    run_settings = dataclasses.replace(settings, articles_dir=folder)
    with Store(":memory:") as db:
        report = index.run(run_settings, db)
        sources = {s.article.source for s in db.latest(1000)} | {
            src for s in db.latest(1000) for _, _, _, src in db.story_sources(s.id)
        }
        failed = {f.path for f in report.failed}
        # Every file gave articles, or is listed with a reason (or both: some entries failed).
        assert {f"f{n}{suffix}" for n, (suffix, _) in enumerate(files)} <= sources | failed
        assert all(f.error for f in report.failed)
        assert index.run(run_settings, db).added == 0  # and a second run finds nothing new


def test_a_link_out_of_the_articles_folder_is_never_read(
    settings: Settings, store: Store, write: WriteFile, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(story("Root password", "The password is hunter2."))
    inside = write("real.txt", story("Real story", "It is in the folder."))
    (settings.articles_dir / "passwd.txt").symlink_to(secret)
    (settings.articles_dir / "alias.txt").symlink_to(inside)
    (settings.articles_dir / "loop-a.txt").symlink_to(settings.articles_dir / "loop-b.txt")
    (settings.articles_dir / "loop-b.txt").symlink_to(settings.articles_dir / "loop-a.txt")
    (settings.articles_dir / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    (settings.articles_dir / "etc").symlink_to(tmp_path)
    (settings.articles_dir / "again").symlink_to(settings.articles_dir)

    report = index.run(settings, store)

    assert store.search("hunter2").total == 0
    assert titles(store) == ["Real story"]  # the link inside is the same story, once
    failed = {f.path: f.error for f in report.failed}
    assert failed == {
        "passwd.txt": "link to a file outside the articles folder (not read)",
        "loop-a.txt": "symbolic link loop (not read)",
        "loop-b.txt": "symbolic link loop (not read)",
        "gone.txt": "symbolic link to nothing (not read)",
        "etc": "link to a folder outside the articles folder (not read)",
        "again": "link to a folder (not followed; its files are read)",
    }


def test_a_file_swapped_for_a_link_after_the_scan_is_not_read(
    settings: Settings, store: Store, write: WriteFile, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(story("Root password", "The password is hunter2."))
    path = write("story.txt", story("Story", "Body text."))
    path.unlink()
    path.symlink_to(secret)
    with pytest.raises(ArticleError, match="symbolic link"):
        folder.read_no_link(path)


@sqlite_only
def test_a_damaged_database_stops_the_run_rather_than_failing_each_article(
    settings: Settings, store: Store, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import store as store_module
    from bot.store import articles as store_articles

    def damaged(article: Article) -> tuple[object, ...]:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(store_articles, "_article_row", damaged)
    write("a.txt", story("A story", "It has a body."))
    with pytest.raises(store_module.DatabaseUnusable, match="is damaged"):
        index.run(settings, store)


def test_a_file_that_takes_longer_than_the_budget_to_read_is_named_in_the_report(
    settings: Settings, store: Store, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder, "READ_BUDGET", 0.0)
    write("slow.txt", story("Slow story", "It has a body."))
    report = index.run(settings, store)
    assert titles(store) == ["Slow story"]  # read, and reported
    ((path, error),) = [(f.path, f.error) for f in report.failed]
    assert path == "slow.txt"
    assert error.startswith("read in ") and error.endswith("s, over the 0 s budget per file")


def test_files_go_to_the_workers_in_batches_of_a_few_files_or_about_a_megabyte() -> None:
    jobs: list[folder.Job] = [(f"{i}.txt", f"/a/{i}.txt", None) for i in range(7)]
    sizes = [10, 10, 10, 900_000, 300_000, 5_000_000, 10]
    batches = index._batches(jobs, sizes, most=3)
    assert [[rel for rel, _, _ in batch] for batch in batches] == [
        ["0.txt", "1.txt", "2.txt"],  # three at most
        ["3.txt"],  # the next one would pass a megabyte
        ["4.txt"],
        ["5.txt"],  # one big file alone
        ["6.txt"],
    ]
