from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import replace
from datetime import UTC, datetime

from bot.articles import Article, Block
from bot.config import SummaryOptions
from bot.summarize import safe_summarize_job
from bot.summary_pool import Job, SummaryPool

ARTICLE = Article(
    title="Bridge",
    blocks=tuple(Block(f"Sentence number {i} is about the new bridge.") for i in range(8)),
    source="b.txt",
    published=datetime.now(UTC),
)
OPTIONS = SummaryOptions(algorithm="lexrank", sentences=2)


def worker_pid(job: tuple[Article, SummaryOptions]) -> list[str]:
    """A job that says which process ran it."""
    return [str(os.getpid())]


def niceness(job: tuple[Article, SummaryOptions]) -> list[str]:
    return [str(os.nice(0))]


def dying(job: tuple[Article, SummaryOptions]) -> list[str]:
    os._exit(1)


def summarized_once(job: Job | None = None) -> tuple[list[str], bool]:
    """ARTICLE summarized by a pool of one worker running `job`, the pool then closed."""
    pool = SummaryPool(workers=1, job=job)
    try:
        return asyncio.run(pool.summarize(ARTICLE, OPTIONS))
    finally:
        pool.close()


def test_a_summary_is_made_in_another_process() -> None:
    (pid,), made = summarized_once(worker_pid)
    assert made and int(pid) != os.getpid()


def test_the_worker_makes_the_summary_this_process_would() -> None:
    summary, made = summarized_once()
    assert made and summary == safe_summarize_job((ARTICLE, OPTIONS))


def test_a_dying_worker_gives_the_lead_sentences_uncached() -> None:
    summary, made = summarized_once(dying)
    assert not made
    assert summary == safe_summarize_job((ARTICLE, replace(OPTIONS, algorithm="lead")))


def test_a_killed_worker_is_replaced() -> None:
    pool = SummaryPool(workers=1, job=worker_pid)

    async def scenario() -> tuple[int, bool, int]:
        (first,), _ = await pool.summarize(ARTICLE, OPTIONS)
        os.kill(int(first), signal.SIGKILL)
        _, made = await pool.summarize(ARTICLE, OPTIONS)
        (second,), again = await pool.summarize(ARTICLE, OPTIONS)
        assert again
        return int(first), made, int(second)

    try:
        first, made, second = asyncio.run(scenario())
    finally:
        pool.close()
    assert not made  # the summary asked for while the worker was dead: the lead stands in
    assert second not in (first, os.getpid())


def test_closing_an_unused_pool_starts_nothing() -> None:
    pool = SummaryPool()
    pool.close()
    assert pool.workers in (1, 2)


def test_workers_give_way_to_the_chat() -> None:
    (nice,), _ = summarized_once(niceness)
    assert int(nice) > os.nice(0) or int(nice) == 19
