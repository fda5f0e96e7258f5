from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.articles import Article, Block
from bot.chat import render, texts
from bot.chat.i18n import translator
from bot.news import Entry, Page
from bot.store import MARK_END, MARK_START, Hit, SearchResult, StoredArticle

from . import telegram_html
from .fake_bot_api import telegram_html_problems

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

EN = translator("en")


def stored(*blocks: Block, title: str = "Title", article_id: int = 1) -> StoredArticle:
    article = Article(title=title, blocks=blocks, source="s.txt", published=NOW)
    return StoredArticle(article_id, article, NOW, NOW)


def all_callback_data(reply: render.Reply) -> list[str]:
    assert reply.keyboard is not None
    return [b.callback_data for row in reply.keyboard.inline_keyboard for b in row]  # type: ignore[misc]


def test_callback_data_stays_under_64_bytes_at_the_largest_ids() -> None:
    huge = 10**18 - 1
    card = render.article_card(
        EN, stored(Block("x."), article_id=huge), ["x."], sentences=17, more=True
    )
    page = render.full_text_page(EN, stored(Block("x."), article_id=huge), 0, summary_sentences=3)
    hits = SearchResult((Hit(huge, "t", "s", NOW, None, "s.txt", 1.0),), total=10**9, relaxed=False)
    search = render.search_page(EN, hits, "q", huge, 10**8, 5)
    for reply in (card, page, search):
        assert all(len(str(d).encode()) <= 64 for d in all_callback_data(reply))
    with pytest.raises(ValueError, match="over 64 bytes"):
        render.button("x", "x" * 65)


def test_a_search_of_the_newest_articles_only_says_so_found_or_not() -> None:
    hit = Hit(7, "<t>", "s", NOW, None, "s.txt", 1.0)
    for result in (
        SearchResult((hit,), 1, searched=300_000),
        SearchResult((), 0, searched=300_000),
    ):
        reply = render.search_page(EN, result, '"the <government>"', 1, 0, 5)
        telegram_html.assert_valid(reply.text)
        assert "only the newest 300000 articles or so were searched" in reply.text
        assert "&lt;government&gt;" in reply.text
    whole = render.search_page(EN, SearchResult((hit,), 1), "q", 1, 0, 5)
    assert "newest" not in whole.text


def test_a_long_summary_is_cut_between_sentences_under_4096() -> None:
    summary = [f"Sentence {i} " + "word " * 60 + "." for i in range(20)]
    reply = render.article_card(EN, stored(Block("x.")), summary, sentences=20, more=False)
    telegram_html.assert_valid(reply.text)
    assert reply.text.count("\n• ") < 20
    assert "\n…\n" in reply.text


def test_full_text_cuts_at_paragraphs_then_sentences_then_words() -> None:
    giant_sentence = "word " * 2000  # no full stop in 10,000 characters
    sentences = " ".join(f"Sentence {i} is here & there." for i in range(400))
    article = stored(
        Block("Short opening paragraph."),
        Block("A heading", heading=True),
        Block(sentences),
        Block(giant_sentence.strip()),
    )
    pages = render.full_text_pages(article)
    assert len(pages) >= 4
    for i, body in enumerate(pages):
        reply = render.full_text_page(EN, article, i, summary_sentences=3)
        telegram_html.assert_valid(reply.text)
        assert body in reply.text
    text = " ".join(pages)
    assert "Sentence 399 is here &amp; there." in text
    # Sentence pieces end at a sentence end, word pieces at a word.
    sentence_pages = [p for p in pages if "Sentence" in p]
    assert all(p.rstrip().endswith(".") for p in sentence_pages[:-1])
    assert all(not p.endswith("wor") for p in pages)


def test_words_are_never_cut_inside_an_entity() -> None:
    text = ("x&y " * 3000).strip()
    pages = render.full_text_pages(stored(Block(text)))
    for page in pages:
        assert not telegram_html_problems(page), page[-20:]


def test_snippet_matches_are_bold_and_the_rest_escaped() -> None:
    snippet = f"a <tag> & {MARK_START}match{MARK_END} end"
    assert render.marked_snippet(snippet) == "a &lt;tag&gt; &amp; <b>match</b> end"


def test_latest_page_without_articles_says_so() -> None:
    reply = render.latest_page(EN, Page((), 0, 0), 5)
    assert reply.keyboard is None
    assert "no articles yet" in reply.text


def test_latest_page_numbers_continue_across_pages() -> None:
    entries = tuple(Entry(i, f"Story {i}", NOW, "Line.") for i in (6, 7))
    reply = render.latest_page(EN, Page(entries, 5, 7), 5)
    assert "6. <b>Story 6</b>" in reply.text and "7. <b>Story 7</b>" in reply.text
    assert all_callback_data(reply) == ["rd:6:0", "rd:7:0", "lt:0:5"]


def test_fit_never_returns_more_than_4096_characters() -> None:
    text = "\n".join("<b>line</b> " + "x" * 100 for _ in range(100))
    cut = render.fit(text)
    assert len(cut) <= 4096 and cut.endswith("…")
    telegram_html.assert_valid(cut)


def test_plain_text_for_the_terminal() -> None:
    assert render.plain('<b>A &amp; B</b> <a href="x">Source</a>') == "A & B Source"


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


EMOJI_PARAGRAPH = " ".join(f"Fans 🎉🎉 cheered 🚢🌊 the ship {i} home." for i in range(60))


def test_message_length_is_counted_in_utf16_units_as_telegram_does() -> None:
    assert render.units("a🎉é") == 4
    cut = render.fit("\n".join("🎉" * 100 for _ in range(40)))  # 4,000 characters, 8,039 units
    assert utf16(cut) <= 4096 and cut.endswith("…")


def test_full_text_pages_of_emoji_heavy_text_fit_in_utf16_units() -> None:
    article = stored(*(Block(EMOJI_PARAGRAPH) for _ in range(6)), title="🎉" * 150)
    pages = render.full_text_pages(article)
    assert len(pages) > 1
    for i in range(len(pages)):
        reply = render.full_text_page(EN, article, i, summary_sentences=3)
        telegram_html.assert_valid(reply.text)
    # A paragraph of emoji only, with no space to cut at, is cut between them, never inside one.
    wall = render.full_text_pages(stored(Block("🎉" * 5000)))
    assert "".join(wall) == "🎉" * 5000 and all(utf16(p) <= 4096 for p in wall)


def test_a_huge_title_is_shortened_and_the_card_keeps_its_summary() -> None:
    article = stored(Block("Body."), title="Harbour " * 800)  # 6,400 characters
    summary = ["The harbour 🎉 reopened. " * 20, "Boats 🚢 are back."]
    card = render.article_card(EN, article, summary, sentences=2, more=False)
    delivery = render.delivery_message(EN, article, summary)
    shared = render.share_text(EN, article, summary)
    for text in (card.text, delivery.text, shared):
        telegram_html.assert_valid(text)
        assert "Boats 🚢 are back." in text
    headline = card.text.split("<b>", 1)[1].split("</b>", 1)[0]
    assert len(headline) <= render.MAX_TITLE and headline.endswith("…")
    assert delivery.text.startswith(texts.NEW_ARTICLE + "<b>Harbour")


def test_a_line_too_long_for_any_message_is_cut_as_plain_text_not_dropped() -> None:
    cut = render.fit("<b>" + "word " * 2000 + "</b>\nsecond line")
    telegram_html.assert_valid(cut)
    assert cut.startswith("word word") and cut.strip("…\n ")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "http://",
        "https://exa mple.org/",
        "java\tscript:alert(1)",
        "ftp://example.org/x",
    ],
)
def test_only_http_and_https_addresses_become_links(url: str) -> None:
    article = Article(title="T", blocks=(Block("x."),), source="s.txt", published=NOW, url=url)
    item = StoredArticle(1, article, NOW, NOW)
    others = [(2, "Other", url, "o.txt")]
    texts_shown = [
        render.article_card(EN, item, ["x."], sentences=1, more=False, others=others).text,
        render.delivery_message(EN, item, ["x."]).text,
        render.share_text(EN, item, ["x."]),
    ]
    for text in texts_shown:
        telegram_html.assert_valid(text)
        assert "<a " not in text
    assert "/read 2" in texts_shown[0]  # the other source, without its link


def test_http_and_https_addresses_are_links_with_their_site_named() -> None:
    article = Article(
        title="T",
        blocks=(Block("x."),),
        source="s.txt",
        published=NOW,
        url="HTTPS://a.org/x?b=1&c=2",
    )
    others = [(2, "Other", "http://www.b.org/y", "o.txt")]
    card = render.article_card(
        EN, StoredArticle(1, article, NOW, NOW), ["x."], sentences=1, more=False, others=others
    )
    assert '<a href="HTTPS://a.org/x?b=1&amp;c=2">Source</a>' in card.text
    assert '<a href="http://www.b.org/y">b.org</a>' in card.text


def test_an_articles_picture_is_the_preview_never_the_text() -> None:
    picture = "https://img.example.org/a.jpg?w=1&h=2"
    article = Article(
        title="T", blocks=(Block("x."),), source="s.txt", published=NOW, image=picture
    )
    item = StoredArticle(1, article, NOW, NOW)
    for reply in (
        render.article_card(EN, item, ["x."], sentences=1, more=False, pictures=True),
        render.delivery_message(EN, item, ["x."], pictures=True),
    ):
        assert reply.preview is not None
        assert reply.preview.to_dict() == {
            "is_disabled": False,
            "url": picture,
            "prefer_large_media": True,
            "show_above_text": True,
        }
        assert "img.example.org" not in reply.text
    assert render.article_card(EN, item, ["x."], sentences=1, more=False).preview is None
    assert render.delivery_message(EN, item, ["x."]).preview is None
    assert render.full_text_page(EN, item, 0, summary_sentences=3).preview is None


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", "data:image/png;base64,AA"])
def test_an_article_without_a_usable_picture_has_no_preview(url: str | None) -> None:
    article = Article(title="T", blocks=(Block("x."),), source="s.txt", published=NOW, image=url)
    card = render.article_card(
        EN, StoredArticle(1, article, NOW, NOW), ["x."], sentences=1, more=False, pictures=True
    )
    assert card.preview is None
