"""Feed lists (OPML) in and out of News: an import adds each feed of a list and reads the new
ones once; an export writes the feeds read. Knows nothing of Telegram; the chat's handler and
`python -m bot feeds` both call these.

An import adds every feed first (one already read is named, not added twice; a name another
feed has gets a number), then reads the new ones IMPORT_AT_ONCE at a time, within one poll's
time (poll_seconds + timeout_seconds): a feed not read by then is read at the next poll. What
became of each feed is read back from the store, so a feed cut off by that bound is reported
as waiting, not lost. A feed whose first read fails stays, like one added with /addfeed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from . import index, opml, web
from .feeds import feed_name_for
from .news import MAX_FEED_NAME, News, RefusalReason, Refused
from .store.feeds import NAME_TAKEN

log = logging.getLogger(__name__)

# Feeds an import reads at the same time; the rest wait for their turn (within its time bound):
# 500 at once overran the connection pool, and most timed out waiting for it.
IMPORT_AT_ONCE = 50

Indexed = Callable[[index.Report], Awaitable[None]]


@dataclass(frozen=True)
class Failure:
    name: str
    reason: str
    kept: bool  # added, and tried again at the next polls (else refused, not added)


@dataclass
class ImportReport:
    """What an import did with each feed of a list."""

    added: list[tuple[str, int | None]] = field(default_factory=list)  # name, new articles
    # (None: not read yet; the next poll reads it)
    present: list[tuple[str, str]] = field(default_factory=list)  # title, why (the feed there)
    failed: list[Failure] = field(default_factory=list)
    problems: tuple[str, ...] = ()  # from reading the file

    @property
    def ok(self) -> bool:
        return not self.failed


def export_list(news: News) -> bytes:
    """The feeds read, as an OPML file (their tags as categories)."""
    feeds = [opml.Outline(f.name, f.url, f.tags) for f in news.feeds()]
    return opml.write(feeds, title="newsbot feeds")


async def import_list(
    news: News, parsed: opml.Parsed, *, indexed: Indexed | None = None
) -> ImportReport:
    """Add each feed of a list and read the new ones once; `indexed` hears of each index run
    that their articles make (to deliver them at once)."""
    report = ImportReport(problems=parsed.problems)
    added: list[str] = []
    for outline in parsed.feeds:
        label = outline.title or outline.url
        try:
            added.append(_add(news, outline))
        except Refused as refused:
            if refused.reason == RefusalReason.FEED_TAKEN:
                report.present.append((label, refused.detail))
            else:
                report.failed.append(Failure(label, refused.detail, kept=False))
    if added:
        await _read(news, added, indexed)
    states = {f.name: f for f in news.feeds()}
    for name in added:
        state = states.get(name)
        if state is not None and state.failures:
            report.failed.append(Failure(name, state.last_error or "?", kept=True))
        elif state is not None:
            report.added.append((name, state.entries if state.last_ok_at else None))
    return report


async def _read(news: News, names: list[str], indexed: Indexed | None) -> None:
    """Read the new feeds once, IMPORT_AT_ONCE at a time, all within one poll's time."""
    bound = news.settings.feeds.poll_seconds + news.settings.feeds.timeout_seconds
    deadline = time.monotonic() + bound
    for start in range(0, len(names), IMPORT_AT_ONCE):
        batch = names[start : start + IMPORT_AT_ONCE]
        try:
            left = deadline - time.monotonic()
            await asyncio.wait_for(news.poll_feeds(only=batch, indexed=indexed), left)
        except TimeoutError:
            log.warning("import: %d feeds left for the next poll", len(names) - start)
            return


def _add(news: News, outline: opml.Outline) -> str:
    """Add one feed of a list; a name taken by another feed gets a number: "News (2)"."""
    try:
        base = " ".join((outline.title or feed_name_for(outline.url)).split())
    except web.FetchError as exc:  # no title, and no host to name it after
        raise Refused(RefusalReason.BAD_URL, detail=str(exc)) from None
    name = base
    for number in range(2, 10):
        try:
            return news.add_feed(outline.url, name, outline.categories)
        except Refused as refused:
            if refused.detail != NAME_TAKEN:
                raise
        suffix = f" ({number})"
        name = base[: MAX_FEED_NAME - len(suffix)] + suffix
    raise Refused(RefusalReason.FEED_TAKEN, detail=NAME_TAKEN)
