"""Building and running the Application: the one place that wires Telegram to News (bot/news.py)."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from ..config import ConfigError, Settings
from ..news import News
from ..store import DatabaseUnusable, StoreUnavailable, is_url, open_store
from . import callbacks, jobs, texts
from .delivery import Sender
from .errors import TOKEN_REFUSED, TOKEN_STATUS, Fatal, error_handler, stop_for, stopped_for
from .handlers import admin as admin_handlers
from .handlers import common, reading
from .handlers import settings as chat_settings
from .i18n import DEFAULT_LANGUAGE, LANGUAGES, translator
from .traffic import FairUpdateProcessor, FloodGate

log = logging.getLogger(__name__)
# How often the database file is checked to be the one opened (see watch_database).
WATCH_SECONDS = 1.0
# Requests the overall limiter lets through at once: 2 rather than 1 absorbs the event loop's
# timer jitter (with 1 the achieved rate was 8 % under the limit; bench/delivery.py).
BURST = 2

# PTB's Application is generic over six types (bot, context, user/chat/bot data, job queue).
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(
    settings: Settings,
    *,
    token: str,
    request: BaseRequest | None = None,
    rate_limit: bool = True,
) -> AnyApplication:
    """The bot: handlers registered, News opened in post_init and closed at shutdown.

    `request` replaces the network (the terminal chat and the tests pass a local Bot API);
    `rate_limit` keeps within Telegram's flood limits (off where nothing reaches Telegram).
    """
    base_url = settings.telegram.api_base_url
    # Updates are handled concurrently (a slow search holds up nobody else), each person's in
    # order, and a flood is answered once and then dropped: see traffic.py.
    gate = FloodGate(
        messages=settings.telegram.flood_messages, seconds=settings.telegram.flood_seconds
    )
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(_file_url(base_url))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(FairUpdateProcessor(gate, common.flood_notice))
        .post_init(open_news)
        .post_shutdown(close_news)
    )
    # Every call goes through a TokenWatch: a 401 on any of them (a poll, a delivery, a reply)
    # stops the bot (the pool sizes are PTB's defaults).
    watches = (
        TokenWatch(request or HTTPXRequest(connection_pool_size=256)),
        TokenWatch(request or HTTPXRequest(connection_pool_size=1)),
    )
    builder = builder.request(watches[0]).get_updates_request(watches[1])
    if rate_limit:
        pace = settings.delivery
        limiter = AIORateLimiter(
            # One request per 1/rate seconds rather than `rate` per second: aiolimiter's bucket
            # would let a whole second's worth through at once, and then any one-second window
            # could see up to twice the limit (measured by bench/delivery.py).
            overall_max_rate=BURST,
            overall_time_period=BURST / pace.max_per_second,
            group_max_rate=pace.group_per_minute,
            group_time_period=60,
            # A reply that meets flood control waits and goes out instead of being lost.
            max_retries=2,
        )
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB's stubs
    application = builder.build()
    application.bot_data["settings"] = settings
    for watch in watches:
        watch.on_refused = lambda: stop_for(application, Fatal(TOKEN_REFUSED, TOKEN_STATUS))
    register_handlers(application, settings)
    return application


def register_handlers(application: AnyApplication, settings: Settings) -> None:
    """Every handler, in the order PTB tries them (the first match in a group wins)."""
    admins = filters.User(user_id=settings.telegram.admins)
    private = filters.ChatType.PRIVATE
    # Before every other handler: an update Telegram sends again is handled once.
    application.add_handler(TypeHandler(Update, common.once_only), group=-1)
    for handler in (
        CommandHandler("start", reading.start),
        CommandHandler("help", reading.help_command),
        CommandHandler("latest", reading.latest),
        CommandHandler("read", reading.read),
        CommandHandler("search", reading.search),
        # Admin commands: the filtered handler first, the polite refusal for everyone else.
        # A reload takes seconds to minutes: block=False keeps everyone else answered meanwhile.
        CommandHandler("reload", admin_handlers.reload, filters=admins, block=False),
        CommandHandler("stats", admin_handlers.stats, filters=admins),
        CommandHandler("feeds", admin_handlers.feeds, filters=admins),
        # Adding a feed reads it at once (seconds): not in everyone else's way.
        CommandHandler("addfeed", admin_handlers.add_feed, filters=admins, block=False),
        CommandHandler("removefeed", admin_handlers.remove_feed, filters=admins),
        CommandHandler("export", admin_handlers.export, filters=admins),
        CommandHandler(
            ["reload", "stats", "feeds", "addfeed", "removefeed", "export"],
            admin_handlers.admins_only,
        ),
        CommandHandler("subscribe", chat_settings.subscribe),
        CommandHandler("subscriptions", chat_settings.subscriptions),
        CommandHandler("unsubscribe", chat_settings.unsubscribe),
        CommandHandler("digest", chat_settings.digest),
        CommandHandler("timezone", chat_settings.timezone),
        CommandHandler("lang", chat_settings.lang),
        CommandHandler("pictures", chat_settings.pictures),
        CommandHandler("language", chat_settings.language),
        # After every command above: a command nobody handled.
        MessageHandler(filters.COMMAND, reading.unknown_command),
        # A file from an admin may be a feed list (OPML) to import: it reads every feed once,
        # so not in everyone else's way. Anyone else's file in a private chat: a polite no.
        MessageHandler(
            admins & filters.UpdateType.MESSAGE & filters.Document.ALL,
            admin_handlers.import_feeds,
            block=False,
        ),
        MessageHandler(private & filters.Document.ALL, admin_handlers.not_admins_file),
        # Plain text in a private chat is a search; anything else there gets a hint.
        MessageHandler(private & filters.TEXT, reading.text_search),
        MessageHandler(private & filters.UpdateType.MESSAGE, reading.not_text),
        # Buttons; a pattern that no longer exists falls through to stale_button.
        CallbackQueryHandler(reading.latest_button, pattern=callbacks.LATEST.pattern),
        CallbackQueryHandler(reading.read_button, pattern=callbacks.READ.pattern),
        CallbackQueryHandler(reading.full_text_button, pattern=callbacks.FULL_TEXT.pattern),
        CallbackQueryHandler(reading.search_button, pattern=callbacks.SEARCH.pattern),
        CallbackQueryHandler(chat_settings.remove_button, pattern=callbacks.UNSUBSCRIBE.pattern),
        CallbackQueryHandler(reading.stale_button),
        InlineQueryHandler(reading.inline_query),
        # The bot blocked, kicked or added back: deliveries stop or resume.
        ChatMemberHandler(chat_settings.membership, ChatMemberHandler.MY_CHAT_MEMBER),
    ):
        application.add_handler(handler)
    application.add_error_handler(error_handler)


async def open_news(application: AnyApplication) -> None:
    """post_init: open the store, start indexing the folder in the background, show the command
    menu, start the jobs. The bot answers from the database as it is meanwhile: a first start
    on a big folder indexes for hours, and a warm one for seconds (jobs.index_at_start)."""
    settings: Settings = application.bot_data["settings"]
    news = News(settings, open_store(settings.database))
    application.bot_data["news"] = news
    news.sync_feeds()
    jobs.start_index(application)
    # The summarizer's imports and workers take a second or two: not before the first answer
    # (a summary asked for meanwhile starts the workers itself).
    application.bot_data[WARM_UP] = asyncio.get_running_loop().create_task(
        _warm_up(news), name=WARM_UP
    )
    await set_commands(application, settings)
    service = Sender(
        news,
        application.bot,
        per_second=settings.delivery.max_per_second,
        per_chat_seconds=settings.delivery.per_chat_seconds,
        running=lambda: application.running,
    )
    application.bot_data["sender"] = service
    # The once-only jobs (sending, feed polls, digests, reloads) run where the lease is held:
    # here at once on SQLite; on a shared database, here if no other process leads.
    application.bot_data["lease"] = news.lease()
    application.bot_data["leading"] = False
    await jobs.lead(application)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            jobs.lead_job, interval=jobs.LEAD_SECONDS, first=jobs.LEAD_SECONDS, name="leader"
        )
        application.job_queue.run_repeating(
            watch_database, interval=WATCH_SECONDS, first=WATCH_SECONDS, name="database-watch"
        )
        application.job_queue.run_repeating(
            forget_old_queries, interval=86400, first=60, name="forget-old-queries"
        )


WARM_UP = "warm-up"


async def _warm_up(news: News) -> None:
    try:
        await news.warm_up()
    except Exception:  # the first summary then starts them, or says what is wrong
        log.exception("could not start the summary workers ahead of time")


async def watch_database(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Is the database file still the one opened? Writes check it too, but a bot with nothing
    to write would go on answering from a removed file. DatabaseUnusable goes to the error
    handler, which stops the bot."""
    news = context.bot_data.get("news")
    if isinstance(news, News):
        news.check_file()


async def forget_old_queries(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Daily: saved searches and shown lists unused for a month are deleted."""
    news = context.bot_data.get("news")
    if isinstance(news, News):
        try:
            gone = news.forget_old_queries(time.time())
        except StoreUnavailable as exc:  # busy: tomorrow's run takes them
            log.warning("old saved searches not deleted: %s", exc)
            return
        if gone:
            log.info("deleted %d saved searches and lists unused for a month", gone)


async def close_news(application: AnyApplication) -> None:
    """post_shutdown: the start-up index run is stopped, what Telegram answered is written
    (waiting for the database if it must), then the store is closed."""
    await jobs.stop_index(application)
    warming = application.bot_data.pop(WARM_UP, None)
    if isinstance(warming, asyncio.Task):
        await warming  # a second or two at most; it logs its own failure
    service = application.bot_data.pop("sender", None)
    if isinstance(service, Sender):
        await service.finish()
    lease = application.bot_data.pop("lease", None)
    if lease is not None:  # another process may lead at once
        lease.release()
    news = application.bot_data.pop("news", None)
    if isinstance(news, News):
        news.close()


async def set_commands(application: AnyApplication, settings: Settings) -> None:
    """The command menu in each language (Telegram shows a user the one for their app's
    language, English otherwise): everyone's, and the admins' (with admin commands) by chat
    scope."""
    for language in LANGUAGES:
        tr = translator(language)
        code = None if language == DEFAULT_LANGUAGE else language
        commands = [BotCommand(name, tr(text)) for name, text in texts.COMMANDS]
        await application.bot.set_my_commands(commands, language_code=code)
        admin_commands = commands + [
            BotCommand(name, tr(text)) for name, text in texts.ADMIN_COMMANDS
        ]
        for admin in sorted(settings.telegram.admins):
            try:
                await application.bot.set_my_commands(
                    admin_commands, scope=BotCommandScopeChat(admin), language_code=code
                )
            except TelegramError as exc:
                # An admin who never opened a chat with the bot has no chat to scope to yet.
                log.warning("no admin command menu for user %s: %s", admin, exc)
                break


def run(settings: Settings, *, token: str, webhook: bool, verbose: bool = False) -> int:
    """`python -m bot run`: long polling (pending updates kept), or a webhook server.

    Exit status: 0 after a stop signal; 2 when Telegram refuses the token, 1 when the database
    cannot be used (at start, or gone or damaged while running): one line says which."""
    # -v: DEBUG (PTB's own polling and dispatching included); else INFO.
    level = logging.DEBUG if verbose else logging.INFO
    # The database's password too, should a driver's message ever carry its URL.
    password = urlsplit(str(settings.database)).password if is_url(settings.database) else None
    secrets = (token, settings.telegram.webhook_secret, *([password] if password else []))
    configure_logging(secrets=secrets, level=level)
    application = build_application(settings, token=token)
    try:
        _serve(application, settings, webhook=webhook)
    except InvalidToken:
        # Python would print the exception, token included, past the redacting formatter.
        fatal = stopped_for(application)
        print(
            fatal.line
            if fatal
            else "newsbot: Telegram rejected the bot token; check TELEGRAM_BOT_TOKEN (from"
            " @BotFather)",
            file=sys.stderr,
        )
        return TOKEN_STATUS
    except (DatabaseUnusable, StoreUnavailable) as exc:  # at start (a server that refuses)
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    fatal = stopped_for(application)
    if fatal is not None:
        print(fatal.line, file=sys.stderr)
        return fatal.status
    return 0


def _serve(application: AnyApplication, settings: Settings, *, webhook: bool) -> None:
    if webhook:
        tg = settings.telegram
        if not tg.webhook_url:
            raise ConfigError(
                "telegram.webhook_url: --webhook needs the public HTTPS URL Telegram should call"
                " (or NEWSBOT_WEBHOOK_URL)"
            )
        application.run_webhook(
            listen=tg.webhook_listen,
            port=tg.webhook_port,
            url_path=urlsplit(tg.webhook_url).path.lstrip("/"),
            webhook_url=tg.webhook_url,
            secret_token=tg.webhook_secret or None,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)


class TokenWatch(BaseRequest):
    """The transport PTB is given, around the real one (or a local Bot API): notices Telegram
    refusing the bot token (HTTP 401, a revoked or rotated token) on any call and calls
    `on_refused` once, which stops the bot.

    After a 401, getUpdates is answered here with no updates. PTB's polling would otherwise end
    on the InvalidToken, and stopping the Updater re-raises it, which skips the Application's
    own stop: the deliveries in flight would be cut off instead of finished and recorded."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self.refused = False
        self.on_refused: Callable[[], None] = lambda: None

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        polling = url.rsplit("/", 1)[-1] == "getUpdates"
        if self.refused and polling:
            return 200, _NO_UPDATES
        status, payload = await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if status == 401:
            if not self.refused:
                self.refused = True
                self.on_refused()
            if polling:
                return 200, _NO_UPDATES
        return status, payload


_NO_UPDATES = b'{"ok": true, "result": []}'


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks out secrets: httpx logs request URLs, which hold the token,
    and an exception message or traceback may quote one too."""

    def __init__(self, fmt: str, secrets: tuple[str, ...]) -> None:
        super().__init__(fmt)
        # The whole token and its secret half (after the colon), longest first.
        parts = {s for secret in secrets if secret for s in (secret, secret.partition(":")[2])}
        self._secrets = sorted((p for p in parts if len(p) >= 8), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text


def configure_logging(*, secrets: tuple[str, ...], level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per HTTP request (every long poll) is noise; failures still show as warnings.
    # At DEBUG, httpcore would add a line per step of each request.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _file_url(base_url: str) -> str:
    """Telegram's file URLs sit beside the API's: .../bot -> .../file/bot."""
    head, sep, tail = base_url.rstrip("/").rpartition("/")
    return f"{head}/file/{tail}" if sep else base_url
