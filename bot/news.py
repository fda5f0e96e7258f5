"""The articles, chats and feeds as the chat sees them: pages, summaries on demand, search, reload.

Knows nothing of Telegram. Reads go through the store's connection on the caller's thread (the
event loop); CPU work (summarizing, indexing) runs in worker threads, and an index run uses its
own connection so that readers keep answering from the last committed state while it works.
Searches run in worker threads too, each on a connection of its own (a sqlite3 connection is
never used by two threads at once), a few at a time and within a time limit: one person's
search never holds up everyone else's messages.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import chart, index, languages, web
from .config import Settings
from .errors import NewsbotError
from .feeds import FeedResult, PollReport, feed_name_for, poll_all
from .feeds.records import folder_name
from .store import (
    ChatState,
    DatabaseUnusable,
    FeedState,
    Outbox,
    SearchResult,
    Store,
    StoredArticle,
    StoreUnavailable,
    Subscription,
    parse_filter,
)

if TYPE_CHECKING:
    from .chat.i18n import Translator

log = logging.getLogger(__name__)

# The longest summary a person can ask for in chat.
MAX_SENTENCES = 20
# Filters a chat may have, and how long one may be: enough for anyone, bounded for the matcher.
MAX_FILTERS = 20
MAX_FILTER_CHARS = 200
MAX_FEED_NAME = 60
# A saved search (its paging buttons) and a chat's last list are kept this long unused.
QUERY_DAYS = 30
# A search still running after this many seconds is stopped, and the person told to use fewer
# words: the search itself is in a worker thread, but it holds one of SEARCH_THREADS.
SEARCH_SECONDS = 3.0
SEARCH_THREADS = 4


class RefusalReason(StrEnum):
    """Why a request was refused; a str, so that `refused.reason == "bad_url"` holds."""

    NO_ARTICLES = "no_articles"  # no article in that language (detail: the language asked)
    TOO_LONG = "too_long"  # a filter over `limit` characters
    NO_WORDS = "no_words"  # a filter with no word to match
    TOO_MANY = "too_many"  # over `limit` filters in one chat
    BAD_TIME = "bad_time"  # not a time of day
    BAD_ZONE = "bad_zone"  # not an IANA time zone
    BAD_URL = "bad_url"  # a feed URL that cannot be used (detail: why)
    FEED_TAKEN = "feed_taken"  # a feed (or its name) there already (detail: which)


class Refused(NewsbotError, ValueError):
    """A request that cannot be done as asked. `reason` says why, and the chat turns it into
    words; `limit` is the number it mentions, `detail` the text it quotes."""

    def __init__(self, reason: RefusalReason, limit: int = 0, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit
        self.detail = detail


@dataclass(frozen=True)
class Entry:
    """An article in a list: what a headline line needs."""

    id: int
    title: str
    published: datetime
    line: str  # the first sentence of its summary


@dataclass(frozen=True)
class Page:
    entries: tuple[Entry, ...]
    offset: int
    total: int


@dataclass(frozen=True)
class Pick:
    """What `/read N` may open. Lists show article ids, but people also type the place of an
    article in the list they saw: `by_id` is article N (when it exists, or when the chat's
    last list shows it), `by_place` the N-th article of that list (when N is not one of its
    ids). Both set and different: the chat is asked which one it meant."""

    by_id: int | None
    by_place: int | None = None


class News:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._reload_lock = asyncio.Lock()
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
        """Close the store and the search connections."""
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
        return Page(tuple(self.entry(s) for s in items), offset, total)

    def entry(self, stored: StoredArticle) -> Entry:
        summary = self.cached_summary(stored)
        line = summary[0] if summary else (stored.article.paragraphs or ("",))[0]
        return Entry(stored.id, stored.article.title, stored.article.published, line)

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
        """The summary of the wanted length: from the cache, else made now (off the loop)."""
        count = max(1, min(sentences or self.default_sentences, MAX_SENTENCES))
        options = index.summary_options(self.settings, sentences=count)
        key = index.summary_key(stored.article, options)
        cached = self.store.summary(key)
        if cached is not None:
            return cached
        from . import summarize

        result = await asyncio.to_thread(summarize.safe_summarize_job, (stored.article, options))
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
            return Store(self.store.path)

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

    # -- languages ------------------------------------------------------------------------------

    def chat_language(self, chat_id: int) -> str | None:
        chat = self.store.chat(chat_id)
        return chat.language if chat else None

    def languages(self) -> list[tuple[str, int]]:
        return self.store.languages()

    # -- the bot's own language in a chat ---------------------------------------------------

    def ui_language(self, chat_id: int) -> str | None:
        """The language chosen for the bot in this chat with /language, if any."""
        chat = self.store.chat(chat_id)
        return chat.ui_language if chat else None

    def set_ui_language(self, chat_id: int, kind: str, language: str | None) -> None:
        """Choose the bot's language in this chat (None: each person's Telegram language)."""
        self.store.set_ui_language(chat_id, kind, language)

    def note_user_language(self, chat_id: int, language: str) -> None:
        """Who set this chat up writes in this language: deliveries and digests follow it when
        the chat chose none. Only a convenience: a busy database skips it."""
        try:
            self.store.note_user_language(chat_id, language)
        except StoreUnavailable as exc:
            log.warning("chat %s's language not noted: %s", chat_id, exc)

    def delivery_language(self, chat_id: int) -> str | None:
        """What the bot writes in when it writes first (deliveries, digests): the chat's choice,
        else the Telegram language of whoever subscribed it."""
        chat = self.store.chat(chat_id)
        return (chat.ui_language or chat.user_language) if chat else None

    def set_language(self, chat_id: int, kind: str, value: str | None) -> str | None:
        """Narrow the chat's /latest and /search to a language (None: all); Refused
        (no_articles) when no article is in it."""
        if value is None:
            self.store.set_chat_language(chat_id, kind, None)
            return None
        found = languages.code(value)
        if found is None or found not in dict(self.store.languages()):
            raise Refused(RefusalReason.NO_ARTICLES, detail=value)
        self.store.set_chat_language(chat_id, kind, found)
        return found

    # -- pictures -------------------------------------------------------------------------------

    def pictures(self, chat_id: int) -> bool:
        """Whether articles sent to the chat show their lead image as the message's preview:
        unless [telegram] pictures is false, or the chat turned them off (/pictures off)."""
        return self.settings.telegram.pictures and self.chat_pictures(chat_id)

    def chat_pictures(self, chat_id: int) -> bool:
        """The chat's own choice (on unless it sent /pictures off), whatever the setting."""
        chat = self.store.chat(chat_id)
        return chat.pictures if chat else True

    def set_pictures(self, chat_id: int, kind: str, on: bool) -> None:
        self.store.set_chat_pictures(chat_id, kind, on)

    def remember_query(self, chat_id: int, text: str) -> int:
        """A short id for a search's paging buttons, good in this chat only."""
        return self.store.remember_query(chat_id, text)

    def query_text(self, query_id: int, chat_id: int) -> str | None:
        """The query behind a paging button, if this chat saved it (else None)."""
        return self.store.query_text(query_id, chat_id)

    def forget_old_queries(self, now: float) -> int:
        """Daily: saved searches and shown lists unused for QUERY_DAYS go (a chat's history is
        not kept for ever, and the tables stop growing); returns how many rows went."""
        return self.store.forget_before(now - QUERY_DAYS * 86400)

    def remember_list(self, chat_id: int, article_ids: list[int]) -> None:
        """The list of articles this chat was just shown, for `/read <place>` (pick). Only a
        convenience: when the database is busy it is skipped, and the list is answered."""
        try:
            self.store.remember_list(chat_id, article_ids)
        except StoreUnavailable as exc:
            log.warning("the list shown to chat %s was not kept: %s", chat_id, exc)

    def pick(self, chat_id: int, number: int) -> Pick:
        """What `/read number` may mean in this chat (see Pick)."""
        shown = self.store.shown_list(chat_id)
        if number in shown:
            return Pick(by_id=number)
        by_place = shown[number - 1] if 1 <= number <= len(shown) else None
        by_id = number if by_place is None or self.get(number) is not None else None
        return Pick(by_id=by_id, by_place=by_place)

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe(self, chat_id: int, kind: str, words: str) -> bool:
        """Subscribe a chat to all news (no words) or to articles matching the words.

        Returns False when the chat had that filter already; raises Refused for a filter that
        can never match or one too many.
        """
        words = " ".join(words.split())
        if len(words) > MAX_FILTER_CHARS:
            raise Refused(RefusalReason.TOO_LONG, MAX_FILTER_CHARS)
        if words and parse_filter(words) is None:
            raise Refused(RefusalReason.NO_WORDS)
        existing = self.store.subscriptions(chat_id)
        if len(existing) >= MAX_FILTERS and words not in {s.query for s in existing}:
            raise Refused(RefusalReason.TOO_MANY, MAX_FILTERS)
        return self.store.subscribe(chat_id, kind, words)

    def subscriptions(self, chat_id: int) -> list[Subscription]:
        return self.store.subscriptions(chat_id)

    def unsubscribe(self, chat_id: int, words: str | None) -> int:
        """Remove the filter with these words, or every filter (None or 'all')."""
        if words is None or words.strip().lower() == "all":
            return self.store.unsubscribe(chat_id)
        return self.store.unsubscribe(chat_id, query=" ".join(words.split()))

    def unsubscribe_id(self, chat_id: int, subscription_id: int) -> int:
        return self.store.unsubscribe(chat_id, sub_id=subscription_id)

    def chat(self, chat_id: int) -> ChatState | None:
        return self.store.chat(chat_id)

    def digest_chats(self) -> list[ChatState]:
        """The chats that take a daily digest (their jobs are scheduled at start)."""
        return self.store.digest_chats()

    def chat_gone(self, chat_id: int, reason: str) -> None:
        """The bot was blocked or removed from the chat: its deliveries stop."""
        self.store.deactivate_chat(chat_id, reason)

    def chat_moved(self, old: int, new: int) -> None:
        """A group became a supergroup with a new id: its filters and deliveries move."""
        self.store.migrate_chat(old, new)

    def chat_back(self, chat_id: int) -> None:
        """The bot is in the chat again: its deliveries resume."""
        self.store.activate_chat(chat_id)

    def set_digest(self, chat_id: int, kind: str, when: str) -> str | None:
        """'HH:MM' for a daily digest, 'off' for one message per article; returns the time."""
        text = when.strip().lower()
        if text in {"off", "stop", "none"}:
            self.store.set_digest(chat_id, kind, None)
            return None
        match = re.fullmatch(r"([01]?\d|2[0-3])[:.h]([0-5]\d)", text)
        if not match:
            raise Refused(RefusalReason.BAD_TIME)
        at = f"{int(match[1]):02}:{match[2]}"
        self.store.set_digest(chat_id, kind, at)
        return at

    def set_timezone(self, chat_id: int, kind: str, name: str) -> str:
        zone = zone_named(name)
        self.store.set_timezone(chat_id, kind, zone.key)
        return zone.key

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
        """Run the index operation in a worker thread; one at a time."""
        async with self._reload_lock:
            return await asyncio.to_thread(self._index)

    def _index(self) -> index.Report:
        # Where the bot's database was removed, opening the path would make a new, empty one.
        self.store.check_file()
        with Store(self.settings.database) as own:
            return index.run(self.settings, own)

    async def warm_up(self) -> None:
        """Import sumy and nltk now, so that the first 'More' press does not wait for them."""
        await asyncio.to_thread(_load_summarizer, self.settings.summary.language)


def zone_named(name: str) -> ZoneInfo:
    """An IANA time zone ('Europe/Berlin', 'UTC'), or Refused."""
    name = name.strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}", name):
        raise Refused(RefusalReason.BAD_ZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Refused(RefusalReason.BAD_ZONE) from None


def digest_due(chat: ChatState, now: float) -> bool:
    """Has the chat's digest time passed since its last digest? (Catches up after downtime.)"""
    if not chat.digest_time:
        return False
    zone = zone_named(chat.timezone)
    hours, minutes = (int(part) for part in chat.digest_time.split(":"))
    local_now = datetime.fromtimestamp(now, tz=UTC).astimezone(zone)
    latest = local_now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if latest > local_now:
        latest -= timedelta(days=1)
    return (chat.last_digest_at or 0) < latest.timestamp()


def _load_summarizer(language: str) -> None:
    from . import summarize

    summarize.tools(language)
