"""PostgreSQL, the store's second engine: one database for several bot processes, on several
machines (psycopg 3 and its pool: pg_connection.py).

The subjects' SQL is written once, with sqlite3's ? marks (room.Database):
pg_connection.Connection runs it here, its marks made psycopg's and SQLite's planner hints
(INDEXED BY) left out. Rows are read by column name or position, as sqlite3.Row. Where the
engines differ (the search index, migrations' records, locks between processes),
PostgresStore says so.

A statement outside a transaction borrows a pooled connection for itself; a transaction holds
one connection for its thread until it ends. Advisory locks keep what must happen once at a
time: migrations (several processes starting together), index runs, and the leader's jobs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from ..query import ParsedQuery
from . import pg_search
from .migrations import MIGRATIONS, run_step
from .pg_connection import (
    ENGINE,
    Connection,
    pools,
    redacted,
    store_errors,
)
from .records import QUEUED, SENDING, Lease, SearchResult, SearchTimeout, StoreUnavailable
from .room import Database
from .sqlite import NUMBERED, Store

log = logging.getLogger(__name__)

# Advisory lock keys (one namespace of the database's, "news" in ASCII): what must happen once
# at a time across processes.
LOCK_SPACE = 0x6E657773
LOCK_MIGRATE = 1
LOCK_INDEX = 2
LOCK_LEADER = 3


class AdvisoryLease(Lease):
    """A session advisory lock on a connection of its own (not the pool's): the server frees it
    when that connection ends, at once when the process dies on a machine that stays up, and
    after about 25 s of silence (TCP keepalives, set on the server's side of it) when the
    machine or the network goes."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.Connection[Any] | None = None
        self._holding = False

    def take(self) -> bool:
        if self._holding:
            return self.held()
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
                for name, value in (("idle", 10), ("interval", 5), ("count", 3)):
                    self._conn.execute(f"SET tcp_keepalives_{name} = {value}")
            row = self._conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_SPACE, LOCK_LEADER)
            ).fetchone()
        except psycopg.Error as exc:
            log.warning("the leader's lease could not be asked for: %s", exc)
            self.release()
            return False
        self._holding = bool(row and row[0])
        return self._holding

    def held(self) -> bool:
        if not self._holding or self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error as exc:
            log.error("the leader's lease is lost with its connection: %s", exc)
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            if self._holding:
                # Freed now, not when the server gets round to ending the session: another
                # process asking next finds it free.
                with contextlib.suppress(psycopg.Error):
                    self._conn.execute("SELECT pg_advisory_unlock_all()")
            self._conn.close()  # the server frees the lock with the session anyway
            self._conn = None
        self._holding = False


class PostgresStore(Store):
    """The Store on PostgreSQL: the same subjects' methods; connections, transactions,
    migrations, search and locks between processes here."""

    # Several bot processes may share the database: one leads (see lease).
    shared = True

    def __init__(self, url: str, *, busy_timeout: float = 10.0) -> None:
        self.path = url
        self._url = url
        self._identity = None
        self._header_fd = -1
        self._pool: ConnectionPool[Any] | None = pools.take(url, busy_timeout)
        self.conn = self.pg = Connection(self._pool)
        try:
            self.migrate()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore({redacted(self._url)!r})"

    def close(self) -> None:
        if self._pool is not None:
            pools.give_back(self._url)
            self._pool = None

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """BEGIN ... COMMIT on one connection, or ROLLBACK on any exception. Raises
        StoreUnavailable when the server cannot be reached or the write did not go through
        (nothing written: try again later)."""
        with store_errors(), self.pg.hold() as conn:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                # As SQLite: psycopg would make the inner block a savepoint.
                raise RuntimeError("a transaction is already open in this thread")
            with conn.transaction():
                self.check_file()  # nothing to check here; tests stand a failure in for it
                yield self.pg
                self.check_file()

    def check_file(self) -> None:
        """No file to check: the server keeps its own."""

    def unusable(self, exc: BaseException) -> None:
        return None

    # -- schema -------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Every migration not yet recorded, each in its own transaction, one process at a time
        (an advisory lock): processes started together migrate once."""
        with self.advisory_lock(LOCK_MIGRATE):
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            for number, (name, steps) in enumerate(MIGRATIONS, start=1):
                if number <= self.schema_version:
                    continue
                log.info("applying migration %s", name)
                with self.transaction() as conn:
                    for step in steps:
                        run_step(conn, step, ENGINE)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        (number, name),
                    )

    @property
    def schema_version(self) -> int:
        row = self.conn.execute(
            "SELECT coalesce(max(version), 0) FROM schema_migrations"
        ).fetchone()
        return int(row[0])

    @contextmanager
    def advisory_lock(self, key: int) -> Iterator[None]:
        """Wait for, then hold, a lock shared by every process on this database (on its own
        connection: the server releases it should this process die)."""
        with self._pool_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_SPACE, key))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SPACE, key))

    @contextmanager
    def _pool_connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._pool is None:
            raise StoreUnavailable("the store is closed")
        with store_errors(), self._pool.connection() as conn:
            yield conn

    def index_turn(self) -> Any:
        """Index runs on this database take turns, across processes and machines."""
        return self.advisory_lock(LOCK_INDEX)

    def lease(self) -> Lease:
        """The leader's lease: an advisory lock held on a connection of its own."""
        return AdvisoryLease(self._url)

    def another(self) -> Store:
        """Another store on this database (for another thread), sharing this one's pool."""
        return PostgresStore(self._url)

    def count(self, *, language: str | None = None, heads_only: bool = False) -> int:
        """Articles (or stories), as the article_counts trigger keeps them (migration 0020)."""
        column = "heads" if heads_only else "articles"
        where, args = ("WHERE language = ?", (language,)) if language else ("", ())
        row = self.conn.execute(
            f"SELECT coalesce(sum({column}), 0) FROM article_counts {where}", args
        ).fetchone()
        return int(row[0])

    def id_counters(self) -> dict[str, int]:
        """The last id each numbered table's identity gave (or its largest id, if larger)."""
        return {
            table: int(
                self.conn.execute(
                    "SELECT greatest(coalesce(pg_sequence_last_value("
                    f"  pg_get_serial_sequence('{table}', 'id')::regclass), 0),"
                    f" (SELECT coalesce(max(id), 0) FROM {table}))"
                ).fetchone()[0]
            )
            for table in NUMBERED
        }

    def set_id_counters(self, conn: Database, counters: dict[str, int]) -> None:
        """Each numbered table's identity goes on after its counter (in `conn`'s transaction)."""
        for table, last in counters.items():
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" greatest(?, (SELECT coalesce(max(id), 0) FROM {table}), 1),"
                f" greatest(?, (SELECT coalesce(max(id), 0) FROM {table})) > 0)",
                (last, last),
            )

    def mark_sending(self, delivery_ids: Sequence[int]) -> list[int]:
        """Outbox.mark_sending in one statement: rows another transaction holds are skipped
        (FOR UPDATE SKIP LOCKED), so two senders never claim one row, nor wait on each other."""
        with self.transaction() as conn:
            rows = conn.execute(
                "UPDATE outbox SET status = ?, attempts = attempts + 1 WHERE id IN ("
                "  SELECT id FROM outbox WHERE id = ANY(?) AND status = ?"
                "  FOR UPDATE SKIP LOCKED"
                ") RETURNING id",
                (SENDING, list(delivery_ids), QUEUED),
            )
            return [int(r[0]) for r in rows]

    # -- search -------------------------------------------------------------------------------

    @contextmanager
    def _time_limit(self, seconds: float | None) -> Iterator[None]:
        """The server stops each statement still running after `seconds` (statement_timeout,
        set on a connection this thread holds for the search, and set back after, with the
        search's own planner setting: see _search_settings)."""
        if seconds is None:
            yield
            return
        if seconds <= 0:  # 0 would mean no limit to the server
            raise SearchTimeout("the search had no time left")
        limit = f"{max(1, round(seconds * 1000))}ms"
        try:
            with self._search_settings(limit):
                yield
        except pg_errors.QueryCanceled:
            raise SearchTimeout(f"the search took over {seconds:g} s") from None

    @contextmanager
    def _search_settings(self, limit: str = "0") -> Iterator[None]:
        """A search's settings, on a connection this thread holds until the search ends (one
        round trip to set them, one to set them back). No whole-table scan: the planner costs
        a GIN search for a word's beginning (electi*) above reading every row (38 ms at 10,000
        articles, against 8)."""
        if self.pg.tuned:
            yield
            return
        with self.pg.hold() as conn:
            conn.execute(
                "SELECT set_config('statement_timeout', %s, false),"
                " set_config('enable_seqscan', 'off', false)",
                (limit,),
            )
            self.pg.tuned = True
            try:
                yield
            finally:
                self.pg.tuned = False
                conn.execute(
                    "SELECT set_config('statement_timeout', '0', false),"
                    " set_config('enable_seqscan', 'on', false)"
                )

    def stem_of(self, prefix: str) -> str | None:
        return pg_search.stem_of(self.conn, prefix)

    def _expressions(self, parsed: ParsedQuery) -> tuple[str, str | None, str]:
        return pg_search.queries(parsed)

    def _expanded(self, parsed: ParsedQuery) -> ParsedQuery:
        return parsed  # a word beginning is a prefix tsquery here (pg_search.tsquery)

    def _search(
        self,
        match: str,
        highlight: str,
        limit: int,
        offset: int,
        language: str | None = None,
        parsed: ParsedQuery | None = None,
    ) -> SearchResult:
        with self._search_settings():
            return pg_search.search(self.conn, match, highlight, limit, offset, language)
