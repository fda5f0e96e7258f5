"""The index operation, shared by the command line, the bot's start-up and /reload.

scan the folder -> read what changed -> diff against the store -> summarize what is new on all
cores -> commit in one transaction -> report. Files whose size and modification time are as
recorded are not even opened, which is what makes a re-index with nothing changed cheap; sumy
and nltk are imported only when something needs summarizing.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from . import languages
from .articles import Article, ArticleError, ParsedFile, check_size, parse_bytes
from .config import Settings, SummaryOptions
from .errors import NewsbotError
from .store import ArticleRef, Changes, FileState, Store, SummaryKey

log = logging.getLogger(__name__)

# Below this many summaries a process pool costs more to start than it saves.
_POOL_THRESHOLD = 8
# Reading one file (decoding, parsing, language) should take well under this; past it the file
# is named in the run's report (a 5 MB hostile Markdown file takes about 0.2 s).
READ_BUDGET = 5.0

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stage is "read" or "summarize"."""


class IndexRunError(NewsbotError):
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
    on_disk, refused = _scan(root)
    known = store.file_states()
    report = Report(files=len(on_disk), failed=refused)
    for failure in refused:
        log.warning("%s: %s", failure.path, failure.error)
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
    applied = store.apply(
        Changes(
            files=file_rows,
            removed_files=removed_files,
            added=diff.added,
            updated=diff.updated,
            relocated=diff.relocated,
            removed_ids=diff.removed_ids,
            report=report.as_dict(),
        )
    )
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


def _scan(root: Path) -> tuple[dict[str, Path], list[Failure]]:
    """Every regular file below root, hidden ones (.git, .DS_Store, editor swap files) aside;
    and the links that are not read, with why.

    Nothing outside the folder is ever read: a symbolic link is followed only to a file inside
    it (a link to /etc/passwd would otherwise be article 13, readable by anyone with /read).
    Linked folders are not entered (os.walk does not follow them), so a loop cannot form.
    """
    found: dict[str, Path] = {}
    links: dict[str, Path] = {}
    refused: list[Failure] = []
    inside = root.resolve()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in [*files, *(d for d in dirs if (Path(folder) / d).is_symlink())]:
            if name.startswith(".") or name.endswith("~"):
                continue
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if not path.is_symlink():
                if path.is_file():
                    found[rel] = path
                continue
            try:
                target = path.resolve(strict=True)
            except (RuntimeError, OSError) as exc:  # RuntimeError: a loop, before Python 3.13
                loop = isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP
                reason = "symbolic link loop" if loop else "symbolic link to nothing"
                refused.append(Failure(rel, f"{reason} (not read)"))
                continue
            if not target.is_relative_to(inside):
                kind = "folder" if target.is_dir() else "file"
                refused.append(
                    Failure(rel, f"link to a {kind} outside the articles folder (not read)")
                )
            elif target.is_dir():
                refused.append(Failure(rel, "link to a folder (not followed; its files are read)"))
            elif target.is_file():
                links[rel] = target
    if links:
        # A link to a file read under its own name anyway would only make a copy of its
        # articles. Resolving every path costs a system call per file: only when there are links.
        read = {path.resolve() for path in found.values()}
        found.update((rel, target) for rel, target in links.items() if target not in read)
    return found, refused


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
        data = _read_no_link(path)
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
    started = time.perf_counter()
    try:
        parsed = parse_bytes(
            data,
            source=rel,
            suffix=path.suffix.lower(),
            boilerplate=settings.boilerplate,
            mtime=mtime,
        )
        default = settings.summary.language
        parsed = replace(
            parsed, articles=tuple(languages.assign(a, default) for a in parsed.articles)
        )
    except ArticleError as exc:
        log.warning("%s: %s", rel, exc)
        return FileState(rel, stat.st_size, stat.st_mtime_ns, sha, str(exc)), None
    except Exception as exc:  # a parser bug must cost one file, not the whole run
        log.exception("%s: unexpected error while reading", rel)
        error = f"could not be read ({type(exc).__name__}: {exc})"
        return FileState(rel, stat.st_size, stat.st_mtime_ns, sha, error), None
    problems = parsed.problems
    took = time.perf_counter() - started
    if took > READ_BUDGET:
        # Every reader is linear in its input, so this is a very large file or a slow machine:
        # said in the run's report, so that an operator sees which file holds the runs up.
        log.warning("%s: read in %.1f s, over the %g s budget", rel, took, READ_BUDGET)
        problems = (*problems, f"read in {took:.1f} s, over the {READ_BUDGET:g} s budget per file")
    state = FileState(rel, stat.st_size, stat.st_mtime_ns, sha, None, problems)
    return state, parsed


def _read_no_link(path: Path) -> bytes:
    """The file's bytes, refusing a symbolic link put in its place since the scan."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArticleError("became a symbolic link while being read (not read)") from None
        raise
    with os.fdopen(handle, "rb") as file:
        return file.read()


def _keep_first_seen_date(article: Article, ref: ArticleRef) -> Article:
    """An article without a date of its own keeps the time it was first seen, across edits."""
    if article.dated:
        return article
    return replace(article, published=ref.published)


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
