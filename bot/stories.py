"""One story per event: when two articles are the same news from different sources.

Two articles are one story when they have the same canonical URL (after dropping what does not
name the page: scheme, "www.", tracking parameters, a fragment, a trailing slash), or when
their texts are near duplicates: at least DUPLICATE_SHARE of the shorter text's word triples
(shingles) are also in the other's (for texts of at least MIN_SHINGLES), and they were published
within MAX_DAYS_APART days. That
catches a wire story run by several sites with their own headline and a sentence changed, and
leaves apart two stories that share a topic but not their wording.

Pure functions; the store keeps each article's band keys (bands) to find the candidates, and the
story ids.

Candidates by locality-sensitive hashing: a MinHash signature of SIGNATURE_ROWS hash functions
over the triples, split into BANDS bands of BAND_ROWS rows, one key per band. Two texts of
Jaccard similarity s share at least one key with probability 1 - (1 - s^r)^b. same_text asks
for 60 % of the shorter text's triples: two texts of the same length (most articles reach
SAMPLE_WORDS, 248 triples) then have a Jaccard similarity of at least 0.6 / 1.4 = 0.43, and
lengths up to twice apart at least 0.25. With r = 2 and b = 32 (64 hash functions):

    s       0.02    0.05    0.10    0.25    0.30    0.43    0.60
    P       0.013   0.077   0.28    0.87    0.95    0.9986  1.0

so a near duplicate is found 998 times in 1,000 at the threshold, while unrelated texts (which
share a few per cent of their triples at most) are rarely even proposed; same_text decides on
the few that are. r = 3 would propose fewer strangers but miss 7 % at 0.43 (b = 32) or need
150 hash functions; r = 1 proposes every text that shares one boilerplate sentence.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np

# Share of the shorter article's word triples found in the other: the same text.
DUPLICATE_SHARE = 0.6
# Texts shorter than this many word triples are not compared: briefs written from one template
# ("Shares in X rose 3 %") look alike without being one story.
MIN_SHINGLES = 30
# Reports of one event are days apart at most; older look-alikes are a new event.
MAX_DAYS_APART = 3.0
# Enough of an article to tell whether it is the same text.
SAMPLE_WORDS = 250
# Locality-sensitive hashing: BANDS keys per article, each of BAND_ROWS MinHash values (the
# S-curve in the docstring says why these).
BANDS = 32
BAND_ROWS = 2
SIGNATURE_ROWS = BANDS * BAND_ROWS
# The MinHash functions (a * x + b) mod p over the triples' crc32 values, p the Mersenne prime
# 2^31 - 1 (a * x stays under 2^63); a and b from fixed seeds, the same in every process and run.
_PRIME = (1 << 31) - 1
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


def _coefficients(name: str) -> np.ndarray:
    return np.array(
        [1 + zlib.crc32(f"{name}{i}".encode()) % (_PRIME - 1) for i in range(SIGNATURE_ROWS)],
        dtype=np.uint64,
    ).reshape(-1, 1)


_A = _coefficients("minhash-a-")
_B = _coefficients("minhash-b-")


def signature(triples: frozenset[tuple[str, str, str]]) -> np.ndarray:
    """The text's MinHash signature: for each of SIGNATURE_ROWS hash functions, the smallest
    value over its word triples (crc32 rather than hash(): the same in every process and run)."""
    if not triples:
        raise ValueError("a text with no word triples has no signature")
    values = np.fromiter(
        (zlib.crc32(" ".join(t).encode("utf-8")) for t in triples),
        dtype=np.uint64,
        count=len(triples),
    )
    minima: np.ndarray = (((_A * (values % _PRIME)) + _B) % _PRIME).min(axis=1)
    return minima


def bands(triples: frozenset[tuple[str, str, str]]) -> list[int]:
    """The text's BANDS band keys: each a 63-bit hash of the band's number and its BAND_ROWS
    signature values. Texts with a key in common are candidates; texts too short for same_text
    (under MIN_SHINGLES triples) have none."""
    if len(triples) < MIN_SHINGLES:
        return []
    rows = signature(triples).astype("<u4").reshape(BANDS, BAND_ROWS)
    return [
        int.from_bytes(
            hashlib.blake2b(band.to_bytes(2, "little") + row.tobytes(), digest_size=8).digest(),
            "little",
        )
        >> 1
        for band, row in enumerate(rows)
    ]


def article_shingles(title: str, body: str) -> frozenset[tuple[str, str, str]]:
    """An article's word triples: its headline's and body's together (the body's blocks may be
    joined by any space: only words count)."""
    return shingles(f"{title} {body}")


def text_bands(title: str, body: str) -> list[int]:
    """An article's band keys (of article_shingles)."""
    return bands(article_shingles(title, body))
