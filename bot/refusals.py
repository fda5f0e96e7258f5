"""Why a chat request cannot be done as asked: Refused, with its reason as an Enum the chat turns
into words (bot.news and bot.chat_choices raise it; the handlers answer it)."""

from __future__ import annotations

from enum import StrEnum

from .errors import NewsbotError


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
