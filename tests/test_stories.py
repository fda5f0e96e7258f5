"""When two articles are one story: the same page, or the same text with a few changes."""

from __future__ import annotations

import random

import pytest

from bot.stories import BANDS, bands, same_text, shingles, url_key

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


def test_look_alike_texts_share_band_keys_and_others_do_not() -> None:
    edited = WIRE.replace("Monday evening", "Monday night")
    weather = (
        "Snow fell early in the hills this year, and farmers brought their sheep down from the"
        " high pastures a week sooner than usual, the weather service said on Friday, and the"
        " roads over the passes were closed until the ploughs could clear them."
    )
    own = bands(shingles(WIRE))
    assert len(own) == BANDS and all(0 <= k < 2**63 for k in own)
    assert set(own) & set(bands(shingles(edited)))
    assert not set(own) & set(bands(shingles(weather)))
    assert bands(shingles(WIRE)) == own  # stable: crc32 and fixed seeds, not hash()
    assert bands(shingles("Shares in Acme rose 3 %.")) == []  # too short to be compared


_VOCABULARY = [f"w{n}" for n in range(5000)]


def _pair(rng: random.Random, share: float) -> tuple[frozenset, frozenset]:  # type: ignore[type-arg]
    """Two texts of SAMPLE_WORDS words, the second's first `share` of words the first's."""
    a = [rng.choice(_VOCABULARY) for _ in range(250)]
    b = [rng.choice(_VOCABULARY) for _ in range(250)]
    kept = int(250 * share)
    return shingles(" ".join(a)), shingles(" ".join(a[:kept] + b[kept:]))


def test_the_s_curve_proposes_near_duplicates_and_rarely_strangers() -> None:
    """Pairs same_text accepts (60 % of the triples shared: Jaccard 0.43) are candidates with
    probability 0.9986 (BANDS = 32 of 2 rows); unrelated texts almost never are."""
    rng = random.Random(16)
    found = 0
    for _ in range(200):
        a, b = _pair(rng, 0.62)
        assert same_text(a, b)
        found += bool(set(bands(a)) & set(bands(b)))
    assert found >= 196
    strangers = sum(
        bool(set(bands(a)) & set(bands(b))) for a, b in (_pair(rng, 0) for _ in range(200))
    )
    assert strangers == 0
