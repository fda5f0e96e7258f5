"""The summary cache: summaries by text, algorithm, length and language."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from .records import (
    SummaryKey,
)
from .room import Database, Room, rows_in_chunks


class Summaries(Room):
    """The summary cache."""

    def summary(self, key: SummaryKey) -> list[str] | None:
        row = self.conn.execute(
            "SELECT summary FROM summaries WHERE content_hash = ? AND algorithm = ?"
            " AND sentences = ? AND language = ?",
            (key.content_hash, key.algorithm, key.sentences, key.language),
        ).fetchone()
        return list(json.loads(row["summary"])) if row else None

    def summaries(self, keys: Sequence[SummaryKey]) -> dict[SummaryKey, list[str]]:
        """The cached summaries of these keys, in one statement (a list of five is one round
        trip to a server, not five)."""
        wanted = set(keys)
        if not wanted:
            return {}
        hashes = sorted({k.content_hash for k in wanted})
        rows = self.conn.execute(
            "SELECT content_hash, algorithm, sentences, language, summary FROM summaries"
            f" WHERE content_hash IN ({','.join('?' * len(hashes))})",
            hashes,
        )
        found = {SummaryKey(r[0], r[1], int(r[2]), r[3]): r[4] for r in rows}
        return {k: list(json.loads(found[k])) for k in wanted if k in found}

    def missing_summaries(self, keys: Iterable[SummaryKey]) -> set[SummaryKey]:
        """The keys with no cached summary: a statement per CHUNK texts (a cold index of
        100,000 articles asked one by one, 100,000 round trips to a server)."""
        wanted = set(keys)
        hashes = sorted({k.content_hash for k in wanted})
        rows = rows_in_chunks(
            self.conn,
            "SELECT content_hash, algorithm, sentences, language FROM summaries"
            " WHERE content_hash IN ({marks})",
            (),
            hashes,
        )
        return wanted - {SummaryKey(r[0], r[1], int(r[2]), r[3]) for r in rows}

    def put_summaries(self, items: Sequence[tuple[SummaryKey, Sequence[str]]]) -> None:
        with self.transaction() as conn:
            write_summaries(conn, items)


def write_summaries(conn: Database, items: Sequence[tuple[SummaryKey, Sequence[str]]]) -> None:
    """Cache these summaries, in the caller's transaction."""
    if items:
        conn.executemany(
            "INSERT INTO summaries (content_hash, algorithm, sentences, language, summary)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (content_hash, algorithm, sentences,"
            " language) DO UPDATE SET summary = excluded.summary",
            [
                (k.content_hash, k.algorithm, k.sentences, k.language, json.dumps(list(s)))
                for k, s in items
            ],
        )
