"""The main text of a web page: the only module that imports trafilatura.

Used for HTML files dropped in the articles folder and for the pages that feed entries link to.
trafilatura drops navigation, footers, comments and other boilerplate, and reads the page's
metadata (title, date, author, canonical URL); its Markdown-like output marks subheadings with
`#`, which become heading blocks (never part of a summary).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from typing import Any

import lxml.html
import trafilatura

from . import languages

log = logging.getLogger(__name__)

# trafilatura's formatting marks: headings, list items, emphasis.
_HEADING = re.compile(r"^#{1,6}\s+")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
# Fewer words than this in the main text: not an article.
MIN_WORDS = 8


class ExtractionError(Exception):
    """No article text on the page; str() says why."""


@dataclass(frozen=True)
class Page:
    """What a news page holds, as plain text."""

    title: str
    # (text, is_heading) in page order; the headline is not repeated here.
    blocks: tuple[tuple[str, bool], ...]
    published: datetime | None = None
    author: str | None = None
    url: str | None = None  # the canonical URL when the page names one
    language: str | None = None  # the page's own declaration (<html lang>), e.g. "de"


def page(html: str | bytes, url: str | None = None) -> Page:
    """Extract the article on `html`; ExtractionError when there is none."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace") if _looks_utf8(html) else _decode(html)
    if not html.strip():
        raise ExtractionError("empty page")
    try:
        document: Any = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_formatting=True,
            include_tables=False,
        )
    except Exception as exc:  # trafilatura raises lxml's and its own errors on odd markup
        raise ExtractionError(f"unreadable HTML ({exc.__class__.__name__})") from exc
    if document is None or not getattr(document, "text", None):
        raise ExtractionError("no article text found on the page")
    title = " ".join(str(document.title or "").split())
    blocks = _blocks(str(document.text), title)
    words = sum(len(text.split()) for text, heading in blocks if not heading)
    if words < MIN_WORDS:
        # A menu or a cookie notice is all trafilatura finds on a page with no article.
        raise ExtractionError(f"no article text found on the page ({words} words)")
    if not title:
        title, blocks = blocks[0][0], blocks[1:]
    return Page(
        title=title,
        blocks=tuple(blocks),
        published=_date(document.date),
        author=" ".join(str(document.author).split()) or None if document.author else None,
        url=str(document.url) if document.url else url,
        language=_language(html),
    )


def _blocks(text: str, title: str) -> list[tuple[str, bool]]:
    blocks: list[tuple[str, bool]] = []
    for raw in re.split(r"\n\s*\n|\n(?=#)", text):
        lines = [line.strip() for line in raw.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if _HEADING.match(lines[0]):
            heading = _plain(_HEADING.sub("", lines[0]))
            if heading and heading != title:
                blocks.append((heading, True))
            lines = lines[1:]
        if not lines:
            continue
        # A list is one paragraph; items keep their own sentence endings.
        paragraph = " ".join(_plain(_LIST_ITEM.sub("", line)) for line in lines)
        if paragraph and paragraph != title:
            blocks.append((paragraph, False))
    return blocks


def _plain(text: str) -> str:
    return " ".join(_EMPHASIS.sub(r"\2", text).split())


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _language(html: str) -> str | None:
    try:
        root = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None
    return languages.code(root.get("lang"))


def _looks_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode(data: bytes) -> str:
    """A page that is not UTF-8: its <meta charset>, else Windows-1252 (what browsers assume)."""
    head = data[:2048].decode("ascii", errors="ignore")
    match = re.search(r"charset=[\"']?([\w-]+)", head, re.IGNORECASE)
    for encoding in (match.group(1) if match else None, "cp1252", "latin-1"):
        if encoding is None:
            continue
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


_BLOCK_TAGS = {"p", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "td"}
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def fragment(html: str) -> list[tuple[str, bool]]:
    """An HTML snippet (a feed entry's content) as (text, is_heading) paragraphs."""
    if not html or not html.strip():
        return []
    if "<" not in html:
        text = unescape(html)
        return [(" ".join(p.split()), False) for p in re.split(r"\n\s*\n", text) if p.strip()]
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return []
    for junk in root.xpath(".//script|.//style|.//figure|.//figcaption|.//iframe"):
        junk.drop_tree()
    blocks: list[tuple[str, bool]] = []
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag not in _BLOCK_TAGS or any(a.tag in _BLOCK_TAGS for a in element.iterancestors()):
            continue
        text = " ".join(element.text_content().split())
        if text:
            blocks.append((text, tag in _HEADING_TAGS))
    if not blocks:  # text straight in the snippet, lines split by <br>
        for br in root.xpath(".//br"):
            br.tail = "\n\n" + (br.tail or "")
        text = root.text_content()
        blocks = [(" ".join(p.split()), False) for p in re.split(r"\n\s*\n", text) if p.strip()]
    return blocks


def fragment_text(html: str) -> str:
    """The text of an HTML snippet (a feed entry's title may hold entities or tags)."""
    return " ".join(text for text, _ in fragment(html))
