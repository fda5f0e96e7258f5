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
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from datetime import time as clock_time

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ContextTypes, JobQueue

from .. import library
from ..news import News, digest_due, zone_named
from ..store import Delivery
from . import render

log = logging.getLogger(__name__)

# A network failure is retried after 2, 4, 8 ... seconds, at most this often.
MAX_ATTEMPTS = 8
MAX_BACKOFF = 300.0
# How long one drain may keep starting sends. The job runs every second but skips while a drain
# runs, so a long drain keeps the pace steady; a stop ends it sooner (`running`).
DRAIN_SECONDS = 60.0
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
    ) -> None:
        self.news = news
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

    async def drain(self, seconds: float = DRAIN_SECONDS) -> int:
        """Send what is due for up to `seconds`; returns how many went out.

        A pipeline rather than rounds: up to `window` sends are in flight, and more rows are read
        whenever half of them have finished, so the rate limiter (not a round's slowest reply)
        sets the pace. After `seconds`, a stop or a RetryAfter, it starts no more and waits for
        those in flight."""
        if self._lock.locked():
            return 0  # another drain is at it
        async with self._lock:
            deadline = time.monotonic() + seconds
            in_flight: dict[asyncio.Task[bool], Delivery] = {}
            sent = 0
            starting = True
            try:
                while True:
                    if starting and len(in_flight) <= self.window // 2:
                        for delivery in self._next(in_flight.values()):
                            in_flight[asyncio.create_task(self._send(delivery))] = delivery
                        starting = (
                            self.running()
                            and time.monotonic() < deadline
                            and self.clock() >= self._paused_until
                        )
                    if not in_flight:
                        break
                    done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        del in_flight[task]
                        sent += task.result()
                    if self.clock() < self._paused_until:
                        starting = False
            finally:
                for task in in_flight:  # cancelled with us: rows stay 'sending' and are requeued
                    task.cancel()
            return sent

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
        for delivery in self.news.store.due_deliveries(now, 4 * self.window + len(in_flight)):
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
        store = self.news.store
        stored = self.news.get(delivery.article_id)
        if stored is None:
            store.mark_failed(delivery.id, "article removed before delivery")
            return False
        summary = self.news.cached_summary(stored) or await self.news.summary(stored)
        reply = render.delivery_message(stored, summary)
        store.mark_sending(delivery.id)
        try:
            message = await self.bot.send_message(
                delivery.chat_id, reply.text, reply_markup=reply.keyboard
            )
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            log.warning("Telegram asks to wait %.0f s (flood control)", wait)
            self._paused_until = self.clock() + wait
            store.retry_later(delivery.id, self._paused_until, f"retry after {wait:.0f} s")
            return False
        except ChatMigrated as exc:
            log.info("chat %s moved to %s", delivery.chat_id, exc.new_chat_id)
            store.migrate_chat(delivery.chat_id, exc.new_chat_id)
            return False
        except Forbidden as exc:
            log.info("chat %s is gone (%s): deactivated", delivery.chat_id, exc.message)
            store.deactivate_chat(delivery.chat_id, exc.message)
            return False
        except BadRequest as exc:
            if any(reason in exc.message.lower() for reason in _GONE):
                store.deactivate_chat(delivery.chat_id, exc.message)
            else:
                log.error("delivery %s refused: %s", delivery.id, exc.message)
                store.mark_failed(delivery.id, exc.message)
            return False
        except NetworkError as exc:  # TimedOut included
            self._retry(delivery, exc.message)
            return False
        except TelegramError as exc:
            log.error("delivery %s refused: %s", delivery.id, exc.message)
            store.mark_failed(delivery.id, exc.message)
            return False
        except Exception as exc:  # a bug must not leave the row 'sending' until a restart
            log.exception("delivery %s failed", delivery.id)
            self._retry(delivery, repr(exc))
            return False
        store.mark_sent([delivery.id], message.message_id)
        self._last_sent[delivery.chat_id] = self.clock()
        return True

    def _retry(self, delivery: Delivery, error: str) -> None:
        attempts = delivery.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            self.news.store.mark_failed(delivery.id, f"gave up after {attempts} tries: {error}")
        else:
            backoff = min(MAX_BACKOFF, 2.0**attempts)
            self.news.store.retry_later(delivery.id, self.clock() + backoff, error)

    # -- digests ------------------------------------------------------------------------------

    async def send_digest(self, chat_id: int) -> bool:
        """The chat's held articles in one message; False when there was nothing to send."""
        store = self.news.store
        items = store.digest_items(chat_id)
        now = self.clock()
        if not items:
            store.digest_done(chat_id, now)
            return False
        entries = []
        gone = []
        for item in items:
            stored = self.news.get(item.article_id)
            if stored is None:
                gone.append(item.id)
            else:
                entries.append(self.news.entry(stored))
        if gone:
            for item_id in gone:
                store.mark_failed(item_id, "article removed before the digest")
        if not entries:
            store.digest_done(chat_id, now)
            return False
        try:
            message = await self.bot.send_message(chat_id, render.digest_message(entries))
        except ChatMigrated as exc:
            store.migrate_chat(chat_id, exc.new_chat_id)
            return False
        except Forbidden as exc:
            store.deactivate_chat(chat_id, exc.message)
            return False
        # Other errors propagate: the items stay held and the next run tries again.
        store.mark_sent([i.id for i in items if i.id not in gone], message.message_id)
        store.digest_done(chat_id, now)
        return True


# -- jobs -------------------------------------------------------------------------------------


def sender(context: ContextTypes.DEFAULT_TYPE) -> Sender:
    service = context.bot_data["sender"]
    assert isinstance(service, Sender)
    return service


async def drain_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every second, and right after a reload: send what is due."""
    await sender(context).drain()


async def digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    if job is not None and job.chat_id is not None:
        await sender(context).send_digest(job.chat_id)


def schedule_digest(job_queue: JobQueue, chat_id: int, at: str | None, zone: str) -> None:  # type: ignore[type-arg]
    """(Re)schedule a chat's daily digest; None removes it."""
    for job in job_queue.get_jobs_by_name(_digest_name(chat_id)):
        job.schedule_removal()
    if at is None:
        return
    hours, minutes = (int(part) for part in at.split(":"))
    job_queue.run_daily(
        digest_job,
        time=clock_time(hours, minutes, tzinfo=zone_named(zone)),
        chat_id=chat_id,
        name=_digest_name(chat_id),
    )


def schedule_all(
    job_queue: JobQueue,  # type: ignore[type-arg]
    service: Sender,
    *,
    reload_minutes: float,
    feed_minutes: float = 15.0,
) -> None:
    """At start: the drain, every chat's digest (catching up on one missed while down), the
    feed poll, and the automatic reload if configured."""
    job_queue.run_repeating(drain_job, interval=1.0, first=0.5, name="deliveries")
    # Each feed keeps its own next-poll time (with back-off); the job looks for due ones often
    # enough (a quarter of the interval, at most 15 s) that none waits much past its time.
    tick = max(1.0, min(15.0, feed_minutes * 60 / 4))
    job_queue.run_repeating(feeds_job, interval=tick, first=2.0, name="feeds")
    now = service.clock()
    for chat in service.news.store.digest_chats():
        schedule_digest(job_queue, chat.chat_id, chat.digest_time, chat.timezone)
        if digest_due(chat, now):
            job_queue.run_once(digest_job, 1.0, chat_id=chat.chat_id, name="digest-catch-up")
    if reload_minutes > 0:
        job_queue.run_repeating(
            reload_job, interval=reload_minutes * 60, first=reload_minutes * 60, name="reload"
        )


async def reload_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The automatic reload: the same operation as /reload, then the drain right away."""
    report = await sender(context).news.reload()
    if report.added or report.updated or report.removed:
        log.info(
            "automatic reload: %d added, %d updated, %d removed, %d queued",
            report.added,
            report.updated,
            report.removed,
            report.queued,
        )
    if report.queued:
        await sender(context).drain()


async def feeds_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Poll the feeds that are due; new entries go through the index operation, then out."""
    service = sender(context)

    async def send_now(reloaded: library.Report) -> None:
        log.info("feeds: %d added, %d queued", reloaded.added, reloaded.queued)
        if reloaded.queued:
            await service.drain()

    # Nothing due: returns at once. Each feed's entries go out as soon as that feed is read.
    report, _ = await service.news.poll_feeds(indexed=send_now)
    for result in report.failed:
        log.warning("feed %s: %s", result.name, result.error)


def _digest_name(chat_id: int) -> str:
    return f"digest:{chat_id}"


def _seconds(value: object) -> float:
    if hasattr(value, "total_seconds"):
        return float(value.total_seconds())
    return float(value)  # type: ignore[arg-type]
