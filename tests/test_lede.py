"""The lede method's rules: the story's order, with what fails a reader passed over."""

from __future__ import annotations

import pytest

from bot.lede import choose, leans_on_previous, page_asides_free, unreadable
from bot.newsrank import Candidate
from bot.quotes import follow

LEAD = "The council approved a new bridge over the river on Monday evening."
WORK = "Building work will start in the spring and take about two years to finish."
FERRY = "The old ferry will stop running once the new bridge opens to traffic."
COST = "The crossing will cost the town about four million pounds, paid over ten years."


def candidates(*texts: str) -> list[Candidate]:
    result = []
    for i, text in enumerate(texts):
        words = len(text.split())
        stems = frozenset(w.strip('.,:;"“”!?').lower() for w in text.split()) - STOP
        result.append(Candidate(i, text, stems, words, 0.0, unreadable(text, words)))
    return result


STOP = frozenset(
    {"the", "a", "on", "over", "in", "and", "to", "of", "it", "will", "for", "was", "by", "he"}
    | {"said", ""}
)


def pick(*texts: str, count: int = 3, paragraphs: list[int] | None = None) -> list[str]:
    cs = candidates(*texts)
    quotings = follow([c.text for c in cs], paragraphs or list(range(len(cs))))
    return [texts[i] for i in choose(cs, quotings, count)]


def test_the_lead_and_the_sentences_after_it_in_the_storys_order() -> None:
    assert pick(LEAD, WORK, FERRY, COST) == [LEAD, WORK, FERRY]


@pytest.mark.parametrize(
    "page_line",
    [
        "Scroll down for video A mother was holding the boy when he slipped into the pit.",
        "Click the links below to see more pictures of the bridge and the river.",
        "Photo: the bridge as the architects drew it for the planning meeting.",
        "The boy was rescued by his parents before firefighters arrived at the zoo .",
        "said the giant winger after the match on Saturday.",
        "By Jane Smith, political correspondent",
        "It was.",
    ],
)
def test_captions_page_lines_bylines_and_fragments_are_never_taken(page_line: str) -> None:
    assert page_line not in pick(LEAD, page_line, WORK, FERRY)


def test_a_lead_that_is_no_sentence_of_the_story_gives_way_to_the_next() -> None:
    caption = "Kevin Rebbie, 56, was arrested after a girl found a hidden camera ."
    assert pick(caption, LEAD, WORK, FERRY) == [LEAD, WORK, FERRY]


def test_a_sentence_that_repeats_the_lead_is_passed_over() -> None:
    again = "A new bridge over the river was approved by the council on Monday evening."
    assert pick(LEAD, again, WORK, FERRY) == [LEAD, WORK, FERRY]


def test_a_sentence_that_brings_a_new_number_is_no_repetition() -> None:
    again = "The council approved the new bridge over the river by 12 votes."
    assert pick(LEAD, again, WORK) == [LEAD, again, WORK]


def test_a_short_sentence_of_names_is_no_repetition() -> None:
    short = "The council was split."
    assert pick(LEAD, short, WORK) == [LEAD, short, WORK]


def test_a_sentence_leaning_on_one_not_shown_is_not_taken() -> None:
    orphan_quote = '"We are ready."'
    he = "He said it would open in 2027."
    assert pick(LEAD, orphan_quote, he, WORK, count=2) == [LEAD, WORK]


def test_a_leaning_sentence_follows_a_caption_between_it_and_its_subject() -> None:
    caption = "The old bridge at dawn (pictured) in a photo taken last year ."
    he = "It will open to traffic in the spring of 2027, the council said."
    assert pick(LEAD, caption, he, WORK) == [LEAD, he, WORK]


def test_a_leaning_sentence_never_opens_a_summary() -> None:
    caption = "The old bridge at dawn in a photo taken last year ."
    however = "However, the council approved a new bridge over the river on Monday."
    assert pick(caption, however, WORK, FERRY, count=2) == [WORK, FERRY]


def test_a_quotation_is_taken_only_with_its_speaker() -> None:
    nobody = '"We have waited for this crossing for more than twenty years.'
    rest = 'Now it is finally happening and we are delighted."'
    assert pick(LEAD, nobody, rest, WORK, FERRY, paragraphs=[0, 1, 1, 2, 3]) == [
        LEAD,
        WORK,
        FERRY,
    ]
    speaker = 'The mayor said: "We have waited for this crossing for more than twenty years.'
    assert pick(LEAD, speaker, rest, WORK, paragraphs=[0, 1, 1, 2]) == [LEAD, speaker, rest]


def test_a_quote_continuing_the_one_before_needs_that_sentence() -> None:
    said = '"It is a great day for the town," said the mayor after the vote.'
    more = '"We have waited for this crossing for more than twenty years."'
    assert pick(LEAD, said, more) == [LEAD, said, more]
    repeated = '"The council approved a new bridge over the river on Monday," he said.'
    assert pick(LEAD, repeated, more, WORK, count=2) == [LEAD, WORK]


def test_too_few_readable_sentences_are_made_up_by_sumys_rating() -> None:
    texts = (LEAD, "Photo: the new bridge .", "Photo: the old ferry .", "Photo: the river .")
    cs = candidates(*texts)
    quotings = follow(list(texts), [0, 1, 2, 3])
    asked = []

    def ratings() -> list[float]:
        asked.append(True)
        return [0.5, 0.1, 0.9, 0.2]

    assert choose(cs, quotings, 2, ratings=ratings) == [0, 2]
    assert asked
    asked.clear()
    assert choose(cs, quotings, 1, ratings=ratings) == [0]
    assert not asked  # the story's order sufficed: sumy was not asked


@pytest.mark.parametrize(
    ("text", "leans"),
    [
        ("He added that the bridge would open in 2027.", True),
        ("However, the vote was close.", True),
        ("The move angered residents on the east bank.", True),
        ("Il a ajouté que le pont ouvrirait en 2027.", True),
        ("Mais le vote a été serré.", True),
        ("The council voted on Monday.", False),
        ("Hebden Bridge residents welcomed the news.", False),
    ],
)
def test_sentences_that_lean_on_the_one_before(text: str, leans: bool) -> None:
    assert leans_on_previous(text) is leans


def test_asides_about_the_pages_pictures_are_cut() -> None:
    assert page_asides_free("Raheem Sterling (pictured) was exposed on Monday.") == (
        "Raheem Sterling was exposed on Monday."
    )
    assert page_asides_free("Stephen Munden (pictured with and without a beard) was seen.") == (
        "Stephen Munden was seen."
    )
    assert page_asides_free("Kluivert (far right) worked with Van Gaal (centre) in 2014.") == (
        "Kluivert worked with Van Gaal in 2014."
    )
