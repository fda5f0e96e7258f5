"""An article's full text in pages that each fit a message: paragraphs kept whole where they fit,
else cut by sentences, else by words, never inside an HTML entity or a surrogate pair."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..store import StoredArticle
from .measure import MAX_MESSAGE, esc, units

# Room kept for a page's title and footer when packing full text into pages.
_PAGE_BUDGET = MAX_MESSAGE - 400


def full_text_pages(stored: StoredArticle) -> list[str]:
    """The article's text in pages of at most _PAGE_BUDGET UTF-16 units, escaped."""
    pieces: list[str] = []
    for block in stored.article.blocks:
        if block.heading:
            pieces.extend(f"<b>{p}</b>" for p in _split_escaped(block.text, _PAGE_BUDGET - 7))
        else:
            pieces.extend(_split_escaped(block.text, _PAGE_BUDGET))
    pages: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        piece_units = units(piece)
        if current and size + piece_units + 2 > _PAGE_BUDGET:
            pages.append("\n\n".join(current))
            current, size = [], 0
        current.append(piece)
        size += piece_units + 2
    if current:
        pages.append("\n\n".join(current))
    return pages or [""]


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _split_escaped(text: str, budget: int) -> Iterator[str]:
    """A paragraph as escaped pieces of at most `budget` UTF-16 units: whole if it fits, else by
    sentences, else by words (a 'sentence' of thousands of characters is not unheard of in
    scraped text)."""
    escaped = esc(text)
    if units(escaped) <= budget:
        yield escaped
        return
    pieces: list[str] = []
    size = 0
    for sentence in _SENTENCE_END.split(text):
        for part in _by_words(esc(sentence), budget):
            part_units = units(part)
            if pieces and size + 1 + part_units > budget:
                yield " ".join(pieces)
                pieces, size = [], 0
            size += part_units + (1 if pieces else 0)
            pieces.append(part)
    if pieces:
        yield " ".join(pieces)


def _by_words(escaped: str, budget: int) -> Iterator[str]:
    """Escaped text in pieces of at most `budget` UTF-16 units, cut at spaces where there are
    some, never inside an entity such as &amp;."""
    start = 0
    while start < len(escaped):
        window = escaped[start : start + budget]
        fits = _chars_within(window, budget)
        if start + fits >= len(escaped):
            yield escaped[start:]
            return
        cut = window.rfind(" ", 0, fits)
        cut = cut if cut > 0 else fits
        amp = window.rfind("&", max(0, cut - 8), cut)
        if amp > 0 and ";" not in window[amp:cut]:
            cut = amp
        yield window[:cut].rstrip()
        start += cut
        while start < len(escaped) and escaped[start].isspace():
            start += 1


def _chars_within(text: str, budget: int) -> int:
    """How many characters from the start of text fit in `budget` UTF-16 units."""
    encoded = text.encode("utf-16-le")
    if len(encoded) <= 2 * budget:
        return len(text)
    # A pair of surrogates cut in half is dropped, not counted.
    return len(encoded[: 2 * budget].decode("utf-16-le", "ignore"))
