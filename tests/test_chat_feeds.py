"""Feeds in chat: admins add, list and remove them; their new entries reach subscribers once,
through the same index operation and outbox as /reload; broken feeds show in /stats."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from telegram.ext import CallbackContext

from bot import opml
from bot.chat import render, texts
from bot.chat.app import AnyApplication, build_application, close_news, open_news
from bot.chat.i18n import translator
from bot.chat.jobs import feeds_job, start_up_indexed
from bot.chat.local import LOCAL_TOKEN, LocalBotApi, LocalUser
from bot.config import FeedSettings, Settings
from bot.news import News
from bot.store import QUEUED, SENDING

from .conftest import delivered
from .fake_bot_api import telegram_html_problems
from .feed_server import FeedServer, page, rss

ADMIN = 42
BODY = (
    "The town council approved a second bridge over the river on Monday evening.",
    "Building work will start in the spring and should take about two years to finish.",
)

ENGLISH = translator("en")


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
            await start_up_indexed(app)
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
        ("/addfeed http://[::1", "not a URL (Invalid IPv6 URL)"),
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


# -- OPML: a feed list sent as a file, /export --------------------------------------------------


async def send_file(chat: Chat, user_id: int, name: str, data: bytes) -> list[str]:
    """A file from a person, as Telegram delivers it; the texts the bot sent back."""
    before = len(chat.api.calls)
    user = LocalUser(chat.app.bot, user_id=user_id, chat_id=user_id)
    await chat.app.process_update(user.document(chat.api.upload(name, data)))
    pending: set[asyncio.Task[object]] = chat.app._Application__create_task_tasks  # type: ignore[attr-defined]
    await asyncio.gather(*pending)
    return [
        str(c.params["text"])
        for c in chat.api.calls[before:]
        if c.method == "sendMessage" and c.params["chat_id"] == user_id
    ]


def three_feeds(chat: Chat) -> bytes:
    """An OPML list of two working feeds (in folders) and one that answers HTTP 500."""
    gazette = chat.server.route("/g.xml", rss("G", chat.item(1, "Bridge")), content_type="text/xml")
    tribune = chat.server.route("/t.xml", rss("T", chat.item(2, "Ferry")), content_type="text/xml")
    broken = chat.server.route("/broken", behaviour="status", status=500)
    return opml.write(
        [
            opml.Outline("Gazette", gazette, ("Local",)),
            opml.Outline("Tribune", tribune, ("Local", "Transport")),
            opml.Outline("Broken", broken),
        ]
    )


async def test_an_opml_file_is_imported_with_a_report_and_export_gives_it_back(chat: Chat) -> None:
    await chat.send(1, "/subscribe")
    data = three_feeds(chat)
    reading, report = await send_file(chat, ADMIN, "feeds.opml", data)
    assert reading == ENGLISH.format(texts.OPML_READING, count=3, name="feeds.opml")
    assert report.startswith("<b>Imported feeds.opml</b>: 2 added, 0 already there, 1 failed.")
    assert "• Broken: HTTP 500" in report and texts.OPML_FAILED_KEPT in report
    assert "• Gazette: 1 new article" in report and "• Tribune: 1 new article" in report
    assert telegram_html_problems(report) == []
    await drain(chat)
    assert chat.delivered() == {(1, "Bridge"): 1, (1, "Ferry"): 1}

    (again,) = (await send_file(chat, ADMIN, "feeds.opml", data))[1:]
    assert "0 added, 3 already there, 0 failed" in again
    assert "• Gazette: already read as Gazette" in again

    await chat.send(ADMIN, "/export")
    (sent,) = chat.api.sent("sendDocument")
    document = sent.params["document"]
    assert document["filename"] == "newsbot-feeds.opml"
    assert sent.params["caption"] == ENGLISH.format(texts.EXPORT_CAPTION, count=3)
    exported = {(f.title, f.url, f.categories) for f in opml.read(document["content"]).feeds}
    assert exported == {(f.title, f.url, f.categories) for f in opml.read(data).feeds}


async def test_a_name_taken_by_another_feed_gets_a_number(chat: Chat) -> None:
    one = chat.server.route("/1.xml", rss("1", chat.item(1, "Bridge")), content_type="text/xml")
    two = chat.server.route("/2.xml", rss("2", chat.item(2, "Ferry")), content_type="text/xml")
    data = opml.write([opml.Outline("News", one), opml.Outline("news", two)])
    report = (await send_file(chat, ADMIN, "list.opml", data))[-1]
    assert "2 added" in report
    assert [f.name for f in chat.news.feeds()] == ["News", "news (2)"]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("photo.jpg", b"\xff\xd8\xff", texts.OPML_NOT_A_LIST),
        ("page.opml", b"<html><body>hi</body></html>", "a web page (HTML)"),
        ("bomb.opml", b'<!DOCTYPE o [<!ENTITY a "aa">]><opml/>', "declares XML entities"),
        ("empty.xml", b"", "the file is empty"),
    ],
)
async def test_a_file_that_is_not_a_feed_list_gets_a_clear_answer(
    chat: Chat, name: str, data: bytes, expected: str
) -> None:
    (answer,) = await send_file(chat, ADMIN, name, data)
    assert expected in answer
    assert chat.news.feeds() == []


async def test_a_file_over_the_limit_is_not_downloaded(chat: Chat) -> None:
    (answer,) = await send_file(chat, ADMIN, "huge.opml", b" " * (opml.MAX_BYTES + 1))
    assert answer == texts.OPML_TOO_LARGE.format(size="1.0 MB", limit="1.0 MB")
    assert chat.api.sent("getFile") == []


async def test_files_and_export_are_for_admins_only(chat: Chat) -> None:
    url = chat.server.route("/rss", rss("G", chat.item(1, "Bridge")), content_type="text/xml")
    data = opml.write([opml.Outline("Gazette", url)])
    assert await send_file(chat, 7, "feeds.opml", data) == [texts.OPML_ADMINS_ONLY]
    assert await chat.send(7, "/export") == [texts.ADMINS_ONLY]
    assert chat.news.feeds() == []
    assert await chat.send(ADMIN, "/export") == [texts.EXPORT_NONE]


async def test_a_report_on_500_feeds_fits_one_message(chat: Chat) -> None:
    long = "Ω" * 60
    data = opml.write(opml.Outline(f"{long} {n}", f"ftp://example.org/{n}") for n in range(500))
    (report,) = (await send_file(chat, ADMIN, "many.opml", data))[1:]
    assert report.startswith("<b>Imported many.opml</b>: 0 added, 0 already there, 500 failed.")
    assert "only http and https" in report and "…and 475 more." in report
    assert render.units(report) <= render.MAX_MESSAGE
    assert telegram_html_problems(report) == []


async def test_files_shared_in_a_group_are_left_alone_unless_an_admin_sends_a_feed_list(
    chat: Chat,
) -> None:
    before = len(chat.api.calls)
    for user_id, name in ((ADMIN, "holiday.jpg"), (7, "feeds.opml")):
        user = LocalUser(chat.app.bot, user_id=user_id, chat_id=-100, chat_type="supergroup")
        await chat.app.process_update(user.document(chat.api.upload(name, b"\xff\xd8")))
    pending: set[asyncio.Task[object]] = chat.app._Application__create_task_tasks  # type: ignore[attr-defined]
    await asyncio.gather(*pending)
    assert [c.method for c in chat.api.calls[before:]] == []
