"""A feed's bytes read into entries (the only module that imports feedparser).

feedparser reads RSS 0.9x/1.0/2.0 and Atom, given the response's headers (its charset is often
the only word on a feed's encoding). Each item becomes an Entry: plain-text title (an item with
only a description is headed by its first sentence), its link when it is a web page, its key
(id, else link, else a hash), its content and summary as HTML, and its lead image. Items that
share a key are told apart by their text; links several entries share are no entry's own page.
"""

from __future__ import annotations

import calendar
import dataclasses
import hashlib
import html
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from .. import articles, extract, images, stories
from ..errors import NewsbotError

# feedparser's notes that say nothing about the feed: an encoding declared wrongly, or a server
# that calls its feed text/html. Anything else wrong with the XML is worth an admin's look.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SENTENCE = re.compile(r"^(.+?[.!?…。！？])(?=\s|$)")
# Control characters no text needs; C1 ones (\x80-\x9f) are Windows-1252 read as Latin-1.
_C0 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_C1 = re.compile(r"[\x80-\x9f]")


class FeedError(NewsbotError):
    """Not a feed we can read; str() says why."""


@dataclass(frozen=True)
class Entry:
    key: str  # the entry's id (guid), else its link, else a hash of its title or text
    title: str  # plain text
    link: str | None
    published: datetime | None
    author: str | None
    tags: tuple[str, ...]
    content: str  # HTML of the entry's full content, if the feed carries it
    summary: str  # HTML of the entry's teaser (or its whole text: many feeds put it here)
    # An item with no title of its own (only a description) is headed by its first sentence.
    headline_from_text: bool = False
    # Its lead image (media:content, an image enclosure, media:thumbnail, else the first <img>).
    image: str | None = None


@dataclass(frozen=True)
class Parsed:
    meta: dict[str, Any]  # the feed's own fields: title, language, ...
    entries: list[Entry]
    # Set when the XML was not well-formed and feedparser's lenient parser recovered entries.
    problem: str | None = None
    # Items with nothing to take (no title, link, id or text).
    empty: int = 0


def parse(
    body: bytes,
    url: str = "",
    *,
    content_type: str = "",
    content_language: str | None = None,
) -> Parsed:
    """A feed's entries; FeedError when it is not a feed (or too broken to read any entry).

    `content_type` and `content_language` are the HTTP headers: the charset a server names
    there is often the only place a feed's encoding is given (RFC 3023 makes it win over the
    XML declaration, as browsers do), and the language is the feed's when it names none.
    """
    headers = {"content-type": content_type, "content-location": url}
    if content_language:
        headers["content-language"] = content_language
    try:
        parsed = feedparser.parse(body, response_headers={k: v for k, v in headers.items() if v})
    except Exception as exc:  # feedparser raises what its decoders do on some broken bytes
        raise FeedError(f"not an RSS or Atom feed (unreadable: {short(exc)})") from exc
    problem = parsed.get("bozo_exception") if parsed.bozo else None
    malformed = problem is not None and not isinstance(problem, _HARMLESS)
    if not parsed.get("version") or (malformed and not parsed.entries):
        reason = short(problem) if malformed else "no RSS, RDF or Atom root element"
        raise FeedError(f"not an RSS or Atom feed ({reason})")
    raw = [e for e in (_entry(item, url) for item in parsed.entries) if e is not None]
    entries = _unique(raw)
    note = f"malformed XML ({short(problem)}); {len(raw)} entries recovered" if malformed else None
    return Parsed(dict(parsed.feed), entries, note, empty=len(parsed.entries) - len(raw))


def _entry(raw: Any, base: str = "") -> Entry | None:
    content = "\n".join(_html(c) for c in raw.get("content", []) if isinstance(c, dict))
    summary = _html(raw.get("summary_detail") or {"value": raw.get("summary", "")})
    title = _text(raw.get("title_detail"), raw.get("title", ""))
    text = extract.fragment_text(content or summary)
    headline_from_text = not title and bool(text)
    if headline_from_text:
        # An RSS 2.0 item may be only a description: its first sentence is its headline.
        match = _SENTENCE.match(text)
        title = articles.shorten(match.group(1) if match else text, 100)
    link = raw.get("link") or None
    if link and urlsplit(str(link)).scheme.lower() not in ("http", "https"):
        link = None  # an RSS guid taken for a permalink: "urn:uuid:...", "tag:..."
    key = raw.get("id") or link or _hash(title if raw.get("title") else text)
    if not key:
        return None
    # dict.get: feedparser's own get maps a missing "updated" to "published", with a warning.
    when = dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed")
    published = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else None
    tags = tuple(str(t.get("term")) for t in raw.get("tags", []) if t.get("term"))
    author = raw.get("author_detail", {}).get("name") or raw.get("author")
    return Entry(
        key=str(key),
        title=title,
        link=str(link) if link else None,
        published=published,
        author=_text(None, author) or None,
        tags=tags,
        content=content,
        summary=summary,
        headline_from_text=headline_from_text,
        image=images.of_entry(raw, (content, summary), str(link or base or "")),
    )


def _text(detail: Any, value: object) -> str:
    """A title or name as plain text. feedparser has already unescaped and cleaned it; only
    one it marks as HTML still holds tags and entities. A text title such as "std::vector<bool>"
    is taken as it is: read as HTML it would lose "<bool>"."""
    text = str(value or "")
    if isinstance(detail, dict) and detail.get("type") in _HTML_TYPES:
        text = extract.fragment_text(text)
    return clean(" ".join(text.split()))


def _html(detail: Any) -> str:
    """An entry's content or summary as HTML (fragment's input): plain text escaped."""
    if not isinstance(detail, dict):
        return ""
    value = str(detail.get("value") or "")
    if detail.get("type", "text/html") in _HTML_TYPES:
        return value
    return html.escape(value, quote=False)


def _unique(entries: list[Entry]) -> list[Entry]:
    """One entry per key. Entries without an id that share a link (a feed whose items all link to
    its home page) are told apart by their text; exact repeats are dropped."""
    counts = Counter(e.key for e in entries)
    out: dict[str, Entry] = {}
    for entry in entries:
        if counts[entry.key] > 1:
            own = _hash(f"{entry.title}\n{entry.content or entry.summary}")
            entry = dataclasses.replace(entry, key=f"{entry.key}#{own[:16]}")
        out.setdefault(entry.key, entry)
    return list(out.values())


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest() if text else ""


def clean(text: str) -> str:
    """No control characters: C1 ones are Windows-1252 mistaken for Latin-1 (\x92, a quote)."""
    text = _C1.sub(lambda m: m.group().encode("latin-1").decode("cp1252", "ignore"), text)
    return _C0.sub("", text)


def shared_links(parsed: Parsed) -> set[str]:
    """Links that are no entry's own page: the feed's home page, and those several entries
    share. Fetching one would give each of those entries the same text that is none of theirs."""
    counts = Counter(stories.url_key(e.link) for e in parsed.entries if e.link)
    shared = {key for key, count in counts.items() if key and count > 1}
    home = stories.url_key(str(parsed.meta.get("link") or ""))
    if home:
        shared.add(home)
    return shared


def short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 120 else text[:119] + "…"
