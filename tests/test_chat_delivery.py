"""Subscriptions and delivery: the real Application and store, a local Bot API that can fail the
way Telegram does (403, 429 with retry_after, 400 with migrate_to_chat_id, timeouts), and a
clock the tests move by hand."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.error import TimedOut

from bot.chat import texts
from bot.chat.app import AnyApplication, build_application, close_library, open_library
from bot.chat.delivery import Sender
from bot.chat.local import LOCAL_TOKEN, Call, LocalBotApi, LocalUser
from bot.config import Settings
from bot.news import News, digest_due
from bot.store import DIGEST, DROPPED, QUEUED, SENDING, SENT, ChatState

from . import telegram_html
from .conftest import WriteFile, delivered, story

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
        await open_library(app)
        news = app.bot_data["news"]
        clock = Clock()
        # The Application's own sender runs on real time; the tests drive one on their clock.
        sender = Sender(news, app.bot, per_second=1000, per_chat_seconds=1.0, clock=clock)
        yield Bot(app, api, news, sender, clock)
        await close_library(app)


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

    failures.append(timeout)  # type: ignore[arg-type]
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
        await open_library(app)
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
    news.store.mark_sending(interrupted.id)
    await close_library(app)
    await app.shutdown()

    app, news, sender = await start()  # requeues the interrupted one
    assert news.store.delivery_counts().get(SENDING, 0) == 0
    for _ in range(20):
        await sender.drain()
    assert news.store.delivery_counts() == {SENT: 20}
    assert sum(sent.values()) == 20 and set(sent.values()) == {1}
    await close_library(app)
    await app.shutdown()


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

    def member_update(status: str) -> Any:
        from telegram import Update

        data = {
            "update_id": 9000,
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
        await open_library(app)
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
            await close_library(app)
    deliveries = [
        c for c in api.sent("sendMessage") if "Arrived on its own" in str(c.params["text"])
    ]
    assert len(deliveries) == 1
