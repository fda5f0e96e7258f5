"""A checker for Telegram's HTML parse mode, for tests (the fake Bot API's parser, which
refuses what Telegram refuses: other tags, bad nesting, raw '<', stray '&')."""

from __future__ import annotations

from .fake_bot_api import telegram_html_problems as problems


def assert_valid(text: str) -> None:
    """Sendable: not empty, at most 4096 UTF-16 code units (as Telegram counts), valid HTML."""
    assert text.strip(), "an empty message"
    size = len(text.encode("utf-16-le")) // 2
    assert size <= 4096, f"{size} UTF-16 code units"
    assert not problems(text), (problems(text), text)
