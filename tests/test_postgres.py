"""The store on PostgreSQL (bot/store/postgres.py, pg_search.py): what only it does, and what it
must do as SQLite does (search results). The store's own tests (test_store.py) run on both
engines; these need a real server (tests/postgres.py starts one)."""

from __future__ import annotations

import dataclasses
import random
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import index
from bot.config import Settings
from bot.store import MIGRATIONS, QUEUED, SENDING, Changes, Store, open_store
from bot.store.pg_connection import redacted, translate
from bot.store.postgres import PostgresStore

from . import postgres as postgres_server
from .conftest import REPO
from .test_store import add, article

BUNDLED = REPO / "articles"


@pytest.fixture
def pg_url(postgres: postgres_server.Databases) -> Iterator[str]:
    url = postgres.fresh(migrated=False)
    yield url
    postgres.drop(url)


def test_store_sql_is_said_as_psycopg_takes_it() -> None:
    assert translate("SELECT ? WHERE a LIKE '%x' INDEXED BY i") == "SELECT %s WHERE a LIKE '%%x'"
    assert translate("SELECT count(*) FROM a INDEXED BY articles_members WHERE b = ?") == (
        "SELECT count(*) FROM a WHERE b = %s"
    )
    with pytest.raises(ValueError, match="numbered"):
        translate("SELECT ?1")


def test_a_url_in_a_log_has_no_password(
    postgres: postgres_server.Databases, caplog: pytest.LogCaptureFixture
) -> None:
    url = "postgresql://newsbot:s3cret@db.example:5433/news"
    assert redacted(url) == "postgresql://newsbot@db.example:5433/news"
    fresh = postgres.fresh(migrated=False)
    # The test server trusts 127.0.0.1: any password is taken.
    with_password = fresh.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    caplog.set_level("DEBUG")
    try:
        with open_store(with_password) as store:
            assert "s3cret" not in repr(store)
        assert "applying migration" in caplog.text and "s3cret" not in caplog.text
    finally:
        postgres.drop(fresh)


def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    """Four stores opened at once on an empty database (as four bot processes starting): the
    advisory lock lets one migrate; each migration is recorded once."""
    errors: list[BaseException] = []

    def start() -> None:
        try:
            # A pool each, as separate processes have.
            with PostgresStore(pg_url + "?application_name=p" + str(threading.get_ident())):
                pass
        except BaseException as exc:  # pragma: no cover - the failure message
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with open_store(pg_url) as store:
        rows = store.conn.execute("SELECT version, count(*) FROM schema_migrations GROUP BY 1")
        counts = {int(r[0]): int(r[1]) for r in rows}
        assert counts == {n: 1 for n in range(1, store.schema_version + 1)}
        assert store.schema_version == len(MIGRATIONS)


def test_ids_are_never_given_again_and_chat_ids_take_64_bits(engine_store: Store) -> None:
    first = add(engine_store, article("One", "Text one."))
    engine_store.apply(Changes([], [], [], [], first, {}))
    assert add(engine_store, article("Two", "Text two.")) == [first[0] + 1]
    supergroup = -1001234567890123
    assert engine_store.subscribe(supergroup, "supergroup", "")
    state = engine_store.chat(supergroup)
    assert state is not None and state.chat_id == supergroup


def test_a_nul_character_postgresql_cannot_hold_is_dropped_and_the_article_kept(
    postgres: postgres_server.Databases,
) -> None:
    """SQLite stores a NUL character; PostgreSQL's text cannot hold one: it is dropped, and
    the article (from a broken file, say) is stored and found as on SQLite."""
    url = postgres.fresh()
    try:
        with open_store(url) as store:
            new = [article("Good", "Fine."), article("Bad\x00", "Nul\x00l.", ordinal=1)]
            applied = store.apply(Changes([], [], new, [], [], {}))
            assert len(applied.added_ids) == 2 and not applied.failed
            stored = store.get(applied.added_ids[1])
            assert stored is not None and stored.article.title == "Bad"
            assert store.search("null").total == 1
    finally:
        postgres.drop(url)


def test_two_senders_never_claim_one_delivery(postgres: postgres_server.Databases) -> None:
    url = postgres.fresh()
    try:
        with open_store(url) as a, open_store(url) as b:
            a.subscribe(1, "private", "")
            a.subscribe(2, "private", "")
            add(a, article("News", "Text."))
            ids = [d.id for d in a.due_deliveries(1e12, 10)]
            assert len(ids) == 2
            with a.transaction() as conn:  # another sender is claiming the first row
                conn.execute("SELECT id FROM outbox WHERE id = ? FOR UPDATE", (ids[0],))
                assert b.mark_sending(ids) == [ids[1]]  # skipped, not waited for
            assert a.mark_sending(ids) == [ids[0]]
            assert b.mark_sending(ids) == []  # both taken already
            statuses = {r[0] for r in a.conn.execute("SELECT status FROM outbox")}
            assert statuses == {SENDING}
            assert a.requeue_interrupted() == 2
            assert {d.status for d in a.due_deliveries(1e12, 10)} == {QUEUED}
    finally:
        postgres.drop(url)


def test_one_process_holds_the_lease_and_another_takes_it_when_it_goes(
    postgres: postgres_server.Databases,
) -> None:
    url = postgres.fresh()
    try:
        with open_store(url) as store:
            first, second = store.lease(), store.lease()
            try:
                assert first.take() and first.held()
                assert not second.take() and not second.held()
                first.release()  # a clean stop; a dead process's session ends the same way
                assert second.take() and second.held()
                assert not first.take()
            finally:
                first.release()
                second.release()
    finally:
        postgres.drop(url)


def test_index_runs_take_turns_through_an_advisory_lock(
    postgres: postgres_server.Databases,
) -> None:
    url = postgres.fresh()
    try:
        with open_store(url) as a, open_store(url) as b:
            order: list[str] = []
            with a.index_turn():
                waiting = threading.Thread(target=lambda: _turn(b, order))
                waiting.start()
                waiting.join(0.3)
                assert waiting.is_alive(), "the second run did not wait"
                order.append("first done")
            waiting.join(10)
            assert order == ["first done", "second"]
    finally:
        postgres.drop(url)


def _turn(store: Store, order: list[str]) -> None:
    with store.index_turn():
        order.append("second")


# -- the same search on both engines ------------------------------------------------------------


def _queries(texts: list[str]) -> list[str]:
    """Queries of every kind the README's Search section names, from the corpus's own words."""
    words = sorted({w.lower() for t in texts for w in re.findall(r"\w+", t) if len(w) > 2})
    rng = random.Random(15)
    picked = rng.sample(words, min(120, len(words)))
    queries = list(picked)
    queries += [f"{w[:4]}*" for w in picked[:40] if len(w) > 5]
    for t in texts[:30]:
        pair = re.findall(r"\w+", t)[3:5]
        if len(pair) == 2:
            queries.append(f'"{pair[0]} {pair[1]}"')
    queries += [f"{a} {b}" for a, b in zip(picked[:30], picked[30:60], strict=True)]
    queries += [f"{a} OR {b}" for a, b in zip(picked[:20], picked[60:80], strict=True)]
    queries += [f"{a} -{b}" for a, b in zip(picked[:20], picked[80:100], strict=True)]
    queries += [f"title:{w}" for w in picked[:20]]
    queries += ["the", "harbour", "Zürich", "zurich", "électi*", "nonexistentword", '"*(NEAR -']
    return queries


def _hits(store: Store, query: str) -> tuple[int, set[str], bool]:
    result = store.search(query, limit=500)
    return result.total, {h.title for h in result.hits}, result.relaxed


def test_search_finds_the_same_articles_on_both_engines(
    settings: Settings, postgres: postgres_server.Databases, tmp_path: Path
) -> None:
    """The bundled articles and the test fixtures, indexed on each engine: every query of the
    README's language finds the same articles (the order may differ where scores tie, and the
    scores are each engine's own)."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in [*BUNDLED.iterdir(), *(REPO / "tests" / "fixtures").rglob("*")]:
        if path.is_file() and path.suffix in {".txt", ".md", ".html", ".json", ".jsonl"}:
            (folder / f"{len(list(folder.iterdir()))}-{path.name}").write_bytes(path.read_bytes())
    url = postgres.fresh()
    try:
        lite = dataclasses.replace(settings, articles_dir=folder, database=tmp_path / "x.sqlite3")
        big = dataclasses.replace(settings, articles_dir=folder, database=url)
        with open_store(lite.database) as sqlite, open_store(url) as postgresql:
            assert index.run(lite, sqlite).added == index.run(big, postgresql).added > 20
            texts = [f"{a.article.title} {a.article.body}" for a in sqlite.latest(limit=1000)]
            differ = [
                (q, _hits(sqlite, q), _hits(postgresql, q))
                for q in _queries(texts)
                if _hits(sqlite, q) != _hits(postgresql, q)
            ]
            assert not differ, differ[:5]
    finally:
        postgres.drop(url)


def test_snippets_mark_the_words_found(postgres: postgres_server.Databases) -> None:
    url = postgres.fresh()
    try:
        with open_store(url) as store:
            add(store, article("Storm", "Before. " * 40 + "The harbour flooded at dawn."))
            (hit,) = store.search("harbour").hits
            assert "\x02harbour\x03" in hit.snippet_marked and hit.snippet_marked.startswith("…")
            (hit,) = store.search("flood*").hits  # a stem's beginning marks the whole word
            assert "\x02flooded\x03" in hit.snippet_marked
    finally:
        postgres.drop(url)


def test_a_server_that_refuses_is_said_in_one_line_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.__main__ import main

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("NEWSBOT_DATABASE", f"postgresql://newsbot:s3cret@127.0.0.1:{port}/news")
    monkeypatch.setenv("NEWSBOT_ARTICLES_DIR", str(tmp_path))
    assert main(["index"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"newsbot: PostgreSQL at postgresql://newsbot@127.0.0.1:{port}/news: ")
    assert "refused" in err and "s3cret" not in err and "Traceback" not in err
    assert err.count("\n") == 1
