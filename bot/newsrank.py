"""The `news` summary method: what news writing tells about a sentence, on top of a graph rating.

A news story is written in an inverted pyramid: the first sentence carries the story, and the
headline says what it is about. Graph methods such as TextRank or Reduction find the sentences
the rest of the article talks about but ignore both; the lead alone repeats what the reader sees
first anyway.
This method scores each sentence by

- its graph rating (sumy's Reduction, computed in summarize.py and passed in, scaled to 0..1:
  the sentences the rest of the article talks about),
- its position (the lead sentence, then a decay through the article),
- the headline's words it covers that the sentences already chosen do not (greedy coverage, so
  the summary as a whole tells the headline's story rather than repeating it),
- its length (short sentences carry little),

and picks greedily, skipping what a reader should not see in a summary: sentences under
MIN_WORDS words, captions, bylines, datelines, calls to action ("Read more", "Follow us"),
sentences with a quote left open, orphan quotes (a quotation with no speaker), and near
duplicates of a sentence already chosen. The summary is returned in document order.

The weights were fitted on a development set (bench/tune_news.py; docs/summaries.md says how).
This module knows nothing of sumy or Telegram: it works on plain sentences and stemmed words.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

# A sentence shorter than this is a fragment to a reader ("He agreed.", "Photo: AP").
MIN_WORDS = 6
# Two sentences sharing this much of their words (Jaccard on stems) say the same thing.
DUPLICATE_OVERLAP = 0.6


@dataclass(frozen=True)
class Weights:
    """How much each signal counts; fitted by bench/tune_news.py on the development set."""

    rank: float = 2.75  # the graph rating, 0..1
    lead: float = 0.4  # the first sentence of the body
    position: float = 0.1  # 1 at the start, decaying with `decay`
    decay: float = 3.0  # sentences over which the position score falls to 1/e
    headline: float = 2.4  # share of the headline's words newly covered
    length: float = 1.5  # words / length_cap, at most 1
    length_cap: float = 35.0


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Candidate:
    """One body sentence and what the scoring needs to know about it."""

    index: int  # place in the body, from 0
    text: str
    stems: frozenset[str]  # content words (no stop words), stemmed
    words: int  # word count
    rank: float  # the graph rating scaled to 0..1 within the article
    problem: str | None = None  # why a reader should not see it in a summary (unreadable())


# -- what a reader should not see -------------------------------------------------------------

_CAPTION = re.compile(
    r"^\s*(?:photo|picture|image|pic|video|graphic|illustration|credit|caption|source|file)"
    r"\s*(?:caption)?\s*[:|/-]"
    r"|\b(?:getty images|photograph:|photo credit|image copyright|image caption|image source)\b"
    r"|\((?:photo|picture|image|file photo)\b[^)]*\)",
    re.IGNORECASE,
)
# Addressed to the reader, not about the story: "Read more", "Follow us on", "Sign up for our".
_CALL_TO_ACTION = re.compile(
    r"\b(?:read more|read the full (?:story|article)|follow us|click here|share this"
    r"|scroll (?:down|up) for|click (?:on )?the links? (?:below|above)"
    r"|(?:see|watch) the (?:video|clip|pictures) (?:below|above)"
    r"|share on (?:facebook|twitter|whatsapp)|download (?:the|our) app|all rights reserved"
    r"|(?:sign up|subscribe|register) (?:now|here|today|for free|(?:to|for) (?:our|the) \w*\s?"
    r"newsletter)|like us on facebook)\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^\s*(?i:by|reporting by|written by|edited by|additional reporting by)\s+"
    r"[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3}\s*(?:[,|–—-].*)?$"
)
# "LONDON (Reuters) - ", "WASHINGTON, Jan. 5 (AP) — ", "PARIS — ": a place in capitals, an
# optional date and agency, and a dash. Only this prefix is dropped; the sentence stays.
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z .'-]{1,40}(?:,\s*[A-Z][\w .']{1,30})?\s*(?:\([A-Za-z .]{1,30}\))?\s*[-–—]+\s+"
)
_SPEAKER = re.compile(
    r"\b(?:said|says|say|told|tells|added|adds|according to|asked|explained|insisted|argued"
    r"|warned|claimed|stated|wrote|writes|noted|believes|thinks)\b",
    re.IGNORECASE,
)


# "(CNN)", "Rome (CNN)", "New Delhi, India (CNN) -- ": a place, a news agency in brackets.
_AGENCY_DATELINE = re.compile(
    r"^\s*(?:[A-Z][\w.'-]*(?:,?\s+[A-Z][\w.'-]*){0,4}\s*)?"
    r"\((?:CNN|AP|AFP|Reuters|UPI|dpa|EFE|ANSA|PA|Xinhua|Bloomberg)\)\s*(?:[-–—]+\s*)?"
)


def dateline_free(text: str) -> str:
    """The sentence without a leading wire-service dateline ("LONDON (Reuters) - ", "(CNN)")."""
    match = _DATELINE.match(text) or _AGENCY_DATELINE.match(text)
    if match and len(text) - match.end() > 20:
        return text[match.end() :]
    return text


def close_quotes(text: str) -> str:
    """A quotation cut by the sentence split, closed when the sentence says who speaks.

    News quotes run over several sentences: `He said: "We are ready.` then `It is time," he
    added.` Each half is readable with its missing mark restored, since the speaker is named in
    it; a half with no speaker is left as it is (and found unreadable: an orphan quote).
    """
    if text.count('"') % 2:
        before, after = text[: text.rindex('"')], text[text.index('"') + 1 :]
        if before.count('"') % 2 == 0 and _SPEAKER.search(before):
            return text + '"'  # He said: "We are ready.
        if after.count('"') % 2 == 0 and _SPEAKER.search(after):
            return '"' + text  # It is time," he added.
        return text
    opened, closed = text.count("“"), text.count("”")
    if opened == closed + 1 and _SPEAKER.search(text[: text.rindex("“")]):
        return text + "”"
    if closed == opened + 1 and _SPEAKER.search(text[text.index("”") :]):
        return "“" + text
    return text


def unreadable(text: str, words: int) -> str | None:
    """Why this sentence does not belong in a summary, or None if it may."""
    if words < MIN_WORDS:
        return "short"
    if _CAPTION.search(text):
        return "caption"
    if _CALL_TO_ACTION.search(text):
        return "call to action"
    if words <= 12 and not text.rstrip().endswith((".", "!", "?")) and _BYLINE.match(text):
        return "byline"
    if _open_quote(text):
        return "open quote"
    if _orphan_quote(text):
        return "orphan quote"
    return None


def _open_quote(text: str) -> bool:
    """A quotation that starts or ends outside this sentence."""
    if text.count('"') % 2:
        return True
    opened = text.count("“") + text.count("«")
    closed = text.count("”") + text.count("»")
    # German quotes open with „ and close with “ (which opens English ones).
    german = min(text.count("„"), text.count("“"))
    opened += text.count("„") - 2 * german
    return opened != closed


def _orphan_quote(text: str) -> bool:
    """All quotation, with nobody saying it: "We will win." rather than ..., he said."""
    stripped = text.strip()
    if not stripped or stripped[0] not in '"“«„':
        return False
    closer = max(stripped.rfind('"'), stripped.rfind("”"), stripped.rfind("»"))
    tail = stripped[closer + 1 :].strip(" .!?")
    return len(tail) < 3 and not _SPEAKER.search(stripped)


# -- scoring and choosing ---------------------------------------------------------------------


def choose(
    candidates: Sequence[Candidate],
    headline: frozenset[str],
    count: int,
    weights: Weights = DEFAULT_WEIGHTS,
) -> list[Candidate]:
    """`count` readable sentences chosen greedily, in document order.

    When fewer than `count` sentences are readable, the earliest of the others make up the
    number (still no near duplicates), so a summary's length is what was asked for.
    """
    readable = [c for c in candidates if c.problem is None]
    chosen = _greedy(readable, headline, count, weights)
    if len(chosen) < count:
        for candidate in candidates:
            if len(chosen) >= count:
                break
            if candidate not in chosen and not _duplicate(candidate, chosen):
                chosen.append(candidate)
    return sorted(chosen, key=lambda c: c.index)


def _greedy(
    pool: Sequence[Candidate], headline: frozenset[str], count: int, weights: Weights
) -> list[Candidate]:
    fixed = [
        weights.rank * c.rank
        + weights.lead * (c.index == 0)
        + weights.position * math.exp(-c.index / max(weights.decay, 1e-6))
        + weights.length * min(c.words, weights.length_cap) / max(weights.length_cap, 1.0)
        for c in pool
    ]
    chosen: list[Candidate] = []
    covered: set[str] = set()
    remaining = list(range(len(pool)))
    while remaining and len(chosen) < count:
        best, best_score = -1, -math.inf
        for i in remaining:
            candidate = pool[i]
            score = fixed[i]
            if headline:
                score += (
                    weights.headline * len((candidate.stems & headline) - covered) / len(headline)
                )
            if score > best_score:
                best, best_score = i, score
        remaining.remove(best)
        candidate = pool[best]
        if _duplicate(candidate, chosen):
            continue
        chosen.append(candidate)
        covered |= candidate.stems & headline
    return chosen


def _duplicate(candidate: Candidate, chosen: Sequence[Candidate]) -> bool:
    for other in chosen:
        union = len(candidate.stems | other.stems)
        if union and len(candidate.stems & other.stems) / union >= DUPLICATE_OVERLAP:
            return True
    return False
