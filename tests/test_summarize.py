from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.summarizers.lex_rank import LexRankSummarizer

from bot import languages, window
from bot import summarize as summarize_module
from bot.articles import Article, Block, read_file
from bot.config import ALGORITHM_NAMES, Boilerplate
from bot.config import SummaryOptions as Options
from bot.summarize import ALGORITHMS, Tokenizer, safe_summarize_job, summarize, tools

from .conftest import SAMPLE_PAGE


@pytest.fixture(scope="module")
def sample(boilerplate: Boilerplate) -> Article:
    parsed = read_file(SAMPLE_PAGE, source="s.txt", boilerplate=boilerplate, max_bytes=2**20)
    return parsed.articles[0]


def numbered(count: int, *, title: str = "Numbered story") -> Article:
    blocks = [
        Block(f"Sentence number {i} talks about the river and the town.") for i in range(count)
    ]
    return Article(title=title, blocks=tuple(blocks), source="n.txt", published=datetime.now(UTC))


def test_registry_offers_every_configured_algorithm() -> None:
    assert set(ALGORITHMS) == set(ALGORITHM_NAMES)


@pytest.mark.parametrize("algorithm", ALGORITHM_NAMES)
def test_summary_is_whole_body_sentences_in_document_order(sample: Article, algorithm: str) -> None:
    result = summarize(sample, Options(algorithm=algorithm, sentences=3))
    assert len(result) == 3
    body = [s for p in sample.paragraphs for s in Tokenizer("english").to_sentences(p)]
    assert all(sentence in body for sentence in result)
    assert [body.index(s) for s in result] == sorted(body.index(s) for s in result)
    assert not set(result) & {sample.title, *sample.headings}


def test_more_sentences_than_the_body_has_gives_the_whole_body(sample: Article) -> None:
    result = summarize(sample, Options(algorithm="lexrank", sentences=50))
    body = [s for p in sample.paragraphs for s in Tokenizer("english").to_sentences(p)]
    assert result == body


def test_lead_is_the_first_sentences(sample: Article) -> None:
    result = summarize(sample, Options(algorithm="lead", sentences=2))
    first_paragraph = Tokenizer("english").to_sentences(sample.paragraphs[0])
    assert result == [first_paragraph[0], sample.paragraphs[1]]


def test_sentence_count_is_configurable(sample: Article) -> None:
    assert len(summarize(sample, Options(algorithm="textrank", sentences=5))) == 5


def test_sentences_split_offline_around_abbreviations() -> None:
    tokenizer = Tokenizer("english")
    text = "Dr. Smith met Mr. Jones in the U.S. on Monday. They talked, e.g. about trade. Done!"
    assert tokenizer.to_sentences(text) == (
        "Dr. Smith met Mr. Jones in the U.S. on Monday.",
        "They talked, e.g. about trade.",
        "Done!",
    )
    assert tokenizer.to_words("Don't stop — 42 re-runs!") == ("Do", "n't", "stop", "re-runs")


def test_other_languages_use_their_own_punkt_model() -> None:
    tokenizer = Tokenizer("german")
    assert tokenizer.to_sentences("Das ist z.B. ein Satz. Und noch einer.") == (
        "Das ist z.B. ein Satz.",
        "Und noch einer.",
    )


def test_summaries_need_no_downloaded_nltk_data() -> None:
    """With NLTK's data path emptied and nltk.download booby-trapped, summaries still work."""
    code = (
        "import nltk\n"
        "nltk.data.path.clear()\n"
        "def boom(*a, **k): raise SystemExit('nltk.download called')\n"
        "nltk.download = boom\n"
        "from datetime import datetime, UTC\n"
        "from bot.articles import Article, Block\n"
        "from bot.summarize import summarize\nfrom bot.config import SummaryOptions as Options\n"
        "a = Article(title='T', blocks=(Block('One is here. Two is there. Three is far. Four.'),),"
        " source='x', published=datetime.now(UTC))\n"
        "for name in ('lexrank', 'lsa', 'textrank', 'luhn', 'sumbasic', 'kl', 'reduction',"
        " 'edmundson', 'lead'):\n"
        "    assert len(summarize(a, Options(algorithm=name, sentences=2))) == 2, name\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_repeated_sentences_are_not_picked_twice() -> None:
    repeated = "The mayor announced a new bridge over the river today."
    article = Article(
        title="Bridge",
        blocks=(
            Block(repeated),
            Block("Work on the bridge starts in May and ends next year."),
            Block(repeated),
            Block("The bridge will carry trams, bicycles and people on foot."),
        ),
        source="b.txt",
        published=datetime.now(UTC),
    )
    for algorithm in ("lexrank", "luhn", "sumbasic"):
        result = summarize(article, Options(algorithm=algorithm, sentences=3))
        assert len(result) == len(set(result)) == 3


def test_kl_gives_way_to_the_fallback_on_long_articles(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_kl(_: object) -> object:
        raise AssertionError("KL-Sum must not run on an article over the cap")

    article = numbered(12)
    expected = summarize(article, Options(algorithm="lexrank"))
    monkeypatch.setitem(ALGORITHMS, "kl", no_kl)
    assert summarize(article, Options(algorithm="kl", kl_max_sentences=10)) == expected
    with pytest.raises(AssertionError, match="must not run"):
        summarize(article, Options(algorithm="kl", kl_max_sentences=12))


@pytest.mark.parametrize("algorithm", ["lede", "news", "lexrank", "reduction", "lsa"])
def test_an_article_within_the_window_is_summarized_as_without_one(
    sample: Article, algorithm: str
) -> None:
    count = sum(len(tools("english").tokenizer.to_sentences(p)) for p in sample.paragraphs)
    windowed = Options(algorithm=algorithm, max_sentences=count)
    unbounded = Options(algorithm=algorithm, max_sentences=10**6)
    assert summarize(sample, windowed) == summarize(sample, unbounded)


def test_a_failing_summarizer_falls_back_to_the_lead(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: object) -> object:
        raise ValueError("matrix is singular")

    monkeypatch.setitem(ALGORITHMS, "lsa", broken)
    article = numbered(6)
    options = Options(algorithm="lsa", sentences=2)
    assert safe_summarize_job((article, options)) == summarize(
        article, replace(options, algorithm="lead")
    )


def test_unknown_article_language_uses_the_configured_one() -> None:
    article = replace(numbered(5), language="klingon")
    assert len(summarize(article, Options(algorithm="lexrank", sentences=2))) == 2


def test_the_news_method_never_repeats_itself() -> None:
    # Five sentences differing in one number: near duplicates of each other. The graph methods
    # return two of them; the news method one, rather than saying the same thing twice.
    assert len(summarize(numbered(5), Options(algorithm="news", sentences=2))) == 1


def test_the_news_method_leads_with_the_story_and_skips_fragments() -> None:
    article = Article(
        title="Council approves new river bridge",
        blocks=(
            Block("The council approved a new bridge over the river on Monday evening."),
            Block("Photo: the bridge as the architects drew it for the planning meeting."),
            Block("Building work will start in the spring and take about two years to finish."),
            Block("It was close."),
            Block('"We have waited for this crossing for more than twenty years.'),
            Block('Now it is happening," said one resident who lives near the old ferry.'),
            Block("The old ferry will stop running once the new bridge opens to traffic."),
        ),
        source="b.txt",
        published=datetime.now(UTC),
    )
    summary = summarize(article, Options(algorithm="news", sentences=3))
    assert summary[0] == "The council approved a new bridge over the river on Monday evening."
    assert len(summary) == 3
    assert not any(
        s.startswith(("Photo:", "It was close", '"We have', "Now it is")) for s in summary
    )


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown algorithm"):
        summarize(numbered(5), Options(algorithm="magic"))


def test_tools_are_built_once_per_language() -> None:
    assert summarize_module.tools("english") is summarize_module.tools("english")


def test_a_huge_paragraph_is_split_only_as_far_as_the_rated_sentences_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One 5 MB paragraph: Punkt on all of it took seconds and tripped nltk's own regular
    # expression time limit; only the text the rated sentences can come from is split.
    split: list[int] = []
    real = Tokenizer.to_sentences

    def measuring(self: Tokenizer, paragraph: str) -> list[str]:
        split.append(len(paragraph))
        return list(real(self, paragraph))

    monkeypatch.setattr(Tokenizer, "to_sentences", measuring)
    huge = " ".join(f"Day {i} of the harbour festival drew crowds." for i in range(110_000))
    article = Article(
        title="Festival", blocks=(Block(huge),), source="h.txt", published=datetime.now(UTC)
    )
    options = Options(algorithm="lead", sentences=2)
    assert summarize(article, options) == [
        "Day 0 of the harbour festival drew crowds.",
        "Day 1 of the harbour festival drew crowds.",
    ]
    # The opening sentences, then the pieces of the rest a sample is taken from.
    opening = options.max_sentences * window.CHARS_PER_SENTENCE
    assert sum(split) <= opening + options.max_sentences // 2 * window.PIECE_CHARS


def test_when_even_the_lead_fails_the_opening_words_stand_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: Tokenizer, paragraph: str) -> list[str]:
        raise TimeoutError("regular-expression match exceeded its 5.0s time limit")

    monkeypatch.setattr(Tokenizer, "to_sentences", broken)
    article = numbered(5)
    result = safe_summarize_job((article, Options(algorithm="news", sentences=3)))
    assert result == [article.paragraphs[0]]


# -- every language, every method -------------------------------------------------------------

STORY = (
    "The council approved a new bridge over the river on Monday evening.",
    "Building work will start in the spring and take about two years to finish.",
    "Residents have asked for a second crossing for more than a decade.",
    "The old bridge will close to cars once the new one opens next year.",
    "A ferry will run while the work goes on, the council said in a statement.",
)


@pytest.mark.parametrize("language", sorted(set(languages.NAMES)))
@pytest.mark.parametrize("algorithm", ALGORITHM_NAMES)
def test_no_summary_crashes_on_a_language(language: str, algorithm: str) -> None:
    # Polish and Greek need stemmer packages sumy does not install; Edmundson refused to run
    # in the languages sumy has no stop words for ("Set of null words is empty").
    article = Article(
        title="Council approves new river bridge",
        blocks=tuple(Block(s) for s in STORY),
        source="b.txt",
        published=datetime.now(UTC),
        language=language,
    )
    assert len(summarize(article, Options(algorithm=algorithm, sentences=2))) == 2


def test_a_stemmer_that_needs_a_missing_package_falls_back_to_unstemmed_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def needs_a_package(word: str) -> str:
        raise ValueError("Polish stemmer requires pystempel.")

    monkeypatch.setattr(summarize_module, "Stemmer", lambda language: needs_a_package)
    summarize_module.tools.cache_clear()
    try:
        assert summarize_module.tools("polish").stemmer("słowa") == "słowa"
    finally:
        summarize_module.tools.cache_clear()


def test_edmundson_runs_without_a_stop_word_list() -> None:
    assert not summarize_module.tools("danish").stop_words
    article = replace(numbered(6), language="da")
    assert len(summarize(article, Options(algorithm="edmundson", sentences=2))) == 2


# -- the lede method, and quotations in any method that restores them --------------------------


def story(*paragraphs: str, title: str = "Council approves new river bridge") -> Article:
    return Article(
        title=title,
        blocks=tuple(Block(p) for p in paragraphs),
        source="b.txt",
        published=datetime.now(UTC),
    )


def test_the_lede_method_keeps_the_lead_and_repairs_what_fails_a_reader() -> None:
    article = story(
        "(CNN)The council approved a new bridge over the river on Monday evening.",
        "Scroll down for video The bridge as the architects drew it (pictured) .",
        "Building work will start in the spring and take about two years to finish.",
        'The mayor said: "We have waited for this crossing for more than twenty years.',
        "The old ferry will stop running once the new bridge opens to traffic.",
    )
    assert summarize(article, Options(algorithm="lede", sentences=3)) == [
        "The council approved a new bridge over the river on Monday evening.",
        "Building work will start in the spring and take about two years to finish.",
        'The mayor said: "We have waited for this crossing for more than twenty years."',
    ]


def test_the_lede_method_is_the_lead_where_the_lead_reads_well(sample: Article) -> None:
    lead = summarize(sample, Options(algorithm="lead", sentences=3))
    assert summarize(sample, Options(algorithm="lede", sentences=3)) == lead


@pytest.mark.parametrize("algorithm", ["news", "lede"])
def test_a_sentence_from_inside_a_quotation_keeps_its_marks_and_speaker(
    sample: Article, algorithm: str
) -> None:
    # /read 1 20 on the sample page stated the ambassador's words as plain fact.
    summary = summarize(sample, Options(algorithm=algorithm, sentences=20))
    (genocide,) = [s for s in summary if "Khojaly genocide" in s]
    assert genocide.startswith("“Armenia committed")
    assert "Farhadov" in genocide or any(s.endswith("Ambassador Farhadov shared.") for s in summary)


def test_a_title_standing_in_for_a_missing_headline_is_not_rated_against() -> None:
    paragraphs = [f"Sentence number {i} talks about the river and the town." for i in range(6)]
    untitled = story(*paragraphs, title="")
    stand_in = story(*paragraphs, title="Sentence number 0 talks about the river and the town.")
    assert stand_in.headline == ""
    options = Options(algorithm="news", sentences=2)
    assert summarize(stand_in, options) == summarize(untitled, options)


# Sentences of a few words, repeated words and stop words among them: many pairs pass the
# threshold, some sentences have no weight at all.
_LEX_WORDS = st.sampled_from(["bridge", "council", "vote", "river", "the", "and", "of", "it"])
_LEX_SENTENCES = st.lists(st.lists(_LEX_WORDS, max_size=8), min_size=1, max_size=12)


def _lexrank_pair() -> tuple[Any, Any]:
    """sumy's own LexRank and the one `lexrank` summaries are made with, built alike."""
    t = tools("english")
    ours = ALGORITHMS["lexrank"]
    assert ours is not None
    return summarize_module._with_stop_words(LexRankSummarizer)(t), ours(t)


@settings(max_examples=300, deadline=None)
@given(_LEX_SENTENCES)
def test_lexrank_matrix_is_sumys_exactly(words: list[list[str]]) -> None:
    sumy_lexrank, ours = _lexrank_pair()
    tf = sumy_lexrank._compute_tf(words)
    idf = sumy_lexrank._compute_idf(words)
    expected = sumy_lexrank._create_matrix(words, sumy_lexrank.threshold, tf, idf)
    assert numpy.array_equal(ours._create_matrix(words, ours.threshold, tf, idf), expected)


def test_lexrank_summaries_are_sumys() -> None:
    t = tools("english")
    texts = [p for p in SAMPLE_PAGE.read_text(encoding="utf-8").split("\n") if p.strip()]
    document = ObjectDocumentModel(
        [Paragraph([Sentence(x, t.tokenizer) for x in t.tokenizer.to_sentences(p)]) for p in texts]
    )
    assert len(document.sentences) > 10
    sumy_lexrank, ours = _lexrank_pair()
    for count in (1, 3, 5):
        assert [str(s) for s in ours(document, count)] == [
            str(s) for s in sumy_lexrank(document, count)
        ]
