"""Search on PostgreSQL: the same query language as on SQLite (query.py's terms), said as a
tsquery; words stemmed by Porter's algorithm, as in FTS5's index; ranked with ts_rank_cd (the
title weighted A, ten times the body's B) over the newest RANK_WINDOW matches, as FTS5's
bm25 is; snippets marked by ts_headline, then cut as on SQLite.

Every word reaches the server quoted, inside to_tsquery's own quotes: query.py lets only word
characters (\\w) into a term, so no text a person types can make an invalid tsquery.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..query import Filter, ParsedQuery, Term, pick_stem, stem_candidates
from .records import MARK_END, MARK_START, Hit, SearchResult, _from_epoch
from .room import Database
from .search import TITLE_WEIGHT
from .snippets import snippet_window

log = logging.getLogger(__name__)

# ts_rank_cd's weights of the labels D, C, B (the body) and A (the title).
WEIGHTS = f"{{0, 0, {1 / TITLE_WEIGHT:g}, 1}}"
# Rank divided by 1 + the logarithm of the document's length: a long article does not win by
# length alone (as bm25's length normalisation).
NORMALIZATION = 1
# Search ranks the newest this-many matches of a query (SQLite: search.RANK_WINDOW): ranking a
# match costs PostgreSQL about 13 µs at 100,000 articles (its tsvector is TOASTed:
# decompressed from a table of its own, then scored), 2,000 of them 26 ms of the 30 a search
# may take.
RANK_WINDOW = 500
# Snippets come from the first this-many characters of a body (SQLite: 64 kB): ts_headline
# takes about 1 ms per 4 kB marked (7 ms for a 37 kB article, and a page shows five).
SNIPPET_SOURCE = 4 * 1024
HEADLINE_OPTIONS = f'HighlightAll=true, StartSel="{MARK_START}", StopSel="{MARK_END}"'


def tsquery(term: Term) -> str:
    """One term as to_tsquery text: a phrase's words follow each other (<->); a word
    beginning is a prefix (:*), or the stem it stands for; title: and body: are weights."""
    weight = {"title": "A", "body": "B"}.get(term.column or "", "")
    flags = ("*" if term.prefix else "") + weight
    suffix = f":{flags}" if flags else ""
    words = " <-> ".join(f"'{word}'{suffix}" for word in term.words)
    if len(term.words) > 1:
        words = f"({words})"
    if term.stem:
        words = f"({words} | '{term.stem}'{':' + weight if weight else ''})"
    return words


def _any_group(groups: Sequence[Sequence[Term]]) -> str:
    return " | ".join(
        f"({' & '.join(tsquery(t) for t in g)})" if len(g) > 1 else tsquery(g[0]) for g in groups
    )


def _without(excluded: Sequence[Term]) -> str:
    return f" & !({' | '.join(tsquery(t) for t in excluded)})" if excluded else ""


def queries(parsed: ParsedQuery) -> tuple[str, str | None, str]:
    """The strict query, the relaxed one (any of several words) or None, and the words to mark."""
    groups = parsed.groups
    strict = f"({_any_group(groups)}){_without(parsed.excluded)}"
    every = [t for g in groups for t in g]
    relaxed = None
    if len(every) > 1 and len(groups) == 1:
        relaxed = f"({' | '.join(tsquery(t) for t in every)}){_without(parsed.excluded)}"
    return strict, relaxed, " | ".join(tsquery(t) for t in every)


def search(
    conn: Database, query: str, highlight: str, limit: int, offset: int, language: str | None
) -> SearchResult:
    """A page of the newest RANK_WINDOW matches of a tsquery, ranked; and how many there are.
    The matches are found first (ids only), then ranked, counted and paged in one statement."""
    where, args = ("AND a.language = ?", (language,)) if language else ("", ())
    newest = _newest_matches(conn, query)
    if not newest:
        return SearchResult((), 0)
    ranked = conn.execute(
        # The date tie-break reads an index of (id, published), not the article rows.
        f"""SELECT f.rowid AS id, a.published,
                  ts_rank_cd('{WEIGHTS}', f.document, to_tsquery('newsbot', ?), {NORMALIZATION})
                    AS score,
                  count(*) OVER () AS total
           FROM articles_fts f JOIN articles a ON a.id = f.rowid
           WHERE f.rowid = ANY(?) {where}
           ORDER BY score DESC, a.published DESC, f.rowid DESC
           LIMIT ? OFFSET ?""",
        (query, newest, *args, limit, offset),
    ).fetchall()
    if ranked:
        total = int(ranked[0]["total"])
    elif offset and where:  # a page past the last: how many there are, still
        total = int(
            conn.execute(
                f"SELECT count(*) FROM articles a WHERE a.id = ANY(?) {where}", (newest, *args)
            ).fetchone()[0]
        )
    else:
        total = 0 if where else len(newest)
    if not ranked:  # nothing on this page (or at all)
        return SearchResult((), total)
    ids = [int(r["id"]) for r in ranked]
    rows = {
        int(r["id"]): r
        for r in conn.execute(
            "SELECT id, title, url, source FROM articles WHERE id = ANY(?)", (ids,)
        )
    }
    snippets = _snippets(conn, ids, highlight)
    hits = tuple(
        Hit(
            int(r["id"]),
            rows[int(r["id"])]["title"],
            snippets.get(int(r["id"]), ""),
            _from_epoch(r["published"]),
            rows[int(r["id"])]["url"],
            rows[int(r["id"])]["source"],
            float(r["score"]),
        )
        for r in ranked
        if int(r["id"]) in rows
    )
    return SearchResult(hits, total)


# A query the planner expects in this share of the articles or more ("the") is looked for by
# walking the ids newest first, each row read (about 4 µs a row: 2 ms for 500 matches): the GIN
# index's bitmap of nearly every row costs 13 ms at 100,000 articles.
WALK_SHARE = 0.4
# How many of the newest ids the first look at a query covers: this many times the ids that,
# as often as the planner expects the query to match, hold RANK_WINDOW matches.
SPAN_MARGIN = 1.5


def _newest_matches(conn: Database, query: str) -> list[int]:
    """The ids of the newest RANK_WINDOW matches, newest first.

    Through the GIN index ANDed with a range of the newest ids (a bitmap of each): only
    matches in the range are read. The range is sized from the planner's estimate of how many
    rows match, and widened when it held too few. At 100,000 articles: 2 to 7 ms for any word
    (16 ms for a phrase, whose matches are checked row by row); walking the ids newest first
    took 4 ms for "the" but 29 ms for a word in 13 % of the articles, and the whole GIN result
    23 ms."""
    plan = conn.execute(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM articles_fts"
        " WHERE document @@ to_tsquery('newsbot', ?)",
        (query,),
    ).fetchone()[0]
    matches = max(float(plan[0]["Plan"]["Plan Rows"]), 1.0)
    top, rows = conn.execute(
        "SELECT max(rowid), (SELECT greatest(reltuples, 1) FROM pg_class"
        " WHERE oid = 'articles_fts'::regclass) FROM articles_fts"
    ).fetchone()
    if top is None:
        return []
    if matches / float(rows) >= WALK_SHARE:  # a word in nearly every article
        return [
            int(r[0])
            for r in conn.execute(
                "SELECT rowid FROM articles_fts"
                " WHERE (document @@ to_tsquery('newsbot', ?)) IS TRUE"
                " ORDER BY rowid DESC LIMIT ?",
                (query, RANK_WINDOW),
            )
        ]
    # Index walks off until the matches are found: the planner would walk the ids in the
    # range, reading each row's tsvector, rather than AND the two bitmaps.
    conn.execute("SELECT set_config('enable_indexscan', 'off', false)")
    try:
        span = int(RANK_WINDOW * float(rows) / matches * SPAN_MARGIN) + RANK_WINDOW
        while True:
            low = max(int(top) - span, 0)
            found = [
                int(r[0])
                for r in conn.execute(
                    "SELECT rowid FROM articles_fts WHERE document @@ to_tsquery('newsbot', ?)"
                    " AND rowid > ? ORDER BY rowid DESC LIMIT ?",
                    (query, low, RANK_WINDOW),
                )
            ]
            if len(found) >= RANK_WINDOW or low == 0:
                return found
            span *= 4
    finally:
        conn.execute("SELECT set_config('enable_indexscan', 'on', false)")


def _snippets(conn: Database, ids: Sequence[int], highlight: str) -> dict[int, str]:
    """A few words of each body around the query's words: ts_headline marks every match in
    the body's first SNIPPET_SOURCE characters (as the index matches them: stems,
    phrases, prefixes), then the best window is picked as on SQLite."""
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT rowid, ts_headline('newsbot', left(body, ?), to_tsquery('newsbot', ?), ?),"
        " length(body) >= ? FROM articles_fts WHERE rowid = ANY(?)",
        (SNIPPET_SOURCE, highlight, HEADLINE_OPTIONS, SNIPPET_SOURCE, list(ids)),
    )
    return {int(r[0]): snippet_window(str(r[1] or ""), more=bool(r[2])) for r in rows}


def matching(conn: Database, parsed: Filter, article_ids: Sequence[int]) -> set[int]:
    """Which of these (new, consecutive) articles a subscription filter matches."""
    wanted = set(article_ids)
    sql = "SELECT rowid FROM articles_fts WHERE rowid >= ? AND document @@ to_tsquery('newsbot', ?)"
    low = min(wanted)
    hits = wanted
    if parsed.groups:
        hits = {int(r[0]) for r in conn.execute(sql, (low, _any_group(parsed.groups)))}
    if parsed.excluded:
        excluded = " | ".join(tsquery(t) for t in parsed.excluded)
        hits = hits - {int(r[0]) for r in conn.execute(sql, (low, excluded))}
    return hits & wanted


def stem_of(conn: Database, prefix: str) -> str | None:
    """The indexed stem that a word beginning typed past it stands for (see search._stem_of):
    the candidates looked up as whole lexemes in the index."""
    plain, shorter = stem_candidates(prefix)
    if not shorter:
        return None
    found = {
        str(r[0])
        for r in conn.execute(
            "SELECT c FROM unnest(?::text[]) AS c WHERE EXISTS"
            " (SELECT 1 FROM articles_fts WHERE document @@ quote_literal(c)::tsquery)",
            (shorter,),
        )
    }
    return pick_stem(plain, shorter, found)
