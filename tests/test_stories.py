"""When two articles are one story: the same page, or the same text with a few changes."""

from __future__ import annotations

import pytest

from bot.stories import same_text, shingles, sketch, url_key

WIRE = (
    "The town council approved a second bridge over the river on Monday evening after a"
    " debate that ran past midnight. The crossing will link the station with the new housing"
    " on the east bank. Councillors voted 21 to 9 for the plan, which had been delayed twice"
    " by arguments over its cost. Building work is expected to start in the spring and to"
    " take about two years, the council said in a statement."
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://www.site.org/news/bridge/", "http://site.org/news/bridge"),
        (
            "https://site.org/news/bridge?utm_source=rss&utm_medium=feed",
            "https://site.org/news/bridge",
        ),
        ("https://site.org/news/bridge#comments", "https://SITE.org/news/bridge"),
        ("https://site.org/a?id=2&fbclid=x", "https://site.org/a?id=2"),
    ],
)
def test_urls_naming_the_same_page_have_one_key(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


def test_different_pages_have_different_keys() -> None:
    assert url_key("https://site.org/a?id=2") != url_key("https://site.org/a?id=3")
    assert url_key("https://site.org/a") != url_key("https://other.org/a")
    assert url_key(None) is None and url_key("not a url") is None


def test_a_wire_story_run_by_another_site_with_changes_is_the_same_text() -> None:
    edited = WIRE.replace("Monday evening", "Monday night").replace(
        "the council said in a statement.", "a spokesman said."
    )
    assert same_text(
        shingles("Council backs bridge. " + WIRE), shingles("Bridge approved. " + edited)
    )


def test_another_story_on_the_same_topic_is_not() -> None:
    other = (
        "Residents of the east bank say a second bridge over the river is long overdue. Many"
        " of them cross on the ferry every morning and wait in long queues in the rain. The"
        " residents' association has collected thousands of signatures since the spring and"
        " plans to hand them to the council before the next meeting."
    )
    assert not same_text(shingles(WIRE), shingles(other))


def test_short_briefs_are_not_compared() -> None:
    assert not same_text(shingles("Shares in Acme rose 3 %."), shingles("Shares in Acme rose 3 %."))


def test_look_alike_texts_share_their_sketch_and_others_do_not() -> None:
    edited = WIRE.replace("Monday evening", "Monday night")
    weather = (
        "Snow fell early in the hills this year, and farmers brought their sheep down from the"
        " high pastures a week sooner than usual, the weather service said on Friday."
    )
    own = set(sketch(shingles(WIRE)))
    assert len(own) == 16
    assert len(own & set(sketch(shingles(edited)))) >= 8
    assert not own & set(sketch(shingles(weather)))
    assert sketch(shingles(WIRE)) == sketch(shingles(WIRE))  # stable: crc32, not hash()
