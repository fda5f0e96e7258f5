"""Handlers through the real Application: real Update objects into process_update, and a local
Bot API that records what the bot sends (PTB's own test pattern)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot import chart
from bot.chat import texts
from bot.chat.app import AnyApplication, build_application, close_news, open_news
from bot.chat.handlers import news
from bot.chat.i18n import Translator, translator
from bot.chat.jobs import START_UP_INDEX, start_up_indexed
from bot.chat.local import LOCAL_TOKEN, Call, LocalBotApi, LocalUser
from bot.chat.traffic import FairUpdateProcessor
from bot.config import Settings
from bot.news import News
from bot.store import Store, open_store

from . import telegram_html
from .conftest import SAMPLE_PAGE, HeldIndex, WriteFile, delivered, png_size, story

ADMIN = 42


@dataclasses.dataclass
class Chat:
    app: AnyApplication
    api: LocalBotApi
    user: LocalUser

    async def send(self, text: str, user: LocalUser | None = None) -> list[Call]:
        return await self._process((user or self.user).message(text))

    async def press(self, data: str, on: Call, user: LocalUser | None = None) -> list[Call]:
        assert isinstance(on.result, dict)
        return await self._process((user or self.user).press(data, on.result))

    async def _process(self, update: Any) -> list[Call]:
        before = len(self.api.calls)
        await self.app.process_update(update)
        calls = self.api.calls[before:]
        for call in self.api.sent(*()):
            telegram_html.assert_valid(str(call.params["text"]))
        return calls

    def as_user(self, **changes: Any) -> LocalUser:
        return dataclasses.replace(self.user, **changes)


def messages(calls: list[Call]) -> list[str]:
    return [str(c.params["text"]) for c in calls if c.method in ("sendMessage", "editMessageText")]


def only_text(calls: list[Call]) -> str:
    (text,) = messages(calls)
    return text


def keyboard(call: Call) -> list[list[dict[str, str]]]:
    markup = call.params.get("reply_markup")
    return list(markup["inline_keyboard"]) if markup else []


def buttons(call: Call) -> dict[str, str]:
    """Button label -> callback_data."""
    return {b["text"]: b["callback_data"] for row in keyboard(call) for b in row}


def sent(calls: list[Call]) -> Call:
    (call,) = [c for c in calls if c.method in ("sendMessage", "editMessageText")]
    return call


@pytest.fixture
async def chat(settings: Settings, write: WriteFile) -> AsyncIterator[Chat]:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    write(
        "briefs.jsonl",
        "\n".join(
            json.dumps(
                {
                    "id": f"b{i}",
                    "title": f"Brief number {i} about the harbour",
                    "text": f"The harbour story {i} begins here. It goes on for a while. "
                    f"Then the harbour story {i} ends with a quote.",
                    "date": f"2026-11-{10 + i:02}T10:00:00Z",
                    "url": f"https://example.org/{i}?a=1&b=2",
                }
            )
            for i in range(7)
        ),
    )
    telegram = dataclasses.replace(settings.telegram, admins=frozenset({ADMIN}))
    settings = dataclasses.replace(settings, telegram=telegram)
    api = LocalBotApi(username="newsbot")
    app = build_application(settings, token=LOCAL_TOKEN, request=api, rate_limit=False)
    async with app:
        await open_news(app)
        await start_up_indexed(app)
        await app.start()
        yield Chat(app, api, LocalUser(app.bot, user_id=7, chat_id=7))
        await app.stop()
        await close_news(app)


def news_of(chat: Chat) -> News:
    service = chat.app.bot_data["news"]
    assert isinstance(service, News)
    return service


def id_of(chat: Chat, title_start: str) -> int:
    return next(
        e.id for e in news_of(chat).latest(limit=100).entries if e.title.startswith(title_start)
    )


# -- start and help -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def started_while_indexing(
    settings: Settings, held: HeldIndex, api: LocalBotApi | None = None
) -> AsyncIterator[Chat]:
    """The bot started, its start-up index run going on (held) in the background. open_news
    returning at all while the run is held is what lets the bot answer."""
    api = api or LocalBotApi(username="newsbot")
    app = build_application(settings, token=LOCAL_TOKEN, request=api, rate_limit=False)
    async with app:
        await open_news(app)
        await app.start()
        try:
            await asyncio.to_thread(held.started.wait)
            assert not app.bot_data[START_UP_INDEX].done()
            yield Chat(app, api, LocalUser(app.bot, user_id=7, chat_id=7))
        finally:
            held.release.set()
            await app.stop()
            await close_news(app)


def indexed_before(settings: Settings, held: HeldIndex) -> None:
    """The folder as it is now indexed, as by an earlier run of the bot."""
    with open_store(settings.database) as store:
        held.real(settings, store)


async def test_start_and_latest_are_answered_while_the_start_up_index_runs(
    settings: Settings, write: WriteFile, held_index: HeldIndex
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    indexed_before(settings, held_index)
    write("new.txt", story("Harbour cranes are replaced", "Two new cranes arrived on Monday."))
    async with started_while_indexing(settings, held_index) as chat:
        assert "/read 2" in only_text(await chat.send("/start"))
        listed = only_text(await chat.send("/latest"))
        assert "Latest news</b> (1–2 of 2)" in listed and "Harbour cranes" not in listed
        held_index.release.set()
        await start_up_indexed(chat.app)
        assert "Harbour cranes are replaced" in only_text(await chat.send("/latest"))


async def test_the_first_answers_do_not_wait_for_the_summary_workers_to_start(
    settings: Settings, write: WriteFile, held_index: HeldIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    indexed_before(settings, held_index)
    warming = asyncio.Event()
    warmed: list[bool] = []

    async def slow_warm_up(self: News) -> None:
        await warming.wait()  # the imports and the workers' start, held
        warmed.append(True)

    monkeypatch.setattr(News, "warm_up", slow_warm_up)
    async with started_while_indexing(settings, held_index) as chat:
        assert "/read 2" in only_text(await chat.send("/start"))
        assert "Azerbaijan" in only_text(await chat.send("/read 1"))
        assert not warmed
        warming.set()
        held_index.release.set()
        await start_up_indexed(chat.app)
        await asyncio.sleep(0)
        assert warmed == [True]


async def test_on_an_empty_database_the_chat_says_it_is_indexing_and_how_far(
    settings: Settings, write: WriteFile, held_index: HeldIndex
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    async with started_while_indexing(settings, held_index) as chat:
        assert "I am indexing the articles; they will be here soon" in only_text(
            await chat.send("/latest")
        )
        held_index.progress("read", 1200, 5000)
        reading = "I am indexing the articles: 1,200 of 5,000 files read."
        assert reading in only_text(await chat.send("/latest"))
        assert reading in only_text(await chat.send("/start"))
        assert reading in only_text(await chat.send("/search harbour"))
        assert reading in only_text(await chat.send("/read 1"))
        assert reading in only_text(await chat.send("harbour"))
        (answer,) = [c for c in await chat._process(chat.user.inline("")) if c.params]
        button = answer.params["button"]
        button = json.loads(button) if isinstance(button, str) else button
        assert reading in button["text"] and answer.params["results"] in ([], "[]")
        held_index.progress("summarize", 300, 4800)
        assert "300 of 4,800 summarized." in only_text(await chat.send("/latest"))
        held_index.progress("write", 7, 9)  # a stage the chat has no words for: the counts
        assert "I am indexing the articles: 7 of 9." in only_text(await chat.send("/latest"))
        german = chat.as_user(language_code="de")
        assert "7 von 9" in only_text(await chat.send("/latest", german))
        held_index.release.set()
        await start_up_indexed(chat.app)
        listed = only_text(await chat.send("/latest"))
        assert "Latest news</b> (1–2 of 2)" in listed and "indexing" not in listed


async def test_what_the_start_up_index_adds_is_listed_and_sent_to_subscribers(
    settings: Settings, write: WriteFile, held_index: HeldIndex
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    indexed_before(settings, held_index)
    with open_store(settings.database) as store:
        store.subscribe(31, "private", "")  # subscribed while the bot ran before
    write("new.txt", story("Harbour cranes are replaced", "Two new cranes arrived on Monday."))
    api = LocalBotApi(username="newsbot")
    async with started_while_indexing(settings, held_index, api) as chat:
        assert not delivered(api)
        held_index.release.set()
        await start_up_indexed(chat.app)
        assert "Harbour cranes are replaced" in only_text(await chat.send("/latest"))
        for _ in range(500):  # the drain it asked for runs as a job of its own
            if delivered(api):
                break
            await asyncio.sleep(0.01)
        assert delivered(api) == {(31, "Harbour cranes are replaced"): 1}


async def test_a_start_up_index_run_that_fails_is_logged_and_the_bot_goes_on_answering(
    settings: Settings, write: WriteFile, held_index: HeldIndex, caplog: pytest.LogCaptureFixture
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    indexed_before(settings, held_index)
    held_index.fail = True
    async with started_while_indexing(settings, held_index) as chat:
        assert "/latest" in only_text(await chat.send("/help"))
        held_index.release.set()
        await start_up_indexed(chat.app)
        assert "the start-up index run failed" in caplog.text
        assert "Latest news</b> (1–2 of 2)" in only_text(await chat.send("/latest"))
        assert "/read 2" in only_text(await chat.send("/start"))


async def test_a_stop_ends_a_start_up_index_run_that_is_still_going(
    settings: Settings, write: WriteFile, held_index: HeldIndex
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    api = LocalBotApi(username="newsbot")
    app = build_application(settings, token=LOCAL_TOKEN, request=api, rate_limit=False)
    async with app:
        await open_news(app)
        news = app.bot_data["news"]
        await asyncio.to_thread(held_index.started.wait)
        task = app.bot_data[START_UP_INDEX]
        closing = asyncio.ensure_future(close_news(app))
        await asyncio.to_thread(held_index.release.set)  # the run reaches its first file...
        await closing
    assert task.done() and news.indexing() is None  # ...and stops there
    with open_store(settings.database) as store:
        assert store.count() == 0


async def test_start_up_indexes_and_shows_the_command_menu_in_each_language(chat: Chat) -> None:
    assert news_of(chat).count() == 9
    menus = chat.api.sent("setMyCommands")
    by_language = {m.params.get("language_code"): m for m in menus if "scope" not in m.params}
    assert set(by_language) == {None, "de", "fr", "es", "ru", "uk"}
    everyone = [c["command"] for c in by_language[None].params["commands"]]
    assert everyone == [name for name, _ in texts.COMMANDS]
    assert {
        "latest",
        "search",
        "read",
        "subscribe",
        "pictures",
        "language",
        "help",
        "start",
    } <= set(everyone)
    german = {c["command"]: c["description"] for c in by_language["de"].params["commands"]}
    assert list(german) == everyone
    assert german["latest"] != dict(texts.COMMANDS)["latest"]  # translated
    admin_menus = [m for m in menus if "scope" in m.params]
    assert len(admin_menus) == 6
    scope = admin_menus[0].params["scope"]
    assert (json.loads(scope) if isinstance(scope, str) else scope) == {
        "type": "chat",
        "chat_id": ADMIN,
    }
    admin_names = [c["command"] for c in admin_menus[0].params["commands"]]
    assert admin_names == [*everyone, "reload", "stats", "feeds", "addfeed", "removefeed", "export"]


async def test_start_shows_three_newest_headlines_and_the_commands(chat: Chat) -> None:
    text = only_text(await chat.send("/start"))
    newest = news_of(chat).latest(limit=3).entries
    assert [text.index(e.title) for e in newest] == sorted(text.index(e.title) for e in newest)
    assert all(f"/read {e.id}" in text for e in newest)
    assert "/latest" in text and "/search" in text and "/help" in text


async def test_start_deep_link_opens_the_article(chat: Chat) -> None:
    article_id = id_of(chat, "Keir Starmer")
    text = only_text(await chat.send(f"/start read_{article_id}"))
    assert text.startswith("<b>Keir Starmer becomes UK’s new prime minister")


async def test_help_lists_every_command_with_an_example(chat: Chat) -> None:
    text = only_text(await chat.send("/help"))
    for example in ("/latest", "/read 42", "/search election", "@newsbot", "/pictures off"):
        assert example in text
    assert "/reload" not in text
    admin = only_text(await chat.send("/help", chat.as_user(user_id=ADMIN, chat_id=ADMIN)))
    assert "/reload" in admin


async def test_an_update_telegram_sends_again_is_answered_once(chat: Chat) -> None:
    update = chat.user.message("/help")
    first = await chat._process(update)
    again = await chat._process(update)  # the same update_id, as Telegram re-sends it
    assert len(messages(first)) == 1 and again == []
    assert len(messages(await chat.send("/help"))) == 1  # a new update is answered


# -- the bot's own language ----------------------------------------------------------------------


async def test_a_german_user_gets_german_replies_and_dates(chat: Chat) -> None:
    german = chat.as_user(user_id=30, chat_id=30, language_code="de-AT")
    helped = only_text(await chat.send("/help", german))
    assert helped.startswith("<b>Was ich kann</b>") and "/latest" in helped
    listing = only_text(await chat.send("/latest", german))
    assert listing.startswith("<b>Neueste Nachrichten</b> (1–5 von 9)")
    assert "Nov. 2026" in listing or "Dez. 2026" in listing  # Babel's German months
    english = only_text(await chat.send("/latest"))  # the next person: no language given
    assert english.startswith("<b>Latest news</b> (1–5 of 9)")


async def test_language_sets_the_chats_language_over_each_persons(chat: Chat) -> None:
    german = chat.as_user(language_code="de")
    shown = only_text(await chat.send("/language", german))
    assert "Deutsch" in shown and "Українська (uk)" in shown
    assert "Mode" not in only_text(await chat.send("/language fr", german))
    assert only_text(await chat.send("/latest", german)).startswith("<b>Dernières")
    assert only_text(await chat.send("/latest")).startswith("<b>Dernières")  # the chat's now
    assert "Klingon" in only_text(await chat.send("/language Klingon", german))
    only_text(await chat.send("/language auto", german))
    assert only_text(await chat.send("/latest", german)).startswith("<b>Neueste")
    assert only_text(await chat.send("/latest")).startswith("<b>Latest")
    assert "Русский" in only_text(await chat.send("/language Русский"))
    assert news_of(chat).ui_language(chat.user.chat_id) == "ru"


async def test_an_update_reads_its_chats_row_once(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL each read is a round trip: the language and the chat's choices come from
    one read per update (a change is seen by the next: test_news)."""
    store = news_of(chat).store
    reads: list[int] = []
    real = type(store).chat

    def counted(self: Any, chat_id: int) -> Any:
        reads.append(chat_id)
        return real(self, chat_id)

    monkeypatch.setattr(type(store), "chat", counted)
    await chat.send("/latest")
    assert reads == [chat.user.chat_id]
    await chat.send("/language de")
    assert only_text(await chat.send("/latest")).startswith("<b>Neueste")


async def test_deliveries_come_in_the_language_of_who_subscribed(
    chat: Chat, write: WriteFile
) -> None:
    russian = chat.as_user(user_id=31, chat_id=31, language_code="ru")
    await chat.send("/subscribe", russian)
    write("new.txt", story("Harbour cranes are replaced", "Two new cranes arrived on Monday."))
    await news_of(chat).reload()
    sender = chat.app.bot_data["sender"]
    for _ in range(100):
        await sender.drain()
        sent = [c for c in chat.api.sent("sendMessage") if c.params["chat_id"] == 31]
        if any("Harbour cranes" in str(c.params["text"]) for c in sent):
            break
        await asyncio.sleep(0.01)
    (delivery,) = [str(c.params["text"]) for c in sent if "Harbour cranes" in str(c.params["text"])]
    article_id = news_of(chat).latest(limit=1).entries[0].id
    foot = translator("ru").format(texts.ARTICLE_FOOT, id=article_id)
    assert foot in delivery and foot != texts.ARTICLE_FOOT.format(id=article_id)


# -- latest ---------------------------------------------------------------------------------------


async def test_latest_lists_the_newest_with_read_buttons_and_paging(chat: Chat) -> None:
    call = sent(await chat.send("/latest"))
    text = str(call.params["text"])
    entries = news_of(chat).latest(limit=5).entries
    assert "(1–5 of 9)" in text
    assert all(e.title.replace("’", "’") in text for e in entries)
    labels = buttons(call)
    assert [labels[f"📖 {e.id}"] for e in entries] == [f"rd:{e.id}:0" for e in entries]
    assert labels["Older ▶"] == "lt:5:5" and "◀ Newer" not in labels


async def test_latest_pages_by_editing_the_same_message(chat: Chat) -> None:
    first = sent(await chat.send("/latest"))
    calls = await chat.press("lt:5:5", first)
    edit = sent(calls)
    assert edit.method == "editMessageText"
    assert edit.params["message_id"] == first.result["message_id"]
    assert "(6–9 of 9)" in str(edit.params["text"])
    assert buttons(edit)["◀ Newer"] == "lt:0:5" and "Older ▶" not in buttons(edit)
    assert [c.method for c in calls].count("answerCallbackQuery") == 1


async def test_latest_takes_a_page_size(chat: Chat) -> None:
    assert "(1–2 of 9)" in only_text(await chat.send("/latest 2"))
    for bad in ("/latest abc", "/latest 0", "/latest 99"):
        assert "/latest 10" in only_text(await chat.send(bad))


# -- read -----------------------------------------------------------------------------------------


async def test_read_shows_headline_summary_date_and_source(chat: Chat) -> None:
    article_id = id_of(chat, "Azerbaijan")
    call = sent(await chat.send(f"/read {article_id}"))
    text = str(call.params["text"])
    stored = news_of(chat).get(article_id)
    assert stored is not None
    summary = news_of(chat).cached_summary(stored)
    assert text.startswith("<b>Azerbaijan grateful to Pakistan")
    assert text.count("\n• ") == len(summary) == 3
    assert "sample.txt" in text and f"/read {article_id}" in text
    assert set(buttons(call)) == {"➕ More", "📄 Full text", "◀ Latest"}


async def test_read_links_to_the_source_url_escaped(chat: Chat) -> None:
    text = only_text(await chat.send(f"/read {id_of(chat, 'Brief number 3')}"))
    assert '<a href="https://example.org/3?a=1&amp;b=2">Source</a>' in text


async def test_read_with_a_sentence_count_and_the_more_button(chat: Chat) -> None:
    article_id = id_of(chat, "Azerbaijan")
    text = only_text(await chat.send(f"/read {article_id} 5"))
    assert text.count("\n• ") == 5
    card = sent(await chat.send(f"/read {article_id}"))
    longer = sent(await chat.press(buttons(card)["➕ More"], card))
    assert longer.method == "editMessageText"
    assert str(longer.params["text"]).count("\n• ") == 6


async def test_read_without_more_to_show_has_no_more_button(chat: Chat) -> None:
    card = sent(await chat.send(f"/read {id_of(chat, 'Keir Starmer')}"))
    assert "➕ More" not in buttons(card)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/read", "Which article?"),
        ("/read abc", "“abc” is not an article number"),
        ("/read <b>", "“&lt;b&gt;” is not an article number"),
        ("/read 999999", "There is no article 999999"),
        ("/read 1 99", "a number of sentences from 1 to 20"),
    ],
)
async def test_read_helps_with_what_to_type(chat: Chat, command: str, expected: str) -> None:
    assert expected in only_text(await chat.send(command))


async def test_lists_number_each_headline_with_the_id_read_takes(chat: Chat) -> None:
    for command in ("/latest", "/search harbour"):
        text = only_text(await chat.send(command))
        shown = news_of(chat).store.shown_list(chat.user.chat_id)
        assert len(shown) == 5
        for article_id in shown:
            assert f"{article_id}. <b>" in text
        assert f"send /read {shown[0]} or tap 📖 {shown[0]}" in text
        card = only_text(await chat.send(f"/read {shown[1]}"))  # an id the list shows
        stored = news_of(chat).get(shown[1])
        assert stored is not None and card.startswith(f"<b>{stored.article.title}")
        assert f"Article {shown[1]} · /read {shown[1]} opens it again" in card


async def test_read_of_a_place_in_the_last_list_opens_that_article_and_says_which(
    chat: Chat, articles_dir: Path
) -> None:
    (articles_dir / "briefs.jsonl").unlink()  # articles 1-7: only the sample page's two remain
    await news_of(chat).reload()
    only_text(await chat.send("/latest"))
    second = news_of(chat).latest(limit=5).entries[1]
    assert news_of(chat).get(2) is None
    text = only_text(await chat.send("/read 2"))
    assert text.startswith(f"↪ Number 2 in the list you saw last is article {second.id}.")
    assert f"<b>{second.title}</b>" in text
    assert "📖" in only_text(await chat.send("/search Karabakh"))
    (hit,) = news_of(chat).store.shown_list(chat.user.chat_id)
    assert f"is article {hit}." in only_text(await chat.send("/read 1"))


async def test_read_of_a_number_that_is_an_article_and_a_place_in_the_list_asks_which(
    chat: Chat,
) -> None:
    await chat.send("/latest")
    second = news_of(chat).latest(limit=5).entries[1]
    article_2 = news_of(chat).get(2)
    assert second.id != 2 and article_2 is not None
    question = sent(await chat.send("/read 2"))
    text = str(question.params["text"])
    assert text.startswith("Which one do you mean?")
    assert f"📖 2: article 2, <b>{article_2.article.title}</b>" in text
    assert f"📖 {second.id}: number 2 in the list you saw last, <b>{second.title}</b>" in text
    assert buttons(question) == {"📖 2": "rd:2:0", f"📖 {second.id}": f"rd:{second.id}:0"}
    card = sent(await chat.press(f"rd:{second.id}:0", question))
    assert str(card.params["text"]).startswith(f"<b>{second.title}</b>")


async def test_another_chats_list_does_not_change_what_read_opens(chat: Chat) -> None:
    await chat.send("/latest")
    other = chat.as_user(user_id=8, chat_id=8)
    article_2 = news_of(chat).get(2)
    assert article_2 is not None
    text = only_text(await chat.send("/read 2", other))
    assert text.startswith(f"<b>{article_2.article.title}</b>")


async def test_full_text_pages_fit_in_a_message_and_keep_all_the_text(
    chat: Chat, write: WriteFile
) -> None:
    paragraphs = [f"Paragraph {i} says something long about the harbour. " * 12 for i in range(40)]
    write("long.txt", "A very long story\n\n" + "\n\n".join(p.strip() for p in paragraphs) + "\n")
    await news_of(chat).reload()
    card = sent(await chat.send(f"/read {id_of(chat, 'A very long story')}"))
    page = sent(await chat.press(buttons(card)["📄 Full text"], card))
    pages = [str(page.params["text"])]
    while "More ▶" in buttons(page):
        page = sent(await chat.press(buttons(page)["More ▶"], page))
        pages.append(str(page.params["text"]))
    assert len(pages) > 3
    assert all(len(p) <= 4096 for p in pages)
    assert f"page {len(pages)} of {len(pages)}" in pages[-1]
    joined = "\n\n".join(p.split("\n\n", 1)[1] for p in pages)
    assert joined == "\n\n".join(p.strip() for p in paragraphs)
    back = sent(await chat.press(buttons(page)["📝 Summary"], page))
    assert str(back.params["text"]).startswith("<b>A very long story</b>")


async def test_a_button_of_a_removed_article_answers_with_an_alert(
    chat: Chat, articles_dir: Path
) -> None:
    card = sent(await chat.send(f"/read {id_of(chat, 'Keir Starmer')}"))
    (articles_dir / "sample.txt").unlink()
    await news_of(chat).reload()
    calls = await chat.press(buttons(card)["📄 Full text"], card)
    (answer,) = calls
    assert answer.method == "answerCallbackQuery"
    assert answer.params["text"] == texts.ARTICLE_GONE and answer.params["show_alert"] is True


async def test_a_button_from_nowhere_answers_that_it_is_out_of_date(chat: Chat) -> None:
    card = sent(await chat.send("/latest"))
    (answer,) = await chat.press("something-old:1", card)
    assert answer.params["text"] == texts.STALE_BUTTON


# -- search ---------------------------------------------------------------------------------------


async def test_search_lists_ranked_hits_with_marked_snippets(chat: Chat) -> None:
    call = sent(await chat.send("/search Karabakh"))
    text = str(call.params["text"])
    assert "Azerbaijan grateful to Pakistan" in text
    assert "<b>Karabakh</b>" in text
    article_id = id_of(chat, "Azerbaijan")
    assert buttons(call)[f"📖 {article_id}"] == f"rd:{article_id}:0"


async def test_search_pages_with_a_short_query_id(chat: Chat) -> None:
    query = "harbour " + "story " * 20  # longer than callback_data's 64 bytes
    call = sent(await chat.send(f"/search {query}"))
    assert "(1–5 of 7)" in str(call.params["text"])
    data = buttons(call)["More ▶"]
    assert len(data.encode()) <= 64
    page = sent(await chat.press(data, call))
    assert "(6–7 of 7)" in str(page.params["text"])


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/search", "What should I look for?"),
        ("/search zeppelin", "Nothing found for “zeppelin”"),
        ('/search "*(NEAR -', "Nothing found"),
        ("/search <script>&", "Nothing found for “&lt;script&gt;&amp;”"),
    ],
)
async def test_search_helps_when_there_is_nothing_to_show(
    chat: Chat, command: str, expected: str
) -> None:
    assert expected in only_text(await chat.send(command))


async def test_plain_text_in_a_private_chat_searches(chat: Chat) -> None:
    assert "Azerbaijan grateful" in only_text(await chat.send("Karabakh"))


async def test_plain_text_in_a_group_gets_no_reply(chat: Chat) -> None:
    group = chat.as_user(chat_id=-100123, chat_type="supergroup")
    assert messages(await chat.send("Karabakh", group)) == []


# -- groups -------------------------------------------------------------------------------------


async def test_commands_addressed_to_the_bot_work_in_groups_and_quote(chat: Chat) -> None:
    group = chat.as_user(chat_id=-100123, chat_type="supergroup")
    call = sent(await chat.send("/latest@newsbot", group))
    assert call.params["chat_id"] == -100123
    assert "reply_parameters" in call.params


async def test_commands_for_another_bot_are_left_alone(chat: Chat) -> None:
    group = chat.as_user(chat_id=-100123, chat_type="supergroup")
    assert messages(await chat.send("/latest@otherbot", group)) == []
    assert messages(await chat.send("/frobnicate@otherbot", group)) == []


async def test_replies_go_to_the_same_forum_topic(chat: Chat) -> None:
    topic = chat.as_user(chat_id=-100123, chat_type="supergroup", thread_id=77)
    call = sent(await chat.send("/search Karabakh", topic))
    assert call.params["message_thread_id"] == 77


# -- everything else ------------------------------------------------------------------------------


async def test_an_unknown_command_points_to_help(chat: Chat) -> None:
    assert only_text(await chat.send("/frobnicate now")) == texts.UNKNOWN_COMMAND.format(
        command="/frobnicate"
    )


async def test_a_sticker_in_a_private_chat_gets_a_hint(chat: Chat) -> None:
    before = len(chat.api.calls)
    await chat.app.process_update(chat.user.sticker())
    assert messages(chat.api.calls[before:]) == [texts.NOT_TEXT]


async def test_inline_query_offers_matching_articles(chat: Chat) -> None:
    before = len(chat.api.calls)
    await chat.app.process_update(chat.user.inline("Karabakh"))
    (answer,) = chat.api.calls[before:]
    results = answer.params["results"]
    assert [r["title"] for r in results] == [
        "Azerbaijan grateful to Pakistan for support during Patriotic War and liberation of"
        " Karabakh"
    ]
    content = results[0]["input_message_content"]
    telegram_html.assert_valid(content["message_text"])
    assert content["parse_mode"] == "HTML"
    link = results[0]["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert link == f"https://t.me/newsbot?start=read_{id_of(chat, 'Azerbaijan')}"


async def test_inline_query_without_words_offers_the_newest(chat: Chat) -> None:
    before = len(chat.api.calls)
    await chat.app.process_update(chat.user.inline(""))
    results = chat.api.calls[before].params["results"]
    assert len(results) == 9


async def test_reload_is_for_admins_and_reports_what_changed(
    chat: Chat, write: WriteFile, caplog: pytest.LogCaptureFixture
) -> None:
    write("new.txt", story("A brand new story", "It just arrived."))
    write("empty.txt", b"")
    with caplog.at_level(logging.WARNING, logger="bot.chat.handlers"):
        refused = only_text(await chat.send("/reload"))
    assert refused == texts.ADMINS_ONLY
    assert "refused /reload from user 7" in caplog.text
    admin = chat.as_user(user_id=ADMIN, chat_id=ADMIN)
    before = len(chat.api.calls)
    await chat.send("/reload", admin)  # runs in the background (block=False)
    # Meanwhile the bot keeps answering others.
    assert "Latest news" in only_text(await chat.send("/latest"))
    for _ in range(500):
        replies = messages([c for c in chat.api.calls[before:] if c.params["chat_id"] == ADMIN])
        if len(replies) == 2:
            break
        await asyncio.sleep(0.01)
    started, report = replies
    assert started == texts.RELOAD_STARTED
    assert "1 added" in report and "1 failed" in report
    assert "• empty.txt: empty file" in report


async def test_stats_sends_admins_the_numbers_then_one_chart_and_others_neither(
    chat: Chat,
) -> None:
    admin = chat.as_user(user_id=ADMIN, chat_id=ADMIN)
    calls = await chat.send("/stats", admin)
    sends = [c for c in calls if c.method.startswith("send")]
    assert [c.method for c in sends] == ["sendMessage", "sendPhoto"]
    assert "Articles: 9" in str(sends[0].params["text"])
    photo = sends[1]
    assert photo.params["chat_id"] == ADMIN
    assert photo.params["caption"] == texts.STATS_CHART_CAPTION.format(days=30)
    assert png_size(photo.files["photo"]) == (1280, 960)
    assert isinstance(photo.result, dict) and photo.result["photo"][0]["width"] == 1280

    refused = await chat.send("/stats")
    assert messages(refused) == [texts.ADMINS_ONLY]
    assert not [c for c in refused if c.method == "sendPhoto"]


async def test_stats_still_tells_the_numbers_when_the_chart_fails(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(activity: chart.Activity, tr: object = None) -> bytes:
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(chart, "draw", broken)
    with caplog.at_level(logging.ERROR):
        calls = await chat.send("/stats", chat.as_user(user_id=ADMIN, chat_id=ADMIN))
    text, notice = messages(calls)
    assert "Articles: 9" in text and notice == texts.STATS_CHART_FAILED
    assert not [c for c in calls if c.method == "sendPhoto"]
    assert "the /stats chart could not be made" in caplog.text and "no fonts today" in caplog.text


async def test_a_chart_being_drawn_holds_up_no_other_chat(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawing, released = threading.Event(), threading.Event()
    released_in_time: list[bool] = []
    real = chart.draw

    def slow(activity: chart.Activity, tr: Translator | None = None) -> bytes:
        drawing.set()
        # Blocks its thread, as a long drawing would, until /latest below is answered. Drawn on
        # the event loop, /latest could not be answered first: this would give up after 10 s.
        released_in_time.append(released.wait(10.0))
        return real(activity, tr)

    monkeypatch.setattr(chart, "draw", slow)
    admin = chat.as_user(user_id=ADMIN, chat_id=ADMIN)
    stats = asyncio.create_task(chat.app.process_update(admin.message("/stats")))
    for _ in range(1000):
        if drawing.is_set() or stats.done():
            break
        await asyncio.sleep(0.005)
    assert drawing.is_set(), stats.exception() if stats.done() else "the chart never started"
    assert "Latest news" in only_text(await chat.send("/latest"))
    assert not stats.done()
    released.set()
    await stats
    assert released_in_time == [True]
    assert [c.method for c in chat.api.calls if c.params.get("chat_id") == ADMIN][-1] == (
        "sendPhoto"
    )


async def test_an_error_is_logged_and_told_and_the_bot_keeps_going(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(News, "latest", broken)
    with caplog.at_level(logging.ERROR):
        assert only_text(await chat.send("/latest")) == texts.ERROR
    assert "disk on fire" in caplog.text and "Traceback" in caplog.text
    monkeypatch.undo()
    assert "Latest news" in only_text(await chat.send("/latest"))


async def test_article_text_is_escaped_everywhere(chat: Chat, write: WriteFile) -> None:
    write("evil.txt", story("Tags <b>& co</b> win", "A <script> tag & an ampersand."))
    await news_of(chat).reload()
    article_id = id_of(chat, "Tags <b>")
    for command in ("/latest", f"/read {article_id}", "/search ampersand"):
        text = only_text(await chat.send(command))
        assert "Tags &lt;b&gt;&amp; co&lt;/b&gt; win" in text


def test_the_news_accessor_returns_the_service() -> None:
    class Context:
        def __init__(self) -> None:
            self.bot_data = {"news": object()}

    with pytest.raises(AssertionError):
        news(Context())  # type: ignore[arg-type]


# -- pictures -----------------------------------------------------------------------------------

PICTURE = "https://img.example.org/2026/11/crane.jpg?w=1200&q=80"
LARGE_ABOVE = {
    "is_disabled": False,
    "url": PICTURE,
    "prefer_large_media": True,
    "show_above_text": True,
}
NO_PREVIEW = {"is_disabled": True}  # the Application's default


async def pictured(chat: Chat, write: WriteFile) -> int:
    """An article with a lead image, indexed; its id."""
    body = [f"The crane lifted its {n}th container on the quay today." for n in range(1, 9)]
    record = {"id": "p1", "title": "Harbour crane at work", "text": body, "image": PICTURE}
    write("pictured.json", json.dumps(record))
    await news_of(chat).reload()
    return id_of(chat, "Harbour crane")


def preview(call: Call) -> object:
    return call.params.get("link_preview_options")


async def test_read_shows_the_articles_picture_as_one_message_with_a_large_preview(
    chat: Chat, write: WriteFile
) -> None:
    article_id = await pictured(chat, write)
    calls = await chat.send(f"/read {article_id}")
    card = sent(calls)
    assert card.method == "sendMessage" and preview(card) == LARGE_ABOVE
    assert "img.example.org" not in str(card.params["text"])  # only in the preview
    assert [c.method for c in calls] == ["sendMessage"]  # no photo, no second message
    assert isinstance(card.result, dict) and card.result["link_preview_options"] == LARGE_ABOVE


async def test_paging_drops_the_picture_for_the_full_text_and_brings_it_back(
    chat: Chat, write: WriteFile
) -> None:
    card = sent(await chat.send(f"/read {await pictured(chat, write)}"))
    longer = sent(await chat.press(buttons(card)["➕ More"], card))
    assert longer.method == "editMessageText" and preview(longer) == LARGE_ABOVE
    full = sent(await chat.press(buttons(longer)["📄 Full text"], longer))
    assert preview(full) == NO_PREVIEW
    back = sent(await chat.press(buttons(full)["📝 Summary"], full))
    assert preview(back) == LARGE_ABOVE
    latest = sent(await chat.press(buttons(back)["◀ Latest"], back))
    assert preview(latest) == NO_PREVIEW


async def test_an_article_without_a_picture_reads_as_before(chat: Chat) -> None:
    card = sent(await chat.send(f"/read {id_of(chat, 'Brief number 3')}"))
    assert preview(card) == NO_PREVIEW


async def test_pictures_off_sends_this_chats_articles_as_text_only(
    chat: Chat, write: WriteFile
) -> None:
    article_id = await pictured(chat, write)
    assert only_text(await chat.send("/pictures")) == texts.PICTURES_SHOW_ON
    assert only_text(await chat.send("/pictures off")) == texts.PICTURES_OFF
    assert only_text(await chat.send("/pictures")) == texts.PICTURES_SHOW_OFF
    assert preview(sent(await chat.send(f"/read {article_id}"))) == NO_PREVIEW
    other = chat.as_user(user_id=8, chat_id=8)
    assert preview(sent(await chat.send(f"/read {article_id}", other))) == LARGE_ABOVE
    assert only_text(await chat.send("/pictures on")) == texts.PICTURES_ON
    assert preview(sent(await chat.send(f"/read {article_id}"))) == LARGE_ABOVE


async def test_pictures_turned_off_in_the_config_are_off_for_every_chat(
    chat: Chat, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    article_id = await pictured(chat, write)
    service = news_of(chat)
    telegram = dataclasses.replace(service.settings.telegram, pictures=False)
    monkeypatch.setattr(
        service, "settings", dataclasses.replace(service.settings, telegram=telegram)
    )
    assert preview(sent(await chat.send(f"/read {article_id}"))) == NO_PREVIEW
    assert only_text(await chat.send("/pictures")) == texts.PICTURES_DISABLED
    assert only_text(await chat.send("/pictures on")) == texts.PICTURES_ON_BUT_DISABLED
    assert preview(sent(await chat.send(f"/read {article_id}"))) == NO_PREVIEW


@pytest.mark.parametrize(
    ("typed", "quoted"), [("maybe", "“maybe”"), ("<b>big</b>", "“&lt;b&gt;big&lt;/b&gt;”")]
)
async def test_pictures_with_anything_else_says_what_to_send(
    chat: Chat, typed: str, quoted: str
) -> None:
    text = only_text(await chat.send(f"/pictures {typed}"))
    assert quoted in text and "/pictures on" in text and "/pictures off" in text


async def test_in_a_group_only_admins_turn_pictures_off(chat: Chat) -> None:
    member = chat.as_user(user_id=9, chat_id=-100500, chat_type="supergroup")
    assert texts.GROUP_ADMINS_ONLY in only_text(await chat.send("/pictures off", member))
    assert news_of(chat).pictures(-100500)
    assert only_text(await chat.send("/pictures", member)) == texts.PICTURES_SHOW_ON


async def test_a_reply_refused_with_its_picture_is_sent_without_it(
    chat: Chat, write: WriteFile
) -> None:
    article_id = await pictured(chat, write)

    def refuse_previews(call: Call) -> tuple[int, dict[str, Any]] | None:
        options = call.params.get("link_preview_options")
        if isinstance(options, dict) and "url" in options:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: WEBPAGE_MEDIA_EMPTY",
            }
        return None

    chat.api.failure = refuse_previews
    calls = await chat.send(f"/read {article_id}")
    accepted = [c for c in chat.api.sent("sendMessage") if c in calls]
    assert len(accepted) == 1 and preview(accepted[0]) == NO_PREVIEW
    assert str(accepted[0].params["text"]).startswith("<b>Harbour crane at work</b>")


# -- languages ----------------------------------------------------------------------------------


async def test_lang_narrows_latest_and_search_to_one_language(chat: Chat, write: WriteFile) -> None:
    write(
        "hafen.md",
        "---\ntitle: Hafenfest zieht Rekordpublikum an\nlanguage: de\ndate: 2026-11-01\n---\n\n"
        "Das Hafenfest hat am Wochenende mehr Besucher angezogen als je zuvor."
        " Trotz des Regens kamen viele Familien an den Hafen.\n",
    )
    await news_of(chat).reload()
    shown = only_text(await chat.send("/lang"))
    assert texts.LANG_ALL in shown and "German (de) 1" in shown and "English (en) 9" in shown

    assert only_text(await chat.send("/lang de")) == texts.LANG_SET.format(name="German", code="de")
    latest = only_text(await chat.send("/latest"))
    assert "(1–1 of 1)" in latest and "Hafenfest" in latest
    assert "Hafenfest" in only_text(await chat.send("/search Hafenfest"))
    # Nine English articles are about the harbour; in German there is none.
    none = only_text(await chat.send("/search harbour"))
    assert none == texts.SEARCH_NONE.format(query="harbour")
    assert "Hafenfest" in only_text(await chat.send("/search hafen*"))

    refused = only_text(await chat.send("/lang xx"))
    assert refused.startswith("There are no articles in “xx”")
    assert only_text(await chat.send("/lang off")) == texts.LANG_OFF
    assert "of 10)" in only_text(await chat.send("/latest"))


# -- holding under attack and faults (issue 11) -------------------------------------------------


async def through_processor(chat: Chat, update: Any) -> list[Call]:
    """An update as the running bot takes it: through the update processor (flood control,
    concurrency, order), not straight into process_update. The calls made in its chat."""
    before = len(chat.api.calls)
    await chat.app.update_processor.process_update(update, chat.app.process_update(update))
    chat_id = update.effective_chat.id if update.effective_chat else None
    return [c for c in chat.api.calls[before:] if c.params.get("chat_id") in (chat_id, None)]


async def test_a_slow_search_holds_up_no_other_chat(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    real = Store.search

    def slow(self: Store, *args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(timeout=10)  # only a safety net: the test releases it
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "search", slow)
    alice, bob = chat.as_user(user_id=11, chat_id=11), chat.as_user(user_id=12, chat_id=12)
    searching = asyncio.create_task(through_processor(chat, alice.message("/search harbour")))
    assert await asyncio.to_thread(started.wait, 10)
    # Bob is answered while Alice's search is still running.
    assert "/latest" in only_text(await through_processor(chat, bob.message("/help")))
    assert not searching.done()
    release.set()
    found = only_text(await searching)
    assert "🔎 <b>harbour</b>" in found


async def test_a_search_past_its_time_limit_says_so_and_the_next_one_works(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.news.SEARCH_SECONDS", 0.0)
    monkeypatch.setattr("bot.store.sqlite.PROGRESS_STEPS", 1)
    assert only_text(await chat.send("/search harbour")) == texts.SEARCH_TOO_SLOW
    assert only_text(await chat.send("harbour")) == texts.SEARCH_TOO_SLOW
    before = len(chat.api.calls)
    await chat.app.process_update(chat.user.inline("harbour"))
    (answer,) = chat.api.calls[before:]
    assert answer.method == "answerInlineQuery" and answer.params["results"] == []
    monkeypatch.undo()
    assert "Brief number" in only_text(await chat.send("/search harbour"))


async def test_a_word_repeated_32_times_searches_like_the_word(chat: Chat) -> None:
    once = only_text(await chat.send("/search harbour"))
    repeated = only_text(await chat.send("/search " + "harbour " * 32))
    assert repeated.split("\n", 1)[1] == once.split("\n", 1)[1]


async def test_a_flood_gets_one_notice_then_nothing_until_the_allowance_refills(
    chat: Chat,
) -> None:
    processor = chat.app.update_processor
    assert isinstance(processor, FairUpdateProcessor)
    now = [1000.0]
    processor.gate.clock = lambda: now[0]
    admin = chat.as_user(user_id=ADMIN, chat_id=ADMIN)  # admins are held to it too
    replies: list[str] = []
    for _ in range(30):
        replies += messages(await through_processor(chat, admin.message("/help")))
    assert len(replies) == 21 and replies[-1] == texts.FLOOD
    assert all("/reload" in reply for reply in replies[:20])
    # Everyone else is answered as usual, and the flood stays dropped, notice and all.
    assert "/latest" in only_text(await through_processor(chat, chat.user.message("/help")))
    now[0] += 9
    assert messages(await through_processor(chat, admin.message("/help"))) == []
    now[0] += 1  # ten seconds: the allowance has refilled
    assert "/reload" in only_text(await through_processor(chat, admin.message("/help")))


async def test_a_flood_of_button_presses_gets_the_notice_as_a_toast(chat: Chat) -> None:
    processor = chat.app.update_processor
    assert isinstance(processor, FairUpdateProcessor)
    processor.gate.clock = lambda: 1000.0
    card = sent(await chat.send("/latest"))
    calls: list[Call] = []
    for _ in range(22):
        calls += await through_processor(chat, chat.user.press("lt:5:5", card.result))
    toasts = [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"]
    assert toasts.count(texts.FLOOD) == 1
    assert len([c for c in calls if c.method == "editMessageText"]) == 20


async def test_one_persons_updates_are_handled_in_the_order_sent(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = Store.search

    def slow(self: Store, *args: Any, **kwargs: Any) -> Any:
        release.wait(timeout=10)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "search", slow)
    first = asyncio.create_task(through_processor(chat, chat.user.message("/search harbour")))
    second = asyncio.create_task(through_processor(chat, chat.user.message("/help")))
    await asyncio.sleep(0)  # both have started and wait: the search in its thread, /help its turn
    assert not second.done()
    release.set()
    await asyncio.gather(first, second)
    answers = [str(c.params["text"]) for c in chat.api.sent("sendMessage")]
    assert answers[-2].startswith("🔎") and "/latest" in answers[-1]


async def test_a_search_button_made_up_in_another_chat_has_expired(chat: Chat) -> None:
    alice, bob = chat.as_user(user_id=11, chat_id=11), chat.as_user(user_id=12, chat_id=12)
    results = sent(await chat.send("/search harbour", alice))
    more = buttons(results)["More ▶"]
    own = sent(await chat.send("/latest", bob))
    (answer,) = await chat.press(more, own, bob)
    assert answer.params["text"] == texts.SEARCH_EXPIRED and answer.params["show_alert"] is True
    # Alice's own button still pages her search.
    assert "(6–" in str(sent(await chat.press(more, results, alice)).params["text"])


async def test_every_message_fits_for_a_huge_title_and_an_emoji_heavy_body(
    chat: Chat, write: WriteFile
) -> None:
    subscriber = chat.as_user(user_id=21, chat_id=21)
    assert "Subscribed" in only_text(await chat.send("/subscribe", subscriber))
    headline = ("Harbour festival " * 400)[:6300]
    body = [
        " ".join(f"The harbour 🎉🎉 party {p}.{s} drew 🚢🌊 crowds." for s in range(40))
        for p in range(12)
    ]
    write(
        "huge.json",
        json.dumps(
            {"title": headline, "text": body, "date": "2026-12-01T10:00:00Z", "url": URL},
            ensure_ascii=False,
        ),
    )
    await news_of(chat).reload()
    article_id = id_of(chat, "Harbour festival")

    def here(calls: list[Call]) -> list[Call]:  # a delivery to the subscriber may come meanwhile
        return [c for c in calls if c.params.get("chat_id") == chat.user.chat_id]

    texts_sent = messages(here(await chat.send("/latest")))
    texts_sent += messages(here(await chat.send("/search harbour party")))
    card = sent(here(await chat.send(f"/read {article_id}")))
    texts_sent.append(str(card.params["text"]))
    page = sent(here(await chat.press(buttons(card)["📄 Full text"], card)))
    pages = [str(page.params["text"])]
    while "More ▶" in buttons(page):
        page = sent(here(await chat.press(buttons(page)["More ▶"], page)))
        pages.append(str(page.params["text"]))
    assert len(pages) > 1
    sender = chat.app.bot_data["sender"]
    for _ in range(100):  # the JobQueue drains too; whichever sends it first
        if (21, headline[:20]) in {(c, t[:20]) for c, t in delivered(chat.api)}:
            break
        await sender.drain()
        await asyncio.sleep(0.01)
    (delivery,) = [
        str(c.params["text"])
        for c in chat.api.sent("sendMessage")
        if c.params["chat_id"] == 21 and str(c.params["text"]).startswith(texts.NEW_ARTICLE)
    ]
    for text in [*texts_sent, *pages, delivery]:
        telegram_html.assert_valid(text)  # <= 4096 UTF-16 units, valid HTML, not empty
        assert text.strip("…\n ") and "Harbour festival" in text
    for text in (str(card.params["text"]), delivery):
        assert "drew 🚢🌊 crowds" in text  # the summary is there, not just "…"


URL = "https://example.org/harbour-festival"
