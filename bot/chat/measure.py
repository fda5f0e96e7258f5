"""Text as Telegram measures it: HTML-escaped, counted in UTF-16 code units (an emoji is two),
at most MAX_MESSAGE of them in a message."""

from __future__ import annotations

import html

# Telegram's limit, in UTF-16 code units; text is measured after HTML escaping, which counts
# tags and entities too (Telegram counts the text they stand for): never over, sometimes under.
MAX_MESSAGE = 4096


def esc(text: str) -> str:
    """Escape text for Telegram HTML (&, <, > in text; quotes too, for attributes)."""
    return html.escape(text, quote=True)


def units(text: str) -> int:
    """The length Telegram measures: UTF-16 code units (a character beyond U+FFFF is two)."""
    return len(text.encode("utf-16-le")) // 2
