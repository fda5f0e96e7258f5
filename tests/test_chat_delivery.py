"""Subscriptions and delivery: the real Application and store, a local Bot API that can fail the
way Telegram does (403, 429 with retry_after, 400 with migrate_to_chat_id, timeouts), and a
clock the tests move by hand."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.error import InvalidToken, TimedOut

from bot.chat import texts
from bot.chat.app import AnyApplication, build_application, close_news, open_news
from bot.chat.delivery import Sender
from bot.chat.errors import DATABASE_STATUS, TOKEN_REFUSED, TOKEN_STATUS, stopped_for
from bot.chat.jobs import start_up_indexed
from bot.chat.local import LOCAL_TOKEN, Call, LocalBotApi, LocalUser
from bot.config import Settings
from bot.news import News, digest_due
from bot.store import (
    DIGEST,
    DROPPED,
    QUEUED,
    SENDING,
    SENT,
    ChatState,
    DatabaseUnusable,
    Store,
    StoreUnavailable,
    is_url,
    open_store,
)

from . import telegram_html
from .conftest import WriteFile, delivered, sqlite_only, story

ADMIN = 42


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclasses.dataclass
class Bot:
    app: AnyApplication
    api: LocalBotApi
    news: News
    sender: Sender
    clock: Clock

    def user(self, user_id: int, chat_id: int | None = None, **kw: Any) -> LocalUser:
        return LocalUser(self.app.bot, user_id=user_id, chat_id=chat_id or user_id, **kw)

    async def send(self, user: LocalUser, text: str) -> list[str]:
        before = len(self.api.calls)
        await self.app.process_update(user.message(text))
        return [
            str(c.params["text"])
            for c in self.api.calls[before:]
            if c.method in ("sendMessage", "editMessageText")
        ]

    async def reload(self) -> int:
        return (await self.news.reload()).queued

    def delivered(self) -> Counter[tuple[int, str]]:
        """(chat, headline) of every article message Telegram accepted."""
        return delivered(self.api)


Failure = Callable[[Call], tuple[int, dict[str, Any]] | None]


@pytest.fixture
def failures() -> list[Failure]:
    return []


@pytest.fixture
async def bot(settings: Settings, write: WriteFile, failures: list[Failure]) -> AsyncIterator[Bot]:
    write("old.txt", story("An old story about the harbour", "It was already here."))
    telegram = dataclasses.replace(settings.telegram, admins=frozenset({ADMIN}))
    settings = dataclasses.replace(settings, telegram=telegram)

    def failure(call: Call) -> tuple[int, dict[str, Any]] | None:
        for rule in failures:
            result = rule(call)
            if result is not None:
                return result
        return None

    api = LocalBotApi(failure=failure)
    app = build_application(settings, token=LOCAL_TOKEN, request=api, rate_limit=False)
    async with app:
        await open_news(app)
        await start_up_indexed(app)
        news = app.bot_data["news"]
        clock = Clock()
        # The Application's own sender runs on real time; the tests drive one on their clock.
        sender = Sender(news, app.bot, per_second=1000, per_chat_seconds=1.0, clock=clock)
        yield Bot(app, api, news, sender, clock)
        await close_news(app)


async def drain_all(bot: Bot, rounds: int = 10) -> None:
    """Drain, moving the clock a beat each round, until nothing more is due."""
    for _ in range(rounds):
        await bot.sender.drain()
        bot.clock.now += 1.0


def statuses(bot: Bot) -> Counter[str]:
    return Counter(bot.news.store.delivery_counts())


# -- who gets what -------------------------------------------------------------------------------


async def test_each_subscriber_gets_each_matching_new_article_once(
    bot: Bot, write: WriteFile
) -> None:
    a, b, c = bot.user(1), bot.user(2), bot.user(3)
    assert (await bot.send(a, "/subscribe"))[0] == texts.SUBSCRIBED_ALL
    assert "“volcano”" in (await bot.send(b, "/subscribe volcano"))[0]
    await bot.send(c, "/subscribe zeppelin")
    write("new.txt", story("Volcano erupts on the island", "Ash fell on the villages."))
    assert await bot.reload() == 2
    await drain_all(bot)
    await drain_all(bot)
    assert bot.delivered() == {
        (1, "Volcano erupts on the island"): 1,
        (2, "Volcano erupts on the island"): 1,
    }
    for call in bot.api.sent("sendMessage"):
        telegram_html.assert_valid(str(call.params["text"]))


async def test_an_old_article_is_never_sent_and_an_edit_is_not_news(
    bot: Bot, write: WriteFile
) -> None:
    await bot.send(bot.user(1), "/subscribe")
    path = write("new.txt", story("Fresh story", "First version."))
    await bot.reload()
    await drain_all(bot)
    path.write_text(story("Fresh story", "Second version, corrected."))
    import os

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    report = await bot.news.reload()
    assert (report.updated, report.queued) == (1, 0)
    await drain_all(bot)
    assert bot.delivered() == {(1, "Fresh story"): 1}


PICTURE = "https://img.example.org/2026/11/volcano.jpg"
LARGE_ABOVE = {
    "is_disabled": False,
    "url": PICTURE,
    "prefer_large_media": True,
    "show_above_text": True,
}


def pictured(title: str) -> str:
    """A JSON article with a lead image."""
    return json.dumps({"title": title, "text": "Ash fell on the villages.", "image": PICTURE})


def previews(bot: Bot, chat_id: int) -> list[str]:
    """The link_preview_options of each new-article message sent to the chat (as JSON)."""
    return sorted(
        json.dumps(c.params.get("link_preview_options"), sort_keys=True)
        for c in bot.api.sent("sendMessage")
        if c.params["chat_id"] == chat_id and str(c.params["text"]).startswith(texts.NEW_ARTICLE)
    )


def as_json(*options: object) -> list[str]:
    return sorted(json.dumps(o, sort_keys=True) for o in options)


async def test_a_new_article_with_a_picture_is_one_message_with_a_large_preview(
    bot: Bot, write: WriteFile
) -> None:
    on, off = bot.user(1), bot.user(2)
    for user in (on, off):
        await bot.send(user, "/subscribe")
    assert (await bot.send(off, "/pictures off")) == [texts.PICTURES_OFF]
    write("pictured.json", pictured("Volcano erupts on the island"))
    write("plain.txt", story("Markets calm", "Nothing about sport."))
    await bot.reload()
    await drain_all(bot)
    assert bot.delivered() == {
        (1, "Volcano erupts on the island"): 1,
        (1, "Markets calm"): 1,
        (2, "Volcano erupts on the island"): 1,
        (2, "Markets calm"): 1,
    }
    disabled = {"is_disabled": True}  # the Application's default: no preview at all
    assert previews(bot, 1) == as_json(LARGE_ABOVE, disabled)
    assert previews(bot, 2) == as_json(disabled, disabled)
    for call in bot.api.sent("sendMessage"):
        assert PICTURE not in str(call.params["text"])  # the address is never in the text
    assert not bot.api.sent("sendPhoto")


async def test_pictures_turned_off_in_the_config_reach_no_chat(
    bot: Bot, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    telegram = dataclasses.replace(bot.news.settings.telegram, pictures=False)
    monkeypatch.setattr(
        bot.news, "settings", dataclasses.replace(bot.news.settings, telegram=telegram)
    )
    await bot.send(bot.user(1), "/subscribe")
    write("pictured.json", pictured("Volcano erupts on the island"))
    await bot.reload()
    await drain_all(bot)
    assert previews(bot, 1) == as_json({"is_disabled": True})


async def test_a_message_refused_with_its_picture_goes_out_without_it(
    bot: Bot, write: WriteFile, failures: list[Failure]
) -> None:
    def no_previews(call: Call) -> tuple[int, dict[str, Any]] | None:
        options = call.params.get("link_preview_options")
        if call.method == "sendMessage" and isinstance(options, dict) and "url" in options:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: WEBPAGE_CURL_FAILED",
            }
        return None

    failures.append(no_previews)
    await bot.send(bot.user(1), "/subscribe")
    write("pictured.json", pictured("Volcano erupts on the island"))
    await bot.reload()
    await drain_all(bot)
    assert bot.delivered() == {(1, "Volcano erupts on the island"): 1}
    assert statuses(bot)[SENT] == 1


async def test_exclusions_and_several_filters(bot: Bot, write: WriteFile) -> None:
    user = bot.user(1)
    await bot.send(user, "/subscribe -football")
    await bot.send(user, "/subscribe election")
    write("a.txt", story("Football final tonight", "The election of a captain."))
    write("b.txt", story("Markets calm", "Nothing about sport."))
    await bot.reload()
    await drain_all(bot)
    # The first matches 'election' (the second filter), the second '-football': one each.
    assert bot.delivered() == {(1, "Football final tonight"): 1, (1, "Markets calm"): 1}


async def test_one_chat_gets_one_message_a_second(bot: Bot, write: WriteFile) -> None:
    await bot.send(bot.user(1), "/subscribe")
    write("a.txt", story("Story one", "Body."))
    write("b.txt", story("Story two", "Body."))
    await bot.reload()
    await bot.sender.drain()
    assert sum(bot.delivered().values()) == 1
    await bot.sender.drain()  # the clock has not moved
    assert sum(bot.delivered().values()) == 1
    bot.clock.now += 1.0
    await bot.sender.drain()
    assert sum(bot.delivered().values()) == 2


class SlowTelegram:
    """A Bot whose sendMessage takes a while: records how many sends overlap."""

    def __init__(self) -> None:
        self.in_flight: Counter[int] = Counter()
        self.most = 0
        self.most_per_chat = 0
        self.sent: list[int] = []

    async def send_message(self, chat_id: int, text: str, **_: Any) -> Any:
        self.in_flight[chat_id] += 1
        self.most = max(self.most, sum(self.in_flight.values()))
        self.most_per_chat = max(self.most_per_chat, self.in_flight[chat_id])
        await asyncio.sleep(0.01)
        self.in_flight[chat_id] -= 1
        self.sent.append(chat_id)
        return SimpleNamespace(message_id=len(self.sent))


async def test_the_drain_keeps_a_bounded_pipeline_and_one_send_per_chat(
    bot: Bot, write: WriteFile
) -> None:
    for chat in range(1, 31):
        await bot.send(bot.user(chat), "/subscribe")
    write("a.txt", story("Story one", "Body."))
    write("b.txt", story("Story two", "Body."))
    assert await bot.reload() == 60
    telegram = SlowTelegram()
    sender = Sender(bot.news, telegram, per_second=40, per_chat_seconds=0, clock=bot.clock)  # type: ignore[arg-type]
    assert sender.window == 10
    assert await sender.drain() == 60
    assert telegram.most == sender.window  # the window was kept full, and never exceeded
    assert telegram.most_per_chat == 1
    assert Counter(telegram.sent) == {chat: 2 for chat in range(1, 31)}
    assert statuses(bot) == {SENT: 60}


# -- Telegram's failures ---------------------------------------------------------------------------


async def test_a_user_who_blocked_the_bot_is_deactivated(
    bot: Bot, write: WriteFile, failures: list[Failure]
) -> None:
    await bot.send(bot.user(1), "/subscribe")
    await bot.send(bot.user(2), "/subscribe")
    failures.append(
        lambda call: (
            (
                403,
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
            )
            if call.method == "sendMessage" and call.params["chat_id"] == 1
            else None
        )
    )
    write("a.txt", story("Story one", "Body."))
    await bot.reload()
    await drain_all(bot)
    assert bot.delivered() == {(2, "Story one"): 1}
    state = bot.news.chat(1)
    assert state is not None and not state.active
    assert bot.news.subscriptions(1), "the filters are kept for a comeback"
    write("b.txt", story("Story two", "Body."))
    assert await bot.reload() == 1  # only chat 2 is queued now
    assert statuses(bot)[DROPPED] == 1


async def test_retry_after_pauses_and_the_message_goes_out_after_the_wait(
    bot: Bot, write: WriteFile, failures: list[Failure]
) -> None:
    await bot.send(bot.user(1), "/subscribe")
    flood = {"left": 1}

    def too_many(call: Call) -> tuple[int, dict[str, Any]] | None:
        if call.method == "sendMessage" and flood["left"]:
            flood["left"] -= 1
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 30",
                "parameters": {"retry_after": 30},
            }
        return None

    failures.append(too_many)
    write("a.txt", story("Story one", "Body."))
    await bot.reload()
    await bot.sender.drain()
    bot.clock.now += 10
    await bot.sender.drain()
    assert bot.delivered() == {}
    assert statuses(bot)[QUEUED] == 1
    bot.clock.now += 21
    await bot.sender.drain()
    assert bot.delivered() == {(1, "Story one"): 1}


async def test_a_group_upgraded_to_a_supergroup_moves_its_subscriptions(
    bot: Bot, write: WriteFile, failures: list[Failure]
) -> None:
    group = bot.user(5, chat_id=-100, chat_type="group")
    bot.api.member_status[5] = "administrator"
    await bot.send(group, "/subscribe harbour")
    failures.append(
        lambda call: (
            (
                400,
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: group chat was upgraded to a supergroup chat",
                    "parameters": {"migrate_to_chat_id": -100999},
                },
            )
            if call.method == "sendMessage" and call.params["chat_id"] == -100
            else None
        )
    )
    write("a.txt", story("Harbour reopens", "Boats are back."))
    await bot.reload()
    await drain_all(bot)
    assert bot.delivered() == {(-100999, "Harbour reopens"): 1}
    assert [s.query for s in bot.news.subscriptions(-100999)] == ["harbour"]
    assert bot.news.subscriptions(-100) == []


async def test_a_timeout_is_retried_and_sent_once(
    bot: Bot, write: WriteFile, failures: list[Failure]
) -> None:
    await bot.send(bot.user(1), "/subscribe")
    down = {"left": 2}

    def timeout(call: Call) -> None:
        if call.method == "sendMessage" and down["left"]:
            down["left"] -= 1
            raise TimedOut("the network is down")

    failures.append(timeout)
    write("a.txt", story("Story one", "Body."))
    await bot.reload()
    for _ in range(4):
        await bot.sender.drain()
        bot.clock.now += 10
    assert bot.delivered() == {(1, "Story one"): 1}


# -- restarts -------------------------------------------------------------------------------------


async def test_a_restart_in_the_middle_sends_what_was_queued_and_nothing_twice(
    settings: Settings, write: WriteFile
) -> None:
    write("old.txt", story("Old", "Body."))
    sent: Counter[tuple[int, str]] = Counter()

    def record(call: Call) -> None:
        text = str(call.params.get("text", ""))
        if call.method == "sendMessage" and text.startswith(texts.NEW_ARTICLE):
            sent[(int(call.params["chat_id"]), text.split("<b>", 1)[1].split("</b>")[0])] += 1

    async def start() -> tuple[AnyApplication, News, Sender]:
        api = LocalBotApi(on_call=record)
        app = build_application(settings, token=LOCAL_TOKEN, request=api, rate_limit=False)
        await app.initialize()
        await open_news(app)
        await start_up_indexed(app)
        news = app.bot_data["news"]
        clock = Clock()
        return app, news, Sender(news, app.bot, per_second=3, per_chat_seconds=0, clock=clock)

    app, news, sender = await start()
    users = [LocalUser(app.bot, user_id=i, chat_id=i) for i in range(1, 11)]
    for user in users:
        await app.process_update(user.message("/subscribe"))
    for i in range(2):
        write(f"new{i}.txt", story(f"New story {i}", "Body."))
    assert (await news.reload()).queued == 20
    await sender.drain(seconds=0)  # stopped after one round of 3
    # A hard crash: one more handed to Telegram but never marked sent.
    (interrupted,) = news.store.due_deliveries(sender.clock(), 1)
    news.store.mark_sending([interrupted.id])
    await close_news(app)
    await app.shutdown()

    app, news, sender = await start()  # requeues the interrupted one
    assert news.store.delivery_counts().get(SENDING, 0) == 0
    for _ in range(20):
        await sender.drain()
    assert news.store.delivery_counts() == {SENT: 20}
    assert sum(sent.values()) == 20 and set(sent.values()) == {1}
    await close_news(app)
    await app.shutdown()


# -- faults: a refused token, a locked or full database, a database gone ----------------------


UNAUTHORIZED = (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def subscribers_and_news(bot: Bot, write: WriteFile, chats: int, articles: int = 1) -> int:
    """`chats` users subscribed to everything, then `articles` new articles: returns how many
    deliveries were queued."""
    for chat in range(1, chats + 1):
        await bot.send(bot.user(chat), "/subscribe")
    for n in range(articles):
        write(f"news{n}.txt", story(f"Fresh news {n}", "Body."))
    return await bot.reload()


def sender_on(bot: Bot, store: Store, **kw: Any) -> Sender:
    """A sender like the Application's, on its own store (its own busy timeout)."""
    news = News(bot.news.settings, store)
    return Sender(news, bot.app.bot, per_second=1000, per_chat_seconds=0, clock=bot.clock, **kw)


async def test_a_refused_token_keeps_every_delivery_queued_and_stops_the_bot(
    bot: Bot, write: WriteFile, failures: list[Failure]
) -> None:
    assert await subscribers_and_news(bot, write, 5) == 5
    revoked = {"now": True}
    failures.append(lambda call: UNAUTHORIZED if revoked["now"] else None)
    with pytest.raises(InvalidToken):
        await bot.sender.drain()
    assert statuses(bot) == {QUEUED: 5}  # none failed, none left 'sending'
    fatal = stopped_for(bot.app)
    assert fatal is not None and (fatal.line, fatal.status) == (TOKEN_REFUSED, TOKEN_STATUS)

    revoked["now"] = False  # the token is fixed and the bot started again
    await drain_all(bot)
    assert bot.delivered() == {(chat, "Fresh news 0"): 1 for chat in range(1, 6)}


@sqlite_only
async def test_a_locked_database_delays_marking_and_every_row_ends_sent_once(
    bot: Bot, write: WriteFile, failures: list[Failure], settings: Settings
) -> None:
    """An index run in another process holds the write lock past the busy timeout, starting
    while the messages are with Telegram: they are marked sent once it lets go."""
    assert await subscribers_and_news(bot, write, 6) == 6
    blocker = sqlite3.connect(settings.database, isolation_level=None)

    def lock_on_first_send(call: Call) -> None:
        if call.method == "sendMessage" and not blocker.in_transaction:
            blocker.execute("BEGIN IMMEDIATE")
            # Held for 6 busy timeouts, then let go, as the other process would.
            asyncio.get_running_loop().call_later(0.6, blocker.execute, "COMMIT")

    failures.append(lock_on_first_send)
    with open_store(settings.database, busy_timeout=0.1) as store:
        refused = count_refusals(store, "mark_sent")
        assert await sender_on(bot, store).drain() == 6
        assert refused["count"] > 0, "the lock was never met"
        assert not blocker.in_transaction
        assert statuses(bot) == {SENT: 6}
        assert store.requeue_interrupted() == 0  # a restart now repeats nothing
    await drain_all(bot)
    assert bot.delivered() == {(chat, "Fresh news 0"): 1 for chat in range(1, 7)}
    blocker.close()


@sqlite_only
async def test_a_stop_while_the_database_is_locked_marks_what_was_sent_before_it_ends(
    bot: Bot, write: WriteFile, settings: Settings
) -> None:
    assert await subscribers_and_news(bot, write, 4, articles=2) == 8
    blocker = sqlite3.connect(settings.database, isolation_level=None)
    with open_store(settings.database, busy_timeout=0.05) as store:
        sender = sender_on(bot, store, write_patience=0.2)
        sent_before = bot.delivered()

        async def sending_then_locked(*args: Any, **kw: Any) -> Any:
            message = await bot.app.bot.send_message(*args, **kw)
            if not blocker.in_transaction:
                blocker.execute("BEGIN IMMEDIATE")
            return message

        sender.bot = SimpleNamespace(send_message=sending_then_locked)  # type: ignore[assignment]
        assert await sender.drain() == 4  # one round: one message for each chat
        assert statuses(bot) == {SENDING: 4, QUEUED: 4}  # the outcomes wait in memory
        assert await sender.drain() == 0  # nothing new goes out meanwhile
        assert sum((bot.delivered() - sent_before).values()) == 4

        # The stop: the database is let go while the sender waits for it.
        asyncio.get_running_loop().call_later(0.3, blocker.execute, "COMMIT")
        await sender.finish(patience=10.0)
        assert statuses(bot) == {SENT: 4, QUEUED: 4}
    blocker.close()

    # The restart: requeues nothing, sends the rest, repeats nothing.
    with open_store(settings.database) as store:
        assert store.requeue_interrupted() == 0
    await drain_all(bot)
    assert statuses(bot) == {SENT: 8}
    assert bot.delivered() == {
        (chat, f"Fresh news {n}"): 1 for chat in range(1, 5) for n in range(2)
    }


async def test_a_full_disk_loses_and_repeats_no_delivery_across_a_restart(
    bot: Bot, write: WriteFile, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write fails as on a full disk (at the commit, SQLite's error) from the first send
    on; space is made, the bot stops and starts again."""
    assert await subscribers_and_news(bot, write, 6, articles=2) == 12
    full = {"now": False}
    with open_store(settings.database) as store:
        check_file = store.check_file

        def commit_fails_when_full() -> None:
            if full["now"]:  # SQLite's own error (the store names it); PostgreSQL's, named
                error = StoreUnavailable if is_url(settings.database) else sqlite3.OperationalError
                raise error("database or disk is full")
            check_file()

        monkeypatch.setattr(store, "check_file", commit_fails_when_full)
        sender = sender_on(bot, store, write_patience=0.1)
        send = bot.app.bot.send_message

        async def then_the_disk_fills(*args: Any, **kw: Any) -> Any:
            message = await send(*args, **kw)
            full["now"] = True
            return message

        sender.bot = SimpleNamespace(send_message=then_the_disk_fills)  # type: ignore[assignment]
        assert await sender.drain() == 6
        bot.clock.now += 1
        assert await sender.drain() == 0  # neither marked nor anything new sent while full
        assert statuses(bot) == {SENDING: 6, QUEUED: 6}
        full["now"] = False  # space is made; then SIGTERM
        await sender.finish()
        assert statuses(bot) == {SENT: 6, QUEUED: 6}
    with open_store(settings.database) as store:
        assert store.requeue_interrupted() == 0
    await drain_all(bot)
    assert statuses(bot) == {SENT: 12}
    assert bot.delivered() == {
        (chat, f"Fresh news {n}"): 1 for chat in range(1, 7) for n in range(2)
    }


async def test_a_full_disk_before_sending_sends_nothing_and_keeps_the_rows_queued(
    bot: Bot, write: WriteFile, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await subscribers_and_news(bot, write, 3) == 3
    with open_store(settings.database) as store:

        def full() -> None:  # SQLite's own error (the store names it); PostgreSQL's, named
            error = StoreUnavailable if is_url(settings.database) else sqlite3.OperationalError
            raise error("database or disk is full")

        monkeypatch.setattr(store, "check_file", full)
        assert await sender_on(bot, store).drain() == 0
    assert statuses(bot) == {QUEUED: 3}
    assert bot.delivered() == {}


def count_refusals(store: Store, method: str) -> dict[str, int]:
    """Count the calls of a store method that raised (the database did not take the write)."""
    original = getattr(store, method)
    refused = {"count": 0}

    def counted(*args: Any, **kw: Any) -> Any:
        try:
            return original(*args, **kw)
        except sqlite3.OperationalError:
            refused["count"] += 1
            raise

    setattr(store, method, counted)
    return refused


def remove_database(path: os.PathLike[str] | str) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{os.fspath(path)}{suffix}")


@sqlite_only
async def test_a_database_removed_while_running_is_never_answered_as_kept(
    bot: Bot, write: WriteFile, settings: Settings
) -> None:
    assert (await bot.send(bot.user(1), "/subscribe"))[0] == texts.SUBSCRIBED_ALL
    remove_database(settings.database)
    assert (await bot.send(bot.user(2), "/subscribe"))[0] == texts.ERROR
    fatal = stopped_for(bot.app)
    assert fatal is not None and fatal.status == DATABASE_STATUS
    assert fatal.line == (
        f"newsbot: {settings.database} was removed while in use; nothing more was written to"
        " it: restore it from a backup, then start again"
    )
    write("new.txt", story("Fresh news", "Body."))
    with pytest.raises(DatabaseUnusable):
        await bot.news.reload()  # /reload too: no new, empty database in its place
    assert not os.path.exists(settings.database)


@sqlite_only
async def test_a_database_overwritten_while_running_is_never_answered_as_kept(
    bot: Bot, settings: Settings
) -> None:
    # Another process writes over it (a descriptor opened and closed in this one would drop
    # SQLite's locks, which no other process can do).
    overwrite = "import sys; open(sys.argv[1], 'r+b').write(b'not a database any more' * 100)"
    subprocess.run([sys.executable, "-c", overwrite, str(settings.database)], check=True)
    assert (await bot.send(bot.user(2), "/subscribe"))[0] == texts.ERROR
    fatal = stopped_for(bot.app)
    assert fatal is not None and fatal.status == DATABASE_STATUS
    assert "was overwritten while in use" in fatal.line


@sqlite_only
async def test_the_database_watch_notices_a_replaced_file_with_nothing_to_write(
    bot: Bot, settings: Settings
) -> None:
    from bot.chat.app import watch_database

    context = SimpleNamespace(bot_data=bot.app.bot_data)
    await watch_database(context)  # type: ignore[arg-type]  # the file is fine: nothing
    replacement = Path(settings.database).with_name("other.sqlite3")
    with contextlib.closing(sqlite3.connect(replacement)) as other:
        other.execute("CREATE TABLE other (x)")
    os.replace(replacement, settings.database)
    with pytest.raises(DatabaseUnusable, match="was replaced by another file"):
        await watch_database(context)  # type: ignore[arg-type]


# -- digests ------------------------------------------------------------------------------------


async def test_a_digest_chat_gets_one_message_with_the_new_headlines(
    bot: Bot, write: WriteFile
) -> None:
    user = bot.user(1)
    await bot.send(user, "/subscribe")
    assert "Europe/Berlin" in (await bot.send(user, "/timezone Europe/Berlin"))[0]
    assert "08:00 (Europe/Berlin)" in (await bot.send(user, "/digest 8:00"))[0]
    assert bot.app.job_queue is not None
    assert [j.name for j in bot.app.job_queue.get_jobs_by_name("digest:1")] == ["digest:1"]
    write("a.txt", story("Story one", "Body one."))
    write("b.txt", story("Story two", "Body two."))
    await bot.reload()
    await drain_all(bot)
    assert bot.delivered() == {}
    assert statuses(bot)[DIGEST] == 2
    assert await bot.sender.send_digest(1)
    (digest,) = [c for c in bot.api.sent("sendMessage") if c.params["chat_id"] == 1][-1:]
    text = str(digest.params["text"])
    telegram_html.assert_valid(text)
    assert "Story one" in text and "Story two" in text and "2 new" in text
    assert statuses(bot)[SENT] == 2
    assert not await bot.sender.send_digest(1)  # nothing new since


async def test_digest_off_sends_the_held_articles_as_they_come(bot: Bot, write: WriteFile) -> None:
    user = bot.user(1)
    await bot.send(user, "/subscribe")
    await bot.send(user, "/digest 07:30")
    write("a.txt", story("Story one", "Body."))
    await bot.reload()
    assert (await bot.send(user, "/digest off"))[0] == texts.DIGEST_OFF
    await drain_all(bot)
    assert bot.delivered() == {(1, "Story one"): 1}


@pytest.mark.parametrize(
    ("zone", "at", "last", "now", "due"),
    [
        # 08:00 in Berlin (UTC+1 in winter) is 07:00 UTC.
        ("Europe/Berlin", "08:00", "2026-11-27T07:30Z", "2026-11-28T06:59Z", False),
        ("Europe/Berlin", "08:00", "2026-11-27T07:30Z", "2026-11-28T07:00Z", True),
        ("Europe/Berlin", "08:00", "2026-11-28T07:00Z", "2026-11-28T20:00Z", False),
        # The bot was down for two days: one digest is due, not two.
        ("UTC", "08:00", "2026-11-25T08:00Z", "2026-11-28T09:00Z", True),
        ("America/New_York", "23:30", "2026-11-27T04:30Z", "2026-11-28T04:29Z", False),
        ("America/New_York", "23:30", "2026-11-27T04:30Z", "2026-11-28T04:31Z", True),
    ],
)
def test_a_digest_is_due_when_its_time_passed_since_the_last(
    zone: str, at: str, last: str, now: str, due: bool
) -> None:
    def ts(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp()

    chat = ChatState(1, "private", True, zone, at, ts(last))
    assert digest_due(chat, ts(now)) is due


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/digest 25:00", texts.DIGEST_BAD),
        ("/digest soon", texts.DIGEST_BAD),
        ("/digest", texts.DIGEST_SHOW_OFF),
        ("/timezone Mars/Olympus", "“Mars/Olympus” is not a time zone I know"),
        ("/timezone", "This chat’s time zone is UTC"),
    ],
)
async def test_digest_and_timezone_help_with_what_to_type(
    bot: Bot, command: str, expected: str
) -> None:
    assert expected in (await bot.send(bot.user(1), command))[0]


# -- managing subscriptions ---------------------------------------------------------------------


async def test_subscriptions_list_and_remove_buttons(bot: Bot) -> None:
    user = bot.user(1)
    await bot.send(user, "/subscribe")
    await bot.send(user, "/subscribe climate")
    assert (await bot.send(user, "/subscribe climate"))[0] == texts.ALREADY_SUBSCRIBED
    before = len(bot.api.calls)
    await bot.app.process_update(user.message("/subscriptions"))
    listing = bot.api.calls[before]
    text = str(listing.params["text"])
    assert "• all news" in text and "• climate" in text
    rows = listing.params["reply_markup"]["inline_keyboard"]
    labels = [row[0]["text"] for row in rows]
    assert labels == ["✖ all news", "✖ climate"]
    await bot.app.process_update(user.press(rows[1][0]["callback_data"], listing.result))
    assert [s.query for s in bot.news.subscriptions(1)] == [""]
    await bot.app.process_update(user.press(rows[1][0]["callback_data"], listing.result))
    assert bot.api.calls[-1].params["text"] == texts.SUBSCRIPTION_GONE


async def test_unsubscribe_by_words_all_or_asks_which(bot: Bot) -> None:
    user = bot.user(1)
    assert (await bot.send(user, "/unsubscribe"))[0] == texts.UNSUBSCRIBE_NOTHING
    await bot.send(user, "/subscribe climate")
    await bot.send(user, "/subscribe sport")
    assert (await bot.send(user, "/unsubscribe"))[0] == texts.UNSUBSCRIBE_WHICH
    assert "“weather”" in (await bot.send(user, "/unsubscribe weather"))[0]
    assert (await bot.send(user, "/unsubscribe climate"))[0] == "Removed “climate”."
    assert (await bot.send(user, "/unsubscribe all"))[0] == texts.UNSUBSCRIBED_ALL
    assert bot.news.subscriptions(1) == []


async def test_a_filter_without_words_is_refused(bot: Bot) -> None:
    assert "has no word to match" in (await bot.send(bot.user(1), '/subscribe "*('))[0]
    assert "too long" in (await bot.send(bot.user(1), "/subscribe " + "word " * 60))[0]


async def test_in_groups_only_admins_change_subscriptions(bot: Bot) -> None:
    member = bot.user(5, chat_id=-100, chat_type="supergroup")
    admin = bot.user(6, chat_id=-100, chat_type="supergroup")
    bot.api.member_status[6] = "administrator"
    assert (await bot.send(member, "/subscribe"))[0] == texts.GROUP_ADMINS_ONLY
    assert bot.news.subscriptions(-100) == []
    assert (await bot.send(admin, "/subscribe"))[0] == texts.SUBSCRIBED_ALL
    assert (await bot.send(member, "/unsubscribe all"))[0] == texts.GROUP_ADMINS_ONLY
    assert "all news" in (await bot.send(member, "/subscriptions"))[0]  # looking is fine


async def test_being_blocked_and_unblocked_stops_and_resumes_deliveries(bot: Bot) -> None:
    await bot.send(bot.user(1), "/subscribe")

    update_ids = iter(range(9000, 9100))  # each update its own id, as Telegram gives them

    def member_update(status: str) -> Any:
        from telegram import Update

        data = {
            "update_id": next(update_ids),
            "my_chat_member": {
                "chat": {"id": 1, "type": "private", "first_name": "You"},
                "from": {"id": 1, "is_bot": False, "first_name": "You"},
                "date": 0,
                "old_chat_member": {
                    "status": "member",
                    "user": {"id": 1000, "is_bot": True, "first_name": "News"},
                },
                "new_chat_member": {
                    "status": status,
                    "user": {"id": 1000, "is_bot": True, "first_name": "News"},
                    **({"until_date": 0} if status == "kicked" else {}),
                },
            },
        }
        return Update.de_json(data, bot.app.bot)

    await bot.app.process_update(member_update("kicked"))
    state = bot.news.chat(1)
    assert state is not None and not state.active
    await bot.app.process_update(member_update("member"))
    state = bot.news.chat(1)
    assert state is not None and state.active


# -- admins -------------------------------------------------------------------------------------


async def test_reload_reports_queued_deliveries_and_stats_count_them(
    bot: Bot, write: WriteFile
) -> None:
    await bot.send(bot.user(1), "/subscribe")
    write("a.txt", story("Story one", "Body."))
    admin = bot.user(ADMIN)
    await bot.app.start()
    try:
        await bot.app.process_update(admin.message("/reload"))
        await bot.app.update_queue.join()
    finally:
        await bot.app.stop()
    report = [str(c.params["text"]) for c in bot.api.sent("sendMessage")][-1]
    assert "1 added" in report and "1 deliveries queued" in report
    stats = (await bot.send(admin, "/stats"))[0]
    assert "Articles: 2" in stats and "Subscribed chats: 1" in stats
    assert (await bot.send(bot.user(1), "/stats"))[0] == texts.ADMINS_ONLY


async def test_automatic_reload_picks_up_new_files_and_delivers_them(
    settings: Settings, write: WriteFile
) -> None:
    import asyncio

    write("old.txt", story("Old", "Body."))
    delivery = dataclasses.replace(settings.delivery, reload_minutes=0.005)  # every 0.3 s
    api = LocalBotApi()
    app = build_application(
        dataclasses.replace(settings, delivery=delivery),
        token=LOCAL_TOKEN,
        request=api,
        rate_limit=False,
    )
    async with app:
        await open_news(app)
        await start_up_indexed(app)
        await app.process_update(LocalUser(app.bot, user_id=1, chat_id=1).message("/subscribe"))
        await app.start()
        try:
            write("new.txt", story("Arrived on its own", "Nobody typed /reload."))
            for _ in range(100):
                if any("Arrived on its own" in str(c.params.get("text")) for c in api.sent()):
                    break
                await asyncio.sleep(0.05)
        finally:
            await app.stop()
            await close_news(app)
    deliveries = [
        c for c in api.sent("sendMessage") if "Arrived on its own" in str(c.params["text"])
    ]
    assert len(deliveries) == 1
