"""Search snippets: a few words of each body around the query's words, marked as the index
matches them, cut in Python."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from .records import MARK_END, MARK_START
from .room import Database

# Snippets are cut in Python from the first this-many characters of a body: FTS5's snippet()
# weighs every match in a body against every other, and took minutes on a 5 MB article.
SNIPPET_SOURCE_CHARS = 64 * 1024
SNIPPET_WORDS = 24
SNIPPET_MAX_CHARS = 300


def snippets_of(
    conn: Database, ids: Sequence[int], highlight: str, tokenizer: str
) -> dict[int, str]:
    """A few words of each body around the query's words, marked, from the body's first
    SNIPPET_SOURCE_CHARS characters: highlight() in a scratch FTS5 table with the index's
    tokenizer (so words are marked as they match: stems, phrases, prefixes), which is
    linear in the text, then the best window picked in Python."""
    if not ids:
        return {}
    # The index keeps no text of its own (it reads snippet_text's): emptying an FTS5 table
    # with its text removes each row's words one by one, 1 ms for a page of long bodies.
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS snippet_text"
        " (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '', body TEXT)"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.snippet_source USING fts5 (title, body,"
        f" content = 'snippet_text', content_rowid = 'id', tokenize = '{tokenizer}')"
    )
    # Emptied before, not after: a search stopped by its time limit leaves its rows.
    conn.execute("DELETE FROM temp.snippet_text")
    marks = ",".join("?" * len(ids))
    excerpts = {
        int(r[0]): str(r[1] or "")
        for r in conn.execute(
            f"SELECT rowid, substr(body, 1, ?) FROM articles_fts WHERE rowid IN ({marks})",
            (SNIPPET_SOURCE_CHARS, *ids),
        )
    }
    conn.executemany("INSERT INTO temp.snippet_text (id, body) VALUES (?, ?)", excerpts.items())
    conn.execute("INSERT INTO temp.snippet_source (snippet_source) VALUES ('rebuild')")
    marked = {
        int(r[0]): str(r[1])
        for r in conn.execute(
            "SELECT rowid, highlight(snippet_source, 1, ?, ?) FROM temp.snippet_source"
            " WHERE snippet_source MATCH ?",
            (MARK_START, MARK_END, highlight),
        )
    }
    return {
        article_id: snippet_window(
            marked.get(article_id, text), more=len(text) >= SNIPPET_SOURCE_CHARS
        )
        for article_id, text in excerpts.items()
    }


def snippet_window(marked: str, *, more: bool = False) -> str:
    """SNIPPET_WORDS words of a text with marked matches: the window with the most marks (the
    first such), starting a few words before one; '…' where text was left out (`more`: the
    text itself is the beginning of a longer one). Marks come in pairs, even where cut."""
    words = marked.split()
    if not words:
        return ""
    hits = [i for i, word in enumerate(words) if MARK_START in word]
    start = 0
    if hits:

        def marks_in(first: int) -> int:
            return bisect_left(hits, first + SNIPPET_WORDS) - bisect_left(hits, first)

        start = max((max(0, i - 3) for i in hits), key=lambda first: (marks_in(first), -first))
    end = min(len(words), start + SNIPPET_WORDS)
    before = " ".join(words[:start])
    text = " ".join(words[start:end])
    if len(text) > SNIPPET_MAX_CHARS:
        cut = text.rfind(" ", 0, SNIPPET_MAX_CHARS)
        text = text[: cut if cut > 0 else SNIPPET_MAX_CHARS]
        more = True
    if before.rfind(MARK_START) > before.rfind(MARK_END):  # a marked phrase began before
        text = MARK_START + text
    if text.rfind(MARK_START) > text.rfind(MARK_END):
        text += MARK_END
    text = text.replace(MARK_START + MARK_END, "")
    return ("…" if start else "") + text + ("…" if more or end < len(words) else "")
