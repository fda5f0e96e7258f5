"""Search on PostgreSQL: the same query language as on SQLite (query.py's terms), said as a
tsquery; words stemmed by Porter's algorithm, as in FTS5's index; ranked with ts_rank_cd (the
title weighted A, ten times the body's B) over the newest search.RANK_WINDOW matches, as FTS5's
bm25 is; snippets marked by ts_headline, then cut as on SQLite.

Every word reaches the server quoted, inside to_tsquery's own quotes: query.py lets only word
characters (\\w) into a term, so no text a person types can make an invalid tsquery.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..query import Filter, ParsedQuery, Term, pick_stem, stem_candidates
from . import search as fts5
from .records import MARK_END, MARK_START, Hit, SearchResult, _from_epoch
from .room import Database
from .search import SNIPPET_SOURCE_CHARS, TITLE_WEIGHT, snippet_window

log = logging.getLogger(__name__)

# ts_rank_cd's weights of the labels D, C, B (the body) and A (the title).
WEIGHTS = f"{{0, 0, {1 / TITLE_WEIGHT:g}, 1}}"
# Rank divided by 1 + the logarithm of the document's length: a long article does not win by
# length alone (as bm25's length normalisation).
NORMALIZATION = 1
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
    conn: Database, parsed: ParsedQuery, limit: int, offset: int, language: str | None
) -> SearchResult:
    strict, relaxed, highlight = queries(parsed)
    result = _search(conn, strict, highlight, limit, offset, language)
    if result.total == 0 and relaxed:
        result = _search(conn, relaxed, highlight, limit, offset, language)
        return SearchResult(result.hits, result.total, relaxed=True)
    return result


def _search(
    conn: Database, query: str, highlight: str, limit: int, offset: int, language: str | None
) -> SearchResult:
    where, args = ("AND a.language = ?", (language,)) if language else ("", ())
    bound = conn.execute(
        "SELECT rowid FROM articles_fts WHERE document @@ to_tsquery('newsbot', ?)"
        " ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        (query, fts5.RANK_WINDOW - 1),
    ).fetchone()
    low = int(bound[0]) if bound else 0
    total = int(
        conn.execute(
            "SELECT count(*) FROM articles_fts f JOIN articles a ON a.id = f.rowid"
            f" WHERE f.document @@ to_tsquery('newsbot', ?) AND f.rowid >= ? {where}",
            (query, low, *args),
        ).fetchone()[0]
    )
    if not total:
        return SearchResult((), 0)
    ranked = conn.execute(
        f"""SELECT a.id, a.title, a.published, a.url, a.source,
                  ts_rank_cd('{WEIGHTS}', f.document, q, {NORMALIZATION}) AS score
           FROM articles_fts f JOIN articles a ON a.id = f.rowid,
                to_tsquery('newsbot', ?) AS q
           WHERE f.document @@ q AND f.rowid >= ? {where}
           ORDER BY score DESC, a.published DESC, a.id DESC
           LIMIT ? OFFSET ?""",
        (query, low, *args, limit, offset),
    ).fetchall()
    snippets = _snippets(conn, [int(r["id"]) for r in ranked], highlight)
    hits = tuple(
        Hit(
            int(r["id"]),
            r["title"],
            snippets.get(int(r["id"]), ""),
            _from_epoch(r["published"]),
            r["url"],
            r["source"],
            float(r["score"]),
        )
        for r in ranked
    )
    return SearchResult(hits, total)


def _snippets(conn: Database, ids: Sequence[int], highlight: str) -> dict[int, str]:
    """A few words of each body around the query's words: ts_headline marks every match in
    the body's first SNIPPET_SOURCE_CHARS characters (as the index matches them: stems,
    phrases, prefixes), then the best window is picked as on SQLite."""
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT rowid, ts_headline('newsbot', left(body, ?), to_tsquery('newsbot', ?), ?),"
        " length(body) >= ? FROM articles_fts WHERE rowid = ANY(?)",
        (SNIPPET_SOURCE_CHARS, highlight, HEADLINE_OPTIONS, SNIPPET_SOURCE_CHARS, list(ids)),
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
