"""The article library as the chat sees it: pages of articles, summaries on demand, search, reload.

Knows nothing of Telegram. Reads go through the store's connection on the caller's thread (the
event loop); CPU work (summarizing, indexing) runs in worker threads, and an index run uses its
own connection so that readers keep answering from the last committed state while it works.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from . import library
from .config import Settings
from .store import SearchResult, Store, StoredArticle

log = logging.getLogger(__name__)

# The longest summary a person can ask for in chat.
MAX_SENTENCES = 20


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


class News:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._reload_lock = asyncio.Lock()

    @property
    def default_sentences(self) -> int:
        return self.settings.summary.sentences

    def count(self) -> int:
        return self.store.count()

    def latest(self, *, offset: int = 0, limit: int = 5) -> Page:
        total = self.store.count()
        offset = max(0, min(offset, max(total - 1, 0)))
        items = self.store.latest(limit, offset)
        return Page(tuple(self.entry(s) for s in items), offset, total)

    def entry(self, stored: StoredArticle) -> Entry:
        summary = self.cached_summary(stored)
        line = summary[0] if summary else (stored.article.paragraphs or ("",))[0]
        return Entry(stored.id, stored.article.title, stored.article.published, line)

    def get(self, article_id: int) -> StoredArticle | None:
        return self.store.get(article_id)

    def cached_summary(self, stored: StoredArticle, sentences: int | None = None) -> list[str]:
        options = library.summary_options(
            self.settings, sentences=sentences or self.default_sentences
        )
        return self.store.summary(library.summary_key(stored.article, options)) or []

    async def summary(self, stored: StoredArticle, sentences: int | None = None) -> list[str]:
        """The summary of the wanted length: from the cache, else made now (off the loop)."""
        count = max(1, min(sentences or self.default_sentences, MAX_SENTENCES))
        options = library.summary_options(self.settings, sentences=count)
        key = library.summary_key(stored.article, options)
        cached = self.store.summary(key)
        if cached is not None:
            return cached
        from . import summarize

        result = await asyncio.to_thread(summarize.safe_summarize_job, (stored.article, options))
        self.store.put_summaries([(key, result)])
        return result

    def search(self, text: str, *, offset: int = 0, limit: int = 5) -> SearchResult:
        return self.store.search(text, limit=limit, offset=max(0, offset))

    def remember_query(self, text: str) -> int:
        return self.store.remember_query(text)

    def query_text(self, query_id: int) -> str | None:
        return self.store.query_text(query_id)

    async def reload(self) -> library.Report:
        """Run the index operation in a worker thread; one at a time."""
        async with self._reload_lock:
            return await asyncio.to_thread(self._index)

    def _index(self) -> library.Report:
        with Store(self.settings.database) as own:
            return library.index(self.settings, own)

    async def warm_up(self) -> None:
        """Import sumy and nltk now, so that the first 'More' press does not wait for them."""
        await asyncio.to_thread(_load_summarizer, self.settings.summary.language)


def _load_summarizer(language: str) -> None:
    from . import summarize

    summarize.tools(language)
