"""Reading article files: plain text as scraped, Markdown with front matter, JSON and JSON Lines.

A page becomes one or more Article values: headline, paragraphs with headings marked, site
boilerplate dropped, text decoded whatever the encoding. A file that cannot be read raises
ArticleError with the reason in words an operator can act on. This module imports neither sumy,
SQL nor telegram.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import json
import logging
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import yaml

from .config import Boilerplate, normalize_phrase
from .errors import NewsbotError

log = logging.getLogger(__name__)

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

    @property
    def content_hash(self) -> str:
        """What a summary depends on: the text (and its language), nothing else."""
        payload = [self.title, [[b.text, b.heading] for b in self.blocks], self.language]
        return _sha(payload)

    @property
    def fingerprint(self) -> str:
        """Everything shown about the article: a change here makes it 'updated'."""
        payload = [self.content_hash, self.url, list(self.tags), self.published.isoformat()]
        if self.author:  # appended only when known: older articles keep their fingerprints
            payload.append(self.author)
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
    if suffix in HTML_SUFFIXES:
        return ParsedFile((parse_html(data, source=source, bp=boilerplate, mtime=mtime),))
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
        return ParsedFile((parse_markdown(text, source=source, bp=boilerplate, mtime=mtime),))
    if suffix in JSON_SUFFIXES:
        return _parse_records(_json_records(text), source=source, bp=boilerplate, mtime=mtime)
    if suffix in JSONL_SUFFIXES:
        return _parse_records(_jsonl_records(text), source=source, bp=boilerplate, mtime=mtime)
    articles = parse_plain(text, source=source, bp=boilerplate, mtime=mtime)
    return ParsedFile(tuple(articles))


def parse_html(data: bytes, *, source: str, bp: Boilerplate, mtime: datetime) -> Article:
    """A saved web page: its main text, headline, date, author and canonical URL."""
    from . import extract  # trafilatura and lxml load only when a folder holds HTML

    try:
        page = extract.page(data)
    except extract.ExtractionError as exc:
        raise ArticleError(str(exc)) from None
    blocks = []
    for text, heading in page.blocks:
        lines = _drop_boilerplate([normalize_text(text)], bp)
        if lines and lines[0].strip():
            blocks.append(Block(" ".join(lines[0].split()), heading=heading))
    if not any(not b.heading for b in blocks):
        raise ArticleError("no body text on the page")
    return Article(
        title=page.title,
        blocks=tuple(blocks),
        source=source,
        published=page.published or mtime,
        dated=page.published is not None,
        url=page.url,
        language=page.language,
        author=page.author,
    )


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
# Plain text as scraped


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


def _why_no_article(blocks: list[tuple[int, list[str]]], bp: Boilerplate) -> str:
    lines = _drop_boilerplate([line for _, block in blocks for line in block], bp)
    if not any(lines):
        return "nothing but site boilerplate"
    if len([line for line in lines if line]) == 1:
        return "only a headline, no body text"
    return "no body text: every line is a heading (no sentence ends with punctuation)"


# ---------------------------------------------------------------------------------------------
# Markdown with front matter

_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\n(.*?)\n\1[ \t]*(?:\n|\Z)", re.DOTALL)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# No bracket, parenthesis or line end inside a link's parts: an unclosed "[a](" then stops
# the scan at the next bracket, so reading stays linear in the input (".*" made it quadratic).
_MD_IMAGE = re.compile(r"!\[[^\[\]\n]*\]\([^()\[\]\n]*\)")
_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\([^()\[\]\n]*\)")
_MD_REF_LINK = re.compile(r"\[([^\[\]\n]+)\]\[[^\[\]\n]*\]")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MD_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def parse_markdown(text: str, *, source: str, bp: Boilerplate, mtime: datetime) -> Article:
    """One article: front matter (YAML or TOML) for title/date/url/tags, Markdown body."""
    meta: Mapping[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        meta = _front_matter(match.group(1), match.group(2))
        text = text[match.end() :]
    lines: list[str] = []
    title = _inline_markup_free(_text_field(meta, "title", "headline"))
    in_code = False
    for raw in text.split("\n"):
        if raw.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or _MD_RULE.match(raw) or raw.lstrip().startswith("[//]"):
            continue
        if lines and re.fullmatch(r"\s*(=+|-+)\s*", raw) and lines[-1]:
            # Setext heading: the line above is the heading.
            heading = lines.pop()
            lines.extend(["", f"\x00{heading}", ""])
            continue
        heading_match = _MD_HEADING.match(raw)
        if heading_match:
            heading = _md_inline(heading_match.group(2))
            if not title and len(heading_match.group(1)) == 1 and not any(lines):
                title = heading
            elif heading and not (
                # Many exporters repeat the front-matter title as the first '# heading'.
                not any(lines) and normalize_phrase(heading) == normalize_phrase(title)
            ):
                lines.extend(["", f"\x00{heading}", ""])
            continue
        line = _md_inline(_MD_LIST.sub("", raw.lstrip("> \t")))
        lines.append(line if line or not raw.strip() else "")
    body = _drop_boilerplate(lines, bp)
    if not title:
        title, body = _headline(_strip_blank_edges(body))
    blocks = tuple(_md_blocks(body))
    if not any(not b.heading for b in blocks):
        raise ArticleError("no body text after the headline")
    published, dated = _published(meta, mtime)
    return Article(
        title=title.lstrip("\x00"),
        blocks=blocks,
        source=source,
        published=published,
        dated=dated,
        url=_text_field(meta, "url", "link", "canonical_url") or None,
        tags=_tags(meta),
        language=_text_field(meta, "language", "lang") or None,
        external_id=_text_field(meta, "id", "guid") or None,
        author=_author(meta),
    )


def _md_blocks(lines: list[str]) -> Iterator[Block]:
    para: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("\x00"):
            yield from _paragraph_blocks(para) if para else ()
            para = []
            yield Block(line[1:], heading=True)
        elif line:
            para.append(line)
        elif para:
            yield from _paragraph_blocks(para)
            para = []


def _md_inline(text: str) -> str:
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_REF_LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    for _ in range(2):  # nested emphasis, like ***bold italic***
        text = _MD_EMPHASIS.sub(r"\2", text)
    return text.replace("\\", "").strip()


def _front_matter(kind: str, raw: str) -> Mapping[str, Any]:
    try:
        meta = tomllib.loads(raw) if kind == "+++" else yaml.safe_load(raw)
    except (yaml.YAMLError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        language = "TOML" if kind == "+++" else "YAML"
        raise ArticleError(f"front matter is not valid {language}: {reason}") from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ArticleError("front matter is not a set of 'key: value' lines")
    return {str(k).lower(): v for k, v in meta.items()}


# ---------------------------------------------------------------------------------------------
# JSON and JSON Lines


def _json_records(text: str) -> Iterator[tuple[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArticleError(f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise ArticleError("not usable JSON: nested too deeply") from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    if isinstance(data, dict):
        yield "", data
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield f"entry {i + 1}", item
    else:
        raise ArticleError("JSON holds neither an article object nor a list of them")


def _jsonl_records(text: str) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            record = ArticleError(f"not valid JSON: {exc.msg}")
        except RecursionError:
            record = ArticleError("not usable JSON: nested too deeply")
        yield where, record


def _parse_records(
    records: Iterable[tuple[str, Any]], *, source: str, bp: Boilerplate, mtime: datetime
) -> ParsedFile:
    articles: list[Article] = []
    problems: list[str] = []
    for ordinal, (where, record) in enumerate(records):
        try:
            if isinstance(record, ArticleError):
                raise record
            articles.append(_record_article(record, ordinal, source=source, bp=bp, mtime=mtime))
        except ArticleError as exc:
            problems.append(f"{where}: {exc}" if where else str(exc))
    if not articles:
        if len(problems) == 1:
            raise ArticleError(problems[0])
        raise ArticleError(
            f"no article could be read ({len(problems)} problems; first: {problems[0]})"
            if problems
            else "no articles in the file"
        )
    return ParsedFile(tuple(articles), tuple(problems))


def _record_article(
    record: Any, ordinal: int, *, source: str, bp: Boilerplate, mtime: datetime
) -> Article:
    if not isinstance(record, dict):
        raise ArticleError("not a JSON object")
    meta = {str(k).lower(): v for k, v in record.items()}
    raw_text = meta.get("text", meta.get("body", meta.get("content", meta.get("article"))))
    if isinstance(raw_text, list):
        raw_text = "\n\n".join(str(p) for p in raw_text if p)
    if not isinstance(raw_text, str) or not raw_text.strip():
        raise ArticleError("no 'text' or 'body'")
    title = _inline_markup_free(_text_field(meta, "title", "headline", "name"))
    if _HTML_BLOCK.search(raw_text):
        # Exporters often keep the page's HTML in "content": its paragraphs, not its tags.
        from . import extract

        raw_text = "\n\n".join(text for text, _ in extract.fragment(raw_text))
    lines = _drop_boilerplate(normalize_text(raw_text).split("\n"), bp)
    if not title:
        title, lines = _headline(_strip_blank_edges(lines), body_first=True)
    blocks = tuple(_body_blocks(lines))
    if not any(not b.heading for b in blocks):
        raise ArticleError("no body text (only headings)")
    published, dated = _published(meta, mtime)
    return Article(
        title=" ".join(title.split()),
        blocks=blocks,
        source=source,
        published=published,
        dated=dated,
        ordinal=ordinal,
        url=_text_field(meta, "url", "link") or None,
        tags=_tags(meta),
        language=_text_field(meta, "language", "lang") or None,
        external_id=_text_field(meta, "id", "guid") or None,
        author=_author(meta),
    )


# HTML that marks paragraphs: a record's text that has it is a page's HTML, not plain text.
_HTML_BLOCK = re.compile(r"<(?:p|br|div|h[1-6]|li|blockquote|article|section)\b[^<>]*>", re.I)
# Inline tags and entities a title picked up from a page ("<b>Breaking</b>: Tom &amp; Jerry");
# anything else in angle brackets ("std::vector<bool>") is text.
_INLINE_TAG = re.compile(
    r"</?(?:a|abbr|b|bdi|br|cite|code|del|em|font|i|ins|kbd|mark|q|s|small|span|strong|sub"
    r"|sup|time|u|wbr)\b[^<>]*>",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});", re.IGNORECASE)


def _inline_markup_free(title: str) -> str:
    if "<" in title:
        title = _INLINE_TAG.sub("", title)
    if "&" in title and _ENTITY.search(title):
        title = html.unescape(title)
    return " ".join(title.split())


# ---------------------------------------------------------------------------------------------
# Metadata


def _author(meta: Mapping[str, Any]) -> str | None:
    """`author`, `byline` or `creator`: a name, a list of names, or {name: ...}."""
    for key in ("author", "authors", "byline", "creator"):
        value = meta.get(key)
        if isinstance(value, dict):
            value = value.get("name")
        if isinstance(value, list):
            names = [v.get("name") if isinstance(v, dict) else v for v in value]
            value = ", ".join(str(n) for n in names if isinstance(n, str) and n.strip())
        if isinstance(value, str) and value.strip():
            return shorten(" ".join(value.split()), 120)
    return None


def _text_field(meta: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = meta.get(name)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = " ".join(str(value).split())
            if text:
                return text
    return ""


def _tags(meta: Mapping[str, Any]) -> tuple[str, ...]:
    for name in ("tags", "keywords", "categories", "category"):
        value = meta.get(name)
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            tags = (" ".join(str(v).split()) for v in value if isinstance(v, str | int))
            return tuple(dict.fromkeys(t for t in tags if t))
    return ()


def _published(meta: Mapping[str, Any], mtime: datetime) -> tuple[datetime, bool]:
    for name in ("date", "published", "published_at", "pubdate", "datetime", "time", "updated"):
        if name in meta:
            parsed = parse_date(meta[name])
            if parsed:
                return parsed, True
    return mtime, False


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
