"""Quotations that run over several sentences: which sentence is inside one, and who speaks.

News quotes often run over two or more sentences: `He said: "We are ready.` / `We have
trained all year."` The sentence split cuts them apart, and a sentence from the middle of a
quote, shown alone, reads as the paper's own statement of fact. This module follows the
quotation marks through a paragraph's sentences and says, for each sentence, whether it starts
or ends inside a quotation, where its speaker is named, and how to show it alone: with its
marks and, when the sentence that names the speaker is not shown with it, the speaker too.

Marks: straight and curly double quotes, guillemets, German low-high quotes, and single
quotes (British and Daily Mail style, straight or curly), told apart from apostrophes by what
is around them.
A paragraph starts outside any quotation, and so does a sentence that opens with a quotation
mark (a new quote, whatever an unmatched mark before it left open).

This module knows nothing of sumy or Telegram: it works on plain sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# The closing mark of each opening mark.
CLOSER = {'"': '"', "“": "”", "«": "»", "„": "“", "‘": "’", "'": "'"}
_OPENERS = frozenset(CLOSER)
# An attribution has this many words or more ("he said", "lance Véronique Cabut").
MIN_ATTRIBUTION_WORDS = 2
# A speaker clause longer than this is cut at its first comma when it is shown with a quote.
MAX_ATTRIBUTION_WORDS = 14
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_CONJUNCTION = re.compile(
    r"^(?:but|and|yet|so|while|as|mais|et|puis|aber|und|pero|y|e|ma)\s+", re.IGNORECASE
)


@dataclass(frozen=True)
class Quoting:
    """One sentence's place in the quotations of its paragraph."""

    starts_inside: bool  # the sentence begins inside a quotation opened before it
    ends_inside: bool  # a quotation is still open at its end
    opener: str = ""  # the mark of the quotation it starts or ends inside
    before: str = ""  # text before the mark that opens the quotation left open at its end
    after: str = ""  # text after the mark that closes the quotation open at its start
    start: int = 0  # index of the first sentence of the quotation it is part of
    end: int = 0  # index of the last

    @property
    def inside(self) -> bool:
        """Part of a quotation that runs over several sentences."""
        return self.starts_inside or self.ends_inside


def follow(sentences: Sequence[str], paragraphs: Sequence[int]) -> list[Quoting]:
    """Each sentence's Quoting; `paragraphs[i]` numbers the paragraph of sentence i."""
    result: list[Quoting] = []
    state = ""
    previous_paragraph = None
    for i, text in enumerate(sentences):
        if paragraphs[i] != previous_paragraph or _opens_with_a_mark(text):
            state = ""
        previous_paragraph = paragraphs[i]
        starts_inside, opener = bool(state), state
        state, before, after = _scan(text, state)
        result.append(
            Quoting(
                starts_inside=starts_inside,
                ends_inside=bool(state),
                opener=opener or state,
                before=before if state else "",
                after=after if starts_inside else "",
                start=i,
                end=i,
            )
        )
    # The sentences of one quotation: from the one that opens it to the one that closes it.
    i = 0
    while i < len(result):
        if not result[i].ends_inside:
            i += 1
            continue
        j = i + 1
        while j < len(result) and result[j].starts_inside and result[j].ends_inside:
            j += 1
        if j >= len(result) or not result[j].starts_inside:
            j -= 1  # the quotation never closes: it ends with its last sentence inside
        for k in range(i, j + 1):
            result[k] = _with_span(result[k], i, j)
        i = j + 1
    return result


def _with_span(q: Quoting, start: int, end: int) -> Quoting:
    return Quoting(q.starts_inside, q.ends_inside, q.opener, q.before, q.after, start, end)


def _opens_with_a_mark(text: str) -> bool:
    stripped = text.lstrip()
    if not stripped or stripped[0] not in _OPENERS:
        return False
    # A single quote opens a quotation only before a letter ('Tis, '90s are apostrophes).
    return stripped[0] not in "'‘" or (len(stripped) > 1 and stripped[1].isalpha())


def _scan(text: str, state: str) -> tuple[str, str, str]:
    """(the state at the end, the text before the last quotation opened and left open, the
    text after the quotation open at the start closes)."""
    german = "„" in text
    before_at = -1
    closed_at = -1
    started_inside = bool(state)
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if not state:
            if _opens(ch, prev, nxt, german=german):
                state, before_at = ch, i
        elif _closes(state, ch, prev, nxt):
            state = ""
            if started_inside and closed_at < 0:
                closed_at = i
    before = text[:before_at] if state and before_at >= 0 else ""
    after = text[closed_at + 1 :] if closed_at >= 0 else ""
    return state, before, after


# What closes a quotation opened by a double mark (straight and curly marks get mixed up).
_DOUBLE_CLOSERS = {'"': '"”', "“": '”"', "«": "»", "„": "“”"}


def _opens(ch: str, prev: str, nxt: str, *, german: bool) -> bool:
    if ch in '"«„' or (ch == "“" and not german):
        return True
    # A single quote opens before a letter, after a space or bracket (not "don't", "'90s").
    return ch in "'‘" and (prev.isspace() or prev in "([—–-") and nxt.isalpha()


def _closes(state: str, ch: str, prev: str, nxt: str) -> bool:
    if state in "'‘":
        # After a word or punctuation, before no letter: "ready to run,' said" (not "I'm").
        return ch in "'’" and (prev.isalnum() or prev in ".,!?…") and not nxt.isalnum()
    return ch in _DOUBLE_CLOSERS.get(state, "")


def words_outside(text: str) -> int:
    """How many words of a sentence (starting outside any quotation) are not quoted: a
    sentence that is all quotation has fewer than MIN_ATTRIBUTION_WORDS."""
    german = "„" in text
    state = ""
    outside: list[str] = []
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if not state:
            if _opens(ch, prev, nxt, german=german):
                state = ch
                outside.append(" ")
            else:
                outside.append(ch)
        elif _closes(state, ch, prev, nxt):
            state = ""
    return _words("".join(outside))


def attribution_after(q: Quoting) -> str:
    """The speaker named after a quotation closes (`," he added.`), or ""."""
    text = q.after.strip().lstrip(",;:–—- ").strip()
    return text if _words(text) >= MIN_ATTRIBUTION_WORDS else ""


def attribution_before(q: Quoting) -> str:
    """The speaker clause before a quotation opens (`Luis said:`), or ""."""
    text = q.before.strip()
    if _words(text) < MIN_ATTRIBUTION_WORDS:
        return ""
    if _words(text) > MAX_ATTRIBUTION_WORDS:
        # "Atletico hope it gives them leverage, but Luis said:" -> "Luis said:"
        text = _CONJUNCTION.sub("", re.split(r"[,;]\s+", text)[-1])
        text = text[:1].upper() + text[1:]
    return text if _words(text) >= MIN_ATTRIBUTION_WORDS else ""


def speaker_known(quotings: Sequence[Quoting], i: int) -> bool:
    """Whether the quotation sentence i is part of names its speaker (in any of its
    sentences: before its opening mark, or after its closing one)."""
    q = quotings[i]
    if not q.inside:
        return True
    first, last = quotings[q.start], quotings[q.end]
    return bool(attribution_before(first) or attribution_after(last))


def shown_alone(
    sentences: Sequence[str], quotings: Sequence[Quoting], i: int, shown: frozenset[int]
) -> str:
    """Sentence i as it reads with the others in `shown`: a part of a longer quotation gets its
    missing quotation marks, and the speaker when the sentence naming them is not shown."""
    q = quotings[i]
    text = sentences[i].strip()
    if not q.inside:
        return text
    closer = CLOSER.get(q.opener, "”")
    first, last = quotings[q.start], quotings[q.end]
    after = attribution_after(last) if last.starts_inside and not last.ends_inside else ""
    before = attribution_before(first)
    if q.starts_inside:
        text = f"« {text}" if q.opener == "«" else q.opener + text
    own = (i == q.start and before) or (i == q.end and after)
    if not own and after and q.end not in shown and q.ends_inside:
        return _with_speaker_after(text, closer, _shortened(after))
    if q.ends_inside:
        text += " »" if closer == "»" else closer
    if not own and not after and before and q.start not in shown:
        return f"{before} {text}"
    return text


def _with_speaker_after(text: str, closer: str, speaker: str) -> str:
    """`“We are ready.` + he said. -> `“We are ready,” he said.`; French and German put the
    comma after the mark: `« Nous sommes prêts », a-t-il dit.`"""
    full_stop = text.endswith(".") and not text.endswith("..")
    end = text[:-1] if full_stop else text
    if closer == "»":
        return f"{end} », {speaker}"
    if closer == "“":
        return f"{end}“, {speaker}"
    if not full_stop:
        return f"{text}{closer} {speaker}"  # "Why?" he asked.
    return f"{end},{closer} {speaker}"


def _shortened(speaker: str) -> str:
    if _words(speaker) <= MAX_ATTRIBUTION_WORDS:
        return speaker
    clause = re.split(r",\s+", speaker)[0].rstrip(".")
    return clause + "."


def _words(text: str) -> int:
    return len(_WORD.findall(text))
