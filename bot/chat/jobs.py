"""The bot's scheduled work, as PTB JobQueue jobs: the outbox drain every second (and right after
an index run), each chat's daily digest, the feed polls and the automatic reload. What they do
is Sender's (delivery.py), News's and the index run's; here is only when, and where.

Where: several bot processes may share one database (PostgreSQL), and these jobs must run once
for all of them: one drain within Telegram's limits (which hold per bot), one poll of a feed,
one digest. The process that holds the database's lease leads and runs them; the others answer
chats only, and each checks every LEAD_SECONDS whether the lease is free. On SQLite the one
process leads.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import time as clock_time
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, JobQueue

from .. import index
from ..news import IndexStopped, News, digest_due, zone_named
from ..store.records import Lease
from .delivery import Sender
from .errors import fatal_error, stop_for

log = logging.getLogger(__name__)


# How often a process checks that it still leads, or asks for the lease when it does not. A
# leader killed is followed within this long after the server frees its lease (at once on a
# machine that stays up; about 25 s of silence when the machine goes).
LEAD_SECONDS = 5.0
# Where the start-up index run's task is kept (bot_data).
START_UP_INDEX = "start-up-index"
# The jobs only the leader runs (and digest:<chat> per chat).
LEADER_JOBS = frozenset(
    {"deliveries", "deliveries-now", "feeds", "reload", "digest-catch-up", "digest-sweep"}
)


def leading(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether this process runs the once-only jobs (a bot set up without a lease does)."""
    return bool(context.bot_data.get("leading", True))


async def lead(application: Application[Any, Any, Any, Any, Any, Any]) -> bool:
    """Take the lease when it is free, or check it is still held; start the leader's jobs on
    taking it, stop them on losing it. Returns whether this process leads."""
    data = application.bot_data
    service: Sender = data["sender"]
    lease: Lease = data["lease"]
    was = bool(data.get("leading"))
    now = await asyncio.to_thread(lease.held if was else lease.take)
    if now and not was:
        # What the last leader left 'sending' (a crash, a kill) goes out again: at most one
        # message per chat, the one it had in flight.
        requeued = service.news.requeue_interrupted()
        if requeued:
            log.warning("%d deliveries were interrupted by a stop; sending them again", requeued)
        if service.news.shared:
            log.info("this process leads: it sends, polls feeds and sends digests")
        if application.job_queue is not None:
            schedule_all(
                application.job_queue,
                service,
                reload_minutes=data["settings"].delivery.reload_minutes,
                feed_minutes=data["settings"].feeds.poll_minutes,
            )
    elif was and not now:
        log.error("this process no longer leads: its sending, polls and digests stop")
        if application.job_queue is not None:
            for job in application.job_queue.jobs():
                if job.name in LEADER_JOBS or str(job.name).startswith("digest:"):
                    job.schedule_removal()
    data["leading"] = now
    return now


async def lead_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await lead(context.application)


def sender(context: ContextTypes.DEFAULT_TYPE) -> Sender:
    service = context.bot_data["sender"]
    assert isinstance(service, Sender)
    return service


async def drain_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every second, and right after a reload: send what is due. A refused token or a database
    gone stops the bot from here: the drain may end after the stop began, when PTB would only
    warn that the error handler ran late."""
    if not leading(context):  # asked for by a handler here; the leader's drain sends it
        return
    try:
        await sender(context).drain()
    except Exception as exc:
        fatal = fatal_error(exc, context.application)
        if fatal is None:
            raise
        stop_for(context.application, fatal)


async def after_index(
    context: ContextTypes.DEFAULT_TYPE, report: index.Report | None, *, wait: bool = False
) -> None:
    """After an index run (/reload, /addfeed, the automatic reload, a feed poll): the deliveries
    it queued go out right away rather than at the next tick. A job waits for the drain
    (`wait`); a handler has it run as a job of its own, so its answer is not held up."""
    if report is None or not report.queued:
        return
    if wait:
        await sender(context).drain()
    elif context.job_queue is not None:
        context.job_queue.run_once(drain_job, 0, name="deliveries-now")


def start_index(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """At start: the folder is indexed in a task of its own, so that the bot answers from the
    database as it is meanwhile (News.reload takes runs one at a time: a /reload or the
    automatic reload meanwhile waits for this one)."""
    task = asyncio.get_running_loop().create_task(index_at_start(application), name=START_UP_INDEX)
    application.bot_data[START_UP_INDEX] = task


async def index_at_start(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The start-up index run: logged as it ends, and what it added sent to subscribers right
    away. Whatever goes wrong is logged and the bot goes on answering from the database."""
    news: News = application.bot_data["news"]
    try:
        report = await news.reload()
    except IndexStopped:
        log.info("the start-up index run was stopped by the bot's stop; the next start resumes")
        return
    except index.IndexRunError as exc:
        log.error("%s; answering from the database as it is", exc)
        return
    except Exception:  # a bug in one index run must not keep the bot from answering at all
        log.exception("the start-up index run failed; answering from the database as it is")
        return
    log.info(
        "articles: %d (%d added, %d updated, %d removed, %d failed files)",
        news.count(),
        report.added,
        report.updated,
        report.removed,
        len(report.failed),
    )
    for failure in report.failed:
        log.warning("article file %s: %s", failure.path, failure.error)
    await after_index(CallbackContext(application), report)


async def start_up_indexed(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Wait until the start-up index run has ended (however it ended): for the terminal
    chat's note, the tests and the benchmarks."""
    task = application.bot_data.get(START_UP_INDEX)
    if task is not None:
        await asyncio.shield(task)  # a waiter given up on leaves the run going


async def stop_index(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """At a stop: the start-up index run ends at its next file or summary, and is waited for
    (its thread writes to the database the stop is about to close)."""
    task = application.bot_data.pop(START_UP_INDEX, None)
    news = application.bot_data.get("news")
    if task is None:
        return
    if isinstance(news, News):
        news.stop_indexing()
    await task


async def digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    if job is not None and job.chat_id is not None and leading(context):
        await sender(context).send_digest(job.chat_id)


async def digest_sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every minute on a leader that shares its database: the digests that are due, also
    those of chats that chose their time through another process."""
    service = sender(context)
    now = service.clock()
    for chat in service.news.digest_chats():
        if digest_due(chat, now):
            await service.send_digest(chat.chat_id)


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
    for chat in service.news.digest_chats():
        schedule_digest(job_queue, chat.chat_id, chat.digest_time, chat.timezone)
        if digest_due(chat, now):
            job_queue.run_once(digest_job, 1.0, chat_id=chat.chat_id, name="digest-catch-up")
    if service.news.shared:
        job_queue.run_repeating(digest_sweep_job, interval=60.0, first=60.0, name="digest-sweep")
    if reload_minutes > 0:
        job_queue.run_repeating(
            reload_job, interval=reload_minutes * 60, first=reload_minutes * 60, name="reload"
        )


async def reload_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The automatic reload: the same operation as /reload, then the drain right away."""
    if not leading(context):
        return
    if sender(context).news.indexing() is not None:
        # A run is going on (the start-up one may take hours): ticks queued behind it on the
        # lock would only pile up; the next tick after it takes in what it did not see.
        return
    report = await sender(context).news.reload()
    if report.added or report.updated or report.removed:
        log.info(
            "automatic reload: %d added, %d updated, %d removed, %d queued",
            report.added,
            report.updated,
            report.removed,
            report.queued,
        )
    await after_index(context, report, wait=True)


async def feeds_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Poll the feeds that are due; new entries go through the index operation, then out."""
    if not leading(context):
        return
    service = sender(context)

    async def send_now(reloaded: index.Report) -> None:
        log.info("feeds: %d added, %d queued", reloaded.added, reloaded.queued)
        await after_index(context, reloaded, wait=True)

    # Nothing due: returns at once. Each feed's entries go out as soon as that feed is read.
    report, _ = await service.news.poll_feeds(indexed=send_now)
    for result in report.failed:
        log.warning("feed %s: %s", result.name, result.error)


def _digest_name(chat_id: int) -> str:
    return f"digest:{chat_id}"
