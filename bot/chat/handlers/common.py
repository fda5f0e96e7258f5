"""What every handler shares: News, replying and editing, button data, who may do what."""

from __future__ import annotations

import logging
import re

from telegram import LinkPreviewOptions, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ContextTypes

from ...news import News
from .. import render, texts
from ..callbacks import Kind
from ..i18n import Translator, language_of, translator
from ..render import Reply

log = logging.getLogger(__name__)


def news(context: ContextTypes.DEFAULT_TYPE) -> News:
    """News: the articles, chats and feeds as the chat sees them (opened in app.py)."""
    service = context.bot_data["news"]
    assert isinstance(service, News)
    return service


async def once_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram sends an update again when it did not see it answered (a webhook reply lost or
    late, a bot killed before it confirmed a batch): the second time, no handler runs. (First
    of every update's handlers: it also starts the update's reads of its chat's row.)"""
    news(context).begin_update()
    if not news(context).first_sight(update.update_id):
        log.info("update %s came again: handled once already", update.update_id)
        raise ApplicationHandlerStop


def chat_translator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Translator:
    """The language the bot speaks here: the chat's choice (/language), else the Telegram
    language of the person writing, else English."""
    chat = update.effective_chat
    chosen = news(context).ui_language(chat.id) if chat else None
    user = update.effective_user
    return translator(chosen or language_of(user.language_code if user else None))


async def reply(update: Update, answer: Reply) -> None:
    """Answer in the same chat (and forum topic); in groups as a reply, so it is clear to whom."""
    message = update.effective_message
    if message is None:
        return
    in_group = message.chat.type != ChatType.PRIVATE
    text = fitted(answer)
    try:
        await message.reply_text(
            text,
            reply_markup=answer.keyboard,
            do_quote=in_group,
            link_preview_options=preview(answer),
        )
    except BadRequest as exc:
        if answer.preview is None:
            raise
        # Refused with the article's picture as the preview: the article without it.
        log.warning("reply refused with its picture (%s); sent without", exc.message)
        await message.reply_text(text, reply_markup=answer.keyboard, do_quote=in_group)


async def edit(update: Update, answer: Reply) -> None:
    """A button's answer: the same message, edited in place."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    text = fitted(answer)
    try:
        await query.edit_message_text(
            text, reply_markup=answer.keyboard, link_preview_options=preview(answer)
        )
    except BadRequest as exc:
        if "not modified" in exc.message.lower():
            return  # pressing the button of the page already shown changes nothing: fine
        if answer.preview is None:
            raise
        # Refused with the article's picture as the preview: the article without it.
        log.warning("edit refused with its picture (%s); made without", exc.message)
        await query.edit_message_text(text, reply_markup=answer.keyboard)


def preview(answer: Reply) -> ODVInput[LinkPreviewOptions]:
    """The link preview of a send or an edit: the article's picture, else the Application's
    default (no preview), so an edit from a card with a picture to a page without one takes the
    picture away. (None would not: it means Telegram's own default, a preview of the first link
    in the text.)"""
    return answer.preview or DEFAULT_NONE


def fitted(answer: Reply) -> str:
    """The last check before anything is sent: render makes every text fit, and if one ever
    does not, it is cut here (and logged) rather than refused by Telegram."""
    size = render.units(answer.text)
    if size <= render.MAX_MESSAGE:
        return answer.text
    log.error("a reply of %d UTF-16 units was cut to Telegram's %d", size, render.MAX_MESSAGE)
    return render.fit(answer.text)


async def answer_button(update: Update, text: str, *, alert: bool = False) -> None:
    """A button's answer as a notice (or an alert) rather than an edit."""
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=alert)


async def flood_notice(update: Update) -> None:
    """The one answer to someone over the flood limit (see traffic.py); what they send until
    it has passed is dropped without an answer. (In the sender's Telegram language: a flood is
    no time to read the database.)"""
    user = update.effective_user
    tr = translator(language_of(user.language_code if user else None))
    if update.callback_query:
        await update.callback_query.answer(tr(texts.FLOOD))
    elif update.message:
        await reply(update, Reply(tr(texts.FLOOD)))


def button_numbers(update: Update, kind: Kind) -> tuple[int, int]:
    """The two numbers of the pressed button's data (the handler's pattern guarantees them)."""
    data = update.callback_query.data if update.callback_query else None
    return kind.parse(data)


async def may_manage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
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
    tr = chat_translator(update, context)  # only now: a refusal is the rare case
    if update.callback_query:
        await answer_button(update, tr(texts.GROUP_ADMINS_ONLY), alert=True)
    else:
        await reply(update, Reply(tr(texts.GROUP_ADMINS_ONLY)))
    return False


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """One of the bot's admins (telegram.admins in the configuration)."""
    user = update.effective_user
    return user is not None and user.id in news(context).settings.telegram.admins


def command_text(update: Update) -> str:
    """What follows the command, as typed (quotes and all)."""
    message = update.effective_message
    return (message.text or "").partition(" ")[2].strip() if message else ""


def chat_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The language the chat chose with /lang, if any."""
    chat = update.effective_chat
    return news(context).chat_language(chat.id) if chat else None


def remember_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, article_ids: list[int]
) -> None:
    """Keep the list of articles this chat is being shown, so that `/read 2` can mean its
    second article (News.pick)."""
    chat = update.effective_chat
    if chat and article_ids:
        news(context).remember_list(chat.id, article_ids)


def small_number(text: str, *, high: int) -> int | None:
    """A whole number from 1 to high, or None."""
    if not re.fullmatch(r"\d{1,19}", text):
        return None
    value = int(text)
    return value if 1 <= value <= high else None
