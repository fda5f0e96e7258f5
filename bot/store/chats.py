"""Chats and their subscriptions: language, pictures, digest time, time zone, filters."""

from __future__ import annotations

import time

from .records import (
    DIGEST,
    DROPPED,
    QUEUED,
    SENDING,
    ChatState,
    Subscription,
)
from .room import Database, Room, Row


class Chats(Room):
    """Chats and their subscriptions."""

    def set_chat_language(self, chat_id: int, kind: str, language: str | None) -> None:
        with self.transaction() as conn:
            _ensure_chat(conn, chat_id, kind)
            conn.execute("UPDATE chats SET language = ? WHERE chat_id = ?", (language, chat_id))

    def set_chat_pictures(self, chat_id: int, kind: str, on: bool) -> None:
        with self.transaction() as conn:
            _ensure_chat(conn, chat_id, kind)
            conn.execute("UPDATE chats SET pictures = ? WHERE chat_id = ?", (int(on), chat_id))

    def set_ui_language(self, chat_id: int, kind: str, language: str | None) -> None:
        """The bot's language in this chat (/language); None: the Telegram language of whoever
        writes."""
        with self.transaction() as conn:
            _ensure_chat(conn, chat_id, kind)
            conn.execute("UPDATE chats SET ui_language = ? WHERE chat_id = ?", (language, chat_id))

    def note_user_language(self, chat_id: int, language: str) -> None:
        """The Telegram language of who subscribed or changed a setting here last: what
        deliveries and digests are written in when the chat chose none."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE chats SET user_language = ? WHERE chat_id = ?"
                " AND (user_language IS NULL OR user_language != ?)",
                (language, chat_id, language),
            )

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
                "INSERT INTO subscriptions (chat_id, query, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
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
                "INSERT INTO chats (chat_id, kind, active, timezone, digest_time,"
                " last_digest_at, created_at, language, pictures) SELECT ?, 'supergroup',"
                " active, timezone, digest_time, last_digest_at, created_at, language, pictures"
                " FROM chats WHERE chat_id = ? ON CONFLICT DO NOTHING",
                (new, old),
            )
            conn.execute(
                # The new chat may have some of these filters already: those stay as they are.
                "UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?"
                " AND query NOT IN (SELECT query FROM subscriptions WHERE chat_id = ?)",
                (new, old, new),
            )
            conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (old,))
            conn.execute(
                "UPDATE outbox SET chat_id = ?, status = CASE status WHEN ? THEN ?"
                " ELSE status END WHERE chat_id = ? AND status IN (?, ?, ?)"
                " AND article_id NOT IN (SELECT article_id FROM outbox WHERE chat_id = ?)",
                (new, SENDING, QUEUED, old, QUEUED, DIGEST, SENDING, new),
            )
            conn.execute(
                "UPDATE chats SET active = 0, inactive_reason = ? WHERE chat_id = ?",
                (f"migrated to {new}", old),
            )

    def subscribed_chat_count(self) -> int:
        return int(
            self.conn.execute(
                "SELECT count(DISTINCT s.chat_id) FROM subscriptions s"
                " JOIN chats c ON c.chat_id = s.chat_id WHERE c.active = 1"
            ).fetchone()[0]
        )


def _ensure_chat(conn: Database, chat_id: int, kind: str) -> None:
    conn.execute(
        "INSERT INTO chats (chat_id, kind, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (chat_id, kind, time.time()),
    )


def _chat_state(row: Row) -> ChatState:
    return ChatState(
        row["chat_id"],
        row["kind"],
        bool(row["active"]),
        row["timezone"],
        row["digest_time"],
        row["last_digest_at"],
        row["language"],
        bool(row["pictures"]),
        row["ui_language"],
        row["user_language"],
    )
