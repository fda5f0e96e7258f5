"""Front matter and record fields shared by the Markdown and JSON readers: title markup,
author, tags, date."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .. import images
from ..articles import Article, Block, parse_date, shorten

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


def article_from_meta(
    meta: Mapping[str, Any],
    *,
    title: str,
    blocks: tuple[Block, ...],
    source: str,
    mtime: datetime,
    url_keys: tuple[str, ...],
    ordinal: int = 0,
) -> Article:
    """The Article of a front-matter or JSON record: its text as read, everything else from
    the record's fields (date, url, tags, language, id, author, picture)."""
    published, dated = _published(meta, mtime)
    url = _text_field(meta, *url_keys) or None
    return Article(
        title=title,
        blocks=blocks,
        source=source,
        published=published,
        dated=dated,
        ordinal=ordinal,
        url=url,
        tags=_tags(meta),
        language=_text_field(meta, "language", "lang") or None,
        external_id=_text_field(meta, "id", "guid") or None,
        author=_author(meta),
        image=images.in_record(meta, url),
    )
