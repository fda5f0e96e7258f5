"""The main text of a web page: the only module that imports trafilatura.

Used for HTML files dropped in the articles folder and for the pages that feed entries link to.
trafilatura drops navigation, footers, comments and other boilerplate, and reads the page's
metadata (title, date, author, canonical URL, lead image). Its text comes from the XML tree
trafilatura builds (<head> subheadings, <p>, <list>, <quote>, <hi> formatting), not from its
Markdown-like output, so no tag, Markdown escape or emphasis mark reaches the text, and footnote
markers (<sup>[1]</sup>) are dropped. A page with too little prose to be an article (a photo
caption, a template, a server status page) is refused with the reason.
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

from . import encoding, images, languages
from .articles import word_count
from .errors import NewsbotError

log = logging.getLogger(__name__)

# Less prose than this (in body paragraphs, not headings) is not an article. A CJK, Thai...
# character counts as half a word: those scripts put no spaces between words.
MIN_WORDS = 40
MIN_SENTENCES = 2


class ExtractionError(NewsbotError):
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
    image: str | None = None  # the lead image (og:image, twitter:image), an absolute address


# A news page has a few thousand elements, a long one 20,000; past this it is not read.
MAX_ELEMENTS = 40_000
_TAG_OPEN = re.compile(r"<[A-Za-z]")


def page(html: str | bytes, url: str | None = None, *, content_type: str | None = None) -> Page:
    """Extract the article on `html`; ExtractionError when there is none.

    `content_type` is the HTTP Content-Type the page came with: its charset comes first.
    """
    if isinstance(html, bytes):
        html = encoding.decode_page(html, content_type)
    if not html.strip():
        raise ExtractionError("empty page")
    tags = sum(1 for _ in _TAG_OPEN.finditer(html))
    if tags > MAX_ELEMENTS:
        # trafilatura spends about 0.1 ms an element: a hostile page of 5 MB of tags would
        # hold an index run (or a feed poll) for a minute.
        raise ExtractionError(
            f"a page too large to read ({tags:,} elements, at most {MAX_ELEMENTS:,})"
        )
    try:
        document: Any = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_formatting=True,  # keeps <hi rend="#sup">: footnote markers can be told
            include_tables=False,
        )
    except Exception as exc:  # trafilatura raises lxml's and its own errors on odd markup
        raise ExtractionError(f"unreadable HTML ({exc.__class__.__name__})") from exc
    body = getattr(document, "body", None) if document is not None else None
    if body is None or not getattr(document, "text", None):
        raise ExtractionError("no article text found on the page")
    title = _clean(str(document.title or ""))
    blocks = [b for b in _read_blocks(body) if b.text != title]
    if blocks and (not title or _is_headline_of(blocks[0].text, title)):
        # No <title>, or "Headline | Site" over the page's own headline: the headline it is.
        title, blocks = blocks[0].text, blocks[1:]
    while blocks and _is_dateline(blocks[0]):
        blocks = blocks[1:]  # a date or a time over the text: not its first sentence
    if not any(not b.heading for b in blocks):
        # A menu or a cookie notice is all trafilatura finds on a page with no article.
        raise ExtractionError("no article text found on the page")
    reason = _not_an_article(title, blocks)
    if reason:
        raise ExtractionError(f"not an article: {reason}")
    canonical = str(document.url) if document.url else url
    root = _root(html)
    return Page(
        title=title,
        blocks=tuple((b.text, b.heading) for b in blocks),
        published=_date(document.date),
        author=" ".join(str(document.author).split()) or None if document.author else None,
        url=canonical,
        language=languages.code(root.get("lang")) if root is not None else None,
        image=images.on_page(getattr(document, "image", None), root, url or canonical),
    )


# ---------------------------------------------------------------------------------------------
# trafilatura's XML tree to text blocks


@dataclass(frozen=True)
class _Block:
    text: str
    heading: bool
    lines: tuple[str, ...]  # as on the page: list items, lines split by <br>
    code: bool = False


# Elements that hold blocks, never text of their own worth a paragraph break.
_CONTAINERS = frozenset({"body", "div", "doc", "text", "main", "article", "section"})
_BLOCKS = frozenset({"p", "head", "list", "item", "quote", "table", *_CONTAINERS})
# Left out: images, struck-out text, tables (not read as prose), notes.
_SKIPPED = frozenset({"graphic", "del", "table", "note", "fw", "ab"})
# Where a footnote marker was: a private-use character, resolved by _clean().
_MARK = "\ue000"
# A superscript that is a footnote marker: [1], [a], [note 2], [citation needed]; *, †.
_SUP_NOTE = re.compile(r"(?:\[[^\[\]]{1,30}\]\s*)+|[*†‡§¶]+")
_SUP_NUMBER = re.compile(r"[\d,\s–-]{1,12}")
# The same markers as plain text right after a word or punctuation ("Hinton.[1] It").
_TEXT_NOTE = re.compile(
    r"(?<=[^\s\[(])(?:\[(?:\d{1,3}|[a-z]|(?:note|nb|n\.) ?\d{1,3}|citation needed"
    r"|clarification needed|verification needed|who\?|when\?|which\?|by whom\?"
    r"|edit|edit source)\])+",
    re.IGNORECASE,
)
_MARK_BEFORE_PUNCTUATION = re.compile(rf"\s*{_MARK}+(?=[\s.,;:!?)\]}}»”’\"']|$)")
# A bullet typed into the text at the start of a line ("* The minister said...").
_BULLET = re.compile(r"^[*•·▪◦‣►]+\s*")


def _read_blocks(root: Any) -> list[_Block]:
    out: list[_Block] = []
    _walk(root, out)
    return out


def _walk(container: Any, out: list[_Block]) -> None:
    """Blocks in document order; text straight in a container is a paragraph too."""
    loose: list[str] = [container.text or ""]

    def flush() -> None:
        _add(out, "".join(loose), heading=False)
        loose.clear()

    for child in container:
        tag = _tag(child)
        if tag == "head":
            flush()
            _add(out, _inline(child), heading=True)
        elif tag == "list":
            flush()
            _list(child, out)
        elif tag == "code" and _tag(container) in _CONTAINERS:  # a code block, not `inline`
            flush()
            _add(out, _inline(child), heading=False, code=True)
        elif tag in _BLOCKS and tag not in _SKIPPED:
            flush()
            if _holds_blocks(child):
                _walk(child, out)
            else:
                _add(out, _inline(child), heading=False)
        elif tag not in _SKIPPED and tag:
            loose.append(_inline(child))
        loose.append(child.tail or "")
    flush()


def _list(element: Any, out: list[_Block]) -> None:
    """A list is one paragraph, an item a line; items that hold paragraphs are read as such."""
    items = [child for child in element if _tag(child) == "item"]
    if any(_holds_blocks(item) for item in items):
        for item in items:
            _walk(item, out)
        return
    _add(out, "\n".join(_inline(item).replace("\n", " ") for item in items), heading=False)


def _holds_blocks(element: Any) -> bool:
    return any(_tag(d) in _BLOCKS for d in element.iterdescendants())


def _inline(element: Any) -> str:
    """An element's text: <lb/> a line end, footnote markers marked, struck-out text gone."""
    parts: list[str] = [element.text or ""]
    for child in element:
        tag = _tag(child)
        if tag == "lb":
            parts.append("\n")
        elif tag == "hi" and child.get("rend") == "#sup" and _is_note(child, "".join(parts)):
            parts.append(_MARK)
        elif tag and tag not in _SKIPPED:
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _is_note(sup: Any, before: str) -> bool:
    """<sup>[1]</sup> or <sup>*</sup> anywhere; <sup>12</sup> after punctuation, not after
    a word or number (x², 10⁶, CO₂ stay: their figures are read as plain digits)."""
    text = "".join(sup.itertext()).strip()
    if not text:
        return False
    if _SUP_NOTE.fullmatch(text):
        return True
    previous = before.rstrip()[-1:]
    return bool(_SUP_NUMBER.fullmatch(text)) and bool(previous) and previous in ".,;:!?\"'”’»)"


def _add(out: list[_Block], raw: str, *, heading: bool, code: bool = False) -> None:
    lines = [line for line in (_clean(part) for part in raw.split("\n")) if line]
    if not lines:
        return
    out.append(_Block(" ".join(lines), heading, tuple(lines), code))


def _clean(text: str) -> str:
    """One line of plain text: footnote markers gone (with a space kept between sentences)."""
    text = _TEXT_NOTE.sub(_MARK, text)
    if _MARK in text:
        text = _MARK_BEFORE_PUNCTUATION.sub("", text).replace(_MARK, " ")
    return _BULLET.sub("", " ".join(text.split()))


def _is_dateline(block: _Block) -> bool:
    """A short line of figures (a date, a time, a place and a date) over the text."""
    return (
        not block.heading
        and len(block.lines) == 1
        and word_count(block.text) <= _DATELINE_MAX_WORDS
        and _is_data(block.text)
    )


def _is_headline_of(text: str, title: str) -> bool:
    """Whether `title` is `text` with the site's name before or after it."""
    if len(text) * 2 < len(title):
        return False
    for rest in (title.removeprefix(text), title.removesuffix(text)):
        if rest != title and rest.strip()[:1] in _TITLE_SEPARATORS:
            return True
    return False


def _tag(element: Any) -> str:
    return element.tag if isinstance(element.tag, str) else ""  # comments have no name


_TITLE_SEPARATORS = set("|-–—_:·•/»")
_DATELINE_MAX_WORDS = 20

# ---------------------------------------------------------------------------------------------
# Is it an article?

# Pages a server makes, whatever words they hold.
_GENERATED = (
    # Whole titles only: "Fortnite server status: is it down?" is news.
    (
        re.compile(
            r"^(?:apache |nginx )?(?:server )?status$|^(?:apache )?server status for\b", re.I
        ),
        "a server status page",
    ),
    (re.compile(r"^index of /", re.I), "a directory listing"),
    (re.compile(r"^phpinfo\(\)", re.I), "a server information page (phpinfo)"),
    (
        re.compile(
            r"^(?:error )?(?:4\d\d|5\d\d)\b\W*(?:error\W*)?(?:page )?(?:not found|forbidden"
            r"|internal server error|bad gateway|service unavailable|unauthori[sz]ed|gone"
            r"|bad request|gateway time-?out)\W*$|^page not found\b",
            re.I,
        ),
        "an error page",
    ),
)
# Template placeholders a page shows when its script did not run: {{ name }}, {% if %}.
_PLACEHOLDER = re.compile(r"\{\{.{0,100}?\}\}|\{%.{0,100}?%\}")
# A "key: value" line: a short label, a colon, a value (no sentence).
_KEY_VALUE = re.compile(r"^[^\W\d_][^:：.!?]{0,40}[:：]\s*\S")
# A sentence end: punctuation before a space, the end, or a capital (sentences glued together).
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s|$|[A-ZÀ-ÖØ-Þ])|[。！？؟۔।]+")
_ENDS_SENTENCE = re.compile(r"[.!?…。！？؟۔।:;][\"'”’»)\]]*$")


def _not_an_article(title: str, blocks: list[_Block]) -> str | None:
    """Why the page is not an article, or None when it is one."""
    for pattern, reason in _GENERATED:
        if pattern.search(title) or (
            blocks and blocks[0].heading and pattern.search(blocks[0].text)
        ):
            return reason
    prose = [b for b in blocks if not b.heading and not b.code]
    text = " ".join(b.text for b in prose)
    placeholders = len(_PLACEHOLDER.findall(text))
    if _PLACEHOLDER.search(title) or (placeholders >= 3 and placeholders * 25 >= word_count(text)):
        return "a page template ({{…}} placeholders)"
    lines = [line for b in prose for line in b.lines]
    sentences = [line for line in lines if not _is_data(line)]
    words = word_count(" ".join(sentences))
    count = len(_SENTENCE_END.findall(" ".join(sentences)))
    if words >= MIN_WORDS and count >= MIN_SENTENCES:
        return None
    if len(lines) - len(sentences) > len(sentences):
        return "mostly key: value lines and figures, not sentences"
    if words < MIN_WORDS:
        return f"{words} words (an article has {MIN_WORDS} or more)"
    return "a single sentence" if count else "no sentence"


def _is_data(line: str) -> bool:
    """A line of figures or a "key: value" pair rather than a sentence."""
    if _ENDS_SENTENCE.search(line) and not _KEY_VALUE.match(line):
        return False
    if _KEY_VALUE.match(line) and not _ENDS_SENTENCE.search(line):
        return True
    visible = [ch for ch in line if not ch.isspace()]
    return sum(ch.isalpha() for ch in visible) < len(visible) / 2


# ---------------------------------------------------------------------------------------------
# Metadata


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _root(html: str) -> Any:
    """The page's <html> element as lxml reads it, or None."""
    try:
        return lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None


# Elements that start a paragraph of their own; text between them (straight in the snippet, in
# a <span>, after a <p>) is a paragraph too.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body"  # noqa: SIM905 (names read better as words)
    " caption center dd details dialog div dl dt fieldset footer form h1 h2 h3 h4 h5 h6"
    " header hgroup hr html li main nav ol p pre section summary table tbody td tfoot th"
    " thead tr ul".split()
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Never text of the entry: code, styles, embedded players, image captions.
_JUNK_TAGS = frozenset(
    "script style figure figcaption iframe"  # noqa: SIM905 (names read better as words)
    " noscript template object embed svg math audio video head title button select"
    " textarea".split()
)
# Characters XML (and so lxml) refuses: C0 controls but tab and line ends, lone surrogates, and
# the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def fragment(html: str) -> list[tuple[str, bool]]:
    """An HTML snippet (a feed entry's content) as (text, is_heading) paragraphs, in order.

    All of its text is kept: in <p>s and list items, straight in the snippet or in <div>s,
    around and between block elements, split by <br>s. Headings stay headings; scripts, styles,
    figures and their captions go.
    """
    if not html or not html.strip():
        return []
    html = _NOT_XML.sub(" ", html)
    if "<" not in html:
        return _paragraphs(unescape(html))
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        # Not even lxml can read it: the text between the tags, not the tags.
        return _paragraphs(unescape(re.sub(r"<[^>]*>?", " ", html)))
    blocks: list[tuple[str, bool]] = []
    words: list[str] = []

    def flush() -> None:
        text = " ".join("".join(words).split())
        if text:
            blocks.append((text, False))
        words.clear()

    def walk(element: Any) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if not tag or tag in _JUNK_TAGS:  # a comment or junk: only its tail is text
            return
        if tag == "br":
            flush()
            return
        if tag in _HEADING_TAGS:
            flush()
            heading = " ".join(_text(element).split())
            if heading:
                blocks.append((heading, True))
            return
        block = tag in _BLOCK_TAGS
        if block:
            flush()
        words.append(element.text or "")
        for child in element:
            walk(child)
            words.append(child.tail or "")
        if block:
            flush()

    walk(root)
    flush()
    return blocks


def _text(element: Any) -> str:
    """An element's text without that of its junk (a heading's inline <script>); a <br> is a
    space."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag == "br":
            parts.append(" ")
        elif tag and tag not in _JUNK_TAGS:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _paragraphs(text: str) -> list[tuple[str, bool]]:
    """Plain text: paragraphs apart by blank lines, spaces collapsed."""
    return [(" ".join(p.split()), False) for p in re.split(r"\n\s*\n", text) if p.strip()]


def fragment_text(html: str) -> str:
    """The text of an HTML snippet (a feed entry's title may hold entities or tags)."""
    return " ".join(text for text, _ in fragment(html))
