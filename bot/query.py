"""The search and filter language: what a person types, as FTS5 expressions. Pure: no SQL.

`stem_of(prefix)` (supplied by the store, which reads the index's vocabulary) says which indexed
stem a word beginning typed past its stem stands for; the Porter-suffix table it needs is here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

# At most this many words of a query reach FTS5; the rest of a pasted essay is noise. A word
# repeated counts once: "harbour" 32 times is one phrase for FTS5, not 32 to weigh and mark.
MAX_QUERY_TERMS = 32


@dataclass(frozen=True)
class Term:
    """One thing looked for: a word or a phrase, maybe a word beginning (`prefix`, with the
    indexed `stem` it may stand for), maybe in one column only ('title' or 'body')."""

    words: tuple[str, ...]
    prefix: bool = False
    stem: str | None = None
    column: str | None = None
    # A word beginning's indexed words, listed by the store (see expand_prefixes): FTS5 then
    # reads them as words, not the beginning (same matches, cheaper).
    expanded: tuple[str, ...] = ()

    @property
    def fts5(self) -> str:
        """This term as an FTS5 expression: words quoted, so no FTS5 syntax gets in."""
        term = '"' + " ".join(self.words) + '"'
        if self.prefix and self.expanded:
            words = (*self.expanded, self.stem) if self.stem else self.expanded
            term = "(" + " OR ".join('"' + w.replace('"', '""') + '"' for w in words) + ")"
        elif self.prefix:
            term += "*"
            if self.stem:
                term = f'({term} OR "{self.stem}")'
        return f"{self.column} : {term}" if self.column else term


@dataclass(frozen=True)
class ParsedQuery:
    strict: str
    relaxed: str | None  # every word optional, when strict needs several
    highlight: str = ""  # any of the words looked for (not those excluded): what snippets mark
    # The same query as terms, for an engine that does not speak FTS5: any group of terms
    # that all match (`groups`), and none of `excluded`.
    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()


_TOKEN = re.compile(r'(-?)(?:(title|body):)?(?:"([^"]*)"?|(\S+))', re.IGNORECASE)
_WORD = re.compile(r"\w+")
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}


StemOf = Callable[[str], str | None]
"""stem_of(prefix): the indexed stem a typed word beginning stands for ("electi" -> "elect")."""
WordsOf = Callable[[str], tuple[str, ...] | None]
"""words_of(prefix): the indexed words a typed word beginning stands for (None: too many)."""


def parse_query(text: str, stem_of: StemOf | None = None) -> ParsedQuery | None:
    """A person's search text as a safe FTS5 expression.

    Words are quoted, so FTS5 syntax typed by accident is just text. Understood on purpose:
    "exact phrase", word* (prefix), -word (exclude), title:word, and OR between words.
    Returns None when the text holds no word to look for.
    """
    groups, excluded = _terms(text, stem_of)
    if not groups:
        return None
    return _parsed(groups, excluded)


def expand_prefixes(parsed: ParsedQuery, words_of: WordsOf) -> ParsedQuery:
    """The same query with each word beginning (word*) said as the indexed words it stands
    for, where `words_of` lists them (None: left a beginning). The matches are the same."""
    listed: dict[str, tuple[str, ...] | None] = {}

    def expand(term: Term) -> Term:
        if not term.prefix:
            return term
        if term.words[0] not in listed:
            listed[term.words[0]] = words_of(term.words[0])
        words = listed[term.words[0]]
        return replace(term, expanded=words) if words else term

    groups = [[expand(t) for t in g] for g in parsed.groups]
    excluded = [expand(t) for t in parsed.excluded]
    return _parsed(groups, excluded) if any(listed.values()) else parsed


def _parsed(groups: list[list[Term]], excluded: list[Term]) -> ParsedQuery:
    strict = _any_group(groups) + "".join(f" NOT {term.fts5}" for term in excluded)
    all_terms = [t.fts5 for g in groups for t in g]
    relaxed = None
    if len(all_terms) > 1 and len(groups) == 1:
        relaxed = f"({' OR '.join(all_terms)})" + "".join(f" NOT {t.fts5}" for t in excluded)
    return ParsedQuery(
        strict,
        relaxed,
        " OR ".join(all_terms),
        tuple(tuple(g) for g in groups),
        tuple(excluded),
    )


@dataclass(frozen=True)
class Filter:
    """A subscription's words as FTS5 expressions: what must match (None: every article) and
    what must not (None: nothing excluded). `-football` alone is all news but football."""

    match: str | None
    exclude: str | None
    # The same as terms (see ParsedQuery).
    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()


def parse_filter(text: str, stem_of: StemOf | None = None) -> Filter | None:
    """A subscription filter, read like a search (the same words, phrases, -word); None when
    the text holds no word at all."""
    groups, excluded = _terms(text, stem_of)
    if not groups and not excluded:
        return None
    return Filter(
        _any_group(groups) if groups else None,
        " OR ".join(t.fts5 for t in excluded) or None,
        tuple(tuple(g) for g in groups),
        tuple(excluded),
    )


def _terms(text: str, stem_of: StemOf | None = None) -> tuple[list[list[Term]], list[Term]]:
    """Terms: groups of terms that must all match (OR between groups), and exclusions.

    The index holds Porter stems ("election" is "elect"), so a word beginning typed past its
    stem ("electi*") matches no stem; with `stem_of` it also matches the stem it stands for.
    """
    groups: list[list[Term]] = [[]]
    excluded: list[Term] = []
    seen: set[str] = set()
    stems: dict[str, str | None] = {}
    for match in _TOKEN.finditer(text[:2000]):
        minus, column, phrase, bare = match.groups()
        raw = phrase if phrase is not None else bare
        if bare == "OR" and not minus and not column:
            if groups[-1]:
                groups.append([])
            continue
        if bare in _OPERATORS and not column:
            continue
        words = _WORD.findall(raw or "")
        if not words or len(seen) >= MAX_QUERY_TERMS:
            continue
        prefix = phrase is None and raw.endswith("*") and len(words) == 1
        stem = None
        if prefix:
            if words[0] not in stems:  # a word beginning said again is looked up once
                stems[words[0]] = stem_of(words[0]) if stem_of else None
            stem = stems[words[0]]
        term = Term(tuple(words), prefix, stem, column.lower() if column else None)
        if (minus + term.fts5).lower() in seen:  # a word said twice is looked for once
            continue
        seen.add((minus + term.fts5).lower())
        if minus:
            excluded.append(term)
        else:
            groups[-1].append(term)
    return [g for g in groups if g], excluded


def _any_group(groups: list[list[Term]]) -> str:
    # AND said, not implied: FTS5 implies it between phrases only, not after a "(… OR …)".
    positive = " OR ".join(
        f"({' AND '.join(t.fts5 for t in g)})" if len(g) > 1 else g[0].fts5 for g in groups
    )
    return f"({positive})" if len(groups) > 1 else positive


# The endings Porter's algorithm strips (steps 1 to 5), as the search index stems words.
_PORTER_SUFFIXES = (
    "s",
    "es",
    "ies",
    "sses",
    "ed",
    "eed",
    "ing",
    "y",
    "ational",
    "tional",
    "enci",
    "anci",
    "izer",
    "bli",
    "alli",
    "entli",
    "eli",
    "ousli",
    "ization",
    "ation",
    "ator",
    "alism",
    "iveness",
    "fulness",
    "ousness",
    "aliti",
    "iviti",
    "biliti",
    "logi",
    "icate",
    "ative",
    "alize",
    "iciti",
    "ical",
    "ful",
    "ness",
    "al",
    "ance",
    "ence",
    "er",
    "ic",
    "able",
    "ible",
    "ant",
    "ement",
    "ment",
    "ent",
    "ion",
    "ou",
    "ism",
    "ate",
    "iti",
    "ous",
    "ive",
    "ize",
    "e",
)


def stem_candidates(prefix: str) -> tuple[str, list[str]]:
    """A typed word beginning, folded as the index folds it, and the shorter beginnings that
    could be its stem, longest first (none under 4 letters)."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", prefix.lower()) if not unicodedata.combining(c)
    )
    if len(plain) < 4:
        return plain, []
    # Porter drops at most a few letters from an inflected word (-ion, -ing, -ed, -es).
    return plain, [plain[:k] for k in range(len(plain) - 1, max(2, len(plain) - 4), -1)]


def pick_stem(plain: str, shorter: list[str], found: Collection[str]) -> str | None:
    """The longest candidate that is an indexed stem and whose rest begins a Porter suffix:
    "electi" is "elect" + i(on), but "electr" is not "elect" + r (electricity has its own
    stem)."""
    return next(
        (
            stem
            for stem in shorter
            if stem in found and any(s.startswith(plain[len(stem) :]) for s in _PORTER_SUFFIXES)
        ),
        None,
    )
