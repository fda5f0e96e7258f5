"""Handlers: thin. Each reads its input, asks News, and sends what render makes of the answer."""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from ..articles import shorten
from ..news import MAX_SENTENCES, News, Refused
from ..store import DIGEST, DROPPED, FAILED, QUEUED, SENDING, SENT, SearchTimeout
from . import delivery, render, texts
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
        text += texts.HELP_ADMIN.format(minutes=news(context).settings.feeds.poll_minutes)
    await _reply(update, Reply(text))


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/latest [n]: the newest articles, n at a time, with Read buttons and paging."""
    size = PAGE_SIZE
    if context.args:
        size = _small_number(context.args[0], high=MAX_PAGE_SIZE) or 0
        if not size:
            await _reply(update, Reply(texts.LATEST_BAD_COUNT.format(max=MAX_PAGE_SIZE)))
            return
    page = news(context).latest(limit=size, language=_chat_language(update, context))
    await _reply(update, render.latest_page(page, size))


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
    query = _command_text(update)
    if not query:
        await _reply(update, Reply(texts.SEARCH_ASK))
        return
    await _reply(update, await _search_reply(update, context, query, 0))


async def text_search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain text in a private chat is a search."""
    message = update.effective_message
    if message and message.text:
        await _reply(update, await _search_reply(update, context, message.text.strip(), 0))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command this bot does not have (but not one meant for another bot in a group)."""
    message = update.effective_message
    if not message or not message.text:
        return
    command = message.text.split()[0]
    _, _, addressee = command.partition("@")
    meant_for_another_bot = addressee.lower() != (context.bot.username or "").lower()
    if addressee and meant_for_another_bot and message.chat.type != ChatType.PRIVATE:
        return  # in a group, another bot's command is that bot's business
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
        error = render.esc(shorten(str(exc), 500))
        await _reply(update, Reply(texts.RELOAD_ERROR.format(error=error)))
        return
    if report.queued and context.job_queue is not None:
        context.job_queue.run_once(delivery.drain_job, 0, name="deliveries-now")
    lines = [
        texts.RELOAD_REPORT.format(
            queued=report.queued,
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


async def admins_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin command from someone who is not an admin: a polite no, and a line in the log."""
    user = update.effective_user
    message = update.effective_message
    command = (message.text or "").split()[0] if message else "?"
    log.warning("refused %s from user %s", command, user.id if user else "?")
    await _reply(update, Reply(texts.ADMINS_ONLY))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): articles, subscribed chats, deliveries, the last reload."""
    numbers = news(context).stats()
    deliveries = numbers["deliveries"]
    assert isinstance(deliveries, dict)
    last = numbers["last_reload"]
    if isinstance(last, tuple):
        when, report = last
        last_text = texts.STATS_LAST_RELOAD.format(
            when=when,
            added=report.get("added", 0),
            updated=report.get("updated", 0),
            removed=report.get("removed", 0),
        )
    else:
        last_text = texts.STATS_NEVER
    text = texts.STATS.format(
        articles=numbers["articles"],
        chats=numbers["chats"],
        sent=deliveries.get(SENT, 0),
        queued=deliveries.get(QUEUED, 0) + deliveries.get(SENDING, 0),
        held=deliveries.get(DIGEST, 0),
        failed=deliveries.get(FAILED, 0),
        dropped=deliveries.get(DROPPED, 0),
        last_reload=last_text,
    )
    feeds = numbers["feeds"]
    assert isinstance(feeds, list)
    if feeds:
        failing = [f for f in feeds if f.failures]
        text += texts.STATS_FEEDS.format(count=len(feeds), failing=len(failing))
        for feed in feeds:
            if feed.failures:
                text += texts.STATS_FEED_FAILING.format(
                    name=render.esc(feed.name),
                    error=render.esc(feed.last_error or "?"),
                    failures=feed.failures,
                )
            elif feed.last_error:
                text += texts.STATS_FEED_NOTE.format(
                    name=render.esc(feed.name), error=render.esc(feed.last_error)
                )
    await _reply(update, Reply(render.fit(text)))


# -- feeds (admins) -----------------------------------------------------------------------------


async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feeds (admins): each feed with its state and last problem."""
    await _reply(update, Reply(render.feeds_message(news(context).feeds())))


async def add_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addfeed URL [name] (admins): read a feed from now on; it is polled right away."""
    if not context.args:
        await _reply(update, Reply(texts.ADDFEED_USAGE))
        return
    url, name = context.args[0], " ".join(context.args[1:]) or None
    try:
        added = news(context).add_feed(url, name)
    except Refused as refused:
        template = texts.ADDFEED_BAD if refused.reason == "bad_url" else texts.ADDFEED_TAKEN
        await _reply(update, Reply(template.format(reason=render.esc(refused.detail))))
        return
    await _reply(update, Reply(texts.ADDFEED_DONE.format(name=render.esc(added))))
    report, reloaded = await news(context).poll_feeds(only=added)
    if reloaded is not None and reloaded.queued and context.job_queue is not None:
        context.job_queue.run_once(delivery.drain_job, 0, name="deliveries-now")
    result = next((r for r in report.results if r.name == added), None)
    if result is not None and result.error:
        reply = texts.ADDFEED_FAILED.format(name=render.esc(added), error=render.esc(result.error))
    else:
        new = result.new if result else 0
        articles = "article" if new == 1 else "articles"
        reply = texts.ADDFEED_RESULT.format(name=render.esc(added), new=new, articles=articles)
    await _reply(update, Reply(reply))


async def remove_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/removefeed name (admins): stop polling a feed; its articles stay."""
    name = " ".join(context.args or [])
    if not name:
        await _reply(update, Reply(texts.REMOVEFEED_USAGE))
        return
    removed = news(context).remove_feed(name)
    if removed is None:
        await _reply(update, Reply(texts.REMOVEFEED_UNKNOWN.format(name=render.esc(name[:100]))))
        return
    await _reply(update, Reply(texts.REMOVEFEED_DONE.format(name=render.esc(removed))))


# -- subscriptions ------------------------------------------------------------------------------


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe [words]: all new articles, or those matching the words (like a search)."""
    chat = update.effective_chat
    if chat is None or not await _may_manage(update, context):
        return
    words = _command_text(update)
    try:
        new = news(context).subscribe(chat.id, chat.type, words)
    except Refused as refused:
        await _reply(update, Reply(_refusal(refused, words)))
        return
    if not new:
        text = texts.ALREADY_SUBSCRIBED
    elif words:
        text = texts.SUBSCRIBED_WORDS.format(words=render.esc(" ".join(words.split())))
    else:
        text = texts.SUBSCRIBED_ALL
    await _reply(update, Reply(text))


async def subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscriptions: the chat's filters, each with a remove button, and how they arrive."""
    chat = update.effective_chat
    if chat is not None:
        await _reply(update, _subscriptions_reply(context, chat.id))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unsubscribe [words|all]: remove one filter, or all; with several and no words, ask."""
    chat = update.effective_chat
    if chat is None or not await _may_manage(update, context):
        return
    library = news(context)
    words = _command_text(update)
    current = library.subscriptions(chat.id)
    if not current:
        await _reply(update, Reply(texts.UNSUBSCRIBE_NOTHING))
        return
    if not words and len(current) > 1:
        reply = _subscriptions_reply(context, chat.id)
        await _reply(update, Reply(texts.UNSUBSCRIBE_WHICH, reply.keyboard))
        return
    if words.lower() == "all" or (not words and len(current) == 1 and not current[0].query):
        library.unsubscribe(chat.id, None)
        await _reply(update, Reply(texts.UNSUBSCRIBED_ALL))
        return
    target = words or current[0].query
    if not library.unsubscribe(chat.id, target):
        text = texts.UNSUBSCRIBE_UNKNOWN.format(words=render.esc(shorten(words, 100)))
        await _reply(update, Reply(text))
        return
    await _reply(update, Reply(texts.UNSUBSCRIBED.format(label=render.esc(target))))


async def remove_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """us:<id>:0 under /subscriptions: remove that filter and show what is left."""
    chat = update.effective_chat
    if chat is None or not await _may_manage(update, context):
        return
    subscription_id, _ = _callback_numbers(update)
    if not news(context).unsubscribe_id(chat.id, subscription_id):
        await _answer(update, texts.SUBSCRIPTION_GONE, alert=True)
        return
    await _edit(update, _subscriptions_reply(context, chat.id))


async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/digest HH:MM | off: one message a day with the new articles, or one per article."""
    chat = update.effective_chat
    if chat is None:
        return
    library = news(context)
    words = _command_text(update)
    state = library.chat(chat.id)
    zone = state.timezone if state else "UTC"
    if not words:
        if state and state.digest_time:
            text = texts.DIGEST_SHOW_ON.format(time=state.digest_time, zone=render.esc(zone))
        else:
            text = texts.DIGEST_SHOW_OFF
        await _reply(update, Reply(text))
        return
    if not await _may_manage(update, context):
        return
    try:
        at = library.set_digest(chat.id, chat.type, words)
    except Refused:
        await _reply(update, Reply(texts.DIGEST_BAD))
        return
    if context.job_queue is not None:
        delivery.schedule_digest(context.job_queue, chat.id, at, zone)
    text = texts.DIGEST_SET.format(time=at, zone=render.esc(zone)) if at else texts.DIGEST_OFF
    await _reply(update, Reply(text))


async def lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lang [code|off]: narrow the chat's /latest and /search to one language, or show it."""
    chat = update.effective_chat
    if chat is None:
        return
    library = news(context)
    value = _command_text(update).strip()
    counts = library.languages()
    available = ", ".join(f"{_language_name(code)} ({code}) {n}" for code, n in counts[:20])
    if not value:
        current = library.chat_language(chat.id)
        now = (
            texts.LANG_ONE.format(name=_language_name(current), code=current)
            if current
            else texts.LANG_ALL
        )
        example = next((c for c, _ in counts if c != current), "en")
        text = texts.LANG_NOW.format(current=now, available=available or "none", example=example)
        await _reply(update, Reply(render.fit(text)))
        return
    if not await _may_manage(update, context):
        return
    if value.lower() in ("off", "all", "any", "none"):
        library.set_language(chat.id, chat.type, None)
        await _reply(update, Reply(texts.LANG_OFF))
        return
    try:
        code = library.set_language(chat.id, chat.type, value)
    except Refused:
        text = texts.LANG_NONE.format(
            value=render.esc(shorten(value, 40)), available=available or "none"
        )
        await _reply(update, Reply(render.fit(text)))
        return
    assert code is not None
    await _reply(update, Reply(texts.LANG_SET.format(name=_language_name(code), code=code)))


def _chat_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    chat = update.effective_chat
    return news(context).chat_language(chat.id) if chat else None


def _language_name(code: str | None) -> str:
    return texts.LANGUAGE_NAMES.get(code or "", code or "?")


async def timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timezone Area/City: the time zone of the chat's digest."""
    chat = update.effective_chat
    if chat is None:
        return
    library = news(context)
    name = _command_text(update)
    state = library.chat(chat.id)
    if not name:
        zone = state.timezone if state else "UTC"
        await _reply(update, Reply(texts.TIMEZONE_SHOW.format(zone=render.esc(zone))))
        return
    if not await _may_manage(update, context):
        return
    try:
        zone = library.set_timezone(chat.id, chat.type, name)
    except Refused:
        text = texts.TIMEZONE_BAD.format(name=render.esc(shorten(name, 60)))
        await _reply(update, Reply(text))
        return
    if state and state.digest_time and context.job_queue is not None:
        delivery.schedule_digest(context.job_queue, chat.id, state.digest_time, zone)
    await _reply(update, Reply(texts.TIMEZONE_SET.format(zone=render.esc(zone))))


async def membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """my_chat_member: the bot blocked, kicked or added back; deliveries follow."""
    change = update.my_chat_member
    if change is None:
        return
    status = change.new_chat_member.status
    chat_id = change.chat.id
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        log.info("chat %s: the bot is %s; its deliveries stop", chat_id, status)
        news(context).store.deactivate_chat(chat_id, f"bot {status}")
    elif status in (
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.OWNER,
    ):
        news(context).store.activate_chat(chat_id)


# -- buttons ------------------------------------------------------------------------------------


async def latest_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """lt:<offset>:<size>: another page of /latest, in the same message."""
    offset, size = _callback_numbers(update)
    size = max(1, min(size, MAX_PAGE_SIZE))
    page = news(context).latest(offset=offset, limit=size, language=_chat_language(update, context))
    await _edit(update, render.latest_page(page, size))


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
    # Paging a 5 MB article takes a tenth of a second: in a thread, others are answered meanwhile.
    reply = await asyncio.to_thread(
        render.full_text_page, stored, page, summary_sentences=news(context).default_sentences
    )
    await _edit(update, reply)


async def search_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """sr:<query id>:<offset>: another page of a search."""
    query_id, offset = _callback_numbers(update)
    chat = update.effective_chat
    # A query saved by another chat is as unknown here as one never saved.
    query = news(context).query_text(query_id, chat.id) if chat else None
    if query is None:
        await _answer(update, texts.SEARCH_EXPIRED, alert=True)
        return
    await _edit(update, await _search_reply(update, context, query, offset))


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
        try:
            found = await library.search(text, limit=INLINE_RESULTS)
        except SearchTimeout:
            log.warning("inline search stopped at its time limit: %r", shorten(text, 100))
            await query.answer([], cache_time=5, is_personal=False)
            return
        ids = [hit.id for hit in found.hits]
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


def _subscriptions_reply(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> Reply:
    library = news(context)
    current = library.subscriptions(chat_id)
    if not current:
        return Reply(texts.SUBSCRIPTIONS_NONE)
    state = library.chat(chat_id)
    if state and state.digest_time:
        how = texts.DELIVERY_DIGEST.format(time=state.digest_time, zone=render.esc(state.timezone))
    else:
        how = texts.DELIVERY_INSTANT
    labels = [s.query or texts.SUBSCRIPTION_ALL for s in current]
    lines = [texts.SUBSCRIPTIONS_TITLE, ""]
    lines += [f"• {render.esc(label)}" for label in labels]
    lines += ["", how]
    keyboard = [
        [render.button(texts.BUTTON_REMOVE.format(label=shorten(label, 40)), f"us:{sub.id}:0")]
        for sub, label in zip(current, labels, strict=True)
    ]
    return Reply(render.fit("\n".join(lines)), InlineKeyboardMarkup(keyboard))


async def _may_manage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Anyone in a private chat; in a group, its admins (anonymous ones included)."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    message = update.effective_message
    if message and message.sender_chat and message.sender_chat.id == chat.id:
        return True  # an anonymous admin posts as the group itself
    if user is not None:
        member = await context.bot.get_chat_member(chat.id, user.id)
        if member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
            return True
    if update.callback_query:
        await _answer(update, texts.GROUP_ADMINS_ONLY, alert=True)
    else:
        await _reply(update, Reply(texts.GROUP_ADMINS_ONLY))
    return False


def _refusal(refused: Refused, words: str) -> str:
    if refused.reason == "too_long":
        return texts.SUBSCRIBE_TOO_LONG.format(limit=refused.limit)
    if refused.reason == "too_many":
        return texts.SUBSCRIBE_TOO_MANY.format(limit=refused.limit)
    return texts.SUBSCRIBE_NO_WORDS.format(words=render.esc(shorten(words, 100)))


def _command_text(update: Update) -> str:
    """What follows the command, as typed (quotes and all)."""
    message = update.effective_message
    return (message.text or "").partition(" ")[2].strip() if message else ""


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
    others = library.story_sources(article_id)
    return render.article_card(stored, summary, sentences=count, more=more, others=others)


async def _search_reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, query: str, offset: int
) -> Reply:
    """A page of hits, in the chat's language if it chose one (/lang); the query is saved for
    the paging buttons, for this chat only."""
    library = news(context)
    language = _chat_language(update, context)
    try:
        result = await library.search(query, offset=offset, limit=PAGE_SIZE, language=language)
    except SearchTimeout:
        log.warning("search stopped at its time limit: %r", shorten(query, 100))
        return Reply(texts.SEARCH_TOO_SLOW)
    chat = update.effective_chat
    query_id = library.remember_query(chat.id, query[:2000]) if result.hits and chat else 0
    return render.search_page(result, query, query_id, offset, PAGE_SIZE)


async def flood_notice(update: Update) -> None:
    """The one answer to someone over the flood limit (see traffic.py); what they send until
    it has passed is dropped without an answer."""
    if update.callback_query:
        await update.callback_query.answer(texts.FLOOD)
    elif update.message:
        await _reply(update, Reply(texts.FLOOD))


async def _reply(update: Update, reply: Reply) -> None:
    """Answer in the same chat (and forum topic); in groups as a reply, so it is clear to whom."""
    message = update.effective_message
    if message is None:
        return
    in_group = message.chat.type != ChatType.PRIVATE
    await message.reply_text(_fitted(reply), reply_markup=reply.keyboard, do_quote=in_group)


async def _edit(update: Update, reply: Reply) -> None:
    """A button's answer: the same message, edited in place."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    try:
        await query.edit_message_text(_fitted(reply), reply_markup=reply.keyboard)
    except BadRequest as exc:
        # Pressing the button of the page already shown changes nothing; that is fine.
        if "not modified" not in str(exc).lower():
            raise


def _fitted(reply: Reply) -> str:
    """The last check before anything is sent: render makes every text fit, and if one ever
    does not, it is cut here (and logged) rather than refused by Telegram."""
    size = render.units(reply.text)
    if size <= render.MAX_MESSAGE:
        return reply.text
    log.error("a reply of %d UTF-16 units was cut to Telegram's %d", size, render.MAX_MESSAGE)
    return render.fit(reply.text)


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
