"""A checker for Telegram's HTML parse mode, for tests: the tags it allows, nested and closed,
and no raw '<' or '&' outside entities."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
    "span",
}
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.problems.append(f"tag <{tag}> is not allowed")
        if tag == "a" and not dict(attrs).get("href"):
            self.problems.append("<a> without href")
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self.problems.append("<span> other than class=tg-spoiler")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close {self.stack[-1:] or 'anything'}")
        else:
            self.stack.pop()


def problems(text: str) -> list[str]:
    """What Telegram would reject in `text` as HTML ([] when it is fine)."""
    found = []
    without_tags = re.sub(r"</?[a-z-]+(?:\s+[a-z-]+=\"[^\"]*\")*\s*>", "", text)
    if "<" in without_tags or ">" in without_tags:
        found.append("a raw < or > outside a tag")
    if "&" in _ENTITY.sub("", without_tags):
        found.append("a raw & outside an entity")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    found += checker.problems
    if checker.stack:
        found.append(f"unclosed tags {checker.stack}")
    return found


def assert_valid(text: str) -> None:
    assert text.strip(), "an empty message"
    assert len(text) <= 4096, f"{len(text)} characters"
    assert not problems(text), (problems(text), text)
