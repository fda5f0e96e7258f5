"""Articles: the index run's writes (Store.apply), the index state, reading articles and
their stories."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import cast

from .. import stories
from ..articles import Article, Block, shorten
from .outbox import _queue_deliveries
from .records import (
    Applied,
    ArticleRef,
    Changes,
    FileState,
    StoredArticle,
    StoreUnavailable,
    SummaryKey,
    _from_epoch,
)
from .room import Database, Room, Row, rows_in_chunks
from .story_bands import Bands, known_bands, record_bands, story_of
from .summaries import write_summaries

log = logging.getLogger(__name__)

# New articles written per transaction by Store.apply: well under a second of write lock
# (about 1.5 ms an article with its search entry, story bands and deliveries).
APPLY_BATCH = 500
BATCH_PAUSE = 0.1
# Seconds of write lock an index run holds, in one transaction or several, before a pause; and
# the longest a transaction of new articles goes on (a batch of 500 took up to a second, and
# back-to-back ones made the sender wait for both: 1.04 s at 100,000 new articles).
HOLD = 0.3
WRITE_SECONDS = 0.3


SummariesOf = Callable[[Sequence[Article]], Sequence[tuple[SummaryKey, Sequence[str]]]]
"""The summaries to write with these articles (those the cache does not have yet)."""


class _Turns:
    """Gaps between an index run's transactions, for the other writers (the bot's sender).

    SQLite has no queue for its write lock: a waiting writer polls it (every 100 ms once it has
    waited a while), and back-to-back transactions would starve it. So after HOLD seconds of
    lock held, a BATCH_PAUSE gap; time spent outside the lock anyway (waiting for summaries)
    is such a gap too, and then none is added.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self.held = 0.0
        self.released = clock()

    def wait(self) -> None:
        free = self.clock() - self.released
        if free >= BATCH_PAUSE:
            self.held = 0.0
        elif self.held >= HOLD:
            self.sleep(BATCH_PAUSE - free)
            self.held = 0.0

    @contextmanager
    def holding(self) -> Iterator[None]:
        taken = self.clock()
        try:
            yield
        finally:
            self.released = self.clock()
            self.held += self.released - taken


class Articles(Room):
    """Index state, the index run's writes, and reading articles."""

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
            wanted = list(sources)
            rows = rows_in_chunks(self.conn, query + " WHERE source IN ({marks})", (), wanted)
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

    def apply(
        self,
        changes: Changes,
        *,
        batch_size: int = APPLY_BATCH,
        summaries: SummariesOf | None = None,
    ) -> Applied:
        """Write one index run, and queue the new articles for their subscribers.

        In bounded transactions, so the write lock is never held for long (the bot's sender
        writes too): first removals, moves and updates, then the new articles `batch_size` at
        a time, each batch with its deliveries. A file's row is written with its last article,
        so a crash part way leaves files that the next run reads again, never an article lost.
        `summaries(articles)`, asked before each transaction (the index run waits there for
        its workers to make them, outside the lock), gives summaries written in the same
        transaction as those articles: no article is ever listed without its summary.
        """
        now = time.time()
        applied = Applied([], 0, [])
        made = summaries([a for _, a in changes.updated]) if summaries else []
        with self.transaction() as conn:
            write_summaries(conn, made)
            _edit(conn, changes, applied.failed, now)
        batches = [
            changes.added[i : i + batch_size] for i in range(0, len(changes.added), batch_size)
        ]
        last_batch = {a.source: number for number, batch in enumerate(batches) for a in batch}
        # Each file's row goes with the batch of its last article (grouped once: looking the
        # files up per batch made a run of 40,000 new files quadratic).
        files_of: dict[int, list[FileState]] = {}
        for state in changes.files:
            if state.path in last_batch:
                files_of.setdefault(last_batch[state.path], []).append(state)
        turns = _Turns()
        for number, batch in enumerate(batches):
            made = summaries(batch) if summaries else []
            left = list(reversed(batch))
            while left:  # a transaction holds the lock for WRITE_SECONDS at most
                turns.wait()
                with turns.holding(), self.transaction() as conn:
                    write_summaries(conn, made)
                    made = []
                    added: list[int] = []
                    began, first = time.monotonic(), True
                    while left and (first or time.monotonic() - began < WRITE_SECONDS):
                        article, first = left.pop(), False
                        with _one_article(conn, article, applied.failed):
                            added.append(_insert(conn, article, now, changes.bands))
                    if not left:  # the batch's files, with their last articles
                        _write_files(conn, files_of.get(number, []), applied.failed)
                    applied.queued += _queue_deliveries(conn, added, now)
                    applied.added_ids.extend(added)
        with self.transaction() as conn:
            _finish(conn, changes, applied, now)
        return applied

    def last_reload(self) -> tuple[datetime, dict[str, object]] | None:
        row = self.conn.execute(
            "SELECT finished_at, report FROM reloads ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return (_from_epoch(row["finished_at"]), json.loads(row["report"])) if row else None

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

    def articles_per_day(
        self, since: float, until: float, *, feeds: str | None = "feeds/"
    ) -> list[tuple[int, str, int]]:
        """(UTC day as days since 1970-01-01, where from, how many) for the articles added from
        `since` to before `until` (epoch seconds). Where from is the first part of the file's
        path in the articles folder: a folder ('reuters/') or a file ('wire.jsonl'); below
        `feeds` (the feeds folder's path in it, ending in '/'), the feed's own folder
        ('feeds/bbc-news/').

        A walk of the window's part of the index on (added_at, source), never of the rows
        (which hold whole texts): 55 ms at 85,000 articles in the window."""
        prefix = feeds or "\x00"  # a prefix no path has
        # Paths from `prefix` up to (not including) the next string after all that start with it.
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self.conn.execute(
            "SELECT CAST(floor(added_at / 86400) AS INTEGER) AS day, CASE"
            " WHEN source >= ? AND source < ?"
            # (PostgreSQL's substr takes 32-bit integers.)
            " THEN substr(source, 1, CAST(? + instr(substr(source, CAST(? AS INTEGER) + 1), '/')"
            " AS INTEGER))"
            " ELSE coalesce(nullif(substr(source, 1, instr(source, '/')), ''), source)"
            " END AS origin, count(*)"
            " FROM articles INDEXED BY articles_added WHERE added_at >= ? AND added_at < ?"
            " GROUP BY day, origin ORDER BY day, origin",
            (prefix, after, len(prefix), len(prefix), since, until),
        )
        return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    def languages(self) -> list[tuple[str, int]]:
        """Each language the articles are in, with how many, the commonest first."""
        rows = self.conn.execute(
            "SELECT language, count(*) AS n FROM articles WHERE language IS NOT NULL"
            " GROUP BY language ORDER BY n DESC, language"
        )
        return [(str(r[0]), int(r[1])) for r in rows]


def _edit(conn: Database, changes: Changes, failed: list[tuple[str, str]], now: float) -> None:
    """An index run's removals, moves and updates, and the rows of files with no new article."""
    adding = {a.source for a in changes.added}
    conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in changes.removed_files])
    for article_id in changes.removed_ids:
        conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        conn.execute("DELETE FROM articles_fts WHERE rowid = ?", (article_id,))
        conn.execute("DELETE FROM story_bands WHERE article_id = ?", (article_id,))
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
        with _one_article(conn, article, failed):
            conn.execute(
                f"UPDATE articles SET {', '.join(f'{c} = ?' for c in _ARTICLE_COLUMNS)},"
                " updated_at = ? WHERE id = ?",
                (*_article_row(article), now, article_id),
            )
            conn.execute(
                "UPDATE articles_fts SET title = ?, body = ? WHERE rowid = ?",
                (article.title, article.body, article_id),
            )
            conn.execute("DELETE FROM story_bands WHERE article_id = ?", (article_id,))
            record_bands(conn, article_id, article, known_bands(article, changes.bands))
    if changes.removed_ids:
        # A story whose first article went: the next one leads it.
        conn.execute(
            "UPDATE articles SET story_id = (SELECT min(b.id) FROM articles b"
            " WHERE b.story_id = articles.story_id)"
            " WHERE story_id NOT IN (SELECT id FROM articles)"
        )
    _write_files(conn, [f for f in changes.files if f.path not in adding], failed)


def _finish(conn: Database, changes: Changes, applied: Applied, now: float) -> None:
    """The end of an index run: summaries no article needs go, the run's report is kept."""
    # Summaries of texts no article has any more would only grow the file.
    if changes.removed_ids or changes.updated:
        conn.execute(
            "DELETE FROM summaries WHERE content_hash NOT IN (SELECT content_hash FROM articles)"
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


def _write_files(
    conn: Database, files: Sequence[FileState], failed: Sequence[tuple[str, str]]
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
def _one_article(conn: Database, article: Article, failed: list[tuple[str, str]]) -> Iterator[None]:
    """One article's writes in a savepoint: if anything in them fails (a bug, a value the
    database will not take), only that article is left out and reported, never the whole run."""
    conn.execute("SAVEPOINT one_article")
    try:
        yield
    except Exception as exc:
        if not _refused(exc):
            raise  # the database itself failed (disk full, locked, damaged): nothing can be
        conn.execute("ROLLBACK TO one_article")
        conn.execute("RELEASE one_article")
        log.exception("%s: article %r could not be stored", article.source, article.title)
        reason = f"{shorten(article.title, 60)}: could not be stored ({type(exc).__name__}: {exc})"
        failed.append((article.source, reason))
        return
    conn.execute("RELEASE one_article")


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


# PostgreSQL's error classes (SQLSTATE's first two characters) that are about the row being
# written: a value refused (22: a NUL character, say), a constraint (23), a size limit (54: a
# search entry over 1 MB), a statement wrong for it (42).
_REFUSED_CLASSES = frozenset({"22", "23", "54", "42"})


def _refused(exc: Exception) -> bool:
    """Whether an error is about the article's values (leave it out) rather than about the
    database itself (full, locked, damaged, unreachable: stop the run)."""
    if isinstance(exc, (ValueError, TypeError, OverflowError, KeyError)):
        return True
    if isinstance(exc, sqlite3.DatabaseError):  # StoreUnavailable is one too: never refused
        return not _is_fatal(exc)
    return str(getattr(exc, "sqlstate", "") or "")[:2] in _REFUSED_CLASSES


def _is_fatal(exc: sqlite3.DatabaseError) -> bool:
    if isinstance(exc, StoreUnavailable):
        return True
    name = getattr(exc, "sqlite_errorname", None)
    if name:  # e.g. SQLITE_IOERR_WRITE: its primary code is SQLITE_IOERR
        return any(name == code or name.startswith(code + "_") for code in _FATAL_CODES)
    text = str(exc).lower()
    words = ("disk", "locked", "readonly", "i/o", "full", "malformed", "not a database")
    return any(word in text for word in words)


def _insert(conn: Database, article: Article, now: float, bands: Bands) -> int:
    """A new article, its search entry and its story; returns its id."""
    cursor = conn.execute(
        f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)}, added_at, updated_at)"
        f" VALUES ({', '.join('?' * len(_ARTICLE_COLUMNS))}, ?, ?) RETURNING id",
        (*_article_row(article), now, now),
    )
    article_id = int(cursor.fetchone()[0])
    conn.execute(
        "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
        (article_id, article.title, article.body),
    )
    conn.execute(
        "UPDATE articles SET story_id = ? WHERE id = ?",
        (story_of(conn, article_id, article, known_bands(article, bands)), article_id),
    )
    return article_id


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
    "image",
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
        a.image,
    )


def _stored(row: Row) -> StoredArticle:
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
        image=row["image"],
    )
    return StoredArticle(
        row["id"], article, _from_epoch(row["added_at"]), _from_epoch(row["updated_at"])
    )
