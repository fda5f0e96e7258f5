"""The delivery outbox: one row per (article, chat), queued in the transaction that adds the
article, then sent, retried, failed or dropped."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence

from ..query import parse_filter
from .records import (
    DIGEST,
    FAILED,
    QUEUED,
    SENDING,
    SENT,
    Delivery,
)
from .room import Database, Room, Row
from .search import _stem_of

log = logging.getLogger(__name__)


class Outbox(Room):
    """The delivery outbox."""

    def due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        rows = self.conn.execute(
            "SELECT o.* FROM outbox o JOIN chats c ON c.chat_id = o.chat_id"
            " WHERE o.status = ? AND o.not_before <= ? AND c.active = 1"
            " ORDER BY o.id LIMIT ?",
            (QUEUED, now, limit),
        ).fetchall()
        return [_delivery(r) for r in rows]

    def mark_sending(self, delivery_ids: Sequence[int]) -> list[int]:
        """Claim queued deliveries before they go to Telegram (one write for a round); returns
        the ids claimed: a row no longer queued (another sender took it) is left out. A crash
        from here to mark_sent is the one window in which a message can go out twice (see
        requeue_interrupted)."""
        with self.transaction() as conn:
            return [
                delivery_id
                for delivery_id in delivery_ids
                if conn.execute(
                    "UPDATE outbox SET status = ?, attempts = attempts + 1"
                    " WHERE id = ? AND status = ? RETURNING id",
                    (SENDING, delivery_id, QUEUED),
                ).fetchone()
            ]

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
                "UPDATE outbox SET status = ?,"
                " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, error = ?"
                " WHERE id = ? AND status = ?",
                (QUEUED, error, delivery_id, SENDING),
            )

    def mark_failed(self, delivery_id: int, error: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET status = ?, error = ?, failed_at = ? WHERE id = ?",
                (FAILED, error, time.time(), delivery_id),
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

    def deliveries_per_day(self, since: float, until: float) -> list[tuple[int, str, int]]:
        """(UTC day as days since 1970-01-01, 'sent' or 'failed', how many) for the deliveries
        sent, or given up, from `since` to before `until` (epoch seconds)."""
        rows = self.conn.execute(
            "SELECT CAST(floor(at / 86400) AS INTEGER) AS day, status, count(*) FROM ("
            "  SELECT status, CASE status WHEN ? THEN sent_at ELSE failed_at END AS at"
            "  FROM outbox WHERE status IN (?, ?)"
            ") AS done WHERE at >= ? AND at < ? GROUP BY day, status ORDER BY day, status",
            (SENT, SENT, FAILED, since, until),
        )
        return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def _queue_deliveries(conn: Database, article_ids: Sequence[int], now: float) -> int:
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
        "INSERT INTO outbox (article_id, chat_id, status, created_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        sorted((a, c, status, now) for (a, c), status in rows.items()),
    )
    return len(rows)


def _matching(conn: Database, query: str, article_ids: Sequence[int]) -> list[int]:
    """Which of these (new, consecutive) articles a subscription filter matches."""
    wanted = set(article_ids)
    if not query:
        return sorted(wanted)
    if getattr(conn, "engine", "sqlite") == "postgresql":  # its search index is no FTS5 table
        from . import pg_search

        found = parse_filter(query, lambda prefix: pg_search.stem_of(conn, prefix))
        return sorted(pg_search.matching(conn, found, article_ids)) if found else []
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


def _delivery(row: Row) -> Delivery:
    return Delivery(row["id"], row["article_id"], row["chat_id"], row["status"], row["attempts"])
