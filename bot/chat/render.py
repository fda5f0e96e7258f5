"""Messages as Telegram shows them: HTML (every piece of article text and user input escaped),
at most 4096 characters, with inline keyboards whose callback_data stays under 64 bytes.

Callback data formats (all ASCII, a few bytes):
    lt:<offset>:<size>   a page of /latest
    rd:<id>:<sentences>  an article card with a summary of that length
    ft:<id>:<page>       a page of an article's full text
    sr:<query id>:<offset>  a page of search results (the query itself is kept in the store)
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..articles import shorten
from ..news import Entry, Page
from ..store import MARK_END, MARK_START, FeedState, SearchResult, StoredArticle
from . import texts

MAX_MESSAGE = 4096
MAX_CALLBACK_DATA = 64
# Room kept for a page's title and footer when packing full text into pages.
_PAGE_BUDGET = MAX_MESSAGE - 400
_LINE_CHARS = 160


@dataclass(frozen=True)
class Reply:
    text: str
    keyboard: InlineKeyboardMarkup | None = None


def esc(text: str) -> str:
    """Escape text for Telegram HTML (&, <, > in text; quotes too, for attributes)."""
    return html.escape(text, quote=True)


def button(label: str, data: str) -> InlineKeyboardButton:
    if len(data.encode()) > MAX_CALLBACK_DATA:
        raise ValueError(f"callback_data over {MAX_CALLBACK_DATA} bytes: {data!r}")
    return InlineKeyboardButton(label, callback_data=data)


def latest_page(page: Page, size: int) -> Reply:
    if not page.entries:
        return Reply(texts.LATEST_EMPTY)
    first, last = page.offset + 1, page.offset + len(page.entries)
    lines = [texts.LATEST_TITLE.format(first=first, last=last, total=page.total), ""]
    lines += _entry_lines(page.entries, first)
    keyboard = [_read_buttons(page.entries, first)]
    paging = []
    if page.offset > 0:
        paging.append(button(texts.BUTTON_NEWER, f"lt:{max(0, page.offset - size)}:{size}"))
    if last < page.total:
        paging.append(button(texts.BUTTON_OLDER, f"lt:{last}:{size}"))
    if paging:
        keyboard.append(paging)
    return Reply(fit("\n".join(lines)), InlineKeyboardMarkup(keyboard))


def start_message(entries: Sequence[Entry]) -> str:
    if entries:
        lines = "\n".join(f"• {esc(e.title)} — /read {e.id}" for e in entries)
        headlines = texts.START_HEADLINES.format(lines=lines)
    else:
        headlines = texts.START_EMPTY
    return fit(texts.START.format(headlines=headlines))


def article_card(
    stored: StoredArticle,
    summary: Sequence[str],
    *,
    sentences: int,
    more: bool,
    others: Sequence[tuple[int, str, str | None, str]] = (),
) -> Reply:
    """Headline, summary, date and source; the story's other sources as links; buttons for a
    longer summary, full text, latest."""
    article = stored.article
    meta = [_date(article.published)]
    if article.author:
        meta.append(esc(article.author))
    if article.url:
        meta.append(f'<a href="{esc(article.url)}">{texts.SOURCE_LINK}</a>')
    else:
        meta.append(esc(article.source))
    head = f"<b>{esc(article.title)}</b>\n<i>{' · '.join(meta)}</i>\n\n"
    foot = f"\n\n/read {stored.id}"
    if article.tags:
        foot += " · " + esc(", ".join(article.tags))
    if others:
        links = [_source_link(*other) for other in others[:8]]
        more_count = f" +{len(others) - 8}" if len(others) > 8 else ""
        foot += "\n" + texts.ALSO_REPORTED.format(links=", ".join(links) + more_count)
    body = _fit_lines([f"• {esc(s)}" for s in summary], MAX_MESSAGE - len(head) - len(foot))
    row = []
    if more:
        row.append(button(texts.BUTTON_MORE, f"rd:{stored.id}:{sentences + 3}"))
    row.append(button(texts.BUTTON_FULL_TEXT, f"ft:{stored.id}:0"))
    row.append(button(texts.BUTTON_LATEST, "lt:0:5"))
    return Reply(head + body + foot, InlineKeyboardMarkup([row]))


def full_text_page(stored: StoredArticle, page: int, *, summary_sentences: int) -> Reply:
    """One page of the article's text, cut at paragraph or sentence boundaries."""
    pages = full_text_pages(stored)
    page = max(0, min(page, len(pages) - 1))
    title = texts.FULL_TEXT_TITLE.format(
        title=esc(shorten(stored.article.title, 200)), page=page + 1, pages=len(pages)
    )
    row = []
    if page > 0:
        row.append(button(texts.BUTTON_PREVIOUS, f"ft:{stored.id}:{page - 1}"))
    if page + 1 < len(pages):
        row.append(button(texts.BUTTON_NEXT, f"ft:{stored.id}:{page + 1}"))
    row.append(button(texts.BUTTON_SUMMARY, f"rd:{stored.id}:{summary_sentences}"))
    return Reply(f"{title}\n\n{pages[page]}", InlineKeyboardMarkup([row]))


def full_text_pages(stored: StoredArticle) -> list[str]:
    pieces: list[str] = []
    for block in stored.article.blocks:
        if block.heading:
            pieces.append(f"<b>{esc(block.text)}</b>")
        else:
            pieces.extend(_split_escaped(block.text, _PAGE_BUDGET))
    pages: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        if current and size + len(piece) + 2 > _PAGE_BUDGET:
            pages.append("\n\n".join(current))
            current, size = [], 0
        current.append(piece)
        size += len(piece) + 2
    if current:
        pages.append("\n\n".join(current))
    return pages or [""]


def search_page(result: SearchResult, query: str, query_id: int, offset: int, size: int) -> Reply:
    if not result.hits:
        return Reply(texts.SEARCH_NONE.format(query=esc(shorten(query, 100))))
    first, last = offset + 1, offset + len(result.hits)
    lines = [
        texts.SEARCH_TITLE.format(
            query=esc(shorten(query, 100)), first=first, last=last, total=result.total
        )
    ]
    if result.relaxed:
        lines.append(texts.SEARCH_RELAXED)
    lines.append("")
    for number, hit in enumerate(result.hits, start=first):
        lines.append(f"{number}. <b>{esc(hit.title)}</b> — {_date(hit.published)}")
        lines.append(f"{marked_snippet(hit.snippet_marked)}\n")
    keyboard = [
        [
            button(texts.BUTTON_READ.format(number=n), f"rd:{hit.id}:0")
            for n, hit in enumerate(result.hits, start=first)
        ]
    ]
    paging = []
    if offset > 0:
        paging.append(button(texts.BUTTON_PREVIOUS, f"sr:{query_id}:{max(0, offset - size)}"))
    if last < result.total:
        paging.append(button(texts.BUTTON_NEXT, f"sr:{query_id}:{last}"))
    if paging:
        keyboard.append(paging)
    return Reply(fit("\n".join(lines).rstrip()), InlineKeyboardMarkup(keyboard))


def marked_snippet(snippet: str) -> str:
    """A snippet with its matches in bold: escape first, then turn the markers into tags."""
    escaped = esc(" ".join(snippet.split()))
    return escaped.replace(MARK_START, "<b>").replace(MARK_END, "</b>")


def delivery_message(stored: StoredArticle, summary: Sequence[str]) -> Reply:
    """A new article for a subscriber: the article card, marked new, with a full-text button."""
    card = article_card(stored, summary, sentences=len(summary) or 1, more=False)
    keyboard = InlineKeyboardMarkup([[button(texts.BUTTON_FULL_TEXT, f"ft:{stored.id}:0")]])
    return Reply(fit(texts.NEW_ARTICLE + card.text), keyboard)


def digest_message(entries: Sequence[Entry]) -> str:
    """The daily digest: each new headline with its first summary sentence and its /read."""
    lines = [texts.DIGEST_TITLE.format(count=len(entries)), ""]
    for entry in entries:
        lines.append(f"<b>{esc(entry.title)}</b>")
        lines.append(f"{esc(shorten(entry.line, _LINE_CHARS))} /read {entry.id}\n")
    return fit("\n".join(lines).rstrip())


def share_text(stored: StoredArticle, summary: Sequence[str]) -> str:
    """What an inline result posts: headline, summary and source."""
    article = stored.article
    text = f"<b>{esc(article.title)}</b>\n\n" + "\n".join(f"• {esc(s)}" for s in summary)
    if article.url:
        text += f'\n\n<a href="{esc(article.url)}">{texts.SOURCE_LINK}</a>'
    return fit(text)


def plain(text: str) -> str:
    """HTML to plain text (the terminal chat): tags dropped, entities unescaped."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def fit(text: str) -> str:
    """Never more than Telegram's 4096 characters: cut at a line, without breaking a tag."""
    if len(text) <= MAX_MESSAGE:
        return text
    lines = text.split("\n")
    return _fit_lines(lines, MAX_MESSAGE)


def _fit_lines(lines: Sequence[str], budget: int) -> str:
    """Whole lines while they fit, then an ellipsis; lines hold balanced tags, so this is safe."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > budget - 2:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def _entry_lines(entries: Sequence[Entry], first: int) -> Iterator[str]:
    for number, entry in enumerate(entries, start=first):
        yield f"{number}. <b>{esc(entry.title)}</b>"
        yield f"{esc(shorten(entry.line, _LINE_CHARS))} <i>{_date(entry.published)}</i>\n"


def _read_buttons(entries: Sequence[Entry], first: int) -> list[InlineKeyboardButton]:
    return [
        button(texts.BUTTON_READ.format(number=n), f"rd:{e.id}:0")
        for n, e in enumerate(entries, start=first)
    ]


def _date(when: datetime) -> str:
    return f"{when:%-d %b %Y}"


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _split_escaped(text: str, budget: int) -> Iterator[str]:
    """A paragraph as escaped pieces under budget: whole if it fits, else by sentences, else
    by words (a 'sentence' of thousands of characters is not unheard of in scraped text)."""
    escaped = esc(text)
    if len(escaped) <= budget:
        yield escaped
        return
    piece = ""
    for sentence in _SENTENCE_END.split(text):
        for part in _by_words(esc(sentence), budget):
            if piece and len(piece) + 1 + len(part) > budget:
                yield piece
                piece = ""
            piece = f"{piece} {part}" if piece else part
    if piece:
        yield piece


def _by_words(escaped: str, budget: int) -> Iterator[str]:
    while len(escaped) > budget:
        cut = escaped.rfind(" ", 0, budget)
        cut = cut if cut > 0 else budget
        # Never cut inside an entity such as &amp;.
        amp = escaped.rfind("&", max(0, cut - 8), cut)
        if amp != -1 and ";" not in escaped[amp:cut]:
            cut = amp
        yield escaped[:cut].rstrip()
        escaped = escaped[cut:].lstrip()
    if escaped:
        yield escaped


def feeds_message(feeds: Sequence[FeedState], now: float | None = None) -> str:
    """/feeds: every feed with its state; the newest problem of each."""
    if not feeds:
        return texts.FEEDS_NONE
    now = time.time() if now is None else now
    parts = [texts.FEEDS_TITLE.format(count=len(feeds))]
    for feed in feeds:
        if feed.failures:
            status = texts.FEED_FAILING.format(
                failures=feed.failures,
                error=esc(feed.last_error or "?"),
                next=_moment(feed.next_poll, now),
            )
        elif feed.last_ok_at is None:
            status = texts.FEED_NEVER
        else:
            status = texts.FEED_OK.format(entries=feed.entries, when=_moment(feed.last_ok_at, now))
            if feed.last_error and (feed.last_error_at or 0) > feed.last_ok_at - 1:
                status += texts.FEED_NOTE.format(error=esc(feed.last_error))
        parts.append(texts.FEED_LINE.format(name=esc(feed.name), url=esc(feed.url), status=status))
    return fit("".join(parts))


def _moment(when: float, now: float) -> str:
    """'in 12 min', '3 h ago': how far a moment is from now, in the largest whole unit."""
    delta = when - now
    seconds = abs(delta)
    if seconds < 60:
        amount = "under a minute"
    elif seconds < 3600:
        amount = f"{seconds // 60:.0f} min"
    elif seconds < 86400:
        amount = f"{seconds // 3600:.0f} h"
    else:
        amount = f"{seconds // 86400:.0f} days"
    if seconds < 60:
        return "now" if delta >= 0 else "just now"
    return f"in {amount}" if delta > 0 else f"{amount} ago"


def _source_link(article_id: int, title: str, url: str | None, source: str) -> str:
    """Another source of a story: its site as a link, else its /read command."""
    if url:
        site = urlsplit(url).hostname or url
        site = site.removeprefix("www.")
        return f'<a href="{esc(url)}">{esc(shorten(site, 40))}</a>'
    return f"/read {article_id}"
