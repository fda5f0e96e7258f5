from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import store as store_module
from bot import stories
from bot.articles import Article, Block
from bot.store import (
    MARK_END,
    MARK_START,
    MIGRATIONS,
    Changes,
    DatabaseUnusable,
    FileState,
    SearchTimeout,
    Store,
    StoreUnavailable,
    SummaryKey,
    is_url,
    parse_query,
    pg_search,
    story_bands,
)
from bot.store import articles as store_articles
from bot.store import search as store_search
from bot.store import snippets as store_snippets
from bot.store import sqlite as sqlite_engine
from bot.store.migrations import run_step
from bot.store.room import Database

from .conftest import fts5_only

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def article(
    title: str, body: str, *, source: str = "a.txt", ordinal: int = 0, days: int = 0
) -> Article:
    return Article(
        title=title,
        blocks=(Block(body),),
        source=source,
        ordinal=ordinal,
        published=T0 + timedelta(days=days),
    )


def add(db: Store, *articles: Article) -> list[int]:
    return db.apply(Changes([], [], list(articles), [], [], {})).added_ids


@contextlib.contextmanager
def database_before(path: Path, migration: str) -> Iterator[sqlite3.Connection]:
    """A SQLite database as the release before `migration` left it (every earlier migration
    run, user_version set), open for a test to put old rows in."""
    version = [name for name, _ in MIGRATIONS].index(migration)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.row_factory = sqlite3.Row
        for _, steps in MIGRATIONS[:version]:
            for step in steps:
                run_step(conn, step)
        conn.execute(f"PRAGMA user_version = {version}")
        yield conn


# -- schema ------------------------------------------------------------------------------------


def test_a_new_database_file_is_created_with_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "news.sqlite3"
    with Store(path) as db:
        assert db.schema_version == len(MIGRATIONS)
        assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert path.is_file()


def test_reopening_keeps_the_data_and_runs_no_migration_twice(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    with Store(path) as db:
        (article_id,) = add(db, article("Kept", "Still here."))
    with Store(path) as db:
        stored = db.get(article_id)
        assert stored is not None
        assert stored.article.title == "Kept"
        assert db.schema_version == len(MIGRATIONS)


def test_articles_round_trip_with_all_their_fields(engine_store: Store) -> None:
    original = Article(
        title="Title",
        blocks=(Block("Para one."), Block("Sub", heading=True), Block("Para two.")),
        source="dir/x.json",
        published=datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        dated=True,
        ordinal=3,
        url="https://example.org/x",
        tags=("a", "b"),
        language="english",
        external_id="ext-1",
        author="A. Writer",
        image="https://img.example.org/x.jpg?w=1200&q=80",
    )
    (article_id,) = add(engine_store, original)
    stored = engine_store.get(article_id)
    assert stored is not None
    assert stored.article == original
    assert stored.article.fingerprint == original.fingerprint


def test_articles_and_stories_are_counted_through_adds_moves_and_removals(
    engine_store: Store,
) -> None:
    """count() as a count of the rows would give it (PostgreSQL keeps counts by a trigger)."""
    store = engine_store
    text = "The harbour ferry sailed again on Monday after three weeks of repairs to its hull."
    same = [
        Article(title=f"Ferry back {n}", blocks=(Block(text * 3),), source=f"s{n}.txt",
                published=T0, url="https://example.com/ferry", language="en")
        for n in range(2)
    ]  # fmt: skip
    other = dataclasses.replace(article("Choir", "Songs."), language="fr", source="c.txt")
    ids = add(store, *same, other)

    def counted() -> tuple[int, int, int, int]:
        return (
            store.count(),
            store.count(heads_only=True),
            store.count(language="en"),
            store.count(language="en", heads_only=True),
        )

    def rows() -> tuple[int, int, int, int]:
        every = store.conn.execute("SELECT id, story_id, language FROM articles").fetchall()
        heads = [r for r in every if r[1] == r[0]]
        return (
            len(every),
            len(heads),
            sum(1 for r in every if r[2] == "en"),
            sum(1 for r in heads if r[2] == "en"),
        )

    assert counted() == rows() == (3, 2, 2, 1)  # the two ferries are one story
    store.apply(Changes([], [], [], [], [ids[0]], {}))  # its first article goes: the next leads
    assert counted() == rows() == (2, 2, 1, 1)
    store.apply(Changes([], [], [], [(ids[2], dataclasses.replace(other, language="en"))], [], {}))
    assert counted() == rows() == (2, 2, 2, 2)


WIRE = (
    "The town council approved a second bridge over the river on Monday evening after a"
    " debate that ran past midnight. The crossing will link the station with the new housing"
    " on the east bank. Councillors voted 21 to 9 for the plan, which had been delayed twice"
    " by arguments over its cost. Building work is expected to start in the spring."
)


def test_a_near_duplicate_within_the_window_joins_the_story_and_a_later_one_does_not(
    engine_store: Store,
) -> None:
    edited = WIRE.replace("Monday evening", "Monday night")
    first, near, late = add(
        engine_store,
        article("Bridge approved", WIRE, source="a.txt"),
        article("Council backs bridge", edited, source="b.txt", days=1),
        article("Bridge approved", WIRE, source="c.txt", days=5),
    )
    heads = dict(engine_store.conn.execute("SELECT id, story_id FROM articles").fetchall())
    assert heads == {first: first, near: first, late: late}
    keys = stories.bands(stories.shingles(f"Bridge approved {WIRE}"))

    def proposed(days: int) -> list[int]:
        published = (T0 + timedelta(days=days)).timestamp()
        return sorted(m[0] for m in story_bands.candidates(engine_store.conn, 0, keys, published))

    # Four days apart is not even a candidate: the window is a range of the index.
    assert proposed(5) == [late]
    assert proposed(4) == [near, late]
    assert proposed(3) == [first, near, late]


def _boilerplate(k: int) -> Article:
    """One of many articles that share a long boilerplate paragraph, one an hour back from T0."""
    unique = " ".join(f"u{k}x{j}" for j in range(60))
    item = article(f"Item {k}", f"{WIRE} {unique}", source=f"{k}.txt")
    return dataclasses.replace(item, published=T0 - timedelta(hours=k))


def test_candidate_rows_read_per_new_article_do_not_grow_with_the_library(
    engine_store: Store,
) -> None:
    """The candidate query reads the rows of articles within the window only (each matching
    row counted once): the same at 200 and at 2,000 articles that all share their boilerplate."""
    probe = _boilerplate(0)
    keys = stories.bands(stories.shingles(f"{probe.title} {probe.body}"))

    def rows_read() -> int:
        found = story_bands.candidates(engine_store.conn, 0, keys, probe.published.timestamp())
        return sum(shared for _, shared in found)

    add(engine_store, *(_boilerplate(k) for k in range(200, 0, -1)))
    small = rows_read()
    add(engine_store, *(_boilerplate(k) for k in range(2000, 200, -1)))
    assert 0 < rows_read() == small <= 72 * stories.BANDS  # 72 hours in the window


def test_ids_of_removed_articles_are_never_given_again(engine_store: Store) -> None:
    first, second = add(engine_store, article("A", "a."), article("B", "b.", ordinal=1))
    engine_store.apply(Changes([], [], [], [], [second], {}))
    (third,) = add(engine_store, article("C", "c.", ordinal=2))
    assert third > second > first
    assert engine_store.get(second) is None


def test_a_failure_inside_apply_leaves_the_previous_state(
    engine_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(engine_store, article("Old", "Old text."))
    real_row = store_articles._article_row
    calls = []

    def fail_on_second(a: Article) -> tuple[object, ...]:
        calls.append(a)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real_row(a)

    monkeypatch.setattr(store_articles, "_article_row", fail_on_second)
    files = [FileState("n.txt", 1, 1, "sha")]
    new = [article("N1", "x.", source="n.txt", ordinal=1), article("N2", "y.", source="n.txt")]
    with pytest.raises(RuntimeError, match="power cut"):
        engine_store.apply(Changes(files, [], new, [], [], {}))
    assert [s.article.title for s in engine_store.latest()] == ["Old"]
    assert engine_store.file_states() == {}
    assert engine_store.search("x").total == 0


def test_a_crash_between_batches_keeps_what_was_written_and_the_file_is_read_again(
    engine_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_row = store_articles._article_row

    def fail_on_n5(a: Article) -> tuple[object, ...]:
        if a.title == "N5":
            raise RuntimeError("power cut")
        return real_row(a)

    monkeypatch.setattr(store_articles, "_article_row", fail_on_n5)
    files = [FileState("a.txt", 1, 1, "sha-a"), FileState("b.txt", 1, 1, "sha-b")]
    new = [
        article(f"N{i}", f"Text {i}.", source="ab"[i // 4] + ".txt", ordinal=i) for i in range(8)
    ]
    with pytest.raises(RuntimeError, match="power cut"):
        engine_store.apply(Changes(files, [], new, [], [], {}), batch_size=2)
    # a.txt's four articles were written with its row; b.txt is read again on the next run.
    assert sorted(s.article.title for s in engine_store.latest()) == ["N0", "N1", "N2", "N3"]
    assert set(engine_store.file_states()) == {"a.txt"}


def test_a_run_larger_than_sqlites_variable_limit_is_written(engine_store: Store) -> None:
    # Builds differ in how many values one statement may take (999 in old ones, 32,766 in
    # common ones): no statement may take one value per new article.
    if not is_url(engine_store.path):
        engine_store.sqlite.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 50)
    engine_store.subscribe(7, "private", "")
    new = [article(f"Story {i}", f"Text number {i} here.", ordinal=i) for i in range(120)]
    applied = engine_store.apply(Changes([], [], new, [], [], {}), batch_size=100)
    assert len(applied.added_ids) == 120
    assert applied.queued == 120


def test_latest_is_newest_first(engine_store: Store) -> None:
    add(
        engine_store,
        article("Old", "o.", days=1),
        article("New", "n.", ordinal=1, days=3),
        article("Mid", "m.", ordinal=2, days=2),
    )
    assert [s.article.title for s in engine_store.latest(2)] == ["New", "Mid"]
    assert [s.article.title for s in engine_store.latest(2, offset=2)] == ["Old"]
    assert engine_store.count() == 3


# -- summaries -----------------------------------------------------------------------------------


def test_summary_cache_is_keyed_by_text_algorithm_length_and_language(
    engine_store: Store,
) -> None:
    key = SummaryKey("hash", "lexrank", 3, "english")
    assert engine_store.summary(key) is None
    engine_store.put_summaries([(key, ["One.", "Two."])])
    assert engine_store.summary(key) == ["One.", "Two."]
    other = SummaryKey("hash", "lexrank", 4, "english")
    assert engine_store.missing_summaries([key, other]) == {other}


def test_summaries_of_texts_no_article_has_are_dropped(engine_store: Store) -> None:
    kept, dropped = article("K", "k."), article("D", "d.", ordinal=1)
    _, dropped_id = add(engine_store, kept, dropped)
    keys = [SummaryKey(a.content_hash, "lead", 3, "english") for a in (kept, dropped)]
    engine_store.put_summaries([(k, ["s."]) for k in keys])
    engine_store.apply(Changes([], [], [], [], [dropped_id], {}))
    assert engine_store.missing_summaries(keys) == {keys[1]}


# -- search ------------------------------------------------------------------------------------


def test_search_ranks_a_title_match_above_a_body_match(engine_store: Store) -> None:
    add(
        engine_store,
        article("Council meets", "The budget for the harbour was discussed at length.", days=5),
        article("Harbour reopens", "Boats are back after the repairs.", ordinal=1),
    )
    result = engine_store.search("harbour")
    assert [h.title for h in result.hits] == ["Harbour reopens", "Council meets"]
    assert result.total == 2


def test_search_stems_words(engine_store: Store) -> None:
    add(engine_store, article("Rivers", "Heavy flooding closed the roads."))
    assert engine_store.search("floods").total == 1
    assert engine_store.search("road").total == 1


def test_search_ignores_accents(engine_store: Store) -> None:
    add(engine_store, article("Café", "The café reopened."))
    assert engine_store.search("cafe").total == 1


def test_search_snippet_marks_the_match(engine_store: Store) -> None:
    add(engine_store, article("T", "Nothing here. The rare platypus was seen. Nothing more."))
    (hit,) = engine_store.search("platypus").hits
    assert f"{MARK_START}platypus{MARK_END}" in hit.snippet_marked
    assert "platypus" in hit.snippet and MARK_START not in hit.snippet


def test_search_puts_the_newest_first_among_equals(engine_store: Store) -> None:
    add(
        engine_store,
        article("Storm", "Wind.", days=1),
        article("Storm", "Wind.", ordinal=1, days=9),
        article("Storm", "Wind.", ordinal=2, days=5),
    )
    published = [h.published for h in engine_store.search("storm").hits]
    assert published == sorted(published, reverse=True)


def test_search_with_several_words_needs_all_then_relaxes(engine_store: Store) -> None:
    add(
        engine_store,
        article("Trains", "The trains are late."),
        article("Buses", "The buses are late too.", ordinal=1),
    )
    both = engine_store.search("late trains")
    assert ([h.title for h in both.hits], both.relaxed) == (["Trains"], False)
    either = engine_store.search("trains buses")
    assert (either.total, either.relaxed) == (2, True)


def test_search_understands_phrases_prefixes_exclusions_and_title(engine_store: Store) -> None:
    add(
        engine_store,
        article("Election night", "The prime minister conceded early.", days=1),
        article("Minister resigns", "A minister resigned over the election.", ordinal=1),
    )
    assert [h.title for h in engine_store.search('"prime minister"').hits] == ["Election night"]
    assert engine_store.search("elect*").total == 2
    assert [h.title for h in engine_store.search("election -resigned").hits] == ["Election night"]
    assert [h.title for h in engine_store.search("title:minister").hits] == ["Minister resigns"]
    assert engine_store.search("conceded OR resigned").total == 2


def test_a_word_beginning_matches_words_as_written_not_only_their_stems(
    engine_store: Store,
) -> None:
    # The index holds Porter stems: "election" is "elect", which "electi*" does not begin.
    add(
        engine_store,
        article("Election night", "The count went on until dawn.", days=1),
        article("Electricity prices", "Power bills rose again.", ordinal=1),
        article("Harbour news", "Ferries were late.", ordinal=2),
    )
    assert [h.title for h in engine_store.search("electi*").hits] == ["Election night"]
    assert [h.title for h in engine_store.search("title:electi* count").hits] == ["Election night"]
    assert engine_store.search("electr*").total == 1
    assert engine_store.search("ferri*").total == 1
    assert engine_store.search("elect*").total == 2


@fts5_only
def test_a_word_beginning_is_searched_as_the_words_it_stands_for_with_the_same_matches(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite reads "gov*" as ("govern" OR "governor" ...): FTS5 otherwise merges the lists of
    # every such word over the whole library, in each statement. What matches is the same.
    add(
        store,
        article("Government falls", "Ministers left.", days=3),
        article("Governor speaks", "The hospitals were full.", ordinal=1, days=2),
        article("Harbour news", "Gövernance of the port, said the governors.", ordinal=2, days=1),
        article("Weather", "Rain.", ordinal=3),
    )
    searches = ["gov*", "GOV*", "title:gov*", "gov* -rain", "weather OR gov*", "Hospitals*"]
    searches += ["electi*", "zzz*", "gov* port"]
    assert '"governor"' in store._expanded(parse_query("gov*") or pytest.fail()).strict
    expanded = {
        q: (store.search(q).total, {h.title for h in store.search(q).hits}) for q in searches
    }
    assert expanded["gov*"] == (3, {"Government falls", "Governor speaks", "Harbour news"})
    assert expanded["title:gov*"][0] == 2
    assert expanded["Hospitals*"] == (1, {"Governor speaks"})
    assert expanded["gov* port"] == (1, {"Harbour news"})
    monkeypatch.setattr(store_search, "PREFIX_WORDS", 0)  # every beginning left to FTS5
    assert {
        q: (store.search(q).total, {h.title for h in store.search(q).hits}) for q in searches
    } == expanded
    monkeypatch.undo()
    # The snippet still marks the words the beginning stood for.
    assert "governors" in store.search("gov* port").hits[0].snippet
    # The words are listed again once the index changes: a new word is found at once.
    add(store, article("Govzilla", "A new word.", ordinal=9, days=9))
    assert store.search("gov*").total == 4


@fts5_only
def test_a_phrase_of_common_words_is_looked_for_among_the_newest_articles_and_says_so(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each word of "red car" is in every article; the phrase only in the first and the last.
    bodies = [
        "A red car.",
        "Car, red.",
        "Red or car.",
        "Car and red.",
        "Red, then car.",
        "A red car!",
    ]
    ids = add(store, *(article(f"A{i}", b, ordinal=i, days=i) for i, b in enumerate(bodies)))
    whole = store.search('"red car"')
    assert (whole.total, whole.searched) == (2, None)
    # Past PHRASE_CANDIDATES articles with each word: only the newest 3 (where "red" and "car"
    # are in 2 + 1), and the reply is told so.
    monkeypatch.setattr(store_search, "PHRASE_CANDIDATES", 2)
    newest = store.search('"red car"')
    assert ([h.id for h in newest.hits], newest.total, newest.searched) == ([ids[-1]], 1, 3)
    assert store.search('"car red"').searched == 3  # none among the newest: still said
    assert store.search('"red car" or').total == 1
    # A phrase with a rarer word is looked for everywhere; so is one that fills the window.
    assert store.search('"then car"').searched is None
    assert store.search("red car").searched is None
    monkeypatch.setattr(store_search, "RANK_WINDOW", 1)
    assert store.search('"red car"').searched is None


@fts5_only
def test_a_phrase_looked_for_among_the_newest_ranks_title_matches_first_and_narrows_by_language(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "red" and "car" in every article; the phrase in three bodies, and one older title.
    rows = [
        ("Car and red", "A red car.", "en"),
        ("A red car", "Then a red car again.", "en"),
        ("Car, red", "Red or car.", "de"),
        ("Red and car", "Le red car.", "fr"),
        ("Car and red", "The red car won.", "en"),
    ]
    ids = add(
        store,
        *(
            dataclasses.replace(article(t, b, ordinal=i, days=i), language=lang)
            for i, (t, b, lang) in enumerate(rows)
        ),
    )
    monkeypatch.setattr(store_search, "PHRASE_CANDIDATES", 3)
    newest = store.search('"red car"')
    # Among the newest 4: the one with the phrase in its title first, then the newest.
    assert newest.searched == 4
    assert [h.id for h in newest.hits] == [ids[1], ids[4], ids[3]]
    english = store.search('"red car"', language="en")
    assert ([h.id for h in english.hits], english.total) == ([ids[1], ids[4]], 2)
    assert store.search('"red car"', language="de").total == 0
    # Snippets still mark the phrase where it is.
    assert f"{MARK_START}red" in english.hits[1].snippet_marked


def test_search_pages(engine_store: Store) -> None:
    add(engine_store, *(article(f"Storm {i}", "Wind.", ordinal=i, days=i) for i in range(5)))
    page = engine_store.search("storm", limit=2, offset=2)
    assert (len(page.hits), page.total) == (2, 5)


NASTY = [
    '"',
    "*",
    "(",
    ")",
    "NEAR",
    "NEAR(",
    "-",
    "--",
    "AND OR NOT",
    "title:x",
    "body:",
    "x:y",
    "🎉",
    "🎉 flood",
    '"*(NEAR -',
    "'; DROP TABLE articles; --",
    "^flood",
    "flood +water",
    "{title body}: flood",
    "a" * 5000,
    "flood " * 1000,
    "\x00\x01",
    "",
    "   ",
    "NOT flood",
    "-flood",
    'title:"',
]


@pytest.mark.parametrize("query", NASTY)
def test_any_text_is_a_valid_query(
    engine_store: Store, query: str, caplog: pytest.LogCaptureFixture
) -> None:
    add(engine_store, article("Flood", "Water everywhere."))
    result = engine_store.search(query)
    assert result.total == len(result.hits) <= 1
    # The search answers nothing rather than fail when FTS5 rejects a query, and says so in
    # the log: that answer must never have been needed.
    assert not [r for r in caplog.records if r.getMessage().startswith("FTS5 rejected")]


def test_random_punctuation_soup_never_reaches_fts5_as_a_syntax_error(
    engine_store: Store,
) -> None:
    add(engine_store, article("Flood", "Water everywhere."))
    alphabet = list("\"*()-:^+{}[],.;NEAR AND OR NOT flood title body 🎉'\\")
    rng = random.Random(1)
    for _ in range(500):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        parsed = parse_query(query)
        if parsed is None:
            continue
        if is_url(engine_store.path):  # the same terms, as PostgreSQL's tsquery
            strict, relaxed, _ = pg_search.queries(parsed)
            sql = "SELECT count(*) FROM articles_fts WHERE document @@ to_tsquery('newsbot', ?)"
        else:
            strict, relaxed = parsed.strict, parsed.relaxed
            sql = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?"
        for expression in filter(None, (strict, relaxed)):
            try:
                engine_store.conn.execute(sql, (expression,)).fetchone()
            except Exception as exc:  # pragma: no cover - the failure message
                pytest.fail(f"{query!r} -> {expression!r}: {exc}")


def test_query_without_words_is_no_query() -> None:
    assert parse_query('*(-"') is None
    assert parse_query("AND OR NOT NEAR") is None


def test_query_words_are_quoted_and_capped() -> None:
    parsed = parse_query("a b")
    assert parsed is not None
    assert (parsed.strict, parsed.relaxed) == ('("a" AND "b")', '("a" OR "b")')
    long = parse_query(" ".join(f"w{i}" for i in range(100)))
    assert long is not None and long.strict.count('"') == 2 * store_module.MAX_QUERY_TERMS


def test_search_ranks_only_the_newest_matches_of_a_very_common_word(
    engine_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_search, "RANK_WINDOW", 3)
    monkeypatch.setattr(pg_search, "RANK_WINDOW", 3)  # its own (smaller) window
    ids = add(engine_store, *(article(f"Storm {i}", "Wind.", ordinal=i, days=i) for i in range(5)))
    result = engine_store.search("storm", limit=10)
    assert result.total == 3
    assert sorted(h.id for h in result.hits) == ids[-3:]
    assert engine_store.search("storm 4").total == 1  # a rarer query is ranked whole


def _stop_word_library(db: Store) -> list[int]:
    """Six articles with "storm" (a stop word when STOP_WORD_ARTICLES is 2), two of them with
    "flood" too, one with "storm" in its title, the oldest."""
    return add(
        db,
        article("Storm over the coast", "Rain.", days=0),
        article("Weather", "Storm storm storm storm. Flood flood.", ordinal=1, days=1),
        article("Weather", "A storm. " + "Calm day. " * 40 + "A flood.", ordinal=2, days=2),
        article("Weather", "Storm storm storm, a storm again.", ordinal=3, days=3),
        article("Weather", "Storm.", ordinal=4, days=4),
        article("Weather", "Storm and gales, and a storm.", ordinal=5, days=5),
    )


def test_a_stop_word_ranks_by_title_then_newest(monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(":memory:") as db:
        ids = _stop_word_library(db)
        monkeypatch.setattr(store_search, "STOP_WORD_ARTICLES", 2)
        result = db.search("storm", limit=10)
    # Not by how often the word is in an article: its title first, then the newest first.
    assert [h.id for h in result.hits] == [ids[0], *reversed(ids[1:])]
    assert result.total == 6


def test_a_stop_word_leaves_the_ranking_to_the_other_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Store(":memory:") as db:
        ids = _stop_word_library(db)
        exact = db.search("flood storm", limit=10)
        either = db.search("flood OR storm", limit=10)
        monkeypatch.setattr(store_search, "STOP_WORD_ARTICLES", 2)
        stopped = db.search("flood storm", limit=10)
        stopped_either = db.search("flood OR storm", limit=10)
        flood = db.search("flood", limit=10)
    # The articles with "flood" in the order "flood" alone gives, as ranking all of them does.
    assert [h.id for h in stopped.hits] == [h.id for h in flood.hits] == [h.id for h in exact.hits]
    assert stopped.total == exact.total == 2
    # With OR: those after them have none of the other words; newest first (title first).
    assert [h.id for h in stopped_either.hits] == [
        *(h.id for h in flood.hits),
        ids[0],
        ids[5],
        ids[4],
        ids[3],
    ]
    assert stopped_either.total == either.total == 6


def test_an_excluded_stop_word_leaves_the_ranking_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Store(":memory:") as db:
        _stop_word_library(db)
        add(db, article("Flood", "A flood, no wind.", ordinal=9, days=9))
        add(db, article("Quiet", "A flood, and a long quiet day after it.", ordinal=10, days=8))
        add(db, *(article("Sunny", "Sun.", ordinal=20 + i, days=i) for i in range(6)))
        exact = db.search("flood -storm", limit=10)
        # "storm" (in 6 articles) is a stop word, "flood" (in 4) is not.
        monkeypatch.setattr(store_search, "STOP_WORD_ARTICLES", 4)
        stopped = db.search("flood -storm", limit=10)
    assert [(h.id, h.score) for h in stopped.hits] == [(h.id, h.score) for h in exact.hits]
    assert stopped.total == exact.total == 2 and exact.hits[0].score > 0.1


def test_a_word_said_again_is_looked_for_once() -> None:
    parsed = parse_query("harbour " * 32)
    assert parsed is not None and (parsed.strict, parsed.relaxed) == ('"harbour"', None)
    parsed = parse_query("Harbour harbour -ferry -ferry title:harbour harbour")
    assert parsed is not None
    assert parsed.strict == '("Harbour" AND title : "harbour") NOT "ferry"'
    # Repeats do not use up the word limit: the words after them still count.
    many = parse_query("x " * 100 + " ".join(f"w{i}" for i in range(40)))
    assert many is not None and many.strict.count('"') == 2 * store_module.MAX_QUERY_TERMS
    assert '"w30"' in many.strict


def test_snippets_come_from_the_first_64_kb_of_a_body(engine_store: Store) -> None:
    filler = "Nothing happens on this quiet coast today. " * 2000  # 86,000 characters
    near, far = add(
        engine_store,
        article("Near", "The harbour reopened. " + filler + " The harbour again."),
        article("Far", filler + " The harbour flooded.", ordinal=1),
    )
    hits = {hit.id: hit.snippet_marked for hit in engine_store.search("harbour").hits}
    assert hits[near].startswith(f"The {MARK_START}harbour{MARK_END} reopened.")
    # A match only past the first 64 KB gives the text's beginning, unmarked.
    assert hits[far].startswith("Nothing happens") and MARK_START not in hits[far]
    assert all(len(s) <= store_snippets.SNIPPET_MAX_CHARS + 2 for s in hits.values())


def test_a_snippet_has_the_most_matches_and_whole_marks_where_cut() -> None:
    start, end = MARK_START, MARK_END
    marked = "w " * 100 + f"{start}prime minister{end} " + "a " * 50 + f"{start}x{end} " * 3
    snippet = store_module.snippet_window(marked + "end")
    assert snippet.startswith("…") and snippet.count(start) == snippet.count(end) == 3
    # A window that begins inside a marked phrase opens the mark; one that ends inside closes it.
    inside = store_module.snippet_window(
        f"{start}long "
        + "b " * 30
        + f"c{end} "
        + f"{start}y{end} " * 3
        + f"{start}z "
        + "d " * 30
        + f"e{end}"
    )
    assert inside.startswith(f"…{start}b b c{end}") and inside.endswith(f"d d{end}…")
    assert inside.count(start) == inside.count(end) == 5


def test_a_search_past_its_time_limit_is_stopped(
    engine_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(engine_store, *(article(f"Storm {i}", "Wind and rain.", ordinal=i) for i in range(20)))
    monkeypatch.setattr(sqlite_engine, "PROGRESS_STEPS", 1)
    with pytest.raises(SearchTimeout):
        engine_store.search("storm", time_limit=0.0)
    # The connection is as before: no limit left behind, the next search answers.
    assert engine_store.search("storm").total == 20
    assert engine_store.search("storm", time_limit=60.0).total == 20


def test_queries_saved_before_chats_were_recorded_expire_and_ids_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "news.sqlite3"
    with database_before(path, "0012_queries_by_chat") as conn:
        conn.execute("INSERT INTO queries (id, text, used_at) VALUES (41, 'old', 0)")
    with Store(path) as db:
        assert db.schema_version == len(MIGRATIONS)
        assert db.query_text(41, 7) is None
        assert db.remember_query(7, "new") == 42


def test_articles_and_chats_from_before_pictures_have_none_and_show_them(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    with database_before(path, "0014_article_images") as conn:
        conn.execute("INSERT INTO chats (chat_id, kind, created_at) VALUES (5, 'private', 0)")
        conn.execute(
            "INSERT INTO articles (key, source, title, blocks, published, dated, ordinal,"
            " content_hash, fingerprint, added_at, updated_at)"
            " VALUES ('a.txt#0', 'a.txt', 'Old', '[[\"From before.\", false]]', 0, 0, 0, 'h',"
            " 'f', 0, 0)"
        )
    with Store(path) as db:
        assert db.schema_version == len(MIGRATIONS)
        stored = db.get(1)
        assert stored is not None and stored.article.image is None
        chat = db.chat(5)
        assert chat is not None and chat.pictures


def test_a_chat_turns_pictures_off_and_keeps_it_when_it_becomes_a_supergroup(
    engine_store: Store,
) -> None:
    engine_store.set_chat_pictures(-5, "group", False)
    engine_store.set_chat_language(-5, "group", "de")
    state = engine_store.chat(-5)
    assert state is not None and not state.pictures
    engine_store.migrate_chat(-5, -1005)
    moved = engine_store.chat(-1005)
    assert moved is not None and (moved.pictures, moved.language) == (False, "de")
    engine_store.set_chat_pictures(-1005, "supergroup", True)
    again = engine_store.chat(-1005)
    assert again is not None and again.pictures


# -- the file itself: locks, removal, damage -----------------------------------------------------


def test_checking_the_file_keeps_sqlite_locks_so_another_process_never_deletes_the_wal(
    tmp_path: Path,
) -> None:
    """SQLite's locks are POSIX locks: a descriptor of the file opened and closed beside it drops
    them all, and the next process to close the database deletes the WAL still in use."""
    path = tmp_path / "db.sqlite3"
    with Store(path) as store:
        store.subscribe(1, "private", "")  # in the WAL
        for _ in range(3):
            store.check_file()
            with Store(path) as second:  # an index run's own store, in this process
                second.check_file()
        peek = "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('SELECT 1').close()"
        subprocess.run([sys.executable, "-c", peek, str(path)], check=True)
        assert os.path.exists(f"{path}-wal"), "another process took itself for the last user"
        store.subscribe(2, "private", "")
    with Store(path) as store:
        assert [s.chat_id for s in store.subscriptions(2)] == [2]


def test_a_write_to_a_removed_or_replaced_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with Store(path) as store:
        store.subscribe(1, "private", "")
        os.replace(path, tmp_path / "moved.sqlite3")
        with pytest.raises(DatabaseUnusable, match="was removed while in use"):
            store.subscribe(2, "private", "")
        with Store(path):  # a new file where the old one was
            pass
        with pytest.raises(DatabaseUnusable, match="was replaced by another file"):
            store.subscribe(2, "private", "")


def test_a_file_that_is_not_a_database_is_refused_at_open_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(DatabaseUnusable) as refused:
        Store(path)
    assert str(refused.value) == (
        f"{path} is not a SQLite database (file is not a database); move it away or restore a"
        " backup"
    )
    assert path.read_bytes() == b"garbage" * 1000


def test_a_locked_database_is_store_unavailable_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with Store(path, busy_timeout=0.05) as store:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable, match="locked"):
            store.subscribe(1, "private", "")
        blocker.execute("COMMIT")
        blocker.close()
        assert store.subscriptions(1) == []
        assert store.subscribe(1, "private", "")  # and the next write works


def test_an_update_id_is_seen_once_and_forgotten_after_two_days(engine_store: Store) -> None:
    store = engine_store
    assert store.first_sight(700_000_001) is True
    assert store.first_sight(700_000_001) is False
    assert store.first_sight(700_000_002) is True
    store.conn.execute("UPDATE updates_seen SET seen_at = seen_at - 3 * 86400 WHERE update_id = 1")
    store.conn.execute(
        "UPDATE updates_seen SET seen_at = seen_at - 3 * 86400 WHERE update_id = 700000001"
    )
    # Only the old update id (no saved query is that old).
    assert store.forget_before(0, updates_before=time.time() - 2 * 86400) == 1
    assert store.first_sight(700_000_001) is True
    assert store.first_sight(700_000_002) is False


def test_articles_from_before_story_bands_get_theirs_and_find_their_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "news.sqlite3"
    with database_before(path, "0021_story_bands") as conn:
        for n, body in enumerate([WIRE, "Too short.", WIRE.replace("bridge", "tunnel")]):
            conn.execute(
                "INSERT INTO articles (key, source, title, blocks, published, dated, ordinal,"
                " content_hash, fingerprint, added_at, updated_at, story_id)"
                " VALUES (?, ?, 'Old', ?, ?, 1, 0, 'h', 'f', 0, 0, ?)",
                (f"{n}.txt#0", f"{n}.txt", f'[["{body}", false]]', T0.timestamp(), n + 1),
            )
    monkeypatch.setattr(story_bands, "FILL_CHUNK", 2)  # the articles in two chunks
    with Store(path) as db:
        assert db.schema_version == len(MIGRATIONS)
        counts = db.conn.execute(
            "SELECT article_id, count(*) FROM story_bands GROUP BY article_id"
        ).fetchall()
        assert [tuple(r) for r in counts] == [(1, stories.BANDS), (3, stories.BANDS)]
        # Copied by 0022 into the table keyed by period first.
        periods = db.conn.execute("SELECT DISTINCT period FROM story_bands").fetchall()
        assert [r[0] for r in periods] == [story_bands.period_of(T0.timestamp())]
        assert not db.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'story_sketch'"
        ).fetchall()
        [new] = add(db, article("Old", WIRE.replace("Monday", "Tuesday"), source="new.txt"))
        assert (
            db.conn.execute("SELECT story_id FROM articles WHERE id = ?", (new,)).fetchone()[0] == 1
        )


def test_band_keys_made_before_apply_are_the_ones_stored(engine_store: Store) -> None:
    # The index's workers compute the keys; apply keeps them rather than computing its own.
    text = " ".join(f"word{i} other{i} more{i}" for i in range(40))
    given = article("Given keys", text)
    computed = article("Computed keys", text + " and a tail", source="b.txt")
    changes = Changes([], [], [given, computed], [], [], {}, bands={given.content_hash: [7, 11]})
    ids = engine_store.apply(changes).added_ids
    rows = engine_store.conn.execute(
        "SELECT article_id, band FROM story_bands ORDER BY article_id, band"
    ).fetchall()
    assert [r[1] for r in rows if r[0] == ids[0]] == [7, 11]
    assert sorted(r[1] for r in rows if r[0] == ids[1]) == sorted(
        stories.text_bands(computed.title, computed.body)
    )


def test_apply_writes_each_batch_with_the_summaries_asked_for_it_first(
    engine_store: Store,
) -> None:
    (old,) = add(engine_store, article("Old", "An old body."))
    new = [article(f"New {i}", f"Body {i}.", source=f"{i}.txt") for i in range(5)]
    edited = article("Old, edited", "An edited body.")
    seen: list[tuple[list[str], int]] = []

    def summaries(articles: Sequence[Article]) -> list[tuple[SummaryKey, list[str]]]:
        # Asked before the articles are written.
        seen.append(([a.title for a in articles], engine_store.count()))
        return [(SummaryKey(a.content_hash, "lede", 3, "en"), [a.title]) for a in articles]

    changes = Changes([], [], new, [(old, edited)], [], {})
    engine_store.apply(changes, batch_size=2, summaries=summaries)
    assert seen == [
        (["Old, edited"], 1),
        (["New 0", "New 1"], 1),
        (["New 2", "New 3"], 3),
        (["New 4"], 5),
    ]
    for a in [edited, *new]:
        assert engine_store.summary(SummaryKey(a.content_hash, "lede", 3, "en")) == [a.title]


def test_an_index_run_leaves_the_write_lock_free_after_each_stretch_held() -> None:
    clock = [100.0]
    sleeps: list[float] = []
    turns = store_articles._Turns(lambda: clock[0], lambda s: sleeps.append(round(s, 3)))
    hold, pause = store_articles.HOLD, store_articles.BATCH_PAUSE

    def transaction(seconds: float, then_free: float = 0.0) -> None:
        turns.wait()
        with turns.holding():
            clock[0] += seconds
        clock[0] += then_free

    transaction(0.7 * hold)
    transaction(0.7 * hold)  # back to back: held longer than HOLD in all
    assert sleeps == []
    transaction(0.1 * hold)
    assert sleeps == [pause]  # so this one waited first
    transaction(0.7 * hold, then_free=1.5 * pause)  # waited for summaries: a gap of its own
    transaction(0.7 * hold)
    transaction(0.7 * hold)
    assert sleeps == [pause]
    transaction(0.1 * hold)
    assert sleeps == [pause, pause]


def test_missing_summaries_are_the_keys_without_a_cached_one_of_that_method_and_length(
    engine_store: Store,
) -> None:
    cached = SummaryKey("h1", "lede", 3, "en")
    engine_store.put_summaries([(cached, ["One."])])
    other_length = SummaryKey("h1", "lede", 5, "en")
    other_text = SummaryKey("h2", "lede", 3, "en")
    many = {SummaryKey(f"x{i}", "lede", 3, "en") for i in range(1200)}  # over a chunk
    assert engine_store.missing_summaries([cached, other_length, other_text, *many]) == {
        other_length,
        other_text,
        *many,
    }
    assert engine_store.missing_summaries([]) == set()


def test_a_batch_that_takes_long_is_written_in_transactions_that_do_not(
    engine_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each article on its own (the time is always up): every article and every file kept,
    # each file's row written with its last article.
    monkeypatch.setattr(store_articles, "WRITE_SECONDS", 0.0)
    new = [article(f"New {i}", f"Body {i}.", source=f"{i % 2}.txt", ordinal=i) for i in range(5)]
    files = [FileState(f"{i}.txt", 10, 1, "sha", None) for i in range(2)]
    commits: list[int] = []
    real = engine_store.transaction

    @contextlib.contextmanager
    def counting() -> Iterator[Database]:
        with real() as conn:
            yield conn
        commits.append(1)

    monkeypatch.setattr(engine_store, "transaction", counting)
    applied = engine_store.apply(Changes(files, [], new, [], [], {}), batch_size=10)
    assert len(applied.added_ids) == 5 and engine_store.count() == 5
    assert len(commits) == 1 + 5 + 1  # the edits, one per article, the run's report
    assert set(engine_store.file_states()) == {"0.txt", "1.txt"}
