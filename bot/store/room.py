"""What each subject of the store (articles, chats, outbox, ...) stands on: the connection, its
transactions and time limits, which the engine's Store provides; and reading rows by many
keys."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

# Keys per statement when reading rows by a list of keys: SQLite caps how many values one
# statement may take (32,766 in common builds, 999 in old ones).
CHUNK = 500


Row = Any
"""A row, read by column name or position: sqlite3.Row, or postgres.Row."""


class Rows(Protocol):
    """A statement's result: sqlite3's cursor, or postgres.Result."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Row: ...

    def fetchall(self) -> list[Row]: ...

    def __iter__(self) -> Iterator[Row]: ...


class Database(Protocol):
    """What the subjects' SQL runs on: sqlite3.Connection, or postgres.Connection (which takes
    the same SQL, its ? marks and all). SQL written here is what both engines take."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Rows: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Rows: ...


class Room:
    """A subject's methods, mixed into Store: they use only what is declared here."""

    conn: Database
    # Set while a search's time limit (Store._time_limit) has run out and SQLite is stopping it.
    _limit_reached = False

    def transaction(self) -> AbstractContextManager[Database]:
        raise NotImplementedError

    def _time_limit(self, seconds: float | None) -> AbstractContextManager[None]:
        raise NotImplementedError


def rows_in_chunks(
    conn: Database, sql: str, args: Sequence[object], keys: Sequence[object]
) -> list[Row]:
    """The rows of `sql` for every key, CHUNK keys a statement: `sql` says `IN ({marks})` where
    the keys go, after `args`."""
    rows: list[Row] = []
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys[start : start + CHUNK])
        marks = ",".join("?" * len(chunk))
        rows += conn.execute(sql.format(marks=marks), (*args, *chunk)).fetchall()
    return rows
