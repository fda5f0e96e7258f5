"""The admins' commands: /reload /stats /feeds /addfeed /removefeed, and the polite no to
everyone else (app.py lets only admins through to these)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from ... import chart
from ...articles import shorten
from ...news import Refused
from .. import delivery, render, reports, texts
from ..render import Reply
from .common import news, reply

log = logging.getLogger(__name__)


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload (admins): run the index operation and report what changed."""
    await reply(update, Reply(texts.RELOAD_STARTED))
    try:
        report = await news(context).reload()
    except Exception as exc:  # the folder is gone, the disk is full: say so, keep running
        log.exception("reload failed")
        error = render.esc(shorten(str(exc), 500))
        await reply(update, Reply(texts.RELOAD_ERROR.format(error=error)))
        return
    await delivery.after_index(context, report)
    await reply(update, Reply(reports.reload_message(report)))


async def admins_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin command from someone who is not an admin: a polite no, and a line in the log."""
    user = update.effective_user
    message = update.effective_message
    command = (message.text or "").split()[0] if message else "?"
    log.warning("refused %s from user %s", command, user.id if user else "?")
    await reply(update, Reply(texts.ADMINS_ONLY))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): articles, subscribed chats, deliveries, the last reload; then a chart
    of the last 30 days (made in a worker thread: nobody else waits for it)."""
    await reply(update, Reply(reports.stats_message(news(context).stats())))
    message = update.effective_message
    if message is None:
        return
    try:
        png = await news(context).stats_chart()
    except Exception:  # the numbers went out already; the chart is a bonus, not a reason to fail
        log.exception("the /stats chart could not be made")
        await reply(update, Reply(texts.STATS_CHART_FAILED))
        return
    await message.reply_photo(
        png,
        caption=texts.STATS_CHART_CAPTION.format(days=chart.DAYS),
        filename="stats.png",
        do_quote=message.chat.type != ChatType.PRIVATE,
    )


async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feeds (admins): each feed with its state and last problem."""
    await reply(update, Reply(reports.feeds_message(news(context).feeds())))


async def add_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addfeed URL [name] (admins): read a feed from now on; it is polled right away."""
    if not context.args:
        await reply(update, Reply(texts.ADDFEED_USAGE))
        return
    url, name = context.args[0], " ".join(context.args[1:]) or None
    try:
        added = news(context).add_feed(url, name)
    except Refused as refused:
        template = texts.ADDFEED_BAD if refused.reason == "bad_url" else texts.ADDFEED_TAKEN
        await reply(update, Reply(template.format(reason=render.esc(refused.detail))))
        return
    await reply(update, Reply(texts.ADDFEED_DONE.format(name=render.esc(added))))
    report, reloaded = await news(context).poll_feeds(only=added)
    await delivery.after_index(context, reloaded)
    result = next((r for r in report.results if r.name == added), None)
    if result is not None and result.error:
        text = texts.ADDFEED_FAILED.format(name=render.esc(added), error=render.esc(result.error))
    else:
        new = result.new if result else 0
        articles = "article" if new == 1 else "articles"
        text = texts.ADDFEED_RESULT.format(name=render.esc(added), new=new, articles=articles)
    await reply(update, Reply(text))


async def remove_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/removefeed name (admins): stop polling a feed; its articles stay."""
    name = " ".join(context.args or [])
    if not name:
        await reply(update, Reply(texts.REMOVEFEED_USAGE))
        return
    removed = news(context).remove_feed(name)
    if removed is None:
        await reply(update, Reply(texts.REMOVEFEED_UNKNOWN.format(name=render.esc(name[:100]))))
        return
    await reply(update, Reply(texts.REMOVEFEED_DONE.format(name=render.esc(removed))))
