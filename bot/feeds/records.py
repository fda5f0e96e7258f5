"""An entry made an article record, checked as the index will read it, and written.

The entry's own content when it is the whole article, else the page it links to (through
extract.page), else the feed's text when it has a real sentence or more. A record the index
could not read is rejected, never written; a file is written whole or not at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .. import articles, extract, web
from ..config import Settings
from ..errors import NewsbotError
from ..store import FeedState
from .entries import Entry, clean

# The feed's own text stands in for a page that cannot be had when it holds at least this many
# words besides the title (a real sentence, not a teaser such as "Read more").
MIN_TEXT_WORDS = 8
# One "word" per two characters of Chinese or Japanese, which put no spaces between words.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class EntryRejected(NewsbotError):
    """An entry that will never make an article (tried no more); str() says why."""


async def article(
    settings: Settings,
    client: httpx.AsyncClient,
    limits: web.Limits,
    feed: FeedState,
    entry: Entry,
    language: str | None,
    *,
    own_page: bool,
) -> tuple[dict[str, Any], str | None]:
    """The JSON record for an entry, and a note when its page failed and the feed's text stood
    in. Its own content when whole, else its page's main text, else the feed's text when there
    is enough of it. FetchError or ExtractionError: try again later; EntryRejected: never."""
    blocks = _own_text(entry)
    words = _words(blocks, "" if entry.headline_from_text else entry.title)
    title, url, published, author = entry.title, entry.link, entry.published, entry.author
    image = entry.image
    note = None
    if entry.link and own_page and words < settings.feeds.full_text_words:
        try:
            page = await _page(client, limits, entry.link)
        except (web.FetchError, extract.ExtractionError) as exc:
            if words < MIN_TEXT_WORDS:
                raise
            note = f"its page failed ({exc}); the feed's own text is used"
        else:
            # The page's og:image is the picture its site chose to show with it: the first pick.
            image = page.image or image
            if _words(list(page.blocks), page.title) >= words:
                blocks = [(clean(text), heading) for text, heading in page.blocks]
                title = title or page.title
                url = page.url or url
                published = published or page.published
                author = author or page.author
                language = page.language or language
            else:
                note = "its page has less text than the feed; the feed's own text is used"
    elif words < MIN_TEXT_WORDS:
        raise EntryRejected(_too_little(words, entry))
    if not own_page:
        url = None  # not the entry's page: as its URL it would make one story of them all
    return {
        "id": entry.key,
        "title": title or blocks[0][0],
        "text": "\n\n".join(text for text, _ in blocks),
        "date": (published or datetime.now(UTC)).isoformat(),
        "url": url,
        "tags": list(dict.fromkeys([*feed.tags, *entry.tags])),
        "author": author,
        "source": feed.name,
        "language": language,
        "image": image,
    }, note


async def _page(client: httpx.AsyncClient, limits: web.Limits, link: str) -> extract.Page:
    fetched = await web.fetch(client, link, limits)
    if fetched is None:  # 304 without a validator sent: a broken server
        raise web.FetchError("HTTP 304 for a page never fetched")
    return await asyncio.to_thread(extract.page, fetched.body, fetched.url)


def _own_text(entry: Entry) -> list[tuple[str, bool]]:
    """The entry's text as the feed carries it: its content, else its summary."""
    blocks = extract.fragment(entry.content) or extract.fragment(entry.summary)
    return [(text, heading) for text, heading in ((clean(t), h) for t, h in blocks) if text]


def _words(blocks: list[tuple[str, bool]], title: str) -> int:
    """Words of body text, the title aside (many feeds repeat it as the first paragraph)."""
    same = _folded(title)
    count = 0
    for text, heading in blocks:
        if heading or _folded(text) == same:
            continue
        count += len(text.split()) + len(_CJK.findall(text)) // 2
    return count


def _folded(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?…。！？:")


def _too_little(words: int, entry: Entry) -> str:
    """Why an entry with no page to fetch has too little text to be an article."""
    if not words:
        return "only a title, no text" if entry.title else "no text"
    where = "no link to its page" if not entry.link else "a link shared with other entries"
    return f"too little text ({words} word{'s' if words > 1 else ''}) and {where}"


def check_readable(settings: Settings, record: dict[str, Any]) -> None:
    """Write only what the index will read: a file it rejects would fail at every /reload."""
    data = json.dumps(record, ensure_ascii=False).encode("utf-8")
    try:
        articles.parse_bytes(
            data,
            source=str(record["source"]),
            suffix=".json",
            boilerplate=settings.boilerplate,
            mtime=datetime.now(UTC),
        )
    except articles.ArticleError as exc:
        raise EntryRejected(f"not readable as an article ({exc})") from None


def write(folder: Path, feed_name: str, key: str, record: dict[str, Any]) -> Path:
    """One file per entry, written whole or not at all (a reader never sees half a file)."""
    directory = folder / folder_name(feed_name)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.json"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False, indent=1)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def folder_name(feed_name: str) -> str:
    """The folder, in the feeds folder, that a feed's entries are written to."""
    return re.sub(r"[^a-z0-9]+", "-", feed_name.lower()).strip("-") or "feed"
