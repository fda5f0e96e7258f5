"""The only package that speaks SQL: schema and migrations, articles, summary cache, chats and
subscriptions, the delivery outbox, feeds, saved queries, full-text search.

Two engines behind one Store: SQLite (sqlite.py, the default: one file) and PostgreSQL
(postgres.py: several processes, several machines). `open_store` picks one from the database
setting: a postgresql:// URL, else a SQLite file's path. Each subject's methods (articles.py,
chats.py, outbox.py, ...) are written once, in SQL both engines take; where they differ (the
search index above all), the engine's module says so.
"""

from __future__ import annotations

from pathlib import Path

from ..query import MAX_QUERY_TERMS, Filter, ParsedQuery, StemOf, parse_filter, parse_query
from .migrations import MIGRATIONS
from .outbox import Outbox
from .records import (
    DIGEST,
    DROPPED,
    FAILED,
    MARK_END,
    MARK_START,
    QUEUED,
    SENDING,
    SENT,
    Applied,
    ArticleRef,
    Changes,
    ChatState,
    DatabaseUnusable,
    Delivery,
    FeedState,
    FileState,
    Hit,
    SearchResult,
    SearchTimeout,
    StoredArticle,
    StoreUnavailable,
    Subscription,
    SummaryKey,
)
from .snippets import snippet_window
from .sqlite import Store


def is_url(database: str | Path) -> bool:
    """Whether the database setting names a PostgreSQL server rather than a SQLite file."""
    return str(database).startswith(("postgresql://", "postgres://"))


def open_store(database: str | Path, *, busy_timeout: float = 10.0) -> Store:
    """The store the database setting names: a postgresql:// URL, or a SQLite file's path.
    `busy_timeout`: how long a write waits for a lock (or a server) before StoreUnavailable."""
    if is_url(database):
        from .postgres import PostgresStore  # psycopg is imported only when it is used

        return PostgresStore(str(database), busy_timeout=busy_timeout)
    return Store(database, busy_timeout=busy_timeout)


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
    "Outbox",
    "ParsedQuery",
    "SearchResult",
    "SearchTimeout",
    "StemOf",
    "Store",
    "StoreUnavailable",
    "StoredArticle",
    "Subscription",
    "SummaryKey",
    "is_url",
    "open_store",
    "parse_filter",
    "parse_query",
    "snippet_window",
]
