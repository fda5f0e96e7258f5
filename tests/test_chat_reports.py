"""What the admin commands show (bot/chat/reports.py), in the admin's language."""

from __future__ import annotations

from bot.chat import reports
from bot.chat.i18n import translator
from bot.store import FeedState

NOW = 1_800_000_000.0


def feed(name: str, entries: int, *, read_ago: float, failures: int = 0) -> FeedState:
    return FeedState(
        name=name,
        url=f"https://example.org/{name}.xml",
        tags=(),
        origin="chat",
        active=True,
        etag=None,
        last_modified=None,
        failures=failures,
        total_failures=failures,
        next_poll=NOW + 5 * 60,
        last_error="HTTP 500" if failures else None,
        last_error_at=NOW if failures else None,
        last_ok_at=NOW - read_ago,
        entries=entries,
    )


def test_feeds_counts_and_times_take_each_languages_plural_forms() -> None:
    feeds = [
        feed("one", 1, read_ago=60),
        feed("few", 2, read_ago=2 * 3600),
        feed("many", 5, read_ago=5 * 86400),
        feed("broken", 21, read_ago=30, failures=3),
    ]
    english = reports.feeds_message(translator("en"), feeds, NOW)
    assert "✅ 1 entry taken; last read 1 min ago" in english
    assert "✅ 2 entries taken; last read 2 h ago" in english
    assert "✅ 5 entries taken; last read 5 days ago" in english
    assert "⚠️ 3 failures in a row: HTTP 500; next try in 5 min" in english
    russian = reports.feeds_message(translator("ru"), feeds, NOW)
    assert "1 запись" in russian and "2 записи" in russian and "5 записей" in russian
    assert "5 дней назад" in russian or "5 дн" in russian
    assert "ago" not in russian and "entries" not in russian
