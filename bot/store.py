"""The only module that speaks SQL: schema and migrations, articles, summary cache, FTS5 search.

One SQLite file (WAL), created on first use. Migrations are named, ordered and recorded in
PRAGMA user_version; each runs in its own transaction. Article ids come from an AUTOINCREMENT
key, so an id a person once typed never points to a different article later.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from .articles import Article, Block

log = logging.getLogger(__name__)

# Highlight markers in snippets: control characters cannot occur in article text (articles.py
# rejects them), so renderers can escape the text first and then swap these for markup.
MARK_START = "\x02"
MARK_END = "\x03"

# The title counts this many times the body in BM25.
TITLE_WEIGHT = 10.0
# At most this many words of a query reach FTS5; the rest of a pasted essay is noise.
MAX_QUERY_TERMS = 32

MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "0001_articles_summaries_search",
        (
            """CREATE TABLE files (
                path TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                error TEXT,
                problems TEXT NOT NULL DEFAULT '[]'
            )""",
            """CREATE TABLE articles (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL UNIQUE,
                source TEXT NOT NULL,
                title TEXT NOT NULL,
                blocks TEXT NOT NULL,
                published REAL NOT NULL,
                dated INTEGER NOT NULL,
                url TEXT,
                tags TEXT NOT NULL DEFAULT '[]',
                language TEXT,
                external_id TEXT,
                ordinal INTEGER NOT NULL,
                content_hash TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                added_at REAL NOT NULL,
                updated_at REAL NOT NULL
            )""",
            "CREATE INDEX articles_source ON articles (source)",
            "CREATE INDEX articles_newest ON articles (published DESC, id DESC)",
            """CREATE TABLE summaries (
                content_hash TEXT NOT NULL,
                algorithm TEXT NOT NULL,
                sentences INTEGER NOT NULL,
                language TEXT NOT NULL,
                summary TEXT NOT NULL,
                PRIMARY KEY (content_hash, algorithm, sentences, language)
            ) WITHOUT ROWID""",
            """CREATE VIRTUAL TABLE articles_fts USING fts5 (
                title, body, tokenize = 'porter unicode61 remove_diacritics 2'
            )""",
            """CREATE TABLE reloads (
                id INTEGER PRIMARY KEY,
                finished_at REAL NOT NULL,
                report TEXT NOT NULL
            )""",
        ),
    ),
    (
        # Search paging buttons carry a query id, not the query: callback_data holds 64 bytes.
        "0002_queries",
        (
            """CREATE TABLE queries (
                id INTEGER PRIMARY KEY,
                text TEXT NOT NULL UNIQUE,
                used_at REAL NOT NULL
            )""",
        ),
    ),
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


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit (see `transaction`), never implicit.
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        # The timeout first: switching to WAL needs a lock another process may hold.
        self.conn.execute("PRAGMA busy_timeout = 10000")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.migrate()

    def close(self) -> None:
        self.conn.close()

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
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- schema -------------------------------------------------------------------------------

    def migrate(self) -> None:
        for number, (name, statements) in enumerate(MIGRATIONS, start=1):
            if number <= self.schema_version:
                continue
            with self.transaction() as conn:
                # Read again under the write lock: another process may have just migrated.
                if number <= self.schema_version:
                    continue
                log.info("applying migration %s", name)
                for statement in statements:
                    conn.execute(statement)
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

    def apply(self, changes: Changes) -> list[int]:
        """Write one index run atomically (a crash before COMMIT leaves the previous state).

        Returns the ids given to the added articles, in the order they were added.
        """
        now = time.time()
        added_ids: list[int] = []
        with self.transaction() as conn:
            conn.executemany(
                "DELETE FROM files WHERE path = ?", [(p,) for p in changes.removed_files]
            )
            conn.executemany(
                """INSERT INTO files (path, size, mtime_ns, sha256, error, problems)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (path) DO UPDATE SET size = excluded.size,
                     mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256,
                     error = excluded.error, problems = excluded.problems""",
                [
                    (f.path, f.size, f.mtime_ns, f.sha256, f.error, json.dumps(list(f.problems)))
                    for f in changes.files
                ],
            )
            for article_id in changes.removed_ids:
                conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
                conn.execute("DELETE FROM articles_fts WHERE rowid = ?", (article_id,))
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
                conn.execute(
                    f"UPDATE articles SET {', '.join(f'{c} = ?' for c in _ARTICLE_COLUMNS)},"
                    " updated_at = ? WHERE id = ?",
                    (*_article_row(article), now, article_id),
                )
                conn.execute(
                    "UPDATE articles_fts SET title = ?, body = ? WHERE rowid = ?",
                    (article.title, article.body, article_id),
                )
            for article in changes.added:
                cursor = conn.execute(
                    f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)}, added_at, updated_at)"
                    f" VALUES ({', '.join('?' * len(_ARTICLE_COLUMNS))}, ?, ?)",
                    (*_article_row(article), now, now),
                )
                conn.execute(
                    "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
                    (cursor.lastrowid, article.title, article.body),
                )
                added_ids.append(int(cursor.lastrowid or 0))
            # Summaries of texts no article has any more would only grow the file.
            if changes.removed_ids or changes.updated:
                conn.execute(
                    "DELETE FROM summaries WHERE content_hash NOT IN"
                    " (SELECT content_hash FROM articles)"
                )
            conn.execute(
                "INSERT INTO reloads (finished_at, report) VALUES (?, ?)",
                (now, json.dumps(changes.report)),
            )
        return added_ids

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

    def latest(self, limit: int = 10, offset: int = 0) -> list[StoredArticle]:
        rows = self.conn.execute(
            "SELECT * FROM articles ORDER BY published DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_stored(r) for r in rows]

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM articles").fetchone()[0])

    # -- remembered queries ---------------------------------------------------------------

    def remember_query(self, text: str) -> int:
        """A short id for a search text, the same id for the same text."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO queries (text, used_at) VALUES (?, ?)"
                " ON CONFLICT (text) DO UPDATE SET used_at = excluded.used_at",
                (text, time.time()),
            )
            row = conn.execute("SELECT id FROM queries WHERE text = ?", (text,)).fetchone()
        return int(row["id"])

    def query_text(self, query_id: int) -> str | None:
        row = self.conn.execute("SELECT text FROM queries WHERE id = ?", (query_id,)).fetchone()
        return str(row["text"]) if row else None

    # -- search -------------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 10, offset: int = 0) -> SearchResult:
        """Ranked hits for any text a person types; never raises on odd input."""
        parsed = parse_query(query)
        if parsed is None:
            return SearchResult((), 0)
        result = self._search(parsed.strict, limit, offset)
        if result.total == 0 and parsed.relaxed:
            result = self._search(parsed.relaxed, limit, offset)
            return SearchResult(result.hits, result.total, relaxed=True)
        return result

    def _search(self, match: str, limit: int, offset: int) -> SearchResult:
        try:
            total = self.conn.execute(
                "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", (match,)
            ).fetchone()[0]
            if not total:
                return SearchResult((), 0)
            rows = self.conn.execute(
                f"""SELECT a.id, a.title, a.published, a.url, a.source,
                       snippet(articles_fts, 1, '{MARK_START}', '{MARK_END}', '…', 24) AS snippet,
                       bm25(articles_fts, {TITLE_WEIGHT}, 1.0) AS score
                   FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
                   WHERE articles_fts MATCH ?
                   ORDER BY score, a.published DESC, a.id DESC
                   LIMIT ? OFFSET ?""",
                (match, limit, offset),
            ).fetchall()
        except sqlite3.OperationalError:
            # parse_query only builds valid expressions; this is the last line of defence.
            log.exception("FTS5 rejected %r", match)
            return SearchResult((), 0)
        hits = tuple(
            Hit(
                r["id"],
                r["title"],
                r["snippet"],
                _from_epoch(r["published"]),
                r["url"],
                r["source"],
                -float(r["score"]),
            )
            for r in rows
        )
        return SearchResult(hits, int(total))


# -- queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedQuery:
    strict: str
    relaxed: str | None  # every word optional, when strict needs several


_TOKEN = re.compile(r'(-?)(?:(title|body):)?(?:"([^"]*)"?|(\S+))', re.IGNORECASE)
_WORD = re.compile(r"\w+")
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}


def parse_query(text: str) -> ParsedQuery | None:
    """A person's search text as a safe FTS5 expression.

    Words are quoted, so FTS5 syntax typed by accident is just text. Understood on purpose:
    "exact phrase", word* (prefix), -word (exclude), title:word, and OR between words.
    Returns None when the text holds no word at all.
    """
    groups: list[list[str]] = [[]]
    excluded: list[str] = []
    terms = 0
    for match in _TOKEN.finditer(text[:2000]):
        minus, column, phrase, bare = match.groups()
        raw = phrase if phrase is not None else bare
        if bare == "OR" and not minus and not column:
            if groups[-1]:
                groups.append([])
            continue
        if bare in _OPERATORS and not column:
            continue
        words = _WORD.findall(raw or "")
        if not words or terms >= MAX_QUERY_TERMS:
            continue
        terms += 1
        term = '"' + " ".join(words) + '"'
        if phrase is None and raw.endswith("*") and len(words) == 1:
            term += "*"
        if column:
            term = f"{column.lower()} : {term}"
        if minus:
            excluded.append(term)
        else:
            groups[-1].append(term)
    groups = [g for g in groups if g]
    if not groups:
        return None
    positive = " OR ".join(f"({' '.join(g)})" if len(g) > 1 else g[0] for g in groups)
    if len(groups) > 1:
        positive = f"({positive})"
    strict = positive + "".join(f" NOT {term}" for term in excluded)
    all_terms = [t for g in groups for t in g]
    relaxed = None
    if len(all_terms) > 1 and len(groups) == 1:
        relaxed = f"({' OR '.join(all_terms)})" + "".join(f" NOT {t}" for t in excluded)
    return ParsedQuery(strict, relaxed)


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
    )
    return StoredArticle(
        row["id"], article, _from_epoch(row["added_at"]), _from_epoch(row["updated_at"])
    )


def _from_epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)
