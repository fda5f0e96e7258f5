"""Plain text as scraped: headline, paragraphs, subheadings; articles apart by two blank lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from ..articles import (
    Article,
    ArticleError,
    _body_blocks,
    _drop_boilerplate,
    _headline,
    _is_body_line,
    _strip_blank_edges,
    is_heading_like,
)
from ..config import Boilerplate

# The logger keeps the name it had in bot.articles: existing log filters still match.
log = logging.getLogger("bot.articles")


def parse_plain(text: str, *, source: str, bp: Boilerplate, mtime: datetime) -> list[Article]:
    """A scraped page: headline, paragraphs, subheadings; articles apart by two blank lines."""
    blocks = _blocks(text)
    articles = []
    for ordinal, group in enumerate(_article_groups(blocks)):
        lines = _drop_boilerplate([line for _, block in group for line in [*block, ""]], bp)
        lines = _strip_blank_edges(lines)
        if not lines:
            continue
        title, body_lines = _headline(lines)
        body = tuple(_body_blocks(body_lines))
        if not any(not b.heading for b in body):
            log.debug("%s: article %d (%r) has no body text, skipped", source, ordinal, title)
            continue
        articles.append(
            Article(title=title, blocks=body, source=source, published=mtime, ordinal=ordinal)
        )
    if not articles:
        raise ArticleError(_why_no_article(blocks, bp))
    return articles


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines, each with the count of blank lines before it."""
    out: list[tuple[int, list[str]]] = []
    blank, current = 0, []
    for raw in text.split("\n"):
        line = raw.strip()
        if line:
            current.append(line)
            continue
        if current:
            out.append((blank, current))
            blank, current = 0, []
        blank += 1
    if current:
        out.append((blank, current))
    return out


def _article_groups(blocks: list[tuple[int, list[str]]]) -> Iterator[list[tuple[int, list[str]]]]:
    """Split at a headline-like line after two or more blank lines that heads real body text.

    Requiring body text after the candidate keeps a list of related headlines (which some sites
    print after the story) from being taken for new articles.
    """
    start = 0
    for i in range(1, len(blocks)):
        blank, lines = blocks[i]
        if blank < 2 or not is_heading_like(lines[0]):
            continue
        following = [lines[1:]] + [b for _, b in _until_next_break(blocks, i + 1)]
        if any(_is_body_line(line) for block in following for line in block):
            yield blocks[start:i]
            start = i
    yield blocks[start:]


def _until_next_break(
    blocks: list[tuple[int, list[str]]], start: int
) -> Iterator[tuple[int, list[str]]]:
    # By index, not `blocks[start:]`: a slice copies the rest of the list at every headline-like
    # line, which made a file of many short lines separated by two blank lines quadratic.
    for index in range(start, len(blocks)):
        blank, lines = blocks[index]
        if blank >= 2:
            return
        yield blank, lines


def _why_no_article(blocks: list[tuple[int, list[str]]], bp: Boilerplate) -> str:
    lines = _drop_boilerplate([line for _, block in blocks for line in block], bp)
    if not any(lines):
        return "nothing but site boilerplate"
    if len([line for line in lines if line]) == 1:
        return "only a headline, no body text"
    return "no body text: every line is a heading (no sentence ends with punctuation)"
