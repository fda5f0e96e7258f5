"""The summary cache: summaries by text, algorithm, length and language."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from .records import (
    SummaryKey,
)
from .room import Room


class Summaries(Room):
    """The summary cache."""

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
                "INSERT INTO summaries (content_hash, algorithm, sentences, language, summary)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (content_hash, algorithm, sentences,"
                " language) DO UPDATE SET summary = excluded.summary",
                [
                    (k.content_hash, k.algorithm, k.sentences, k.language, json.dumps(list(s)))
                    for k, s in items
                ],
            )
