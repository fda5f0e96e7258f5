"""A checker for Telegram's HTML parse mode, for tests (the fake Bot API's parser, which
refuses what Telegram refuses: other tags, bad nesting, raw '<', stray '&')."""

from __future__ import annotations

from .fake_bot_api import telegram_html_problems as problems


def assert_valid(text: str) -> None:
    assert text.strip(), "an empty message"
    assert len(text) <= 4096, f"{len(text)} characters"
    assert not problems(text), (problems(text), text)
