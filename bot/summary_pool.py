"""Summaries asked for in chat (`/read N`, More), made in a worker process.

A summary is seconds of pure-Python CPU work at worst; in a thread of the bot's own process it
holds the interpreter lock, and every other person's answer waits behind it (another user's
`/latest` p95 went from 2.2 to 27.7 ms during one 5 s summary). In a worker process it costs
the event loop only the pickling of (article, options) and of the sentences back.

The pool is made at the first summary (or by `start`, at the bot's warm-up), with one worker,
two on a machine with more than two cores, so that the event loop keeps a core of its own; the
workers run at a lower priority (nice 10), so that where cores are shared anyway the chat comes
first: with them at the same priority, other people's `/latest` p95 was 6-7 ms during summaries
on a 2-core machine, at nice 10 it is 1.7-3.5 ms (bench/long_article.py). A
worker that dies (killed, out of memory) breaks the pool: the summary asked for is then the lead
sentences, made here (cheap: the text split is bounded, window.py), and not cached; the next
summary makes a new pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from .articles import Article
from .config import SummaryOptions

log = logging.getLogger(__name__)

Job = Callable[[tuple[Article, SummaryOptions]], list[str]]


def default_workers() -> int:
    """One worker, two when there are more than two cores: a core is left to the event loop."""
    return 2 if (os.cpu_count() or 1) > 2 else 1


def _yield_to_the_chat() -> None:
    """A worker's first act: a lower priority, so that on a machine with few cores the event
    loop's process gets the CPU first (the workers' summaries wait a little instead)."""
    with contextlib.suppress(OSError):  # not allowed: summaries are made at the same priority
        os.nice(WORKER_NICENESS)


# Added to a worker's niceness (Linux: 0 normal, 19 lowest).
WORKER_NICENESS = 10


class SummaryPool:
    def __init__(self, workers: int | None = None, job: Job | None = None) -> None:
        self.workers = workers or default_workers()
        # The function the workers run: a module-level one (it is pickled by name).
        self._job = job
        self._pool: ProcessPoolExecutor | None = None
        self._making = threading.Lock()

    def start(self, language: str) -> None:
        """Make the pool now and have each worker build `language`'s tools, so that the first
        summary does not wait for them."""
        from . import summarize

        pool = self._executor()
        for _ in range(self.workers):
            pool.submit(summarize.tools, language)

    async def summarize(self, article: Article, options: SummaryOptions) -> tuple[list[str], bool]:
        """The summary, and whether it is the one asked for (False: a worker died, and these
        are the lead sentences instead; not to be cached)."""
        from . import summarize

        pool = self._executor()
        job = self._job or summarize.safe_summarize_job
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, job, (article, options)), True
        except BrokenProcessPool:
            log.warning("%s: a summary worker died; the lead sentences stand in", article.key)
            self._discard(pool)
        lead = replace(options, algorithm="lead")
        return await asyncio.to_thread(summarize.safe_summarize_job, (article, lead)), False

    def close(self) -> None:
        """Stop the workers (a summary under way is finished first; queued ones are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        # start() runs in a thread at the bot's warm-up while a summary may be asked for.
        with self._making:
            return self._make()

    def _make(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver, as index.py's pool: the bot's process has threads (PTB, asyncio), and
            # forking those is unsafe. The forkserver (one per process, shared with the index's
            # pools) has sumy, nltk and the language model loaded for every worker.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["bot.preload"])
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_yield_to_the_chat
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)
