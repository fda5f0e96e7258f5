"""Quotations over several sentences: which sentence is inside one, and how it reads alone."""

from __future__ import annotations

import pytest

from bot.quotes import follow, shown_alone, speaker_known, words_outside

# The sample page's ambassador: four sentences of one quotation, the speaker after the last.
AMBASSADOR = [
    "The embassy marked the anniversary on Monday.",
    "“Armenia for almost 30 years kept under occupation almost 20 per cent of my country’s"
    " territory.",
    "The occupation was accompanied by notorious war crimes.",
    "Armenia committed the Khojaly genocide in February 1992, killing hundreds of civilians.",
    "1275 Azerbaijanis were taken hostage” Ambassador Farhadov shared.",
]


def shown(sentences: list[str], i: int, *others: int, paragraphs: list[int] | None = None) -> str:
    quotings = follow(sentences, paragraphs or [0] * len(sentences))
    return shown_alone(sentences, quotings, i, frozenset({i, *others}))


def test_a_sentence_inside_a_quotation_keeps_its_marks_and_speaker() -> None:
    assert shown(AMBASSADOR, 3) == (
        "“Armenia committed the Khojaly genocide in February 1992, killing hundreds of"
        " civilians,” Ambassador Farhadov shared."
    )


def test_the_quotation_is_followed_from_its_opening_to_its_closing_sentence() -> None:
    quotings = follow(AMBASSADOR, [0] * 5)
    assert [(q.starts_inside, q.ends_inside) for q in quotings] == [
        (False, False),
        (False, True),
        (True, True),
        (True, True),
        (True, False),
    ]
    assert {(q.start, q.end) for q in quotings[1:]} == {(1, 4)}
    assert speaker_known(quotings, 2)


def test_a_quotation_shown_with_its_speakers_sentence_gets_only_its_missing_marks() -> None:
    assert shown(AMBASSADOR, 3, 4) == (
        "“Armenia committed the Khojaly genocide in February 1992, killing hundreds of civilians.”"
    )
    assert (
        shown(AMBASSADOR, 4) == "“1275 Azerbaijanis were taken hostage” Ambassador Farhadov shared."
    )


def test_a_speaker_named_before_the_quotation_goes_with_its_later_sentences() -> None:
    sentences = ['Benitez said: "It was difficult for Jerzy.', "It was an unlucky moment."]
    assert shown(sentences, 1) == 'Benitez said: "It was an unlucky moment."'
    assert shown(sentences, 0) == 'Benitez said: "It was difficult for Jerzy."'
    assert shown(sentences, 1, 0) == '"It was an unlucky moment."'


def test_a_long_speaker_clause_is_cut_to_the_speaker() -> None:
    sentences = [
        "Atletico hope that the deal may give them some leverage in the talks with the player's"
        " agents this summer, but Luis said: ‘I’m happy at Chelsea.",
        "I want to stay at the club until the end of my contract.’",
    ]
    assert shown(sentences, 1) == (
        "Luis said: ‘I want to stay at the club until the end of my contract.’"
    )


@pytest.mark.parametrize(
    ("sentences", "expected"),
    [
        # Daily Mail style single quotes, apostrophes inside.
        (
            ["'I'm happy to be part of the team.", "I am fit and ready to run,' said Bolt."],
            "'I'm happy to be part of the team,' said Bolt.",
        ),
        (
            ["« Nous serons prêts.", "Nous le sommes déjà », a déclaré la ministre."],
            "« Nous serons prêts », a déclaré la ministre.",
        ),
        (
            ["„Wir sind bereit.", "Wir waren es immer“, sagte die Sprecherin."],
            "„Wir sind bereit“, sagte die Sprecherin.",
        ),
    ],
)
def test_single_quotes_guillemets_and_german_quotes_are_followed(
    sentences: list[str], expected: str
) -> None:
    assert shown(sentences, 0) == expected


def test_apostrophes_are_not_quotation_marks() -> None:
    sentences = [
        "The players' union said it didn't expect a deal before '90s rules end.",
        "Talks resume on Monday.",
    ]
    assert not any(q.inside for q in follow(sentences, [0, 0]))


def test_a_paragraph_and_a_sentence_opening_with_a_mark_start_outside_any_quotation() -> None:
    sentences = ['He said: "We are ready.', '"We will win," he added.', "Then he left."]
    quotings = follow(sentences, [0, 1, 1])
    assert not quotings[1].starts_inside and not quotings[2].starts_inside
    assert follow(sentences, [0, 0, 0])[1].starts_inside is False


def test_a_quotation_nobody_is_named_for_has_no_known_speaker() -> None:
    sentences = ['"We are ready.', 'We have trained all year."', "The match is on Sunday."]
    quotings = follow(sentences, [0, 0, 0])
    assert not speaker_known(quotings, 0)
    assert shown(sentences, 1) == '"We have trained all year."'


def test_words_outside_the_quotation_marks_are_counted() -> None:
    assert words_outside('"We will win this seat."') == 0
    assert words_outside('"Bloqué" sur Twitter, un journaliste a porté plainte.') == 7
