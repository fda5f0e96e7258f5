"""The body sentences a summary is chosen from: bounded, so that every method's cost is too.

Every method rates at most `summary.max_sentences` (100) body sentences. An article that has no
more is rated whole, exactly as it always was. A longer one is rated on its first half of them
(the lede: news summaries live there; every CNN/DM and OrangeSum highlight is closest to one of
an article's first 50 sentences, docs/summaries.md) and an even sample of the rest: the first
whole sentences of pieces (paragraphs, or stretches of longer ones) spread evenly through it.
sumy's graph methods compare every pair of sentences, so a 20,000-word article (about 1,000
sentences) cost 40-70 times a 1,000-word one rated whole; on this window, at most about 4 times
(bench/long_article.py). Only the text the window can come from is split into sentences, so a
5 MB paragraph costs Punkt no more than a short article.

Pure functions of the article's blocks and a sentence splitter: summarize.py builds sumy's
document from the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .articles import Block

# Text split into sentences per sentence rated: news sentences average 120-200 characters, so
# the opening `limit` sentences are reached in any real article.
CHARS_PER_SENTENCE = 500
# The rest of a long article is sampled in pieces of at most this many characters (a paragraph,
# or a stretch of a longer one, cut at spaces): one piece per sampled sentence.
PIECE_CHARS = 2 * CHARS_PER_SENTENCE

Split = Callable[[str], Sequence[str]]
# A part of the window: (is a heading, its text: the heading, or the paragraph's sentences).
Part = tuple[bool, list[str]]


def window(blocks: Sequence[Block], split: Split, limit: int, *, sample: bool = True) -> list[Part]:
    """The headings and body sentences rated, in document order, at most `limit` sentences,
    each sentence once (without `sample`: simply the first `limit`)."""
    parts, rest = _opening(blocks, split, limit)
    if not rest or not sample:
        return parts
    lead = limit - limit // 2
    kept: list[Part] = []
    dropped: list[str] = []  # the opening's sentences after the lede: sampled with the rest
    for heading, texts in parts:
        if heading:
            if lead > 0:
                kept.append((heading, texts))
            continue
        start = max(lead, 0)
        if start:
            kept.append((heading, texts[:start]))
        if texts[start:]:
            dropped.append(" ".join(texts[start:]))
        lead -= len(texts)
    seen = {x for heading, texts in kept if not heading for x in texts}
    return kept + _sample(dropped + rest, split, limit // 2, seen)


def _opening(blocks: Sequence[Block], split: Split, limit: int) -> tuple[list[Part], list[str]]:
    """The first `limit` body sentences, paragraph by paragraph, with the headings among them;
    the body text left unread, paragraph by paragraph (empty when there is none)."""
    parts: list[Part] = []
    rest: list[str] = []
    seen: set[str] = set()
    count = 0
    # Only so much text is split: a 5 MB paragraph would cost Punkt seconds for sentences that
    # `limit` then drops (and trips nltk's own regular-expression time limit).
    budget = limit * CHARS_PER_SENTENCE
    for block in blocks:
        if count >= limit or budget <= 0:
            if not block.heading:
                rest.append(block.text)
            continue
        part = block.text if len(block.text) <= budget else cut(block.text, budget)
        budget -= len(part)
        if block.heading:
            parts.append((True, [part]))
            continue
        sentences, unread = [], []
        for text in split(part):
            if count >= limit:
                unread.append(text)
            elif text not in seen:
                seen.add(text)
                sentences.append(text)
                count += 1
        if sentences:
            parts.append((False, sentences))
        # A paragraph cut at the budget ends inside a sentence: its unread part goes on to the
        # rest whole, with what was cut off.
        unread_text = " ".join(unread) + block.text[len(part) :]
        if unread_text.strip():
            rest.append(unread_text)
    return parts, rest


def _sample(rest: list[str], split: Split, quota: int, seen: set[str]) -> list[Part]:
    """Up to `quota` sentences, the first whole one of each of `quota` pieces spread evenly
    through `rest` (the next whole one when that was taken already), in document order."""
    pieces = [piece for text in rest for piece in _pieces(text)]
    count = min(len(pieces), quota)
    parts: list[Part] = []
    for n in range(count):
        text, starts, ends = pieces[n * len(pieces) // count]
        sentences = list(split(text))
        # A stretch cut out of a longer paragraph begins and ends inside sentences.
        whole = sentences[(0 if starts else 1) : (None if ends else -1)]
        taken = [x for x in whole if x not in seen][:1]
        seen.update(taken)
        if taken:
            parts.append((False, taken))
    return parts


def _pieces(text: str) -> list[tuple[str, bool, bool]]:
    """`text` in stretches of at most PIECE_CHARS, cut at spaces: (stretch, starts the text,
    ends the text)."""
    pieces = []
    start = 0
    while start < len(text):
        piece = text[start : start + PIECE_CHARS]
        if start + PIECE_CHARS < len(text):
            piece = cut(piece, PIECE_CHARS)
        end = start + max(len(piece), 1)
        pieces.append((piece, start == 0, end >= len(text)))
        start = end
    return pieces


def cut(text: str, size: int) -> str:
    """The first `size` characters, ended at a space when there is one near the end."""
    head = text[:size]
    space = head.rfind(" ", size - 200)
    return head[:space] if space > 0 else head
