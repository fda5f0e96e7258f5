"""The bot's scheduled work, as PTB JobQueue jobs: the outbox drain every second (and right after
an index run), each chat's daily digest, the feed polls and the automatic reload. What they do
is Sender's (delivery.py), News's and the index run's; here is only when."""

from __future__ import annotations

import logging
from datetime import time as clock_time

from telegram.ext import ContextTypes, JobQueue

from .. import index
from ..news import digest_due, zone_named
from .delivery import Sender
from .errors import fatal_error, stop_for

log = logging.getLogger(__name__)


def sender(context: ContextTypes.DEFAULT_TYPE) -> Sender:
    service = context.bot_data["sender"]
    assert isinstance(service, Sender)
    return service


async def drain_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every second, and right after a reload: send what is due. A refused token or a database
    gone stops the bot from here: the drain may end after the stop began, when PTB would only
    warn that the error handler ran late."""
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
    for chat in service.news.digest_chats():
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
    await after_index(context, report, wait=True)


async def feeds_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Poll the feeds that are due; new entries go through the index operation, then out."""
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
