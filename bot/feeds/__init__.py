"""RSS and Atom feeds: polled, their new entries written as article files.

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

This module polls (the deadline, the back-off, the notes); entries.py reads a feed's bytes into
entries (the only module that imports feedparser); records.py makes an entry an article record
and writes it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from .. import articles, extract, languages, stories, web
from ..config import Settings
from ..store import FeedState, Store
from .entries import Entry, FeedError, Parsed, parse, shared_links, short
from .records import MIN_TEXT_WORDS, EntryRejected, article, check_readable, write

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_BACKOFF",
    "MIN_TEXT_WORDS",
    "PAGES_AT_ONCE",
    "Entry",
    "EntryRejected",
    "FeedError",
    "FeedResult",
    "Parsed",
    "PollReport",
    "feed_name_for",
    "parse",
    "poll_all",
]

log = logging.getLogger(__name__)

# The longest wait between two polls of a failing feed.
MAX_BACKOFF = 24 * 3600.0


# An entry that could not be taken (its page failed, and the feed has no text of its own) is
# tried at this many polls, then given up and never fetched again.
MAX_ATTEMPTS = 3
# Pages of one feed's entries fetched at the same time.
PAGES_AT_ONCE = 4


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


async def poll_all(
    settings: Settings,
    store: Store,
    *,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
    only: str | Collection[str] | None = None,
    arrived: Callable[[FeedResult], Awaitable[None]] | None = None,
) -> PollReport:
    """Poll every due feed (or those named `only`, due or not); write their new entries.

    Feeds are polled at once and each on its own: `arrived` is awaited as soon as a feed's new
    entries are written (to index and deliver them), not when the slowest feed is done.
    """
    limits = _limits(settings)
    now = clock()
    if only is not None:
        wanted = {n.lower() for n in ([only] if isinstance(only, str) else only)}
        due = [f for f in store.feeds() if f.name.lower() in wanted]
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
            return _not_modified(store, feed, result, now, interval)
        parsed = await _parse(fetched)
    except (web.FetchError, FeedError) as exc:
        return _failed(store, feed, result, str(exc), now, interval)
    except Exception as exc:  # a bug or a library's surprise: this feed fails, not the poll
        log.exception("feed %s: unexpected error", feed.name)
        return _failed(store, feed, result, f"unexpected error ({short(exc)})", now, interval)

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
    shared = shared_links(parsed)
    language = languages.code(parsed.meta.get("language"))
    gate = asyncio.Semaphore(PAGES_AT_ONCE)

    async def read(entry: Entry) -> tuple[dict[str, Any], str | None]:
        async with gate:
            own_page = stories.url_key(entry.link) not in shared
            record, note = await article(
                c.settings, c.client, c.limits, c.feed, entry, language, own_page=own_page
            )
            check_readable(c.settings, record)
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
                error = f"unexpected error ({short(exc)})"
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
        path = write(c.settings.feeds_folder, c.feed.name, entry.key, record)
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


async def _parse(fetched: web.Fetched) -> Parsed:
    """The fetched feed's entries. Parsing is CPU work: off the event loop, so chats keep being
    answered."""
    return await asyncio.to_thread(
        parse,
        fetched.body,
        _base(fetched),
        content_type=fetched.content_type,
        content_language=fetched.content_language,
    )


def _not_modified(
    store: Store, feed: FeedState, result: FeedResult, now: float, interval: float
) -> FeedResult:
    """HTTP 304: nothing new; the validators sent are kept for the next poll."""
    result.not_modified = True
    store.feed_polled(
        feed.name,
        now=now,
        next_poll=now + interval,
        etag=feed.etag,
        last_modified=feed.last_modified,
    )
    return result


def _failed(
    store: Store, feed: FeedState, result: FeedResult, error: str, now: float, interval: float
) -> FeedResult:
    backoff = min(MAX_BACKOFF, interval * 2 ** (feed.failures + 1))
    log.warning("feed %s failed: %s (next try in %.0f min)", feed.name, error, backoff / 60)
    store.feed_failed(feed.name, error, now=now, next_poll=now + backoff)
    result.error = error
    return result


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
