"""The only module that speaks SQL: schema and migrations, articles, summary cache, FTS5 search.

One SQLite file (WAL), created on first use. Migrations are named, ordered and recorded in
PRAGMA user_version; each runs in its own transaction. Article ids come from an AUTOINCREMENT
key, so an id a person once typed never points to a different article later.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import cast

from .. import stories
from ..articles import Article, Block, shorten
from ..query import (
    MAX_QUERY_TERMS,
    Filter,
    ParsedQuery,
    StemOf,
    parse_filter,
    parse_query,
    pick_stem,
    stem_candidates,
)
from .migrations import MIGRATIONS, run_step

log = logging.getLogger(__name__)

# Highlight markers in snippets: control characters cannot occur in article text (articles.py
# rejects them), so renderers can escape the text first and then swap these for markup.
MARK_START = "\x02"
MARK_END = "\x03"

# The title counts this many times the body in BM25.
TITLE_WEIGHT = 10.0
# Search ranks the newest this-many matches of a query (all of them, in a smaller library).
RANK_WINDOW = 2000
# Snippets are cut in Python from the first this-many characters of a body: FTS5's snippet()
# weighs every match in a body against every other, and took minutes on a 5 MB article.
SNIPPET_SOURCE_CHARS = 64 * 1024
SNIPPET_WORDS = 24
SNIPPET_MAX_CHARS = 300
# A search with a time limit looks at the clock every this-many SQLite VM steps.
PROGRESS_STEPS = 1000
# New articles written per transaction by Store.apply: well under a second of write lock
# (about 1.5 ms an article with its search entry, story sketch and deliveries).
APPLY_BATCH = 500
BATCH_PAUSE = 0.1

# Outbox states: queued (to send now), digest (held for the chat's daily digest), sending (handed
# to Telegram, not yet confirmed), sent, failed (gave up), dropped (the chat went away).
QUEUED, DIGEST, SENDING, SENT, FAILED, DROPPED = (
    "queued",
    "digest",
    "sending",
    "sent",
    "failed",
    "dropped",
)


@dataclass(frozen=True)
class FeedState:
    name: str
    url: str
    tags: tuple[str, ...]
    origin: str  # 'config' or 'chat'
    active: bool
    etag: str | None
    last_modified: str | None
    failures: int  # in a row, since the last poll that worked
    total_failures: int
    next_poll: float
    last_error: str | None
    last_error_at: float | None
    last_ok_at: float | None
    entries: int


def _feed(row: sqlite3.Row) -> FeedState:
    return FeedState(
        name=row["name"],
        url=row["url"],
        tags=tuple(json.loads(row["tags"])),
        origin=row["origin"],
        active=bool(row["active"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        failures=row["failures"],
        total_failures=row["total_failures"],
        next_poll=row["next_poll"],
        last_error=row["last_error"],
        last_error_at=row["last_error_at"],
        last_ok_at=row["last_ok_at"],
        entries=row["entries"],
    )


@dataclass(frozen=True)
class FileState:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    error: str | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredArticle:
    id: int
    article: Article
    added_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ArticleRef:
    """What the index operation needs to diff an article without loading its text."""

    id: int
    key: str
    source: str
    title: str
    content_hash: str
    fingerprint: str
    published: datetime
    dated: bool


@dataclass(frozen=True)
class SummaryKey:
    content_hash: str
    algorithm: str
    sentences: int
    language: str


@dataclass(frozen=True)
class Hit:
    id: int
    title: str
    snippet_marked: str
    published: datetime
    url: str | None
    source: str
    score: float

    @property
    def snippet(self) -> str:
        return self.snippet_marked.replace(MARK_START, "").replace(MARK_END, "")


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    total: int
    # True when no article had every word and the hits have any of them instead.
    relaxed: bool = False


@dataclass
class Applied:
    added_ids: list[int]  # the ids given to the added articles, in order
    queued: int  # deliveries queued for subscribers
    # (file, reason) for each article the database would not take (the others were written).
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Changes:
    """One index run's writes, applied in a single transaction by Store.apply."""

    files: list[FileState]
    removed_files: list[str]
    added: list[Article]
    # (id, article): the id is kept, the key may change (a renamed file).
    updated: list[tuple[int, Article]]
    removed_ids: list[int]
    report: dict[str, object]
    # (id, article): the same article in another file or place; only its location changes.
    relocated: list[tuple[int, Article]] = field(default_factory=list)


class SearchTimeout(Exception):
    """A search ran past the time limit it was given, and was stopped (see Store.search)."""


class StoreUnavailable(sqlite3.OperationalError):
    """A write the database did not take now: another process held the write lock past the busy
    timeout (a long index run), or the disk is full or failing. Nothing of it was written; the
    same write may be tried again later. (An OperationalError, as it was before it had a name.)"""


class DatabaseUnusable(Exception):
    """The database file cannot be used: it is not a SQLite database, it is damaged, or it was
    removed or replaced while this process had it open. Nothing more is written to it; the
    message names the file, says what happened and what to do."""


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


class Store:
    # Set while a search's time limit (Store._time_limit) has run out and SQLite is stopping it.
    _limit_reached = False

    def __init__(self, path: str | Path, *, busy_timeout: float = 10.0) -> None:
        """Open (or create) the database. `busy_timeout`: how long a write waits for another
        process's write lock before StoreUnavailable."""
        self.path = str(path)
        # The file as opened (device, inode) and a descriptor to read its header: see
        # check_file. None for an in-memory database.
        self._identity: tuple[int, int] | None = None
        self._header_fd = -1
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit (see `transaction`), never implicit.
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
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
        self.conn.close()
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
    def transaction(self) -> Iterator[sqlite3.Connection]:
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
                if self.conn.in_transaction:
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

    # -- index state ----------------------------------------------------------------------------

    def file_states(self) -> dict[str, FileState]:
        rows = self.conn.execute("SELECT * FROM files")
        return {
            r["path"]: FileState(
                r["path"],
                r["size"],
                r["mtime_ns"],
                r["sha256"],
                r["error"],
                tuple(json.loads(r["problems"])),
            )
            for r in rows
        }

    def article_refs(self, sources: Iterable[str] | None = None) -> list[ArticleRef]:
        query = (
            "SELECT id, key, source, title, content_hash, fingerprint, published, dated"
            " FROM articles"
        )
        if sources is None:
            rows = self.conn.execute(query).fetchall()
        else:
            rows = []
            wanted = list(sources)
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows += self.conn.execute(f"{query} WHERE source IN ({marks})", chunk).fetchall()
        return [
            ArticleRef(
                r["id"],
                r["key"],
                r["source"],
                r["title"],
                r["content_hash"],
                r["fingerprint"],
                _from_epoch(r["published"]),
                bool(r["dated"]),
            )
            for r in rows
        ]

    def apply(self, changes: Changes, *, batch_size: int = APPLY_BATCH) -> Applied:
        """Write one index run, and queue the new articles for their subscribers.

        In bounded transactions, so the write lock is never held for long (the bot's sender
        writes too): first removals, moves and updates, then the new articles `batch_size` at
        a time, each batch with its deliveries. A file's row is written with its last article,
        so a crash part way leaves files that the next run reads again, never an article lost.
        """
        now = time.time()
        applied = Applied([], 0, [])
        adding = {a.source for a in changes.added}
        batches = [
            changes.added[i : i + batch_size] for i in range(0, len(changes.added), batch_size)
        ]
        with self.transaction() as conn:
            conn.executemany(
                "DELETE FROM files WHERE path = ?", [(p,) for p in changes.removed_files]
            )
            for article_id in changes.removed_ids:
                conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
                conn.execute("DELETE FROM articles_fts WHERE rowid = ?", (article_id,))
                conn.execute("DELETE FROM story_sketch WHERE article_id = ?", (article_id,))
            # Keys are unique, and two articles may swap theirs (swapped in their file): free
            # every key about to change first.
            conn.executemany(
                "UPDATE articles SET key = 'moving:' || id WHERE id = ?",
                [(article_id,) for article_id, _ in (*changes.updated, *changes.relocated)],
            )
            conn.executemany(
                "UPDATE articles SET key = ?, source = ?, ordinal = ? WHERE id = ?",
                [(a.key, a.source, a.ordinal, article_id) for article_id, a in changes.relocated],
            )
            for article_id, article in changes.updated:
                with _one_article(conn, article, applied.failed):
                    conn.execute(
                        f"UPDATE articles SET {', '.join(f'{c} = ?' for c in _ARTICLE_COLUMNS)},"
                        " updated_at = ? WHERE id = ?",
                        (*_article_row(article), now, article_id),
                    )
                    conn.execute(
                        "UPDATE articles_fts SET title = ?, body = ? WHERE rowid = ?",
                        (article.title, article.body, article_id),
                    )
            if changes.removed_ids:
                # A story whose first article went: the next one leads it.
                conn.execute(
                    "UPDATE articles SET story_id = (SELECT min(b.id) FROM articles b"
                    " WHERE b.story_id = articles.story_id)"
                    " WHERE story_id NOT IN (SELECT id FROM articles)"
                )
            _write_files(conn, [f for f in changes.files if f.path not in adding], applied.failed)
        last_batch = {a.source: number for number, batch in enumerate(batches) for a in batch}
        for number, batch in enumerate(batches):
            if number:
                # SQLite has no queue for its write lock: a waiting writer polls it (every 100
                # ms once it has waited a while), and back-to-back batches would starve it.
                time.sleep(BATCH_PAUSE)
            with self.transaction() as conn:
                added: list[int] = []
                for article in batch:
                    with _one_article(conn, article, applied.failed):
                        added.append(_insert(conn, article, now))
                done = [f for f in changes.files if last_batch.get(f.path) == number]
                _write_files(conn, done, applied.failed)
                applied.queued += _queue_deliveries(conn, added, now)
                applied.added_ids.extend(added)
        with self.transaction() as conn:
            # Summaries of texts no article has any more would only grow the file.
            if changes.removed_ids or changes.updated:
                conn.execute(
                    "DELETE FROM summaries WHERE content_hash NOT IN"
                    " (SELECT content_hash FROM articles)"
                )
            report = {**changes.report, "queued": applied.queued}
            if applied.failed:
                report["failed"] = [
                    *cast(list[object], report.get("failed", [])),
                    *({"path": path, "error": reason} for path, reason in applied.failed),
                ]
            conn.execute(
                "INSERT INTO reloads (finished_at, report) VALUES (?, ?)",
                (now, json.dumps(report)),
            )
        return applied

    def last_reload(self) -> tuple[datetime, dict[str, object]] | None:
        row = self.conn.execute(
            "SELECT finished_at, report FROM reloads ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return (_from_epoch(row["finished_at"]), json.loads(row["report"])) if row else None

    # -- summaries ----------------------------------------------------------------------------

    def summary(self, key: SummaryKey) -> list[str] | None:
        row = self.conn.execute(
            "SELECT summary FROM summaries WHERE content_hash = ? AND algorithm = ?"
            " AND sentences = ? AND language = ?",
            (key.content_hash, key.algorithm, key.sentences, key.language),
        ).fetchone()
        return list(json.loads(row["summary"])) if row else None

    def missing_summaries(self, keys: Iterable[SummaryKey]) -> set[SummaryKey]:
        return {key for key in set(keys) if self.summary(key) is None}

    def put_summaries(self, items: Sequence[tuple[SummaryKey, Sequence[str]]]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO summaries VALUES (?, ?, ?, ?, ?)",
                [
                    (k.content_hash, k.algorithm, k.sentences, k.language, json.dumps(list(s)))
                    for k, s in items
                ],
            )

    # -- reading articles ---------------------------------------------------------------------

    def get(self, article_id: int) -> StoredArticle | None:
        row = self.conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _stored(row) if row else None

    def latest(
        self, limit: int = 10, offset: int = 0, *, language: str | None = None
    ) -> list[StoredArticle]:
        # One line per story: its first article (the others are listed when it is read).
        where, args = ("AND language = ?", (language,)) if language else ("", ())
        rows = self.conn.execute(
            f"SELECT * FROM articles WHERE story_id = id {where}"
            " ORDER BY published DESC, id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        return [_stored(r) for r in rows]

    def count(self, *, language: str | None = None, heads_only: bool = False) -> int:
        """Articles (or, with `heads_only`, stories: what /latest lists).

        Stories are counted as all articles less the few that joined another's story: SQLite
        counts a whole table in microseconds, but story heads only row by row."""
        where, args = ("WHERE language = ?", (language,)) if language else ("", ())
        total = int(self.conn.execute(f"SELECT count(*) FROM articles {where}", args).fetchone()[0])
        if heads_only:
            members = self.conn.execute(
                "SELECT count(*) FROM articles INDEXED BY articles_members"
                f" WHERE story_id != id {where.replace('WHERE', 'AND')}",
                args,
            ).fetchone()[0]
            total -= int(members)
        return total

    def story_sources(self, article_id: int) -> list[tuple[int, str, str | None, str]]:
        """The other articles of this article's story: (id, title, url, source file)."""
        rows = self.conn.execute(
            "SELECT b.id, b.title, b.url, b.source FROM articles a"
            " JOIN articles b ON b.story_id = a.story_id AND b.id != a.id"
            " WHERE a.id = ? ORDER BY b.published, b.id",
            (article_id,),
        )
        return [(int(r[0]), str(r[1]), r[2], str(r[3])) for r in rows]

    def languages(self) -> list[tuple[str, int]]:
        """Each language the articles are in, with how many, the commonest first."""
        rows = self.conn.execute(
            "SELECT language, count(*) AS n FROM articles WHERE language IS NOT NULL"
            " GROUP BY language ORDER BY n DESC, language"
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def set_chat_language(self, chat_id: int, kind: str, language: str | None) -> None:
        with self.transaction() as conn:
            _ensure_chat(conn, chat_id, kind)
            conn.execute("UPDATE chats SET language = ? WHERE chat_id = ?", (language, chat_id))

    # -- chats and subscriptions --------------------------------------------------------------

    def chat(self, chat_id: int) -> ChatState | None:
        row = self.conn.execute("SELECT * FROM chats WHERE chat_id = ?", (chat_id,)).fetchone()
        return _chat_state(row) if row else None

    def subscribe(self, chat_id: int, kind: str, query: str) -> bool:
        """Add a filter ('' for all news); False if the chat had it already."""
        with self.transaction() as conn:
            _ensure_chat(conn, chat_id, kind)
            conn.execute(
                "UPDATE chats SET active = 1, inactive_reason = NULL WHERE chat_id = ?", (chat_id,)
            )
            cursor = conn.execute(
                "INSERT OR IGNORE INTO subscriptions (chat_id, query, created_at) VALUES (?, ?, ?)",
                (chat_id, query, time.time()),
            )
            return cursor.rowcount == 1

    def subscriptions(self, chat_id: int) -> list[Subscription]:
        rows = self.conn.execute(
            "SELECT id, chat_id, query FROM subscriptions WHERE chat_id = ? ORDER BY id",
            (chat_id,),
        )
        return [Subscription(r["id"], r["chat_id"], r["query"]) for r in rows]

    def unsubscribe(
        self, chat_id: int, *, query: str | None = None, sub_id: int | None = None
    ) -> int:
        """Remove one filter (by text or id), or every filter of the chat; returns how many."""
        with self.transaction() as conn:
            if sub_id is not None:
                cursor = conn.execute(
                    "DELETE FROM subscriptions WHERE chat_id = ? AND id = ?", (chat_id, sub_id)
                )
            elif query is not None:
                cursor = conn.execute(
                    "DELETE FROM subscriptions WHERE chat_id = ? AND query = ?", (chat_id, query)
                )
            else:
                cursor = conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
            removed = cursor.rowcount
            left = conn.execute(
                "SELECT count(*) FROM subscriptions WHERE chat_id = ?", (chat_id,)
            ).fetchone()[0]
            if not left:
                # Nothing subscribed any more: what was still waiting for this chat is not sent.
                conn.execute(
                    "UPDATE outbox SET status = ?, error = 'unsubscribed' WHERE chat_id = ?"
                    " AND status IN (?, ?)",
                    (DROPPED, chat_id, QUEUED, DIGEST),
                )
        return removed

    def set_digest(self, chat_id: int, kind: str, at: str | None) -> None:
        """Daily digest at 'HH:MM' in the chat's time zone, or None for one message per article.

        Switching either way moves what is waiting: held items go out now, or queued ones wait.
        """
        with self.transaction() as conn:
            _ensure_chat(conn, chat_id, kind)
            conn.execute(
                "UPDATE chats SET digest_time = ?, last_digest_at = coalesce(last_digest_at, ?)"
                " WHERE chat_id = ?",
                (at, time.time(), chat_id),
            )
            old, new = (QUEUED, DIGEST) if at else (DIGEST, QUEUED)
            conn.execute(
                "UPDATE outbox SET status = ? WHERE chat_id = ? AND status = ?",
                (new, chat_id, old),
            )

    def set_timezone(self, chat_id: int, kind: str, zone: str) -> None:
        with self.transaction() as conn:
            _ensure_chat(conn, chat_id, kind)
            conn.execute("UPDATE chats SET timezone = ? WHERE chat_id = ?", (zone, chat_id))

    def digest_chats(self) -> list[ChatState]:
        rows = self.conn.execute(
            "SELECT * FROM chats WHERE digest_time IS NOT NULL AND active = 1"
        ).fetchall()
        return [_chat_state(r) for r in rows]

    def deactivate_chat(self, chat_id: int, reason: str) -> None:
        """The bot was blocked or removed: stop sending, keep the filters for a comeback."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE chats SET active = 0, inactive_reason = ? WHERE chat_id = ?",
                (reason, chat_id),
            )
            conn.execute(
                "UPDATE outbox SET status = ?, error = ? WHERE chat_id = ? AND status IN (?, ?, ?)",
                (DROPPED, reason, chat_id, QUEUED, DIGEST, SENDING),
            )

    def activate_chat(self, chat_id: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE chats SET active = 1, inactive_reason = NULL WHERE chat_id = ?", (chat_id,)
            )

    def migrate_chat(self, old: int, new: int) -> None:
        """A group became a supergroup with a new id: its filters and waiting deliveries move."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO chats (chat_id, kind, active, timezone, digest_time,"
                " last_digest_at, created_at) SELECT ?, 'supergroup', active, timezone,"
                " digest_time, last_digest_at, created_at FROM chats WHERE chat_id = ?",
                (new, old),
            )
            conn.execute(
                "UPDATE OR IGNORE subscriptions SET chat_id = ? WHERE chat_id = ?", (new, old)
            )
            conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (old,))
            conn.execute(
                "UPDATE OR IGNORE outbox SET chat_id = ?, status = CASE status WHEN ? THEN ?"
                " ELSE status END WHERE chat_id = ? AND status IN (?, ?, ?)",
                (new, SENDING, QUEUED, old, QUEUED, DIGEST, SENDING),
            )
            conn.execute(
                "UPDATE chats SET active = 0, inactive_reason = ? WHERE chat_id = ?",
                (f"migrated to {new}", old),
            )

    # -- the outbox ---------------------------------------------------------------------------

    def due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        rows = self.conn.execute(
            "SELECT o.* FROM outbox o JOIN chats c ON c.chat_id = o.chat_id"
            " WHERE o.status = ? AND o.not_before <= ? AND c.active = 1"
            " ORDER BY o.id LIMIT ?",
            (QUEUED, now, limit),
        ).fetchall()
        return [_delivery(r) for r in rows]

    def next_due_time(self) -> float | None:
        row = self.conn.execute(
            "SELECT min(not_before) FROM outbox WHERE status = ?", (QUEUED,)
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def mark_sending(self, delivery_ids: Sequence[int]) -> None:
        """Before the messages go to Telegram (one write for a round): a crash from here to
        mark_sent is the one window in which a message can go out twice (see
        requeue_interrupted)."""
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE outbox SET status = ?, attempts = attempts + 1 WHERE id = ?",
                [(SENDING, i) for i in delivery_ids],
            )

    def mark_sent(self, delivery_ids: Sequence[int], message_id: int | None) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE outbox SET status = ?, sent_at = ?, message_id = ?, error = NULL"
                " WHERE id = ?",
                [(SENT, time.time(), message_id, i) for i in delivery_ids],
            )

    def retry_later(self, delivery_id: int, not_before: float, error: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET status = ?, not_before = ?, error = ? WHERE id = ?",
                (QUEUED, not_before, error, delivery_id),
            )

    def put_back(self, delivery_id: int, error: str) -> None:
        """A delivery that was not sent, through no fault of its chat (the bot's token was
        refused): queued again as it was, the attempt not counted."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET status = ?, attempts = max(attempts - 1, 0), error = ?"
                " WHERE id = ? AND status = ?",
                (QUEUED, error, delivery_id, SENDING),
            )

    def mark_failed(self, delivery_id: int, error: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET status = ?, error = ? WHERE id = ?",
                (FAILED, error, delivery_id),
            )

    def requeue_interrupted(self) -> int:
        """At start: deliveries left 'sending' by a crash go out again (at most one per chat,
        since a chat never has two in flight)."""
        with self.transaction() as conn:
            return conn.execute(
                "UPDATE outbox SET status = ? WHERE status = ?", (QUEUED, SENDING)
            ).rowcount

    def digest_items(self, chat_id: int) -> list[Delivery]:
        rows = self.conn.execute(
            "SELECT * FROM outbox WHERE chat_id = ? AND status = ? ORDER BY id",
            (chat_id, DIGEST),
        ).fetchall()
        return [_delivery(r) for r in rows]

    def digest_done(self, chat_id: int, when: float) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE chats SET last_digest_at = ? WHERE chat_id = ?", (when, chat_id))

    def delivery_counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status")
        return {r[0]: int(r[1]) for r in rows}

    def subscribed_chat_count(self) -> int:
        return int(
            self.conn.execute(
                "SELECT count(DISTINCT s.chat_id) FROM subscriptions s"
                " JOIN chats c ON c.chat_id = s.chat_id WHERE c.active = 1"
            ).fetchone()[0]
        )

    # -- feeds ------------------------------------------------------------------------------

    def sync_feeds(self, sources: Sequence[tuple[str, str, Sequence[str]]]) -> None:
        """The config file's feeds: new ones added, known ones' URL and tags updated. A feed an
        admin removed in chat stays removed."""
        with self.transaction() as conn:
            for name, url, tags in sources:
                conn.execute(
                    "INSERT INTO feeds (name, url, tags, origin) VALUES (?, ?, ?, 'config')"
                    " ON CONFLICT (name) DO UPDATE SET url = excluded.url, tags = excluded.tags",
                    (name, url, json.dumps(list(tags))),
                )

    def add_feed(self, name: str, url: str, tags: Sequence[str] = ()) -> str | None:
        """An admin's new feed; returns why not (name or URL taken), or None when added."""
        with self.transaction() as conn:
            for row in conn.execute(
                "SELECT name, url, active FROM feeds WHERE lower(name) = lower(?) OR url = ?",
                (name, url),
            ):
                if row["active"]:
                    same = row["url"] == url
                    return f"already read as {row['name']}" if same else "name taken"
                conn.execute("DELETE FROM feeds WHERE name = ?", (row["name"],))
            conn.execute(
                "INSERT INTO feeds (name, url, tags, origin) VALUES (?, ?, ?, 'chat')",
                (name, url, json.dumps(list(tags))),
            )
        return None

    def remove_feed(self, name: str) -> str | None:
        """Stop reading a feed (its articles stay); returns its exact name, or None if unknown."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT name FROM feeds WHERE lower(name) = lower(?) AND active = 1", (name,)
            ).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE feeds SET active = 0 WHERE name = ?", (row["name"],))
        return str(row["name"])

    def feeds(self, *, active_only: bool = True) -> list[FeedState]:
        where = "WHERE active = 1" if active_only else ""
        rows = self.conn.execute(f"SELECT * FROM feeds {where} ORDER BY lower(name)")
        return [_feed(r) for r in rows]

    def due_feeds(self, now: float) -> list[FeedState]:
        rows = self.conn.execute(
            "SELECT * FROM feeds WHERE active = 1 AND next_poll <= ? ORDER BY next_poll, name",
            (now,),
        )
        return [_feed(r) for r in rows]

    def feed_polled(
        self,
        name: str,
        *,
        now: float,
        next_poll: float,
        etag: str | None,
        last_modified: str | None,
        entries: Sequence[tuple[str, str | None, str | None]] = (),
        rejected: Sequence[tuple[str, str | None, str]] = (),
        retry: Sequence[tuple[str, str]] = (),
    ) -> None:
        """A poll that worked, with the entries it took (key, url, file), those it will never
        take (key, url, reason), and those to try again at the next poll (key, error)."""
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO feed_entries (feed, key, url, path, seen_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(name, key, url, path, now) for key, url, path in entries],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO feed_entries (feed, key, url, path, seen_at, reason)"
                " VALUES (?, ?, ?, NULL, ?, ?)",
                [(name, key, url, now, reason) for key, url, reason in rejected],
            )
            conn.executemany(
                "DELETE FROM feed_attempts WHERE feed = ? AND key = ?",
                [(name, key) for key, *_ in [*entries, *rejected]],
            )
            conn.executemany(
                "INSERT INTO feed_attempts (feed, key, attempts, last_error, last_at)"
                " VALUES (?, ?, 1, ?, ?) ON CONFLICT (feed, key) DO UPDATE SET"
                " attempts = attempts + 1, last_error = excluded.last_error,"
                " last_at = excluded.last_at",
                [(name, key, error, now) for key, error in retry],
            )
            conn.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, failures = 0, next_poll = ?,"
                " last_ok_at = ?, entries = entries + ? WHERE name = ?",
                (etag, last_modified, next_poll, now, len(entries), name),
            )

    def feed_failed(self, name: str, error: str, *, now: float, next_poll: float) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE feeds SET failures = failures + 1, total_failures = total_failures + 1,"
                " last_error = ?, last_error_at = ?, next_poll = ? WHERE name = ?",
                (error, now, next_poll, name),
            )

    def feed_note(self, name: str, error: str, *, now: float) -> None:
        """A problem with one entry (its page would not load): shown, but the feed works."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE feeds SET total_failures = total_failures + 1, last_error = ?,"
                " last_error_at = ? WHERE name = ?",
                (error, now, name),
            )

    def entry_attempts(self, name: str, keys: Sequence[str]) -> dict[str, int]:
        """How many polls have failed to take each of these entries so far (0: none)."""
        found: dict[str, int] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT key, attempts FROM feed_attempts WHERE feed = ? AND key IN ({marks})",
                (name, *chunk),
            )
            found.update((str(r["key"]), int(r["attempts"])) for r in rows)
        return found

    def rejected_entries(self, name: str, limit: int = 10) -> list[tuple[str, str, float]]:
        """The newest entries a feed will never take: (url or key, reason, when), newest first."""
        rows = self.conn.execute(
            "SELECT coalesce(url, key) AS what, reason, seen_at FROM feed_entries"
            " WHERE feed = ? AND reason IS NOT NULL ORDER BY seen_at DESC, rowid DESC LIMIT ?",
            (name, limit),
        )
        return [(str(r["what"]), str(r["reason"]), float(r["seen_at"])) for r in rows]

    def seen_entries(self, name: str, keys: Sequence[str]) -> set[str]:
        seen: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT key FROM feed_entries WHERE feed = ? AND key IN ({marks})",
                (name, *chunk),
            )
            seen.update(str(r[0]) for r in rows)
        return seen

    # -- remembered queries ---------------------------------------------------------------

    def remember_query(self, chat_id: int, text: str) -> int:
        """A short id for a chat's search text, the same id for the same text in that chat."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO queries (chat_id, text, used_at) VALUES (?, ?, ?)"
                " ON CONFLICT (chat_id, text) DO UPDATE SET used_at = excluded.used_at",
                (chat_id, text, time.time()),
            )
            row = conn.execute(
                "SELECT id FROM queries WHERE chat_id = ? AND text = ?", (chat_id, text)
            ).fetchone()
        return int(row["id"])

    def query_text(self, query_id: int, chat_id: int) -> str | None:
        """The text of a query this chat saved; None for another chat's (or no) query."""
        row = self.conn.execute(
            "SELECT text FROM queries WHERE id = ? AND chat_id = ?", (query_id, chat_id)
        ).fetchone()
        return str(row["text"]) if row else None

    # -- search -------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        offset: int = 0,
        language: str | None = None,
        time_limit: float | None = None,
    ) -> SearchResult:
        """Ranked hits for any text a person types; never raises on odd input. Given a time
        limit (seconds), a search still running then is stopped: SearchTimeout."""
        with self._time_limit(time_limit):
            parsed = parse_query(query, self.stem_of)
            if parsed is None:
                return SearchResult((), 0)
            result = self._search(parsed.strict, parsed.highlight, limit, offset, language)
            if result.total == 0 and parsed.relaxed:
                result = self._search(parsed.relaxed, parsed.highlight, limit, offset, language)
                return SearchResult(result.hits, result.total, relaxed=True)
            return result

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

        self.conn.set_progress_handler(past_deadline, PROGRESS_STEPS)
        try:
            yield
        except sqlite3.OperationalError:
            if self._limit_reached:
                raise SearchTimeout(f"the search took over {seconds:g} s") from None
            raise
        finally:
            self.conn.set_progress_handler(None, 0)
            self._limit_reached = False

    def stem_of(self, prefix: str) -> str | None:
        """The indexed stem that a word beginning typed past it stands for (see _stem_of)."""
        return _stem_of(self.conn, prefix)

    def _search(
        self, match: str, highlight: str, limit: int, offset: int, language: str | None = None
    ) -> SearchResult:
        """Rank in FTS5 alone over the newest RANK_WINDOW matches, then read the page's rows.

        FTS5 scores every match before LIMIT applies: a word in every article cost 230 ms at
        100,000 articles. Ranking the newest matches only (found by rowid, without scoring)
        keeps it near 10 ms; below the window the results are exactly those of ranking all.
        """
        try:
            bound = self.conn.execute(
                "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?"
                " ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                (match, RANK_WINDOW - 1),
            ).fetchone()
            low = int(bound[0]) if bound else 0
            args: tuple[str, ...] = ()
            if language is None:
                total = self.conn.execute(
                    "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ?",
                    (match, low),
                ).fetchone()[0]
                index, where = "articles_id_published", ""
            else:
                # /lang: the same window, narrowed to one language through a covering index.
                index, where = "articles_id_published_language", "AND a.language = ?"
                args = (language,)
                total = self.conn.execute(
                    f"""SELECT count(*) FROM articles_fts f JOIN articles a INDEXED BY {index}
                       ON a.id = f.rowid WHERE articles_fts MATCH ? AND f.rowid >= ? {where}""",
                    (match, low, *args),
                ).fetchone()[0]
            if not total:
                return SearchResult((), 0)
            # The date tie-break reads a covering index, not the (large) article rows.
            ranked = self.conn.execute(
                f"""SELECT f.rowid AS id, bm25(articles_fts, {TITLE_WEIGHT}, 1.0) AS score
                   FROM articles_fts f JOIN articles a INDEXED BY {index}
                     ON a.id = f.rowid
                   WHERE articles_fts MATCH ? AND f.rowid >= ? {where}
                   ORDER BY score, a.published DESC, a.id DESC
                   LIMIT ? OFFSET ?""",
                (match, low, *args, limit, offset),
            ).fetchall()
            ids = [int(r["id"]) for r in ranked]
            marks = ",".join("?" * len(ids))
            snippets = self._snippets(ids, highlight)
            rows = {
                r["id"]: r
                for r in self.conn.execute(
                    f"SELECT id, title, published, url, source FROM articles WHERE id IN ({marks})",
                    ids,
                )
            }
        except sqlite3.OperationalError:
            # Stopped by the time limit: "interrupted", or whatever step SQLite was in failed.
            if self._limit_reached:
                raise
            # parse_query only builds valid expressions; this is the last line of defence.
            log.exception("FTS5 rejected %r", match)
            return SearchResult((), 0)
        hits = tuple(
            Hit(
                r["id"],
                rows[r["id"]]["title"],
                snippets.get(r["id"], ""),
                _from_epoch(rows[r["id"]]["published"]),
                rows[r["id"]]["url"],
                rows[r["id"]]["source"],
                -float(r["score"]),
            )
            for r in ranked
            if r["id"] in rows
        )
        return SearchResult(hits, int(total))

    def _snippets(self, ids: Sequence[int], highlight: str) -> dict[int, str]:
        """A few words of each body around the query's words, marked, from the body's first
        SNIPPET_SOURCE_CHARS characters: highlight() in a scratch FTS5 table with the index's
        tokenizer (so words are marked as they match: stems, phrases, prefixes), which is
        linear in the text, then the best window picked in Python."""
        if not ids:
            return {}
        conn = self.conn
        # The same tokenizer as articles_fts (migration 0001).
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.snippet_source USING fts5"
            " (title, body, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        # Emptied before, not after: a search stopped by its time limit leaves its rows.
        conn.execute("DELETE FROM temp.snippet_source")
        marks = ",".join("?" * len(ids))
        excerpts = {
            int(r[0]): str(r[1] or "")
            for r in conn.execute(
                f"SELECT rowid, substr(body, 1, ?) FROM articles_fts WHERE rowid IN ({marks})",
                (SNIPPET_SOURCE_CHARS, *ids),
            )
        }
        conn.executemany(
            "INSERT INTO temp.snippet_source (rowid, title, body) VALUES (?, '', ?)",
            excerpts.items(),
        )
        marked = {
            int(r[0]): str(r[1])
            for r in conn.execute(
                "SELECT rowid, highlight(snippet_source, 1, ?, ?) FROM temp.snippet_source"
                " WHERE snippet_source MATCH ?",
                (MARK_START, MARK_END, highlight),
            )
        }
        return {
            article_id: snippet_window(
                marked.get(article_id, text), more=len(text) >= SNIPPET_SOURCE_CHARS
            )
            for article_id, text in excerpts.items()
        }


def snippet_window(marked: str, *, more: bool = False) -> str:
    """SNIPPET_WORDS words of a text with marked matches: the window with the most marks (the
    first such), starting a few words before one; '…' where text was left out (`more`: the
    text itself is the beginning of a longer one). Marks come in pairs, even where cut."""
    words = marked.split()
    if not words:
        return ""
    hits = [i for i, word in enumerate(words) if MARK_START in word]
    start = 0
    if hits:

        def marks_in(first: int) -> int:
            return bisect_left(hits, first + SNIPPET_WORDS) - bisect_left(hits, first)

        start = max((max(0, i - 3) for i in hits), key=lambda first: (marks_in(first), -first))
    end = min(len(words), start + SNIPPET_WORDS)
    before = " ".join(words[:start])
    text = " ".join(words[start:end])
    if len(text) > SNIPPET_MAX_CHARS:
        cut = text.rfind(" ", 0, SNIPPET_MAX_CHARS)
        text = text[: cut if cut > 0 else SNIPPET_MAX_CHARS]
        more = True
    if before.rfind(MARK_START) > before.rfind(MARK_END):  # a marked phrase began before
        text = MARK_START + text
    if text.rfind(MARK_START) > text.rfind(MARK_END):
        text += MARK_END
    text = text.replace(MARK_START + MARK_END, "")
    return ("…" if start else "") + text + ("…" if more or end < len(words) else "")


# -- queries ----------------------------------------------------------------------------------
# -- deliveries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatState:
    chat_id: int
    kind: str
    active: bool
    timezone: str
    digest_time: str | None
    last_digest_at: float | None
    language: str | None = None  # /lang: /latest and /search narrowed to it


@dataclass(frozen=True)
class Subscription:
    id: int
    chat_id: int
    query: str  # '' means all news


@dataclass(frozen=True)
class Delivery:
    id: int
    article_id: int
    chat_id: int
    status: str
    attempts: int


def _ensure_chat(conn: sqlite3.Connection, chat_id: int, kind: str) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO chats (chat_id, kind, created_at) VALUES (?, ?, ?)",
        (chat_id, kind, time.time()),
    )


def _queue_deliveries(conn: sqlite3.Connection, article_ids: Sequence[int], now: float) -> int:
    """One outbox row per (new article, subscribed chat whose filters match it)."""
    if not article_ids:
        return 0
    chats_by_query: dict[str, list[tuple[int, bool]]] = {}
    for row in conn.execute(
        "SELECT s.chat_id, s.query, c.digest_time FROM subscriptions s"
        " JOIN chats c ON c.chat_id = s.chat_id WHERE c.active = 1"
    ):
        chats_by_query.setdefault(row["query"], []).append(
            (row["chat_id"], bool(row["digest_time"]))
        )
    rows: dict[tuple[int, int], str] = {}
    for query, chats in chats_by_query.items():
        for article_id in _matching(conn, query, article_ids):
            for chat_id, digest in chats:
                rows.setdefault((article_id, chat_id), DIGEST if digest else QUEUED)
    # One story, one message: a chat that has (or is about to get) another article of the
    # same story does not get this one.
    # New articles have the highest ids: a range, not a list of ids (SQLite caps how many
    # values one statement may take, at 32,766 in common builds).
    story = {
        int(r[0]): int(r[1] or r[0])
        for r in conn.execute(
            "SELECT id, story_id FROM articles WHERE id BETWEEN ? AND ?",
            (min(article_ids), max(article_ids)),
        )
    }
    taken: set[tuple[int, int]] = set()
    for article_id, chat_id in sorted(rows):
        key = (story.get(article_id, article_id), chat_id)
        if (
            key in taken
            or conn.execute(
                "SELECT 1 FROM outbox o JOIN articles a ON a.id = o.article_id"
                " WHERE o.chat_id = ? AND a.story_id = ? AND a.id != ? LIMIT 1",
                (chat_id, key[0], article_id),
            ).fetchone()
        ):
            del rows[(article_id, chat_id)]
        else:
            taken.add(key)
    conn.executemany(
        "INSERT OR IGNORE INTO outbox (article_id, chat_id, status, created_at)"
        " VALUES (?, ?, ?, ?)",
        sorted((a, c, status, now) for (a, c), status in rows.items()),
    )
    return len(rows)


def _write_files(
    conn: sqlite3.Connection, files: Sequence[FileState], failed: Sequence[tuple[str, str]]
) -> None:
    """Record files as read, with the problems of their entries (also those the database
    would not take)."""
    refused: dict[str, list[str]] = {}
    for path, reason in failed:
        refused.setdefault(path, []).append(reason)
    conn.executemany(
        """INSERT INTO files (path, size, mtime_ns, sha256, error, problems)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (path) DO UPDATE SET size = excluded.size,
             mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256,
             error = excluded.error, problems = excluded.problems""",
        [
            (
                f.path,
                f.size,
                f.mtime_ns,
                f.sha256,
                f.error,
                json.dumps([*f.problems, *refused.get(f.path, ())]),
            )
            for f in files
        ],
    )


@contextmanager
def _one_article(
    conn: sqlite3.Connection, article: Article, failed: list[tuple[str, str]]
) -> Iterator[None]:
    """One article's writes in a savepoint: if anything in them fails (a bug, a value SQLite
    will not take), only that article is left out and reported, never the whole run."""
    conn.execute("SAVEPOINT one_article")
    try:
        yield
    except (sqlite3.DatabaseError, ValueError, TypeError, OverflowError, KeyError) as exc:
        if isinstance(exc, sqlite3.DatabaseError) and _is_fatal(exc):
            raise  # the database itself failed (disk full, locked, damaged): nothing can be
        conn.execute("ROLLBACK TO one_article")
        conn.execute("RELEASE one_article")
        log.exception("%s: article %r could not be stored", article.source, article.title)
        reason = f"{shorten(article.title, 60)}: could not be stored ({type(exc).__name__}: {exc})"
        failed.append((article.source, reason))
        return
    conn.execute("RELEASE one_article")


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


# SQLite's primary result codes that are about the database, not the row being written.
_FATAL_CODES = frozenset(
    {
        "SQLITE_BUSY",
        "SQLITE_LOCKED",
        "SQLITE_NOMEM",
        "SQLITE_READONLY",
        "SQLITE_IOERR",
        "SQLITE_CORRUPT",
        "SQLITE_FULL",
        "SQLITE_CANTOPEN",
        "SQLITE_NOTADB",
        "SQLITE_PROTOCOL",
    }
)


def _is_fatal(exc: sqlite3.DatabaseError) -> bool:
    if isinstance(exc, StoreUnavailable):
        return True
    name = getattr(exc, "sqlite_errorname", None)
    if name:  # e.g. SQLITE_IOERR_WRITE: its primary code is SQLITE_IOERR
        return any(name == code or name.startswith(code + "_") for code in _FATAL_CODES)
    text = str(exc).lower()
    words = ("disk", "locked", "readonly", "i/o", "full", "malformed", "not a database")
    return any(word in text for word in words)


def _insert(conn: sqlite3.Connection, article: Article, now: float) -> int:
    """A new article, its search entry and its story; returns its id."""
    cursor = conn.execute(
        f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)}, added_at, updated_at)"
        f" VALUES ({', '.join('?' * len(_ARTICLE_COLUMNS))}, ?, ?)",
        (*_article_row(article), now, now),
    )
    article_id = int(cursor.lastrowid or 0)
    conn.execute(
        "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
        (article_id, article.title, article.body),
    )
    conn.execute(
        "UPDATE articles SET story_id = ? WHERE id = ?",
        (_story_of(conn, article_id, article), article_id),
    )
    return article_id


def _story_of(conn: sqlite3.Connection, article_id: int, article: Article) -> int:
    """The story a new article belongs to: the story of an article with the same canonical
    URL, or of one whose text it nearly repeats (candidates by sketch); else its own. Also
    records the article's sketch for the articles to come."""
    key = stories.url_key(article.url)
    own = stories.shingles(f"{article.title} {article.body}")
    hashes = stories.sketch(own)
    conn.executemany(
        "INSERT INTO story_sketch (hash, article_id) VALUES (?, ?)",
        [(h, article_id) for h in hashes],
    )
    if key:
        row = conn.execute(
            # Only earlier articles: they have their story already, also those of this run.
            "SELECT coalesce(story_id, id) FROM articles WHERE url_key = ? AND id < ?"
            " ORDER BY id LIMIT 1",
            (key, article_id),
        ).fetchone()
        if row:
            return int(row[0])
    if len(own) < stories.MIN_SHINGLES:
        return article_id
    published = article.published.timestamp()
    window = stories.MAX_DAYS_APART * 86400
    marks = ",".join("?" * len(hashes))
    candidates = conn.execute(
        f"""SELECT a.id, a.story_id, a.title, a.blocks FROM articles a JOIN (
               SELECT article_id, count(*) AS shared FROM story_sketch
               WHERE hash IN ({marks}) AND article_id != ?
               GROUP BY article_id HAVING shared >= ? ORDER BY shared DESC LIMIT 5
           ) c ON c.article_id = a.id
           WHERE a.published BETWEEN ? AND ?""",
        (*hashes, article_id, stories.SKETCH_SHARED, published - window, published + window),
    ).fetchall()
    for row in candidates:
        text = " ".join(t for t, _ in json.loads(row["blocks"]))
        if stories.same_text(own, stories.shingles(f"{row['title']} {text}")):
            return int(row["story_id"] or row["id"])
    return article_id


def _stem_of(conn: sqlite3.Connection, prefix: str) -> str | None:
    """The indexed stem that a word beginning typed past it stands for: "electi" -> "elect"
    (election, electing), None when the beginning is itself a stem's beginning."""
    plain, shorter = stem_candidates(prefix)
    if not shorter:
        return None
    marks = ",".join("?" * len(shorter))
    try:
        found = {
            str(r[0])
            for r in conn.execute(
                f"SELECT term FROM temp.articles_vocab WHERE term IN ({marks})", shorter
            )
        }
    except sqlite3.OperationalError:
        log.exception("the search vocabulary could not be read")
        return None
    return pick_stem(plain, shorter, found)


def _matching(conn: sqlite3.Connection, query: str, article_ids: Sequence[int]) -> list[int]:
    """Which of these (new, consecutive) articles a subscription filter matches."""
    wanted = set(article_ids)
    if not query:
        return sorted(wanted)
    parsed = parse_filter(query, lambda prefix: _stem_of(conn, prefix))
    if parsed is None:
        return []
    low = min(wanted)
    # New articles have the highest ids (AUTOINCREMENT): FTS5 seeks to them by rowid.
    sql = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ?"
    try:
        hits = {r[0] for r in conn.execute(sql, (parsed.match, low))} if parsed.match else wanted
        if parsed.exclude:
            hits -= {r[0] for r in conn.execute(sql, (parsed.exclude, low))}
    except sqlite3.OperationalError:
        log.exception("subscription filter %r could not be matched", query)
        return []
    return sorted(hits & wanted)


def _chat_state(row: sqlite3.Row) -> ChatState:
    return ChatState(
        row["chat_id"],
        row["kind"],
        bool(row["active"]),
        row["timezone"],
        row["digest_time"],
        row["last_digest_at"],
        row["language"],
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(row["id"], row["article_id"], row["chat_id"], row["status"], row["attempts"])


# -- rows -------------------------------------------------------------------------------------

_ARTICLE_COLUMNS = (
    "key",
    "source",
    "title",
    "blocks",
    "published",
    "dated",
    "url",
    "tags",
    "language",
    "external_id",
    "ordinal",
    "content_hash",
    "fingerprint",
    "url_key",
    "author",
)


def _article_row(a: Article) -> tuple[object, ...]:
    return (
        a.key,
        a.source,
        a.title,
        json.dumps([[b.text, b.heading] for b in a.blocks], ensure_ascii=False),
        a.published.timestamp(),
        int(a.dated),
        a.url,
        json.dumps(list(a.tags), ensure_ascii=False),
        a.language,
        a.external_id,
        a.ordinal,
        a.content_hash,
        a.fingerprint,
        stories.url_key(a.url),
        a.author,
    )


def _stored(row: sqlite3.Row) -> StoredArticle:
    article = Article(
        title=row["title"],
        blocks=tuple(Block(text, bool(heading)) for text, heading in json.loads(row["blocks"])),
        source=row["source"],
        published=_from_epoch(row["published"]),
        dated=bool(row["dated"]),
        ordinal=row["ordinal"],
        url=row["url"],
        tags=tuple(json.loads(row["tags"])),
        language=row["language"],
        external_id=row["external_id"],
        author=row["author"],
    )
    return StoredArticle(
        row["id"], article, _from_epoch(row["added_at"]), _from_epoch(row["updated_at"])
    )


def _from_epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


__all__ = [
    "DIGEST",
    "DROPPED",
    "FAILED",
    "MARK_END",
    "MARK_START",
    "MAX_QUERY_TERMS",
    "MIGRATIONS",
    "QUEUED",
    "SENDING",
    "SENT",
    "Applied",
    "ArticleRef",
    "Changes",
    "ChatState",
    "DatabaseUnusable",
    "Delivery",
    "FeedState",
    "FileState",
    "Filter",
    "Hit",
    "ParsedQuery",
    "SearchResult",
    "SearchTimeout",
    "StemOf",
    "Store",
    "StoreUnavailable",
    "StoredArticle",
    "Subscription",
    "SummaryKey",
    "parse_filter",
    "parse_query",
    "snippet_window",
]
