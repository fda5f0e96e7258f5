from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import Settings
from bot.news import MAX_SENTENCES, QUERY_DAYS, Indexing, IndexStopped, News, Pick
from bot.store import Store
from bot.summary_pool import SummaryPool

from .conftest import SAMPLE_PAGE, HeldIndex, WriteFile


@pytest.fixture
def news(settings: Settings, store: Store, write: WriteFile) -> Iterator[News]:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    service = News(settings, store)
    asyncio.run(service.reload())
    yield service
    service.summaries.close()


def test_latest_pages_and_clamps_the_offset(news: News) -> None:
    first = news.latest(limit=1)
    assert (len(first.entries), first.offset, first.total) == (1, 0, 2)
    beyond = news.latest(offset=50, limit=5)
    assert beyond.offset == 1 and len(beyond.entries) == 1


def test_an_entry_line_is_the_first_summary_sentence(news: News) -> None:
    entry = news.latest(limit=5).entries[-1]
    stored = news.get(entry.id)
    assert stored is not None
    assert entry.line == news.cached_summary(stored)[0]


def test_a_new_summary_length_is_made_once_then_cached(
    news: News, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = news.get(news.latest(limit=5).entries[-1].id)
    assert stored is not None
    calls = []
    real = news.summaries.summarize

    async def counting(*job: Any) -> tuple[list[str], bool]:
        calls.append(job)
        return await real(*job)

    monkeypatch.setattr(news.summaries, "summarize", counting)
    five = asyncio.run(news.summary(stored, 5))
    again = asyncio.run(news.summary(stored, 5))
    assert len(five) == 5 and again == five and len(calls) == 1
    assert len(asyncio.run(news.summary(stored, 999))) <= MAX_SENTENCES


def test_queries_get_short_stable_ids(news: News) -> None:
    first = news.remember_query(7, "prime minister")
    assert news.remember_query(7, "prime minister") == first
    assert news.query_text(first, 7) == "prime minister"
    assert news.query_text(first + 1000, 7) is None


def test_a_saved_query_is_found_only_in_the_chat_that_saved_it(news: News) -> None:
    alice = news.remember_query(7, "prime minister")
    bob = news.remember_query(8, "prime minister")
    assert alice != bob
    assert news.query_text(alice, 8) is None and news.query_text(bob, 7) is None
    assert news.query_text(bob, 8) == "prime minister"


def test_read_numbers_are_ids_unless_they_are_a_place_in_the_chats_last_list(
    news: News,
) -> None:
    # Articles 1 and 2 exist (the sample page's two stories).
    assert news.pick(7, 2) == Pick(by_id=2)  # no list shown yet: an id
    news.remember_list(7, [40, 41, 2])
    assert news.pick(7, 2) == Pick(by_id=2)  # shown in the list: that article
    assert news.pick(7, 1) == Pick(by_id=1, by_place=40)  # article 1, or the list's first
    assert news.pick(7, 3) == Pick(by_id=None, by_place=2)  # no article 3: the third
    assert news.pick(7, 4) == Pick(by_id=4)  # past the list: an id (unknown, said later)
    assert news.pick(8, 3) == Pick(by_id=3)  # another chat's list counts for nothing
    news.remember_list(7, [1])
    assert news.pick(7, 3) == Pick(by_id=3)  # the newest list replaces the last


def test_saved_searches_and_lists_unused_for_a_month_are_forgotten(news: News) -> None:
    old_query = news.remember_query(7, "harbour")
    news.remember_list(7, [1, 2])
    news.remember_list(8, [2, 1])
    month = QUERY_DAYS * 86400
    # Nothing is a month old yet.
    assert news.forget_old_queries(time.time()) == 0
    # A month on, chat 8 looks at a list again; the rest is old.
    news.remember_list(8, [1])
    news.store.conn.execute("UPDATE queries SET used_at = used_at - ?", (month + 1,))
    news.store.conn.execute(
        "UPDATE shown_lists SET shown_at = shown_at - ? WHERE chat_id = 7", (month + 1,)
    )
    assert news.forget_old_queries(time.time()) == 2
    assert news.query_text(old_query, 7) is None
    assert news.pick(7, 1) == Pick(by_id=1)  # no list: an id again
    assert news.pick(8, 1) == Pick(by_id=1)  # in chat 8's list, which stays
    assert news.store.shown_list(8) == [1]


async def test_reloads_take_turns(news: News, write: WriteFile) -> None:
    write("more.txt", "Another story\n\nWith a body.\n")
    reports = await asyncio.gather(news.reload(), news.reload())
    assert sorted(r.added for r in reports) == [0, 1]
    assert news.count() == 3


async def test_a_reload_asked_for_while_an_index_runs_waits_for_it(
    settings: Settings, store: Store, write: WriteFile, held_index: HeldIndex
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    news = News(settings, store)
    first = asyncio.ensure_future(news.reload())  # the start-up run, say
    await asyncio.to_thread(held_index.started.wait)
    second = asyncio.ensure_future(news.reload())  # a /reload meanwhile
    await asyncio.sleep(0)  # (let it get as far as it can: the lock)
    assert held_index.runs == 1 and not second.done()
    held_index.release.set()
    reports = [await first, await second]
    assert held_index.runs == 2 and [r.added for r in reports] == [2, 0]


async def test_a_running_index_tells_how_far_it_is_until_it_ends(
    settings: Settings, store: Store, write: WriteFile, held_index: HeldIndex
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    news = News(settings, store)
    assert news.indexing() is None and news.filling() is None
    running = asyncio.ensure_future(news.reload())
    await asyncio.to_thread(held_index.started.wait)
    assert news.indexing() == Indexing("", 0, 0)  # not counted yet
    held_index.progress("read", 3, 10)
    assert news.indexing() == news.filling() == Indexing("read", 3, 10)
    held_index.release.set()
    await running
    assert news.indexing() is None and news.filling() is None and news.count() == 2


async def test_filling_is_told_only_while_the_database_has_no_article(
    news: News, held_index: HeldIndex
) -> None:
    running = asyncio.ensure_future(news.reload())
    await asyncio.to_thread(held_index.started.wait)
    held_index.progress("read", 1, 1)
    assert news.indexing() == Indexing("read", 1, 1)
    assert news.filling() is None  # the chat has articles to show meanwhile
    held_index.release.set()
    await running


async def test_an_index_run_stopped_by_the_bot_stopping_writes_no_article(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    news = News(settings, store)
    news.stop_indexing()
    with pytest.raises(IndexStopped):
        await news.reload()
    assert news.count() == 0 and news.indexing() is None


def test_within_one_update_a_chats_row_is_read_once_and_a_change_read_again(
    news: News, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real = type(news.store).chat

    def counted(self: Any, chat_id: int) -> Any:
        reads.append(chat_id)
        return real(self, chat_id)

    monkeypatch.setattr(type(news.store), "chat", counted)

    async def one_update() -> None:
        news.begin_update()
        assert news.ui_language(5) is None and news.chat_pictures(5) is True
        assert len(reads) == 1
        news.set_ui_language(5, "private", "de")
        news.set_pictures(5, "private", False)
        assert news.ui_language(5) == "de" and news.chat_pictures(5) is False
        assert len(reads) == 2  # read again after the change, once

    async def another_update() -> None:  # (each update is answered in a task of its own)
        news.begin_update()
        assert news.ui_language(5) == "de" and len(reads) == 3

    asyncio.run(one_update())
    asyncio.run(another_update())
    assert news.ui_language(5) == "de" and len(reads) == 4  # outside any update: no memo


def worker_pid(job: tuple[object, object]) -> list[str]:
    return [str(os.getpid())]


def test_a_summary_asked_for_in_chat_is_made_outside_the_bots_process(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    news = News(settings, store, SummaryPool(workers=1, job=worker_pid))
    asyncio.run(news.reload())
    stored = news.get(news.latest(limit=5).entries[-1].id)
    assert stored is not None
    try:
        (pid,) = asyncio.run(news.summary(stored, 7))
    finally:
        news.close()
    assert int(pid) != os.getpid()
