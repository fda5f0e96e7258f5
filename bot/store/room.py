"""What each subject of the store (articles, chats, outbox, ...) stands on: the connection, its
transactions and time limits, which Store provides; and reading rows by many keys."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager

# Keys per statement when reading rows by a list of keys: SQLite caps how many values one
# statement may take (32,766 in common builds, 999 in old ones).
CHUNK = 500


class Room:
    """A subject's methods, mixed into Store: they use only what is declared here."""

    conn: sqlite3.Connection
    # Set while a search's time limit (Store._time_limit) has run out and SQLite is stopping it.
    _limit_reached = False

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _time_limit(self, seconds: float | None) -> AbstractContextManager[None]:
        raise NotImplementedError


def rows_in_chunks(
    conn: sqlite3.Connection, sql: str, args: Sequence[object], keys: Sequence[object]
) -> list[sqlite3.Row]:
    """The rows of `sql` for every key, CHUNK keys a statement: `sql` says `IN ({marks})` where
    the keys go, after `args`."""
    rows: list[sqlite3.Row] = []
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys[start : start + CHUNK])
        marks = ",".join("?" * len(chunk))
        rows += conn.execute(sql.format(marks=marks), (*args, *chunk)).fetchall()
    return rows
