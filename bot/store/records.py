"""What the store hands out and takes in: plain records, delivery states, errors."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..articles import Article
from ..errors import NewsbotError

# Highlight markers in snippets: control characters cannot occur in article text (articles.py
# rejects them), so renderers can escape the text first and then swap these for markup.
MARK_START = "\x02"
MARK_END = "\x03"

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
    # When only the newest articles were searched (a phrase of common words: see
    # search.PHRASE_CANDIDATES), about how many; None: the whole library.
    searched: int | None = None


@dataclass
class Applied:
    added_ids: list[int]  # the ids given to the added articles, in order
    queued: int  # deliveries queued for subscribers
    # (file, reason) for each article the database would not take (the others were written).
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Changes:
    """One index run's writes, applied by Store.apply."""

    files: list[FileState]
    removed_files: list[str]
    added: list[Article]
    # (id, article): the id is kept, the key may change (a renamed file).
    updated: list[tuple[int, Article]]
    removed_ids: list[int]
    report: dict[str, object]
    # (id, article): the same article in another file or place; only its location changes.
    relocated: list[tuple[int, Article]] = field(default_factory=list)
    # Story band keys already computed (stories.text_bands), by content hash; the others are
    # computed when written.
    bands: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatState:
    chat_id: int
    kind: str
    active: bool
    timezone: str
    digest_time: str | None
    last_digest_at: float | None
    language: str | None = None  # /lang: /latest and /search narrowed to it
    pictures: bool = True  # /pictures: articles come with their lead image as the preview
    ui_language: str | None = None  # /language: the bot's own language here, as chosen
    user_language: str | None = None  # the Telegram language of who last set things up here


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


class SearchTimeout(NewsbotError):
    """A search ran past the time limit it was given, and was stopped (see Store.search)."""


class StoreUnavailable(NewsbotError, sqlite3.OperationalError):
    """A write the database did not take now: another process held the write lock past the busy
    timeout (a long index run), or the disk is full or failing. Nothing of it was written; the
    same write may be tried again later. (An OperationalError, as it was before it had a name.)"""


class DatabaseUnusable(NewsbotError):
    """The database file cannot be used: it is not a SQLite database, it is damaged, or it was
    removed or replaced while this process had it open. Nothing more is written to it; the
    message names the file, says what happened and what to do."""


class Lease:
    """The right to run what must run once for a database (the sender, feed polls, digests,
    reloads). On SQLite one process owns the file's jobs: always held."""

    def take(self) -> bool:
        """Take the lease if it is free; whether this process holds it now."""
        return True

    def held(self) -> bool:
        """Whether this process still holds the lease (checked, not remembered)."""
        return True

    def release(self) -> None:
        """Give the lease up (another process may take it)."""


def _from_epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)
