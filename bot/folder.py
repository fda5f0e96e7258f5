"""The articles folder: which files there are, and reading one file into its articles.

Reading is the part of an index run that can go to worker processes: `read_batch` reads a
batch of files there (bytes, decoding, parsing, language detection) and computes each new
article's story band keys (stories.bands), so that the main process only compares and writes.
Nothing outside the folder is ever read (scan), and one bad file costs only itself (read).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from . import languages, stories
from .articles import ArticleError, ParsedFile, check_size, parse_bytes
from .config import Boilerplate
from .store import FileState

log = logging.getLogger(__name__)

# Reading one file (decoding, parsing, language) should take well under this; past it the file
# is named in the run's report (a 5 MB hostile Markdown file takes about 0.2 s).
READ_BUDGET = 5.0


@dataclass(frozen=True)
class Failure:
    path: str
    error: str


@dataclass(frozen=True)
class ReadOptions:
    """What reading a file needs of the settings (sent to the workers with each batch)."""

    max_file_bytes: int
    boilerplate: Boilerplate
    language: str


@dataclass(frozen=True)
class Read:
    """One file read: its new state; its articles if its content changed (else None); the band
    keys of those articles' texts, by content hash."""

    state: FileState
    parsed: ParsedFile | None = None
    bands: dict[str, list[int]] = field(default_factory=dict)


def scan(root: Path) -> tuple[dict[str, Path], list[Failure]]:
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


def changed_size(path: Path, state: FileState | None) -> int | None:
    """None when the file has the size and modification time recorded (it is not even opened);
    else its size (0 when it cannot be looked at: read says why)."""
    try:
        stat = path.stat()
    except OSError:
        return 0
    if state is not None and (state.size, state.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
        return None
    return stat.st_size


Job = tuple[str, str, FileState | None]
"""(relative path, path, recorded state) of a file to read."""


def read_batch(jobs: list[Job], options: ReadOptions) -> list[Read]:
    """Worker-process entry point: read each file, with its articles' band keys."""
    return [read(Path(path), rel, state, options) for rel, path, state in jobs]


def read(path: Path, rel: str, state: FileState | None, options: ReadOptions) -> Read:
    """The file's new state, and its articles when its content changed since `state`.

    A file that cannot be read gives no articles (None) and so keeps the ones it had: a
    half-written or damaged file must not take its articles away, nor give them new ids when
    it comes back.
    """
    try:
        stat = path.stat()
    except OSError as exc:
        return Read(FileState(rel, 0, 0, "", f"cannot read file: {exc.strerror}"))
    if state and state.size == stat.st_size and state.mtime_ns == stat.st_mtime_ns:
        return Read(state)
    try:
        check_size(stat.st_size, options.max_file_bytes)
        data = read_no_link(path)
    except ArticleError as exc:
        return Read(FileState(rel, stat.st_size, stat.st_mtime_ns, "", str(exc)))
    except OSError as exc:
        error = f"cannot read file: {exc.strerror}"
        return Read(FileState(rel, stat.st_size, stat.st_mtime_ns, "", error))
    sha = hashlib.sha256(data).hexdigest()
    if state and state.sha256 == sha:
        # Touched, not changed: remember the new time so the next run skips it again.
        return Read(replace(state, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
    started = time.perf_counter()
    try:
        parsed = _parse(data, rel, path.suffix.lower(), stat.st_mtime, options)
        bands = {a.content_hash: stories.text_bands(a.title, a.body) for a in parsed.articles}
        for article in parsed.articles:
            _ = article.fingerprint  # made here, in a worker, and kept by the article
    except ArticleError as exc:
        log.warning("%s: %s", rel, exc)
        return Read(FileState(rel, stat.st_size, stat.st_mtime_ns, sha, str(exc)))
    except Exception as exc:  # a parser bug must cost one file, not the whole run
        log.exception("%s: unexpected error while reading", rel)
        error = f"could not be read ({type(exc).__name__}: {exc})"
        return Read(FileState(rel, stat.st_size, stat.st_mtime_ns, sha, error))
    problems = parsed.problems
    took = time.perf_counter() - started
    if took > READ_BUDGET:
        # Every reader is linear in its input, so this is a very large file or a slow machine:
        # said in the run's report, so that an operator sees which file holds the runs up.
        log.warning("%s: read in %.1f s, over the %g s budget", rel, took, READ_BUDGET)
        problems = (*problems, f"read in {took:.1f} s, over the {READ_BUDGET:g} s budget per file")
    state = FileState(rel, stat.st_size, stat.st_mtime_ns, sha, None, problems)
    return Read(state, parsed, bands)


def _parse(data: bytes, rel: str, suffix: str, mtime: float, options: ReadOptions) -> ParsedFile:
    parsed = parse_bytes(
        data,
        source=rel,
        suffix=suffix,
        boilerplate=options.boilerplate,
        mtime=datetime.fromtimestamp(mtime, tz=UTC),
    )
    assigned = tuple(languages.assign(a, options.language) for a in parsed.articles)
    return replace(parsed, articles=assigned)


def read_no_link(path: Path) -> bytes:
    """The file's bytes, refusing a symbolic link put in its place since the scan."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArticleError("became a symbolic link while being read (not read)") from None
        raise
    with os.fdopen(handle, "rb") as file:
        return file.read()
