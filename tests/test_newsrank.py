"""The news method's rules: what a reader should not see, and how sentences are chosen."""

from __future__ import annotations

import pytest

from bot.newsrank import Candidate, Weights, choose, close_quotes, dateline_free, unreadable


def candidate(index: int, text: str, *, rank: float = 0.5, stems: str = "") -> Candidate:
    words = len(text.split())
    return Candidate(
        index=index,
        text=text,
        stems=frozenset((stems or text.lower().strip(".")).split()),
        words=words,
        rank=rank,
        problem=unreadable(text, words),
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("He agreed to it.", "short"),
        ("Photo: the minister arrives at the summit in Brussels on Monday.", "caption"),
        ("The minister arrives at the summit in Brussels (Getty Images) on Monday.", "caption"),
        ("Read more about the summit and the talks on our politics page.", "call to action"),
        ("Follow us on Twitter for the latest news from the summit.", "call to action"),
        ("Scroll down for video A mother was holding the boy when he slipped.", "call to action"),
        ("Click the links below to see more pictures of the summit.", "call to action"),
        ("By Jane Smith, political correspondent in our London newsroom", "byline"),
        ('"We will not give up on the talks, whatever happens next week.', "open quote"),
        ("“We will win this seat and the next one,” she told the party.”", "open quote"),
        ('"We will win this seat and the next one in the spring."', "orphan quote"),
    ],
)
def test_what_a_reader_should_not_see_is_named(text: str, reason: str) -> None:
    assert unreadable(text, len(text.split())) == reason


@pytest.mark.parametrize(
    "text",
    [
        "The minister arrived at the summit in Brussels on Monday morning.",
        '"We will win this seat and the next one," she told the party conference.',
        "“It is a good day for the town,” said the mayor after the vote.",
        "By the end of the week the talks had collapsed without a deal.",
        "By Monday, the talks had collapsed and everyone went home.",
        "The photo agency said it had sold more prints than ever before.",
        "„Wir haben lange auf diese Entscheidung gewartet“, sagte die Sprecherin.",
        "« Nous attendions cette décision », a déclaré la présidente des riverains.",
    ],
)
def test_ordinary_and_attributed_sentences_are_readable(text: str) -> None:
    assert unreadable(text, len(text.split())) is None


@pytest.mark.parametrize(
    ("text", "closed"),
    [
        ('He said: "We are ready for the match.', 'He said: "We are ready for the match."'),
        ('It is time to vote," he added.', '"It is time to vote," he added.'),
        (
            '"It is hard," he said, "but we will manage.',
            '"It is hard," he said, "but we will manage."',
        ),
        ("Smith said “we will win this seat.", "Smith said “we will win this seat.”"),
        ("It will be hard,” she told reporters.", "“It will be hard,” she told reporters."),
    ],
)
def test_a_quote_cut_by_the_sentence_split_is_closed_when_the_speaker_is_named(
    text: str, closed: str
) -> None:
    assert close_quotes(text) == closed
    assert unreadable(closed, 6) is None


@pytest.mark.parametrize(
    "text",
    [
        '"We will not give up on the talks, whatever happens.',  # nobody says it
        '"We are ready," he said after the match.',  # nothing open
        "The match starts at three o'clock on Saturday.",
    ],
)
def test_a_quote_without_a_speaker_or_already_closed_is_left_alone(text: str) -> None:
    assert close_quotes(text) == text


def test_a_wire_dateline_is_dropped_from_the_sentence() -> None:
    assert (
        dateline_free("LONDON (Reuters) - Shares rose sharply on Monday after the bank's report.")
        == "Shares rose sharply on Monday after the bank's report."
    )
    assert (
        dateline_free("WASHINGTON, Jan. 5 (AP) — The Senate passed the bill late on Tuesday night.")
        == "The Senate passed the bill late on Tuesday night."
    )
    assert (
        dateline_free("(CNN)One of the biggest TV events of all time is being reimagined.")
        == "One of the biggest TV events of all time is being reimagined."
    )
    assert (
        dateline_free("Rome (CNN)Italy is coping with a rising wave of desperate migrants.")
        == "Italy is coping with a rising wave of desperate migrants."
    )
    plain = "The Senate passed the bill late on Tuesday night after a long debate."
    assert dateline_free(plain) == plain
    assert dateline_free("UK - France") == "UK - France"  # nothing left to keep: not a dateline


def test_choice_is_in_document_order_and_skips_unreadable_sentences() -> None:
    pool = [
        candidate(0, "The council approved the new bridge over the river on Monday.", rank=0.4),
        candidate(1, "Photo: the bridge as it will look when it opens next year.", rank=1.0),
        candidate(2, "Work starts in spring and should take about two years to finish.", rank=0.9),
        candidate(3, "Residents had asked for a crossing for more than a decade.", rank=0.8),
    ]
    chosen = choose(pool, frozenset({"bridge", "council"}), 2)
    assert [c.index for c in chosen] == sorted(c.index for c in chosen)
    assert all(c.index != 1 for c in chosen)
    assert len(chosen) == 2


def test_headline_coverage_counts_only_words_not_yet_covered() -> None:
    weights = Weights(rank=0, lead=0, position=0, headline=1, length=0)
    headline = frozenset({"bridge", "council", "vote"})
    pool = [
        candidate(0, "a long sentence about nothing much at all today", stems="x"),
        candidate(1, "bridge council a sentence with two headline words", stems="bridge council"),
        candidate(2, "bridge council again the same two headline words", stems="bridge council b"),
        candidate(3, "the vote was close and the result surprised many", stems="vote y"),
    ]
    chosen = choose(pool, headline, 2, weights)
    # The second pick adds "vote", not a repeat of words already covered.
    assert [c.index for c in chosen] == [1, 3]


def test_near_duplicates_are_never_both_chosen() -> None:
    weights = Weights(rank=1, lead=0, position=0, headline=0, length=0)
    text = "The council approved the new bridge over the river on Monday."
    pool = [
        candidate(0, text, rank=1.0),
        candidate(1, text.replace("Monday", "Tuesday"), rank=0.9),
        candidate(2, "Work starts in spring and should take two years to finish.", rank=0.1),
    ]
    assert [c.index for c in choose(pool, frozenset(), 2, weights)] == [0, 2]


def test_too_few_readable_sentences_are_made_up_from_the_earliest_others() -> None:
    pool = [
        candidate(0, "Short one.", rank=0.1),
        candidate(1, "The council approved the new bridge over the river on Monday.", rank=0.5),
        candidate(2, "Another fragment.", rank=0.9),
    ]
    chosen = choose(pool, frozenset(), 2)
    assert [c.index for c in chosen] == [0, 1]
