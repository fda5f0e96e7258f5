"""Benchmark: one new article delivered to many subscribers through a fake Bot API on 127.0.0.1.

The real Application (`bot.chat.app.build_application`, PTB's AIORateLimiter on, the real httpx
stack) talks HTTP to `tests.fake_bot_api.FakeBotApi`, which runs in a child process so that its
CPU time is not counted as the bot's. The pacing limit (`delivery.max_per_second`) is raised with
`--rate` so that 10,000 messages take about half a minute instead of five and a half minutes.

Steps:

1. A temporary folder with one article, indexed (as if the bot had run before), and
   `--subscribers` private chats subscribed to all news directly through `Store.subscribe`.
   The fake Bot API knows every one of those chats (else it answers "chat not found").
2. The Application starts as `python -m bot run` would start it, without polling for updates:
   `initialize()`, `open_news()` (which schedules the outbox drain every second), `start()`.
3. A second article file is written and `News.reload()` indexes it, queueing one outbox row per
   subscriber in the same transaction. The drain job sends them.
4. It ends when the outbox has no queued or sending rows (or at `--timeout`).

Measured: the first to the last sendMessage the fake received (wall time), the achieved rate
((messages - 1) / that time) against the configured one, duplicates (chats that got the article
more than once) and losses (subscribers that got nothing) from the fake's recorded calls, the
outbox counts from `Store.delivery_counts()`, and the bot process's CPU time
(`time.process_time()`, every thread of this process) from the end of the reload to the end of
the delivery, per message sent.

`--trace` wraps a few store and Sender methods to time the drain's rounds (it adds a little CPU);
`--profile` runs cProfile on the event loop thread during the delivery.

Usage: python bench/delivery.py [--subscribers 10000] [--rate 300] [--trace] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import io
import itertools
import logging
import multiprocessing
import os
import platform
import pstats
import resource
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from machine import cpu_busy  # bench/machine.py, beside this script

if TYPE_CHECKING:
    from bot.chat.delivery import Sender
    from bot.config import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-token-abcdefghijklmnop"
FIRST_CHAT = 710_000_001  # subscribers are private chats FIRST_CHAT, FIRST_CHAT + 1, ...
TOLERANCE = 0.05  # the achieved rate must be within 5 % of the configured limit

EXISTING = (
    "Harbour ferry returns after storm repairs\n\n"
    "The harbour ferry sailed again on Monday after three weeks of repairs. Engineers replaced"
    " the damaged propeller and checked the hull.\n\n"
    "Commuters welcomed the return of the morning crossing. The operator said the timetable"
    " will stay the same through the winter.\n"
)
NEW_TITLE = "Council & volunteers open the restored riverside library"
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
    """One sendMessage the fake received."""

    chat_id: int | None
    time: float  # time.monotonic() at arrival (the same clock in both processes on Linux)
    status: int
    description: str
    is_article: bool  # the new article's headline is in the text


@dataclasses.dataclass
class Trace:
    """What --trace records: each drain job run and each round within it."""

    drains: list[tuple[float, float, int]] = dataclasses.field(default_factory=list)
    rounds: list[tuple[float, int]] = dataclasses.field(default_factory=list)
    seconds: dict[str, list[float]] = dataclasses.field(default_factory=lambda: defaultdict(list))
    # Sampled every 10 ms while messages are due: requests inside httpcore's connection pool
    # (waiting for a connection or in flight) and connections it holds.
    pool_requests: list[int] = dataclasses.field(default_factory=list)
    pool_connections: list[int] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Outcome:
    subscribers: int
    rate: float
    sends: list[Send]
    counts: dict[str, int]
    queued: int
    reload_seconds: float
    reload_cpu: float
    delivery_cpu: float  # the bot process, from the end of the reload to the end of the delivery
    delivery_seconds: float
    fake_cpu: float  # the fake Bot API process over the same stretch
    timed_out: bool
    fake_errors: list[str]
    log_counts: Counter[str]
    trace: Trace | None
    profile: str
    profiler: cProfile.Profile | None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = "python " + " ".join(
        shlex.quote(a) for a in [_relative(Path(sys.argv[0])), *sys.argv[1:]]
    )
    print(f"$ {command}")
    print(f"machine: {_machine()}")
    print(f"CPU busy just before the run: {cpu_busy()} (anything else running skews this)")
    timeout = args.timeout or max(60.0, 2 * args.subscribers / args.rate + 30)
    print(
        f"subscribers: {args.subscribers:,}, delivery.max_per_second: {args.rate:g},"
        f" HTTP connections: {args.pool or '256 (PTB default)'},"
        f" limiter: {'smooth (1 per 1/rate s)' if args.smooth_limiter else 'as app.py builds it'},"
        f"{', fake with TCP_NODELAY' if args.nodelay else ''}, timeout: {timeout:.0f} s"
        f"{', traced' if args.trace else ''}"
        f"{', profiled' if args.profile else ''}"
    )
    sys.stdout.flush()

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    fake = context.Process(
        target=serve_fake,
        args=(theirs, TOKEN, str(REPO_ROOT), args.nodelay),
        name="fake-bot-api",
        daemon=True,
    )
    fake.start()
    try:
        base_url = ours.recv()
        chats = list(range(FIRST_CHAT, FIRST_CHAT + args.subscribers))
        _ask(ours, "chats", chats)
        with tempfile.TemporaryDirectory(prefix="newsbot-delivery-") as tmp:
            settings = _settings(Path(tmp), base_url, args.rate)
            outcome = asyncio.run(
                deliver(
                    settings,
                    chats,
                    ours,
                    timeout=timeout,
                    trace=args.trace,
                    profile=args.profile or args.profile_out is not None,
                    pool=args.pool,
                    smooth=args.smooth_limiter,
                )
            )
    finally:
        with _suppressed():
            ours.send(("stop", None))
        fake.join(10)
        if fake.is_alive():
            fake.terminate()
            fake.join(5)
    if outcome.profiler is not None and args.profile_out is not None:
        outcome.profiler.dump_stats(args.profile_out)
    return report(outcome, chats, args.profile_lines)


# -- the fake Bot API, in its own process ---------------------------------------------------------


def serve_fake(conn: Connection, token: str, repo_root: str, nodelay: bool = False) -> None:
    """The child process: a FakeBotApi, driven by (command, argument) messages on the pipe.

    The fake writes a response's headers and body in two send() calls; with Nagle's algorithm
    on (http.server's default) and the client's delayed ACK, each answer then takes about 40 ms.
    `nodelay` sets TCP_NODELAY on its sockets (in this process only), for answers in ~1 ms.
    """
    sys.path.insert(0, repo_root)
    from tests import fake_bot_api
    from tests.fake_bot_api import FakeBotApi, html_to_text

    if nodelay:
        fake_bot_api._Handler.disable_nagle_algorithm = True

    with FakeBotApi(token) as fake:
        conn.send(fake.base_url)
        while True:
            command, argument = conn.recv()
            if command == "stop":
                return
            if command == "chats":
                state = fake._state  # the fake learns chats from pushed messages; we have none
                with state.lock:
                    for chat_id in argument:
                        state.chats[chat_id] = {
                            "id": chat_id,
                            "type": "private",
                            "first_name": "Reader",
                        }
                conn.send(len(argument))
            elif command == "cpu":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                conn.send(usage.ru_utime + usage.ru_stime)
            elif command == "sends":
                conn.send(
                    [
                        Send(
                            c.chat_id,
                            c.time,
                            c.status,
                            c.description,
                            argument in html_to_text(c.text),
                        )
                        for c in fake.calls("sendMessage")
                    ]
                )
            elif command == "errors":
                conn.send(fake.errors)


def _ask(conn: Connection, command: str, argument: object = None) -> Any:
    conn.send((command, argument))
    return conn.recv()


# -- the bot, in this process -----------------------------------------------------------------


def _settings(folder: Path, base_url: str, rate: float) -> Settings:
    from bot.config import DEFAULT_CONFIG, load_settings

    base = load_settings(DEFAULT_CONFIG, environ={})
    articles = folder / "articles"
    articles.mkdir()
    (articles / "ferry.txt").write_text(EXISTING, encoding="utf-8")
    return dataclasses.replace(
        base,
        articles_dir=articles,
        database=folder / "db" / "news.sqlite3",
        workers=1,
        telegram=dataclasses.replace(base.telegram, api_base_url=base_url, admins=frozenset()),
        delivery=dataclasses.replace(base.delivery, max_per_second=rate, reload_minutes=0),
    )


async def deliver(
    settings: Settings,
    chats: Sequence[int],
    fake: Connection,
    *,
    timeout: float,
    trace: bool,
    profile: bool,
    pool: int | None,
    smooth: bool,
) -> Outcome:
    from bot import index
    from bot.chat.app import build_application, close_news, open_news
    from bot.chat.jobs import start_up_indexed
    from bot.store import QUEUED, SENDING, Store

    logs = _capture_logs()
    # The existing article is indexed before anyone subscribes (the bot ran before), so the
    # start-up index finds nothing new and only the article added below is delivered.
    with Store(settings.database) as store:
        index.run(settings, store)
        for chat_id in chats:
            store.subscribe(chat_id, "private", "")

    request = None
    if pool:
        from telegram.request import HTTPXRequest

        request = HTTPXRequest(connection_pool_size=pool)
    if smooth:
        app = _with_smooth_limiter(
            lambda: build_application(settings, token=TOKEN, request=request)
        )
    else:
        app = build_application(settings, token=TOKEN, request=request)
    await app.initialize()
    traced: Trace | None = None
    profiler = cProfile.Profile() if profile else None
    try:
        await open_news(app)
        await start_up_indexed(app)
        await app.start()
        news = app.bot_data["news"]
        sampler: asyncio.Task[None] | None = None
        if trace:
            traced = _instrument(app.bot_data["sender"])
            sampler = asyncio.create_task(_sample_pool(app.bot.request, traced))
        try:
            (settings.articles_dir / "library.txt").write_text(NEW_ARTICLE, encoding="utf-8")
            cpu0, t0 = time.process_time(), time.monotonic()
            reloaded = await news.reload()
            cpu1, t1 = time.process_time(), time.monotonic()
            fake_cpu0 = _ask(fake, "cpu")
            if profiler is not None:
                profiler.enable()
            deadline = t1 + timeout
            timed_out = False
            while True:
                counts = news.store.delivery_counts()
                if not counts.get(QUEUED) and not counts.get(SENDING):
                    break
                if time.monotonic() > deadline:
                    timed_out = True
                    break
                await asyncio.sleep(0.5)
            if profiler is not None:
                profiler.disable()
            cpu2, t2 = time.process_time(), time.monotonic()
            fake_cpu1 = _ask(fake, "cpu")
        finally:
            if sampler is not None:
                sampler.cancel()
            await app.stop()
        counts = news.store.delivery_counts()
    finally:
        await app.shutdown()
        await close_news(app)
    return Outcome(
        subscribers=len(chats),
        rate=settings.delivery.max_per_second,
        sends=_ask(fake, "sends", NEW_TITLE),
        counts=counts,
        queued=reloaded.queued,
        reload_seconds=t1 - t0,
        reload_cpu=cpu1 - cpu0,
        delivery_cpu=cpu2 - cpu1,
        delivery_seconds=t2 - t1,
        fake_cpu=fake_cpu1 - fake_cpu0,
        timed_out=timed_out,
        fake_errors=_ask(fake, "errors"),
        log_counts=logs.counts,
        trace=traced,
        profile=_profile_text(profiler) if profiler is not None else "",
        profiler=profiler,
    )


def _with_smooth_limiter(build: Callable[[], Any]) -> Any:
    """An experiment: the same average rate with bursts of one message instead of a second's
    worth. app.py builds AIORateLimiter(overall_max_rate=R, overall_time_period=1), an aiolimiter
    leaky bucket that lets R requests through at once; this makes it (1, 1/R) while `build`
    runs. Only the name in bot.chat.app is swapped, and put back."""
    from bot.chat import app as app_module

    name = "AIORateLimiter"
    original = vars(app_module)[name]

    def smooth(*, overall_max_rate: float, overall_time_period: float, **rest: Any) -> Any:
        return original(
            overall_max_rate=1, overall_time_period=overall_time_period / overall_max_rate, **rest
        )

    setattr(app_module, name, smooth)
    try:
        return build()
    finally:
        setattr(app_module, name, original)


class _LogCounter(logging.Handler):
    """Counts log records; prints warnings and errors, except the drain job's skipped runs
    (APScheduler warns each time a run falls due while the last one still drains)."""

    SKIPPED = "maximum number of running instances reached"

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.counts: Counter[str] = Counter()
        self.printer = logging.StreamHandler(sys.stderr)
        self.printer.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.SKIPPED in message:
            self.counts["drain runs skipped (the previous one still running)"] += 1
            return
        self.counts[f"{record.levelname} {record.name}"] += 1
        if record.levelno >= logging.WARNING:
            self.printer.emit(record)


def _capture_logs() -> _LogCounter:
    handler = _LogCounter()
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler


def _instrument(sender: Sender) -> Trace:
    """Time the drain's parts by wrapping methods on the instances (bot/ is not changed)."""
    trace = Trace()
    store = sender.news.store

    def timed(owner: Any, name: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                trace.seconds[name].append(time.perf_counter() - start)

        setattr(owner, name, wrapper)

    for name in ("mark_sending", "mark_sent"):
        timed(store, name)
    for name in ("get", "cached_summary"):
        timed(sender.news, name)

    due = store.due_deliveries

    def due_deliveries(now: float, limit: int) -> Any:
        start = time.perf_counter()
        rows = due(now, limit)
        trace.seconds["due_deliveries"].append(time.perf_counter() - start)
        trace.rounds.append((time.monotonic(), len(rows)))
        return rows

    store.due_deliveries = due_deliveries  # type: ignore[method-assign]
    drain = sender.drain

    async def timed_drain(seconds: float = 5.0) -> int:
        start = time.monotonic()
        sent = await drain(seconds)
        if sent:
            trace.drains.append((start, time.monotonic(), sent))
        return sent

    sender.drain = timed_drain  # type: ignore[method-assign]
    return trace


async def _sample_pool(request: Any, trace: Trace) -> None:
    """httpcore's pool, every 10 ms (private attributes: httpx 0.28, httpcore 1.0)."""
    pool = request._client._transport._pool
    while True:
        await asyncio.sleep(0.01)
        if trace.rounds:
            trace.pool_requests.append(len(pool._requests))
            trace.pool_connections.append(len(pool._connections))


def _profile_text(profiler: cProfile.Profile) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(_by_package(stats))
    stats.sort_stats("tottime")
    stats.print_stats(30)
    stats.sort_stats("cumulative")
    stats.print_stats(r"bot/|telegram/_bot|httpx/_client|aiolimiter|_aioratelimiter", 30)
    return out.getvalue()


def _by_package(stats: pstats.Stats) -> str:
    """Own time (tottime) summed per installed package, importlib, bot/ or the rest."""
    totals: Counter[str] = Counter()
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, own, *_) in raw.items():
        if "site-packages/" in filename:
            key = filename.split("site-packages/", 1)[1].split("/", 1)[0]
            if key.startswith("_distutils_hack"):
                key = "importlib (import machinery)"
        elif "importlib" in filename:
            key = "importlib (import machinery)"
        elif f"{os.sep}bot{os.sep}" in filename and str(REPO_ROOT) in filename:
            key = "bot/"
        elif "epoll" in function or "select" in function:
            key = "waiting in epoll (idle)"
        elif filename == "~":
            key = "built-ins"
        else:
            key = "standard library (asyncio etc.)"
        totals[key] += own
    whole = sum(totals.values()) or 1.0
    lines = ["own time by package (wall time under cProfile, idle waits included):"]
    lines += [f"  {t:7.2f} s {100 * t / whole:5.1f}%  {k}" for k, t in totals.most_common(12)]
    return "\n".join(lines) + "\n\n"


# -- the report -------------------------------------------------------------------------------


def report(outcome: Outcome, chats: Sequence[int], profile_lines: int) -> int:
    sends = outcome.sends
    ok = [s for s in sends if s.status == 200]
    article = sorted((s for s in ok if s.is_article), key=lambda s: s.time)
    refused = [s for s in sends if s.status != 200]
    other = [s for s in ok if not s.is_article]
    per_chat = Counter(s.chat_id for s in article)
    duplicates = sum(1 for n in per_chat.values() if n > 1)
    subscribers = set(chats)
    lost = len(subscribers - set(per_chat))
    strangers = len(set(per_chat) - subscribers)

    n = len(article)
    span = article[-1].time - article[0].time if n > 1 else 0.0
    achieved = (n - 1) / span if span > 0 else 0.0
    deviation = 100 * (achieved - outcome.rate) / outcome.rate
    sent = outcome.counts.get("sent", 0)
    cpu_ms = 1000 * outcome.delivery_cpu / sent if sent else float("nan")
    fake_ms = 1000 * outcome.fake_cpu / len(sends) if sends else float("nan")

    print()
    print(
        "| subscribers | configured rate | achieved rate | deviation % | duplicates | lost"
        " | CPU ms/message | wall s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {outcome.subscribers:,} | {outcome.rate:g}/s | {achieved:.1f}/s | {deviation:+.1f}"
        f" | {duplicates} | {lost} | {cpu_ms:.2f} | {span:.1f} |"
    )
    print()
    print(f"outbox after the run: {dict(sorted(outcome.counts.items()))}")
    print(f"queued by the reload: {outcome.queued:,}")
    print(
        f"sendMessage calls: {len(sends):,} ({len(article):,} accepted with the article,"
        f" {len(refused)} refused, {len(other)} other messages, {strangers} to non-subscribers)"
    )
    if refused:
        print(f"  refusals: {Counter(s.description for s in refused).most_common(3)}")
    print(f"rate over time: {_rate_profile(article)}")
    print(
        f"bot CPU over the delivery: {outcome.delivery_cpu:.2f} s in {outcome.delivery_seconds:.1f}"
        f" s ({100 * outcome.delivery_cpu / max(outcome.delivery_seconds, 1e-9):.0f}% of one"
        f" core); fake Bot API process: {outcome.fake_cpu:.2f} s ({fake_ms:.2f} ms/call)"
    )
    print(
        f"reload (index the new article, queue {outcome.queued:,} rows):"
        f" {outcome.reload_seconds:.2f} s, {outcome.reload_cpu:.2f} s CPU"
    )
    for line, count in sorted(outcome.log_counts.items()):
        if not line.startswith(("INFO", "DEBUG")):
            print(f"log: {line}: {count}")
    if outcome.fake_errors:
        print(f"fake Bot API errors: {outcome.fake_errors[:3]}")
    if outcome.trace is not None:
        _print_trace(outcome.trace, outcome.rate)
    if outcome.profile:
        print("\ncProfile of the event loop thread over the delivery:")
        print("\n".join(outcome.profile.splitlines()[: profile_lines or None]))

    checks = [
        ("zero duplicates", duplicates == 0, f"{duplicates} chats got the article twice or more"),
        ("zero losses", lost == 0, f"{lost} of {len(subscribers):,} subscribers got nothing"),
        (
            "every outbox row sent",
            sent == outcome.subscribers and not outcome.timed_out,
            f"{sent:,} of {outcome.subscribers:,} sent{', timed out' if outcome.timed_out else ''}",
        ),
        (
            f"achieved rate within {TOLERANCE:.0%} of the limit",
            abs(deviation) <= 100 * TOLERANCE,
            f"{achieved:.1f}/s against {outcome.rate:g}/s ({deviation:+.1f}%)",
        ),
    ]
    print()
    for name, passed, detail in checks:
        print(f"{'PASS' if passed else 'FAIL'}: {name}: {detail}")
    return 0 if all(passed for _, passed, _ in checks) else 1


def _rate_profile(article: list[Send]) -> str:
    """Messages per whole second from the first one, and the idle gaps over 100 ms."""
    if len(article) < 2:
        return "too few messages"
    start = article[0].time
    per_second = Counter(int(s.time - start) for s in article)
    full = [per_second[i] for i in range(int(article[-1].time - start))]  # whole seconds only
    gaps = [b.time - a.time for a, b in itertools.pairwise(article)]
    long_gaps = [g for g in gaps if g > 0.1]
    first_second = per_second[0]
    rest = len(article) - first_second
    rest_span = article[-1].time - start - 1
    steady = f"{rest / rest_span:.1f}/s" if rest_span > 0 else "n/a"
    spread = f"{min(full)}..{max(full)}" if full else "n/a"
    return (
        f"{first_second} in the first second, then {steady}; whole seconds {spread} messages;"
        f" at most {_busiest_second(article)} in any 1 s window;"
        f" {len(long_gaps)} gaps over 100 ms ({sum(long_gaps):.2f} s in all,"
        f" longest {max(gaps) * 1000:.0f} ms)"
    )


def _busiest_second(article: list[Send]) -> int:
    """The most messages in any sliding window of one second (what flood control sees)."""
    most, first = 0, 0
    for last, send in enumerate(article):
        while send.time - article[first].time >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def _print_trace(trace: Trace, rate: float) -> None:
    print("\ntrace (--trace; the wrappers add CPU of their own):")
    if trace.drains:
        lengths = [end - start for start, end, _ in trace.drains]
        idle = [b[0] - a[1] for a, b in itertools.pairwise(trace.drains)]
        print(
            f"  drain runs that sent something: {len(trace.drains)}, each"
            f" {min(lengths):.2f}..{max(lengths):.2f} s; idle between them:"
            f" {_spread(idle, 's')} (sum {sum(idle):.2f} s)"
        )
    rounds = [(t, n) for t, n in trace.rounds if n]
    if len(rounds) > 1:
        durations = [b[0] - a[0] for a, b in itertools.pairwise(rounds)]
        batch = statistics.mean(n for _, n in rounds)
        print(
            f"  rounds: {len(rounds)}, rows read per round {batch:.0f} (batch {int(rate)}),"
            f" round to round {_spread(durations, 's')}; at the limit a full round takes"
            f" {int(rate) / rate:.2f} s"
        )
    if trace.pool_requests:
        print(
            f"  httpcore pool, sampled every 10 ms: requests in it {_spread(trace.pool_requests)};"
            f" connections {_spread(trace.pool_connections)}"
        )
    for name, values in trace.seconds.items():
        print(
            f"  {name}: {len(values):,} calls, {1000 * statistics.mean(values):.3f} ms each"
            f" (p95 {1000 * _p95(values):.3f} ms), {sum(values):.2f} s in all"
        )


def _spread(values: Sequence[float], unit: str = "") -> str:
    if not values:
        return "none"
    if not unit:
        return f"median {statistics.median(values):g}, max {max(values):g}"
    return (
        f"median {statistics.median(values):.3f} {unit}, min {min(values):.3f},"
        f" max {max(values):.3f}"
    )


def _p95(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


# -- the rest -------------------------------------------------------------------------------


class _suppressed:
    """Ignore a pipe already closed by a child that died."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return isinstance(exc[1], OSError | EOFError)


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _machine() -> str:
    import telegram

    return (
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
        f" ({platform.python_implementation()}), SQLite {sqlite3.sqlite_version},"
        f" python-telegram-bot {telegram.__version__}, {_versions()}, {platform.platform()}"
    )


def _versions() -> str:
    """The HTTP stack under PTB. Without sniffio installed, httpcore retries `import sniffio`
    (a search of every sys.path entry) each time it sets up a lock: per request."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for name in ("httpx", "httpcore", "anyio", "aiolimiter", "sniffio"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} not installed")
    return ", ".join(parts)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="One new article delivered to many subscribers through a fake Bot API on"
        " 127.0.0.1: duplicates, losses, achieved rate against the limit, CPU per message."
    )
    parser.add_argument(
        "--subscribers",
        type=_positive,
        default=10_000,
        help="private chats subscribed to all news (default 10000)",
    )
    parser.add_argument(
        "--rate",
        type=_rate,
        default=100.0,
        help="delivery.max_per_second: the overall pacing limit, messages/s (default 100, what"
        " this project's 2-vCPU machine sustains; Telegram's is 30)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        help="give up after this many seconds (default: twice the expected time plus 30 s)",
    )
    parser.add_argument(
        "--pool",
        type=_positive,
        default=None,
        help="an experiment: pass build_application an HTTPXRequest with this many connections"
        " (default: none passed, so PTB's own request with 256)",
    )
    parser.add_argument(
        "--smooth-limiter",
        action="store_true",
        help="an experiment: AIORateLimiter(1 per 1/rate s) instead of (rate per 1 s), the same"
        " average without a second's worth let through at once",
    )
    parser.add_argument(
        "--nodelay",
        action="store_true",
        help="an experiment: TCP_NODELAY in the fake Bot API, which then answers in about 1 ms"
        " instead of about 40 ms (Nagle's algorithm against delayed ACKs)",
    )
    parser.add_argument(
        "--trace", action="store_true", help="time the drain's rounds and store calls"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the event loop during the delivery"
    )
    parser.add_argument(
        "--profile-out",
        type=Path,
        default=None,
        help="with --profile: also write the raw cProfile data here (for pstats or snakeviz)",
    )
    parser.add_argument(
        "--profile-lines",
        type=int,
        default=0,
        help="print at most this many lines of the profile (default: all)",
    )
    return parser


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError("expected a whole number of at least 1")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0.1 <= value <= 1e6:
        raise argparse.ArgumentTypeError("expected messages per second from 0.1 to 1000000")
    return value


if __name__ == "__main__":
    sys.exit(main())
