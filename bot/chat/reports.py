"""What the admin commands show: /stats, the /reload report and /feeds, as Telegram HTML that
fits one message (see render.py for the rules)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from ..index import Report
from ..store import DIGEST, DROPPED, FAILED, QUEUED, SENDING, SENT, FeedState
from . import texts
from .render import esc, fit

# The failed files a reload report names one by one; the rest are counted.
REPORT_FAILURES = 20


def stats_message(numbers: Mapping[str, object]) -> str:
    """/stats: articles, subscribed chats, deliveries, the last reload, failing feeds."""
    deliveries = numbers["deliveries"]
    assert isinstance(deliveries, dict)
    text = texts.STATS.format(
        articles=numbers["articles"],
        chats=numbers["chats"],
        sent=deliveries.get(SENT, 0),
        queued=deliveries.get(QUEUED, 0) + deliveries.get(SENDING, 0),
        held=deliveries.get(DIGEST, 0),
        failed=deliveries.get(FAILED, 0),
        dropped=deliveries.get(DROPPED, 0),
        last_reload=_last_reload(numbers["last_reload"]),
    )
    feeds = numbers["feeds"]
    assert isinstance(feeds, list)
    return fit(text + _stats_feeds(feeds))


def _last_reload(last: object) -> str:
    if not isinstance(last, tuple):
        return texts.STATS_NEVER
    when, report = last
    return texts.STATS_LAST_RELOAD.format(
        when=when,
        added=report.get("added", 0),
        updated=report.get("updated", 0),
        removed=report.get("removed", 0),
    )


def _stats_feeds(feeds: Sequence[FeedState]) -> str:
    if not feeds:
        return ""
    failing = [f for f in feeds if f.failures]
    text = texts.STATS_FEEDS.format(count=len(feeds), failing=len(failing))
    for feed in feeds:
        if feed.failures:
            text += texts.STATS_FEED_FAILING.format(
                feed.failures, name=esc(feed.name), error=esc(feed.last_error or "?")
            )
        elif feed.last_error:
            text += texts.STATS_FEED_NOTE.format(name=esc(feed.name), error=esc(feed.last_error))
    return text


def reload_message(report: Report) -> str:
    """/reload's answer: what changed, and the files that could not be read."""
    lines = [
        texts.RELOAD_REPORT.format(
            queued=report.queued,
            seconds=report.seconds,
            added=report.added,
            updated=report.updated,
            removed=report.removed,
            unchanged=report.unchanged,
            failed=len(report.failed),
        )
    ]
    for failure in report.failed[:REPORT_FAILURES]:
        lines.append(
            texts.RELOAD_FAILED_LINE.format(path=esc(failure.path), error=esc(failure.error))
        )
    if len(report.failed) > REPORT_FAILURES:
        lines.append(texts.RELOAD_MORE_FAILED.format(count=len(report.failed) - REPORT_FAILURES))
    return fit("\n".join(lines))


def feeds_message(feeds: Sequence[FeedState], now: float | None = None) -> str:
    """/feeds: every feed with its state; the newest problem of each."""
    if not feeds:
        return texts.FEEDS_NONE
    now = time.time() if now is None else now
    parts = [texts.FEEDS_TITLE.format(count=len(feeds))]
    for feed in feeds:
        if feed.failures:
            status = texts.FEED_FAILING.format(
                feed.failures,
                error=esc(feed.last_error or "?"),
                next=_moment(feed.next_poll, now),
            )
        elif feed.last_ok_at is None:
            status = texts.FEED_NEVER
        else:
            status = texts.FEED_OK.format(feed.entries, when=_moment(feed.last_ok_at, now))
            if feed.last_error and (feed.last_error_at or 0) > feed.last_ok_at - 1:
                status += texts.FEED_NOTE.format(error=esc(feed.last_error))
        parts.append(texts.FEED_LINE.format(name=esc(feed.name), url=esc(feed.url), status=status))
    return fit("".join(parts))


def _moment(when: float, now: float) -> str:
    """'in 12 min', '3 h ago': how far a moment is from now, in the largest whole unit."""
    delta = when - now
    seconds = abs(delta)
    if seconds < 60:
        amount = "under a minute"
    elif seconds < 3600:
        amount = f"{seconds // 60:.0f} min"
    elif seconds < 86400:
        amount = f"{seconds // 3600:.0f} h"
    else:
        amount = f"{seconds // 86400:.0f} days"
    if seconds < 60:
        return "now" if delta >= 0 else "just now"
    return f"in {amount}" if delta > 0 else f"{amount} ago"
