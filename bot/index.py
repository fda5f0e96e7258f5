"""The index operation, shared by the command line, the bot's start-up and /reload.

scan the folder -> read what changed (worker processes: reading, parsing, languages, story
band keys) -> diff against the store -> summarize what is new (worker processes) while the
main process writes, in bounded transactions, the articles whose summaries are ready -> report.
The main process only compares and writes, so that the work that grows with the articles runs
on every core. Files whose size and modification time are as recorded are not even opened,
which is what makes a re-index with nothing changed cheap; sumy and nltk are imported only
when something needs summarizing.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import repeat
from pathlib import Path

from . import folder
from .articles import Article, ParsedFile
from .config import Settings, SummaryOptions
from .errors import NewsbotError
from .folder import Failure
from .store import ArticleRef, Changes, FileState, Store, SummaryKey
from .store.articles import APPLY_BATCH

log = logging.getLogger(__name__)

# Below this many files or summaries a process pool costs more to start than it saves.
_POOL_THRESHOLD = 8
# New articles written per transaction while summaries are still being made: a twentieth of
# them, so that the last batch, written after the workers are done, is short (the rest
# overlaps their work); no fewer than this, and no more than the store's own batch (smaller
# transactions write more pages each: the story band keys' index is touched at random).
_OVERLAP_BATCH = 100

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stage is "read" or "summarize"."""


class IndexRunError(NewsbotError):
    """The operation cannot run at all (e.g. the articles folder is missing)."""


@dataclass
class Report:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)
    files: int = 0
    summarized: int = 0
    seconds: float = 0.0
    # Ids of the articles added by this run, oldest first.
    added_ids: list[int] = field(default_factory=list)
    # Deliveries queued for subscribers of the added articles.
    queued: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": [{"path": f.path, "error": f.error} for f in self.failed],
            "files": self.files,
            "summarized": self.summarized,
            "queued": self.queued,
            "seconds": round(self.seconds, 3),
        }


def summary_options(settings: Settings, **overrides: object) -> SummaryOptions:
    """The configured summary options, with some replaced (e.g. a user's sentence count)."""
    return replace(settings.summary, **overrides)  # type: ignore[arg-type]  # checked at run time


def summary_key(article: Article, options: SummaryOptions) -> SummaryKey:
    return SummaryKey(
        article.content_hash,
        options.algorithm,
        options.sentences,
        article.language or options.language,
    )


def run(settings: Settings, store: Store, *, progress: Progress | None = None) -> Report:
    """Bring the store in line with the articles folder; one bad file never stops the rest.

    Runs on one database are taken one at a time, across processes too (the CLI beside the
    bot): a second run waits, then finds the first one's work done.
    """
    with store.index_turn():
        return _index(settings, store, progress=progress)


def _index(settings: Settings, store: Store, *, progress: Progress | None) -> Report:
    started = time.perf_counter()
    root = settings.articles_dir
    if not root.is_dir():
        raise IndexRunError(
            f"articles folder {root} does not exist (set articles.dir or NEWSBOT_ARTICLES_DIR)"
        )
    on_disk, refused = folder.scan(root)
    known = store.file_states()
    report = Report(files=len(on_disk), failed=refused)
    for failure in refused:
        log.warning("%s: %s", failure.path, failure.error)
    to_read, sizes = _to_read(on_disk, known, report)
    with _Workers(settings) as workers:
        reads = workers.read(to_read, sizes, _read_options(settings), progress)
        changed, file_rows, bands = _collect(reads, report)
        removed_files = [rel for rel in known if rel not in on_disk]
        diff = _diff(store, changed, removed_files)
        summaries = _Summaries(settings, store, diff, workers, progress)
        report.summarized = len(summaries.pending)
        report.added, report.updated = len(diff.added), len(diff.updated)
        report.removed, report.unchanged = len(diff.removed_ids), diff.unchanged
        report.seconds = time.perf_counter() - started
        changes = Changes(
            files=file_rows,
            removed_files=removed_files,
            added=diff.added,
            updated=diff.updated,
            relocated=diff.relocated,
            removed_ids=diff.removed_ids,
            report=report.as_dict(),
            bands=bands,
        )
        if summaries.pending:
            size = min(APPLY_BATCH, max(_OVERLAP_BATCH, len(diff.added) // 20))
            applied = store.apply(changes, batch_size=size, summaries=summaries.made_for)
        else:
            applied = store.apply(changes)
    report.added_ids, report.queued = applied.added_ids, applied.queued
    report.added = len(applied.added_ids)
    report.failed.extend(Failure(path, reason) for path, reason in applied.failed)
    report.seconds = time.perf_counter() - started
    log.info(
        "indexed %s: %d added, %d updated, %d removed, %d unchanged, %d failed in %.2fs",
        root,
        report.added,
        report.updated,
        report.removed,
        report.unchanged,
        len(report.failed),
        report.seconds,
    )
    return report


def _to_read(
    on_disk: dict[str, Path], known: dict[str, FileState], report: Report
) -> tuple[list[folder.Job], list[int]]:
    """The files that changed (or are new), with their sizes; the others are not opened, and
    their recorded failures go in the report (a bad file is reported on every run)."""
    to_read: list[folder.Job] = []
    sizes: list[int] = []
    for rel, path in sorted(on_disk.items()):
        state = known.get(rel)
        size = folder.changed_size(path, state)
        if size is None and state is not None:
            _note_failures(state, report)
        else:
            to_read.append((rel, str(path), state))
            sizes.append(size or 0)
    return to_read, sizes


def _read_options(settings: Settings) -> folder.ReadOptions:
    return folder.ReadOptions(
        settings.max_file_bytes, settings.boilerplate, settings.summary.language
    )


def _collect(
    reads: Iterator[folder.Read], report: Report
) -> tuple[dict[str, ParsedFile], list[FileState], dict[str, list[int]]]:
    """The changed files' articles, every file state to record, and the articles' band keys;
    each file's failures go in the report."""
    changed: dict[str, ParsedFile] = {}
    file_rows: list[FileState] = []
    bands: dict[str, list[int]] = {}
    for read in reads:
        state = read.state
        file_rows.append(state)
        if read.parsed is not None:
            changed[state.path] = read.parsed
            bands.update(read.bands)
        _note_failures(state, report)
    return changed, file_rows, bands


def _note_failures(state: FileState, report: Report) -> None:
    if state.error:
        report.failed.append(Failure(state.path, state.error))
    report.failed.extend(Failure(state.path, problem) for problem in state.problems)


@dataclass
class _Diff:
    added: list[Article] = field(default_factory=list)
    updated: list[tuple[int, Article]] = field(default_factory=list)
    # Same text and metadata in a new place (another file, another position): not news.
    relocated: list[tuple[int, Article]] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)
    unchanged: int = 0

    @property
    def to_summarize(self) -> list[Article]:
        return [*self.added, *(article for _, article in self.updated)]

    def pair(self, article: Article, ref: ArticleRef) -> None:
        article = _keep_first_seen_date(article, ref)
        if article.fingerprint != ref.fingerprint:
            self.updated.append((ref.id, article))
        elif (article.key, article.source) != (ref.key, ref.source):
            self.relocated.append((ref.id, article))
            self.unchanged += 1
        else:
            self.unchanged += 1


def _diff(store: Store, changed: dict[str, ParsedFile], removed_files: list[str]) -> _Diff:
    """Compare the changed files' articles with the stored ones of the same files.

    Articles of files that did not change are unchanged by construction and never loaded.
    """
    refs = store.article_refs(set(changed) | set(removed_files))
    diff = _Diff(unchanged=store.count() - len(refs))
    by_source: dict[str, list[ArticleRef]] = {}
    for ref in refs:
        by_source.setdefault(ref.source, []).append(ref)
    new: list[Article] = []
    gone: list[ArticleRef] = [ref for source in removed_files for ref in by_source.get(source, [])]
    for source, parsed in changed.items():
        pairs, left = _match(_first_of_each_key(parsed.articles), by_source.get(source, []))
        gone += left
        for article, stored in pairs:
            if stored is None:
                new.append(article)
            else:
                diff.pair(article, stored)
    # A new article with the very text of one that disappeared is that article, moved (a
    # renamed file, a story moved from one file to another): it keeps its id.
    by_text: dict[str, list[ArticleRef]] = {}
    for ref in gone:
        by_text.setdefault(ref.content_hash, []).append(ref)
    for article in new:
        candidates = by_text.get(article.content_hash)
        if candidates:
            diff.pair(article, candidates.pop(0))
        else:
            diff.added.append(article)
    diff.removed_ids = [ref.id for refs_left in by_text.values() for ref in refs_left]
    return diff


def _first_of_each_key(articles: Sequence[Article]) -> list[Article]:
    """The same entry id twice in one file: the first one wins."""
    return list({article.key: article for article in reversed(articles)}.values())[::-1]


# How a changed file's articles find their stored selves, in order: the entry's own id; else the
# same text (a story that moved within the file); the same headline (body edited); the same
# place in the file (headline edited). Matching by place alone would turn a story added at the
# top of a file into an 'update' of the old first story, and the old last one into 'news'.
_MATCHES: tuple[tuple[Callable[[Article], str | None], Callable[[ArticleRef], str]], ...] = (
    (lambda a: a.key if a.external_id else None, lambda r: r.key),
    (lambda a: None if a.external_id else a.content_hash, lambda r: r.content_hash),
    (lambda a: None if a.external_id else a.title, lambda r: r.title),
    (lambda a: None if a.external_id else a.key, lambda r: r.key),
)


def _match(
    articles: list[Article], old: list[ArticleRef]
) -> tuple[list[tuple[Article, ArticleRef | None]], list[ArticleRef]]:
    """Pair each article with a stored one of the same file (or None: new); and the unpaired."""
    free = {ref.id: ref for ref in old}
    paired: dict[int, ArticleRef] = {}
    for of_article, of_ref in _MATCHES:
        index: dict[str, list[int]] = {}
        for ref in free.values():
            index.setdefault(of_ref(ref), []).append(ref.id)
        for i, article in enumerate(articles):
            value = of_article(article)
            if i in paired or value is None or not index.get(value):
                continue
            paired[i] = free.pop(index[value].pop(0))
    return [(a, paired.get(i)) for i, a in enumerate(articles)], list(free.values())


def _keep_first_seen_date(article: Article, ref: ArticleRef) -> Article:
    """An article without a date of its own keeps the time it was first seen, across edits."""
    if article.dated:
        return article
    return replace(article, published=ref.published)


# A batch of files sent to a worker holds about this many bytes at most (or one file).
_BATCH_BYTES = 1 << 20


def _batches(jobs: list[folder.Job], sizes: list[int], most: int) -> list[list[folder.Job]]:
    """Batches of files to read: small enough to keep every worker busy to the end (and a stop
    waits for one batch at most: a JSON Lines file of 1,000 articles is a second's work), big
    enough that sending them costs little next to reading them."""
    batches: list[list[folder.Job]] = [[]]
    held = 0
    for job, size in zip(jobs, sizes, strict=True):
        if batches[-1] and (len(batches[-1]) >= most or held + size > _BATCH_BYTES):
            batches.append([])
            held = 0
        batches[-1].append(job)
        held += size
    return batches


def _context() -> multiprocessing.context.BaseContext:
    """How worker processes start. The bot's process has threads (PTB, asyncio), and forking
    those is unsafe: a forkserver then, started once per process, with what every worker needs
    loaded (bot.preload). A process with no other thread (the command line) forks: its workers
    start at once with what it has imported, where a forkserver's imports took 0.45 s, half a
    second in which no worker could start."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bot.preload"])
    return context


class _Summaries:
    """The run's summaries (default method and length) that the cache lacks: made by the workers
    in the order the store writes their articles, and handed to Store.apply as it writes each
    batch (in the batch's transaction), while the workers go on with the next ones."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        diff: _Diff,
        workers: _Workers,
        progress: Progress | None,
    ) -> None:
        self.options = summary_options(settings)
        self.progress = progress
        wanted: dict[SummaryKey, Article] = {}
        # The store writes the updated articles first, then the new ones in order.
        for article in [*(a for _, a in diff.updated), *diff.added]:
            wanted.setdefault(summary_key(article, self.options), article)
        missing = store.missing_summaries(wanted) if wanted else set()
        keys = [key for key in wanted if key in missing]
        self.pending = set(keys)
        self.total = len(keys)
        made = workers.summarize([(wanted[key], self.options) for key in keys])
        self._made = zip(keys, made, strict=True)

    def made_for(self, articles: Sequence[Article]) -> list[tuple[SummaryKey, list[str]]]:
        """The summaries of `articles` that the cache lacks, once the workers have made them."""
        needed = {summary_key(a, self.options) for a in articles} & self.pending
        made: list[tuple[SummaryKey, list[str]]] = []
        while needed:
            key, sentences = next(self._made)
            self.pending.discard(key)
            needed.discard(key)
            made.append((key, sentences))
            if self.progress:
                self.progress("summarize", self.total - len(self.pending), self.total)
        return made


class _Workers:
    """Worker processes, one per core, for reading files and making summaries; or this process
    alone, for a handful of either (a pool costs more to start than it would save)."""

    def __init__(self, settings: Settings) -> None:
        self.workers = settings.worker_count
        self.language = settings.summary.language
        self.pool: ProcessPoolExecutor | None = None

    def read(
        self,
        jobs: list[folder.Job],
        sizes: list[int],
        options: folder.ReadOptions,
        progress: Progress | None,
    ) -> Iterator[folder.Read]:
        """Each file read (in the workers when there are enough), in the order of `jobs`."""
        if len(jobs) < _POOL_THRESHOLD or self.workers < 2:
            reads: Iterator[folder.Read] = (
                folder.read(Path(path), rel, state, options) for rel, path, state in jobs
            )
        else:
            batches = _batches(jobs, sizes, max(1, min(32, len(jobs) // (self.workers * 8))))
            results = self._pool().map(folder.read_batch, batches, repeat(options))
            reads = (read for batch in results for read in batch)
        for done, read in enumerate(reads, start=1):
            if progress:
                progress("read", done, len(jobs))
            yield read

    def summarize(self, jobs: list[tuple[Article, SummaryOptions]]) -> Iterator[list[str]]:
        """The summaries of `jobs`, in order: all handed to the workers at once (so that they
        go on while this process writes), or made here one by one as they are asked for."""
        from . import summarize

        if len(jobs) < _POOL_THRESHOLD or self.workers < 2:
            return map(summarize.safe_summarize_job, jobs)
        chunksize = max(1, min(16, len(jobs) // (self.workers * 4)))
        return self._pool().map(summarize.safe_summarize_job, jobs, chunksize=chunksize)

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            from . import summarize

            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context())
            for _ in range(self.workers):  # one task each makes the pool start every worker now
                self.pool.submit(summarize.tools, self.language)
        return self.pool

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
