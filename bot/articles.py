"""Reading article files: plain text as scraped, Markdown with front matter, JSON and JSON Lines.

A page becomes one or more Article values: headline, paragraphs with headings marked, site
boilerplate dropped, text decoded whatever the encoding. A file that cannot be read raises
ArticleError with the reason in words an operator can act on. This module imports neither sumy,
SQL nor telegram.

Here: the model, the entry points (read_file, parse_bytes), decoding, and the line helpers the
readers share. The format readers are in bot.readers (plain, markdown, records, html).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from .config import Boilerplate, normalize_phrase
from .errors import NewsbotError

TEXT_SUFFIXES = {".txt", ".text", ""}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}

# A heading is a short line that does not end a sentence.
_HEADING_MAX_WORDS = 14
_HEADING_MAX_CHARS = 120
# Latin punctuation, and the full-width marks of Chinese and Japanese text.
_SENTENCE_END = ".!?…:;,。！？：；，"
_CLOSERS = "\"'”’»)]*_ 」』）"
_OPENERS = "\"'“‘«(-–—•*"
# Control characters (C0 and C1) other than tab, line feed, carriage return and form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# Plain text and Markdown files with more lines than this are refused (see parse_bytes).
MAX_LINES = 100_000
# A first line this long that ends like a sentence is body text, not a headline.
_HEADLINE_MAX_WORDS = 30


class ArticleError(NewsbotError):
    """A file (or an entry in it) could not be read; str() is the reason."""


@dataclass(frozen=True)
class Block:
    """A paragraph of body text, or a subheading (never part of a summary)."""

    text: str
    heading: bool = False


@dataclass(frozen=True)
class Article:
    title: str
    blocks: tuple[Block, ...]
    source: str
    published: datetime
    # False when `published` is the file's modification time rather than the article's own date.
    dated: bool = False
    ordinal: int = 0
    url: str | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None
    external_id: str | None = None
    author: str | None = None
    # The lead image's address (images.image_url: absolute http(s)), shown as the preview.
    image: str | None = None

    @property
    def key(self) -> str:
        """Identity across reloads: the file and the entry's own id, else its place in the file."""
        anchor = f"id={self.external_id}" if self.external_id else str(self.ordinal)
        return f"{self.source}#{anchor}"

    @property
    def headline(self) -> str:
        """The title when it is a headline; "" when it only stands in for one: the body's first
        words, shown for an article that came without a title (untitled_title)."""
        stand_in = self.title.removesuffix("…")
        paragraphs = self.paragraphs
        if not stand_in or (paragraphs and paragraphs[0].startswith(stand_in)):
            return ""
        return self.title

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(b.text for b in self.blocks if not b.heading)

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(b.text for b in self.blocks if b.heading)

    @property
    def body(self) -> str:
        """Body paragraphs and headings as plain text, paragraphs separated by a blank line."""
        return "\n\n".join(b.text for b in self.blocks)

    @cached_property  # asked for several times in an index run; travels with the article
    def content_hash(self) -> str:
        """What a summary depends on: the text (and its language), nothing else."""
        payload = [self.title, [[b.text, b.heading] for b in self.blocks], self.language]
        return _sha(payload)

    @cached_property
    def fingerprint(self) -> str:
        """Everything shown about the article: a change here makes it 'updated'."""
        payload = [self.content_hash, self.url, list(self.tags), self.published.isoformat()]
        if self.author:  # appended only when known: older articles keep their fingerprints
            payload.append(self.author)
        if self.image:  # the same: an article without a picture keeps its fingerprint
            payload.append(f"image={self.image}")
        return _sha(payload)


@dataclass(frozen=True)
class ParsedFile:
    """The articles read from one file, and the entries in it that could not be read."""

    articles: tuple[Article, ...]
    problems: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------------------------
# Files


def read_file(
    path: Path,
    *,
    source: str,
    boilerplate: Boilerplate,
    max_bytes: int,
    suffix: str | None = None,
) -> ParsedFile:
    """Read one article file; raises ArticleError when nothing in it can be used.

    The format comes from the file's suffix unless `suffix` names another.
    """
    try:
        stat = path.stat()
        check_size(stat.st_size, max_bytes)
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read file: {exc.strerror or exc}") from None
    mtime = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
    return parse_bytes(
        data,
        source=source,
        suffix=suffix or path.suffix.lower(),
        boilerplate=boilerplate,
        mtime=mtime,
    )


def check_size(size: int, max_bytes: int) -> None:
    """Refuse a file over the limit before reading it: a 30 MB 'article' is a mistake."""
    if size > max_bytes:
        raise ArticleError(
            f"file too large ({_mb(size)} MB, the limit is {_mb(max_bytes)} MB;"
            " raise articles.max_file_mb to load it)"
        )


def parse_bytes(
    data: bytes,
    *,
    source: str,
    suffix: str,
    boilerplate: Boilerplate,
    mtime: datetime,
) -> ParsedFile:
    """Decode and parse a file's content; the format comes from its suffix."""
    # The readers import this module's model and line helpers: imported here, not at the top.
    from .readers import html, markdown, plain, records

    if suffix in HTML_SUFFIXES:
        return ParsedFile((html.parse_html(data, source=source, bp=boilerplate, mtime=mtime),))
    text = normalize_text(decode(data))
    if not text.strip():
        raise ArticleError("no text (only white space)")
    if suffix not in JSON_SUFFIXES | JSONL_SUFFIXES:
        lines = text.count("\n")
        if lines > MAX_LINES:
            # Each line costs a few microseconds to classify: 1.3 million one-letter lines took
            # 8 s. A page of articles has hundreds of lines, a whole book some tens of thousands.
            raise ArticleError(
                f"too many lines for an article file ({lines:,}; at most {MAX_LINES:,})"
            )
    if suffix in MARKDOWN_SUFFIXES:
        return ParsedFile(
            (markdown.parse_markdown(text, source=source, bp=boilerplate, mtime=mtime),)
        )
    if suffix in JSON_SUFFIXES:
        return records.parse_records(
            records.json_records(text), source=source, bp=boilerplate, mtime=mtime
        )
    if suffix in JSONL_SUFFIXES:
        return records.parse_records(
            records.jsonl_records(text), source=source, bp=boilerplate, mtime=mtime
        )
    articles = plain.parse_plain(text, source=source, bp=boilerplate, mtime=mtime)
    return ParsedFile(tuple(articles))


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252/latin-1."""
    if not data.strip():
        raise ArticleError("empty file")
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                raise ArticleError("not valid UTF-16 text despite its byte-order mark") from None
    if b"\x00" in data[:8192]:
        raise ArticleError("binary file, not text (NUL bytes)")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Windows exports are cp1252; its five undefined bytes mean latin-1.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    sample = text[:8192]
    if len(_CONTROL.findall(sample)) > max(2, len(sample) // 50):
        raise ArticleError("binary file, not text (control characters)")
    return text


def normalize_text(text: str) -> str:
    """Unix line ends, no trailing spaces, no invisible characters that break matching."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = text.replace("\ufeff", "").replace("\u200b", "").replace("\u00ad", "")
    return "\n".join(line.rstrip() for line in text.split("\n"))


# ---------------------------------------------------------------------------------------------
# Lines: what the plain text, Markdown and record readers (bot.readers) share


def _drop_boilerplate(lines: list[str], bp: Boilerplate) -> list[str]:
    out = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            out.append("")
            continue
        phrase = normalize_phrase(stripped.lstrip("\x00"))
        if phrase in bp.cut_from:
            break
        if phrase in bp.lines or any(p.match(stripped) for p in bp.patterns):
            continue
        out.append(stripped)
    return out


def _strip_blank_edges(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start]:
        start += 1
    while end > start and not lines[end - 1]:
        end -= 1
    return lines[start:end]


def _headline(lines: list[str], *, body_first: bool = False) -> tuple[str, list[str]]:
    """The first line is the headline, unless it is plainly a paragraph of body text: longer
    than any headline or, when `body_first` (a record's text field, which is body by name),
    anything but a short title-like line with more text after it."""
    if not lines:
        raise ArticleError("no text")
    first = lines[0]
    if word_count(first) > _HEADLINE_MAX_WORDS or (
        body_first and not (is_heading_like(first) and any(lines[1:]))
    ):
        # No headline line (CNN/Daily Mail text, some scraped pages): the whole text is body,
        # and its first sentence, shortened, stands in where a title must be shown.
        return untitled_title(first), lines
    return first, lines[1:]


# A sentence ends at . ! or ? (and a closing quote or bracket) before a capital, a digit or an
# opening quote; not after a lone initial or a common abbreviation ("Dr. Smith", "J. Doe").
_FIRST_SENTENCE_END = re.compile(
    r"(?<!\b[A-Z])(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bMrs)(?<!\bNo)(?<!\bvs)"
    r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(]?[A-Z0-9])"
)


def untitled_title(paragraph: str) -> str:
    """What stands for the title of an article that has none: its first sentence, shortened.
    Characters of scripts without spaces each carry about half a word: a shorter cut."""
    match = _FIRST_SENTENCE_END.search(paragraph)
    sentence = paragraph[: match.start() + 1] if match else paragraph
    return shorten(sentence.strip(), 40 if _UNSPACED.search(sentence[:40]) else 100)


def _body_blocks(lines: list[str]) -> Iterator[Block]:
    """Paragraphs from blank-line separated runs; hard-wrapped lines are joined again."""
    para: list[str] = []
    for line in [*lines, ""]:
        if line:
            para.append(line)
            continue
        if para:
            yield from _paragraph_blocks(para)
            para = []


def _paragraph_blocks(lines: list[str]) -> Iterator[Block]:
    if len(lines) == 1:
        yield Block(lines[0], heading=is_heading_like(lines[0]))
        return
    # A short title-like first line over a longer paragraph is a subheading without a blank line.
    longest = max(len(line) for line in lines[1:])
    if is_heading_like(lines[0]) and len(lines[0]) <= 0.6 * longest and _starts_sentence(lines[1]):
        yield Block(lines[0], heading=True)
        lines = lines[1:]
    if all(_ends_sentence(line) for line in lines[:-1]):
        # One paragraph a line, as most scrapers write them.
        for line in lines:
            yield Block(line)
        return
    yield Block(" ".join(lines))


def is_heading_like(line: str) -> bool:
    """Short, with letters, not ending like a sentence, not a quote: a headline or subheading."""
    text = line.strip()
    if not text or len(text) > _HEADING_MAX_CHARS or word_count(text) > _HEADING_MAX_WORDS:
        return False
    if not any(ch.isalpha() for ch in text):
        return False
    if text[0] in '"“‘«':
        return False
    return not _ends_sentence(text)


def _is_body_line(line: str) -> bool:
    return _ends_sentence(line) or not is_heading_like(line)


def _ends_sentence(line: str) -> bool:
    text = line.rstrip(_CLOSERS)
    return bool(text) and text[-1] in _SENTENCE_END


def _starts_sentence(line: str) -> bool:
    first = line.lstrip(_OPENERS)[:1]
    return bool(first) and (first.isupper() or first.isdigit())


def parse_date(value: Any) -> datetime | None:
    """ISO 8601, RFC 2822, a bare date or a Unix time; naive times are taken as UTC."""
    parsed: datetime | None = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            parsed = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Helpers


# Scripts written without spaces between words: Han, kana, Thai, Lao, Khmer, Myanmar.
_UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uf900-\ufaff\U00020000-\U0002fa1f]"
)
# Characters of those scripts that make a word, on average (Chinese words are 1-2 characters,
# Japanese a little more, Thai about five).
_CHARS_PER_WORD = 2


def word_count(text: str) -> int:
    """Words in `text`, also for scripts without spaces: a 1,500-character Chinese article is
    about 750 words, not the 6 that splitting at spaces gives."""
    unspaced = len(_UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    spaced = sum(1 for token in _UNSPACED.sub(" ", text).split() if any(c.isalnum() for c in token))
    return spaced + -(-unspaced // _CHARS_PER_WORD)


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut.strip():
        cut = cut.rsplit(" ", 1)[0]
    return f"{cut.rstrip(' ,;:-，、')}…"


def _sha(payload: Any) -> str:
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"
