"""FTS5 search: ranking over the newest matches (common words as stop words), snippets, stems
of typed word beginnings."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from ..query import (
    ParsedQuery,
    Term,
    expand_prefixes,
    parse_query,
    pick_stem,
    stem_candidates,
)
from .records import Hit, SearchResult, _from_epoch
from .room import Database, Room, Row
from .snippets import snippets_of

log = logging.getLogger(__name__)

# articles_fts's tokenizer (migration 0001), for the scratch indexes that must match as it does.
TOKENIZER = "porter unicode61 remove_diacritics 2"
# The title counts this many times the body in BM25.
TITLE_WEIGHT = 10.0
# Search ranks the newest this-many matches of a query (all of them, in a smaller library).
# bm25 costs FTS5 about 2.5 µs a match (positions, the article's length), 5 ms for 2,000: at
# 1,000,000 articles, 2,000 kept a word in 1 % of them at 19 ms p95, with the chat's own work.
RANK_WINDOW = 1000
# A term (word, phrase, word*) in more than this many articles is a stop word for the ranking:
# bm25 weighs each term by how many articles have it (IDF), and FTS5 counts them all on every
# search, window or not: "the" took 44 ms at 1,000,000 articles (bench/search_scale.py), 9 as
# a stop word. A stop word still selects (every hit has it); it ranks only by being in the
# title, then the newest first. Its bm25 weight is small: ln(N / n) is 2.3 for a word in a
# tenth of the articles, FTS5 gives next to none (1e-6) to a word in half of them. Deciding
# costs up to this many matches read (a phrase's with their positions: 8 ms for 20,000).
STOP_WORD_ARTICLES = 10_000
# A word beginning (word*) that stands for at most this many indexed words is searched as those
# words: FTS5 merges a beginning's lists of every word into one, over the whole library, in
# every statement that has it (14 ms for "gov*" at 1,000,000 articles, 4 times a search); as
# words, it reads only the newest matches it needs. A beginning of more words is left to FTS5.
PREFIX_WORDS = 64
# A phrase reads the positions of every article with all its words, however seldom they follow
# each other: "the government" (in 0.2 % of articles) cost 43 ms a statement at 1,000,000 and
# bm25 counts it over the whole library. When each of its words is in more than this many
# articles, the phrase is looked for among the newest articles where its rarest word is in this
# many; if the window does not fill there, the search says it saw only the newest articles, and
# the phrase ranks as a stop word (bm25 would read it everywhere). The cost is about 0.5 µs a
# candidate per statement: 10,000 left that search at 22 ms p95 in chat at 1,000,000 (the newest
# 126,000 articles searched), 5,000 at 18 ms (the newest 63,000).
PHRASE_CANDIDATES = 5_000


@dataclass(frozen=True)
class _Bounded:
    """A phrase of common words looked for among the newest articles only."""

    ids: tuple[int, ...]  # every match there (fewer than RANK_WINDOW)
    searched: int  # about how many of the newest articles that was


class Search(Room):
    """Ranked search over the articles."""

    # (what the database was when listed, {typed word beginning: its words}): see _words_of.
    _prefix_cache: tuple[object, dict[str, tuple[str, ...] | None]] = (None, {})

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        offset: int = 0,
        language: str | None = None,
        time_limit: float | None = None,
    ) -> SearchResult:
        """Ranked hits for any text a person types; never raises on odd input. Given a time
        limit (seconds), a search still running then is stopped: SearchTimeout."""
        with self._time_limit(time_limit):
            parsed = parse_query(query, self.stem_of)
            if parsed is None:
                return SearchResult((), 0)
            return self._ranked(self._expanded(parsed), limit, offset, language)

    def _expanded(self, parsed: ParsedQuery) -> ParsedQuery:
        """The query with its word beginnings said as the words they stand for (PREFIX_WORDS)."""
        return expand_prefixes(parsed, self._words_of)

    def _words_of(self, prefix: str) -> tuple[str, ...] | None:
        """_words_of, kept until the index changes: listing them reads every word's list to
        count its articles (fts5vocab): 5.5 ms for "gov*" at 1,000,000 articles."""
        try:
            # FTS5's structure record (its segments, and a counter of changes): rewritten by
            # every write to the index, from any connection.
            changed = self.conn.execute(
                "SELECT block FROM articles_fts_data WHERE id = 10"
            ).fetchone()
            changed = changed[0] if changed else None
            if self._prefix_cache[0] != changed or len(self._prefix_cache[1]) > 1000:
                self._prefix_cache = (changed, {})
            words = self._prefix_cache[1]
            if prefix not in words:
                words[prefix] = _words_of(self.conn, prefix)
            return words[prefix]
        except sqlite3.OperationalError:
            if self._limit_reached:
                raise
            log.exception("the words of %r could not be listed", prefix)
            return None

    def _ranked(
        self, parsed: ParsedQuery, limit: int, offset: int, language: str | None
    ) -> SearchResult:
        """The query's hits; when every word is needed and none matches, any of them."""
        strict, relaxed, highlight = self._expressions(parsed)
        result = self._search(strict, highlight, limit, offset, language, parsed)
        if result.total == 0 and relaxed:
            result = self._search(relaxed, highlight, limit, offset, language, parsed)
            return SearchResult(result.hits, result.total, relaxed=True)
        return result

    def _expressions(self, parsed: ParsedQuery) -> tuple[str, str | None, str]:
        """The query in this engine's language: every word needed, any of them (or None), and
        what snippets mark. FTS5 here; PostgreSQL says it as a tsquery."""
        return parsed.strict, parsed.relaxed, parsed.highlight

    def stem_of(self, prefix: str) -> str | None:
        """The indexed stem that a word beginning typed past it stands for (see _stem_of)."""
        return _stem_of(self.conn, prefix)

    def _search(
        self,
        match: str,
        highlight: str,
        limit: int,
        offset: int,
        language: str | None = None,
        parsed: ParsedQuery | None = None,
    ) -> SearchResult:
        """Rank in FTS5 alone over the newest RANK_WINDOW matches, then read the page's rows.

        FTS5 scores every match before LIMIT applies: a word in every article cost 230 ms at
        100,000 articles. Ranking the newest matches only (found by rowid, without scoring)
        keeps it near 10 ms; below the window the results are exactly those of ranking all,
        unless a term (`parsed`) is a stop word or a phrase of common words (PHRASE_CANDIDATES).
        """
        args: tuple[str, ...] = ()
        index, where = "articles_id_published", ""
        if language is not None:
            # /lang: the same window, narrowed to one language through a covering index.
            index, where = "articles_id_published_language", "AND a.language = ?"
            args = (language,)
        try:
            low, total, found = self._window(match, index, where, args, parsed)
            searched = found.searched if found else None
            if not total:
                return SearchResult((), 0, searched=searched)
            ranked = self._rank(match, low, index, where, args, parsed, limit, offset, found)
            ids = [int(r["id"]) for r in ranked]
            marks = ",".join("?" * len(ids))
            snippets = snippets_of(self.conn, ids, highlight, TOKENIZER)
            rows = {
                r["id"]: r
                for r in self.conn.execute(
                    f"SELECT id, title, published, url, source FROM articles WHERE id IN ({marks})",
                    ids,
                )
            }
        except sqlite3.OperationalError:
            # Stopped by the time limit: "interrupted", or whatever step SQLite was in failed.
            if self._limit_reached:
                raise
            # parse_query only builds valid expressions; this is the last line of defence.
            log.exception("FTS5 rejected %r", match)
            return SearchResult((), 0)
        hits = tuple(
            Hit(
                r["id"],
                rows[r["id"]]["title"],
                snippets.get(r["id"], ""),
                _from_epoch(rows[r["id"]]["published"]),
                rows[r["id"]]["url"],
                rows[r["id"]]["source"],
                -float(r["score"]),
            )
            for r in ranked
            if r["id"] in rows
        )
        return SearchResult(hits, int(total), searched=searched)

    def _phrase_bounds(self, parsed: ParsedQuery | None) -> Iterator[int]:
        """The lowest id to look for the query's phrases from, 0 for the whole library: where
        the rarest word of a phrase is in PHRASE_CANDIDATES articles, when every one of its
        words is in more (the latest such bound of the phrases). First a higher bound, from
        each phrase's first word alone: where the window fills above it, that is enough."""
        phrases = {t.fts5: t for g in (parsed.groups if parsed else ()) for t in g}.values()
        words = [list(dict.fromkeys(w.lower() for w in t.words)) for t in phrases]
        words = [w for w in words if len(w) > 1]
        bounds = [[self._word_bound(w[0])] for w in words]
        guess = max((b[0] for b in bounds), default=0)
        yield guess
        for phrase, lows in zip(words, bounds, strict=True):
            for word in phrase[1:]:
                if not lows[-1]:
                    break
                lows.append(self._word_bound(word))
        bound = max((min(lows) for lows in bounds), default=0)
        if bound < guess:
            yield bound

    def _word_bound(self, word: str) -> int:
        """Where a word is in PHRASE_CANDIDATES of the newest articles; 0 if in fewer."""
        found, low = self.conn.execute(
            "SELECT count(*), min(rowid) FROM (SELECT rowid FROM articles_fts"
            " WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?)",
            ('"' + word + '"', PHRASE_CANDIDATES + 1),
        ).fetchone()
        return int(low) if found > PHRASE_CANDIDATES else 0

    def _newest_count(self, bound: int) -> int:
        """About how many articles have an id from `bound` on (the span of ids)."""
        newest = self.conn.execute("SELECT max(id) FROM articles").fetchone()[0]
        return max(0, int(newest or 0) - bound + 1)

    def _rank(
        self,
        match: str,
        low: int,
        index: str,
        where: str,
        args: tuple[str, ...],
        parsed: ParsedQuery | None,
        limit: int,
        offset: int,
        bounded: _Bounded | None = None,
    ) -> list[Row]:
        """The page of the window's matches (from id `low`), best first: by bm25 over the
        terms that are no stop words, then by a stop word in the title, then the newest.
        `bounded`: only the newest articles were searched, the phrases are stop words, and
        these are all the matches."""
        ranking, stop = self._stop_words(parsed, bounded is not None)
        # The date tie-break reads a covering index, not the (large) article rows.
        if not ranking and not stop:
            return self.conn.execute(
                f"""SELECT f.rowid AS id, bm25(articles_fts, {TITLE_WEIGHT}, 1.0) AS score
                   FROM articles_fts f JOIN articles a INDEXED BY {index}
                     ON a.id = f.rowid
                   WHERE articles_fts MATCH ? AND f.rowid >= ? {where}
                   ORDER BY score, a.published DESC, a.id DESC
                   LIMIT ? OFFSET ?""",
                (match, low, *args, limit, offset),
            ).fetchall()
        # bm25 over the other terms alone (each article's own score: the same as in the
        # whole query, less the stop words'), 0 where none of them is in the article.
        score, scored, before = "0.0", "", []
        if ranking:
            score = "coalesce(s.score, 0.0)"
            scored = f"""LEFT JOIN (SELECT rowid AS id,
                               bm25(articles_fts, {TITLE_WEIGHT}, 1.0) AS score
                             FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ?) s
                           ON s.id = a.id"""
            before = [" OR ".join(f"({t})" for t in ranking), low]
        in_title, title_args = self._in_title(stop, match if ranking else None, low, bounded)
        # The matches: known already when bounded (FTS5 would read every article with the
        # phrase's words again, 3 ms for "the government" at 1,000,000), else the window's.
        source = f"articles_fts f JOIN articles a INDEXED BY {index} ON a.id = f.rowid"
        matches, match_args = "f.articles_fts MATCH ? AND f.rowid >= ?", [match, low]
        if bounded is not None:
            source = f"articles a INDEXED BY {index}"
            matches = f"a.id IN ({','.join('?' * len(bounded.ids))})"
            match_args = list(bounded.ids)
        return self.conn.execute(
            f"""SELECT a.id AS id, {score} AS score, {in_title} AS in_title
               FROM {source} {scored}
               WHERE {matches} {where}
               ORDER BY score, in_title DESC, a.published DESC, a.id DESC
               LIMIT ? OFFSET ?""",
            (*title_args, *before, *match_args, *args, limit, offset),
        ).fetchall()

    def _in_title(
        self, stop: list[Term], match: str | None, low: int, bounded: _Bounded | None
    ) -> tuple[str, list[str | int]]:
        """SQL true for the window's articles (from id `low`) with a stop word in the title, and
        its arguments; `match`: the query, when it has rarer words."""
        titles = [f"title : ({t.fts5})" if not t.column else t.fts5 for t in stop]
        titles = [t for t, term in zip(titles, stop, strict=True) if term.column != "body"]
        if not titles:
            return "0", []
        expression = " OR ".join(f"({t})" for t in titles)
        if bounded is not None:
            # The few matches' titles alone, in a scratch index with no content (emptied at
            # once): FTS5 would read the phrase's words in every article from `low` on.
            conn = self.conn
            conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.title_check USING fts5"
                f" (title, body, content = '', tokenize = '{TOKENIZER}')"
            )
            conn.execute("INSERT INTO temp.title_check (title_check) VALUES ('delete-all')")
            conn.execute(
                "INSERT INTO temp.title_check (rowid, title, body) SELECT id, title, ''"
                f" FROM articles WHERE id IN ({','.join('?' * len(bounded.ids))})",
                bounded.ids,
            )
            return "a.id IN (SELECT rowid FROM temp.title_check WHERE title_check MATCH ?)", [
                expression
            ]
        # With the query itself when it has rarer words: "the tsunami" reads the few
        # articles with both, not every "the" in a title since the oldest tsunami. (Else
        # not: a word beginning costs FTS5 as much again, each time it is in a statement.)
        in_title = (
            "a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ?)"
        )
        return in_title, [f"({expression}) AND ({match})" if match else expression, low]

    def _stop_words(
        self, parsed: ParsedQuery | None, bounded: bool = False
    ) -> tuple[list[str], list[Term]]:
        """The FTS5 expressions of the terms looked for that rank by bm25, and the stop words:
        terms in more than STOP_WORD_ARTICLES articles (counted up to there: 1 ms for a word,
        up to 4 for a phrase). An excluded term never ranks (no hit has it), but bm25 would
        count it too: when it is a stop word, the ranking leaves it out (the stop words
        returned are only those looked for). Empty lists: rank by bm25 over the query as is."""
        if parsed is None:
            return [], []
        looked_for = [t for group in parsed.groups for t in group]
        ranking: list[str] = []
        stop: list[Term] = []
        common = False
        for term in {t.fts5: t for t in (*looked_for, *parsed.excluded)}.values():
            found = STOP_WORD_ARTICLES + 1
            if not bounded or len(term.words) < 2:
                found = self.conn.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM articles_fts WHERE articles_fts MATCH ?"
                    " LIMIT ?)",
                    (term.fts5, STOP_WORD_ARTICLES + 1),
                ).fetchone()[0]
            if found <= STOP_WORD_ARTICLES:
                if term in looked_for:
                    ranking.append(term.fts5)
                continue
            common = True
            if term in looked_for:
                stop.append(term)
        return (ranking, stop) if common else ([], [])

    def _window(
        self, match: str, index: str, where: str, args: tuple[str, ...], parsed: ParsedQuery | None
    ) -> tuple[int, int, _Bounded | None]:
        """The lowest id of the newest RANK_WINDOW matches, how many match from there, and,
        when a phrase was looked for among the newest articles only (see _phrase_bounds) and
        had fewer matches there, which: one pass over the newest matches."""
        for bound in self._phrase_bounds(parsed):
            newest, low, ids = self._newest_matches(match, bound)
            if newest >= RANK_WINDOW:
                break
        bounded = None
        if newest < RANK_WINDOW and bound:
            bounded = _Bounded(ids, self._newest_count(bound))
        if not where:
            return low, newest, bounded
        if bounded is not None:
            # Counted among the matches known, not by FTS5 reading the phrase's words again.
            marks = ",".join("?" * len(ids))
            total = self.conn.execute(
                f"SELECT count(*) FROM articles a INDEXED BY {index} WHERE a.id IN ({marks})"
                f" {where}",
                (*ids, *args),
            ).fetchone()[0]
            return low, int(total), bounded
        total = self.conn.execute(
            f"""SELECT count(*) FROM articles_fts f JOIN articles a INDEXED BY {index}
               ON a.id = f.rowid WHERE articles_fts MATCH ? AND f.rowid >= ? {where}""",
            (match, low, *args),
        ).fetchone()[0]
        return low, int(total), bounded

    def _newest_matches(self, match: str, bound: int) -> tuple[int, int, tuple[int, ...]]:
        """How many of the newest RANK_WINDOW matches have an id from `bound` on, the lowest
        of them, and (for _Bounded: with a bound, when fewer) which."""
        # The ids as one text, made only when they are needed: 1,000 rows to Python cost 0.5 ms.
        newest, low, ids = self.conn.execute(
            "SELECT count(*), min(rowid), CASE WHEN ? AND count(*) < ? THEN group_concat(rowid)"
            " END FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ?"
            " ORDER BY rowid DESC LIMIT ?)",
            (bound > 0, RANK_WINDOW, match, bound, RANK_WINDOW),
        ).fetchone()
        return int(newest), int(low or 0), tuple(int(i) for i in (ids or "").split(",") if i)


def _words_of(conn: Database, prefix: str) -> tuple[str, ...] | None:
    """The indexed words a typed word beginning stands for, as FTS5 matches it (the beginning
    tokenized as the index's words are: "Hospitals" is "hospit"); None when there are more than
    PREFIX_WORDS, none, or the beginning is not one token."""
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.prefix_token USING fts5"
        f" (word, tokenize = '{TOKENIZER}')"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.prefix_token_vocab"
        " USING fts5vocab(temp, prefix_token, row)"
    )
    conn.execute("DELETE FROM temp.prefix_token")
    conn.execute("INSERT INTO temp.prefix_token (word) VALUES (?)", (prefix,))
    tokens = [str(r[0]) for r in conn.execute("SELECT term FROM temp.prefix_token_vocab")]
    if len(tokens) != 1:
        return None
    words = tuple(
        str(r[0])
        for r in conn.execute(
            "SELECT term FROM temp.articles_vocab WHERE term >= ? AND term < ? LIMIT ?",
            (tokens[0], tokens[0] + "\U0010ffff", PREFIX_WORDS + 1),
        )
    )
    return words if 0 < len(words) <= PREFIX_WORDS else None


def _stem_of(conn: Database, prefix: str) -> str | None:
    """The indexed stem that a word beginning typed past it stands for: "electi" -> "elect"
    (election, electing), None when the beginning is itself a stem's beginning."""
    plain, shorter = stem_candidates(prefix)
    if not shorter:
        return None
    marks = ",".join("?" * len(shorter))
    try:
        found = {
            str(r[0])
            for r in conn.execute(
                f"SELECT term FROM temp.articles_vocab WHERE term IN ({marks})", shorter
            )
        }
    except sqlite3.OperationalError:
        log.exception("the search vocabulary could not be read")
        return None
    return pick_stem(plain, shorter, found)
