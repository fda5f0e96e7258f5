"""Stories of new articles: which earlier article's story a new one joins (same canonical URL,
or nearly the same text among the candidates its band keys find, stories.py), and the band keys
kept for the articles to come."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from .. import stories
from ..articles import Article
from .room import Database


def story_of(conn: Database, article_id: int, article: Article, keys: list[int]) -> int:
    """The story a new article belongs to: the story of an article with the same canonical
    URL, or of one whose text it nearly repeats (candidates by its band `keys`); else its own.
    Also records the article's band keys for the articles to come."""
    key = stories.url_key(article.url)
    record_bands(conn, article_id, article, keys)
    if key:
        row = conn.execute(
            # Only earlier articles: they have their story already, also those of this run.
            "SELECT coalesce(story_id, id) FROM articles WHERE url_key = ? AND id < ?"
            " ORDER BY id LIMIT 1",
            (key, article_id),
        ).fetchone()
        if row:
            return int(row[0])
    matches = candidates(conn, article_id, keys, article.published.timestamp())
    # The likeliest first (most keys in common); same_text decides.
    best = sorted(matches, key=lambda m: (-m[1], m[0]))[:CANDIDATES]
    if not best:
        return article_id
    own = stories.article_shingles(article.title, article.body)
    rows = {
        int(r["id"]): r
        for r in conn.execute(
            f"SELECT id, story_id, title, blocks FROM articles"
            f" WHERE id IN ({','.join('?' * len(best))})",
            [m[0] for m in best],
        )
    }
    for row in (rows[candidate] for candidate, _ in best):  # band rows go with their article
        text = " ".join(t for t, _ in json.loads(row["blocks"]))
        if stories.same_text(own, stories.article_shingles(row["title"], text)):
            return int(row["story_id"] or row["id"])
    return article_id


CANDIDATES = 5  # checked with same_text per new article, at most


def candidates(
    conn: Database, article_id: int, keys: Sequence[int], published: float
) -> list[tuple[int, int]]:
    """The articles published within MAX_DAYS_APART days of `published` that share a band key
    with `keys`, with how many they share. Every row read is one of these (the index on
    (band, published) bounds the scan by the window): as many as the window holds, whatever
    the library's size."""
    if not keys:
        return []
    window = stories.MAX_DAYS_APART * 86400
    rows = conn.execute(
        f"SELECT article_id, count(*) FROM story_bands WHERE band IN ({','.join('?' * len(keys))})"
        " AND published BETWEEN ? AND ? AND article_id != ? GROUP BY article_id",
        (*keys, published - window, published + window, article_id),
    ).fetchall()
    return [(int(r[0]), int(r[1])) for r in rows]


def record_bands(conn: Database, article_id: int, article: Article, keys: list[int]) -> None:
    """Keep the article's band keys (stories.bands)."""
    published = article.published.timestamp()
    conn.executemany(
        "INSERT INTO story_bands (band, published, article_id) VALUES (?, ?, ?)",
        [(k, published, article_id) for k in keys],
    )


Bands = Mapping[str, list[int]]
"""Band keys already computed (by the index's workers), by content hash."""


def known_bands(article: Article, known: Bands) -> list[int]:
    found = known.get(article.content_hash)
    return found if found is not None else stories.text_bands(article.title, article.body)
