from __future__ import annotations

import itertools

from bot.articles import Block
from bot.summarize import tools
from bot.window import window


def numbered(count: int) -> list[Block]:
    return [Block(f"Sentence number {i} talks about the river and the town.") for i in range(count)]


def rated(blocks: list[Block], limit: int) -> list[int]:
    """The numbers of the sentences rated."""
    parts = window(blocks, tools("english").tokenizer.to_sentences, limit)
    return [int(s.split()[2]) for heading, texts in parts if not heading for s in texts]


def test_a_long_articles_rated_sentences_are_its_lede_and_an_even_sample() -> None:
    numbers = rated(numbered(1000), 100)
    assert len(numbers) == 100
    assert numbers[:50] == list(range(50))  # the lede, always
    sample = numbers[50:]
    assert sample == sorted(sample)
    assert sample[0] < 100 and sample[-1] > 900  # spread over the whole rest
    assert max(b - a for a, b in itertools.pairwise(sample)) <= 2 * 950 / len(sample)


def test_a_long_single_paragraph_is_sampled_throughout_in_whole_sentences() -> None:
    text = " ".join(f"Sentence number {i} talks about the river and the town." for i in range(5000))
    parts = window([Block(text)], tools("english").tokenizer.to_sentences, 100)
    sentences = [s for _, texts in parts for s in texts]
    assert len(sentences) <= 100
    assert all(s.startswith("Sentence number") and s.endswith("town.") for s in sentences)
    numbers = [int(s.split()[2]) for s in sentences]
    assert numbers[:50] == list(range(50))
    assert numbers == sorted(numbers)
    assert numbers[-1] > 4500


def test_an_article_within_the_window_is_rated_whole() -> None:
    assert rated(numbered(100), 100) == list(range(100))


def test_headings_among_the_lede_are_kept_and_sentences_are_rated_once() -> None:
    blocks = [Block("First part", heading=True), *numbered(60), Block("Later", heading=True)]
    blocks += [*numbered(60), *numbered(200)[60:]]
    parts = window(blocks, tools("english").tokenizer.to_sentences, 20)
    assert parts[0] == (True, ["First part"])
    sentences = [s for heading, texts in parts if not heading for s in texts]
    assert len(sentences) == len(set(sentences)) <= 20
