"""A small web server on 127.0.0.1 for the feed tests: feeds, article pages, and the ways real
sites fail (500, a slow answer, a huge body, a redirect loop, a redirect to another scheme).

Routes are set by the tests: `server.route("/path", body, content_type=...)` for a page or feed,
or `server.route("/path", behaviour="slow"|"huge"|"loop"|"status", ...)`. A page or feed is
served with an ETag, and a request that sends it back gets 304. Every request is recorded.
`serve_fixture(server, name)` serves a feed of tests/fixtures/feeds with the headers a real
server sends for it (FIXTURES).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "feeds"
# Each fixture feed's Content-Type (and other headers) as its kind of server sends it. The
# legacy encodings are named here only, not in the XML: the case that gave mojibake.
FIXTURES: dict[str, tuple[str, dict[str, str]]] = {
    "wordpress-fulltext.rss": ("application/rss+xml; charset=UTF-8", {}),
    "description-only.rss": ("text/xml", {}),
    "atom-titles.atom": ("application/atom+xml", {}),
    "slashdot-rss1.rdf": ("application/rdf+xml", {}),
    "koi8-r.rss": ("application/rss+xml; charset=koi8-r", {"Content-Language": "ru"}),
    "shift_jis.rss": ("text/xml; charset=Shift_JIS", {}),
    "euc-jp.rss": ("application/rss+xml; charset=EUC-JP", {}),
    "euc-kr.rss": ("application/rss+xml; charset=euc-kr", {}),
    "gb2312.rss": ("text/xml; charset=gb2312", {}),
    "empty.rss": ("text/html; charset=utf-8", {}),  # a server that calls everything HTML
    "illformed.rss": ("application/rss+xml", {}),
    "one-page.rss": ("application/rss+xml", {}),
    "forbidden.rss": ("application/rss+xml", {}),
    "not-a-feed.html": ("text/html; charset=utf-8", {}),
    "feedparser-euc-kr-item.xml": ("application/xml", {}),
    "media-rss.rss": ("application/rss+xml; charset=UTF-8", {}),
    "podcast-and-wordpress-images.rss": ("application/rss+xml; charset=UTF-8", {}),
}


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    behaviour: str = "ok"  # ok, status, slow, huge, loop, redirect
    status: int = 200
    seconds: float = 0.0  # for slow
    size: int = 0  # for huge: bytes sent
    location: str = ""  # for redirect
    headers: dict[str, str] = field(default_factory=dict)  # more headers, e.g. Content-Language


@dataclass
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class _State:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FeedServer:
    def __init__(self) -> None:
        self._state = _State()
        state = self._state

        class Handler(_Handler):
            shared = state

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # shutdown() waits for serve_forever's next look at its flag: 0.05 s rather than the
        # default 0.5 s, which cost every test using a feed server half a second at its end.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, body: str | bytes = b"", **options: object) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._state.lock:
            self._state.routes[path] = Route(body=data, **options)  # type: ignore[arg-type]
        return self.url(path)

    def requests(self, path: str | None = None) -> list[Request]:
        with self._state.lock:
            return [r for r in self._state.requests if path is None or r.path == path]

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    shared: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # the base's name
        pass

    def do_GET(self) -> None:  # http.server's naming
        state = self.shared
        with state.lock:
            state.requests.append(
                Request(self.path, {k.lower(): v for k, v in self.headers.items()})
            )
            route = state.routes.get(self.path)
        if route is None:
            self._send(404, b"not found", "text/plain")
        elif route.behaviour == "status":
            self._send(route.status, route.body or b"server error", "text/plain")
        elif route.behaviour == "slow":
            time.sleep(route.seconds)
            self._send(200, route.body, route.content_type)
        elif route.behaviour == "huge":
            self._huge(route.size)
        elif route.behaviour == "loop":
            self._redirect(self.path)  # to itself, forever
        elif route.behaviour == "redirect":
            self._redirect(route.location)
        else:
            etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(200, route.body, route.content_type, etag=etag, headers=route.headers)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        etag: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:  # "": none at all, as some servers send
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _huge(self, size: int) -> None:
        """`size` bytes without a Content-Length (chunked), as a misbehaving server sends them."""
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"<!-- padding -->" * 4096
        sent = 0
        try:
            for piece in _pieces(chunk, size):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sent += len(piece)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what a size limit does


def _pieces(chunk: bytes, size: int) -> Iterator[bytes]:
    left = size
    while left > 0:
        piece = chunk[: min(len(chunk), left)]
        left -= len(piece)
        yield piece


def serve_fixture(server: FeedServer, name: str, **options: object) -> str:
    """Serve tests/fixtures/feeds/<name> at /fixtures/<name>, with its headers; its URL."""
    content_type, headers = FIXTURES[name]
    body = (FIXTURE_DIR / name).read_bytes()
    options = {"content_type": content_type, "headers": dict(headers), **options}
    return server.route(f"/fixtures/{name}", body, **options)


def rss(title: str, *items: dict[str, str]) -> str:
    """An RSS 2.0 feed; each item: title, link, guid, description, pubDate, content."""
    parts = []
    for item in items:
        fields = "".join(
            f"<{tag}>{_cdata(item[key])}</{tag}>"
            for key, tag in (
                ("title", "title"),
                ("link", "link"),
                ("guid", "guid"),
                ("description", "description"),
                ("pubDate", "pubDate"),
                ("content", "content:encoded"),
            )
            if key in item
        )
        parts.append(f"<item>{fields}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{title}</title><link>http://example.invalid/</link>"
        "<description>test feed</description><language>en-gb</language>"
        + "".join(parts)
        + "</channel></rss>"
    )


def atom(title: str, *entries: dict[str, str]) -> str:
    """An Atom feed; each entry: title, link, id, updated, content (HTML)."""
    parts = []
    for entry in entries:
        parts.append(
            "<entry>"
            f"<title>{entry['title']}</title>"
            f'<link rel="alternate" href="{entry.get("link", "")}"/>'
            f"<id>{entry['id']}</id>"
            f"<updated>{entry.get('updated', '2026-11-27T10:00:00Z')}</updated>"
            f'<content type="html">{_escape(entry.get("content", ""))}</content>'
            "</entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:test:{title}</id><updated>2026-11-27T10:00:00Z</updated>"
        + "".join(parts)
        + "</feed>"
    )


def page(title: str, *paragraphs: str, canonical: str = "", head: str = "") -> str:
    """A news page with navigation and a footer around the article; `head` is more markup for
    its <head> (an og:image, say)."""
    link = f'<link rel="canonical" href="{canonical}">{head}' if canonical else head
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Site | {title}</title>'
        f"{link}</head><body><nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer><p>Copyright. Follow us. Share this.</p></footer></body></html>"
    )


def _cdata(text: str) -> str:
    return f"<![CDATA[{text}]]>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
