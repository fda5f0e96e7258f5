"""`python -m bot run` end to end: the real process, long-polling a fake Bot API on 127.0.0.1.

Each bot runs as a subprocess (its own session, so that its summarizer pool goes with it) on
three articles written to a temporary folder. The replies are checked the way Telegram would
take them: one per message, in time, under 4096 characters, HTML that Telegram can parse.

The tests that only send messages share one bot (module scope, one chat per test: a bot start
is about a second); the ones that stop and restart the bot start their own.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import opml
from bot.chat.errors import TOKEN_REFUSED

from .conftest import REPO, story
from .fake_bot_api import Call, FakeBotApi, post_update, telegram_html_problems
from .feed_server import FeedServer, page, rss

TOKEN = "123456:TEST-token-abcdefghijklmnop"
SECRET = TOKEN.partition(":")[2]
ADMIN_ID = 31337

# How long a test waits for a reply before it calls the bot silent: a bound for a slow or busy
# machine, not a latency target (those are measured by bench/chat_latency.py).
REPLY_WAIT = 30.0
STOP_WITHIN = 5.0  # seconds from SIGTERM to exit
START_WITHIN = 60.0  # a cap for a slow machine; a start takes about a second
# The bot's log lines that end a start-up index run (bot/chat/jobs.py, index_at_start): done, or
# failed and answering from the database as it is.
START_UP_INDEX_ENDED = ("failed files)", "answering from the database as it is")

SEARCH_WORD = "orchard"  # in exactly one headline below, and in no other article
ARTICLES = {
    "ferry.txt": story(
        "Harbour ferry returns after storm repairs",
        "The harbour ferry sailed again on Monday after three weeks of repairs.",
        "Engineers replaced the damaged propeller and checked the hull.",
        "Commuters welcomed the return of the morning crossing.",
        "The operator said the timetable will stay the same through the winter.",
        "A second vessel will join the route in spring.",
    ),
    "orchard.txt": story(
        "Volunteers replant the old orchard on Mill Lane",
        "Forty volunteers planted apple and pear trees on Saturday.",
        "The trees replace those lost to disease over the last decade.",
        "The parish council paid for the saplings and the fencing.",
        "Local schools will help to look after the trees.",
        "The first fruit is expected in three years.",
    ),
    "observatory.txt": story(
        "Observatory opens its telescope to schoolchildren",
        "The hilltop observatory will host school visits every Thursday evening.",
        "Pupils will look at the moon, Jupiter and nearby star clusters.",
        "The visits are free for schools in the district.",
        "Volunteers from the astronomy society will guide each group.",
        "Booking opens next week.",
    ),
}
TITLES = [text.partition("\n")[0] for text in ARTICLES.values()]

# Telegram chat ids for the tests' users: a new private chat for every conversation.
_user_ids = itertools.count(5_000_001)


# -- the bot process ----------------------------------------------------------------------------


def write_articles(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def bot_env(api: FakeBotApi, articles: Path, database: Path, token: str = TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=token,
        NEWSBOT_API_BASE_URL=api.base_url,
        NEWSBOT_ARTICLES_DIR=str(articles),
        NEWSBOT_DATABASE=str(database),
        NEWSBOT_ADMIN_IDS=str(ADMIN_ID),
        PYTHONUNBUFFERED="1",
    )
    return env


class BotProcess:
    """One `python -m bot ...` subprocess; stdout and stderr go to one log file."""

    def __init__(self, api: FakeBotApi, env: dict[str, str], log: Path, args: list[str]) -> None:
        self.api = api
        self.env = env
        self.log = log
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> BotProcess:
        """Start it; with wait, return once it polls for updates and its start-up index run (in
        the background: the bot answers meanwhile) has ended, so that the folder's articles are
        there (fail the test if either does not happen)."""
        polls = len(self.api.calls("getUpdates"))
        indexed = self._start_up_indexes()
        with self.log.open("ab") as log:  # the child has its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", *self.args],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            process = self.process
            polling = self.api.wait_for(
                lambda: len(self.api.calls("getUpdates")) > polls or process.poll() is not None,
                START_WITHIN,
            )
            if not polling or process.poll() is not None:
                self.kill()
                pytest.fail(f"the bot never polled for updates; its output:\n{self.output}")
            ended = self.api.wait_for(
                lambda: self._start_up_indexes() > indexed or process.poll() is not None,
                START_WITHIN,
            )
            if not ended or process.poll() is not None:
                self.kill()
                pytest.fail(f"the start-up index never ended; the bot's output:\n{self.output}")
        return self

    def _start_up_indexes(self) -> int:
        """How many start-up index runs the log says have ended (however they ended)."""
        output = self.output
        return sum(output.count(line) for line in START_UP_INDEX_ENDED)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self, timeout: float = STOP_WITHIN) -> int | None:
        """SIGTERM to the bot itself; its exit status, or None if it still runs after timeout."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def wait(self, timeout: float) -> int | None:
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL to its whole session (the bot and any worker it started), and reap it."""
        if self.process is None:
            return
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


class Bots:
    """Starts bots on one folder, database and fake API; kills whatever still runs on close."""

    def __init__(self, api: FakeBotApi, folder: Path) -> None:
        self.api = api
        self.folder = folder
        self.articles = write_articles(folder / "articles")
        self.database = folder / "db" / "news.sqlite3"
        self.started: list[BotProcess] = []

    def start(
        self,
        *args: str,
        token: str = TOKEN,
        wait: bool = True,
        env: dict[str, str] | None = None,
        **more_env: str,
    ) -> BotProcess:
        """A bot on the shared folder and database; `env` and `more_env` add to its environment."""
        env = {**bot_env(self.api, self.articles, self.database, token), **(env or {}), **more_env}
        log = self.folder / f"bot-{len(self.started) + 1}.log"
        bot = BotProcess(self.api, env, log, list(args or ["run"]))
        self.started.append(bot)
        return bot.start(wait=wait)

    def close(self) -> None:
        for bot in self.started:
            bot.kill()

    def search(self, *words: str) -> list[dict[str, object]]:
        """`python -m bot search WORDS --json` on the bots' database."""
        done = subprocess.run(
            [sys.executable, "-m", "bot", "search", *words, "--json"],
            cwd=REPO,
            env=bot_env(self.api, self.articles, self.database),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        hits = json.loads(done.stdout)
        assert isinstance(hits, list)
        return hits


@dataclass
class Chat:
    """A private chat of a new user with the bot."""

    api: FakeBotApi
    user_id: int
    language_code: str = "en"  # the language of the person's Telegram app

    def send(self, text: str) -> None:
        self.api.push_message(text, user_id=self.user_id, language_code=self.language_code)

    def replies(self) -> list[Call]:
        return self.api.replies_to(self.user_id)

    def wait_replies(self, count: int, timeout: float = REPLY_WAIT) -> list[Call]:
        """Wait for at least count replies, then until the bot is idle; all replies so far."""
        self.api.wait_for(lambda: len(self.replies()) >= count, timeout)
        settle(self.api)
        return self.replies()

    def ask(self, text: str) -> list[Call]:
        """Send text and return every reply the bot made to it."""
        before = len(self.replies())
        self.send(text)
        return self.wait_replies(before + 1)[before:]


def new_chat(api: FakeBotApi) -> Chat:
    return Chat(api, next(_user_ids))


def settle(api: FakeBotApi, timeout: float = REPLY_WAIT) -> None:
    """Return when the bot has answered a /help pushed now (and fail if it does not): it has
    fetched every update pushed before. Different people's updates are handled concurrently,
    so this does not prove each earlier one is done: callers first wait for the replies they
    expect, then settle, then check that nothing more came."""
    sentinel = next(_user_ids)
    api.push_message("/help", user_id=sentinel)
    assert api.wait_for(lambda: api.replies_to(sentinel), timeout), "the bot stopped answering"


def check_reply(call: Call) -> None:
    """One reply as Telegram would take it: accepted, valid and short enough."""
    text = call.text
    assert call.method == "sendMessage", f"{call.method} instead of a new message"
    assert text.strip(), "an empty reply"
    assert len(text) <= 4096, f"{len(text)} characters"
    assert "Traceback" not in text, text
    assert telegram_html_problems(text) == [], text
    assert call.ok, f"the fake Bot API refused it: {call.description}"


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi(TOKEN) as fake:
        yield fake
        assert fake.errors == []


@pytest.fixture
def bots(api: FakeBotApi, tmp_path: Path) -> Iterator[Bots]:
    """Bots on three articles in tmp_path; every one of them is killed at the end of the test."""
    started = Bots(api, tmp_path)
    try:
        yield started
    finally:
        started.close()


@dataclass
class Shared:
    api: FakeBotApi
    bots: Bots
    bot: BotProcess


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One running bot for the tests that only talk to it (killed at the end of the module)."""
    with FakeBotApi(TOKEN) as fake:
        started = Bots(fake, tmp_path_factory.mktemp("run"))
        try:
            yield Shared(fake, started, started.start())
        finally:
            started.close()
        assert fake.errors == []


@pytest.fixture
def chat(shared: Shared) -> Chat:
    """A new private chat with the shared bot, which must still be running."""
    assert shared.bot.running, f"the shared bot has stopped; its output:\n{shared.bot.output}"
    return new_chat(shared.api)


@dataclass(frozen=True)
class Known:
    id: int
    title: str


@pytest.fixture(scope="module")
def known(shared: Shared) -> Known:
    """The article the command line finds for SEARCH_WORD, on the shared bot's database."""
    hits = shared.bots.search(SEARCH_WORD)
    assert hits, f"`search {SEARCH_WORD}` found nothing"
    hit = hits[0]
    assert isinstance(hit["id"], int) and isinstance(hit["title"], str)
    assert SEARCH_WORD in hit["title"].lower()
    return Known(hit["id"], hit["title"])


# -- one reply to every kind of message ---------------------------------------------------------

MESSAGES = [
    "/start",
    "/help",
    "/latest",
    "/read {id}",
    "/read 999999",
    "/read abc",
    "/read",
    "/search {word}",
    '/search "*(NEAR -',
    "/search",
    "/frobnicate",
    "{word}",
]


@pytest.mark.parametrize("template", MESSAGES)
def test_every_message_gets_exactly_one_valid_reply(
    chat: Chat, known: Known, template: str
) -> None:
    replies = chat.ask(template.format(id=known.id, word=SEARCH_WORD))
    assert len(replies) == 1, [r.text for r in replies]
    check_reply(replies[0])


def test_read_shows_the_article_the_command_line_finds(chat: Chat, known: Known) -> None:
    replies = chat.ask(f"/read {known.id}")
    assert len(replies) == 1
    check_reply(replies[0])
    assert html.escape(known.title, quote=False) in replies[0].text


def test_read_of_a_missing_id_shows_no_article(chat: Chat, known: Known) -> None:
    replies = chat.ask("/read 999999")
    assert len(replies) == 1
    assert not any(html.escape(t, quote=False) in replies[0].text for t in TITLES)
    assert replies[0].keyboard == []


def test_search_lists_the_article_with_its_read_button(chat: Chat, known: Known) -> None:
    replies = chat.ask(f"/search {SEARCH_WORD}")
    assert len(replies) == 1
    check_reply(replies[0])
    assert html.escape(known.title, quote=False) in replies[0].text
    buttons = [b.get("callback_data", "") for row in replies[0].keyboard for b in row]
    assert any(data.startswith(f"rd:{known.id}:") for data in buttons), buttons


def test_plain_words_in_a_private_chat_search_like_the_search_command(chat: Chat) -> None:
    by_command = chat.ask(f"/search {SEARCH_WORD}")
    by_words = chat.ask(SEARCH_WORD)
    assert [r.text for r in by_words] == [r.text for r in by_command]


def test_latest_lists_every_article(chat: Chat) -> None:
    replies = chat.ask("/latest")
    assert len(replies) == 1
    check_reply(replies[0])
    for title in TITLES:
        assert html.escape(title, quote=False) in replies[0].text


def test_a_german_user_gets_german_replies_and_a_german_menu(shared: Shared) -> None:
    german = Chat(shared.api, next(_user_ids), language_code="de")
    replies = german.ask("/latest")
    assert len(replies) == 1
    check_reply(replies[0])
    assert replies[0].text.startswith("<b>Neueste Nachrichten</b>"), replies[0].text
    menus = {c.params.get("language_code"): c for c in shared.api.calls("setMyCommands")}
    menu = {c["command"]: c["description"] for c in menus["de"].params["commands"]}
    assert menu["latest"] == "Neueste Artikel", menu


def test_pressing_the_first_latest_button_answers_the_press(chat: Chat) -> None:
    replies = chat.ask("/latest")
    assert len(replies) == 1 and replies[0].ok
    latest = replies[0]
    assert latest.keyboard and latest.keyboard[0], "/latest has no inline keyboard"
    data = latest.keyboard[0][0]["callback_data"]

    query_id = chat.api.push_callback(data, latest)

    def answers() -> list[Call]:
        calls = chat.api.calls("answerCallbackQuery")
        return [c for c in calls if c.params.get("callback_query_id") == query_id]

    shown = chat.api.wait_for(lambda: len(chat.replies()) > 1 and answers(), REPLY_WAIT)
    assert shown, f"pressing {data!r}: no message and answer within {REPLY_WAIT} s"
    settle(chat.api)
    after = chat.replies()[1:]
    assert len(after) == 1, [c.text for c in after]
    reply = after[0]
    assert reply.method in ("editMessageText", "sendMessage")
    assert reply.ok, reply.description
    assert telegram_html_problems(reply.text) == [], reply.text
    if reply.method == "editMessageText":
        assert reply.params.get("message_id") == latest.result["message_id"]
    assert len(answers()) == 1


def test_stats_by_the_admin_brings_the_numbers_and_a_png_chart(shared: Shared) -> None:
    admin = Chat(shared.api, ADMIN_ID)
    replies = admin.ask("/stats")
    check_reply(replies[0])
    assert "Articles: 3" in replies[0].text

    def photos() -> list[Call]:
        return [c for c in shared.api.calls("sendPhoto") if c.chat_id == ADMIN_ID and c.status]

    assert shared.api.wait_for(photos, 10.0), "no sendPhoto within 10 s"
    settle(shared.api)
    (photo,) = photos()
    assert photo.ok, photo.description
    assert photo.params["photo"]["content"].startswith(b"\x89PNG\r\n\x1a\n")
    assert photo.params["caption"].startswith("The last 30 days")


# -- stopping, restarting, the token ------------------------------------------------------------


def test_sigterm_stops_the_bot_with_status_0_within_5_s(bots: Bots) -> None:
    bot = bots.start()
    assert bot.terminate(STOP_WITHIN) == 0, bot.output


@pytest.mark.parametrize("args", [["run"], ["-v", "run"]], ids=["default", "verbose"])
def test_the_token_never_appears_in_the_output(bots: Bots, args: list[str]) -> None:
    bot = bots.start(*args)
    chat, admin = new_chat(bots.api), Chat(bots.api, ADMIN_ID)
    for text in ("/start", "/latest", "/frobnicate", "/reload"):
        chat.ask(text)
    admin.ask("/reload")
    # A refused send goes through the error handler, which logs a traceback.
    bots.api.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    chat.ask("/help")
    latest = next(r for r in chat.replies() if r.keyboard)
    chat.api.push_callback(latest.keyboard[0][0]["callback_data"], latest)
    chat.api.push_callback("no:such:button", latest)
    settle(bots.api)
    assert bot.terminate() == 0
    assert TOKEN not in bot.output
    assert SECRET not in bot.output


def test_a_rejected_token_stops_the_bot_with_an_error_status(bots: Bots) -> None:
    bot = bots.start(token="123456:REVOKED-token-abcdefghijklm", wait=False)
    status = bot.wait(START_WITHIN)
    assert status == 2, bot.output
    assert "rejected the bot token" in bot.output
    assert bots.api.calls("getMe"), "the bot never asked the API about its token"
    assert not bots.api.calls("getUpdates")


def test_a_rejected_token_is_not_printed(bots: Bots) -> None:
    token = "123456:REVOKED-token-abcdefghijklm"
    bot = bots.start(token=token, wait=False)
    assert bot.wait(START_WITHIN) is not None
    assert token.partition(":")[2] not in bot.output, bot.output


def test_a_restart_answers_the_waiting_messages_once_and_nothing_twice(bots: Bots) -> None:
    api = bots.api
    first = new_chat(api)
    bot = bots.start()
    replies = first.ask("/latest")
    assert len(replies) == 1
    check_reply(replies[0])
    assert bot.terminate() == 0, bot.output

    waiting = [new_chat(api) for _ in range(3)]
    for chat, text in zip(waiting, ["/help", "/latest", SEARCH_WORD], strict=True):
        chat.send(text)
    assert all(chat.replies() == [] for chat in waiting)

    bot = bots.start()
    answered = api.wait_for(lambda: all(chat.replies() for chat in waiting), REPLY_WAIT)
    assert answered, [len(chat.replies()) for chat in waiting]
    settle(api)
    assert bot.terminate() == 0, bot.output
    for chat in waiting:
        assert len(chat.replies()) == 1, [r.text for r in chat.replies()]
        reply = chat.replies()[0]
        assert reply.ok and telegram_html_problems(reply.text) == [], reply.text
    assert len(first.replies()) == 1, "the message answered before the restart was answered again"

    # Nothing is left for a third start to answer: Telegram holds no unconfirmed update and
    # the outbox holds nothing unsent. So once it has answered a message sent after it started
    # (and fetched everything before it), it must have said nothing else.
    assert api.pending_updates == []
    assert outbox_idle(bots.database), outbox(bots.database)
    before = len(api.calls("sendMessage")) + len(api.calls("editMessageText"))
    bot = bots.start()
    last = new_chat(api)
    last.send("/help")
    assert api.wait_for(last.replies, REPLY_WAIT), "the bot stopped answering"
    new_replies = [c for c in api.calls() if c.method in ("sendMessage", "editMessageText")]
    assert [c.chat_id for c in new_replies[before:]] == [last.user_id], new_replies[before:]
    assert bot.terminate() == 0, bot.output


# -- faults: a revoked token, a database gone ----------------------------------------------------


def outbox(database: Path) -> Counter[str]:
    """The outbox rows by status, read beside the bot (or after it)."""
    with sqlite3.connect(database) as conn:
        return Counter(dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status")))


def outbox_idle(database: Path) -> bool:
    """Whether every outbox row has reached its end (none queued or being sent)."""
    rows = outbox(database)
    return not rows["queued"] and not rows["sending"]


def deliveries(api: FakeBotApi, titles: list[str]) -> Counter[tuple[int, str]]:
    """(chat, headline) of every message with one of these headlines Telegram accepted."""
    counts: Counter[tuple[int, str]] = Counter()
    for call in api.calls("sendMessage"):
        for title in titles:
            if call.ok and call.chat_id is not None and html.escape(title) in call.text:
                counts[(call.chat_id, title)] += 1
    return counts


def test_a_revoked_token_stops_the_bot_and_a_restart_delivers_everything_once(
    bots: Bots,
) -> None:
    """The token is revoked while 80 deliveries go out: the bot exits 2 with one line and
    keeps every unsent row queued; with the token back, a restart sends each of the rest.
    Measured: 0 lost, 0 repeated."""
    api = bots.api
    bot = bots.start()
    readers = [new_chat(api) for _ in range(40)]
    for reader in readers:
        reader.send("/subscribe")
    assert api.wait_for(lambda: all(r.replies() for r in readers), 10.0)
    titles = [f"Storm closes the coast road, day {n}" for n in range(1, 3)]
    for n, title in enumerate(titles):
        (bots.articles / f"storm{n}.txt").write_text(
            story(title, "The road was shut overnight.", "Crews cleared fallen trees.")
        )
    admin = Chat(api, ADMIN_ID)
    admin.send("/reload")
    report = admin.wait_replies(2, timeout=10.0)[-1].text
    assert "80 deliveries queued" in report, report
    wanted = {(r.user_id, title) for r in readers for title in titles}

    assert api.wait_for(lambda: sum(deliveries(api, titles).values()) >= 20, 10.0)
    api.revoke_token()
    status = bot.wait(STOP_WITHIN)
    assert status == 2, bot.output
    assert bot.output.strip().splitlines()[-1] == TOKEN_REFUSED
    assert TOKEN not in bot.output and SECRET not in bot.output
    before = deliveries(api, titles)
    rows = outbox(bots.database)
    assert set(rows) <= {"sent", "queued"}, rows  # none failed, none left 'sending'
    assert rows["sent"] == sum(before.values()) and rows["queued"] == 80 - rows["sent"]
    assert rows["queued"] > 0, "the token was revoked after everything had gone out"

    api.restore_token()
    bot = bots.start()
    assert api.wait_for(lambda: set(deliveries(api, titles)) == wanted, 20.0)
    assert api.wait_for(lambda: outbox_idle(bots.database), 5.0), outbox(bots.database)
    assert bot.terminate() == 0, bot.output
    after = deliveries(api, titles)
    lost = len(wanted - set(after))
    repeated = sum(count - 1 for count in after.values())
    assert (lost, repeated) == (0, 0), (lost, repeated)
    assert outbox(bots.database) == {"sent": 80}


def remove_database(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with suppress(FileNotFoundError):
            os.remove(f"{database}{suffix}")


def test_a_database_removed_while_running_stops_the_bot_with_one_line(bots: Bots) -> None:
    api = bots.api
    bot = bots.start()
    replies = new_chat(api).ask("/subscribe")
    assert "Subscribed" in replies[0].text
    remove_database(bots.database)
    later = new_chat(api)
    later.send("/subscribe")
    status = bot.wait(STOP_WITHIN)
    assert status == 1, bot.output
    assert bot.output.strip().splitlines()[-1] == (
        f"newsbot: {bots.database} was removed while in use; nothing more was written to it:"
        " restore it from a backup, then start again"
    )
    assert not any("Subscribed" in r.text for r in later.replies())
    assert not bots.database.exists(), "a new, empty database was made in its place"


@pytest.mark.parametrize("command", ["run", "chat", "index", "search"])
def test_a_database_that_is_not_sqlite_is_named_in_one_line_at_start(
    bots: Bots, command: str
) -> None:
    garbage = b"\x00\xffnot a database at all\n" * 500
    bots.database.parent.mkdir(parents=True, exist_ok=True)
    bots.database.write_bytes(garbage)
    expected = (
        f"newsbot: {bots.database} is not a SQLite database (file is not a database); move it"
        " away or restore a backup"
    )
    if command == "run":
        bot = bots.start(wait=False)
        status, output = bot.wait(START_WITHIN), bot.output
        assert output.strip().splitlines()[-1] == expected, output
    else:
        done = subprocess.run(
            [sys.executable, "-m", "bot", command, *(["harbour"] if command == "search" else [])],
            cwd=REPO,
            env=bot_env(bots.api, bots.articles, bots.database),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        status, output = done.returncode, done.stderr
        assert output.splitlines() == [expected], output
    assert status == 1
    assert "Traceback" not in output
    assert bots.database.read_bytes() == garbage  # left as it was found


# -- subscriptions, end to end --------------------------------------------------------------------


def test_a_new_article_reaches_each_matching_subscriber_once_across_a_restart(
    bots: Bots,
) -> None:
    api = bots.api
    bot = bots.start()
    a, b, c = new_chat(api), new_chat(api), new_chat(api)
    for subscriber, text in ((a, "/subscribe"), (b, "/subscribe pelican"), (c, "/subscribe zz")):
        replies = subscriber.ask(text)
        assert "Subscribed" in replies[0].text
    stranger = new_chat(api)
    refused = stranger.ask("/reload")
    assert "only the bot’s admins" in refused[0].text

    (bots.articles / "pelican.txt").write_text(
        story("Pelican colony returns to the lake", "Birdwatchers counted forty nests.")
    )
    admin = Chat(api, ADMIN_ID)
    replies = admin.ask("/reload")
    report = admin.wait_replies(2)[-1].text
    assert "1 added" in report and "2 deliveries queued" in report, report

    def deliveries(chat: Chat) -> list[Call]:
        return [r for r in chat.replies() if "Pelican colony returns" in r.text]

    assert api.wait_for(lambda: deliveries(a) and deliveries(b), 8.0)
    assert api.wait_for(lambda: outbox_idle(bots.database), 5.0), outbox(bots.database)
    assert (len(deliveries(a)), len(deliveries(b)), len(deliveries(c))) == (1, 1, 0)
    assert bot.terminate() == 0, bot.output

    bots.start()
    # A later story for the same chats: each chat's deliveries go out oldest first, so once it
    # has arrived, a repeat queued or sent by the restart would have arrived before it.
    (bots.articles / "marker.txt").write_text(
        story("Pelican ringing scheme starts at the estuary", "Volunteers fitted twelve rings.")
    )
    admin.ask("/reload")

    def markers(chat: Chat) -> list[Call]:
        return [r for r in chat.replies() if "Pelican ringing scheme" in r.text]

    assert api.wait_for(lambda: markers(a) and markers(b), 8.0), outbox(bots.database)
    assert api.wait_for(lambda: outbox_idle(bots.database), 5.0), outbox(bots.database)
    assert (len(deliveries(a)), len(deliveries(b)), len(deliveries(c))) == (1, 1, 0)
    assert (len(markers(a)), len(markers(b)), len(markers(c))) == (1, 1, 0)


def test_feeds_deliver_each_new_story_once_and_list_broken_ones(
    bots: Bots,
) -> None:
    api = bots.api
    with FeedServer() as web:

        def item(n: int, title: str, *text: str) -> dict[str, str]:
            link = web.route(f"/news/{n}", page(title, *text))
            return {"title": title, "link": link, "guid": f"g{n}"}

        old = item(1, "Gondola lift gets a winter timetable", *GONDOLA)
        web.route("/a.xml", rss("A", old), content_type="text/xml")
        web.route("/b.xml", rss("B"), content_type="text/xml")
        web.route("/broken.xml", behaviour="status", status=500)
        feeds = " ".join(f"{n}={web.url(f'/{n.lower()}.xml')}" for n in ("A", "B", "Broken"))
        local = {"NEWSBOT_FEEDS_POLL_MINUTES": "0.05", "NEWSBOT_FEEDS_ALLOW_PRIVATE": "1"}
        bot = bots.start(env=dict(NEWSBOT_FEEDS=feeds, **local))
        # The feed's first entry is taken and indexed before anyone subscribes.
        assert api.wait_for(lambda: bool(bots.search("gondola")), 15.0), bot.output
        reader = new_chat(api)
        replies = reader.ask("/subscribe")
        assert "Subscribed" in replies[0].text

        new = item(2, "Bridge over the river approved", *BRIDGE)
        web.route("/a.xml", rss("A", new, old), content_type="text/xml")
        same = item(3, "Second river crossing gets the go-ahead", *BRIDGE)
        web.route("/b.xml", rss("B", same), content_type="text/xml")

        def got(title: str) -> int:
            return sum(1 for r in reader.replies() if title in r.text)

        assert api.wait_for(lambda: got("Bridge over the river") + got("Second river"), 12.0)

        def another_poll_of_both(poll: int) -> tuple[str, str]:
            """Add a new story to each feed and wait until both have reached the reader and
            the outbox is idle: both feeds were read again (old entries included) and all that
            came of it was sent, a repeat included (one run writes articles and outbox rows).
            Returns the two new headlines."""
            topics = MARKERS[2 * poll - 2 : 2 * poll]
            for n, (name, topic) in enumerate(zip("ab", topics, strict=True), start=10 * poll):
                marker = item(n, *topic)
                entries = (marker, new, old) if name == "a" else (marker, same)
                web.route(f"/{name}.xml", rss(name.upper(), *entries), content_type="text/xml")
            titles = (topics[0][0], topics[1][0])
            assert api.wait_for(lambda: all(got(t) for t in titles), 12.0), bot.output
            assert api.wait_for(lambda: outbox_idle(bots.database), 5.0), outbox(bots.database)
            return titles

        first_markers = another_poll_of_both(1)
        assert got("Bridge over the river") + got("Second river") == 1  # one event, one message
        assert got("Gondola lift") == 0  # taken before the subscription: not news to it

        admin = Chat(api, ADMIN_ID)
        replies = admin.ask("/stats")
        assert "Broken: HTTP 500" in replies[0].text, replies[0].text
        assert bot.terminate() == 0, bot.output

        bot = bots.start(env=dict(NEWSBOT_FEEDS=feeds, **local))
        another_poll_of_both(2)
        assert got("Bridge over the river") + got("Second river") == 1
        assert [got(title) for title in first_markers] == [1, 1]


def test_an_admin_imports_an_opml_file_and_export_gives_its_feeds_back(bots: Bots) -> None:
    """Issue 14's check: a list of 3 feeds (one broken) is imported with a report, and /export
    returns it."""
    api = bots.api
    with FeedServer() as web:

        def feed(name: str, n: int, title: str, text: tuple[str, ...]) -> str:
            item = {"title": title, "link": web.route(f"/news/{n}", page(title, *text))}
            body = rss(name, {**item, "guid": f"g{n}"})
            return web.route(f"/{name}.xml", body, content_type="text/xml")

        listed = [
            opml.Outline("Alpine Post", feed("a", 1, "Gondola lift timetable", GONDOLA), ("Alps",)),
            opml.Outline("River News", feed("b", 2, "Bridge approved", BRIDGE), ("Town", "Rivers")),
            opml.Outline("Broken", web.route("/broken.xml", behaviour="status", status=500)),
        ]
        bot = bots.start(NEWSBOT_FEEDS_ALLOW_PRIVATE="1")
        admin = Chat(api, ADMIN_ID)
        api.push_document(ADMIN_ID, "my feeds.opml", opml.write(listed))
        assert api.wait_for(
            lambda: any("Imported" in r.text and r.status for r in admin.replies()), 20.0
        ), bot.output
        reading, report = admin.replies()
        for reply in (reading, report):
            assert reply.ok and telegram_html_problems(reply.text) == [], reply.text
        assert report.text.startswith(
            "<b>Imported my feeds.opml</b>: 2 added, 0 already there, 1 failed."
        )
        assert "• Broken: HTTP 500" in report.text
        assert "• Alpine Post: 1 new article" in report.text
        assert "• River News: 1 new article" in report.text
        assert bots.search("gondola") and bots.search("bridge")

        admin.send("/export")

        def answered() -> list[Call]:
            """A call is recorded when it arrives, and answered (status set) a moment later."""
            return [c for c in api.calls("sendDocument") if c.status]

        assert api.wait_for(answered, REPLY_WAIT), bot.output
        (sent,) = answered()
        assert sent.ok, sent.description
        assert sent.params["document"]["filename"] == "newsbot-feeds.opml"
        exported = opml.read(sent.params["document"]["content"]).feeds
        assert set(exported) == set(listed)
        assert bot.terminate() == 0, bot.output


def test_a_feed_story_whose_page_has_an_og_image_comes_as_one_message_with_its_picture(
    bots: Bots,
) -> None:
    api = bots.api
    with FeedServer() as web:
        web.route("/a.xml", rss("A"), content_type="text/xml")
        local = {"NEWSBOT_FEEDS_POLL_MINUTES": "0.05", "NEWSBOT_FEEDS_ALLOW_PRIVATE": "1"}
        bot = bots.start(env=dict(NEWSBOT_FEEDS=f"A={web.url('/a.xml')}", **local))
        pictures, text_only = new_chat(api), new_chat(api)
        for reader in (pictures, text_only):
            assert "Subscribed" in reader.ask("/subscribe")[0].text
        assert "text only" in text_only.ask("/pictures off")[0].text

        og_image = '<meta property="og:image" content="/images/gondola-1200.jpg">'
        link = web.route(
            "/news/1", page("Gondola lift gets a winter timetable", *GONDOLA, head=og_image)
        )
        web.route(
            "/a.xml",
            rss("A", {"title": "Gondola lift", "link": link, "guid": "g1"}),
            content_type="text/xml",
        )

        def got(reader: Chat) -> list[Call]:
            return [r for r in reader.replies() if "Gondola" in r.text]

        assert api.wait_for(lambda: got(pictures) and got(text_only), 12.0), bot.output
        settle(api)
        (delivered,) = got(pictures)  # one message, not a photo and a text
        assert delivered.ok and delivered.method == "sendMessage"
        assert delivered.params["link_preview_options"] == {
            "is_disabled": False,
            "url": web.url("/images/gondola-1200.jpg"),
            "prefer_large_media": True,
            "show_above_text": True,
        }
        assert "gondola-1200" not in delivered.text
        (plain,) = got(text_only)
        assert plain.ok and plain.params["link_preview_options"] == {"is_disabled": True}
        assert not api.calls("sendPhoto")
        assert bot.terminate() == 0, bot.output


GONDOLA = (
    "The gondola lift to the summit will run every twenty minutes instead of every half hour"
    " from next month, the operator said on Tuesday.",
    "Evening rides will stop at ten o'clock, an hour earlier than now, to save power over the"
    " winter months.",
)
# One new story per feed for each further poll the test waits for (distinct, so that none is
# taken for a follow-up of another).
MARKERS = (
    (
        "Museum reopens its glass gallery",
        "The museum's glass gallery reopened to visitors on Thursday after a year of restoration"
        " work on its Victorian roof and the cases beneath it.",
        "Curators moved four hundred pieces back into the cases, among them a set of goblets"
        " lent by the cathedral for the first time in fifty years.",
    ),
    (
        "Library extends its opening hours",
        "The central library will stay open until nine on weekday evenings from next month,"
        " after a survey found most readers could not visit before six.",
        "The extra hours are paid for by closing the reading room on Sunday mornings, when"
        " fewer than twenty people used it on average last year.",
    ),
    (
        "Swimming pool roof to be replaced",
        "The leisure centre's pool will close for six weeks in February while contractors"
        " replace the roof panels that leaked during last winter's storms.",
        "Swimming clubs have been offered lanes at the college pool across town, and season"
        " tickets will be extended by the weeks lost.",
    ),
    (
        "Farmers market moves to the square",
        "The Saturday farmers market will move from the car park to the market square in"
        " March, giving its thirty stalls more room and shelter from the wind.",
        "Traders asked for the move last year, and the council agreed to close two streets to"
        " traffic on market mornings for a trial of six months.",
    ),
)
BRIDGE = (
    "The town council approved a second bridge over the river on Monday evening after a"
    " debate that ran past midnight.",
    "The crossing will link the station with the new housing on the east bank, and"
    " councillors voted 21 to 9 for the plan after two delays over its cost.",
)


def test_webhook_mode_answers_updates_posted_with_the_secret(bots: Bots) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env_extra = {
        "NEWSBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        "NEWSBOT_WEBHOOK_LISTEN": "127.0.0.1",
        "NEWSBOT_WEBHOOK_PORT": str(port),
        "NEWSBOT_WEBHOOK_SECRET": "hook-secret_1",
    }
    process = BotProcess(
        bots.api,
        {**bot_env(bots.api, bots.articles, bots.database), **env_extra},
        bots.folder / "webhook.log",
        ["run", "--webhook"],
    )
    bots.started.append(process)
    process.start(wait=False)
    assert bots.api.wait_for(lambda: bots.api.calls("setWebhook"), START_WITHIN), process.output
    (set_webhook,) = bots.api.calls("setWebhook")
    assert set_webhook.params["url"] == env_extra["NEWSBOT_WEBHOOK_URL"]
    assert set_webhook.params["secret_token"] == "hook-secret_1"

    def post(secret: str, update_id: int = 1, text: str = "/help") -> int:
        update = {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": 777, "type": "private", "first_name": "Web"},
                "from": {"id": 777, "is_bot": False, "first_name": "Web"},
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
            },
        }
        try:  # (the server may still be starting)
            return post_update(f"http://127.0.0.1:{port}/hook", update, secret, tries=100)
        except ConnectionError as exc:
            raise AssertionError(f"{exc}; output:\n{process.output}") from None

    assert post("wrong") == 403
    assert post("hook-secret_1") == 200
    assert bots.api.wait_for(lambda: bots.api.replies_to(777), REPLY_WAIT)
    assert "What I can do" in bots.api.replies_to(777)[0].text
    # Telegram sends the same update again (it did not see the answer in time): answered once.
    # A later update from the same person, answered, shows the repeat is not still waiting:
    # one person's updates are handled in order.
    assert post("hook-secret_1") == 200
    # /latest lists the folder's articles once the start-up index (in the background) is done.
    assert bots.api.wait_for(lambda: process._start_up_indexes() > 0, START_WITHIN)
    assert post("hook-secret_1", update_id=2, text="/latest") == 200

    def replies(text: str) -> list[Call]:
        return [c for c in bots.api.replies_to(777) if text in c.text]

    # (The fake knows no chat 777, so each answer is refused, and the error handler's apology
    # follows it: count the answers themselves.)
    assert bots.api.wait_for(lambda: replies("Latest news"), REPLY_WAIT)
    assert len(replies("What I can do")) == 1, [c.text[:30] for c in bots.api.replies_to(777)]
    assert process.terminate() == 0, process.output
    assert TOKEN not in process.output


def test_the_fake_bot_api_checks_link_preview_options_as_telegram_does(api: FakeBotApi) -> None:
    import urllib.error
    import urllib.request

    api.push_message("/start", user_id=77)

    def send(options: object) -> tuple[int, dict[str, object]]:
        body = json.dumps({"chat_id": 77, "text": "x", "link_preview_options": options})
        request = urllib.request.Request(
            f"{api.base_url}{TOKEN}/sendMessage",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    large = {"url": "https://img.example.org/a.jpg", "prefer_large_media": True}
    status, answer = send(large)
    assert status == 200 and answer["result"]["link_preview_options"] == large  # type: ignore[index]
    assert api.calls("sendMessage")[-1].params["link_preview_options"] == large
    for bad, says in (
        ("not an object", "can't parse link preview options JSON object"),
        ({"url": 5}, 'field "url" of the LinkPreviewOptions must be a String'),
        ({"is_disabled": "yes"}, 'field "is_disabled" of the LinkPreviewOptions'),
    ):
        status, answer = send(bad)
        assert status == 400 and says in str(answer["description"]), answer
