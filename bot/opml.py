"""OPML, the feed list every feed reader imports and exports: read into feeds, written from them.

Knows nothing of Telegram, the store or the network: bytes in, values out, and back. Reading is
for the files real readers write, which are messy: folders nested in folders (a feed's folders
become its categories, "Tech/AI"), `xmlUrl` in any case or an OPML 1.0 `url`, titles in `text`
or `title` or missing, one feed listed in two folders, a byte-order mark, an encoding declared
in the XML header (or declared wrongly: valid UTF-8 is UTF-8), HTML entities (&eacute;, &nbsp;)
and bare ampersands in URLs, a file cut short (the feeds before the break are kept). What is
refused, with an OpmlError saying why: more than `max_bytes` or `max_feeds`, a file that declares
XML entities (the billion laughs and its kin: refused before parsing, never expanded), anything
that is not OPML (a web page, a feed itself, random bytes). The parser is the standard library's
expat behind defusedxml, which never fetches a DTD or an external entity.

Writing makes OPML 2.0 in UTF-8: one outline per feed (type="rss", text, title, xmlUrl), inside a
folder outline named after its first category, with every category in `category` too, so that
readers that know folders and those that know categories both keep them; reading gives back
what was written.
"""

from __future__ import annotations

import codecs
import html.entities
import itertools
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .encoding import codec_for
from .errors import NewsbotError

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024
MAX_FEEDS = 500
# Folder names kept per feed (deeper ones are dropped) and a category's length: a file of
# nested folders cannot make categories of megabytes.
MAX_FOLDERS = 8
MAX_TEXT = 200
# Outline types that are another list (never fetched), not a feed.
_LIST_TYPES = {"include", "source"}
# The XML declaration (expat would look up its encoding again; the text is decoded already),
# wherever it is: a second one in a file is a mistake to pass over, not to fail on.
_XML_DECLARATION = re.compile(r"<\?xml(?=\s)[^>]*\?>", re.IGNORECASE)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_REFERENCE = re.compile(r"&(#[0-9]{1,8};|#[xX][0-9a-fA-F]{1,7};|([A-Za-z][A-Za-z0-9]{0,31});)?")
_XML_ENTITIES = {"lt", "gt", "amp", "quot", "apos"}
# Characters XML 1.0 cannot hold, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class OpmlError(NewsbotError):
    """Bytes that give no feeds: too large, too many feeds, an XML bomb, not OPML; str() says
    why."""


@dataclass(frozen=True)
class Outline:
    """One feed of a list: its title ("" when the file gives none), its address and its
    categories (a folder path such as "Tech/AI", or a tag)."""

    title: str
    url: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parsed:
    feeds: tuple[Outline, ...]
    problems: tuple[str, ...]  # what was skipped or repaired, in words
    title: str = ""


def read(data: bytes, *, max_bytes: int = MAX_BYTES, max_feeds: int = MAX_FEEDS) -> Parsed:
    """The feeds of an OPML file, in file order, one per address; OpmlError if it has none."""
    if len(data) > max_bytes:
        raise OpmlError(
            f"the file is {size_text(len(data))}; at most {size_text(max_bytes)} is read"
        )
    if not data.strip():
        raise OpmlError("the file is empty")
    text = _decode(data)
    if re.search(r"<!ENTITY", text, re.IGNORECASE):
        raise OpmlError(
            "the file declares XML entities, which a feed list never needs (it may be an XML"
            " bomb): refused"
        )
    xml = _repair_references(_XML_DECLARATION.sub("", text)).lstrip().encode("utf-8")
    target = _Collector(max_feeds)
    parser = DefusedXMLParser(target=target, forbid_dtd=False)
    broken = ""
    try:
        parser.feed(xml)
        parser.close()
    except (ET.ParseError, LookupError) as exc:  # LookupError: an encoding expat cannot use
        broken = str(exc)
    except DefusedXmlException as exc:  # only a DTD can do this, and entities were refused
        raise OpmlError(f"refused: {exc}") from None
    return target.result(broken)


def write(
    feeds: Iterable[Outline], *, title: str = "newsbot feeds", now: datetime | None = None
) -> bytes:
    """OPML 2.0 in UTF-8: each feed in a folder of its first category (if any), with all its
    categories in `category` as well."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _clean(title)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    ET.SubElement(head, "dateCreated").text = format_datetime(when, usegmt=True)
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for feed in feeds:
        categories = tuple(c for c in (_category(c) for c in feed.categories) if c)
        parent = body
        if categories:
            if categories[0] not in folders:
                folder = {"text": categories[0], "title": categories[0]}
                folders[categories[0]] = ET.SubElement(body, "outline", folder)
            parent = folders[categories[0]]
        name = _clean(feed.title)
        attributes = {"type": "rss", "text": name, "title": name, "xmlUrl": _clean(feed.url)}
        if categories:
            attributes["category"] = ",".join(categories)
        ET.SubElement(parent, "outline", attributes)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"


# -- reading ------------------------------------------------------------------------------------


@dataclass
class _Collector:
    """The parser's target: outlines as they start, with the folders they are in."""

    max_feeds: int
    feeds: dict[str, Outline] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    folders: list[str | None] = field(default_factory=list)  # None: an outline that is no folder
    path: list[str] = field(default_factory=list)  # the elements open, by local name
    root: str = ""
    title: list[str] = field(default_factory=list)
    repeated: int = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = tag.rpartition("}")[2].lower()
        if not self.path:
            self.root = name
            if name != "opml":
                raise OpmlError(_not_opml(name))
        self.path.append(name)
        if name == "outline":
            self.folders.append(self._outline({k.lower(): v for k, v in attrib.items()}))

    def end(self, tag: str) -> None:
        name = self.path.pop() if self.path else ""
        if name == "outline" and self.folders:
            self.folders.pop()

    def data(self, text: str) -> None:
        if self.path[-2:] == ["head", "title"] and len(self.title) < MAX_TEXT:
            self.title.append(text)

    def close(self) -> None:
        return None

    def _outline(self, attrib: dict[str, str]) -> str | None:
        """Record a feed; returns the folder name the outline makes for its children."""
        kind = attrib.get("type", "").strip().lower()
        label = _cut(_clean(attrib.get("text", "")) or _clean(attrib.get("title", "")))
        # xmlUrl in any case; `url` in OPML 1.0 and some old readers.
        url = _feed_url(_clean(attrib.get("xmlurl", "") or attrib.get("url", "")))
        if url and (kind in _LIST_TYPES or url.lower().partition("?")[0].endswith(".opml")):
            self.problems.append(
                f"{label or _cut(url)}: a link to another list, not a feed; skipped"
            )
            return None
        if not url:
            return label or None
        folders = list(itertools.islice((f for f in self.folders if f), MAX_FOLDERS))
        categories = [_category("/".join(folders))] if folders else []
        categories += map(_category, attrib.get("category", "").split(","))
        self._add(Outline(label, url, tuple(dict.fromkeys(c for c in categories if c))))
        return label or None

    def _add(self, outline: Outline) -> None:
        known = self.feeds.get(outline.url)
        if known is not None:  # one feed in two folders: one feed with both categories
            self.repeated += 1
            merged = tuple(dict.fromkeys(known.categories + outline.categories))
            self.feeds[outline.url] = Outline(known.title or outline.title, outline.url, merged)
            return
        if len(self.feeds) >= self.max_feeds:
            raise OpmlError(
                f"the file lists more than {self.max_feeds} feeds; at most {self.max_feeds} are"
                " imported at once: split it"
            )
        self.feeds[outline.url] = outline

    def result(self, broken: str) -> Parsed:
        if broken and not self.root:
            raise OpmlError(f"not an OPML file: it is not XML ({broken})")
        if not self.feeds:
            why = f"; it breaks off ({broken})" if broken else ""
            raise OpmlError(f"the file lists no feeds (no outline with an xmlUrl){why}")
        problems = list(self.problems)
        if self.repeated:
            many = self.repeated > 1
            problems.append(
                f"{self.repeated} repeated {'listings' if many else 'listing'} of a feed"
                f" {'were' if many else 'was'} merged (one feed, with all its folders)"
            )
        if broken:
            problems.append(f"the file breaks off ({broken}); the feeds before that were read")
        title = _cut(_clean("".join(self.title)))
        return Parsed(tuple(self.feeds.values()), tuple(problems), title)


def _not_opml(root: str) -> str:
    if root in ("rss", "feed", "rdf"):
        return "this is a feed itself, not a list of feeds (OPML): add it with /addfeed"
    if root == "html":
        return "this is a web page (HTML), not a list of feeds (OPML)"
    return f"not an OPML file: its root element is <{root[:40]}>, not <opml>"


def _feed_url(url: str) -> str:
    """feed://host/path is http://host/path, and feed:https://... is https://..."""
    if url[:5].lower() != "feed:":
        return url
    rest = url[5:]
    if rest[:6].lower() in ("http:/", "https:"):
        return rest
    return "http:" + rest if rest.startswith("//") else url


def _decode(data: bytes) -> str:
    """The file's text: by its byte-order mark, else UTF-8 when it is valid UTF-8 (whatever the
    header says: UTF-8 labelled ISO-8859-1 is common), else the header's encoding, else
    Windows-1252. Never fails."""
    for bom, marked in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(marked, errors="replace")
    if data.startswith((b"<\x00", b"\x00<")):  # UTF-16 without a mark
        return data.decode("utf-16-le" if data[0] else "utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED.match(data)
    codec = codec_for(declared.group(1).decode("ascii")) if declared else None
    if codec and codec.startswith("utf"):
        codec = None  # not UTF-8 after all, and the UTF-16s have a mark or a zero byte
    try:
        return data.decode(codec or "cp1252", errors="replace")
    except LookupError:  # a codec that is not a text encoding
        return data.decode("cp1252", errors="replace")


def _repair_references(text: str) -> str:
    """HTML's named entities as character references, and a bare '&' as '&amp;': what readers
    write that XML does not allow. (No entity is declared: that was refused before.)"""

    def repair(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "&amp;"
        name = match.group(2)
        if name is None or name in _XML_ENTITIES:
            return match.group(0)
        known = html.entities.html5.get(name + ";")
        return "".join(f"&#{ord(c)};" for c in known) if known else f"&amp;{name};"

    return _REFERENCE.sub(repair, text)


# -- both ---------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """One line of text as XML can hold it: spaces collapsed, control characters gone."""
    return " ".join(_NOT_XML.sub("", text).split())


def _category(text: str) -> str:
    """A category as written in `category` ("/Tech/AI/" is "Tech/AI"); commas cannot be in one."""
    parts = (_clean(p) for p in text.replace(",", " ").split("/"))
    return _cut("/".join(p for p in parts if p)).rstrip("/")


def _cut(text: str) -> str:
    return text[:MAX_TEXT].rstrip()


def size_text(size: int) -> str:
    """A file size in words: "1.2 MB", "340 KB"."""
    return f"{size / (1024 * 1024):.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} KB"
