"""What a chat saw: its saved queries (search paging buttons carry a query id, as
callback_data holds 64 bytes) and the last list of articles it was shown."""

from __future__ import annotations

import time

from .room import Room

# The most ids a shown list keeps: a list shows at most 20.
MAX_SHOWN = 50


class Queries(Room):
    """Search texts saved per chat, by id; the last list each chat was shown."""

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

    def forget_before(self, when: float, updates_before: float) -> int:
        """Saved queries not used and lists not shown since `when` are deleted (their
        buttons then say the search expired), and update ids seen before `updates_before`;
        returns how many rows went."""
        with self.transaction() as conn:
            queries = conn.execute("DELETE FROM queries WHERE used_at < ?", (when,)).rowcount
            lists = conn.execute("DELETE FROM shown_lists WHERE shown_at < ?", (when,)).rowcount
            seen = conn.execute(
                "DELETE FROM updates_seen WHERE seen_at < ?", (updates_before,)
            ).rowcount
        return int(queries) + int(lists) + int(seen)

    def first_sight(self, update_id: int) -> bool:
        """Record a Telegram update id; False when it was recorded already (a re-sent update)."""
        with self.transaction() as conn:
            return bool(
                conn.execute(
                    "INSERT INTO updates_seen (update_id, seen_at) VALUES (?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (update_id, time.time()),
                ).rowcount
            )

    def remember_list(self, chat_id: int, article_ids: list[int]) -> None:
        """The articles of the list this chat was shown last, in their order."""
        ids = ",".join(str(i) for i in article_ids[:MAX_SHOWN])
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO shown_lists (chat_id, ids, shown_at) VALUES (?, ?, ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET ids = excluded.ids,"
                " shown_at = excluded.shown_at",
                (chat_id, ids, time.time()),
            )

    def shown_list(self, chat_id: int) -> list[int]:
        """The article ids of the last list this chat was shown (none: empty)."""
        row = self.conn.execute(
            "SELECT ids FROM shown_lists WHERE chat_id = ?", (chat_id,)
        ).fetchone()
        return [int(i) for i in str(row["ids"]).split(",") if i] if row else []
