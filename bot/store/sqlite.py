"""SQLite, the store's default engine: one file (WAL), created on first use.

Migrations (migrations.py) are named, ordered and recorded in PRAGMA user_version; each runs in
its own transaction. Article ids come from an AUTOINCREMENT key, so an id a person once typed
never points to a different article later.

Store, here, holds the connection and its transactions; each subject's methods are in their
own module, mixed into it, so callers use one Store. postgres.PostgresStore is the same Store on
PostgreSQL.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType

from .articles import Articles
from .chats import Chats
from .feeds import Feeds
from .migrations import MIGRATIONS, run_step
from .outbox import Outbox
from .queries import Queries
from .records import DatabaseUnusable, Lease, SearchTimeout, StoreUnavailable
from .room import Database
from .search import Search
from .summaries import Summaries

log = logging.getLogger(__name__)


# The tables whose rows the database numbers (id): articles and queries never give an id twice.
NUMBERED = ("articles", "queries", "reloads", "subscriptions", "outbox")

# A search with a time limit looks at the clock every this-many SQLite VM steps.
PROGRESS_STEPS = 1000


# How a SQLite file begins (https://www.sqlite.org/fileformat.html#the_database_header).
_HEADER = b"SQLite format 3\x00"


class _Watched:
    """Read-only descriptors for checking database headers, one per file (device, inode), shared
    by the process's Stores on it and closed with the last of them.

    Never open and close a descriptor of a database file beside SQLite: its locks are POSIX
    locks, which a process loses on *any* close of *any* descriptor of the file. (Reading the
    header through a descriptor opened per check did that, and a second connection, taking
    itself for the last one, deleted the WAL the first was writing to.)"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[tuple[int, int], tuple[int, int]] = {}  # identity -> (fd, users)

    def open(self, path: str) -> tuple[tuple[int, int], int]:
        with self._lock:
            found = os.stat(path)
            identity = (found.st_dev, found.st_ino)
            if identity in self._files:
                fd, users = self._files[identity]
            else:
                fd, users = os.open(path, os.O_RDONLY | os.O_CLOEXEC), 0
                # The file the descriptor is on: another one if the path was replaced since the
                # stat. Should that one be registered already, this descriptor stays open,
                # unused, rather than be closed beside SQLite.
                opened = os.fstat(fd)
                identity = (opened.st_dev, opened.st_ino)
                fd, users = self._files.get(identity, (fd, 0))
            self._files[identity] = (fd, users + 1)
            return identity, fd

    def release(self, identity: tuple[int, int]) -> None:
        """After the Store's connection is closed."""
        with self._lock:
            fd, users = self._files[identity]
            if users > 1:
                self._files[identity] = (fd, users - 1)
                return
            del self._files[identity]
        os.close(fd)


_watched = _Watched()


class Store(Articles, Summaries, Chats, Outbox, Feeds, Queries, Search):
    """One SQLite database: the connection, its transactions, migrations and file checks here;
    each subject's methods in its own module (articles, summaries, chats, outbox, feeds,
    queries, search)."""

    # Whether several bot processes may share the database (PostgreSQL: who leads is settled by
    # a lease); one SQLite file is one process's.
    shared = False

    def __init__(self, path: str | Path, *, busy_timeout: float = 10.0) -> None:
        """Open (or create) the database. `busy_timeout`: how long a write waits for another
        process's write lock before StoreUnavailable."""
        self.path = str(path)
        if self.path.startswith(("postgresql:", "postgres:")):
            raise ValueError("a PostgreSQL URL is no SQLite file: open it with open_store")
        # The file as opened (device, inode) and a descriptor to read its header: see
        # check_file. None for an in-memory database.
        self._identity: tuple[int, int] | None = None
        self._header_fd = -1
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit (see `transaction`), never implicit.
        self.conn = self.sqlite = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False
        )
        self.sqlite.row_factory = sqlite3.Row
        try:
            # The timeout first: switching to WAL needs a lock another process may hold.
            self.conn.execute(f"PRAGMA busy_timeout = {round(busy_timeout * 1000)}")
            self._use_wal()
            if self.path != ":memory:":
                self._identity, self._header_fd = _watched.open(self.path)
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.migrate()
            # The stems in the search index (per connection, nothing stored): see stem_of.
            self.conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.articles_vocab"
                " USING fts5vocab(main, articles_fts, row)"
            )
        except (sqlite3.DatabaseError, DatabaseUnusable) as exc:
            self.close()
            unusable = self.unusable(exc)
            if unusable is None:
                raise
            raise unusable from None

    def _use_wal(self) -> None:
        """WAL lets readers go on while an index run writes. Switching a new file to it needs
        an exclusive lock, and SQLite reports 'locked' at once (no busy wait) when several
        connections open a new file together: so try again for a while."""
        for attempt in range(100):
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self.sqlite.close()
        if self._identity is not None:
            _watched.release(self._identity)
            self._identity = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception.

        At the start and before the commit, the file is checked to be the one opened
        (check_file): nothing is written, as if it were kept, into a database removed, replaced
        or overwritten under the process.
        Raises StoreUnavailable (locked past the busy timeout, disk full or failing: nothing
        written, try again later) or DatabaseUnusable (the file is gone or damaged: stop)."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.check_file()
                yield self.conn
                self.check_file()
                self.conn.execute("COMMIT")
            except BaseException:
                # SQLite ends a transaction itself on some errors (a full disk, for one).
                if self.sqlite.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except StoreUnavailable:
            raise
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and _transient(exc):
                raise StoreUnavailable(str(exc)) from exc
            unusable = self.unusable(exc)
            if unusable is None:
                raise
            raise unusable from exc

    def index_turn(self) -> AbstractContextManager[None]:
        """Index runs on this database take turns, across processes too (a lock file beside
        the database: the CLI's run waits for the bot's)."""
        return _index_lock(self.path)

    def lease(self) -> Lease:
        """The right to run the once-only jobs: on one SQLite file, one process has them."""
        return Lease()

    def another(self) -> Store:
        """Another store on this database, for another thread (its own connection)."""
        return Store(self.path)

    def id_counters(self) -> dict[str, int]:
        """The last id given in each table that numbers its rows (`db copy` carries them over,
        so that an id once given is never given again)."""
        counters = {
            table: int(self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])
            for table in NUMBERED
        }
        for row in self.conn.execute("SELECT name, seq FROM sqlite_sequence"):
            if row[0] in counters:
                counters[row[0]] = max(counters[row[0]], int(row[1]))
        return counters

    def set_id_counters(self, conn: Database, counters: dict[str, int]) -> None:
        """In a transaction (`conn`): the tables that never give an id twice (AUTOINCREMENT)
        go on from these counters; the others number from their largest id, as SQLite does."""
        for table, last in counters.items():
            conn.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
            conn.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT ?, max(?, coalesce(max(id), 0))"
                f" FROM {table}",
                (table, last),
            )

    def check_file(self) -> None:
        """Raise DatabaseUnusable unless the path still names the file this store opened and
        that file still begins as a SQLite database. SQLite keeps writing to a file removed
        under it (and answers from its cache when it was overwritten): every write would seem
        to work, and be lost."""
        if self._identity is None:
            return
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            raise DatabaseUnusable(
                f"{self.path} was removed while in use; nothing more was written to it: restore"
                " it from a backup, then start again"
            ) from None
        if (found.st_dev, found.st_ino) != self._identity:
            raise DatabaseUnusable(
                f"{self.path} was replaced by another file while in use; nothing more was"
                " written to either: check which one to keep, then start again"
            )
        if os.pread(self._header_fd, len(_HEADER), 0) != _HEADER:
            raise DatabaseUnusable(
                f"{self.path} was overwritten while in use (it no longer begins as a SQLite"
                " database); move it away or restore a backup, then start again"
            )

    def unusable(self, exc: BaseException) -> DatabaseUnusable | None:
        """The error as DatabaseUnusable when it means the file is damaged or gone (a read can
        meet a damaged page too), else None."""
        if isinstance(exc, DatabaseUnusable):
            return exc
        if not isinstance(exc, sqlite3.DatabaseError):
            return None
        name = str(getattr(exc, "sqlite_errorname", None) or "")
        text = str(exc).lower()
        if name == "SQLITE_NOTADB" or "file is not a database" in text:
            return DatabaseUnusable(
                f"{self.path} is not a SQLite database ({exc}); move it away or restore a backup"
            )
        if name.startswith("SQLITE_CORRUPT") or "malformed" in text:
            return DatabaseUnusable(
                f"{self.path} is damaged ({exc}); move it away or restore a backup"
            )
        return None

    # -- schema -------------------------------------------------------------------------------

    def migrate(self) -> None:
        for number, (name, steps) in enumerate(MIGRATIONS, start=1):
            if number <= self.schema_version:
                continue
            with self.transaction() as conn:
                # Read again under the write lock: another process may have just migrated.
                if number <= self.schema_version:
                    continue
                log.info("applying migration %s", name)
                for step in steps:
                    run_step(conn, step)
                conn.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def _time_limit(self, seconds: float | None) -> Iterator[None]:
        """SQLite's progress handler stops the statement running at the deadline; a statement
        that runs in one long step (one FTS5 call) is stopped after that step."""
        if seconds is None:
            yield
            return
        deadline = time.monotonic() + seconds

        def past_deadline() -> int:
            self._limit_reached = self._limit_reached or time.monotonic() > deadline
            return int(self._limit_reached)

        self.sqlite.set_progress_handler(past_deadline, PROGRESS_STEPS)
        try:
            yield
        except sqlite3.OperationalError:
            if self._limit_reached:
                raise SearchTimeout(f"the search took over {seconds:g} s") from None
            raise
        finally:
            self.sqlite.set_progress_handler(None, 0)
            self._limit_reached = False


@contextmanager
def _index_lock(path: str) -> Iterator[None]:
    if path == ":memory:":
        yield
        return
    with open(f"{path}.index-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _transient(exc: sqlite3.OperationalError) -> bool:
    """Locked, busy, a full disk, an I/O error: the same write may work later. (Not a missing
    table or a syntax error, which are also OperationalErrors.)"""
    name = str(getattr(exc, "sqlite_errorname", None) or "")
    if name:
        return name.startswith(
            ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_PROTOCOL")
        )
    text = str(exc).lower()
    return any(word in text for word in ("locked", "busy", "full", "disk i/o"))
