"""The admins' commands: /reload /stats /feeds /addfeed /removefeed, and the polite no to
everyone else (app.py lets only admins through to these)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from ...articles import shorten
from ...news import Refused
from .. import delivery, render, reports, texts
from ..render import Reply
from .common import chat_translator, news, reply

log = logging.getLogger(__name__)


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload (admins): run the index operation and report what changed."""
    tr = chat_translator(update, context)
    await reply(update, Reply(tr(texts.RELOAD_STARTED)))
    try:
        report = await news(context).reload()
    except Exception as exc:  # the folder is gone, the disk is full: say so, keep running
        log.exception("reload failed")
        error = render.esc(shorten(str(exc), 500))
        await reply(update, Reply(tr.format(texts.RELOAD_ERROR, error=error)))
        return
    await delivery.after_index(context, report)
    await reply(update, Reply(reports.reload_message(tr, report)))


async def admins_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin command from someone who is not an admin: a polite no, and a line in the log."""
    tr = chat_translator(update, context)
    user = update.effective_user
    message = update.effective_message
    command = (message.text or "").split()[0] if message else "?"
    log.warning("refused %s from user %s", command, user.id if user else "?")
    await reply(update, Reply(tr(texts.ADMINS_ONLY)))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): articles, subscribed chats, deliveries, the last reload."""
    tr = chat_translator(update, context)
    await reply(update, Reply(reports.stats_message(tr, news(context).stats())))


async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feeds (admins): each feed with its state and last problem."""
    tr = chat_translator(update, context)
    await reply(update, Reply(reports.feeds_message(tr, news(context).feeds())))


async def add_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addfeed URL [name] (admins): read a feed from now on; it is polled right away."""
    tr = chat_translator(update, context)
    if not context.args:
        await reply(update, Reply(tr(texts.ADDFEED_USAGE)))
        return
    url, name = context.args[0], " ".join(context.args[1:]) or None
    try:
        added = news(context).add_feed(url, name)
    except Refused as refused:
        template = tr(texts.ADDFEED_BAD) if refused.reason == "bad_url" else tr(texts.ADDFEED_TAKEN)
        await reply(update, Reply(template.format(reason=render.esc(refused.detail))))
        return
    await reply(update, Reply(tr.format(texts.ADDFEED_DONE, name=render.esc(added))))
    report, reloaded = await news(context).poll_feeds(only=added)
    await delivery.after_index(context, reloaded)
    result = next((r for r in report.results if r.name == added), None)
    if result is not None and result.error:
        text = tr.format(
            texts.ADDFEED_FAILED, name=render.esc(added), error=render.esc(result.error)
        )
    else:
        new = result.new if result else 0
        text = tr.format(texts.ADDFEED_RESULT, count=new, name=render.esc(added))
    await reply(update, Reply(text))


async def remove_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/removefeed name (admins): stop polling a feed; its articles stay."""
    tr = chat_translator(update, context)
    name = " ".join(context.args or [])
    if not name:
        await reply(update, Reply(tr(texts.REMOVEFEED_USAGE)))
        return
    removed = news(context).remove_feed(name)
    if removed is None:
        await reply(update, Reply(tr.format(texts.REMOVEFEED_UNKNOWN, name=render.esc(name[:100]))))
        return
    await reply(update, Reply(tr.format(texts.REMOVEFEED_DONE, name=render.esc(removed))))
