"""A chat's settings: /subscribe /subscriptions /unsubscribe /lang /digest /timezone /pictures,
the remove buttons, and the bot being blocked, removed or added back."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.ext import ContextTypes

from ...articles import shorten
from ...news import Refused
from .. import callbacks, delivery, render, texts
from ..render import Reply
from .common import answer_button, button_numbers, command_text, edit, may_manage, news, reply

log = logging.getLogger(__name__)


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe [words]: all new articles, or those matching the words (like a search)."""
    chat = update.effective_chat
    if chat is None or not await may_manage(update, context):
        return
    words = command_text(update)
    try:
        new = news(context).subscribe(chat.id, chat.type, words)
    except Refused as refused:
        await reply(update, Reply(_refusal(refused, words)))
        return
    if not new:
        text = texts.ALREADY_SUBSCRIBED
    elif words:
        text = texts.SUBSCRIBED_WORDS.format(words=render.esc(" ".join(words.split())))
    else:
        text = texts.SUBSCRIBED_ALL
    await reply(update, Reply(text))


async def subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscriptions: the chat's filters, each with a remove button, and how they arrive."""
    chat = update.effective_chat
    if chat is not None:
        await reply(update, _subscriptions_reply(context, chat.id))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unsubscribe [words|all]: remove one filter, or all; with several and no words, ask."""
    chat = update.effective_chat
    if chat is None or not await may_manage(update, context):
        return
    service = news(context)
    words = command_text(update)
    current = service.subscriptions(chat.id)
    if not current:
        await reply(update, Reply(texts.UNSUBSCRIBE_NOTHING))
        return
    if not words and len(current) > 1:
        listed = _subscriptions_reply(context, chat.id)
        await reply(update, Reply(texts.UNSUBSCRIBE_WHICH, listed.keyboard))
        return
    if words.lower() == "all" or (not words and len(current) == 1 and not current[0].query):
        service.unsubscribe(chat.id, None)
        await reply(update, Reply(texts.UNSUBSCRIBED_ALL))
        return
    target = words or current[0].query
    if not service.unsubscribe(chat.id, target):
        text = texts.UNSUBSCRIBE_UNKNOWN.format(words=render.esc(shorten(words, 100)))
        await reply(update, Reply(text))
        return
    await reply(update, Reply(texts.UNSUBSCRIBED.format(label=render.esc(target))))


async def remove_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """us:<id>:0 under /subscriptions: remove that filter and show what is left."""
    chat = update.effective_chat
    if chat is None or not await may_manage(update, context):
        return
    subscription_id, _ = button_numbers(update, callbacks.UNSUBSCRIBE)
    if not news(context).unsubscribe_id(chat.id, subscription_id):
        await answer_button(update, texts.SUBSCRIPTION_GONE, alert=True)
        return
    await edit(update, _subscriptions_reply(context, chat.id))


async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/digest HH:MM | off: one message a day with the new articles, or one per article."""
    chat = update.effective_chat
    if chat is None:
        return
    service = news(context)
    words = command_text(update)
    state = service.chat(chat.id)
    zone = state.timezone if state else "UTC"
    if not words:
        if state and state.digest_time:
            text = texts.DIGEST_SHOW_ON.format(time=state.digest_time, zone=render.esc(zone))
        else:
            text = texts.DIGEST_SHOW_OFF
        await reply(update, Reply(text))
        return
    if not await may_manage(update, context):
        return
    try:
        at = service.set_digest(chat.id, chat.type, words)
    except Refused:
        await reply(update, Reply(texts.DIGEST_BAD))
        return
    if context.job_queue is not None:
        delivery.schedule_digest(context.job_queue, chat.id, at, zone)
    text = texts.DIGEST_SET.format(time=at, zone=render.esc(zone)) if at else texts.DIGEST_OFF
    await reply(update, Reply(text))


async def lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lang [code|off]: narrow the chat's /latest and /search to one language, or show it."""
    chat = update.effective_chat
    if chat is None:
        return
    service = news(context)
    value = command_text(update).strip()
    counts = service.languages()
    available = ", ".join(f"{_language_name(code)} ({code}) {n}" for code, n in counts[:20])
    if not value:
        current = service.chat_language(chat.id)
        now = (
            texts.LANG_ONE.format(name=_language_name(current), code=current)
            if current
            else texts.LANG_ALL
        )
        example = next((c for c, _ in counts if c != current), "en")
        text = texts.LANG_NOW.format(current=now, available=available or "none", example=example)
        await reply(update, Reply(render.fit(text)))
        return
    if not await may_manage(update, context):
        return
    if value.lower() in ("off", "all", "any", "none"):
        service.set_language(chat.id, chat.type, None)
        await reply(update, Reply(texts.LANG_OFF))
        return
    try:
        code = service.set_language(chat.id, chat.type, value)
    except Refused:
        text = texts.LANG_NONE.format(
            value=render.esc(shorten(value, 40)), available=available or "none"
        )
        await reply(update, Reply(render.fit(text)))
        return
    assert code is not None
    await reply(update, Reply(texts.LANG_SET.format(name=_language_name(code), code=code)))


async def timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timezone Area/City: the time zone of the chat's digest."""
    chat = update.effective_chat
    if chat is None:
        return
    service = news(context)
    name = command_text(update)
    state = service.chat(chat.id)
    if not name:
        zone = state.timezone if state else "UTC"
        await reply(update, Reply(texts.TIMEZONE_SHOW.format(zone=render.esc(zone))))
        return
    if not await may_manage(update, context):
        return
    try:
        zone = service.set_timezone(chat.id, chat.type, name)
    except Refused:
        text = texts.TIMEZONE_BAD.format(name=render.esc(shorten(name, 60)))
        await reply(update, Reply(text))
        return
    if state and state.digest_time and context.job_queue is not None:
        delivery.schedule_digest(context.job_queue, chat.id, state.digest_time, zone)
    await reply(update, Reply(texts.TIMEZONE_SET.format(zone=render.esc(zone))))


async def pictures(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pictures [on|off]: articles with their lead image as a large preview, or text only."""
    chat = update.effective_chat
    if chat is None:
        return
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
        await reply(update, Reply(text))
        return
    on = _PICTURE_WORDS.get(value)
    if on is None:
        text = texts.PICTURES_BAD.format(value=render.esc(shorten(value, 40)))
        await reply(update, Reply(text))
        return
    if not await may_manage(update, context):
        return
    service.set_pictures(chat.id, chat.type, on)
    if on and not allowed:
        text = texts.PICTURES_ON_BUT_DISABLED
    else:
        text = texts.PICTURES_ON if on else texts.PICTURES_OFF
    await reply(update, Reply(text))


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


def _subscriptions_reply(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> Reply:
    service = news(context)
    current = service.subscriptions(chat_id)
    return render.subscriptions_message(current, service.chat(chat_id) if current else None)


def _refusal(refused: Refused, words: str) -> str:
    if refused.reason == "too_long":
        return texts.SUBSCRIBE_TOO_LONG.format(refused.limit)
    if refused.reason == "too_many":
        return texts.SUBSCRIBE_TOO_MANY.format(refused.limit)
    return texts.SUBSCRIBE_NO_WORDS.format(words=render.esc(shorten(words, 100)))


def _language_name(code: str | None) -> str:
    return texts.LANGUAGE_NAMES.get(code or "", code or "?")
