"""The text of a web page's bytes: which character encoding it is in.

The order follows what browsers do (the WHATWG encoding standard), with one guard of our own:
a byte-order mark, then the HTTP header's charset, then the page's own <meta charset> or
<meta http-equiv="Content-Type">, then UTF-8 if the bytes are valid UTF-8, then a detector
(charset_normalizer), then Windows-1252. Only <meta> declares the page's encoding: a
`charset=` elsewhere (<script charset>, <link charset>, a comment) names another file's.
The guard: bytes that are valid UTF-8 with non-ASCII characters are UTF-8 whatever the page
declares, since text in another encoding is almost never valid UTF-8 by chance, while servers
and CMSs that send UTF-8 labelled ISO-8859-1 are common.
"""

from __future__ import annotations

import codecs
import logging
import re

log = logging.getLogger(__name__)

# How far into the page to look for its <meta> (browsers look at 1 KB; real pages put kilobytes
# of scripts and styles before it).
_META_SCAN_BYTES = 64 * 1024
_META = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_NOT_MARKUP = re.compile(rb"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_ATTRIBUTE = re.compile(rb"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)

# Labels that mean another encoding than Python's codec of that name (WHATWG: a page labelled
# ISO-8859-1 is decoded as Windows-1252, GB2312 as GB18030, Shift_JIS as Windows-31J...).
_SUPERSETS = {
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    # A page that could be read to find "utf-16" in its <meta> is not UTF-16.
    "utf-16": "utf-8",
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# The detector reads this much of a large page, from its start and its end.
_DETECT_SAMPLE = 32 * 1024
# Fewer non-ASCII bytes than this and the detector guesses wildly (a lone é read as Chinese).
_DETECT_MIN_BYTES = 16


def decode_page(data: bytes, content_type: str | None = None) -> str:
    """The page's text; never fails (undecodable bytes become U+FFFD)."""
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(bom_codec, errors="replace")
    utf8 = _valid_utf8(data)
    declared = header_charset(content_type) or meta_charset(data)
    if declared and not (utf8 and not data.isascii()):
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            # Declared wrongly (or a codec that is not a text encoding, like "base64"): find
            # out what the page is in.
            log.debug("page declared %s but is not in it", declared)
    if utf8:
        return data.decode("utf-8")
    for codec in (_detect(data), "cp1252"):
        if codec is None:
            continue
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")  # five bytes cp1252 leaves undefined


def header_charset(content_type: str | None) -> str | None:
    """The Python codec of the charset in a Content-Type value ("text/html; charset=...")."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return codec_for(value.strip().strip("\"'"))
    return None


def meta_charset(data: bytes) -> str | None:
    """The codec the page's own <meta> declares, if it declares one Python knows."""
    head = _NOT_MARKUP.sub(b" ", data[:_META_SCAN_BYTES])
    for tag in _META.finditer(head):
        attributes = {
            match.group(1).lower(): (match.group(2) or match.group(3) or match.group(4) or b"")
            for match in _ATTRIBUTE.finditer(tag.group(0))
        }
        if b"charset" in attributes:
            label = attributes[b"charset"].decode("ascii", errors="ignore")
        elif attributes.get(b"http-equiv", b"").lower() == b"content-type":
            found = _CHARSET.search(attributes.get(b"content", b"").decode("ascii", "ignore"))
            label = found.group(1) if found else ""
        else:
            continue
        codec = codec_for(label)
        if codec:
            return codec
    return None


def codec_for(label: str) -> str | None:
    """The Python codec for an encoding label, or None for one Python does not know."""
    label = label.strip().lower()
    if not label:
        return None
    name = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _detect(data: bytes) -> str | None:
    """charset_normalizer's best guess, on a sample of a large page (it is slow on megabytes)."""
    from charset_normalizer import from_bytes  # loaded only for undeclared, non-UTF-8 pages

    if sum(byte >= 0x80 for byte in data[:_DETECT_SAMPLE]) < _DETECT_MIN_BYTES:
        return None  # too few to tell: a stray accent in a Western page
    sample = data
    if len(data) > 2 * _DETECT_SAMPLE:
        # Cut at a line end, not inside a multi-byte character.
        start = data.rfind(b"\n", 0, _DETECT_SAMPLE)
        end = data.find(b"\n", len(data) - _DETECT_SAMPLE)
        sample = data[: start if start > 0 else _DETECT_SAMPLE] + data[end if end > 0 else -1 :]
    best = from_bytes(sample).best()
    return codec_for(best.encoding) if best is not None else None
