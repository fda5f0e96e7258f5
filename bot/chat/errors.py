"""The one error handler: log with the traceback, tell the user, keep running."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from . import texts

log = logging.getLogger(__name__)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Registered last; PTB calls it for any exception a handler raised."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(texts.ERROR, show_alert=True)
        elif update.effective_message:
            await update.effective_message.reply_text(texts.ERROR)
    except TelegramError:
        # Telegram itself may be what failed; the log has the original error.
        log.warning("could not tell the user about the error", exc_info=True)
