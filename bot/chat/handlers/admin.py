"""The admins' commands: /reload /stats /feeds /addfeed /removefeed /export, an OPML file sent
to import its feeds, and the polite no to everyone else (app.py lets only admins through to
these)."""

from __future__ import annotations

import asyncio
import logging

from telegram import Document, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from ... import chart, feed_lists, opml
from ...articles import shorten
from ...index import Report
from ...news import Refused
from .. import jobs, render, reports, texts
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
    await jobs.after_index(context, report)
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
    """/stats (admins): articles, subscribed chats, deliveries, the last reload; then a chart
    of the last 30 days (made in a worker thread: nobody else waits for it)."""
    tr = chat_translator(update, context)
    await reply(update, Reply(reports.stats_message(tr, news(context).stats())))
    message = update.effective_message
    if message is None:
        return
    try:
        png = await news(context).stats_chart(tr)
    except Exception:  # the numbers went out already; the chart is a bonus, not a reason to fail
        log.exception("the /stats chart could not be made")
        await reply(update, Reply(tr(texts.STATS_CHART_FAILED)))
        return
    await message.reply_photo(
        png,
        caption=tr.format(texts.STATS_CHART_CAPTION, days=chart.DAYS),
        filename="stats.png",
        do_quote=message.chat.type != ChatType.PRIVATE,
    )


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
    await jobs.after_index(context, reloaded)
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


# What /export's file is called, and what a file must be called or typed as to be taken for a
# feed list (readers export .opml, some .xml; Telegram guesses the type from the name).
EXPORT_FILENAME = "newsbot-feeds.opml"
_OPML_SUFFIXES = (".opml", ".xml")
_OPML_TYPES = {
    "text/x-opml",
    "text/x-opml+xml",
    "application/x-opml",
    "text/xml",
    "application/xml",
}


def _is_opml(document: Document) -> bool:
    name = (document.file_name or "").lower()
    return name.endswith(_OPML_SUFFIXES) or (document.mime_type or "").lower() in _OPML_TYPES


async def import_feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An OPML file from an admin: add its feeds, read each once, report what became of each."""
    tr = chat_translator(update, context)
    message = update.effective_message
    document = message.document if message else None
    if message is None or document is None:
        return
    if not _is_opml(document):
        if message.chat.type == ChatType.PRIVATE:  # in a group, a file is not meant for the bot
            await reply(update, Reply(tr(texts.OPML_NOT_A_LIST)))
        return
    name = shorten(document.file_name or "the file", 80)
    if (document.file_size or 0) > opml.MAX_BYTES:
        size = opml.size_text(document.file_size or 0)
        limit = opml.size_text(opml.MAX_BYTES)
        await reply(update, Reply(tr.format(texts.OPML_TOO_LARGE, size=size, limit=limit)))
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    try:
        parsed = await asyncio.to_thread(opml.read, data)  # up to a second on a large file
    except opml.OpmlError as exc:
        reason = render.esc(str(exc))
        await reply(update, Reply(tr.format(texts.OPML_BAD, name=render.esc(name), reason=reason)))
        return
    count = len(parsed.feeds)
    await reply(update, Reply(tr.format(texts.OPML_READING, count=count, name=render.esc(name))))

    async def send_new(reloaded: Report) -> None:
        await jobs.after_index(context, reloaded)

    report = await feed_lists.import_list(news(context), parsed, indexed=send_new)
    await reply(update, Reply(reports.import_message(tr, report, name)))


async def not_admins_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file from someone who is not an admin, in a private chat: a polite no."""
    tr = chat_translator(update, context)
    user = update.effective_user
    log.info("refused a file from user %s", user.id if user else "?")
    await reply(update, Reply(tr(texts.OPML_ADMINS_ONLY)))


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export (admins): the feeds as an OPML file."""
    tr = chat_translator(update, context)
    message = update.effective_message
    feeds = news(context).feeds()
    if message is None:
        return
    if not feeds:
        await reply(update, Reply(tr(texts.EXPORT_NONE)))
        return
    await message.reply_document(
        document=feed_lists.export_list(news(context)),
        filename=EXPORT_FILENAME,
        caption=tr.format(texts.EXPORT_CAPTION, count=len(feeds)),
        do_quote=message.chat.type != ChatType.PRIVATE,
    )
