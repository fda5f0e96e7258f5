"""Markdown with front matter (YAML or TOML): one article a file."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import yaml

from ..articles import (
    Article,
    ArticleError,
    Block,
    _drop_boilerplate,
    _headline,
    _paragraph_blocks,
    _strip_blank_edges,
)
from ..config import Boilerplate, normalize_phrase
from .meta import _inline_markup_free, _text_field, article_from_meta

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
    return article_from_meta(
        meta,
        title=title.lstrip("\x00"),
        blocks=blocks,
        source=source,
        mtime=mtime,
        url_keys=("url", "link", "canonical_url"),
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
