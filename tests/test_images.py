"""Lead image addresses: what Telegram may be given as a message's preview, and what is dropped.
Where each source keeps its picture is tested with its reader: tests/test_articles.py (front
matter, JSON), tests/test_extract.py (pages), tests/test_feeds.py and tests/test_feeds_corpus.py
(feed entries)."""

from __future__ import annotations

import pytest

from bot.images import MAX_IMAGE_URL, image_url


@pytest.mark.parametrize(
    "value",
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "ftp://files.example/p.jpg",
        "/relative/p.jpg",
        "https://",
        "https://exa mple.org/p.jpg",
        "https://example.org/p.jpg\u202e",
        "https://example.org/p\x00.jpg",
        "https://[::1/p.jpg",
        "https://example.org:port/p.jpg",
        "https://example.org/" + "x" * MAX_IMAGE_URL,
        "",
        42,
        None,
    ],
)
def test_an_image_that_telegram_should_not_fetch_is_dropped(value: object) -> None:
    assert image_url(value) is None


def test_image_addresses_keep_their_query_and_take_https_for_a_scheme_relative_one() -> None:
    assert image_url("https://i.example/p.jpg?w=700&q=85") == "https://i.example/p.jpg?w=700&q=85"
    assert image_url("//cdn.example/p.jpg") == "https://cdn.example/p.jpg"
    assert image_url("p.jpg", "http://site.example/a/b") == "http://site.example/a/p.jpg"


def test_a_relative_address_is_checked_again_once_resolved() -> None:
    long_base = "https://site.example/" + "section/" * 130  # over the limit once joined
    assert image_url("p.jpg", long_base) is None
    assert image_url("/p.jpg", long_base) == "https://site.example/p.jpg"
