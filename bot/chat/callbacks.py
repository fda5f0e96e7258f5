"""Every kind of button, defined once: its prefix, how its callback_data is made, the pattern
its handler answers to, and how the data is read back.

Callback data (all ASCII, at most 64 bytes as Telegram allows; `<a>:<b>` are whole numbers):
    lt:<offset>:<size>      a page of /latest
    rd:<id>:<sentences>     an article card with a summary of that length (0: the default)
    ft:<id>:<page>          a page of an article's full text
    sr:<query id>:<offset>  a page of search results (the query itself is kept in the store)
    us:<subscription id>:0  remove that filter (under /subscriptions)

A button whose data matches no pattern (from an older version of the bot, or made up) falls
through to the stale-button answer. /start's deep link `read_<id>` (from inline results) is
here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLBACK_DATA = 64


@dataclass(frozen=True)
class Kind:
    """One kind of button: `prefix:<first>:<second>`, each number at most so many digits
    (`second` 0 digits: always 0)."""

    prefix: str
    first_digits: int
    second_digits: int

    @property
    def pattern(self) -> str:
        """The regular expression a CallbackQueryHandler for this kind is given."""
        second = rf"\d{{1,{self.second_digits}}}" if self.second_digits else "0"
        return rf"^{self.prefix}:\d{{1,{self.first_digits}}}:{second}$"

    def data(self, first: int, second: int = 0) -> str:
        """The callback_data of a button of this kind."""
        return f"{self.prefix}:{first}:{second}"

    def parse(self, data: object) -> tuple[int, int]:
        """The two numbers of the data (the handler's pattern guarantees the shape)."""
        prefix, first, second = str(data).split(":")
        if prefix != self.prefix:
            raise ValueError(f"not a {self.prefix}: button: {data!r}")
        return int(first), int(second)

    def matches(self, data: object) -> bool:
        return isinstance(data, str) and re.fullmatch(self.pattern, data) is not None


LATEST = Kind("lt", 9, 3)
READ = Kind("rd", 18, 3)
FULL_TEXT = Kind("ft", 18, 5)
SEARCH = Kind("sr", 18, 9)
UNSUBSCRIBE = Kind("us", 18, 0)
KINDS = (LATEST, READ, FULL_TEXT, SEARCH, UNSUBSCRIBE)

# /start's payload that opens an article (https://t.me/<bot>?start=read_<id>).
_START_READ = re.compile(r"read_(\d{1,18})")


def start_read_link(username: str, article_id: int) -> str:
    """The deep link that opens an article in a private chat with the bot."""
    return f"https://t.me/{username}?start=read_{article_id}"


def start_read_id(payload: str) -> int | None:
    """The article a /start payload asks for, else None."""
    match = _START_READ.fullmatch(payload)
    return int(match[1]) if match else None
