"""Benchmark: two bot processes on one PostgreSQL database deliver one article to many
subscribers; in a second run the leader is killed with SIGKILL in the middle of the broadcast.

The issue's "Done when": two bot processes on one PostgreSQL deliver one article to 10,000
subscribers with 0 duplicates and 0 losses, and the second takes over within a minute when the
leader is killed with kill -9 mid-broadcast; at most one repeated message per chat remains (the
one message per chat the dead leader had in flight, which the new leader requeues).

Everything is real except Telegram: two `python -m bot run --webhook` subprocesses (started as
tests/test_replicas.py starts them, each its own session, ports from the OS) talk HTTP to
`tests.fake_bot_api.FakeBotApi`, which runs in a child process of this script (as in
bench/delivery.py) so that its CPU is not the bots'. PostgreSQL is the server `--database`
names, else a throwaway one started here with tests/postgres.py's `Server` and stopped at the
end. With `--database`, each run creates a fresh database on that server beside the one named
(`Databases(url).fresh()`: it needs the right to CREATE DATABASE) and drops it afterwards.

Each run (`--runs clean,kill`, default both), on a fresh migrated database:

1. A temporary articles folder with one article, indexed through the store before anyone
   subscribes (as if the bots had run before), so the bots' start-up index queues nothing.
   `--subscribers` private chats subscribe to all news directly through the store
   (`Store.subscribe`), and the fake Bot API is told every one of those chats (it answers
   "chat not found" otherwise).
2. Two webhook processes start on that database and folder, with a temporary config whose
   `[delivery] max_per_second` is `--rate`. It waits until both have set their webhook and one
   log says "this process leads".
3. A second article file is written and the admin posts `/reload` to the follower's webhook:
   the reload queues one outbox row per subscriber and the leader sends them.
4. `kill` only: after `--kill-after` article messages reached the fake (default half the
   subscribers) the leader's process group gets SIGKILL. The follower takes the lease at its
   next check (every 5 s), requeues what the dead leader left 'sending' and sends the rest.
5. The run ends when the outbox holds the reload's rows and none is queued or sending any more
   (or at `--timeout`).

At Telegram's 30 messages a second (the default `--rate`), 10,000 messages take about 5.5
minutes, so the default invocation (both runs) takes about 12 minutes.

Measured from the fake's recorded sendMessage calls (accepted ones carrying the new article's
headline): wall time from the first to the last message, the achieved rate ((messages - 1) /
wall time; in the kill run the takeover gap is inside it), duplicates (chats with two or more
copies) and the largest copy count per chat, losses (subscribers with none), and in the kill
run the takeover: from the kill to the first article message the fake received from the new
leader. Messages the killed leader had already written to its sockets may still be read by the
fake just after the kill; they are told apart by their TCP connection (the fake's child records
each call's client port; a connection that carried the article before the kill is the dead
leader's) and are counted as "in flight at the kill", not as the takeover.

Usage: python bench/replicas.py [--subscribers 10000] [--rate 30] [--runs clean,kill]
       [--kill-after N] [--database postgresql://...]
Exit status: 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from machine import cpu_busy, describe  # bench/machine.py, beside this script

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # bot/ and tests/ of this checkout

TOKEN = "123456:BENCH-token-abcdefghijklmnop"
SECRET = "replicas-bench_1"
ADMIN_ID = 31337
FIRST_CHAT = 720_000_001  # subscribers are private chats FIRST_CHAT, FIRST_CHAT + 1, ...
TAKEOVER_WITHIN = 60.0  # seconds: the promise (the lease is checked every 5 s)
START_WITHIN = 120.0  # seconds for both processes to set their webhook and one to lead
LEADS = "this process leads"

EXISTING = (
    "Harbour ferry returns after storm repairs\n\n"
    "The harbour ferry sailed again on Monday after three weeks of repairs. Engineers replaced"
    " the damaged propeller and checked the hull.\n\n"
    "Commuters welcomed the return of the morning crossing. The operator said the timetable"
    " will stay the same through the winter.\n"
)
# No HTML special characters in the headline: it is matched in the sent text as it is.
NEW_TITLE = "Volunteers open the restored riverside library"
NEW_ARTICLE = (
    f"{NEW_TITLE}\n\n"
    "The riverside library reopened on Saturday after two years of restoration work. Volunteers"
    " repaired the reading room's oak shelves and rebound more than four hundred old books.\n\n"
    "The council paid for a new roof and for lifts to the upper gallery. Opening hours will be"
    " longer than before the closure, with late evenings on Tuesdays and Thursdays.\n\n"
    "Local schools have booked weekly visits for the spring term. The library's archive of"
    " maps and parish records will be open to researchers by appointment.\n"
)


@dataclasses.dataclass(frozen=True)
class Send:
    """One sendMessage with the new article that the fake received."""

    chat_id: int | None
    time: float  # time.monotonic() at arrival (the same clock in both processes on Linux)
    status: int
    description: str
    port: int  # the client's TCP port: which connection (and so which process) sent it


@dataclasses.dataclass
class Result:
    kind: str  # "clean" or "kill"
    subscribers: int
    rate: float
    sends: list[Send]
    outbox: dict[str, int]
    timed_out: bool
    killed_at: float | None = None
    takeover: float | None = None  # seconds from the kill to the new leader's first message
    in_flight: int = 0  # article messages from the killed leader read after the kill
    sent_before_kill: int = 0
    new_leader_said_so: bool = False
    requeued_log: str = ""
    notes: list[str] = dataclasses.field(default_factory=list)
    log_problems: Counter[str] = dataclasses.field(default_factory=Counter)


# -- the fake Bot API, in its own process ---------------------------------------------------------


def serve_fake(conn: Connection, token: str, repo_root: str) -> None:
    """The child process: a FakeBotApi, driven by (command, argument) messages on the pipe.

    Commands: "chats" (register private chats), "update" (a webhook update from a user, whose
    chat the fake then knows), "webhooks" (setWebhook calls so far), "watch" (from now on,
    collect sendMessage calls whose text holds this headline), "progress" (how many accepted
    ones so far), "sends" (all of them), "errors", "stop".
    """
    sys.path.insert(0, repo_root)
    from tests import fake_bot_api
    from tests.fake_bot_api import FakeBotApi

    # Remember each call's client port: the connection thread knows it, _answer sees the call.
    peers: dict[int, int] = {}
    serve_connection = fake_bot_api._Server._serve_connection
    answer = fake_bot_api._answer

    def _serve_connection(self: Any, request: Any, client_address: Any) -> None:
        threading.current_thread().peer_port = client_address[1]  # type: ignore[attr-defined]
        serve_connection(self, request, client_address)

    def _answer(state: Any, call: Any) -> Any:
        peers[id(call)] = getattr(threading.current_thread(), "peer_port", 0)
        return answer(state, call)

    fake_bot_api._Server._serve_connection = _serve_connection  # type: ignore[method-assign]
    fake_bot_api._answer = _answer

    title = ""
    cursor = 0  # calls before this index are answered and looked at
    sends: list[Send] = []

    def scan(fake: FakeBotApi) -> None:
        nonlocal cursor
        state = fake._state
        with state.lock:
            calls = state.calls
            while cursor < len(calls) and calls[cursor].status:
                call = calls[cursor]
                cursor += 1
                if call.method == "sendMessage" and title and title in call.text:
                    port = peers.get(id(call), 0)
                    sends.append(Send(call.chat_id, call.time, call.status, call.description, port))

    with FakeBotApi(token) as fake:
        conn.send(fake.base_url)
        while True:
            command, argument = conn.recv()
            if command == "stop":
                return
            if command == "chats":
                with fake._state.lock:  # the fake learns chats from messages; these sent none
                    for chat_id in argument:
                        fake._state.chats[chat_id] = {
                            "id": chat_id,
                            "type": "private",
                            "first_name": "Reader",
                        }
                conn.send(len(argument))
            elif command == "update":
                text, user_id = argument
                conn.send(fake.webhook_update(text, user_id=user_id))
            elif command == "webhooks":
                conn.send(len(fake.calls("setWebhook")))
            elif command == "watch":
                with fake._state.lock:
                    title, cursor, sends = argument, len(fake._state.calls), []
                conn.send(None)
            elif command == "progress":
                scan(fake)
                conn.send(sum(1 for s in sends if s.status == 200))
            elif command == "sends":
                scan(fake)
                conn.send(list(sends))
            elif command == "errors":
                conn.send(fake.errors)


class Fake:
    """This side of the pipe to the fake's process."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, theirs = context.Pipe()
        self.process = context.Process(
            target=serve_fake,
            args=(theirs, TOKEN, str(REPO_ROOT)),
            name="fake-bot-api",
            daemon=True,
        )
        self.process.start()
        self.base_url: str = self.conn.recv()

    def ask(self, command: str, argument: object = None) -> Any:
        self.conn.send((command, argument))
        return self.conn.recv()

    def close(self) -> None:
        with suppress(OSError, EOFError):
            self.conn.send(("stop", None))
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# -- the bot processes ----------------------------------------------------------------------------


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Replica:
    """One `python -m bot run --webhook` subprocess in its own session; output to a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _port()
        self.log = log
        env = {**env, "NEWSBOT_WEBHOOK_PORT": str(self.port)}
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--webhook"],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    @property
    def leads(self) -> bool:
        return LEADS in self.output

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def post(self, update: dict[str, Any]) -> int:
        from tests.fake_bot_api import post_update  # (the server may still be starting)

        return post_update(f"http://127.0.0.1:{self.port}/hook", update, SECRET)

    def kill(self) -> None:
        """SIGKILL to its whole session (as tests/test_run.py's BotProcess.kill), and reap it."""
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL to the session if it still runs after 10 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        return self.process.returncode


# -- one run --------------------------------------------------------------------------------------


def run_once(
    kind: str, args: argparse.Namespace, fake: Fake, databases: Any, folder: Path
) -> Result:
    from bot import index
    from bot.config import load_settings
    from bot.store import QUEUED, SENDING, open_store

    url = databases.fresh()
    work = folder / kind
    articles = work / "articles"
    articles.mkdir(parents=True)
    (articles / "ferry.txt").write_text(EXISTING, encoding="utf-8")
    config = work / "newsbot.toml"
    config.write_text(f"[delivery]\nmax_per_second = {args.rate:g}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        NEWSBOT_API_BASE_URL=fake.base_url,
        NEWSBOT_ARTICLES_DIR=str(articles),
        NEWSBOT_DATABASE=url,
        NEWSBOT_CONFIG=str(config),
        NEWSBOT_ADMIN_IDS=str(ADMIN_ID),
        NEWSBOT_WEBHOOK_URL="http://127.0.0.1:8443/hook",  # the proxy's, say
        NEWSBOT_WEBHOOK_LISTEN="127.0.0.1",
        NEWSBOT_WEBHOOK_SECRET=SECRET,
        PYTHONUNBUFFERED="1",
    )
    chats = list(range(FIRST_CHAT, FIRST_CHAT + args.subscribers))
    fake.ask("chats", [*chats, ADMIN_ID])  # the admin's chat too: the bots set its menu

    started = time.monotonic()
    settings = load_settings(config, environ=env)
    store = open_store(url)
    replicas: list[Replica] = []
    try:
        # The existing article is indexed before anyone subscribes (the bots ran before), so
        # the start-up index finds nothing new and only the article added below is delivered.
        index.run(settings, store)
        for chat_id in chats:
            store.subscribe(chat_id, "private", "")
        print(
            f"  [{kind}] database ready, {len(chats):,} subscribers"
            f" ({time.monotonic() - started:.0f} s); starting two bot processes",
            flush=True,
        )

        webhooks = fake.ask("webhooks")
        for n in range(2):
            replicas.append(Replica(env, work / f"replica-{n}.log"))
        deadline = time.monotonic() + START_WITHIN
        while fake.ask("webhooks") < webhooks + 2 or not any(r.leads for r in replicas):
            dead = [r for r in replicas if not r.running]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(
                    "the bots did not both set their webhook with one leading;"
                    f" output:\n{replicas[0].output}\n---\n{replicas[1].output}"
                )
            time.sleep(0.1)
        leader, follower = replicas if replicas[0].leads else replicas[::-1]
        result = Result(kind, args.subscribers, args.rate, [], {}, timed_out=False)
        if follower.leads:
            result.notes.append("both processes said they lead")

        fake.ask("watch", NEW_TITLE)
        (articles / "library.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        status = follower.post(fake.ask("update", ("/reload", ADMIN_ID)))
        if status != 200:
            result.notes.append(f"the follower answered the /reload post with HTTP {status}")
        print(f"  [{kind}] /reload posted to the follower; the leader sends", flush=True)

        kill_after = args.kill_after or args.subscribers // 2
        timeout = args.timeout or 2 * args.subscribers / args.rate + 180
        deadline = time.monotonic() + timeout
        next_check, next_print = 0.0, time.monotonic() + 60
        while True:
            sent = fake.ask("progress")
            now = time.monotonic()
            if kind == "kill" and result.killed_at is None and sent >= kill_after:
                leader.kill()
                result.killed_at = now
                result.sent_before_kill = sent
                print(f"  [{kind}] SIGKILL to the leader after {sent:,} messages", flush=True)
            if now >= next_print:
                print(f"  [{kind}] {sent:,} messages", flush=True)
                next_print = now + 60
            if now >= next_check:  # done: the reload's rows are all out of queued and sending
                next_check = now + 1.0
                counts = store.delivery_counts()
                if sum(counts.values()) >= len(chats) and not counts.get(QUEUED, 0) + counts.get(
                    SENDING, 0
                ):
                    break
            if now > deadline:
                result.timed_out = True
                break
            if not follower.running:
                result.notes.append(f"the follower exited with status {follower.process.poll()}")
                break
            time.sleep(0.05)

        result.sends = fake.ask("sends")
        result.outbox = store.delivery_counts()
        if result.killed_at is not None:
            _takeover(result, follower)
        for replica in replicas:
            for line in replica.output.splitlines():
                if re.search(r"\b(WARNING|ERROR|CRITICAL|Traceback)\b", line):
                    result.log_problems[_shape(line)] += 1
        errors = fake.ask("errors")
        if errors:
            result.notes.append(f"fake Bot API errors: {errors[:3]}")
        return result
    finally:
        for replica in replicas:
            replica.stop()
        store.close()
        databases.drop(url)


def _takeover(result: Result, follower: Replica) -> None:
    assert result.killed_at is not None
    before = {s.port for s in result.sends if s.time <= result.killed_at}
    after = sorted((s for s in result.sends if s.time > result.killed_at), key=lambda s: s.time)
    result.in_flight = sum(1 for s in after if s.port in before)
    new = [s for s in after if s.port not in before]
    if new:
        result.takeover = new[0].time - result.killed_at
    output = follower.output
    result.new_leader_said_so = LEADS in output
    found = re.search(r"\d+ deliveries were interrupted by a stop[^\n]*", output)
    result.requeued_log = found[0] if found else "(no requeue logged)"


SKIPPED = "maximum number of running instances reached"


def _shape(line: str) -> str:
    """A log line without its timestamp and numbers, to count alike lines together."""
    if SKIPPED in line:  # APScheduler, each time the drain falls due while the last one runs
        return "drain runs skipped (the previous one still running): expected while sending"
    line = re.sub(r"^\S+ \S+ ", "", line.strip())  # a leading date and time
    return re.sub(r"\d+", "N", line)[:160]


# -- the report -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Figures:
    messages: int
    wall: float
    achieved: float
    duplicates: int
    losses: int
    max_copies: int
    refused: int


def figures(result: Result) -> Figures:
    accepted = sorted((s for s in result.sends if s.status == 200), key=lambda s: s.time)
    per_chat = Counter(s.chat_id for s in accepted)
    chats = set(range(FIRST_CHAT, FIRST_CHAT + result.subscribers))
    wall = accepted[-1].time - accepted[0].time if len(accepted) > 1 else 0.0
    return Figures(
        messages=len(accepted),
        wall=wall,
        achieved=(len(accepted) - 1) / wall if wall > 0 else 0.0,
        duplicates=sum(1 for n in per_chat.values() if n > 1),
        losses=len(chats - set(per_chat)),
        max_copies=max(per_chat.values(), default=0),
        refused=len(result.sends) - len(accepted),
    )


def report(results: Sequence[Result]) -> int:
    print()
    print(
        "| run | subscribers | rate limit | messages sent | wall s | achieved rate | duplicates"
        " | losses | takeover s | max copies per chat |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    checks: list[tuple[str, bool, str]] = []
    for result in results:
        f = figures(result)
        takeover = f"{result.takeover:.1f}" if result.takeover is not None else "n/a"
        if result.kind == "kill" and result.takeover is None:
            takeover = "none"
        print(
            f"| {result.kind} | {result.subscribers:,} | {result.rate:g}/s | {f.messages:,}"
            f" | {f.wall:.1f} | {f.achieved:.1f}/s | {f.duplicates} | {f.losses}"
            f" | {takeover} | {f.max_copies} |"
        )
        done = "" if not result.timed_out else " (timed out)"
        if result.kind == "clean":
            checks.append(
                (
                    "clean: 0 duplicates and 0 losses",
                    f.duplicates == 0 and f.losses == 0 and not result.timed_out,
                    f"{f.duplicates} duplicates, {f.losses} losses{done}",
                )
            )
        else:
            checks.append(
                (
                    "kill: 0 losses",
                    f.losses == 0 and not result.timed_out,
                    f"{f.losses} of {result.subscribers:,} subscribers got nothing{done}",
                )
            )
            checks.append(
                (
                    "kill: no chat more than 2 copies",
                    f.max_copies <= 2,
                    f"at most {f.max_copies} copies in a chat, {f.duplicates} chats with 2+",
                )
            )
            took = result.takeover
            checks.append(
                (
                    f"kill: takeover within {TAKEOVER_WITHIN:.0f} s",
                    took is not None and took <= TAKEOVER_WITHIN,
                    f"{took:.1f} s from the kill to the new leader's first message"
                    if took is not None
                    else "no message from a new leader after the kill",
                )
            )
    print()
    for result in results:
        f = figures(result)
        print(f"{result.kind}:")
        print(f"  outbox after the run: {dict(sorted(result.outbox.items()))}")
        print(f"  sendMessage calls with the article: {len(result.sends):,} ({f.refused} refused)")
        if result.killed_at is not None:
            print(
                f"  killed after {result.sent_before_kill:,} messages; {result.in_flight} more"
                f" from the killed leader's connections read after the kill; the follower"
                f" {'logged' if result.new_leader_said_so else 'did NOT log'} that it leads;"
                f" {result.requeued_log}"
            )
        for line, count in result.log_problems.most_common(8):
            print(f"  log ({count}x): {line}")
        for note in result.notes:
            print(f"  note: {note}")
    print()
    for name, passed, detail in checks:
        print(f"{'PASS' if passed else 'FAIL'}: {name}: {detail}")
    return 0 if checks and all(passed for _, passed, _ in checks) else 1


# -- the rest -------------------------------------------------------------------------------------


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain") else "")


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Two bot processes on one PostgreSQL deliver one article to many"
        " subscribers through a fake Bot API; then again with the leader killed mid-broadcast."
    )
    parser.add_argument(
        "--subscribers",
        type=_positive,
        default=10_000,
        help="private chats subscribed to all news (default 10000)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=30.0,
        help="delivery.max_per_second, messages/s (default 30, Telegram's limit)",
    )
    parser.add_argument(
        "--runs",
        default="clean,kill",
        help="which runs, comma-separated: clean (no kill), kill (SIGKILL to the leader"
        " mid-broadcast); default both",
    )
    parser.add_argument(
        "--kill-after",
        type=_positive,
        default=None,
        help="kill the leader after this many messages (default half the subscribers)",
    )
    parser.add_argument(
        "--database",
        default=None,
        help="a postgresql:// URL on a server where fresh databases may be created (default:"
        " start a throwaway server here)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        help="give up a run after this many seconds (default twice the expected time + 180 s)",
    )
    return parser


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError("expected a whole number of at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    if not runs or set(runs) - {"clean", "kill"}:
        _parser().error("--runs takes clean, kill or both")
    if args.kill_after is not None and args.kill_after >= args.subscribers:
        _parser().error("--kill-after must be below --subscribers")
    if not 0.1 <= args.rate <= 10_000:
        _parser().error("--rate: messages per second from 0.1 to 10000")

    from tests.postgres import Databases, Server

    command = "python " + " ".join(
        shlex.quote(a) for a in [_relative(Path(sys.argv[0])), *sys.argv[1:]]
    )
    print(f"$ {command}")
    print(f"machine: {describe()}")
    print(f"commit: {_commit()}")
    print(f"CPU busy just before the run: {cpu_busy()} (anything else running skews this)")
    server: Server | None = None
    if args.database:
        admin_url = args.database
        print("PostgreSQL: the server --database names (a fresh database per run)")
    else:
        server = Server()
        admin_url = server.url
        print(f"PostgreSQL: a throwaway server from {server.bin}")
    expected = args.subscribers / args.rate
    print(
        f"subscribers: {args.subscribers:,}, delivery.max_per_second: {args.rate:g}"
        f" (about {expected / 60:.1f} min a run), runs: {', '.join(runs)}"
        + (
            f", kill after {args.kill_after or args.subscribers // 2:,} messages"
            if "kill" in runs
            else ""
        ),
        flush=True,
    )
    fake = Fake()
    results: list[Result] = []
    try:
        databases = Databases(admin_url)
        with tempfile.TemporaryDirectory(prefix="newsbot-replicas-") as tmp:
            for kind in runs:
                results.append(run_once(kind, args, fake, databases, Path(tmp)))
    finally:
        fake.close()
        if server is not None:
            server.stop()
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
