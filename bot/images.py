"""Lead images: which address is an article's picture, and whether Telegram may be given it.

An article keeps the address of its lead image (Article.image), which the chat hands to Telegram
as the message's large link preview: never a file, never in the text. Here is everything that
decides it: the check every address passes (image_url: absolute http or https, short, no white
space or control characters; anything else is dropped, never an error), and where each kind of
source keeps its picture: a front matter or JSON record's fields (in_record), a web page's
og:image, twitter:image or JSON-LD (on_page), a feed entry's Media RSS, enclosures or <img>
(of_entry). Imports nothing of the bot's.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

# A lead image's address longer than this is not kept (real ones are a few hundred characters).
MAX_IMAGE_URL = 1000


def image_url(value: object, base: str | None = None) -> str | None:
    """A lead image's address as an article keeps it, else None (never an exception).

    Only absolute http and https addresses with a host, of at most MAX_IMAGE_URL characters,
    without white space or control characters; `base` (the page's or feed's address) resolves
    a relative one, and one starting with // is taken as https without a base. data:,
    javascript: and the like are dropped: the address is handed to Telegram to fetch."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_IMAGE_URL or not _printable_url(text):
        return None
    try:
        if base and not urlsplit(text).scheme:
            text = urljoin(base, text)
        elif text.startswith("//"):
            text = "https:" + text
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:  # a malformed IPv6 address or port
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return text if len(text) <= MAX_IMAGE_URL and _printable_url(text) else None


def _printable_url(text: str) -> bool:
    """No white space, control, format or unpaired surrogate characters anywhere."""
    return not any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in text)


# -- article files: front matter and JSON records --

# Where exporters put an article's lead image: Hugo and Jekyll themes, JSON Feed, schema.org,
# WordPress exports, scraped pages' Open Graph and Twitter cards.
_IMAGE_KEYS = (
    "image",
    "images",
    "featured_image",
    "featuredimage",
    "cover",
    "og:image",
    "og_image",
    "twitter:image",
    "thumbnail",
    "thumbnail_url",
    "banner_image",
    "lead_image_url",
)


def in_record(meta: Mapping[str, Any], base: str | None = None) -> str | None:
    """The lead image: an address, a list of them (the first usable), or {url|src|href: ...}.
    A relative address is resolved against `base` (the article's own URL); anything that is not
    an http(s) address is left out (image_url)."""
    for key in _IMAGE_KEYS:
        if key in meta:
            found = _image_value(meta[key], base)
            if found:
                return found
    return None


def _image_value(value: Any, base: str | None, depth: int = 0) -> str | None:
    if isinstance(value, str):
        return image_url(value, base)
    if depth > 2:
        return None
    if isinstance(value, dict):
        for key in ("url", "src", "href", "image", "contenturl", "contentUrl"):
            found = _image_value(value.get(key), base, depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for item in value[:10]:
            found = _image_value(item, base, depth + 1)
            if found:
                return found
    return None


# -- web pages --

# The lead image's <meta> names, best first: Open Graph (what Telegram and Facebook show), then
# Twitter's card, then the older <link rel="image_src">. Matched lower-cased.
_IMAGE_META = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image")
_IMAGE_META_MORE = ("twitter:image:src", "image", "thumbnail")
# schema.org types whose "image" is the article's picture, in a page's JSON-LD.
_ARTICLE_TYPES = frozenset(
    {"Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "AnalysisNewsArticle"}
)


def on_page(found: object, root: Any, base: str | None) -> str | None:
    """A web page's lead image: `found` (trafilatura's pick) when it is usable, else the first
    usable of the page's own og:image, twitter:image... (also those outside <head>, where a
    page's broken markup may leave them), else its JSON-LD article's image; relative addresses
    resolved against the page's (`base`). `root` is the page's lxml tree (or None)."""
    image = image_url(found, base)
    if image or root is None:
        return image
    named: dict[str, list[str]] = {}
    for meta in root.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content")
        if content and name in _IMAGE_META + _IMAGE_META_MORE:
            named.setdefault(name, []).append(content)
    candidates = [c for name in _IMAGE_META + _IMAGE_META_MORE for c in named.get(name, [])]
    candidates += [
        link.get("href") for link in root.iter("link") if (link.get("rel") or "") == "image_src"
    ]
    candidates += _json_ld_images(root)
    for candidate in candidates:
        image = image_url(candidate, base)
        if image:
            return image
    return None


def _json_ld_images(root: Any) -> list[str]:
    """The "image" addresses of the article objects in the page's JSON-LD (also in @graph):
    a string, a list, or an ImageObject with its url."""
    found: list[str] = []
    for script in root.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text[:200_000])
        except (ValueError, RecursionError):
            continue
        nodes = list(data[:20]) if isinstance(data, list) else [data]
        for node in itertools.islice(_walked(nodes), 50):
            kind = node.get("@type")
            kinds = {k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)}
            if kinds & _ARTICLE_TYPES:
                found.extend(_image_addresses(node.get("image")))
    return found


def _walked(nodes: list[Any]) -> Iterator[dict[str, Any]]:
    """JSON-LD objects, and those in their @graph after them."""
    queue = list(nodes)
    while queue:
        node = queue.pop(0)
        if isinstance(node, dict):
            yield node
            graph = node.get("@graph")
            if isinstance(graph, list):
                queue.extend(graph[:20])


def _image_addresses(value: object, *, nested: bool = False) -> list[str]:
    """An "image" value's addresses: a string, an ImageObject's url, a list of those."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [u for u in (value.get("url"), value.get("contentUrl")) if isinstance(u, str)]
    if isinstance(value, list) and not nested:
        return [a for item in value[:5] for a in _image_addresses(item, nested=True)]
    return []


# -- feed entries (feedparser's dicts) --

# An <img> this small (a tracking pixel, an emoji, a share button) is no lead image.
_MIN_IMG_SIZE = 50
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


def of_entry(raw: Any, html_texts: tuple[str, str], base: str) -> str | None:
    """The entry's lead image: the widest media:content that is an image, else an enclosure of
    an image type, else the widest media:thumbnail, else the first <img> of its content (then
    of its summary) that is not a pixel or an icon. Audio and video enclosures never count.
    Each address must pass articles.image_url; relative ones are resolved against the entry's
    link."""
    media = [m for m in _dicts(raw.get("media_content")) if _is_image(m, "url", "medium")]
    enclosures = [
        {"url": link.get("href")}
        for link in _dicts(raw.get("links"))
        if link.get("rel") == "enclosure" and _is_image(link, "href", None)
    ]
    thumbnails = _dicts(raw.get("media_thumbnail"))
    for candidate in [*_widest_first(media), *enclosures, *_widest_first(thumbnails)]:
        found = image_url(candidate.get("url"), base or None)
        if found:
            return found
    return next(filter(None, (_first_img(text, base) for text in html_texts)), None)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _is_image(item: dict[str, Any], url_key: str, medium_key: str | None) -> bool:
    """An image by its medium or MIME type; by its address's suffix when it names neither."""
    medium = str(item.get(medium_key) or "").lower() if medium_key else ""
    kind = str(item.get("type") or "").lower()
    if medium or kind:
        return medium == "image" or kind.startswith("image/")
    return urlsplit(str(item.get(url_key) or "")).path.lower().endswith(_IMAGE_SUFFIXES)


def _widest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feeds list a picture in several sizes: the widest first, the feed's order among equals."""
    return sorted(items, key=lambda item: -_size(item.get("width")))


def _size(value: object) -> int:
    text = str(value or "").strip().removesuffix("px")
    return int(text) if text.isdigit() and len(text) < 7 else 0


def _first_img(html_text: str, base: str) -> str | None:
    """The first <img src> of an entry's HTML that is not a pixel or an icon."""
    for tag in _IMG.findall(html_text[:200_000]):
        attributes = {
            m[1].lower(): html.unescape(m[2] or m[3] or m[4] or "")
            for m in _ATTRIBUTE.finditer(tag)
        }
        width, height = _size(attributes.get("width")), _size(attributes.get("height"))
        if (width and width < _MIN_IMG_SIZE) or (height and height < _MIN_IMG_SIZE):
            continue
        found = image_url(attributes.get("src"), base or None)
        if found:
            return found
    return None
