"""The articles, chats and feeds as the chat sees them: pages, summaries on demand, search, reload.

Knows nothing of Telegram. Reads go through the store's connection on the caller's thread (the
event loop). Summaries asked for in chat are made in a worker process (summary_pool.py: a thread
would hold the interpreter lock, and everyone's answers, for as long as one takes). An index run
works in a worker thread (its summaries in processes of its own) on its own connection, so that
readers keep answering from the last committed state while it works.
Searches run in worker threads too, each on a connection of its own (a sqlite3 connection is
never used by two threads at once), a few at a time and within a time limit: one person's
search never holds up everyone else's messages.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from . import chart, index, web
from .chat_choices import MAX_FILTER_CHARS as MAX_FILTER_CHARS
from .chat_choices import MAX_FILTERS as MAX_FILTERS
from .chat_choices import QUERY_DAYS as QUERY_DAYS
from .chat_choices import ChatChoices
from .chat_choices import Pick as Pick
from .chat_choices import digest_due as digest_due
from .chat_choices import zone_named as zone_named
from .config import Settings
from .feeds import FeedResult, PollReport, feed_name_for, poll_all
from .feeds.records import folder_name
from .refusals import RefusalReason as RefusalReason
from .refusals import Refused as Refused
from .store import (
    DatabaseUnusable,
    FeedState,
    Outbox,
    SearchResult,
    Store,
    StoredArticle,
    StoreUnavailable,
    open_store,
)
from .summary_pool import SummaryPool

if TYPE_CHECKING:
    from .chat.i18n import Translator

log = logging.getLogger(__name__)

# The longest summary a person can ask for in chat.
MAX_SENTENCES = 20
MAX_FEED_NAME = 60
# A search still running after this many seconds is stopped, and the person told to use fewer
# words: the search itself is in a worker thread, but it holds one of SEARCH_THREADS.
SEARCH_SECONDS = 3.0
SEARCH_THREADS = 4


@dataclass(frozen=True)
class Entry:
    """An article in a list: what a headline line needs."""

    id: int
    title: str
    published: datetime
    line: str  # the first sentence of its summary


@dataclass(frozen=True)
class Indexing:
    """How far the running index run has come: `done` of `total` in `stage` ("read" or
    "summarize", or whatever stage the index run reports; "" before it has counted the files)."""

    stage: str
    done: int
    total: int


class IndexStopped(Exception):
    """An index run stopped because the bot is stopping (News.stop_indexing): what it wrote
    stays (whole transactions: articles with their summaries, a file's row with its last
    article), and the next run reads again the files it had not finished."""


@dataclass(frozen=True)
class Page:
    entries: tuple[Entry, ...]
    offset: int
    total: int


class News(ChatChoices):
    def __init__(
        self, settings: Settings, store: Store, summaries: SummaryPool | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.summaries = summaries or SummaryPool()
        self._reload_lock = asyncio.Lock()
        # The running index run's progress (None when none runs): written by its thread, read by
        # the chat; one reference swapped whole, so a reader never sees half of one.
        self._indexing: Indexing | None = None
        self._stopping = threading.Event()
        self._search_turns = asyncio.Semaphore(SEARCH_THREADS)
        # Idle connections for searches; taken and given back by the worker threads.
        self._readers: queue.SimpleQueue[Store] = queue.SimpleQueue()

    def sync_feeds(self) -> None:
        """At start: the store's feeds made those of the configuration."""
        self.store.sync_feeds([(f.name, f.url, f.tags) for f in self.settings.feeds.sources])

    @property
    def outbox(self) -> Outbox:
        """The delivery queue, for the sender (its only reader and writer besides the index
        run, which queues rows in the transaction that adds their articles)."""
        return self.store

    def first_sight(self, update_id: int) -> bool:
        """Is this the first time the bot gets this Telegram update? (Recorded either way.) A
        busy database cannot say: then it is handled, as before this check existed."""
        try:
            return self.store.first_sight(update_id)
        except StoreUnavailable as exc:
            log.warning("update %s handled without the once-only check: %s", update_id, exc)
            return True

    def requeue_interrupted(self) -> int:
        """At start: deliveries a stop left 'sending' are queued again; returns how many."""
        return self.store.requeue_interrupted()

    def check_file(self) -> None:
        """DatabaseUnusable when the database file is no longer the one opened."""
        self.store.check_file()

    def unusable(self, exc: BaseException) -> DatabaseUnusable | None:
        """The DatabaseUnusable an error means (a damaged page met by a read), else None."""
        return self.store.unusable(exc)

    def close(self) -> None:
        """Stop the summary workers; close the store and the search connections."""
        self.summaries.close()
        while True:
            try:
                self._readers.get_nowait().close()
            except queue.Empty:
                break
        self.store.close()

    @property
    def default_sentences(self) -> int:
        return self.settings.summary.sentences

    def count(self) -> int:
        return self.store.count()

    def latest(self, *, offset: int = 0, limit: int = 5, language: str | None = None) -> Page:
        total = self.store.count(language=language, heads_only=True)
        offset = max(0, min(offset, max(total - 1, 0)))
        items = self.store.latest(limit, offset, language=language)
        return Page(self.entries(items), offset, total)

    def entry(self, stored: StoredArticle) -> Entry:
        return self.entries([stored])[0]

    def entries(self, stored: Sequence[StoredArticle]) -> tuple[Entry, ...]:
        """List lines: each article's headline and the first sentence of its cached summary
        (else its first paragraph), the summaries read together."""
        options = index.summary_options(self.settings, sentences=self.default_sentences)
        keys = [index.summary_key(s.article, options) for s in stored]
        cached = self.store.summaries(keys)
        lines = []
        for article, key in zip(stored, keys, strict=True):
            summary = cached.get(key)
            line = summary[0] if summary else (article.article.paragraphs or ("",))[0]
            lines.append(Entry(article.id, article.article.title, article.article.published, line))
        return tuple(lines)

    def story_sources(self, article_id: int) -> list[tuple[int, str, str | None, str]]:
        """The other articles of the same story (other sources of one event)."""
        return self.store.story_sources(article_id)

    def get(self, article_id: int) -> StoredArticle | None:
        return self.store.get(article_id)

    def cached_summary(self, stored: StoredArticle, sentences: int | None = None) -> list[str]:
        options = index.summary_options(
            self.settings, sentences=sentences or self.default_sentences
        )
        return self.store.summary(index.summary_key(stored.article, options)) or []

    async def summary(self, stored: StoredArticle, sentences: int | None = None) -> list[str]:
        """The summary of the wanted length: from the cache, else made now in a worker process
        (cached unless the worker died and the lead sentences stand in)."""
        count = max(1, min(sentences or self.default_sentences, MAX_SENTENCES))
        options = index.summary_options(self.settings, sentences=count)
        key = index.summary_key(stored.article, options)
        cached = self.store.summary(key)
        if cached is not None:
            return cached
        result, made = await self.summaries.summarize(stored.article, options)
        if made:
            self.store.put_summaries([(key, result)])
        return result

    async def search(
        self, text: str, *, offset: int = 0, limit: int = 5, language: str | None = None
    ) -> SearchResult:
        """Ranked hits, found in a worker thread; SearchTimeout after SEARCH_SECONDS."""
        if self.store.path == ":memory:":  # no other connection can see it: search here
            return self._search_on(self.store, text, offset, limit, language)
        async with self._search_turns:
            return await asyncio.to_thread(self._search_job, text, offset, limit, language)

    def _search_job(self, text: str, offset: int, limit: int, language: str | None) -> SearchResult:
        reader = self._reader()
        try:
            return self._search_on(reader, text, offset, limit, language)
        finally:
            self._readers.put(reader)

    def _reader(self) -> Store:
        """An idle connection for a worker thread (give it back to self._readers)."""
        try:
            return self._readers.get_nowait()
        except queue.Empty:
            return self.store.another()

    def _search_on(
        self, store: Store, text: str, offset: int, limit: int, language: str | None
    ) -> SearchResult:
        return store.search(
            text,
            limit=limit,
            offset=max(0, offset),
            language=language,
            time_limit=SEARCH_SECONDS,
        )

    def stats(self) -> dict[str, object]:
        last = self.store.last_reload()
        return {
            "articles": self.store.count(),
            "chats": self.store.subscribed_chat_count(),
            "deliveries": self.store.delivery_counts(),
            "last_reload": last,
            "feeds": self.store.feeds(),
        }

    def activity(self, *, now: float | None = None, days: int = chart.DAYS) -> chart.Activity:
        """What the /stats chart shows: the last `days` UTC days' articles added by source and
        deliveries sent or failed, per day (counted by the database)."""
        return self._activity_on(self.store, time.time() if now is None else now, days)

    async def stats_chart(self, tr: Translator | None = None, *, now: float | None = None) -> bytes:
        """The /stats chart as PNG bytes. Counted and drawn in a worker thread, on a connection
        of its own: drawing takes a few tenths of a second of CPU, and nobody waits for it."""
        when = time.time() if now is None else now
        if self.store.path == ":memory:":  # no other connection can see it: count here
            return await asyncio.to_thread(chart.draw, self.activity(now=when), tr)
        return await asyncio.to_thread(self._chart_job, when, tr)

    def _chart_job(self, now: float, tr: Translator | None) -> bytes:
        reader = self._reader()
        try:
            activity = self._activity_on(reader, now, chart.DAYS)
        finally:
            self._readers.put(reader)
        return chart.draw(activity, tr)

    def _activity_on(self, store: Store, now: float, days: int) -> chart.Activity:
        since, until, first = chart.window(now, days)
        feeds = self._feeds_prefix()
        # A feed's articles are in its folder below the feeds folder: shown by the feed's name.
        names = {
            f"{feeds}{folder_name(feed.name)}/": feed.name
            for feed in (store.feeds(active_only=False) if feeds else ())
        }
        return chart.collect(
            first,
            days,
            store.articles_per_day(since, until, feeds=feeds),
            store.deliveries_per_day(since, until),
            names=names,
        )

    def _feeds_prefix(self) -> str | None:
        """The feeds folder as the start of article paths ('feeds/'), if it is in the articles
        folder (else the index does not read it)."""
        try:
            inside = self.settings.feeds_folder.resolve().relative_to(
                self.settings.articles_dir.resolve()
            )
        except ValueError:
            return None
        return f"{inside.as_posix()}/" if inside.parts else None

    # -- feeds ----------------------------------------------------------------------------------

    def feeds(self) -> list[FeedState]:
        return self.store.feeds()

    def add_feed(self, url: str, name: str | None = None, tags: Sequence[str] = ()) -> str:
        """An admin's new feed, for the caller to read at once (poll_feeds(only=...)); returns
        its name, or Refused (BAD_URL with the reason, or FEED_TAKEN)."""
        try:
            url = web.check_url(url)
        except web.FetchError as exc:
            raise Refused(RefusalReason.BAD_URL, detail=str(exc)) from None
        name = " ".join((name or feed_name_for(url)).split())[:MAX_FEED_NAME]
        # Not due for the feeds job meanwhile: an import reads hundreds at once, for longer than
        # a tick, and the job would fetch each a second time beside it.
        later = time.time() + self.settings.feeds.poll_minutes * 60
        problem = self.store.add_feed(name, url, tags, next_poll=later)
        if problem:
            raise Refused(RefusalReason.FEED_TAKEN, detail=problem)
        return name

    def remove_feed(self, name: str) -> str | None:
        return self.store.remove_feed(name)

    async def poll_feeds(
        self,
        *,
        only: str | Collection[str] | None = None,
        indexed: Callable[[index.Report], Awaitable[None]] | None = None,
    ) -> tuple[PollReport, index.Report | None]:
        """Poll the due feeds (or one); as each brings entries, the same index operation as
        /reload takes them in and queues their deliveries, and `indexed` hears of it (to send
        them at once). Returns the poll and the last index run (None when nothing came)."""
        last: index.Report | None = None

        async def take_in(_: FeedResult) -> None:
            nonlocal last
            last = await self.reload()
            if indexed is not None:
                await indexed(last)

        report = await poll_all(self.settings, self.store, only=only, arrived=take_in)
        return report, last

    # -- the index run ---------------------------------------------------------------------------

    async def reload(self) -> index.Report:
        """Run the index operation in a worker thread; one at a time (the start-up run, /reload,
        the automatic reload and feed polls all come here, so none overlaps another)."""
        async with self._reload_lock:
            self._indexing = Indexing("", 0, 0)
            try:
                return await asyncio.to_thread(self._index)
            finally:
                self._indexing = None

    def indexing(self) -> Indexing | None:
        """The running index run's progress; None when no index run is going on."""
        return self._indexing

    def filling(self) -> Indexing | None:
        """The index run's progress while it fills a database that has no article yet (a first
        start): what the chat says instead of "no articles". None otherwise. Asked only when a
        list came back empty, so counting costs nothing in the usual case."""
        progress = self._indexing
        if progress is None or self.store.count():
            return None
        return progress

    def stop_indexing(self) -> None:
        """The bot is stopping: a running index run ends at its next progress report (raising
        IndexStopped) instead of keeping the stop waiting for hours on a first start."""
        self._stopping.set()

    def _index(self) -> index.Report:
        # Where the bot's database was removed, opening the path would make a new, empty one.
        self.store.check_file()
        with open_store(self.settings.database) as own:
            return index.run(self.settings, own, progress=self._progress)

    def _progress(self, stage: str, done: int, total: int) -> None:
        """index.run's progress callback, on the index run's thread."""
        if self._stopping.is_set():
            raise IndexStopped("the bot is stopping")
        self._indexing = Indexing(stage, done, total)

    async def warm_up(self) -> None:
        """Import sumy and nltk now, and start the summary workers, so that the first 'More'
        press does not wait for them."""
        language = self.settings.summary.language
        await asyncio.to_thread(_load_summarizer, language)
        await asyncio.to_thread(self.summaries.start, language)


def _load_summarizer(language: str) -> None:
    from . import summarize

    summarize.tools(language)
