"""Handlers: thin. Each reads its input, asks News, and sends what render makes of the answer."""

from __future__ import annotations

import logging
import re

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from ..articles import shorten
from ..news import MAX_SENTENCES, News
from . import render, texts
from .render import Reply

log = logging.getLogger(__name__)

PAGE_SIZE = 5
MAX_PAGE_SIZE = 10
INLINE_RESULTS = 20


def news(context: ContextTypes.DEFAULT_TYPE) -> News:
    """The article library, opened in post_init (see app.py)."""
    service = context.bot_data["news"]
    assert isinstance(service, News)
    return service


# -- commands -----------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: what the bot does and the newest headlines; start=read_<id> opens that article."""
    payload = context.args[0] if context.args else ""
    match = re.fullmatch(r"read_(\d{1,18})", payload)
    if match:
        await _send_article(update, context, int(match[1]), None)
        return
    page = news(context).latest(limit=3)
    await _reply(update, Reply(render.start_message(page.entries)))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: every command with an example."""
    text = texts.HELP.format(bot=render.esc(context.bot.username or "bot"))
    user = update.effective_user
    if user and user.id in news(context).settings.telegram.admins:
        text += texts.HELP_ADMIN
    await _reply(update, Reply(text))


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/latest [n]: the newest articles, n at a time, with Read buttons and paging."""
    size = PAGE_SIZE
    if context.args:
        size = _small_number(context.args[0], high=MAX_PAGE_SIZE) or 0
        if not size:
            await _reply(update, Reply(texts.LATEST_BAD_COUNT.format(max=MAX_PAGE_SIZE)))
            return
    await _reply(update, render.latest_page(news(context).latest(limit=size), size))


async def read(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/read <id> [sentences]: headline, summary, date and source."""
    args = context.args or []
    if not args:
        await _reply(update, Reply(texts.READ_NO_ID))
        return
    article_id = _small_number(args[0].lstrip("#"), high=10**18)
    if article_id is None:
        text = render.esc(shorten(" ".join(args), 60))
        await _reply(update, Reply(texts.READ_NOT_A_NUMBER.format(text=text)))
        return
    sentences = None
    if len(args) > 1:
        sentences = _small_number(args[1], high=MAX_SENTENCES)
        if sentences is None:
            reply = texts.READ_BAD_SENTENCES.format(id=article_id, max=MAX_SENTENCES)
            await _reply(update, Reply(reply))
            return
    await _send_article(update, context, article_id, sentences)


async def search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/search <words>: ranked hits with snippets, paged."""
    message = update.effective_message
    query = (message.text or "").partition(" ")[2].strip() if message else ""
    if not query:
        await _reply(update, Reply(texts.SEARCH_ASK))
        return
    await _reply(update, _search_reply(context, query, 0))


async def text_search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain text in a private chat is a search."""
    message = update.effective_message
    if message and message.text:
        await _reply(update, _search_reply(context, message.text.strip(), 0))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command this bot does not have (but not one meant for another bot in a group)."""
    message = update.effective_message
    if not message or not message.text:
        return
    command = message.text.split()[0]
    _, _, addressee = command.partition("@")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        return
    await _reply(update, Reply(texts.UNKNOWN_COMMAND.format(command=render.esc(command[:64]))))


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice in a private chat: say what works instead."""
    await _reply(update, Reply(texts.NOT_TEXT))


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload (admins): run the index operation and report what changed."""
    await _reply(update, Reply(texts.RELOAD_STARTED))
    try:
        report = await news(context).reload()
    except Exception as exc:  # the folder is gone, the disk is full: say so, keep running
        log.exception("reload failed")
        await _reply(update, Reply(texts.RELOAD_ERROR.format(error=render.esc(str(exc)))))
        return
    lines = [
        texts.RELOAD_REPORT.format(
            seconds=report.seconds,
            added=report.added,
            updated=report.updated,
            removed=report.removed,
            unchanged=report.unchanged,
            failed=len(report.failed),
        )
    ]
    for failure in report.failed[:20]:
        lines.append(
            texts.RELOAD_FAILED_LINE.format(
                path=render.esc(failure.path), error=render.esc(failure.error)
            )
        )
    if len(report.failed) > 20:
        lines.append(texts.RELOAD_MORE_FAILED.format(count=len(report.failed) - 20))
    await _reply(update, Reply(render.fit("\n".join(lines))))


async def reload_refused(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload from someone who is not an admin: a polite no, and a line in the log."""
    user = update.effective_user
    log.warning("refused /reload from user %s", user.id if user else "?")
    await _reply(update, Reply(texts.RELOAD_REFUSED))


# -- buttons ------------------------------------------------------------------------------------


async def latest_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """lt:<offset>:<size>: another page of /latest, in the same message."""
    offset, size = _callback_numbers(update)
    size = max(1, min(size, MAX_PAGE_SIZE))
    await _edit(update, render.latest_page(news(context).latest(offset=offset, limit=size), size))


async def read_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """rd:<id>:<sentences>: the article card (0 sentences: the default length)."""
    article_id, sentences = _callback_numbers(update)
    reply = await _article_reply(context, article_id, sentences or None)
    if reply is None:
        await _article_gone(update)
        return
    await _edit(update, reply)


async def full_text_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ft:<id>:<page>: a page of the full text."""
    article_id, page = _callback_numbers(update)
    stored = news(context).get(article_id)
    if stored is None:
        await _article_gone(update)
        return
    reply = render.full_text_page(stored, page, summary_sentences=news(context).default_sentences)
    await _edit(update, reply)


async def search_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """sr:<query id>:<offset>: another page of a search."""
    query_id, offset = _callback_numbers(update)
    query = news(context).query_text(query_id)
    if query is None:
        await _answer(update, texts.SEARCH_EXPIRED, alert=True)
        return
    await _edit(update, _search_reply(context, query, offset))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other button: from an older version of the bot, or made up."""
    await _answer(update, texts.STALE_BUTTON, alert=True)


# -- inline mode --------------------------------------------------------------------------------


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot words: matching articles (the newest when no words); picking one posts it."""
    query = update.inline_query
    if query is None:
        return
    library = news(context)
    text = query.query.strip()
    if text:
        ids = [hit.id for hit in library.search(text, limit=INLINE_RESULTS).hits]
    else:
        ids = [entry.id for entry in library.latest(limit=INLINE_RESULTS).entries]
    results = []
    for article_id in ids:
        stored = library.get(article_id)
        if stored is None:
            continue
        summary = library.cached_summary(stored)
        keyboard = None
        if context.bot.username:
            link = f"https://t.me/{context.bot.username}?start=read_{article_id}"
            keyboard = InlineKeyboardMarkup(
                [[InlineKeyboardButton(texts.BUTTON_OPEN_IN_BOT, url=link)]]
            )
        results.append(
            InlineQueryResultArticle(
                id=f"a{article_id}",
                title=shorten(stored.article.title, 200),
                description=shorten(summary[0] if summary else "", 200),
                input_message_content=InputTextMessageContent(
                    render.share_text(stored, summary), parse_mode=ParseMode.HTML
                ),
                reply_markup=keyboard,
            )
        )
    await query.answer(results, cache_time=30, is_personal=False)


# -- helpers ------------------------------------------------------------------------------------


async def _send_article(
    update: Update, context: ContextTypes.DEFAULT_TYPE, article_id: int, sentences: int | None
) -> None:
    reply = await _article_reply(context, article_id, sentences)
    if reply is None:
        reply = Reply(texts.READ_UNKNOWN.format(id=article_id))
    await _reply(update, reply)


async def _article_reply(
    context: ContextTypes.DEFAULT_TYPE, article_id: int, sentences: int | None
) -> Reply | None:
    library = news(context)
    stored = library.get(article_id)
    if stored is None:
        return None
    count = sentences or library.default_sentences
    summary = await library.summary(stored, count)
    # A summary shorter than asked is the whole body: nothing more to show.
    more = len(summary) >= count and count + 3 <= MAX_SENTENCES
    return render.article_card(stored, summary, sentences=count, more=more)


def _search_reply(context: ContextTypes.DEFAULT_TYPE, query: str, offset: int) -> Reply:
    library = news(context)
    result = library.search(query, offset=offset, limit=PAGE_SIZE)
    query_id = library.remember_query(query[:2000]) if result.hits else 0
    return render.search_page(result, query, query_id, offset, PAGE_SIZE)


async def _reply(update: Update, reply: Reply) -> None:
    """Answer in the same chat (and forum topic); in groups as a reply, so it is clear to whom."""
    message = update.effective_message
    if message is None:
        return
    in_group = message.chat.type != ChatType.PRIVATE
    await message.reply_text(reply.text, reply_markup=reply.keyboard, do_quote=in_group)


async def _edit(update: Update, reply: Reply) -> None:
    """A button's answer: the same message, edited in place."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    try:
        await query.edit_message_text(reply.text, reply_markup=reply.keyboard)
    except BadRequest as exc:
        # Pressing the button of the page already shown changes nothing; that is fine.
        if "not modified" not in str(exc).lower():
            raise


async def _answer(update: Update, text: str, *, alert: bool = False) -> None:
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=alert)


async def _article_gone(update: Update) -> None:
    await _answer(update, texts.ARTICLE_GONE, alert=True)


def _callback_numbers(update: Update) -> tuple[int, int]:
    """The two numbers of 'xx:<a>:<b>' (the handler's pattern guarantees the shape)."""
    data = update.callback_query.data if update.callback_query else None
    _, first, second = str(data).split(":")
    return int(first), int(second)


def _small_number(text: str, *, high: int) -> int | None:
    """A whole number from 1 to high, or None."""
    if not re.fullmatch(r"\d{1,19}", text):
        return None
    value = int(text)
    return value if 1 <= value <= high else None
