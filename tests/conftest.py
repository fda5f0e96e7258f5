"""Shared fixtures: settings pointing into tmp_path, a store per test, a file writer.

The database engine: SQLite, unless NEWSBOT_TEST_ENGINE=postgresql (then every test's
database is a fresh one on a PostgreSQL server: tests/postgres.py). `engine_store` runs a test
on both engines whatever the setting.
"""

from __future__ import annotations

import dataclasses
import io
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from bot import index
from bot.chat import texts
from bot.chat.local import LocalBotApi
from bot.config import DEFAULT_CONFIG, Boilerplate, Settings, load_boilerplate, load_settings
from bot.store import Store, open_store

from . import postgres as postgres_server
from .feed_server import FeedServer

ENGINE = os.environ.get("NEWSBOT_TEST_ENGINE", "sqlite")

# A test of what only a SQLite file does (its write lock, a file removed, replaced or damaged
# under the bot): PostgreSQL has no such file, and these tests run on SQLite.
sqlite_only = pytest.mark.skipif(
    ENGINE != "sqlite", reason="SQLite's own behaviour (its file and its write lock)"
)
fts5_only = pytest.mark.skipif(
    ENGINE != "sqlite", reason="how FTS5 is asked (PostgreSQL's search is store/pg_search.py)"
)

# The terminal chat speaks the locale's language (LANG, LC_ALL): tests and the bots they start
# get English unless a test asks for another.
os.environ["LC_ALL"] = "C.UTF-8"

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PAGE = REPO / "articles" / "000_1cfae1a95075e546.txt"

WriteFile = Callable[[str, str | bytes], Path]


@pytest.fixture(scope="session")
def boilerplate() -> Boilerplate:
    return load_boilerplate(DEFAULT_CONFIG.parent / "boilerplate.toml")


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    path = tmp_path / "articles"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_server.Databases]:
    """Fresh databases on a real PostgreSQL server; skipped, saying why, where none can be
    started (failed instead where NEWSBOT_REQUIRE_POSTGRES is set: CI)."""
    try:
        url, started = postgres_server.server_url()
    except postgres_server.Unavailable as exc:
        if postgres_server.REQUIRED:
            pytest.fail(f"PostgreSQL is required (NEWSBOT_REQUIRE_POSTGRES) but: {exc}")
        pytest.skip(f"no PostgreSQL server here: {exc}")
    try:
        yield postgres_server.Databases(url)
    finally:
        if started is not None:
            started.stop()


def _database(request: pytest.FixtureRequest, engine: str, tmp_path: Path) -> Iterator[str | Path]:
    if engine == "sqlite":
        yield tmp_path / "db" / "news.sqlite3"
        return
    databases: postgres_server.Databases = request.getfixturevalue("postgres")
    url = databases.fresh()
    yield url
    databases.drop(url)


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    """A new database on the engine the tests run on (NEWSBOT_TEST_ENGINE)."""
    yield from _database(request, ENGINE, tmp_path)


@pytest.fixture
def settings(articles_dir: Path, database: str | Path) -> Settings:
    """The committed defaults, with the folder in tmp_path, a new database and no process
    pool."""
    base = load_settings(DEFAULT_CONFIG, environ={})
    return dataclasses.replace(base, articles_dir=articles_dir, database=database, workers=1)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with open_store(settings.database) as db:
        yield db


@pytest.fixture
def memory_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A throwaway store: SQLite in memory, or a new PostgreSQL database."""
    if ENGINE == "sqlite":
        with Store(":memory:") as db:
            yield db
        return
    for url in _database(request, ENGINE, tmp_path):
        with open_store(url) as db:
            yield db


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A new store on each engine in turn: the store's behaviour is the same on both."""
    for target in _database(request, request.param, tmp_path):
        with open_store(target) as db:
            yield db


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A web server on 127.0.0.1 for feeds and pages (tests/feed_server.py)."""
    with FeedServer() as running:
        yield running


@pytest.fixture
def write(articles_dir: Path) -> WriteFile:
    """Write an article file below the articles folder; str is written as UTF-8."""

    def _write(name: str, content: str | bytes) -> Path:
        path = articles_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return _write


class HeldIndex:
    """index.run held at its start until `release` is set, so that a test can do what it likes
    while an index run is going on (the run is in a worker thread: threading Events, no timing).
    `progress` is the run's progress callback, for the test to report stages and counts with;
    with `fail` the run raises instead of indexing once released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail = False
        self.runs = 0
        self.progress: index.Progress = lambda stage, done, total: None
        self.real = index.run  # to index without being held

    def run(
        self, settings: Settings, store: Store, *, progress: index.Progress | None = None
    ) -> index.Report:
        self.runs += 1
        if progress is not None:
            self.progress = progress
        self.started.set()
        self.release.wait()
        if self.fail:
            raise RuntimeError("a bug in the index run")
        return self.real(settings, store, progress=progress)


@pytest.fixture
def held_index(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldIndex]:
    """Every index run through News waits for `held_index.release` (set at the end of the test
    whatever happens, so that no run is left waiting)."""
    held = HeldIndex()
    monkeypatch.setattr("bot.index.run", held.run)
    try:
        yield held
    finally:
        held.release.set()


def story(title: str, *sentences: str) -> str:
    """A plain-text article: headline, blank line, one paragraph per sentence pair."""
    paragraphs = [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]
    return "\n\n".join([title, *paragraphs]) + "\n"


def delivered(api: LocalBotApi) -> Counter[tuple[int, str]]:
    """(chat, headline) of every new-article message the local Bot API accepted."""
    counts: Counter[tuple[int, str]] = Counter()
    for call in api.sent("sendMessage"):
        text = str(call.params["text"])
        if text.startswith(texts.NEW_ARTICLE):
            headline = text.split("<b>", 1)[1].split("</b>", 1)[0]
            counts[(int(call.params["chat_id"]), headline)] += 1
    return counts


def png_size(data: bytes) -> tuple[int, int]:
    """The size of a PNG; fails unless the bytes are a whole, valid PNG."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(data)).verify()  # every chunk's checksum, the image data complete
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """How the test workers share the work (pyproject: --dist loadgroup): a file's tests stay on
    one worker (its module fixtures are made once), except the end-to-end tests that start bots
    of their own (tests/test_run.py without the shared bot), which are the longest and go to
    whichever worker is free."""
    for item in items:
        module = item.nodeid.split("::")[0]
        fixtures = getattr(item, "fixturenames", ())
        if module.endswith("test_run.py") and "shared" not in fixtures:
            continue
        item.add_marker(pytest.mark.xdist_group(module))
