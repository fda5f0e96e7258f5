"""The index operation, shared by the command line, the bot's start-up and /reload.

scan the folder -> read what changed -> diff against the store -> summarize what is new on all
cores -> commit in one transaction -> report. Files whose size and modification time are as
recorded are not even opened, which is what makes a re-index with nothing changed cheap; sumy
and nltk are imported only when something needs summarizing.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from .articles import Article, ArticleError, ParsedFile, check_size, parse_bytes
from .config import Settings, SummaryOptions
from .store import ArticleRef, Changes, FileState, Store, SummaryKey

log = logging.getLogger(__name__)

# Below this many summaries a process pool costs more to start than it saves.
_POOL_THRESHOLD = 8

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stage is "read" or "summarize"."""


class LibraryError(Exception):
    """The operation cannot run at all (e.g. the articles folder is missing)."""


@dataclass(frozen=True)
class Failure:
    path: str
    error: str


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
    # Ids of the articles added by this run, oldest first (for deliveries and messages).
    added_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": [{"path": f.path, "error": f.error} for f in self.failed],
            "files": self.files,
            "summarized": self.summarized,
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


def index(settings: Settings, store: Store, *, progress: Progress | None = None) -> Report:
    """Bring the store in line with the articles folder; one bad file never stops the rest.

    Runs on one database are taken one at a time, across processes too (the CLI beside the
    bot): a second run waits, then finds the first one's work done.
    """
    with _one_run_at_a_time(store):
        return _index(settings, store, progress=progress)


@contextmanager
def _one_run_at_a_time(store: Store) -> Iterator[None]:
    if store.path == ":memory:":
        yield
        return
    with open(f"{store.path}.index-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _index(settings: Settings, store: Store, *, progress: Progress | None) -> Report:
    started = time.perf_counter()
    root = settings.articles_dir
    if not root.is_dir():
        raise LibraryError(
            f"articles folder {root} does not exist (set articles.dir or NEWSBOT_ARTICLES_DIR)"
        )
    on_disk = dict(_scan(root))
    known = store.file_states()
    report = Report(files=len(on_disk))
    with _Runner(settings) as runner:
        if sum(_looks_changed(path, known.get(rel)) for rel, path in on_disk.items()) >= (
            _POOL_THRESHOLD
        ):
            runner.start()  # workers start up while the files are read
        changed, file_rows = _read_all(on_disk, known, settings, report, progress)
        removed_files = [rel for rel in known if rel not in on_disk]
        diff = _diff(store, changed, removed_files)
        report.summarized = _summarize_new(
            settings, store, diff.to_summarize, runner=runner, progress=progress
        )
    report.added, report.updated = len(diff.added), len(diff.updated)
    report.removed, report.unchanged = len(diff.removed_ids), diff.unchanged
    report.seconds = time.perf_counter() - started
    report.added_ids = store.apply(
        Changes(
            files=file_rows,
            removed_files=removed_files,
            added=diff.added,
            updated=diff.updated,
            removed_ids=diff.removed_ids,
            report=report.as_dict(),
        )
    )
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


def _read_all(
    on_disk: dict[str, Path],
    known: dict[str, FileState],
    settings: Settings,
    report: Report,
    progress: Progress | None,
) -> tuple[dict[str, ParsedFile], list[FileState]]:
    """Read the files that changed; returns their articles and every file state to record."""
    changed: dict[str, ParsedFile] = {}
    file_rows: list[FileState] = []
    for done, (rel, path) in enumerate(sorted(on_disk.items()), start=1):
        if progress:
            progress("read", done, len(on_disk))
        state, parsed = _read(path, rel, known.get(rel), settings)
        if state is not known.get(rel):
            file_rows.append(state)
        if parsed is not None:
            changed[rel] = parsed
        if state.error:
            report.failed.append(Failure(rel, state.error))
        report.failed.extend(Failure(rel, problem) for problem in state.problems)
    return changed, file_rows


@dataclass
class _Diff:
    added: list[Article]
    updated: list[tuple[int, Article]]
    removed_ids: list[int]
    unchanged: int

    @property
    def to_summarize(self) -> list[Article]:
        return [*self.added, *(article for _, article in self.updated)]


def _diff(store: Store, changed: dict[str, ParsedFile], removed_files: list[str]) -> _Diff:
    """Compare the changed files' articles with the stored ones of the same files.

    Articles of files that did not change are unchanged by construction and never loaded.
    """
    refs = store.article_refs(set(changed) | set(removed_files))
    by_key = {ref.key: ref for ref in refs}
    added: list[Article] = []
    updated: list[tuple[int, Article]] = []
    unchanged = store.count() - len(refs)
    seen: set[str] = set()
    for parsed in changed.values():
        for article in parsed.articles:
            if article.key in seen:
                continue  # the same entry id twice in one file: the first one wins
            seen.add(article.key)
            ref = by_key.get(article.key)
            if ref is None:
                added.append(article)
                continue
            article = _keep_first_seen_date(article, ref)
            if article.fingerprint != ref.fingerprint:
                updated.append((ref.id, article))
            else:
                unchanged += 1
    gone = [ref for ref in refs if ref.key not in seen]
    added, moved = _follow_moves(added, gone)
    moved_ids = {article_id for article_id, _ in moved}
    removed_ids = [ref.id for ref in gone if ref.id not in moved_ids]
    return _Diff(added, updated + moved, removed_ids, unchanged)


def _scan(root: Path) -> Iterator[tuple[str, Path]]:
    """Every regular file below root, hidden ones (.git, .DS_Store, editor swap files) aside."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith(".") or name.endswith("~"):
                continue
            path = Path(folder) / name
            if path.is_file():
                yield path.relative_to(root).as_posix(), path


def _looks_changed(path: Path, state: FileState | None) -> bool:
    try:
        stat = path.stat()
    except OSError:
        return False
    return state is None or (state.size, state.mtime_ns) != (stat.st_size, stat.st_mtime_ns)


def _read(
    path: Path, rel: str, state: FileState | None, settings: Settings
) -> tuple[FileState, ParsedFile | None]:
    """The file's new state, and its articles when its content changed since `state`.

    A file that cannot be read gives no articles (None) and so keeps the ones it had: a
    half-written or damaged file must not take its articles away, nor give them new ids when
    it comes back.
    """
    try:
        stat = path.stat()
    except OSError as exc:
        return FileState(rel, 0, 0, "", f"cannot read file: {exc.strerror}"), None
    if state and state.size == stat.st_size and state.mtime_ns == stat.st_mtime_ns:
        return state, None
    try:
        check_size(stat.st_size, settings.max_file_bytes)
        data = path.read_bytes()
    except ArticleError as exc:
        return FileState(rel, stat.st_size, stat.st_mtime_ns, "", str(exc)), None
    except OSError as exc:
        error = f"cannot read file: {exc.strerror}"
        return FileState(rel, stat.st_size, stat.st_mtime_ns, "", error), None
    sha = hashlib.sha256(data).hexdigest()
    if state and state.sha256 == sha:
        # Touched, not changed: remember the new time so the next run skips it again.
        return replace(state, size=stat.st_size, mtime_ns=stat.st_mtime_ns), None
    mtime = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
    try:
        parsed = parse_bytes(
            data,
            source=rel,
            suffix=path.suffix.lower(),
            boilerplate=settings.boilerplate,
            mtime=mtime,
        )
    except ArticleError as exc:
        log.warning("%s: %s", rel, exc)
        return FileState(rel, stat.st_size, stat.st_mtime_ns, sha, str(exc)), None
    except Exception as exc:  # a parser bug must cost one file, not the whole run
        log.exception("%s: unexpected error while reading", rel)
        error = f"could not be read ({type(exc).__name__}: {exc})"
        return FileState(rel, stat.st_size, stat.st_mtime_ns, sha, error), None
    state = FileState(rel, stat.st_size, stat.st_mtime_ns, sha, None, parsed.problems)
    return state, parsed


def _keep_first_seen_date(article: Article, ref: ArticleRef) -> Article:
    """An article without a date of its own keeps the time it was first seen, across edits."""
    if article.dated:
        return article
    return replace(article, published=ref.published)


def _follow_moves(
    added: list[Article], gone: list[ArticleRef]
) -> tuple[list[Article], list[tuple[int, Article]]]:
    """A new article with the very text of one that disappeared is that article, moved."""
    by_hash = {ref.content_hash: ref for ref in gone}
    still_added, moved = [], []
    for article in added:
        ref = by_hash.pop(article.content_hash, None)
        if ref is None:
            still_added.append(article)
        else:
            moved.append((ref.id, _keep_first_seen_date(article, ref)))
    return still_added, moved


def _summarize_new(
    settings: Settings,
    store: Store,
    articles: list[Article],
    *,
    runner: _Runner,
    progress: Progress | None,
) -> int:
    """Summarize (default algorithm and length) what the cache lacks; returns how many."""
    if not articles:
        return 0
    options = summary_options(settings)
    wanted: dict[SummaryKey, Article] = {}
    for article in articles:
        wanted.setdefault(summary_key(article, options), article)
    missing = store.missing_summaries(wanted)
    jobs = [(wanted[key], options) for key in wanted if key in missing]
    if not jobs:
        return 0
    keys = [summary_key(article, options) for article, _ in jobs]
    results: list[tuple[SummaryKey, list[str]]] = []
    for done, (key, sentences) in enumerate(zip(keys, runner.run(jobs), strict=True), 1):
        results.append((key, sentences))
        if progress:
            progress("summarize", done, len(jobs))
        if len(results) >= 200:  # the cache is committed as it fills: a crash keeps the work
            store.put_summaries(results)
            results = []
    if results:
        store.put_summaries(results)
    return len(jobs)


class _Runner:
    """Runs summary jobs in this process, or in a pool of one worker process per core.

    The pool can be started before the files are read (`start`), so that its start-up (a
    forkserver, workers importing sumy and nltk) overlaps with reading instead of following it.
    """

    def __init__(self, settings: Settings) -> None:
        self.workers = settings.worker_count
        self.language = settings.summary.language
        self.pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        if self.pool is not None or self.workers < 2:
            return
        from . import summarize

        # forkserver, not fork: the bot's process has threads (PTB, asyncio), and forking
        # those is unsafe. Preloading bot.summarize gives each worker sumy and nltk imported.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["bot.summarize"])
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        for _ in range(self.workers):  # one task each makes the pool start every worker now
            self.pool.submit(summarize.tools, self.language)

    def run(self, jobs: list[tuple[Article, SummaryOptions]]) -> Iterator[list[str]]:
        from . import summarize

        if len(jobs) < _POOL_THRESHOLD or self.workers < 2:
            yield from map(summarize.safe_summarize_job, jobs)
            return
        self.start()
        assert self.pool is not None
        chunksize = max(1, min(16, len(jobs) // (self.workers * 4)))
        yield from self.pool.map(summarize.safe_summarize_job, jobs, chunksize=chunksize)

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
