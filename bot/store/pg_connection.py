"""PostgreSQL connections for the store: psycopg 3 and its pool, shared per database URL in a
process, and the Connection through which the subjects' SQL (written once, with sqlite3's ?
marks: room.Database) runs on PostgreSQL. postgres.py holds the Store built on it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import urlsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from .records import StoreUnavailable

ENGINE = "postgresql"

# Connections per process and database: the event loop, searches, summaries, an index run and
# the leader's lock each take one at a time.
POOL_SIZE = 12


def redacted(url: str) -> str:
    """The server and database a URL names, without its password: what a log may say."""
    parts = urlsplit(url)
    where = parts.hostname or "localhost"
    if parts.port:
        where += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}{where}{parts.path}"


class Row(tuple[Any, ...]):
    """A row read by column name or position, as sqlite3.Row."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: Any) -> Any:
    if cursor.description is None:
        return tuple
    return _row_class(tuple(c.name for c in cursor.description))


class Result:
    """A statement's rows (all read at once: its connection goes back to the pool) and count."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


_INDEXED_BY = re.compile(r"\s+INDEXED BY \w+")


@lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """The store's SQL as psycopg takes it: ? marks as %s (a literal % doubled), and no
    INDEXED BY (SQLite's planner hint; PostgreSQL's planner chooses for itself). Numbered
    marks (?1) are not used by the store."""
    if re.search(r"\?\d", sql):
        raise ValueError(f"numbered parameters are not supported: {sql}")
    return _INDEXED_BY.sub("", sql.replace("%", "%%")).replace("?", "%s")


def unavailable(exc: Exception) -> bool:
    """A lost or refused connection, a lock or deadlock, a full disk: the same statement may
    work later. (Not a search stopped by its time limit: QueryCanceled is one too.)"""
    if isinstance(exc, PoolTimeout):
        return True
    return isinstance(exc, psycopg.OperationalError) and not isinstance(
        exc, pg_errors.QueryCanceled
    )


@contextmanager
def store_errors() -> Iterator[None]:
    """psycopg's errors that mean "try again later" (see unavailable) as the store's
    StoreUnavailable; every other error as it is."""
    try:
        yield
    except Exception as exc:
        if unavailable(exc):
            raise StoreUnavailable(f"PostgreSQL: {exc}") from exc
        raise


class Connection:
    """sqlite3.Connection's execute and executemany, on a pool of PostgreSQL connections."""

    engine = ENGINE

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool
        self._local = threading.local()

    @property
    def tuned(self) -> bool:
        """Whether this thread's held connection has a search's settings (postgres.py)."""
        return bool(getattr(self._local, "tuned", False))

    @tuned.setter
    def tuned(self, value: bool) -> None:
        self._local.tuned = value

    @property
    def held(self) -> psycopg.Connection[Any] | None:
        """The connection this thread holds (in a transaction or a time limit), if any."""
        return getattr(self._local, "conn", None)

    @contextmanager
    def hold(self) -> Iterator[psycopg.Connection[Any]]:
        """One pooled connection for this thread's statements until the block ends."""
        if self.held is not None:
            yield self.held
            return
        with self.pool.connection() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Result:
        with store_errors(), self.hold() as conn:
            cursor = conn.execute(translate(sql), _without_nul(parameters))
            rows = cursor.fetchall() if cursor.description is not None else []
            return Result(rows, cursor.rowcount)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Result:
        with store_errors(), self.hold() as conn, conn.cursor() as cursor:
            cursor.executemany(translate(sql), (_without_nul(p) for p in parameters))
            return Result([], cursor.rowcount)


def _without_nul(parameters: Sequence[Any]) -> Sequence[Any]:
    """PostgreSQL's text cannot hold a NUL character (SQLite's can): it is dropped on the way
    in. It is no text a person reads; a broken file's article is kept rather than refused."""
    if not any(isinstance(p, str) and "\x00" in p for p in parameters):
        return parameters
    return tuple(p.replace("\x00", "") if isinstance(p, str) else p for p in parameters)


class _Pools:
    """One pool per database URL in a process, shared by its Stores (the bot opens one for
    each search thread) and closed with the last of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pools: dict[str, tuple[ConnectionPool[Any], int]] = {}

    def take(self, url: str, timeout: float) -> ConnectionPool[Any]:
        with self._lock:
            pool, users = self.pools.get(url, (None, 0))
            if pool is None:
                pool = _open_pool(url, timeout)
            self.pools[url] = (pool, users + 1)
            return pool

    def give_back(self, url: str) -> None:
        with self._lock:
            pool, users = self.pools[url]
            if users > 1:
                self.pools[url] = (pool, users - 1)
                return
            del self.pools[url]
        pool.close()


def _open_pool(url: str, timeout: float) -> ConnectionPool[Any]:
    # One connection first, so that a server that refuses (down, a wrong password, no such
    # database) is said at once, in its own words, rather than after the pool's retries.
    try:
        psycopg.connect(url, connect_timeout=max(1, round(timeout))).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise StoreUnavailable(f"PostgreSQL at {redacted(url)}: {reason}") from None
    pool: ConnectionPool[Any] = ConnectionPool(
        url,
        min_size=1,
        max_size=POOL_SIZE,
        timeout=timeout,
        open=False,
        name="newsbot",
        kwargs={
            "autocommit": True,  # transactions are explicit (Store.transaction)
            "row_factory": _row_factory,
            "connect_timeout": max(1, round(timeout)),
            # psycopg prepares a statement run 5 times; PostgreSQL then may plan it once for
            # any value. A search's plan depends on how common its words are (an index walk
            # newest first for "the", the GIN index for "beckham"): one plan for all made rare
            # words read every row (45 ms at 10,000 articles instead of 3). Each execution is
            # planned for its own values.
            "options": "-c plan_cache_mode=force_custom_plan",
            # A server that went away is noticed in about 20 s, not the system's 2 hours.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 2,
        },
    )
    try:
        pool.open(wait=True, timeout=timeout)
    except PoolTimeout as exc:
        pool.close()
        raise StoreUnavailable(
            f"PostgreSQL at {redacted(url)} did not answer within {timeout:g} s: is it running,"
            " and are the user, password and database right?"
        ) from exc
    return pool


pools = _Pools()
