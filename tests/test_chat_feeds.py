"""Feeds in chat: admins add, list and remove them; their new entries reach subscribers once,
through the same index operation and outbox as /reload; broken feeds show in /stats."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from telegram.ext import CallbackContext

from bot.chat import texts
from bot.chat.app import AnyApplication, build_application, close_news, open_news
from bot.chat.delivery import feeds_job
from bot.chat.local import LOCAL_TOKEN, LocalBotApi, LocalUser
from bot.config import FeedSettings, Settings
from bot.news import News
from bot.store import QUEUED, SENDING

from .conftest import delivered
from .feed_server import FeedServer, page, rss

ADMIN = 42
BODY = (
    "The town council approved a second bridge over the river on Monday evening.",
    "Building work will start in the spring and should take about two years to finish.",
)


@dataclasses.dataclass
class Chat:
    app: AnyApplication
    api: LocalBotApi
    news: News
    server: FeedServer

    async def send(self, user_id: int, text: str) -> list[str]:
        before = len(self.api.calls)
        user = LocalUser(self.app.bot, user_id=user_id, chat_id=user_id)
        await self.app.process_update(user.message(text))
        # /addfeed runs with block=False (it reads the feed at once): wait for it, as PTB's own
        # Application.stop does, through the set of tasks it keeps for that.
        pending: set[asyncio.Task[object]] = self.app._Application__create_task_tasks  # type: ignore[attr-defined]
        await asyncio.gather(*pending)
        return [
            str(c.params["text"])
            for c in self.api.calls[before:]
            if c.method in ("sendMessage", "editMessageText")
        ]

    def delivered(self) -> Counter[tuple[int, str]]:
        """(chat, headline) of every article message Telegram accepted."""
        return delivered(self.api)

    def item(self, n: int, title: str) -> dict[str, str]:
        # Each story its own text: the same text from two feeds would be one story.
        body = (
            f"{title}: that was the news on Monday in report number {n}.",
            f"Officials said more about it ({title.lower()}) later that day.",
            DETAILS[n % len(DETAILS)],  # a page needs 40 words to be an article
        )
        link = self.server.route(f"/news/{n}", page(title, *body))
        return {"title": title, "link": link, "guid": f"g{n}", "description": "Teaser."}


DETAILS = (
    "The town hall will publish the plans, the costs and the full timetable for the work on its"
    " website next week.",
    "Residents can send their questions to the council by letter or by email until the end of"
    " the month, a spokeswoman said.",
    "A public meeting about the changes is planned for the first Thursday of next month in the"
    " hall of the old library.",
)


@pytest.fixture
async def chat(settings: Settings) -> AsyncIterator[Chat]:
    telegram = dataclasses.replace(settings.telegram, admins=frozenset({ADMIN}))
    feeds = FeedSettings(timeout_seconds=2.0, max_bytes=1024 * 1024, allow_private_addresses=True)
    settings = dataclasses.replace(settings, telegram=telegram, feeds=feeds)
    api = LocalBotApi()
    app = build_application(settings, token=LOCAL_TOKEN, request=api, rate_limit=False)
    with FeedServer() as server:
        async with app:
            await open_news(app)
            await app.start()
            yield Chat(app, api, app.bot_data["news"], server)
            await app.stop()
            await close_news(app)


async def drain(chat: Chat) -> None:
    """Until the outbox is empty (one message a second per chat: a few seconds at most)."""
    for _ in range(50):
        await chat.app.bot_data["sender"].drain()
        counts = chat.news.store.delivery_counts()
        if not counts.get(QUEUED) and not counts.get(SENDING):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the outbox did not drain: {counts}")


async def test_an_added_feed_is_read_at_once_and_its_articles_reach_subscribers_once(
    chat: Chat,
) -> None:
    await chat.send(1, "/subscribe")
    await chat.send(2, "/subscribe ferry")
    feed = chat.server.route(
        "/rss", rss("Gazette", chat.item(1, "Council approves bridge")), content_type="text/xml"
    )
    replies = await chat.send(ADMIN, f"/addfeed {feed} Gazette")
    assert replies[0] == texts.ADDFEED_DONE.format(name="Gazette")
    assert replies[1] == "<b>Gazette</b>: 1 new article."
    await drain(chat)
    assert chat.delivered() == {(1, "Council approves bridge"): 1}

    # A new entry: the feed job takes it, through the index operation and the outbox.
    items = [chat.item(2, "Ferry to stop in January"), chat.item(1, "Council approves bridge")]
    chat.server.route("/rss", rss("Gazette", *items), content_type="text/xml")
    chat.news.store.conn.execute("UPDATE feeds SET next_poll = 0")  # due now
    await feeds_job(CallbackContext(chat.app))
    await drain(chat)
    assert chat.delivered() == {
        (1, "Council approves bridge"): 1,
        (1, "Ferry to stop in January"): 1,
        (2, "Ferry to stop in January"): 1,
    }
    # Nothing new: nothing more.
    chat.news.store.conn.execute("UPDATE feeds SET next_poll = 0")
    await feeds_job(CallbackContext(chat.app))
    await drain(chat)
    assert sum(chat.delivered().values()) == 3


async def test_feeds_lists_each_feed_and_stats_names_a_broken_one(chat: Chat) -> None:
    good = chat.server.route(
        "/rss", rss("Gazette", chat.item(1, "Bridge")), content_type="text/xml"
    )
    bad = chat.server.route("/broken", behaviour="status", status=500)
    await chat.send(ADMIN, f"/addfeed {good} Gazette")
    replies = await chat.send(ADMIN, f"/addfeed {bad} Broken")
    assert "did not answer as a feed: HTTP 500" in replies[-1]

    (listing,) = await chat.send(ADMIN, "/feeds")
    assert "<b>Gazette</b>" in listing and "1 entry taken" in listing
    assert "<b>Broken</b>" in listing and "1 failure in a row: HTTP 500" in listing
    (stats,) = await chat.send(ADMIN, "/stats")
    assert "Feeds: 2 (1 failing)" in stats
    assert "• Broken: HTTP 500" in stats


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/addfeed", texts.ADDFEED_USAGE),
        ("/addfeed ftp://example.org/feed", "only http and https"),
        ("/addfeed not-a-url", "only http and https"),
        ("/removefeed", texts.REMOVEFEED_USAGE),
        ("/removefeed Nothing", "There is no feed called “Nothing”"),
    ],
)
async def test_feed_commands_explain_what_to_type(chat: Chat, command: str, expected: str) -> None:
    replies = await chat.send(ADMIN, command)
    assert expected in replies[0]


async def test_the_same_feed_twice_and_removing_one(chat: Chat) -> None:
    url = chat.server.route("/rss", rss("Gazette", chat.item(1, "Bridge")), content_type="text/xml")
    await chat.send(ADMIN, f"/addfeed {url} Gazette")
    (again,) = await chat.send(ADMIN, f"/addfeed {url} Other")
    assert "already read as Gazette" in again
    (removed,) = await chat.send(ADMIN, "/removefeed gazette")
    assert removed == texts.REMOVEFEED_DONE.format(name="Gazette")
    (listing,) = await chat.send(ADMIN, "/feeds")
    assert listing == texts.FEEDS_NONE
    assert chat.news.count() == 1  # its article stays


@pytest.mark.parametrize("command", ["/feeds", "/addfeed https://example.org/rss", "/removefeed x"])
async def test_feed_commands_are_for_admins_only(chat: Chat, command: str) -> None:
    assert await chat.send(7, command) == [texts.ADMINS_ONLY]
    assert chat.news.feeds() == []


async def test_one_story_in_two_feeds_reaches_a_subscriber_once_and_read_lists_both(
    chat: Chat,
) -> None:
    await chat.send(1, "/subscribe bridge")
    text = (
        "The town council approved a second bridge over the river on Monday evening after a"
        " debate that ran past midnight.",
        "The crossing will link the station with the new housing on the east bank, and"
        " councillors voted 21 to 9 for the plan after two delays over its cost.",
    )
    first = chat.server.route("/a/bridge", page("Council approves bridge", *text))
    second = chat.server.route("/b/bridge", page("Bridge gets the go-ahead", *text))
    feed_a = rss("A", {"title": "Council approves bridge", "link": first, "guid": "a1"})
    feed_b = rss("B", {"title": "Bridge gets the go-ahead", "link": second, "guid": "b1"})
    await chat.send(ADMIN, f"/addfeed {chat.server.route('/a.xml', feed_a)} A")
    await chat.send(ADMIN, f"/addfeed {chat.server.route('/b.xml', feed_b)} B")
    await drain(chat)
    assert sum(chat.delivered().values()) == 1  # one event, one message

    (head,) = chat.news.latest().entries
    (card,) = await chat.send(1, f"/read {head.id}")
    assert "Also reported by: " in card and '<a href="' in card
