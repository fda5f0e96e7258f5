"""`python -m bot db copy SRC DST` (bot/store/copy.py): everything from one database into
another, SQLite and PostgreSQL either way, with the same ids; a target with data is refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot import index
from bot.__main__ import main
from bot.config import Settings
from bot.store import Store, copy, open_store

from . import postgres as postgres_server
from .conftest import REPO


def _everything(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in key order, as plain values."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    for table, key in copy.TABLES.items():
        columns = ", ".join(copy.COLUMNS.get(table, ("*",)))
        found = store.conn.execute(f"SELECT {columns} FROM {table} ORDER BY {key}").fetchall()
        rows[table] = [tuple(r) for r in found]
    return rows


def _used(store: Store) -> None:
    """Something in every kind of row: chats, filters, a delivery sent and one queued, a saved
    search, a shown list, a summary, a feed with an entry, an update id."""
    first = store.due_deliveries(1e12, 10)
    store.mark_sent(store.mark_sending([first[0].id]), 501) if first else None
    store.remember_query(7, "harbour")
    store.remember_list(7, [3, 1, 2])
    store.first_sight(700_000_001)
    store.add_feed("Gazette", "https://gazette.example/rss", ("local",))
    store.feed_polled(
        "Gazette", now=1.0, next_poll=2.0, etag='"x"', last_modified=None,
        entries=[("e1", "https://gazette.example/1", "feeds/gazette/e1.json")],
        retry=[("e2", "HTTP 500")],
    )  # fmt: skip


@pytest.fixture
def bundled(settings: Settings, tmp_path: Path) -> Settings:
    """The bundled articles, indexed into a SQLite file, with chats and the rest in use."""
    lite = dataclasses.replace(
        settings, articles_dir=REPO / "articles", database=tmp_path / "from.sqlite3"
    )
    with open_store(lite.database) as store:
        store.subscribe(-1001234567890, "supergroup", "")
        store.subscribe(7, "private", "harbour -storm")
        store.set_digest(7, "private", "08:00")
        index.run(lite, store)
        # A removed article: its id is never given again, on either engine.
        last = max(a.id for a in store.latest(limit=100))
        store.conn.execute("DELETE FROM articles WHERE id = ?", (last,))
        store.conn.execute("DELETE FROM articles_fts WHERE rowid = ?", (last,))
        _used(store)
    return lite


def test_a_round_trip_through_postgresql_keeps_every_row_and_id(
    bundled: Settings, postgres: postgres_server.Databases, tmp_path: Path
) -> None:
    url = postgres.fresh()
    back = tmp_path / "back.sqlite3"
    try:
        assert main(["db", "copy", str(bundled.database), url]) == 0
        assert main(["db", "copy", url, str(back)]) == 0
        with open_store(bundled.database) as a, open_store(url) as b, open_store(back) as c:
            before = _everything(a)
            assert before["articles"] and before["outbox"] and before["feed_entries"]
            assert _everything(b) == before == _everything(c)
            # Search works on the copies (the index is rebuilt from the copied text).
            assert b.search("harbour").total == a.search("harbour").total > 0
            assert c.search("harbour").total == a.search("harbour").total
            # The id counters came along: the next article's id is the same everywhere, past
            # the removed one.
            counters = a.id_counters()
            assert b.id_counters() == counters == c.id_counters()
    finally:
        postgres.drop(url)


def test_a_target_with_data_is_refused_unless_overwritten(
    bundled: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.sqlite3"
    with open_store(other) as store:
        store.subscribe(1, "private", "")
    assert main(["db", "copy", str(bundled.database), str(other)]) == 1
    assert "the target is not empty (1 chats, 1 subscriptions)" in capsys.readouterr().err
    with open_store(other) as store:
        assert store.count() == 0  # nothing written
    assert main(["db", "copy", str(bundled.database), str(other), "--overwrite"]) == 0
    with open_store(bundled.database) as a, open_store(other) as b:
        assert _everything(a) == _everything(b)


def test_a_missing_source_file_is_said_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.sqlite3"
    assert main(["db", "copy", str(missing), str(tmp_path / "to.sqlite3")]) == 1
    assert "no such database file" in capsys.readouterr().err
    assert not missing.exists()
