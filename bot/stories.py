"""One story per event: when two articles are the same news from different sources.

Two articles are one story when they have the same canonical URL (after dropping what does not
name the page: scheme, "www.", tracking parameters, a fragment, a trailing slash), or when
their texts are near duplicates: at least DUPLICATE_SHARE of the shorter text's word triples
(shingles) are also in the other's (for texts of at least MIN_SHINGLES), and they were published
within MAX_DAYS_APART days. That
catches a wire story run by several sites with their own headline and a sentence changed, and
leaves apart two stories that share a topic but not their wording.

Pure functions; the store keeps each article's sketch (its smallest shingle hashes) to find the
candidates, and the story ids.
"""

from __future__ import annotations

import re
import zlib
from urllib.parse import parse_qsl, urlencode, urlsplit

# Share of the shorter article's word triples found in the other: the same text.
DUPLICATE_SHARE = 0.6
# Texts shorter than this many word triples are not compared: briefs written from one template
# ("Shares in X rose 3 %") look alike without being one story.
MIN_SHINGLES = 30
# Reports of one event are days apart at most; older look-alikes are a new event.
MAX_DAYS_APART = 3.0
# Enough of an article to tell whether it is the same text.
SAMPLE_WORDS = 250
# Hashes kept per article to find look-alikes, and how many two must share to be compared.
SKETCH_SIZE = 16
SKETCH_SHARED = 3
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|ocid|at_\w+)$", re.I)
_WORD = re.compile(r"[^\W_]+")


def url_key(url: str | None) -> str | None:
    """The part of a URL that names the page: https://www.x.org/a/?utm_source=y -> x.org/a."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        return None
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING.match(k)
        )
    )
    path = parts.path.rstrip("/") or ""
    return f"{host}{path}" + (f"?{query}" if query else "")


def shingles(text: str) -> frozenset[tuple[str, str, str]]:
    """The article's word triples (lower case), from its first SAMPLE_WORDS words."""
    words = [w.lower() for w in _WORD.findall(text)][:SAMPLE_WORDS]
    return frozenset(zip(words, words[1:], words[2:], strict=False))


def same_text(a: frozenset[tuple[str, str, str]], b: frozenset[tuple[str, str, str]]) -> bool:
    shorter = min(len(a), len(b))
    if shorter < MIN_SHINGLES:
        return False
    return len(a & b) / shorter >= DUPLICATE_SHARE


def sketch(triples: frozenset[tuple[str, str, str]]) -> list[int]:
    """The SKETCH_SIZE smallest hashes of the text's word triples (a bottom-k MinHash sketch).

    Two texts that share most of their triples share most of their smallest hashes too, so
    candidates are found by equal hashes through an index, whatever the library's size; then
    same_text decides. crc32 rather than hash(): the same value in every process and run.
    """
    hashes = {zlib.crc32(" ".join(t).encode("utf-8")) for t in triples}
    return sorted(hashes)[:SKETCH_SIZE]
