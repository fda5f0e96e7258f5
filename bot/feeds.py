"""RSS and Atom feeds: polled, their new entries written as article files (feedparser's module).

A poll takes each due feed (concurrently; one broken feed never stops the others): a
conditional request (ETag, Last-Modified) through web.fetch, feedparser for RSS 0.9x/1.0/2.0 and
Atom, and for each entry not taken before its text: the entry's own content when it is the
whole article, else the page it links to, through extract.page. Each new entry becomes a JSON
file in the feeds folder, which the index operation then reads like any other article file: the
same ids, summaries, search and delivery outbox as a /reload.

A feed that fails (HTTP error, timeout, oversize answer, not a feed) is recorded with its reason
and polled again after a back-off that doubles with each failure in a row (up to a day). An
entry whose page fails is left for the next poll. Knows nothing of Telegram.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx

from . import extract, languages, web
from .config import Settings
from .store import FeedState, Store

log = logging.getLogger(__name__)

# The longest wait between two polls of a failing feed.
MAX_BACKOFF = 24 * 3600.0


class FeedError(Exception):
    """Not a feed we can read; str() says why."""


@dataclass(frozen=True)
class Entry:
    key: str  # the entry's id (guid), else its link, else a hash of its title
    title: str
    link: str | None
    published: datetime | None
    author: str | None
    tags: tuple[str, ...]
    content: str  # HTML of the entry's full content, if the feed carries it
    summary: str  # HTML of the entry's teaser


@dataclass
class FeedResult:
    name: str
    new: int = 0
    not_modified: bool = False
    error: str | None = None
    # Entries whose page would not load (retried next poll).
    notes: list[str] = field(default_factory=list)


@dataclass
class PollReport:
    results: list[FeedResult] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)

    @property
    def new(self) -> int:
        return len(self.written)

    @property
    def failed(self) -> list[FeedResult]:
        return [r for r in self.results if r.error]


@dataclass(frozen=True)
class Parsed:
    meta: dict[str, Any]  # the feed's own fields: title, language, ...
    entries: list[Entry]
    # Set when the XML was not well-formed and feedparser's lenient parser recovered entries.
    problem: str | None = None


def parse(body: bytes, url: str = "") -> Parsed:
    """A feed's entries; FeedError when it is not a feed (or too broken to read any entry)."""
    parsed = feedparser.parse(body, response_headers={"content-location": url} if url else None)
    problem = parsed.get("bozo_exception") if parsed.bozo else None
    if not parsed.entries and (problem or not parsed.get("version")):
        raise FeedError(f"not an RSS or Atom feed ({_short(problem) if problem else 'no entries'})")
    entries = [e for e in map(_entry, parsed.entries) if e is not None]
    # An encoding declared wrongly is common and harmless; broken XML is worth an admin's look.
    malformed = problem is not None and not isinstance(
        problem, feedparser.CharacterEncodingOverride | feedparser.NonXMLContentType
    )
    note = (
        f"malformed XML ({_short(problem)}); {len(entries)} entries recovered"
        if malformed
        else None
    )
    return Parsed(dict(parsed.feed), entries, note)


def _entry(raw: Any) -> Entry | None:
    title = " ".join(extract.fragment_text(raw.get("title", "")).split())
    link = raw.get("link") or None
    key = raw.get("id") or link or (hashlib.sha1(title.encode()).hexdigest() if title else "")
    if not key:
        return None
    content = "\n".join(
        str(c.get("value", "")) for c in raw.get("content", []) if isinstance(c, dict)
    )
    when = raw.get("published_parsed") or raw.get("updated_parsed")
    published = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else None
    tags = tuple(str(t.get("term")) for t in raw.get("tags", []) if t.get("term"))
    return Entry(
        key=str(key),
        title=title,
        link=str(link) if link else None,
        published=published,
        author=raw.get("author") or None,
        tags=tags,
        content=content,
        summary=str(raw.get("summary", "")),
    )


async def poll_all(
    settings: Settings,
    store: Store,
    *,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
    only: str | None = None,
) -> PollReport:
    """Poll every due feed (or the one named `only`, due or not); write their new entries."""
    limits = _limits(settings)
    now = clock()
    if only is not None:
        due = [f for f in store.feeds() if f.name.lower() == only.lower()]
    else:
        due = store.due_feeds(now)
    report = PollReport()
    if not due:
        return report
    own = http is None
    client = http or web.client(limits)
    try:
        results = await asyncio.gather(
            *(_poll(settings, store, client, limits, feed, now, report) for feed in due)
        )
    finally:
        if own:
            await client.aclose()
    report.results = list(results)
    return report


async def _poll(
    settings: Settings,
    store: Store,
    client: httpx.AsyncClient,
    limits: web.Limits,
    feed: FeedState,
    now: float,
    report: PollReport,
) -> FeedResult:
    result = FeedResult(feed.name)
    interval = settings.feeds.poll_minutes * 60
    try:
        fetched = await web.fetch(
            client, feed.url, limits, etag=feed.etag, last_modified=feed.last_modified
        )
        if fetched is None:
            result.not_modified = True
            store.feed_polled(
                feed.name,
                now=now,
                next_poll=now + interval,
                etag=feed.etag,
                last_modified=feed.last_modified,
            )
            return result
        # Parsing and extraction are CPU work: off the event loop, so chats keep being answered.
        parsed = await asyncio.to_thread(parse, fetched.body, fetched.url)
    except (web.FetchError, FeedError) as exc:
        return _failed(store, feed, result, str(exc), now, interval)
    except Exception as exc:  # a bug or a library's surprise: this feed fails, not the poll
        log.exception("feed %s: unexpected error", feed.name)
        return _failed(store, feed, result, f"unexpected error ({_short(exc)})", now, interval)

    if parsed.problem:
        result.notes.append(parsed.problem)
        store.feed_note(feed.name, parsed.problem, now=now)
    entries = parsed.entries
    seen = store.seen_entries(feed.name, [e.key for e in entries])
    new = [e for e in entries if e.key not in seen][: settings.feeds.max_new_entries]
    taken: list[tuple[str, str | None, str | None]] = []
    language = languages.code(parsed.meta.get("language"))
    for entry in new:
        try:
            record = await _article(settings, client, limits, feed, entry, language)
        except (web.FetchError, extract.ExtractionError) as exc:
            note = f"{entry.link or entry.title}: {exc}"
            result.notes.append(note)
            store.feed_note(feed.name, note, now=now)
            continue
        path = _write(settings.feeds_folder, feed.name, entry.key, record)
        report.written.append(path)
        taken.append((entry.key, entry.link, str(path)))
    result.new = len(taken)
    # Entries left for later must be seen again: the next request asks for the whole feed.
    keep = not result.notes
    store.feed_polled(
        feed.name,
        now=now,
        next_poll=now + interval,
        etag=fetched.etag if keep else None,
        last_modified=fetched.last_modified if keep else None,
        entries=taken,
    )
    if taken:
        log.info("feed %s: %d new entries", feed.name, len(taken))
    return result


def _failed(
    store: Store, feed: FeedState, result: FeedResult, error: str, now: float, interval: float
) -> FeedResult:
    backoff = min(MAX_BACKOFF, interval * 2 ** (feed.failures + 1))
    log.warning("feed %s failed: %s (next try in %.0f min)", feed.name, error, backoff / 60)
    store.feed_failed(feed.name, error, now=now, next_poll=now + backoff)
    result.error = error
    return result


async def _article(
    settings: Settings,
    client: httpx.AsyncClient,
    limits: web.Limits,
    feed: FeedState,
    entry: Entry,
    language: str | None,
) -> dict[str, Any]:
    """The JSON record for an entry: its own content if whole, else its page's main text."""
    blocks = extract.fragment(entry.content) if entry.content else []
    words = sum(len(text.split()) for text, heading in blocks if not heading)
    title, url, published, author = entry.title, entry.link, entry.published, entry.author
    if words < settings.feeds.full_text_words and entry.link:
        fetched = await web.fetch(client, entry.link, limits)
        if fetched is None:  # 304 without a validator sent: a broken server
            raise web.FetchError("HTTP 304 for a page never fetched")
        page = await asyncio.to_thread(extract.page, fetched.body, fetched.url)
        blocks = list(page.blocks)
        title = title or page.title
        url = page.url or fetched.url
        published = published or page.published
        author = author or page.author
        language = page.language or language
    elif not blocks:
        blocks = extract.fragment(entry.summary)
    if not any(not heading for _, heading in blocks):
        raise extract.ExtractionError("the entry has no text and no page")
    return {
        "id": entry.key,
        "title": title or blocks[0][0],
        "text": "\n\n".join(text for text, _ in blocks),
        "date": (published or datetime.now(UTC)).isoformat(),
        "url": url,
        "tags": list(dict.fromkeys([*feed.tags, *entry.tags])),
        "author": author,
        "source": feed.name,
        "language": language,
    }


def _write(folder: Path, feed_name: str, key: str, record: dict[str, Any]) -> Path:
    """One file per entry, written whole or not at all (a reader never sees half a file)."""
    directory = folder / _slug(feed_name)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.json"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False, indent=1)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def feed_name_for(url: str) -> str:
    """A display name for a feed added by URL alone: its host without "www." and "feeds."."""
    host = web.check_url(url).split("//", 1)[1].split("/", 1)[0].split("@")[-1].split(":")[0]
    return re.sub(r"^(?:www|feeds?|rss)\.", "", host.lower()) or host


def _limits(settings: Settings) -> web.Limits:
    return web.Limits(
        timeout=settings.feeds.timeout_seconds,
        max_bytes=settings.feeds.max_bytes,
        max_redirects=settings.feeds.max_redirects,
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "feed"


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 120 else text[:119] + "…"
