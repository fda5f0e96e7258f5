"""The `lede` summary method: the story's own opening, with what fails a reader repaired.

A news story puts its news first, and a blind reader preferred the plain first sentences to a
graph method's picks, 31 to 9 (docs/summaries.md). Where the first sentences fail a reader, it is
for reasons that can be named, and this method repairs exactly those, walking the sentences in
the story's order:

- a sentence that is no sentence of the story is passed over: a caption (or one the page ran
  into the text), a byline, a page line ("Scroll down for video", "Read more"), a fragment;
  so the lead is kept unless it is one of these;
- a sentence that mostly repeats what is already chosen, bringing no new number, is passed
  over ("No sentence may repeat the lead");
- a sentence that leans on the one before it ("He added", "However", "The move", the rest of a
  quotation) is taken only after that sentence (or what it repeated), never after a gap, and
  never to open a summary;
- a quotation is taken only with its speaker: the sentences of a quote that runs over several
  sentences are shown with their quotation marks and, when the sentence naming the speaker is
  not shown, with the speaker (quotes.py); a quote that continues the one before it needs that
  sentence; a quote nobody is named for is not taken.

Choosing later sentences for what they bring (a figure, the headline's words, sumy's rating)
was measured and left out: on every source it lowered ROUGE against human-written references
or the headline coverage, and the sentences it brought in often named people the summary had
not introduced (docs/summaries.md). Sumy's rating (Reduction's) decides only where the story's
order cannot: which sentences fill a summary when too few can be taken in order.

This module knows nothing of sumy or Telegram: it works on plain sentences and stemmed words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import newsrank, quotes
from .newsrank import Candidate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rules:
    """The method's few choices (docs/summaries.md says how each was measured)."""

    # A sentence is a repetition when this share of its content words is already said...
    repeat: float = 0.7
    # ...and at least this many of them (names alone make a short sentence look repeated),
    repeat_shared: int = 4
    # ...unless it brings this many new ones, or a number not yet given.
    repeat_new: int = 2
    # A sentence shorter than this is a fragment ("The reason?", "Photo: AP").
    min_words: int = 3


DEFAULT_RULES = Rules()

# Sentences that lean on the one before: pronouns and connectives, at the start.
_LEANS = re.compile(
    r"^[\"'“‘«„(]?\s*(?:"
    # English
    r"he|she|it|they|this|these|that|those|his|her|its|their|him|them|such|but|and|or|also"
    r"|however|meanwhile|yet|so|instead|still|then|nevertheless|moreover|furthermore"
    r"|in addition|as a result|despite this|even so|otherwise|besides|indeed|likewise"
    r"|the (?:move|decision|deal|comments?|remarks?|announcement|news|report|incident|latter)"
    # French
    r"|il|elle|ils|elles|cela|ceci|celui-ci|celle-ci|ce|cette|ces|mais|et|or|pourtant"
    r"|cependant|toutefois|donc|ainsi|aussi|en outre|de plus|par ailleurs"
    # German
    r"|er|sie|es|dies|diese|dieser|dieses|aber|doch|jedoch|dennoch|auch|zudem"
    # Spanish, Italian, Portuguese
    r"|él|ella|ellos|ellas|esto|este|esta|estos|pero|sin embargo|además|lui|lei|loro|questo"
    r"|questa|però|tuttavia|inoltre|ele|ela|eles|elas|isso|isto|mas|porém|contudo"
    r")\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
_FIRST_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# A sentence with this many words outside quotation marks says something of its own.
_OWN_WORDS = 4
# What a page puts between two sentences of the story: a pronoun after it still means what
# the sentence before meant.
_BETWEEN = frozenset({"caption", "call to action", "byline", "short"})
# Direct speech: a quotation mark that opens a quote, or a quotation a split cut off.
_QUOTATION = re.compile(r"[\"“”«»„]|(?:^|\s)['‘](?=[^\W\d_])|[.,!?]['’](?:\s|$)")


# Asides that point at the page's pictures: "Sterling (pictured)", "(left)", "(file photo)".
_PAGE_ASIDE = re.compile(
    r"\s*\((?:pictured|picture|left|right|centre|center|above|below|top|bottom|inset"
    r"|(?:far|second|third|top|bottom|front|back) (?:left|right|row)|left to right|l-r"
    r"|file(?: photo| pic| picture| image)?|(?:pictured|file photo|photo) [^()]{1,60}"
    r"|[^()]{1,40} pictured)\)",
    re.IGNORECASE,
)


def page_asides_free(text: str) -> str:
    """The sentence without asides about the page's pictures ("Sterling (pictured) said")."""
    cleaned = _PAGE_ASIDE.sub("", text)
    return cleaned if len(cleaned) > 20 else text


def unreadable(text: str, words: int) -> str | None:
    """Why this sentence does not belong in a summary, or None: newsrank.unreadable's reasons,
    a caption the page ran into the text (it ends with a space before its full stop), and the
    tail of a sentence the split cut after a "!" or "?" (it starts in lower case: `said the
    giant winger.`; "iPhone" and "eBay" are names)."""
    reason = newsrank.unreadable(text, words)
    if reason is None and text.endswith(" ."):
        return "caption"
    first = _FIRST_WORD.search(text)
    if reason is None and first and first.group().islower():
        return "fragment"
    return reason


def leans_on_previous(text: str) -> bool:
    """Whether a sentence needs the one before it to be understood ("He added", "However")."""
    return bool(_LEANS.match(text.strip()))


def choose(
    candidates: Sequence[Candidate],
    quotings: Sequence[quotes.Quoting],
    count: int,
    rules: Rules = DEFAULT_RULES,
    *,
    ratings: Callable[[], Sequence[float]] | None = None,
) -> list[int]:
    """The indices of `count` sentences, in document order.

    When fewer than `count` sentences can be taken in the story's order, the others make up the
    number, the most readable ones first, by sumy's rating (`ratings()`, one per sentence, asked for
    only then; else each candidate's `rank`), never a repetition: a summary's length is what
    was asked for.
    """
    problems, leans = analyse(candidates, quotings, rules)
    chosen: list[int] = []
    # Why each sentence not chosen was passed over (a problem, "repeat" or "leans").
    passed: dict[int, str] = {}
    said: set[str] = set()
    for i, candidate in enumerate(candidates):
        if len(chosen) >= count:
            break
        if problems[i] is not None:
            passed[i] = problems[i] or ""
        elif _repeats(candidate, said, rules):
            passed[i] = "repeat"
        elif not _may_follow(i, leans[i], chosen, passed):
            passed[i] = "leans"
        else:
            chosen.append(i)
            said |= candidate.stems
    if len(chosen) < count:
        # Too few sentences can be taken in the story's order: sumy's rating picks among the
        # rest, those readable on their own first, then those leaning on another, then the
        # others (still no repetitions).
        rating = list(ratings()) if ratings is not None else [c.rank for c in candidates]
        rest = sorted(
            (c for c in candidates if c.index not in chosen),
            key=lambda c: (
                problems[c.index] is not None,
                bool(leans[c.index]),
                -rating[c.index],
                c.index,
            ),
        )
        for c in rest:
            if len(chosen) >= count:
                break
            if not _repeats(c, _stems(candidates, chosen), rules):
                chosen.append(c.index)
    return sorted(chosen)


def analyse(
    candidates: Sequence[Candidate], quotings: Sequence[quotes.Quoting], rules: Rules
) -> tuple[list[str | None], list[str]]:
    """For each sentence: why it cannot be taken at all (or None), and what it leans on:
    "quote" (the words of the speaker named just before: that very sentence must be shown),
    "reference" (a pronoun or connective: the sentence before, or what it repeated, must be
    shown), or ""."""
    problems: list[str | None] = []
    leans: list[str] = []
    for c in candidates:
        i, q = c.index, quotings[c.index]
        reason = c.problem
        if reason == "short":
            reason = unreadable(c.text, newsrank.MIN_WORDS)
        if reason is None and c.words < rules.min_words:
            reason = "short"
        if reason == "orphan quote" and quotes.words_outside(c.text) >= _OWN_WORDS:
            reason = None  # a statement that quotes a few words: '"Blocked" on Twitter, he...'
        lean = ""
        if q.inside and reason in ("open quote", "orphan quote"):
            # The marks a split cut off are restored when it is shown: only the speaker counts.
            reason = None
        unattributed = reason == "orphan quote" or (
            reason is None and q.inside and not quotes.speaker_known(quotings, i)
        )
        if unattributed:
            # A quote with no speaker of its own goes on quoting the one named just before it
            # (news quotes run over paragraphs, each opening with a mark); else nobody speaks.
            start = q.start if q.inside else i
            if start > 0 and _quoted(candidates[start - 1].text, quotings[start - 1]):
                reason, lean = None, "quote"
            else:
                reason = "quote without speaker"
        elif i > 0 and (q.starts_inside or leans_on_previous(c.text)):
            lean = "reference"
        problems.append(reason)
        leans.append(lean)
    return problems, leans


def _quoted(text: str, q: quotes.Quoting) -> bool:
    return q.inside or bool(_QUOTATION.search(text))


def _may_follow(i: int, lean: str, chosen: Sequence[int], passed: dict[int, str]) -> bool:
    """Whether sentence i reads well after the chosen ones: a quote continued from the sentence
    before needs that very sentence; a pronoun or connective needs the sentence before (or the
    one it repeated), captions and page lines in between aside. Neither can open a summary,
    unless it is the article's first sentence."""
    if not lean:
        return True
    if not chosen:
        return i == 0
    if lean == "quote":
        return i - 1 in chosen
    j = i - 1
    while j >= 0 and passed.get(j) in _BETWEEN:
        j -= 1
    return j in chosen or passed.get(j) == "repeat"


def _repeats(c: Candidate, said: set[str], rules: Rules) -> bool:
    """Whether the sentence mostly says what is already said, bringing no new number."""
    if not c.stems or not said:
        return False
    new = c.stems - said
    shared = len(c.stems) - len(new)
    if shared < rules.repeat_shared or shared / len(c.stems) < rules.repeat:
        return False
    if len(new) >= rules.repeat_new:
        return False
    return not any(_NUMBER.search(stem) for stem in new)


def _stems(candidates: Sequence[Candidate], chosen: Sequence[int]) -> set[str]:
    return {s for i in chosen for s in candidates[i].stems}
