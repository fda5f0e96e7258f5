"""What the admin commands show: /stats, the /reload report and /feeds, as Telegram HTML that
fits one message (see render.py for the rules)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from ..articles import shorten
from ..feed_lists import ImportReport
from ..index import Report
from ..store import DIGEST, DROPPED, FAILED, QUEUED, SENDING, SENT, FeedState
from . import texts
from .i18n import Translator
from .render import esc, fit

# The failed files a reload report names one by one; the rest are counted.
REPORT_FAILURES = 20
# The feeds an import report names in each part (failed, added, already there); the rest are
# counted, and whatever does not fit one message is cut.
REPORT_FEEDS = 25


def stats_message(tr: Translator, numbers: Mapping[str, object]) -> str:
    """/stats: articles, subscribed chats, deliveries, the last reload, failing feeds."""
    deliveries = numbers["deliveries"]
    assert isinstance(deliveries, dict)
    text = tr.format(
        texts.STATS,
        articles=numbers["articles"],
        chats=numbers["chats"],
        sent=deliveries.get(SENT, 0),
        queued=deliveries.get(QUEUED, 0) + deliveries.get(SENDING, 0),
        held=deliveries.get(DIGEST, 0),
        failed=deliveries.get(FAILED, 0),
        dropped=deliveries.get(DROPPED, 0),
        last_reload=_last_reload(tr, numbers["last_reload"]),
    )
    feeds = numbers["feeds"]
    assert isinstance(feeds, list)
    return fit(text + _stats_feeds(tr, feeds))


def _last_reload(tr: Translator, last: object) -> str:
    if not isinstance(last, tuple):
        return tr(texts.STATS_NEVER)
    when, report = last
    return tr.format(
        texts.STATS_LAST_RELOAD,
        when=when,
        added=report.get("added", 0),
        updated=report.get("updated", 0),
        removed=report.get("removed", 0),
    )


def _stats_feeds(tr: Translator, feeds: Sequence[FeedState]) -> str:
    if not feeds:
        return ""
    failing = [f for f in feeds if f.failures]
    text = tr.format(texts.STATS_FEEDS, count=len(feeds), failing=len(failing))
    for feed in feeds:
        if feed.failures:
            text += tr.format(
                texts.STATS_FEED_FAILING,
                count=feed.failures,
                name=esc(feed.name),
                error=esc(feed.last_error or "?"),
            )
        elif feed.last_error:
            text += tr.format(
                texts.STATS_FEED_NOTE, name=esc(feed.name), error=esc(feed.last_error)
            )
    return text


def reload_message(tr: Translator, report: Report) -> str:
    """/reload's answer: what changed, and the files that could not be read."""
    lines = [
        tr.format(
            texts.RELOAD_REPORT,
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
            tr.format(texts.RELOAD_FAILED_LINE, path=esc(failure.path), error=esc(failure.error))
        )
    if len(report.failed) > REPORT_FAILURES:
        lines.append(
            tr.format(texts.RELOAD_MORE_FAILED, count=len(report.failed) - REPORT_FAILURES)
        )
    return fit("\n".join(lines))


def feeds_message(tr: Translator, feeds: Sequence[FeedState], now: float | None = None) -> str:
    """/feeds: every feed with its state; the newest problem of each."""
    if not feeds:
        return tr(texts.FEEDS_NONE)
    now = time.time() if now is None else now
    parts = [tr.format(texts.FEEDS_TITLE, count=len(feeds))]
    for feed in feeds:
        if feed.failures:
            status = tr.format(
                texts.FEED_FAILING,
                count=feed.failures,
                error=esc(feed.last_error or "?"),
                next=_moment(tr, feed.next_poll, now),
            )
        elif feed.last_ok_at is None:
            status = tr(texts.FEED_NEVER)
        else:
            status = tr.format(
                texts.FEED_OK, count=feed.entries, when=_moment(tr, feed.last_ok_at, now)
            )
            if feed.last_error and (feed.last_error_at or 0) > feed.last_ok_at - 1:
                status += tr.format(texts.FEED_NOTE, error=esc(feed.last_error))
        parts.append(
            tr.format(texts.FEED_LINE, name=esc(feed.name), url=esc(feed.url), status=status)
        )
    return fit("".join(parts))


def _moment(tr: Translator, when: float, now: float) -> str:
    """'in 12 min', '3 h ago': how far a moment is from now, in the largest whole unit."""
    delta = when - now
    seconds = abs(delta)
    if seconds < 60:
        return tr(texts.MOMENT_NOW if delta >= 0 else texts.MOMENT_JUST_NOW)
    if seconds < 3600:
        count, future, past = seconds // 60, texts.MOMENT_IN_MINUTES, texts.MOMENT_MINUTES_AGO
    elif seconds < 86400:
        count, future, past = seconds // 3600, texts.MOMENT_IN_HOURS, texts.MOMENT_HOURS_AGO
    else:
        count, future, past = seconds // 86400, texts.MOMENT_IN_DAYS, texts.MOMENT_DAYS_AGO
    return tr.format(future if delta > 0 else past, count=int(count))


def import_message(tr: Translator, report: ImportReport, name: str) -> str:
    """An OPML import's report: the counts, then the failed feeds with their reasons, the
    added ones, those already there, and what was wrong with the file."""
    lines = [
        tr.format(
            texts.OPML_REPORT,
            name=esc(name),
            added=len(report.added),
            present=len(report.present),
            failed=len(report.failed),
        )
    ]
    failed = [
        tr.format(texts.OPML_FAILED_LINE, name=esc(f.name), reason=esc(shorten(f.reason, 200)))
        for f in report.failed
    ]
    added = [
        tr.format(texts.OPML_ADDED_WAITING, name=esc(feed))
        if new is None
        else tr.format(texts.OPML_ADDED_LINE, count=new, name=esc(feed))
        for feed, new in report.added
    ]
    present = [
        tr.format(texts.OPML_PRESENT_LINE, name=esc(shorten(title, 100)), why=esc(why))
        for title, why in report.present
    ]
    notes = [tr.format(texts.OPML_NOTE_LINE, note=esc(shorten(n, 200))) for n in report.problems]
    kept = [tr(texts.OPML_FAILED_KEPT)] if any(f.kept for f in report.failed) else []
    for heading, part, foot in (
        (tr(texts.OPML_FAILED), failed, kept),
        (tr(texts.OPML_ADDED), added, []),
        (tr(texts.OPML_PRESENT), present, []),
        (tr(texts.OPML_NOTES), notes, []),
    ):
        if part:
            lines.append(heading)
            lines.extend(part[:REPORT_FEEDS])
            if len(part) > REPORT_FEEDS:
                lines.append(tr.format(texts.OPML_MORE, count=len(part) - REPORT_FEEDS))
            lines.extend(foot)
    return fit("\n".join(lines))
