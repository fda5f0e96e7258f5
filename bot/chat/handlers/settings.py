"""A chat's settings: /subscribe /subscriptions /unsubscribe /lang /digest /timezone /pictures,
the remove buttons, and the bot being blocked, removed or added back."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.ext import ContextTypes

from ...articles import shorten
from ...news import Refused
from .. import callbacks, jobs, render, texts
from ..i18n import AUTONYMS, Translator, language_of, shipped_language, translator
from ..render import Reply
from .common import (
    answer_button,
    button_numbers,
    chat_translator,
    command_text,
    edit,
    may_manage,
    news,
    reply,
)

log = logging.getLogger(__name__)


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe [words]: all new articles, or those matching the words (like a search)."""
    tr = chat_translator(update, context)
    chat = update.effective_chat
    if chat is None or not await may_manage(update, context):
        return
    words = command_text(update)
    try:
        new = news(context).subscribe(chat.id, chat.type, words)
    except Refused as refused:
        await reply(update, Reply(_refusal(tr, refused, words)))
        return
    user = update.effective_user
    if user and user.language_code:  # deliveries and digests will be in it (Sender)
        news(context).note_user_language(chat.id, language_of(user.language_code))
    if not new:
        text = tr(texts.ALREADY_SUBSCRIBED)
    elif words:
        text = tr.format(texts.SUBSCRIBED_WORDS, words=render.esc(" ".join(words.split())))
    else:
        text = tr(texts.SUBSCRIBED_ALL)
    await reply(update, Reply(text))


async def subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscriptions: the chat's filters, each with a remove button, and how they arrive."""
    tr = chat_translator(update, context)
    chat = update.effective_chat
    if chat is not None:
        await reply(update, _subscriptions_reply(tr, context, chat.id))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unsubscribe [words|all]: remove one filter, or all; with several and no words, ask."""
    tr = chat_translator(update, context)
    chat = update.effective_chat
    if chat is None or not await may_manage(update, context):
        return
    service = news(context)
    words = command_text(update)
    current = service.subscriptions(chat.id)
    if not current:
        await reply(update, Reply(tr(texts.UNSUBSCRIBE_NOTHING)))
        return
    if not words and len(current) > 1:
        listed = _subscriptions_reply(tr, context, chat.id)
        await reply(update, Reply(tr(texts.UNSUBSCRIBE_WHICH), listed.keyboard))
        return
    if words.lower() == "all" or (not words and len(current) == 1 and not current[0].query):
        service.unsubscribe(chat.id, None)
        await reply(update, Reply(tr(texts.UNSUBSCRIBED_ALL)))
        return
    target = words or current[0].query
    if not service.unsubscribe(chat.id, target):
        text = tr.format(texts.UNSUBSCRIBE_UNKNOWN, words=render.esc(shorten(words, 100)))
        await reply(update, Reply(text))
        return
    await reply(update, Reply(tr.format(texts.UNSUBSCRIBED, label=render.esc(target))))


async def remove_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """us:<id>:0 under /subscriptions: remove that filter and show what is left."""
    tr = chat_translator(update, context)
    chat = update.effective_chat
    if chat is None or not await may_manage(update, context):
        return
    subscription_id, _ = button_numbers(update, callbacks.UNSUBSCRIBE)
    if not news(context).unsubscribe_id(chat.id, subscription_id):
        await answer_button(update, tr(texts.SUBSCRIPTION_GONE), alert=True)
        return
    await edit(update, _subscriptions_reply(tr, context, chat.id))


async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/digest HH:MM | off: one message a day with the new articles, or one per article."""
    tr = chat_translator(update, context)
    chat = update.effective_chat
    if chat is None:
        return
    service = news(context)
    words = command_text(update)
    state = service.chat(chat.id)
    zone = state.timezone if state else "UTC"
    if not words:
        if state and state.digest_time:
            text = tr.format(texts.DIGEST_SHOW_ON, time=state.digest_time, zone=render.esc(zone))
        else:
            text = tr(texts.DIGEST_SHOW_OFF)
        await reply(update, Reply(text))
        return
    if not await may_manage(update, context):
        return
    try:
        at = service.set_digest(chat.id, chat.type, words)
    except Refused:
        await reply(update, Reply(tr(texts.DIGEST_BAD)))
        return
    if context.job_queue is not None:
        jobs.schedule_digest(context.job_queue, chat.id, at, zone)
    text = (
        tr.format(texts.DIGEST_SET, time=at, zone=render.esc(zone)) if at else tr(texts.DIGEST_OFF)
    )
    await reply(update, Reply(text))


async def lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lang [code|off]: narrow the chat's /latest and /search to one language, or show it."""
    tr = chat_translator(update, context)
    chat = update.effective_chat
    if chat is None:
        return
    service = news(context)
    value = command_text(update).strip()
    counts = service.languages()
    available = ", ".join(f"{_language_name(tr, code)} ({code}) {n}" for code, n in counts[:20])
    if not value:
        current = service.chat_language(chat.id)
        now = (
            tr.format(texts.LANG_ONE, name=_language_name(tr, current), code=current)
            if current
            else tr(texts.LANG_ALL)
        )
        example = next((c for c, _ in counts if c != current), "en")
        text = tr.format(
            texts.LANG_NOW,
            current=now,
            available=available or tr(texts.LANG_NO_ARTICLES),
            example=example,
        )
        await reply(update, Reply(render.fit(text)))
        return
    if not await may_manage(update, context):
        return
    if value.lower() in ("off", "all", "any", "none"):
        service.set_language(chat.id, chat.type, None)
        await reply(update, Reply(tr(texts.LANG_OFF)))
        return
    try:
        code = service.set_language(chat.id, chat.type, value)
    except Refused:
        text = tr.format(
            texts.LANG_NONE,
            value=render.esc(shorten(value, 40)),
            available=available or tr(texts.LANG_NO_ARTICLES),
        )
        await reply(update, Reply(render.fit(text)))
        return
    assert code is not None
    await reply(update, Reply(tr.format(texts.LANG_SET, name=_language_name(tr, code), code=code)))


async def timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timezone Area/City: the time zone of the chat's digest."""
    tr = chat_translator(update, context)
    chat = update.effective_chat
    if chat is None:
        return
    service = news(context)
    name = command_text(update)
    state = service.chat(chat.id)
    if not name:
        zone = state.timezone if state else "UTC"
        await reply(update, Reply(tr.format(texts.TIMEZONE_SHOW, zone=render.esc(zone))))
        return
    if not await may_manage(update, context):
        return
    try:
        zone = service.set_timezone(chat.id, chat.type, name)
    except Refused:
        text = tr.format(texts.TIMEZONE_BAD, name=render.esc(shorten(name, 60)))
        await reply(update, Reply(text))
        return
    if state and state.digest_time and context.job_queue is not None:
        jobs.schedule_digest(context.job_queue, chat.id, state.digest_time, zone)
    await reply(update, Reply(tr.format(texts.TIMEZONE_SET, zone=render.esc(zone))))


async def pictures(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pictures [on|off]: articles with their lead image as a large preview, or text only."""
    chat = update.effective_chat
    if chat is None:
        return
    tr = chat_translator(update, context)
    service = news(context)
    value = command_text(update).strip().lower()
    allowed = service.settings.telegram.pictures
    if not value:
        if not allowed:
            text = texts.PICTURES_DISABLED
        elif service.chat_pictures(chat.id):
            text = texts.PICTURES_SHOW_ON
        else:
            text = texts.PICTURES_SHOW_OFF
        await reply(update, Reply(tr(text)))
        return
    on = _PICTURE_WORDS.get(value)
    if on is None:
        text = tr.format(texts.PICTURES_BAD, value=render.esc(shorten(value, 40)))
        await reply(update, Reply(text))
        return
    if not await may_manage(update, context):
        return
    service.set_pictures(chat.id, chat.type, on)
    if on and not allowed:
        text = texts.PICTURES_ON_BUT_DISABLED
    else:
        text = texts.PICTURES_ON if on else texts.PICTURES_OFF
    await reply(update, Reply(tr(text)))


_PICTURE_WORDS = {
    "on": True,
    "yes": True,
    "true": True,
    "show": True,
    "off": False,
    "no": False,
    "false": False,
    "hide": False,
    "none": False,
}


async def membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """my_chat_member: the bot blocked, kicked or added back; deliveries follow."""
    change = update.my_chat_member
    if change is None:
        return
    status = change.new_chat_member.status
    chat_id = change.chat.id
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        log.info("chat %s: the bot is %s; its deliveries stop", chat_id, status)
        news(context).chat_gone(chat_id, f"bot {status}")
    elif status in (
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.OWNER,
    ):
        news(context).chat_back(chat_id)


def _subscriptions_reply(tr: Translator, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> Reply:
    service = news(context)
    current = service.subscriptions(chat_id)
    return render.subscriptions_message(tr, current, service.chat(chat_id) if current else None)


def _refusal(tr: Translator, refused: Refused, words: str) -> str:
    if refused.reason == "too_long":
        return tr.format(texts.SUBSCRIBE_TOO_LONG, count=refused.limit)
    if refused.reason == "too_many":
        return tr.format(texts.SUBSCRIBE_TOO_MANY, count=refused.limit)
    return tr.format(texts.SUBSCRIBE_NO_WORDS, words=render.esc(shorten(words, 100)))


def _language_name(tr: Translator, code: str | None) -> str:
    name = texts.LANGUAGE_NAMES.get(code or "")
    return tr(name) if name else code or "?"


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language [code|auto]: the language the bot speaks in this chat, or show it."""
    chat = update.effective_chat
    if chat is None:
        return
    tr = chat_translator(update, context)
    typed = command_text(update).strip()
    value = typed.lower()
    choices = ", ".join(f"{name} ({code})" for code, name in AUTONYMS.items())
    service = news(context)
    if not value:
        chosen = service.ui_language(chat.id)
        message = texts.LANGUAGE_CHOSEN if chosen else texts.LANGUAGE_FOLLOWS
        text = tr.format(message, name=AUTONYMS[tr.language], choices=choices)
        await reply(update, Reply(text))
        return
    if not await may_manage(update, context):
        return
    if value in ("auto", "off", "telegram"):
        service.set_ui_language(chat.id, chat.type, None)
        tr = chat_translator(update, context)
        await reply(update, Reply(tr(texts.LANGUAGE_AUTO)))
        return
    code = shipped_language(value)
    if code is None:
        text = tr.format(
            texts.LANGUAGE_UNKNOWN, value=render.esc(shorten(typed, 40)), choices=choices
        )
        await reply(update, Reply(text))
        return
    service.set_ui_language(chat.id, chat.type, code)
    tr = translator(code)
    await reply(update, Reply(tr.format(texts.LANGUAGE_SET, name=AUTONYMS[code])))
