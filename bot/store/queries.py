"""Saved queries: search paging buttons carry a query id (callback_data holds 64 bytes)."""

from __future__ import annotations

import time

from .room import Room


class Queries(Room):
    """Search texts saved per chat, by id."""

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
