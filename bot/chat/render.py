"""Messages as Telegram shows them: HTML (every piece of article text and user input escaped),
at most 4096 UTF-16 code units as Telegram counts them (an emoji is two), with inline keyboards
whose callback_data stays under 64 bytes (each button kind is defined in callbacks.py).
Headlines are cut to MAX_TITLE characters, and only http and https addresses become links.
An article's lead image is never in the text: it goes to Telegram as the message's link preview
(Reply.preview), shown large above the text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from babel.dates import format_date
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode

from ..articles import shorten
from ..news import Entry, Indexing, Page
from ..store import MARK_END, MARK_START, ChatState, SearchResult, StoredArticle, Subscription
from . import callbacks, texts
from .callbacks import MAX_CALLBACK_DATA
from .i18n import Translator
from .measure import MAX_MESSAGE as MAX_MESSAGE
from .measure import esc as esc
from .measure import units as units
from .pages import full_text_pages as full_text_pages

# A headline is cut to this many characters in a message (a feed once sent one of 6,300)...
MAX_TITLE = 300
# ...and to this many UTF-16 units once escaped ("&" is five): room is left for the rest.
_TITLE_UNITS = 700
_LINE_CHARS = 160
# A summary sentence longer than this (scraped text has sentences of thousands) is cut.
_SENTENCE_CHARS = 1000
# An article card's foot (tags, other sources) gets at most this many units...
_FOOT_UNITS = 1600
# ...and a link longer than this, escaped, is left out rather than fill the message.
_HREF_UNITS = 800
_SAFE_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    text: str
    keyboard: InlineKeyboardMarkup | None = None
    # The article's lead image as a large preview above the text; None: no preview (the
    # Application's default), which is also what an edit to another page makes of it.
    preview: LinkPreviewOptions | None = None


def title(text: str, *, chars: int = MAX_TITLE, budget: int = _TITLE_UNITS) -> str:
    """A headline, escaped: cut at a word to `chars` characters, and shorter still while its
    escaped form is over `budget` UTF-16 units."""
    escaped = esc(shorten(text, chars))
    while units(escaped) > budget and chars > 8:
        chars //= 2
        escaped = esc(shorten(text, chars))
    return escaped


def safe_url(url: str | None) -> str | None:
    """The address if it may be a link: http or https with a host (never javascript: or
    data:), with no spaces or control characters; else None."""
    if not url or not _SAFE_URL.fullmatch(url):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:  # a malformed port or IPv6 address
        return None
    return url if host else None


def link(url: str | None, label: str) -> str | None:
    """An <a href> around an (escaped) label; None when the address may not be a link or would
    take too much of the message."""
    safe = safe_url(url)
    if safe is None or units(esc(safe)) > _HREF_UNITS:
        return None
    return f'<a href="{esc(safe)}">{label}</a>'


def picture(url: str | None) -> LinkPreviewOptions | None:
    """An article's lead image as the message's link preview: large, above the text; None
    for an article without one (or with an address that may not be fetched). is_disabled is
    said outright: PTB fills every field left out from the Application's defaults, whose
    is_disabled=True would hide the picture."""
    safe = safe_url(url)
    if safe is None:
        return None
    return LinkPreviewOptions(
        is_disabled=False, url=safe, prefer_large_media=True, show_above_text=True
    )


def button(label: str, data: str) -> InlineKeyboardButton:
    if len(data.encode()) > MAX_CALLBACK_DATA:
        raise ValueError(f"callback_data over {MAX_CALLBACK_DATA} bytes: {data!r}")
    return InlineKeyboardButton(label, callback_data=data)


def latest_page(tr: Translator, page: Page, size: int) -> Reply:
    if not page.entries:
        return Reply(tr(texts.LATEST_EMPTY))
    first, last = page.offset + 1, page.offset + len(page.entries)
    lines = [
        tr.format(texts.LATEST_TITLE, first=first, last=last, total=page.total),
        tr.format(texts.LIST_HINT, id=page.entries[0].id),
        "",
    ]
    lines += _entry_lines(tr, page.entries)
    keyboard = [_read_buttons(tr, [e.id for e in page.entries])]
    paging = []
    if page.offset > 0:
        paging.append(
            button(tr(texts.BUTTON_NEWER), callbacks.LATEST.data(max(0, page.offset - size), size))
        )
    if last < page.total:
        paging.append(button(tr(texts.BUTTON_OLDER), callbacks.LATEST.data(last, size)))
    if paging:
        keyboard.append(paging)
    return Reply(fit("\n".join(lines)), InlineKeyboardMarkup(keyboard))


def start_message(
    tr: Translator, entries: Sequence[Entry], *, indexing: Indexing | None = None
) -> str:
    if entries:
        lines = "\n".join(f"• {title(e.title)} — /read {e.id}" for e in entries)
        headlines = tr.format(texts.START_HEADLINES, lines=lines)
    elif indexing is not None:
        headlines = indexing_text(tr, indexing) + "\n\n"
    else:
        headlines = tr(texts.START_EMPTY)
    return fit(tr.format(texts.START, headlines=headlines))


# The index run's stages with words of their own; any other is told by its counts alone.
_STAGES = {"read": texts.INDEXING_READ, "summarize": texts.INDEXING_SUMMARIZED}


def indexing_text(tr: Translator, progress: Indexing) -> str:
    """How far the index run filling an empty database is, e.g. "1,200 of 5,000 files read"."""
    if progress.total <= 0:  # still listing the folder: nothing counted yet
        return tr(texts.INDEXING_STARTED)
    message = _STAGES.get(progress.stage, texts.INDEXING_COUNTED)
    return tr.format(message, done=progress.done, total=progress.total)


def article_card(
    tr: Translator,
    stored: StoredArticle,
    summary: Sequence[str],
    *,
    sentences: int,
    more: bool,
    others: Sequence[tuple[int, str, str | None, str]] = (),
    lead: str = "",
    pictures: bool = False,
) -> Reply:
    """Headline, summary, date and source; the story's other sources as links; buttons for a
    longer summary, full text, latest. `lead` goes first (a delivery's 🆕). With `pictures`,
    the article's lead image (if it has one) is the preview above it."""
    article = stored.article
    meta = [_date(tr, article.published)]
    if article.author:
        meta.append(esc(shorten(article.author, 60)))
    meta.append(link(article.url, tr(texts.SOURCE_LINK)) or esc(shorten(article.source, 100)))
    head = f"{lead}<b>{title(article.title)}</b>\n<i>{' · '.join(meta)}</i>\n\n"
    foot = "\n\n" + tr.format(texts.ARTICLE_FOOT, id=stored.id)
    if article.tags:
        foot += " · " + esc(shorten(", ".join(article.tags), 100))
    if others:
        foot += "\n" + _also_reported(tr, others, _FOOT_UNITS - units(foot))
    lines = [f"• {esc(shorten(s, _SENTENCE_CHARS))}" for s in summary]
    body = _fit_lines(lines, MAX_MESSAGE - units(head) - units(foot))
    row = []
    if more:
        row.append(button(tr(texts.BUTTON_MORE), callbacks.READ.data(stored.id, sentences + 3)))
    row.append(button(tr(texts.BUTTON_FULL_TEXT), callbacks.FULL_TEXT.data(stored.id, 0)))
    row.append(button(tr(texts.BUTTON_LATEST), callbacks.LATEST.data(0, 5)))
    preview = picture(article.image) if pictures else None
    return Reply(fit(head + body + foot), InlineKeyboardMarkup([row]), preview)


def _also_reported(
    tr: Translator, others: Sequence[tuple[int, str, str | None, str]], budget: int
) -> str:
    """The story's other sources, as many as fit the budget (at most 8), then "+N"."""
    links: list[str] = []
    for other in others[:8]:
        candidate = _source_link(*other)
        if units(tr.format(texts.ALSO_REPORTED, links=", ".join([*links, candidate]))) + 6 > budget:
            break
        links.append(candidate)
    rest = f" +{len(others) - len(links)}" if len(others) > len(links) else ""
    return tr.format(texts.ALSO_REPORTED, links=", ".join(links) + rest)


def full_text_page(
    tr: Translator, stored: StoredArticle, page: int, *, summary_sentences: int
) -> Reply:
    """One page of the article's text, cut at paragraph or sentence boundaries."""
    pages = full_text_pages(stored)
    page = max(0, min(page, len(pages) - 1))
    heading = tr.format(
        texts.FULL_TEXT_TITLE,
        title=title(stored.article.title, chars=200, budget=300),
        page=page + 1,
        pages=len(pages),
    )
    row = []
    if page > 0:
        row.append(button(tr(texts.BUTTON_PREVIOUS), callbacks.FULL_TEXT.data(stored.id, page - 1)))
    if page + 1 < len(pages):
        row.append(button(tr(texts.BUTTON_NEXT), callbacks.FULL_TEXT.data(stored.id, page + 1)))
    row.append(button(tr(texts.BUTTON_SUMMARY), callbacks.READ.data(stored.id, summary_sentences)))
    return Reply(f"{heading}\n\n{pages[page]}", InlineKeyboardMarkup([row]))


def search_page(
    tr: Translator, result: SearchResult, query: str, query_id: int, offset: int, size: int
) -> Reply:
    newest = (
        "" if result.searched is None else tr.format(texts.SEARCH_NEWEST, count=result.searched)
    )
    if not result.hits:
        none = tr.format(texts.SEARCH_NONE, query=esc(shorten(query, 100)))
        return Reply(f"{none}\n{newest}" if newest else none)
    first, last = offset + 1, offset + len(result.hits)
    lines = [
        tr.format(
            texts.SEARCH_TITLE,
            query=esc(shorten(query, 100)),
            first=first,
            last=last,
            total=result.total,
        )
    ]
    if result.relaxed:
        lines.append(tr(texts.SEARCH_RELAXED))
    if newest:
        lines.append(newest)
    lines.append(tr.format(texts.LIST_HINT, id=result.hits[0].id))
    lines.append("")
    for hit in result.hits:
        lines.append(f"{hit.id}. <b>{title(hit.title)}</b> — {_date(tr, hit.published)}")
        lines.append(f"{marked_snippet(hit.snippet_marked)}\n")
    keyboard = [_read_buttons(tr, [hit.id for hit in result.hits])]
    paging = []
    if offset > 0:
        paging.append(
            button(
                tr(texts.BUTTON_PREVIOUS), callbacks.SEARCH.data(query_id, max(0, offset - size))
            )
        )
    if last < result.total:
        paging.append(button(tr(texts.BUTTON_NEXT), callbacks.SEARCH.data(query_id, last)))
    if paging:
        keyboard.append(paging)
    return Reply(fit("\n".join(lines).rstrip()), InlineKeyboardMarkup(keyboard))


def marked_snippet(snippet: str) -> str:
    """A snippet with its matches in bold: escape first, then turn the markers into tags."""
    escaped = esc(" ".join(snippet.split()))
    return escaped.replace(MARK_START, "<b>").replace(MARK_END, "</b>")


def delivery_message(
    tr: Translator, stored: StoredArticle, summary: Sequence[str], *, pictures: bool = False
) -> Reply:
    """A new article for a subscriber: the article card, marked new, with a full-text button
    (and, with `pictures`, its lead image as the preview)."""
    card = article_card(
        tr,
        stored,
        summary,
        sentences=len(summary) or 1,
        more=False,
        lead=tr(texts.NEW_ARTICLE),
        pictures=pictures,
    )
    keyboard = InlineKeyboardMarkup(
        [[button(tr(texts.BUTTON_FULL_TEXT), callbacks.FULL_TEXT.data(stored.id, 0))]]
    )
    return Reply(card.text, keyboard, card.preview)


def digest_message(tr: Translator, entries: Sequence[Entry]) -> str:
    """The daily digest: each new headline with its first summary sentence and its /read."""
    lines = [tr.format(texts.DIGEST_TITLE, count=len(entries)), ""]
    for entry in entries:
        lines.append(f"<b>{title(entry.title)}</b>")
        lines.append(f"{esc(shorten(entry.line, _LINE_CHARS))} /read {entry.id}\n")
    return fit("\n".join(lines).rstrip())


def share_text(tr: Translator, stored: StoredArticle, summary: Sequence[str]) -> str:
    """What an inline result posts: headline, summary and source."""
    article = stored.article
    source = link(article.url, tr(texts.SOURCE_LINK))
    foot = f"\n\n{source}" if source else ""
    lines = [f"• {esc(shorten(s, _SENTENCE_CHARS))}" for s in summary]
    head = f"<b>{title(article.title)}</b>\n\n"
    return fit(head + _fit_lines(lines, MAX_MESSAGE - units(head) - units(foot)) + foot)


def plain(text: str) -> str:
    """HTML to plain text (the terminal chat): tags dropped, entities unescaped."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def fit(text: str) -> str:
    """Never more than Telegram's 4096 UTF-16 units: cut at a line, without breaking a tag."""
    if units(text) <= MAX_MESSAGE:
        return text
    lines = text.split("\n")
    return _fit_lines(lines, MAX_MESSAGE)


def _fit_lines(lines: Sequence[str], budget: int) -> str:
    """Whole lines while they fit, then an ellipsis; lines hold balanced tags, so this is safe.
    When not even the first line fits, its text (without tags) is cut to fit instead."""
    kept: list[str] = []
    size = 0
    for line in lines:
        line_units = units(line) + 1
        if size + line_units > budget - 2:
            kept.append("…" if kept else _cut_line(line, budget - 2))
            break
        kept.append(line)
        size += line_units
    return "\n".join(kept)


def _cut_line(line: str, budget: int) -> str:
    """A line's plain text, escaped, cut at a word with an ellipsis to fit the budget."""
    text = " ".join(plain(line).split())
    chars = max(1, budget)
    cut = esc(shorten(text, chars))
    while units(cut) > budget and chars > 1:
        chars = max(1, chars * 3 // 4)
        cut = esc(shorten(text, chars))
    return cut if units(cut) <= budget else "…"


def _entry_lines(tr: Translator, entries: Sequence[Entry]) -> Iterator[str]:
    """Each entry numbered by its id: the number /read takes."""
    for entry in entries:
        yield f"{entry.id}. <b>{title(entry.title)}</b>"
        yield f"{esc(shorten(entry.line, _LINE_CHARS))} <i>{_date(tr, entry.published)}</i>\n"


def _read_buttons(tr: Translator, article_ids: Sequence[int]) -> list[InlineKeyboardButton]:
    return [
        button(tr.format(texts.BUTTON_READ, number=i), callbacks.READ.data(i, 0))
        for i in article_ids
    ]


def which_article(
    tr: Translator, number: int, by_id: StoredArticle, by_place: StoredArticle
) -> Reply:
    """`/read number` could mean article `number` or the number-th of the last list: ask."""
    text = tr.format(
        texts.READ_WHICH,
        number=number,
        by_id=title(by_id.article.title),
        by_place_id=by_place.id,
        by_place=title(by_place.article.title),
    )
    return Reply(fit(text), InlineKeyboardMarkup([_read_buttons(tr, [by_id.id, by_place.id])]))


def _date(tr: Translator, when: datetime) -> str:
    """3 Jan 2026, in the reader's language (CLDR's month names, through Babel)."""
    return format_date(when, "d MMM y", locale=tr.language)


def _source_link(article_id: int, headline: str, url: str | None, source: str) -> str:
    """Another source of a story: its site as a link, else its /read command."""
    site = (urlsplit(safe_url(url) or "").hostname or "").removeprefix("www.")
    return (site and link(url, esc(shorten(site, 40)))) or f"/read {article_id}"


def subscriptions_message(
    tr: Translator, current: Sequence[Subscription], state: ChatState | None
) -> Reply:
    """/subscriptions: the chat's filters, each with a remove button, and how they arrive."""
    if not current:
        return Reply(tr(texts.SUBSCRIPTIONS_NONE))
    if state and state.digest_time:
        how = tr.format(texts.DELIVERY_DIGEST, time=state.digest_time, zone=esc(state.timezone))
    else:
        how = tr(texts.DELIVERY_INSTANT)
    labels = [s.query or tr(texts.SUBSCRIPTION_ALL) for s in current]
    lines = [tr(texts.SUBSCRIPTIONS_TITLE), ""]
    lines += [f"• {esc(label)}" for label in labels]
    lines += ["", how]
    keyboard = [
        [
            button(
                tr.format(texts.BUTTON_REMOVE, label=shorten(label, 40)),
                callbacks.UNSUBSCRIBE.data(sub.id, 0),
            )
        ]
        for sub, label in zip(current, labels, strict=True)
    ]
    return Reply(fit("\n".join(lines)), InlineKeyboardMarkup(keyboard))


def inline_result(
    tr: Translator, stored: StoredArticle, summary: Sequence[str], username: str | None
) -> InlineQueryResultArticle:
    """An article offered in inline mode: picking it posts share_text, with a button that
    opens the article in the bot (when the bot has a username)."""
    keyboard = None
    if username:
        link_to_bot = callbacks.start_read_link(username, stored.id)
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(tr(texts.BUTTON_OPEN_IN_BOT), url=link_to_bot)]]
        )
    return InlineQueryResultArticle(
        id=f"a{stored.id}",
        title=shorten(stored.article.title, 200),
        description=shorten(summary[0] if summary else "", 200),
        input_message_content=InputTextMessageContent(
            share_text(tr, stored, summary), parse_mode=ParseMode.HTML
        ),
        reply_markup=keyboard,
    )
