"""A real PostgreSQL server for the tests: the one NEWSBOT_TEST_POSTGRES names, else one started
here from the server binaries on this machine (Debian's postgresql package), in a temporary
folder, on a free port of 127.0.0.1, stopped at the end.

Each test gets its own database, copied from a template that already holds the schema, so a
test sees only its own rows and the copy takes milliseconds.

When no server can be started, PostgreSQL tests are skipped, saying why, except where
NEWSBOT_REQUIRE_POSTGRES is set (CI): there they fail.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

REQUIRED = bool(os.environ.get("NEWSBOT_REQUIRE_POSTGRES"))


class Unavailable(Exception):
    """No PostgreSQL server can be had here."""


def _binaries() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not versions:
        raise Unavailable(
            "no PostgreSQL server binaries (initdb) here: install Debian's postgresql package,"
            " or set NEWSBOT_TEST_POSTGRES to a server's URL"
        )
    return Path(versions[-1]).parent


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A throwaway cluster: trust authentication on 127.0.0.1 only, no fsync (a test server
    loses nothing it needs when the machine stops)."""

    def __init__(self) -> None:
        self.bin = _binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        # PostgreSQL refuses to run as root: as root, run it as the postgres user.
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and there is no postgres user") from None
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-N",
        )  # fmt: skip
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={self.folder} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self._as, *command], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise Unavailable(f"{command[0]} failed: {done.stderr.strip()} {tail}")

    def stop(self) -> None:
        subprocess.run(
            [*self._as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


class Databases:
    """Fresh databases on one server: each a copy of a template migrated once."""

    _numbers = itertools.count(1)

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = f"newsbot_template_{os.getpid()}"
        self._template_ready = False

    def url(self, name: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def _admin(self, sql: str) -> None:
        # CREATE/DROP DATABASE cannot run in a transaction: autocommit.
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def fresh(self, *, migrated: bool = True) -> str:
        """A new empty database's URL: with the schema in place (`migrated`), or none at all."""
        name = f"newsbot_test_{os.getpid()}_{next(self._numbers)}"
        if not migrated:
            self._admin(f'CREATE DATABASE "{name}"')
            return self.url(name)
        if not self._template_ready:
            self._make_template()
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self.url(name)

    def _make_template(self) -> None:
        from bot.store import open_store

        self._admin(f'DROP DATABASE IF EXISTS "{self.template}"')
        self._admin(f'CREATE DATABASE "{self.template}"')
        with open_store(self.url(self.template)):
            pass
        # A template must have no connections when it is copied: the store's pool is closed
        # with the store, but the server ends a backend a moment after its client leaves.
        for _ in range(100):
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self.template,)
                ).fetchone()
            if not row or not row[0]:
                break
            time.sleep(0.05)
        self._template_ready = True

    def drop(self, url: str) -> None:
        name = url.rpartition("/")[2]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_url() -> tuple[str, Server | None]:
    """An admin URL of a running server, and the Server started here (None: one given)."""
    given = os.environ.get("NEWSBOT_TEST_POSTGRES")
    if given:
        return given, None
    server = Server()
    return server.url, server
