"""RSS and Atom feeds: polled, their new entries written as article files (feedparser's module).

A poll takes each due feed (concurrently; one broken feed never stops the others): a
conditional request (ETag, Last-Modified) through web.fetch, feedparser for RSS 0.9x/1.0/2.0 and
Atom (given the response's headers: its charset is often the only word on a feed's encoding),
and for each entry not taken before its text: the entry's own content or description when it is
the whole article, else the page it links to, through extract.page. Each new entry becomes a
JSON file in the feeds folder, which the index operation then reads like any other article
file: the same ids, summaries, search and delivery outbox as a /reload.

A feed that fails (HTTP error, timeout, oversize answer, not a feed) is recorded with its reason
and polled again after a back-off that doubles with each failure in a row (up to a day). When an
entry's page fails (many sites turn bots away), the feed's own text stands in if it has a real
sentence or more; else the entry is tried again at the next polls, MAX_ATTEMPTS times in all.
An entry that will never make an article (only a title, too little text, given up) is recorded
with its reason and not tried again; a file the index could not read is never written. Knows
nothing of Telegram.
"""

from __future__ import annotations

import asyncio
import calendar
import dataclasses
import hashlib
import html
import json
import logging
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from . import articles, extract, languages, stories, web
from .config import Settings
from .errors import NewsbotError
from .store import FeedState, Store

log = logging.getLogger(__name__)

# The longest wait between two polls of a failing feed.
MAX_BACKOFF = 24 * 3600.0


# An entry that could not be taken (its page failed, and the feed has no text of its own) is
# tried at this many polls, then given up and never fetched again.
MAX_ATTEMPTS = 3
# Pages of one feed's entries fetched at the same time.
PAGES_AT_ONCE = 4
# The feed's own text stands in for a page that cannot be had when it holds at least this many
# words besides the title (a real sentence, not a teaser such as "Read more").
MIN_TEXT_WORDS = 8
# feedparser's notes that say nothing about the feed: an encoding declared wrongly, or a server
# that calls its feed text/html. Anything else wrong with the XML is worth an admin's look.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
# One "word" per two characters of Chinese or Japanese, which put no spaces between words.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SENTENCE = re.compile(r"^(.+?[.!?…。！？])(?=\s|$)")
# Control characters no text needs; C1 ones (\x80-\x9f) are Windows-1252 read as Latin-1.
_C0 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_C1 = re.compile(r"[\x80-\x9f]")


class FeedError(NewsbotError):
    """Not a feed we can read; str() says why."""


class EntryRejected(NewsbotError):
    """An entry that will never make an article (tried no more); str() says why."""


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


@dataclass
class FeedResult:
    name: str
    new: int = 0
    not_modified: bool = False
    error: str | None = None
    # What went wrong with single entries: each rejected or postponed entry with its reason,
    # pages that failed where the feed's own text was used, XML the parser had to repair.
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
        raise FeedError(f"not an RSS or Atom feed (unreadable: {_short(exc)})") from exc
    problem = parsed.get("bozo_exception") if parsed.bozo else None
    malformed = problem is not None and not isinstance(problem, _HARMLESS)
    if not parsed.get("version") or (malformed and not parsed.entries):
        reason = _short(problem) if malformed else "no RSS, RDF or Atom root element"
        raise FeedError(f"not an RSS or Atom feed ({reason})")
    raw = [e for e in map(_entry, parsed.entries) if e is not None]
    entries = _unique(raw)
    note = f"malformed XML ({_short(problem)}); {len(raw)} entries recovered" if malformed else None
    return Parsed(dict(parsed.feed), entries, note, empty=len(parsed.entries) - len(raw))


def _entry(raw: Any) -> Entry | None:
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
    )


def _text(detail: Any, value: object) -> str:
    """A title or name as plain text. feedparser has already unescaped and cleaned it; only
    one it marks as HTML still holds tags and entities. A text title such as "std::vector<bool>"
    is taken as it is: read as HTML it would lose "<bool>"."""
    text = str(value or "")
    if isinstance(detail, dict) and detail.get("type") in _HTML_TYPES:
        text = extract.fragment_text(text)
    return _clean(" ".join(text.split()))


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


def _clean(text: str) -> str:
    """No control characters: C1 ones are Windows-1252 mistaken for Latin-1 (\x92, a quote)."""
    text = _C1.sub(lambda m: m.group().encode("latin-1").decode("cp1252", "ignore"), text)
    return _C0.sub("", text)


async def poll_all(
    settings: Settings,
    store: Store,
    *,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
    only: str | None = None,
    arrived: Callable[[FeedResult], Awaitable[None]] | None = None,
) -> PollReport:
    """Poll every due feed (or the one named `only`, due or not); write their new entries.

    Feeds are polled at once and each on its own: `arrived` is awaited as soon as a feed's new
    entries are written (to index and deliver them), not when the slowest feed is done.
    """
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
    tasks = [
        asyncio.ensure_future(_poll(settings, store, client, limits, feed, now, report))
        for feed in due
    ]
    try:
        for finished in asyncio.as_completed(tasks):
            result = await finished
            if arrived is not None and result.new:
                try:
                    await arrived(result)
                except Exception:  # indexing what arrived failed: the other feeds go on
                    log.exception("feed %s: its new entries could not be taken in", result.name)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if own:
            await client.aclose()
    report.results = [task.result() for task in tasks]
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
    started = time.monotonic()
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
        parsed = await asyncio.to_thread(
            parse,
            fetched.body,
            _base(fetched),
            content_type=fetched.content_type,
            content_language=fetched.content_language,
        )
    except (web.FetchError, FeedError) as exc:
        return _failed(store, feed, result, str(exc), now, interval)
    except Exception as exc:  # a bug or a library's surprise: this feed fails, not the poll
        log.exception("feed %s: unexpected error", feed.name)
        return _failed(store, feed, result, f"unexpected error ({_short(exc)})", now, interval)

    if parsed.problem:
        _note(store, result, feed.name, parsed.problem, now)
    if parsed.empty:
        _note(store, result, feed.name, f"{parsed.empty} empty items skipped", now)
    seen = store.seen_entries(feed.name, [e.key for e in parsed.entries])
    fresh = [e for e in parsed.entries if e.key not in seen]
    new = fresh[: settings.feeds.max_new_entries]
    deadline = started + settings.feeds.poll_seconds
    context = _Context(settings, store, client, limits, feed, now, result, report, deadline)
    taken = await _take(context, parsed, new)
    result.new = len(taken.entries)
    # Entries left for later must be seen again: the next request asks for the whole feed.
    keep = not taken.retry and len(new) == len(fresh)
    store.feed_polled(
        feed.name,
        now=now,
        next_poll=now + interval,
        etag=fetched.etag if keep else None,
        last_modified=fetched.last_modified if keep else None,
        entries=taken.entries,
        rejected=taken.rejected,
        retry=taken.retry,
    )
    if taken.entries:
        log.info("feed %s: %d new entries", feed.name, len(taken.entries))
    return result


@dataclass(frozen=True)
class _Context:
    """What taking one feed's entries needs."""

    settings: Settings
    store: Store
    client: httpx.AsyncClient
    limits: web.Limits
    feed: FeedState
    now: float
    result: FeedResult
    report: PollReport
    deadline: float  # time.monotonic() by which the feed's poll ends


@dataclass
class _Taken:
    """A poll's outcome for its new entries, as Store.feed_polled records it."""

    entries: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    rejected: list[tuple[str, str | None, str]] = field(default_factory=list)
    retry: list[tuple[str, str]] = field(default_factory=list)


async def _take(c: _Context, parsed: Parsed, new: list[Entry]) -> _Taken:
    """Write each new entry that makes an article; note why for each that does not: rejected
    for good, or (its page failed) tried again at the next poll, MAX_ATTEMPTS times at most."""
    taken = _Taken()
    attempts = c.store.entry_attempts(c.feed.name, [e.key for e in new])
    shared = _shared_links(parsed)
    language = languages.code(parsed.meta.get("language"))
    gate = asyncio.Semaphore(PAGES_AT_ONCE)

    async def read(entry: Entry) -> tuple[dict[str, Any], str | None]:
        async with gate:
            own_page = stories.url_key(entry.link) not in shared
            record, note = await _article(c, entry, language, own_page=own_page)
            _check_readable(c.settings, record)
            return record, note

    # Pages are fetched a few at a time, and the whole poll ends at its deadline: one slow
    # site (30 pages dripping a byte a second) cannot hold its feed, or the others, for long.
    tasks = [asyncio.ensure_future(read(entry)) for entry in new]
    if tasks:
        _, late = await asyncio.wait(tasks, timeout=max(0.0, c.deadline - time.monotonic()))
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
    limit = c.settings.feeds.poll_seconds
    for entry, task in zip(new, tasks, strict=True):
        try:
            if task.cancelled():
                raise web.FetchError(f"not read within the feed's {limit:g} s poll")
            record, note = task.result()
        except EntryRejected as exc:
            taken.rejected.append((entry.key, entry.link, str(exc)))
            _note(c.store, c.result, c.feed.name, f"{_what(entry)}: {exc}", c.now)
            continue
        except Exception as exc:
            error = str(exc)
            if not isinstance(exc, web.FetchError | extract.ExtractionError):
                # A bug or a library's surprise: this entry waits, the others go on.
                log.exception("feed %s: unexpected error in %s", c.feed.name, _what(entry))
                error = f"unexpected error ({_short(exc)})"
            tries = attempts.get(entry.key, 0) + 1
            if tries >= MAX_ATTEMPTS:
                reason = f"{error}; given up after {tries} tries"
                taken.rejected.append((entry.key, entry.link, reason))
            else:
                reason = f"{error}; try {tries} of {MAX_ATTEMPTS}, again at the next poll"
                taken.retry.append((entry.key, error))
            _note(c.store, c.result, c.feed.name, f"{_what(entry)}: {reason}", c.now)
            continue
        if note:
            _note(c.store, c.result, c.feed.name, f"{_what(entry)}: {note}", c.now)
        path = _write(c.settings.feeds_folder, c.feed.name, entry.key, record)
        c.report.written.append(path)
        taken.entries.append((entry.key, entry.link, str(path)))
    return taken


def _note(store: Store, result: FeedResult, name: str, note: str, now: float) -> None:
    """A problem with one entry (or the XML): in the poll's result, the log and /feeds."""
    log.warning("feed %s: %s", name, note)
    result.notes.append(note)
    store.feed_note(name, note, now=now)


def _what(entry: Entry) -> str:
    """An entry as a note names it: its title and link, as many as it has."""
    title = articles.shorten(entry.title, 80)
    if title and entry.link:
        return f"{title} ({entry.link})"
    return title or entry.link or entry.key


def _base(fetched: web.Fetched) -> str:
    """Where relative links in a feed point from: the Content-Location the server names, when it
    is on the same site (a proxy may name an inner host), else the URL fetched."""
    if fetched.content_location:
        location = urljoin(fetched.url, fetched.content_location)
        if urlsplit(location).netloc == urlsplit(fetched.url).netloc:
            return location
    return fetched.url


def _shared_links(parsed: Parsed) -> set[str]:
    """Links that are no entry's own page: the feed's home page, and those several entries
    share. Fetching one would give each of those entries the same text that is none of theirs."""
    counts = Counter(stories.url_key(e.link) for e in parsed.entries if e.link)
    shared = {key for key, count in counts.items() if key and count > 1}
    home = stories.url_key(str(parsed.meta.get("link") or ""))
    if home:
        shared.add(home)
    return shared


def _failed(
    store: Store, feed: FeedState, result: FeedResult, error: str, now: float, interval: float
) -> FeedResult:
    backoff = min(MAX_BACKOFF, interval * 2 ** (feed.failures + 1))
    log.warning("feed %s failed: %s (next try in %.0f min)", feed.name, error, backoff / 60)
    store.feed_failed(feed.name, error, now=now, next_poll=now + backoff)
    result.error = error
    return result


async def _article(
    c: _Context, entry: Entry, language: str | None, *, own_page: bool
) -> tuple[dict[str, Any], str | None]:
    """The JSON record for an entry, and a note when its page failed and the feed's text stood
    in. Its own content when whole, else its page's main text, else the feed's text when there
    is enough of it. FetchError or ExtractionError: try again later; EntryRejected: never."""
    blocks = _own_text(entry)
    words = _words(blocks, "" if entry.headline_from_text else entry.title)
    title, url, published, author = entry.title, entry.link, entry.published, entry.author
    note = None
    if entry.link and own_page and words < c.settings.feeds.full_text_words:
        try:
            page = await _page(c.client, c.limits, entry.link)
        except (web.FetchError, extract.ExtractionError) as exc:
            if words < MIN_TEXT_WORDS:
                raise
            note = f"its page failed ({exc}); the feed's own text is used"
        else:
            if _words(list(page.blocks), page.title) >= words:
                blocks = [(_clean(text), heading) for text, heading in page.blocks]
                title = title or page.title
                url = page.url or url
                published = published or page.published
                author = author or page.author
                language = page.language or language
            else:
                note = "its page has less text than the feed; the feed's own text is used"
    elif words < MIN_TEXT_WORDS:
        raise EntryRejected(_too_little(words, entry))
    if not own_page:
        url = None  # not the entry's page: as its URL it would make one story of them all
    return {
        "id": entry.key,
        "title": title or blocks[0][0],
        "text": "\n\n".join(text for text, _ in blocks),
        "date": (published or datetime.now(UTC)).isoformat(),
        "url": url,
        "tags": list(dict.fromkeys([*c.feed.tags, *entry.tags])),
        "author": author,
        "source": c.feed.name,
        "language": language,
    }, note


async def _page(client: httpx.AsyncClient, limits: web.Limits, link: str) -> extract.Page:
    fetched = await web.fetch(client, link, limits)
    if fetched is None:  # 304 without a validator sent: a broken server
        raise web.FetchError("HTTP 304 for a page never fetched")
    return await asyncio.to_thread(extract.page, fetched.body, fetched.url)


def _own_text(entry: Entry) -> list[tuple[str, bool]]:
    """The entry's text as the feed carries it: its content, else its summary."""
    blocks = extract.fragment(entry.content) or extract.fragment(entry.summary)
    return [(text, heading) for text, heading in ((_clean(t), h) for t, h in blocks) if text]


def _words(blocks: list[tuple[str, bool]], title: str) -> int:
    """Words of body text, the title aside (many feeds repeat it as the first paragraph)."""
    same = _folded(title)
    count = 0
    for text, heading in blocks:
        if heading or _folded(text) == same:
            continue
        count += len(text.split()) + len(_CJK.findall(text)) // 2
    return count


def _folded(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?…。！？:")


def _too_little(words: int, entry: Entry) -> str:
    """Why an entry with no page to fetch has too little text to be an article."""
    if not words:
        return "only a title, no text" if entry.title else "no text"
    where = "no link to its page" if not entry.link else "a link shared with other entries"
    return f"too little text ({words} word{'s' if words > 1 else ''}) and {where}"


def _check_readable(settings: Settings, record: dict[str, Any]) -> None:
    """Write only what the index will read: a file it rejects would fail at every /reload."""
    data = json.dumps(record, ensure_ascii=False).encode("utf-8")
    try:
        articles.parse_bytes(
            data,
            source=str(record["source"]),
            suffix=".json",
            boilerplate=settings.boilerplate,
            mtime=datetime.now(UTC),
        )
    except articles.ArticleError as exc:
        raise EntryRejected(f"not readable as an article ({exc})") from None


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
        allow_private=settings.feeds.allow_private_addresses,
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "feed"


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 120 else text[:119] + "…"
