"""Delivering new articles to subscribers: the outbox drained within Telegram's limits, and the
daily digests. Both run as PTB JobQueue jobs; the state lives in the store, so a restart
continues where the last run stopped.

Pacing: AIORateLimiter (app.py) keeps to ~30 messages/s overall and 20/min per group; this
module adds the per-chat limit (one message per `per_chat_seconds`), which it does not cover,
by never having two messages for one chat in flight and spacing them.

The one window a hard crash leaves: a message Telegram accepted whose outbox row is not yet
marked sent (between mark_sending and mark_sent) is sent again after the restart. Since a chat
never has two messages in flight, that is at most one repeated message per chat. A timeout
that hides an accepted message is the same window and has the same bound.

The window stays that small when the database does not take a write (an index run holding the
lock, a full disk): what Telegram answered is kept in memory and written as soon as it can be,
nothing new is sent meanwhile, and a stop waits for it (Sender.finish). A refused token puts the
round's rows back in the queue; the bot then stops (errors.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from functools import partial

from telegram import Bot, Message
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from ..news import News
from ..store import DatabaseUnusable, Delivery, StoreUnavailable
from . import render
from .i18n import DEFAULT_LANGUAGE, Translator, translator

log = logging.getLogger(__name__)

# A network failure is retried after 2, 4, 8 ... seconds, at most this often.
MAX_ATTEMPTS = 8
MAX_BACKOFF = 300.0
# How long one drain may keep starting sends. The job runs every second but skips while a drain
# runs, so a long drain keeps the pace steady; a stop ends it sooner (`running`).
DRAIN_SECONDS = 60.0
# How long a drain keeps trying to write what Telegram answered while the database does not take
# it (an index run holds the write lock, the disk is full); after that the outcomes stay in
# memory and the next drain tries again before it sends anything new.
WRITE_PATIENCE = 30.0
# How long a stop waits for the database to take those outcomes.
STOP_PATIENCE = 30.0
# Chats whose "chat not found" means the bot can never write there again.
_GONE = ("chat not found", "user is deactivated", "bot was kicked", "not enough rights")


class Sender:
    """Sends queued deliveries; one drain at a time."""

    def __init__(
        self,
        news: News,
        bot: Bot,
        *,
        per_second: float,
        per_chat_seconds: float,
        clock: Callable[[], float] = time.time,
        running: Callable[[], bool] = lambda: True,
        write_patience: float = WRITE_PATIENCE,
    ) -> None:
        self.news = news
        self.outbox = news.outbox
        self.bot = bot
        self.per_chat_seconds = per_chat_seconds
        # Sends in flight at most: enough to cover Telegram's latency at the limiter's pace, few
        # enough that a user's reply queued behind them in the limiter waits well under a second.
        self.window = max(1, min(int(per_second), max(4, int(per_second) // 4)))
        self.clock = clock
        self._lock = asyncio.Lock()
        self._last_sent: dict[int, float] = {}
        self._paused_until = 0.0
        # False once the Application stops: the drain ends its round instead of starting one.
        self.running = running
        # What Telegram answered, not yet in the database (above all: which messages it
        # accepted), oldest first. Written as soon as the database takes it; until then nothing
        # new is sent, and a stop waits for it (finish).
        self._unwritten: list[Callable[[], None]] = []
        self._writing = asyncio.Lock()
        self.write_patience = write_patience

    async def drain(self, seconds: float = DRAIN_SECONDS) -> int:
        """Send what is due for up to `seconds`; returns how many went out.

        A pipeline rather than rounds: up to `window` sends are in flight, and more rows are read
        whenever half of them have finished, so the rate limiter (not a round's slowest reply)
        sets the pace. After `seconds`, a stop, a RetryAfter, a write the database did not take
        or an error, it starts no more, waits for those in flight and writes their outcomes.
        The first error (a refused token, a database gone) is raised after that."""
        if self._lock.locked():
            return 0  # another drain is at it
        async with self._lock:
            if not await self.flush():
                return 0  # the database still has not taken the last outcomes: send nothing
            deadline = time.monotonic() + seconds
            in_flight: dict[asyncio.Task[bool], Delivery] = {}
            sent = 0
            starting = True
            patience = self.write_patience
            failure: Exception | None = None
            try:
                while True:
                    if starting and len(in_flight) <= self.window // 2:
                        starting, failure = self._top_up(in_flight, deadline)
                    if not in_flight:
                        break
                    done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        del in_flight[task]
                        try:
                            sent += task.result()
                        except StoreUnavailable as exc:  # a summary not stored: row put back
                            log.warning("deliveries wait: the database is busy (%s)", exc)
                            starting = False
                        except Exception as exc:  # the task noted its row's outcome first
                            failure, starting = failure or exc, False
                    try:
                        if not await self.flush(patience):
                            starting, patience = False, 0.0  # one try per round from now on
                    except Exception as exc:
                        failure, starting = failure or exc, False
                    if self.clock() < self._paused_until:
                        starting = False
            finally:
                for task in in_flight:  # cancelled with us: rows stay 'sending' and are requeued
                    task.cancel()
            if failure is not None:
                raise failure
            return sent

    def _top_up(
        self, in_flight: dict[asyncio.Task[bool], Delivery], deadline: float
    ) -> tuple[bool, Exception | None]:
        """Start the next round of sends (added to `in_flight`); returns whether to go on
        starting more, and the error that stops it, if one did."""
        try:
            for delivery in self._start(in_flight.values()):
                in_flight[asyncio.create_task(self._send(delivery))] = delivery
        except StoreUnavailable as exc:
            log.warning("deliveries wait: the database is busy (%s)", exc)
            return False, None
        except Exception as exc:
            return False, exc
        going_on = (
            self.running() and time.monotonic() < deadline and self.clock() >= self._paused_until
        )
        return going_on, None

    def _start(self, in_flight: Collection[Delivery]) -> list[Delivery]:
        """The next round, marked 'sending' in one write (StoreUnavailable: none is started)."""
        batch = self._next(in_flight)
        if not batch:
            return batch
        claimed = set(self.outbox.mark_sending([d.id for d in batch]))
        return [d for d in batch if d.id in claimed]

    def _next(self, in_flight: Collection[Delivery]) -> list[Delivery]:
        """Due deliveries to start now: at most one per chat (none for a chat with one in
        flight or served less than a beat ago), up to the window."""
        room = self.window - len(in_flight)
        if room <= 0:
            return []
        now = self.clock()
        if now < self._paused_until:
            return []
        busy = {d.chat_id for d in in_flight}
        started = {d.id for d in in_flight}
        picked: dict[int, Delivery] = {}
        for delivery in self.outbox.due_deliveries(now, 4 * self.window + len(in_flight)):
            chat = delivery.chat_id
            if (
                delivery.id in started
                or chat in busy
                or chat in picked
                or now - self._last_sent.get(chat, 0.0) < self.per_chat_seconds
            ):
                continue
            picked[chat] = delivery
            if len(picked) >= room:
                break
        return list(picked.values())

    async def _send(self, delivery: Delivery) -> bool:
        """One delivery marked 'sending': send it and note the outcome (for flush to write).
        Exceptions other than Telegram's answers go up, after the row's outcome is noted."""
        store = self.outbox
        note = self._unwritten.append
        reply = await self._prepare(delivery)
        if reply is None:
            return False
        try:
            message = await self._post(delivery.chat_id, reply)
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            log.warning("Telegram asks to wait %.0f s (flood control)", wait)
            self._paused_until = self.clock() + wait
            note(
                partial(
                    store.retry_later, delivery.id, self._paused_until, f"retry after {wait:.0f} s"
                )
            )
            return False
        except ChatMigrated as exc:
            log.info("chat %s moved to %s", delivery.chat_id, exc.new_chat_id)
            note(partial(self.news.chat_moved, delivery.chat_id, exc.new_chat_id))
            return False
        except Forbidden as exc:
            log.info("chat %s is gone (%s): deactivated", delivery.chat_id, exc.message)
            note(partial(self.news.chat_gone, delivery.chat_id, exc.message))
            return False
        except InvalidToken:
            # The bot's problem, not the chat's (a revoked or rotated token): the row waits in
            # the queue for the bot to start again with a token Telegram takes.
            note(partial(store.put_back, delivery.id, "Telegram refused the bot token"))
            raise
        except BadRequest as exc:
            if any(reason in exc.message.lower() for reason in _GONE):
                note(partial(self.news.chat_gone, delivery.chat_id, exc.message))
            else:
                log.error("delivery %s refused: %s", delivery.id, exc.message)
                note(partial(store.mark_failed, delivery.id, exc.message))
            return False
        except NetworkError as exc:  # TimedOut included
            note(self._retry(delivery, exc.message))
            return False
        except TelegramError as exc:
            log.error("delivery %s refused: %s", delivery.id, exc.message)
            note(partial(store.mark_failed, delivery.id, exc.message))
            return False
        except Exception as exc:  # a bug must not leave the row 'sending' until a restart
            log.exception("delivery %s failed", delivery.id)
            note(self._retry(delivery, repr(exc)))
            return False
        note(partial(store.mark_sent, [delivery.id], message.message_id))
        self._last_sent[delivery.chat_id] = self.clock()
        return True

    async def _post(self, chat_id: int, reply: render.Reply) -> Message:
        """Send a delivery's message. Refused with its picture as the preview (an address
        Telegram will not take), it is sent once more without: the article matters more."""
        try:
            return await self.bot.send_message(
                chat_id,
                reply.text,
                reply_markup=reply.keyboard,
                link_preview_options=reply.preview or DEFAULT_NONE,
            )
        except BadRequest as exc:
            if reply.preview is None or any(r in exc.message.lower() for r in _GONE):
                raise
            log.warning("chat %s: message refused with its picture (%s)", chat_id, exc.message)
        return await self.bot.send_message(chat_id, reply.text, reply_markup=reply.keyboard)

    async def _prepare(self, delivery: Delivery) -> render.Reply | None:
        """The message of a delivery; None (and the row noted failed) when its article is
        gone. On an error the row is noted to go back to the queue, and the error goes up."""
        store = self.outbox
        try:
            stored = self.news.get(delivery.article_id)
            if stored is None:
                self._unwritten.append(
                    partial(store.mark_failed, delivery.id, "article removed before delivery")
                )
                return None
            summary = self.news.cached_summary(stored) or await self.news.summary(stored)
            pictures = self.news.pictures(delivery.chat_id)
            tr = self._translator(delivery.chat_id)
            return render.delivery_message(tr, stored, summary, pictures=pictures)
        except Exception as exc:
            self._unwritten.append(partial(store.put_back, delivery.id, f"not sent: {exc!r}"))
            raise

    def _translator(self, chat_id: int) -> Translator:
        """What the bot writes first in (a delivery, a digest): the chat's language."""
        return translator(self.news.delivery_language(chat_id) or DEFAULT_LANGUAGE)

    def _retry(self, delivery: Delivery, error: str) -> Callable[[], None]:
        attempts = delivery.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            return partial(
                self.outbox.mark_failed, delivery.id, f"gave up after {attempts} tries: {error}"
            )
        backoff = min(MAX_BACKOFF, 2.0**attempts)
        return partial(self.outbox.retry_later, delivery.id, self.clock() + backoff, error)

    async def flush(self, patience: float | None = None) -> bool:
        """Write the noted outcomes, oldest first; True when none is left. A write the database
        does not take (StoreUnavailable: an index run holds the lock, the disk is full) is tried
        again after 0.05, 0.1, 0.2 ... s (at most 2 s apart) for up to `patience` seconds
        (write_patience by default); what is left stays noted for the next flush.
        DatabaseUnusable goes up."""
        patience = self.write_patience if patience is None else patience
        give_up = time.monotonic() + patience
        pause = 0.05
        async with self._writing:
            while self._unwritten:
                try:
                    self._unwritten[0]()
                except StoreUnavailable as exc:
                    if time.monotonic() + pause > give_up:
                        log.warning(
                            "%d delivery outcomes wait for the database (%s)",
                            len(self._unwritten),
                            exc,
                        )
                        return False
                    await asyncio.sleep(pause)
                    pause = min(2.0, 2 * pause)
                    continue
                del self._unwritten[0]
        return True

    async def finish(self, patience: float = STOP_PATIENCE) -> None:
        """At a stop: write what is noted, waiting up to `patience` seconds for the database.
        What cannot be written is named in the log: those rows are sent again at the next start."""
        try:
            if await self.flush(patience):
                return
            problem = "the database did not take them in time"
        except DatabaseUnusable as exc:
            problem = str(exc)
        log.error(
            "%d delivery outcomes could not be written (%s); messages Telegram accepted among"
            " them will be sent again at the next start",
            len(self._unwritten),
            problem,
        )

    # -- digests ------------------------------------------------------------------------------

    async def send_digest(self, chat_id: int) -> bool:
        """The chat's held articles in one message; False when there was nothing to send."""
        store = self.outbox
        items = store.digest_items(chat_id)
        now = self.clock()
        if not items:
            store.digest_done(chat_id, now)
            return False
        found = []
        gone = []
        for item in items:
            stored = self.news.get(item.article_id)
            if stored is None:
                gone.append(item.id)
            else:
                found.append(stored)
        entries = self.news.entries(found)
        if gone:
            for item_id in gone:
                store.mark_failed(item_id, "article removed before the digest")
        if not entries:
            store.digest_done(chat_id, now)
            return False
        try:
            tr = self._translator(chat_id)
            message = await self.bot.send_message(chat_id, render.digest_message(tr, entries))
        except ChatMigrated as exc:
            self.news.chat_moved(chat_id, exc.new_chat_id)
            return False
        except Forbidden as exc:
            self.news.chat_gone(chat_id, exc.message)
            return False
        # Other errors propagate: the items stay held and the next run tries again. Once sent,
        # the digest is noted like any delivery, so that a busy database cannot make it repeat.
        sent_ids = [i.id for i in items if i.id not in gone]
        self._unwritten.append(partial(store.mark_sent, sent_ids, message.message_id))
        self._unwritten.append(partial(store.digest_done, chat_id, now))
        await self.flush()
        return True


def _seconds(value: object) -> float:
    if hasattr(value, "total_seconds"):
        return float(value.total_seconds())
    return float(value)  # type: ignore[arg-type]
