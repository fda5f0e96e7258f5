"""The one error handler: log with the traceback, tell the user, keep running; and the two
errors the bot cannot keep running through, after which it stops itself with one line for the
operator and a non-zero exit status (so that a supervisor restarts it, or a person looks):

- Telegram refuses the bot's token (401: revoked or rotated). Nothing can be sent; queued
  deliveries stay queued for the next start.
- The database file is gone or damaged (removed, replaced or overwritten while running, or
  SQLite finds it malformed). Nothing more is written to it, so nothing is answered as done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ContextTypes

from ..store import DatabaseUnusable
from . import texts
from .i18n import language_of, translator

log = logging.getLogger(__name__)

# Exit statuses, as the command line uses them: 1 a file could not be used, 2 bad settings.
DATABASE_STATUS = 1
TOKEN_STATUS = 2
TOKEN_REFUSED = (
    "newsbot: Telegram rejected the bot token (401 Unauthorized); fix TELEGRAM_BOT_TOKEN and"
    " start again"
)


@dataclass(frozen=True)
class Fatal:
    """Why the bot stopped itself: the line for standard error, and the exit status."""

    line: str
    status: int


def fatal_error(
    error: object, application: Application[Any, Any, Any, Any, Any, Any]
) -> Fatal | None:
    """The Fatal an exception means (a refused token, an unusable database), else None."""
    if isinstance(error, InvalidToken):
        return Fatal(TOKEN_REFUSED, TOKEN_STATUS)
    unusable = error if isinstance(error, DatabaseUnusable) else None
    news = application.bot_data.get("news")
    if unusable is None and news is not None and isinstance(error, Exception):
        unusable = news.unusable(error)  # a damaged page met by a read
    if unusable is not None:
        return Fatal(f"newsbot: {unusable}", DATABASE_STATUS)
    return None


def stop_for(application: Application[Any, Any, Any, Any, Any, Any], fatal: Fatal) -> None:
    """Stop the bot for good: the updates and deliveries in hand are finished (and recorded,
    where the database allows), then `run` prints the line and exits with the status. The
    first reason is the one given."""
    if stopped_for(application) is not None:
        return
    application.bot_data["fatal"] = fatal
    log.critical("stopping: %s", fatal.line.removeprefix("newsbot: "))
    updater = application.updater
    if application.running and updater is not None and not updater.running:
        # run_polling is already stopping the Updater (a stop signal came first); stopping its
        # event loop now would break that stop off.
        return
    application.stop_running()


def stopped_for(application: Application[Any, Any, Any, Any, Any, Any]) -> Fatal | None:
    fatal = application.bot_data.get("fatal")
    return fatal if isinstance(fatal, Fatal) else None


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Registered last; PTB calls it for any exception a handler or a job raised."""
    fatal = fatal_error(context.error, context.application)
    if fatal is not None:
        stop_for(context.application, fatal)
        if isinstance(context.error, InvalidToken):
            return  # nothing can be said to anyone, and the line above says it all
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    # The sender's Telegram language, not the chat's stored one: the database may be the error.
    user = update.effective_user
    tr = translator(language_of(user.language_code if user else None))
    try:
        if update.callback_query:
            await update.callback_query.answer(tr(texts.ERROR), show_alert=True)
        elif update.effective_message:
            await update.effective_message.reply_text(tr(texts.ERROR))
    except TelegramError:
        # Telegram itself may be what failed; the log has the original error.
        log.warning("could not tell the user about the error", exc_info=True)
