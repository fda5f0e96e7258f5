"""JSON (an article object, a list of them, or {"articles": [...]}) and JSON Lines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from ..articles import (
    Article,
    ArticleError,
    ParsedFile,
    _body_blocks,
    _drop_boilerplate,
    _headline,
    _strip_blank_edges,
    normalize_text,
)
from ..config import Boilerplate
from .meta import _inline_markup_free, _text_field, article_from_meta

# HTML that marks paragraphs: a record's text that has it is a page's HTML, not plain text.
_HTML_BLOCK = re.compile(r"<(?:p|br|div|h[1-6]|li|blockquote|article|section)\b[^<>]*>", re.I)


def json_records(text: str) -> Iterator[tuple[str, Any]]:
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


def jsonl_records(text: str) -> Iterator[tuple[str, Any]]:
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


def parse_records(
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
        from .. import extract

        raw_text = "\n\n".join(text for text, _ in extract.fragment(raw_text))
    lines = _drop_boilerplate(normalize_text(raw_text).split("\n"), bp)
    if not title:
        title, lines = _headline(_strip_blank_edges(lines), body_first=True)
    blocks = tuple(_body_blocks(lines))
    if not any(not b.heading for b in blocks):
        raise ArticleError("no body text (only headings)")
    return article_from_meta(
        meta,
        title=" ".join(title.split()),
        blocks=blocks,
        source=source,
        mtime=mtime,
        url_keys=("url", "link"),
        ordinal=ordinal,
    )
