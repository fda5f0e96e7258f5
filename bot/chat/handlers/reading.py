"""Reading: /start /help /latest /read /search, plain text, the reading buttons, inline mode."""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineQueryResultsButton, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from ...articles import shorten
from ...news import MAX_SENTENCES, Pick
from ...store import SearchTimeout
from .. import callbacks, render, texts
from ..i18n import Translator
from ..render import Reply
from .common import (
    answer_button,
    button_numbers,
    chat_language,
    chat_translator,
    command_text,
    edit,
    is_admin,
    news,
    remember_list,
    reply,
    small_number,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 5
MAX_PAGE_SIZE = 10
INLINE_RESULTS = 20


# -- commands -----------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: what the bot does and the newest headlines; start=read_<id> opens that article."""
    tr = chat_translator(update, context)
    payload = context.args[0] if context.args else ""
    article_id = callbacks.start_read_id(payload)
    if article_id is not None:
        await _send_article(update, context, article_id, None)
        return
    page = news(context).latest(limit=3)
    remember_list(update, context, [e.id for e in page.entries])
    indexing = None if page.entries else news(context).filling()
    await reply(update, Reply(render.start_message(tr, page.entries, indexing=indexing)))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: every command with an example."""
    tr = chat_translator(update, context)
    text = tr.format(texts.HELP, bot=render.esc(context.bot.username or "bot"))
    text += tr(texts.HELP_PICTURES)
    if is_admin(update, context):
        text += tr.format(texts.HELP_ADMIN, minutes=news(context).settings.feeds.poll_minutes)
    await reply(update, Reply(text))


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/latest [n]: the newest articles, n at a time, with Read buttons and paging."""
    tr = chat_translator(update, context)
    size = PAGE_SIZE
    if context.args:
        size = small_number(context.args[0], high=MAX_PAGE_SIZE) or 0
        if not size:
            await reply(update, Reply(tr.format(texts.LATEST_BAD_COUNT, max=MAX_PAGE_SIZE)))
            return
    page = news(context).latest(limit=size, language=chat_language(update, context))
    remember_list(update, context, [e.id for e in page.entries])
    if not page.entries and await _told_indexing(update, context):
        return
    await reply(update, render.latest_page(tr, page, size))


async def read(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/read <id> [sentences]: headline, summary, date and source."""
    tr = chat_translator(update, context)
    args = context.args or []
    if not args:
        await reply(update, Reply(tr(texts.READ_NO_ID)))
        return
    number = small_number(args[0].lstrip("#"), high=10**18)
    if number is None:
        text = render.esc(shorten(" ".join(args), 60))
        await reply(update, Reply(tr.format(texts.READ_NOT_A_NUMBER, text=text)))
        return
    sentences = None
    if len(args) > 1:
        sentences = small_number(args[1], high=MAX_SENTENCES)
        if sentences is None:
            text = tr.format(texts.READ_BAD_SENTENCES, id=number, max=MAX_SENTENCES)
            await reply(update, Reply(text))
            return
    chat = update.effective_chat
    pick = news(context).pick(chat.id, number) if chat else Pick(by_id=number)
    if pick.by_place is None:
        await _send_article(update, context, number, sentences)
    elif pick.by_id is None:
        lead = tr.format(texts.READ_BY_PLACE, place=number, id=pick.by_place)
        await _send_article(update, context, pick.by_place, sentences, lead=lead)
    else:
        await _ask_which(update, context, number, pick.by_place)


async def search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/search <words>: ranked hits with snippets, paged."""
    tr = chat_translator(update, context)
    query = command_text(update)
    if not query:
        await reply(update, Reply(tr(texts.SEARCH_ASK)))
        return
    await reply(update, await _search_reply(update, context, query, 0))


async def text_search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain text in a private chat is a search."""
    message = update.effective_message
    if message and message.text:
        await reply(update, await _search_reply(update, context, message.text.strip(), 0))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command this bot does not have (but not one meant for another bot in a group)."""
    tr = chat_translator(update, context)
    message = update.effective_message
    if not message or not message.text:
        return
    command = message.text.split()[0]
    _, _, addressee = command.partition("@")
    meant_for_another_bot = addressee.lower() != (context.bot.username or "").lower()
    if addressee and meant_for_another_bot and message.chat.type != ChatType.PRIVATE:
        return  # in a group, another bot's command is that bot's business
    await reply(update, Reply(tr.format(texts.UNKNOWN_COMMAND, command=render.esc(command[:64]))))


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice in a private chat: say what works instead."""
    tr = chat_translator(update, context)
    await reply(update, Reply(tr(texts.NOT_TEXT)))


# -- buttons ------------------------------------------------------------------------------------


async def latest_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """lt:<offset>:<size>: another page of /latest, in the same message."""
    tr = chat_translator(update, context)
    offset, size = button_numbers(update, callbacks.LATEST)
    size = max(1, min(size, MAX_PAGE_SIZE))
    page = news(context).latest(offset=offset, limit=size, language=chat_language(update, context))
    remember_list(update, context, [e.id for e in page.entries])
    await edit(update, render.latest_page(tr, page, size))


async def read_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """rd:<id>:<sentences>: the article card (0 sentences: the default length)."""
    tr = chat_translator(update, context)
    article_id, sentences = button_numbers(update, callbacks.READ)
    card = await _article_reply(tr, update, context, article_id, sentences or None)
    if card is None:
        await answer_button(update, tr(texts.ARTICLE_GONE), alert=True)
        return
    await edit(update, card)


async def full_text_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ft:<id>:<page>: a page of the full text."""
    tr = chat_translator(update, context)
    article_id, page = button_numbers(update, callbacks.FULL_TEXT)
    stored = news(context).get(article_id)
    if stored is None:
        await answer_button(update, tr(texts.ARTICLE_GONE), alert=True)
        return
    # Paging a 5 MB article takes a tenth of a second: in a thread, others are answered meanwhile.
    text_page = await asyncio.to_thread(
        render.full_text_page, tr, stored, page, summary_sentences=news(context).default_sentences
    )
    await edit(update, text_page)


async def search_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """sr:<query id>:<offset>: another page of a search."""
    tr = chat_translator(update, context)
    query_id, offset = button_numbers(update, callbacks.SEARCH)
    chat = update.effective_chat
    # A query saved by another chat is as unknown here as one never saved.
    query = news(context).query_text(query_id, chat.id) if chat else None
    if query is None:
        await answer_button(update, tr(texts.SEARCH_EXPIRED), alert=True)
        return
    await edit(update, await _search_reply(update, context, query, offset))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other button: from an older version of the bot, or made up."""
    tr = chat_translator(update, context)
    await answer_button(update, tr(texts.STALE_BUTTON), alert=True)


# -- inline mode --------------------------------------------------------------------------------


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot words: matching articles (the newest when no words); picking one posts it."""
    tr = chat_translator(update, context)
    query = update.inline_query
    if query is None:
        return
    service = news(context)
    text = query.query.strip()
    if text:
        try:
            found = await service.search(text, limit=INLINE_RESULTS)
        except SearchTimeout:
            log.warning("inline search stopped at its time limit: %r", shorten(text, 100))
            await query.answer([], cache_time=5, is_personal=False)
            return
        ids = [hit.id for hit in found.hits]
    else:
        ids = [entry.id for entry in service.latest(limit=INLINE_RESULTS).entries]
    results = []
    for article_id in ids:
        stored = service.get(article_id)
        if stored is not None:
            summary = service.cached_summary(stored)
            results.append(render.inline_result(tr, stored, summary, context.bot.username))
    indexing = None if results else service.filling()
    if indexing is not None:
        # Above the (empty) results: how far the first index run is; tapping it opens the
        # bot's chat, whose /start says the same.
        progress = render.plain(render.indexing_text(tr, indexing))
        button = InlineQueryResultsButton(progress, start_parameter="indexing")
        await query.answer([], cache_time=0, is_personal=False, button=button)
        return
    await query.answer(results, cache_time=30, is_personal=False)


# -- helpers ------------------------------------------------------------------------------------


async def _send_article(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    article_id: int,
    sentences: int | None,
    *,
    lead: str = "",
) -> None:
    tr = chat_translator(update, context)
    card = await _article_reply(tr, update, context, article_id, sentences, lead=lead)
    if card is None and await _told_indexing(update, context):
        return
    await reply(update, card or Reply(tr.format(texts.READ_UNKNOWN, id=article_id)))


async def _told_indexing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Where a list or an article came back empty: if that is because the first index run is
    still filling an empty database, say how far it is (and True) rather than "no articles"."""
    indexing = news(context).filling()
    if indexing is None:
        return False
    await reply(update, Reply(render.indexing_text(chat_translator(update, context), indexing)))
    return True


async def _ask_which(
    update: Update, context: ContextTypes.DEFAULT_TYPE, number: int, by_place: int
) -> None:
    """/read number, where number is an article and also a place in the last list: ask."""
    tr = chat_translator(update, context)
    service = news(context)
    first, second = service.get(number), service.get(by_place)
    if first is None or second is None:  # removed in between: open what is left
        await _send_article(update, context, by_place if first is None else number, None)
        return
    await reply(update, render.which_article(tr, number, first, second))


async def _article_reply(
    tr: Translator,
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    article_id: int,
    sentences: int | None,
    *,
    lead: str = "",
) -> Reply | None:
    """The article card, with the article's picture as its preview unless the chat (or the
    bot's settings) turned pictures off."""
    service = news(context)
    stored = service.get(article_id)
    if stored is None:
        return None
    count = sentences or service.default_sentences
    summary = await service.summary(stored, count)
    # A summary shorter than asked is the whole body: nothing more to show.
    more = len(summary) >= count and count + 3 <= MAX_SENTENCES
    others = service.story_sources(article_id)
    chat = update.effective_chat
    pictures = service.pictures(chat.id) if chat else False
    return render.article_card(
        tr,
        stored,
        summary,
        sentences=count,
        more=more,
        others=others,
        lead=lead,
        pictures=pictures,
    )


async def _search_reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, query: str, offset: int
) -> Reply:
    """A page of hits, in the chat's language if it chose one (/lang); the query is saved for
    the paging buttons, for this chat only."""
    tr = chat_translator(update, context)
    service = news(context)
    language = chat_language(update, context)
    try:
        result = await service.search(query, offset=offset, limit=PAGE_SIZE, language=language)
    except SearchTimeout:
        log.warning("search stopped at its time limit: %r", shorten(query, 100))
        return Reply(tr(texts.SEARCH_TOO_SLOW))
    indexing = None if result.hits else service.filling()
    if indexing is not None:
        return Reply(render.indexing_text(tr, indexing))
    chat = update.effective_chat
    query_id = service.remember_query(chat.id, query[:2000]) if result.hits and chat else 0
    if result.hits:
        remember_list(update, context, [hit.id for hit in result.hits])
    return render.search_page(tr, result, query, query_id, offset, PAGE_SIZE)
