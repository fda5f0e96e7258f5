"""Feeds: where each is at (validators, failures, back-off) and the entries already taken."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .records import (
    FeedState,
)
from .room import Room, Row, rows_in_chunks

# add_feed's answer when another feed has the name (an import then numbers its name).
NAME_TAKEN = "name taken"


class Feeds(Room):
    """Feeds and their entries."""

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

    def add_feed(
        self, name: str, url: str, tags: Sequence[str] = (), *, next_poll: float = 0.0
    ) -> str | None:
        """An admin's new feed; returns why not (name or URL taken), or None when added."""
        with self.transaction() as conn:
            for row in conn.execute(
                "SELECT name, url, active FROM feeds WHERE lower(name) = lower(?) OR url = ?",
                (name, url),
            ):
                if row["active"]:
                    same = row["url"] == url
                    return f"already read as {row['name']}" if same else NAME_TAKEN
                conn.execute("DELETE FROM feeds WHERE name = ?", (row["name"],))
            conn.execute(
                "INSERT INTO feeds (name, url, tags, origin, next_poll)"
                " VALUES (?, ?, ?, 'chat', ?)",
                (name, url, json.dumps(list(tags)), next_poll),
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
                "INSERT INTO feed_entries (feed, key, url, path, seen_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(name, key, url, path, now) for key, url, path in entries],
            )
            conn.executemany(
                "INSERT INTO feed_entries (feed, key, url, path, seen_at, reason)"
                " VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT DO NOTHING",
                [(name, key, url, now, reason) for key, url, reason in rejected],
            )
            conn.executemany(
                "DELETE FROM feed_attempts WHERE feed = ? AND key = ?",
                [(name, key) for key, *_ in [*entries, *rejected]],
            )
            conn.executemany(
                "INSERT INTO feed_attempts (feed, key, attempts, last_error, last_at)"
                " VALUES (?, ?, 1, ?, ?) ON CONFLICT (feed, key) DO UPDATE SET"
                " attempts = feed_attempts.attempts + 1, last_error = excluded.last_error,"
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
        sql = "SELECT key, attempts FROM feed_attempts WHERE feed = ? AND key IN ({marks})"
        rows = rows_in_chunks(self.conn, sql, (name,), keys)
        return {str(r["key"]): int(r["attempts"]) for r in rows}

    def rejected_entries(self, name: str, limit: int = 10) -> list[tuple[str, str, float]]:
        """The newest entries a feed will never take: (url or key, reason, when), newest first."""
        rows = self.conn.execute(
            "SELECT coalesce(url, key) AS what, reason, seen_at FROM feed_entries"
            " WHERE feed = ? AND reason IS NOT NULL ORDER BY seen_at DESC, key LIMIT ?",
            (name, limit),
        )
        return [(str(r["what"]), str(r["reason"]), float(r["seen_at"])) for r in rows]

    def seen_entries(self, name: str, keys: Sequence[str]) -> set[str]:
        sql = "SELECT key FROM feed_entries WHERE feed = ? AND key IN ({marks})"
        return {str(r[0]) for r in rows_in_chunks(self.conn, sql, (name,), keys)}


def _feed(row: Row) -> FeedState:
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
