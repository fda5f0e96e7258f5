"""`python -m bot db copy SRC DST`: everything in one database written into another, SQLite or
PostgreSQL either way, with the same ids (a /read 42 a person typed still opens the same
article) and the id counters where they were (an id once given is never given again).

Both stores are opened at the latest schema (open_store migrates them), so the tables and
columns are the same on both sides. The target is written in one transaction: a copy that
fails leaves it as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from .room import Database, Row
from .sqlite import Store

log = logging.getLogger(__name__)

# Every table with its key (the order rows are read in, a page at a time), parents before the
# rows that name them. articles_fts is the search index's text (SQLite's FTS5 table;
# PostgreSQL's table of the same name computes its tsvector).
TABLES = {
    "files": "path",
    "articles": "id",
    "articles_fts": "rowid",
    "story_bands": "article_id, band",
    "summaries": "content_hash, algorithm, sentences, language",
    "reloads": "id",
    "queries": "id",
    "chats": "chat_id",
    "subscriptions": "id",
    "outbox": "id",
    "feeds": "name",
    "feed_entries": "feed, key",
    "feed_attempts": "feed, key",
    "shown_lists": "chat_id",
    "updates_seen": "update_id",
}
# Columns read by name where SELECT * will not do: FTS5's rowid is hidden, and PostgreSQL's
# generated tsvector cannot be written.
COLUMNS = {"articles_fts": ("rowid", "title", "body")}
BATCH = 1000


class CopyRefused(Exception):
    """The target holds data and was not to be overwritten."""


def counts(store: Store) -> dict[str, int]:
    """Rows per table."""
    return {
        table: int(store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        for table in TABLES
    }


def copy(source: Store, target: Store, *, overwrite: bool = False) -> dict[str, int]:
    """Copy every row of `source` into `target`; returns the rows copied per table. Raises
    CopyRefused when the target holds any row, unless `overwrite` (then its rows go first)."""
    held = {table: n for table, n in counts(target).items() if n}
    if held and not overwrite:
        listed = ", ".join(f"{n:,} {table}" for table, n in held.items())
        raise CopyRefused(f"the target is not empty ({listed}); --overwrite replaces it")
    copied: dict[str, int] = {}
    counters = source.id_counters()
    with target.transaction() as conn:
        for table in reversed(list(TABLES)):
            conn.execute(f"DELETE FROM {table}")
        for table in TABLES:
            copied[table] = _copy_table(source, conn, table)
        target.set_id_counters(conn, counters)
    log.info("copied %s", copied)
    return copied


def _copy_table(source: Store, target: Database, table: str) -> int:
    written = 0
    for columns, rows in _batches(source, table):
        marks = ", ".join("?" * len(columns))
        target.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            [tuple(row) for row in rows],
        )
        written += len(rows)
    return written


def _batches(source: Store, table: str) -> Iterator[tuple[tuple[str, ...], list[Row]]]:
    """The table's rows in key order, BATCH at a time (a big table is never all in memory)."""
    named = COLUMNS.get(table)
    select = ", ".join(named) if named else "*"
    order = TABLES[table]
    offset = 0
    while True:
        rows = source.conn.execute(
            f"SELECT {select} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?", (BATCH, offset)
        ).fetchall()
        if not rows:
            return
        yield (named or tuple(rows[0].keys())), rows
        offset += len(rows)
