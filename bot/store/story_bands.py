"""Stories of new articles: which earlier article's story a new one joins (same canonical URL,
or nearly the same text among the candidates its band keys find, stories.py), and the band keys
kept for the articles to come."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

from .. import stories
from ..articles import Article
from .room import Database, Row


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


# The band index's key begins with the period (of PERIOD seconds) an article was published in,
# so that the rows of articles from the same days share pages: the band keys themselves are
# random numbers, and first in the key they spread a transaction's rows over the whole index.
# Three days: the candidate window of MAX_DAYS_APART days either side spans three periods, each
# sought once per band key.
PERIOD = 3 * 86400.0


def period_of(published: float) -> int:
    """The period (since 1970, UTC) a publication time falls in; the same on both engines."""
    return math.floor(published / PERIOD)


def candidates(
    conn: Database, article_id: int, keys: Sequence[int], published: float
) -> list[tuple[int, int]]:
    """The articles published within MAX_DAYS_APART days of `published` that share a band key
    with `keys`, with how many they share. Every row read is one of these (the index on
    (period, band, published) is sought once per period of the window and key): as many as
    the window holds, whatever the library's size."""
    if not keys:
        return []
    window = stories.MAX_DAYS_APART * 86400
    periods = range(period_of(published - window), period_of(published + window) + 1)
    rows = conn.execute(
        "SELECT article_id, count(*) FROM story_bands"
        f" WHERE period IN ({','.join('?' * len(periods))})"
        f" AND band IN ({','.join('?' * len(keys))})"
        " AND published BETWEEN ? AND ? AND article_id != ? GROUP BY article_id",
        (*periods, *keys, published - window, published + window, article_id),
    ).fetchall()
    return [(int(r[0]), int(r[1])) for r in rows]


def record_bands(conn: Database, article_id: int, article: Article, keys: list[int]) -> None:
    """Keep the article's band keys (stories.bands)."""
    published = article.published.timestamp()
    period = period_of(published)
    conn.executemany(
        "INSERT INTO story_bands (period, band, published, article_id) VALUES (?, ?, ?, ?)",
        [(period, k, published, article_id) for k in keys],
    )


Bands = Mapping[str, list[int]]
"""Band keys already computed (by the index's workers), by content hash."""


def known_bands(article: Article, known: Bands) -> list[int]:
    found = known.get(article.content_hash)
    return found if found is not None else stories.text_bands(article.title, article.body)


# Articles read at a time by the migrations below.
FILL_CHUNK = 1000


def fill_bands(conn: Database) -> None:
    """Migration 0021_story_bands: each existing article's band keys (stories.bands), a chunk
    of articles at a time (what is held in memory stays bounded, whatever the library's size).
    Written for that migration's table, without the period."""
    last = 0
    while rows := _articles_after(conn, last, "title", "blocks", "published"):
        conn.executemany(
            "INSERT INTO story_bands (band, published, article_id) VALUES (?, ?, ?)",
            [
                (key, r["published"], r["id"])
                for r in rows
                for key in stories.text_bands(
                    r["title"], " ".join(t for t, _ in json.loads(r["blocks"]))
                )
            ],
        )
        last = int(rows[-1]["id"])


def copy_by_period(conn: Database) -> None:
    """Migration 0022_story_bands_by_period: the band keys copied into the table keyed by period
    first, a chunk of articles at a time. The period is computed here, not in each engine's SQL."""
    last = 0
    while rows := _articles_after(conn, last):
        first, last = int(rows[0]["id"]), int(rows[-1]["id"])
        conn.executemany(
            "INSERT INTO story_bands_by_period (period, band, published, article_id)"
            " VALUES (?, ?, ?, ?)",
            [
                (period_of(r["published"]), r["band"], r["published"], r["article_id"])
                for r in conn.execute(
                    "SELECT band, published, article_id FROM story_bands"
                    " WHERE article_id BETWEEN ? AND ?",
                    (first, last),
                ).fetchall()
            ],
        )


def _articles_after(conn: Database, last: int, *columns: str) -> list[Row]:
    """The next FILL_CHUNK articles after id `last`: their ids and `columns`."""
    return conn.execute(
        f"SELECT {', '.join(('id', *columns))} FROM articles WHERE id > ? ORDER BY id LIMIT ?",
        (last, FILL_CHUNK),
    ).fetchall()
