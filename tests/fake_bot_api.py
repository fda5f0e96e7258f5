"""A fake Telegram Bot API server for end-to-end tests: the real bot process talks HTTP to it.

Standard library only. `FakeBotApi(token)` serves `http://127.0.0.1:<port>/bot<token>/<method>`
from a daemon thread (ThreadingHTTPServer on port 0) and behaves like Telegram as far as a
polling bot can tell:

- getUpdates long-polls: it waits up to `timeout` seconds for an update with
  update_id >= offset; an `offset` confirms (forgets) every earlier update, a negative one keeps
  the last -offset updates; unconfirmed updates are delivered again; a newer getUpdates ends an
  older one still waiting with 409 Conflict, as Telegram does.
- sendMessage / editMessageText return Message objects and keep the chat's messages, so a button
  press can carry the message as it is now. They answer 400 the way Telegram does for: an empty
  text, HTML that Telegram cannot parse, a text over 4096 characters, an unknown chat, a message
  to edit that is not there, an edit that changes nothing, callback_data over 64 bytes.
- sendPhoto takes an uploaded PNG or JPEG of at most 10 MB with a caption of at most 1024
  characters; the bytes are kept in the call's params["photo"]["content"].
- answerCallbackQuery wants the id of a callback query that was pushed and not answered yet.
- getFile and `/file/bot<token>/<file_path>` serve a file a test pushed (`push_document`);
  sendDocument keeps the upload in the call's params as {"filename", "content"}.
- A wrong token gets 401 Unauthorized, and so does the right one while it is revoked
  (`revoke_token`, `restore_token`: a token revoked or rotated in @BotFather, and given back);
  every other method answers {"ok": true, "result": true}.

Parameters are read from a query string and from form-encoded (what python-telegram-bot sends:
strings as they are, everything else JSON-encoded), multipart/form-data and JSON bodies, and
coerced to what Telegram would make of them (numbers, booleans, JSON objects).

Tests push updates (`push_message`, `push_document`, `push_callback`) and look at what the bot
did (`calls`, `replies_to`, `wait_for`). `telegram_html_problems` is the check Telegram applies to
parse_mode=HTML text, usable on its own.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import html
import itertools
import json
import re
import socket
import sys
import threading
import time
import urllib.error
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit
from urllib.request import Request, urlopen

T = TypeVar("T")

MAX_MESSAGE_LENGTH = 4096  # in UTF-16 code units of the text after entity parsing
MAX_CALLBACK_DATA = 64  # bytes
MAX_CALLBACK_ANSWER = 200  # characters
MAX_CAPTION_LENGTH = 1024  # like a message's text, after entity parsing
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # an uploaded photo


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Parameters Telegram reads as JSON when they come form-encoded (PTB JSON-encodes non-strings).
_JSON_PARAMS = _words(
    "allowed_updates button caption_entities commands entities explanation_entities "
    "link_preview_options media menu_button options prices reaction reply_markup "
    "reply_parameters results rights scope"
)
_INT_PARAMS = _words(
    "cache_time chat_id from_chat_id limit message_id message_thread_id offset "
    "reply_to_message_id user_id"
)
_FLOAT_PARAMS = frozenset({"timeout"})
_BOOL_PARAMS = _words(
    "allow_sending_without_reply disable_notification disable_web_page_preview "
    "drop_pending_updates is_personal protect_content show_alert"
)

# Method names are case-insensitive in the Bot API; calls are recorded under these spellings.
_METHODS = {
    name.lower(): name
    for name in _words(
        "getMe logOut close getUpdates setWebhook deleteWebhook getWebhookInfo sendMessage "
        "editMessageText editMessageReplyMarkup deleteMessage answerCallbackQuery "
        "answerInlineQuery setMyCommands deleteMyCommands getMyCommands sendChatAction "
        "sendDocument getFile sendPhoto"
    )
}

_PATH = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[A-Za-z]+)/?$")
_FILE_PATH = re.compile(r"^/file/bot(?P<token>[^/]*)/(?P<path>.+)$")


@dataclass
class Call:
    """One Bot API request, recorded when it arrives; status and result are set when answered
    (status 0 while a long poll is still waiting)."""

    method: str
    params: dict[str, Any]
    time: float  # time.monotonic() at arrival
    status: int = 0
    result: Any = None  # the "result" of an ok answer (a Message for sends and edits)
    description: str = ""  # the "description" of an error answer

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard sent with the call (rows of buttons), or []."""
        markup = self.params.get("reply_markup")
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        return rows if isinstance(rows, list) else []


class ApiError(Exception):
    """An error answer: Telegram's error_code and description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# -- Telegram HTML ------------------------------------------------------------------------------

_ALLOWED_TAGS = _words("b strong i em u ins s strike del a code pre blockquote tg-spoiler span")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")


class _TelegramHtml(HTMLParser):
    """Parses parse_mode=HTML text the way Telegram does: collects problems and the plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        where = f"<{tag}> at {self._offset()}"
        if tag not in _ALLOWED_TAGS:
            self.problems.append(f"unsupported start tag {where}")
            return
        attributes = dict(attrs)
        if tag == "a":
            if not attributes.get("href") or set(attributes) != {"href"}:
                self.problems.append(f"<a> needs exactly one non-empty href: {where}")
        elif tag == "span":
            if attributes != {"class": "tg-spoiler"}:
                self.problems.append(f'<span> other than class="tg-spoiler": {where}')
        elif tag == "code" and self.open[-1:] == ["pre"]:
            language = attributes.get("class") or "language-"
            if set(attributes) - {"class"} or not language.startswith("language-"):
                self.problems.append(f"bad attributes on {where}")
        elif tag == "blockquote":
            if set(attributes) - {"expandable"}:
                self.problems.append(f"bad attributes on {where}")
        elif attributes:
            self.problems.append(f"attributes on {where}")
        if any(t in ("pre", "code") for t in self.open) and not (
            tag == "code" and self.open[-1:] == ["pre"]
        ):
            self.problems.append(f"a tag inside <pre>/<code>: {where}")
        if tag == "a" and "a" in self.open:
            self.problems.append(f"a link inside a link: {where}")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing tag <{tag}/> at {self._offset()}")

    def handle_endtag(self, tag: str) -> None:
        if tag not in _ALLOWED_TAGS:
            self.problems.append(f"unsupported end tag </{tag}> at {self._offset()}")
        elif not self.open:
            self.problems.append(f"end tag </{tag}> with no open tag at {self._offset()}")
        elif self.open[-1] != tag:
            self.problems.append(f"end tag </{tag}> closes <{self.open[-1]}> at {self._offset()}")
            if tag in self.open:
                del self.open[self.open.index(tag) :]
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data:
            self.problems.append(f"unescaped '<' near {data[data.index('<') :][:20]!r}")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"an HTML comment at {self._offset()}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"a declaration <!{decl}> at {self._offset()}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"a processing instruction at {self._offset()}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"an unknown declaration at {self._offset()}")

    def _offset(self) -> str:
        line, column = self.getpos()
        return f"line {line}, column {column + 1}"


def _parse_html(text: str) -> tuple[list[str], str]:
    problems = [
        f"unescaped '&' at character {m.start() + 1}: {text[m.start() : m.start() + 12]!r}"
        for m in re.finditer("&", text)
        if not _ENTITY.match(text, m.start())
    ]
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    problems += parser.problems
    if parser.open:
        problems.append("unclosed tags: " + ", ".join(f"<{t}>" for t in parser.open))
    return problems, "".join(parser.text)


def telegram_html_problems(text: str) -> list[str]:
    """What Telegram would refuse in this parse_mode=HTML text ([] when it is fine): tags other
    than b strong i em u ins s strike del a[href] code pre blockquote tg-spoiler
    span[class=tg-spoiler], tags not closed or not nested, a raw '<', an '&' that does not start
    &lt; &gt; &amp; &quot; or a numeric character reference."""
    return _parse_html(text)[0]


def html_to_text(text: str) -> str:
    """The text a parse_mode=HTML message shows: tags dropped, entities replaced."""
    return _parse_html(text)[1]


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# -- the server ---------------------------------------------------------------------------------


@dataclass
class _Stored:
    """A message in a chat as Telegram keeps it."""

    message: dict[str, Any]
    source: str = ""  # the text as sent (HTML), to tell an edit that changes nothing
    from_bot: bool = True


@dataclass
class _State:
    token: str
    bot_user: dict[str, Any]
    lock: threading.Condition = field(
        default_factory=lambda: threading.Condition(threading.RLock())
    )
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # not yet confirmed
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[tuple[int, int], _Stored] = field(default_factory=dict)
    last_message_id: dict[int, int] = field(default_factory=dict)
    open_callbacks: set[str] = field(default_factory=set)
    failures: dict[str, list[ApiError]] = field(default_factory=dict)  # method -> errors to give
    # [scope, language_code] as JSON -> commands
    commands: dict[str, list[Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # the fake's own failures
    update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(700_000_001))
    callback_ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(4_200_000_000_001)
    )
    poll_generation: int = 0
    revoked: bool = False  # the token is refused (401) until restored
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> what a user sent
    version: int = 0  # bumped (with notify_all) on every change
    closing: bool = False

    def changed(self) -> None:
        self.version += 1
        self.lock.notify_all()


class _Server(ThreadingHTTPServer):
    """Tracks its connection threads, so that close() can end keep-alive connections and wait
    for their threads instead of leaving them behind."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, state: _State) -> None:
        self.state = state
        self.connections: dict[threading.Thread, socket.socket] = {}
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="fake-bot-api-connection",
            daemon=True,
        )
        with self.connections_lock:
            self.connections[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (a bot process killed mid-request) is no error of the fake.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError) or self.state.closing:
            return
        with self.state.lock:
            self.state.errors.append(f"{type(exc).__name__}: {exc}")

    def close_connections(self, timeout: float) -> None:
        with self.connections_lock:
            connections = dict(self.connections)
        for sock in connections.values():
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in connections:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like api.telegram.org
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the calls are recorded; stderr stays quiet

    def _serve(self) -> None:
        state = self.server.state
        try:
            body = self._read_body()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            return
        url = urlsplit(self.path)
        match = _PATH.match(url.path)
        download = _FILE_PATH.match(unquote(url.path))  # PTB quotes the path: %3A in the token
        if download is not None:  # a file getFile named: /file/bot<token>/documents/<file_id>
            with state.lock:
                found = state.files.get(download["path"].rpartition("/")[2])
            if download["token"] != state.token or found is None:
                self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            else:
                self._send_bytes(found)
            return
        if match is None:
            self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        method = _METHODS.get(match["method"].lower(), match["method"])
        call = Call(method, {}, time.monotonic())
        with state.lock:
            state.calls.append(call)
            state.changed()
        try:
            call.params.update(_query_params(url.query))
            call.params.update(_body_params(self.headers.get("Content-Type", ""), body))
            if match["token"] != state.token or state.revoked:
                raise ApiError(401, "Unauthorized")
            with state.lock:
                planned = state.failures.get(method)
                if planned:
                    raise planned.pop(0)
            status, result = 200, _answer(state, call)
            description = ""
        except (ValueError, UnicodeDecodeError) as exc:
            status, result, description = 400, None, f"Bad Request: {exc}"
        except ApiError as exc:
            status, result, description = exc.status, None, exc.description
        except Exception as exc:  # a bug in the fake: answer like a server error, and keep it
            status, result, description = 500, None, f"Internal Server Error: {exc!r}"
            with state.lock:
                state.errors.append(f"{method}: {exc!r}")
        with state.lock:
            call.status, call.result, call.description = status, result, description
            state.changed()
        if status == 200:
            self._send(200, {"ok": True, "result": result})
            return
        error: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if status == 429:
            error["parameters"] = {"retry_after": 1}
        self._send(status, error)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        self._send_bytes(
            json.dumps(payload, ensure_ascii=False).encode(), status, "application/json"
        )

    def _send_bytes(
        self, data: bytes, status: int = 200, kind: str = "application/octet-stream"
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (ConnectionError, TimeoutError, ValueError):  # the client left; ValueError: closed
            self.close_connection = True


def _query_params(query: str) -> Iterable[tuple[str, Any]]:
    for name, value in parse_qsl(query, keep_blank_values=True):
        yield name, _coerce(name, value)


def _body_params(content_type: str, body: bytes) -> dict[str, Any]:
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        return {}
    if kind == "application/json":
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("a JSON body must be an object")
        return {str(k): _coerce(str(k), v) for k, v in data.items()}
    if kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        params: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            raw = payload if isinstance(payload, bytes) else b""
            if part.get_filename():
                params[name] = {"filename": part.get_filename(), "content": raw}
            else:
                charset = part.get_content_charset() or "utf-8"
                params[name] = _coerce(name, raw.decode(charset))
        return params
    # application/x-www-form-urlencoded, or no content type at all
    return {
        name: _coerce(name, value)
        for name, value in parse_qsl(body.decode(), keep_blank_values=True)
    }


def _coerce(name: str, value: Any) -> Any:
    """A parameter as Telegram reads it: numbers, booleans and objects from their text form."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if name in _JSON_PARAMS and text[:1] in ("{", "["):
        return json.loads(text)
    if name in _INT_PARAMS and re.fullmatch(r"-?\d+", text):
        return int(text)
    if name in _FLOAT_PARAMS and re.fullmatch(r"-?\d+(\.\d*)?", text):
        number = float(text)
        return int(number) if number.is_integer() else number
    if name in _BOOL_PARAMS and text.lower() in ("true", "false", "1", "0"):
        return text.lower() in ("true", "1")
    return value


# -- the methods --------------------------------------------------------------------------------


def _answer(state: _State, call: Call) -> Any:
    p = call.params
    method = call.method
    if method == "getUpdates":
        return _get_updates(state, p)
    with state.lock:
        if method == "getMe":
            return dict(state.bot_user)
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method in ("sendMessage", "editMessageText"):
            return _send_or_edit(state, call)
        if method == "sendPhoto":
            return _send_photo(state, call)
        if method == "answerCallbackQuery":
            query_id = str(p.get("callback_query_id", ""))
            if query_id not in state.open_callbacks:
                raise _bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            if len(str(p.get("text", ""))) > MAX_CALLBACK_ANSWER:
                raise _bad_request("MESSAGE_TOO_LONG")
            state.open_callbacks.discard(query_id)
            return True
        if method in ("setMyCommands", "deleteMyCommands", "getMyCommands"):
            return _commands(state, method, p)
        if method in ("sendDocument", "getFile"):
            return _document(state, call)
        return True


def _document(state: _State, call: Call) -> Any:
    """getFile for a file a test pushed; sendDocument keeps the upload (filename, content) in
    the call's params and answers with a Message that has the document."""
    p = call.params
    if call.method == "getFile":
        file_id = str(p.get("file_id", ""))
        if file_id not in state.files:
            raise _bad_request("invalid file_id")
        size = len(state.files[file_id])
        path = f"documents/{file_id}"
        return {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_size": size,
            "file_path": path,
        }
    chat_id = p.get("chat_id")
    upload = p.get("document")
    if not isinstance(chat_id, int) or chat_id not in state.chats:
        raise _bad_request("chat not found")
    if not isinstance(upload, dict) or not upload.get("content"):
        raise _bad_request("there is no document in the request")
    message_id = _next_message_id(state, chat_id)
    document: dict[str, Any] = {"file_id": f"sent{message_id}", "file_unique_id": f"u{message_id}"}
    document.update(file_name=upload["filename"], file_size=len(upload["content"]))
    message: dict[str, Any] = {"message_id": message_id, "from": dict(state.bot_user)}
    message["date"] = int(time.time())
    message.update(chat=dict(state.chats[chat_id]), document=document)
    if p.get("caption"):
        message["caption"] = _check_text({"text": p["caption"], "parse_mode": p.get("parse_mode")})
    return message


def _get_updates(state: _State, p: dict[str, Any]) -> list[dict[str, Any]]:
    offset = int(p.get("offset") or 0)
    limit = max(1, min(int(p.get("limit") or 100), 100))
    timeout = max(0.0, float(p.get("timeout") or 0))
    deadline = time.monotonic() + timeout
    with state.lock:
        state.poll_generation += 1
        generation = state.poll_generation
        if offset < 0:
            del state.updates[: max(0, len(state.updates) + offset)]
        elif offset > 0:
            state.updates[:] = [u for u in state.updates if u["update_id"] >= offset]
        state.changed()  # an older poll still waiting is now in conflict
        while True:
            if state.closing:
                return []
            if state.revoked:
                raise ApiError(401, "Unauthorized")
            if generation != state.poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request;"
                    " make sure that only one bot instance is running",
                )
            if state.updates:
                return [json.loads(json.dumps(u)) for u in state.updates[:limit]]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            state.lock.wait(remaining)


def _send_or_edit(state: _State, call: Call) -> Any:
    p = call.params
    if call.method == "editMessageText" and "inline_message_id" in p:
        _check_text(p)
        _check_markup(p)
        return True
    chat_id = p.get("chat_id")
    if not isinstance(chat_id, int) or chat_id not in state.chats:
        raise _bad_request("chat not found")
    text = _check_text(p)
    markup = _check_markup(p)
    preview = _check_link_preview(p)
    source = str(p.get("text", ""))
    if call.method == "sendMessage":
        message: dict[str, Any] = {
            "message_id": _next_message_id(state, chat_id),
            "from": dict(state.bot_user),
            "chat": dict(state.chats[chat_id]),
            "date": int(time.time()),
            "text": text,
        }
        if markup is not None:
            message["reply_markup"] = markup
        if preview is not None:
            message["link_preview_options"] = preview
        reply_to = _reply_to(state, chat_id, p)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if "message_thread_id" in p:
            message["message_thread_id"] = p["message_thread_id"]
        state.messages[(chat_id, message["message_id"])] = _Stored(message, source)
        return json.loads(json.dumps(message))
    stored = state.messages.get((chat_id, int(p.get("message_id") or 0)))
    if stored is None:
        raise _bad_request("message to edit not found")
    if not stored.from_bot:
        raise _bad_request("message can't be edited")
    if source == stored.source and markup == stored.message.get("reply_markup"):
        raise _bad_request(
            "message is not modified: specified new message content and reply markup are"
            " exactly the same as a current content and reply markup of the message"
        )
    edited = dict(stored.message, text=text, edit_date=int(time.time()))
    edited.pop("reply_markup", None)
    edited.pop("link_preview_options", None)
    if markup is not None:
        edited["reply_markup"] = markup
    if preview is not None:
        edited["link_preview_options"] = preview
    state.messages[(chat_id, edited["message_id"])] = _Stored(edited, source)
    return json.loads(json.dumps(edited))


def _send_photo(state: _State, call: Call) -> Any:
    """An uploaded photo (multipart, as PTB sends bytes): a PNG or JPEG of at most 10 MB, with a
    caption of at most 1024 characters. Its bytes stay in the call's params["photo"]."""
    p = call.params
    chat_id = p.get("chat_id")
    if not isinstance(chat_id, int) or chat_id not in state.chats:
        raise _bad_request("chat not found")
    photo = p.get("photo")
    data = photo.get("content") if isinstance(photo, dict) else None
    if not isinstance(data, bytes) or not data:
        raise _bad_request("there is no photo in the request")
    if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        raise _bad_request("IMAGE_PROCESS_FAILED")
    if len(data) > MAX_PHOTO_BYTES:
        raise _bad_request("PHOTO_SAVE_FILE_INVALID")
    caption = _check_text({**p, "text": p.get("caption") or "-"})
    if _utf16_length(caption) > MAX_CAPTION_LENGTH:
        raise _bad_request("message caption is too long")
    message_id = _next_message_id(state, chat_id)
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": dict(state.bot_user),
        "chat": dict(state.chats[chat_id]),
        "date": int(time.time()),
        "photo": [
            {
                "file_id": f"photo{message_id}",
                "file_unique_id": f"p{message_id}",
                "width": 1280,
                "height": 960,
                "file_size": len(data),
            }
        ],
    }
    if p.get("caption"):
        message["caption"] = caption
    state.messages[(chat_id, message_id)] = _Stored(message)
    return json.loads(json.dumps(message))


def _check_text(p: dict[str, Any]) -> str:
    source = p.get("text")
    if not isinstance(source, str) or not source.strip():
        raise _bad_request("message text is empty")
    text = source
    if str(p.get("parse_mode", "")).lower() == "html":
        problems, text = _parse_html(source)
        if problems:
            raise _bad_request(f"can't parse entities: {problems[0]}")
        if not text.strip():
            raise _bad_request("message text is empty")
    if _utf16_length(text) > MAX_MESSAGE_LENGTH:
        raise _bad_request("message is too long")
    return text


def _check_markup(p: dict[str, Any]) -> dict[str, Any] | None:
    markup = p.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise _bad_request("BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise _bad_request("BUTTON_DATA_INVALID")
    return markup


def _check_link_preview(p: dict[str, Any]) -> dict[str, Any] | None:
    """link_preview_options as Telegram reads it: a JSON object whose url, if given, is a string
    and whose flags are booleans; the message keeps it (the preview it shows)."""
    options = p.get("link_preview_options")
    if options is None:
        return None
    if not isinstance(options, dict):
        raise _bad_request("can't parse link preview options JSON object")
    if "url" in options and not isinstance(options["url"], str):
        raise _bad_request('field "url" of the LinkPreviewOptions must be a String')
    for flag in ("is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text"):
        if flag in options and not isinstance(options[flag], bool):
            raise _bad_request(f'field "{flag}" of the LinkPreviewOptions must be a Boolean')
    return options


def _reply_to(state: _State, chat_id: int, p: dict[str, Any]) -> dict[str, Any] | None:
    reply = p.get("reply_parameters")
    message_id = (
        reply.get("message_id") if isinstance(reply, dict) else p.get("reply_to_message_id")
    )
    if not isinstance(message_id, int):
        return None
    stored = state.messages.get((chat_id, message_id))
    if stored is None:
        allow = isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        if allow or p.get("allow_sending_without_reply"):
            return None
        raise _bad_request("message to be replied not found")
    return dict(stored.message)


def _commands(state: _State, method: str, p: dict[str, Any]) -> Any:
    scope = p.get("scope") or {"type": "default"}
    if not isinstance(scope, dict):
        raise _bad_request("can't parse BotCommandScope JSON object")
    if scope.get("type") in ("chat", "chat_administrators", "chat_member") and (
        scope.get("chat_id") not in state.chats
    ):
        raise _bad_request("chat not found")
    language = str(p.get("language_code") or "")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise _bad_request("language code is invalid")  # a two-letter ISO 639-1 code, or none
    key = json.dumps([scope, language], sort_keys=True)
    if method == "getMyCommands":
        return state.commands.get(key, [])
    if method == "deleteMyCommands":
        state.commands.pop(key, None)
        return True
    commands = p.get("commands")
    if not isinstance(commands, list):
        raise _bad_request("can't parse commands JSON object")
    for command in commands:
        name = command.get("command", "") if isinstance(command, dict) else ""
        description = command.get("description", "") if isinstance(command, dict) else ""
        if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
            raise _bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(description)) <= 256:
            raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    state.commands[key] = commands
    return True


def _next_message_id(state: _State, chat_id: int) -> int:
    state.last_message_id[chat_id] = state.last_message_id.get(chat_id, 0) + 1
    return state.last_message_id[chat_id]


# -- the test-facing API ------------------------------------------------------------------------


class FakeBotApi:
    """A fake Bot API on 127.0.0.1 for one bot token; use it as a context manager.

    `base_url` is what the bot takes as its API base (the token is appended to it).
    """

    def __init__(self, token: str, *, username: str = "fake_news_bot") -> None:
        bot_id, _, _ = token.partition(":")
        self.token = token
        self.username = username
        self._state = _State(
            token=token,
            bot_user={
                "id": int(bot_id) if bot_id.isdigit() else 1,
                "is_bot": True,
                "first_name": "Fake News",
                "username": username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": True,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            },
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- lifetime

    def start(self) -> FakeBotApi:
        if self._server is not None:
            return self
        self._server = _Server(self._state)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}/bot"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-bot-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving: waiting long polls return [], connections are closed, threads joined."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        with self._state.lock:
            self._state.closing = True
            self._state.changed()
        server.shutdown()
        thread.join(5)
        server.close_connections(timeout=5)
        server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- updates

    def push_message(
        self,
        text: str,
        *,
        user_id: int = 424242,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Tester",
        language_code: str = "en",
        webhook: bool = False,
    ) -> Any:
        """A text message from a user, as an update; returns its update_id. In a private chat the
        chat id is the user id; a leading /command gets its bot_command entity."""
        user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        if chat_id is None:
            chat_id = user_id if chat_type == "private" else -1_000_000_000_000 - user_id
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = "Test group"
        with self._state.lock:
            self._state.chats.setdefault(chat_id, chat)
            message: dict[str, Any] = {
                "message_id": _next_message_id(self._state, chat_id),
                "from": user,
                "chat": dict(self._state.chats[chat_id]),
                "date": int(time.time()),
                "text": text,
            }
            command = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{1,64})?", text)
            if command:
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16_length(command[0])}
                ]
            self._state.messages[(chat_id, message["message_id"])] = _Stored(
                message, text, from_bot=False
            )
            if webhook:  # for the test to post to the bot's webhook itself
                return {"update_id": next(self._state.update_ids), "message": message}
            return self._push(message=message)

    def webhook_update(self, text: str, *, user_id: int, language_code: str = "en") -> Any:
        """The update push_message would queue, returned instead (the chat is known from now
        on): what Telegram would post to a bot's webhook."""
        return self.push_message(text, user_id=user_id, language_code=language_code, webhook=True)

    def push_document(
        self, user_id: int, filename: str, data: bytes, *, mime_type: str = "text/x-opml"
    ) -> int:
        """A file sent by a user in a private chat, as an update; returns its update_id. The
        bot gets its bytes through getFile and the file URL."""
        user = {"id": user_id, "is_bot": False, "first_name": "Tester", "language_code": "en"}
        with self._state.lock:
            chat = self._state.chats.setdefault(
                user_id, {"id": user_id, "type": "private", "first_name": "Tester"}
            )
            file_id = f"doc{len(self._state.files) + 1}"
            self._state.files[file_id] = data
            document: dict[str, Any] = {"file_id": file_id, "file_unique_id": "u" + file_id}
            document.update(file_name=filename, mime_type=mime_type, file_size=len(data))
            message: dict[str, Any] = {"message_id": _next_message_id(self._state, user_id)}
            message["from"] = user
            message.update(chat=dict(chat), date=int(time.time()), document=document)
            return self._push(message=message)

    def push_callback(
        self,
        data: str,
        message: dict[str, Any] | Call,
        *,
        user_id: int | None = None,
        first_name: str = "Tester",
    ) -> str:
        """A button press on a message the bot sent (its Message, or the sendMessage call that
        returned it); the update carries the message as it is now. Returns the callback query's
        id, which the bot's answerCallbackQuery must name (`callback_query_id`)."""
        sent = message.result if isinstance(message, Call) else message
        if not isinstance(sent, dict) or "chat" not in sent:
            raise ValueError("push_callback needs a Message the bot sent (a call's result)")
        chat_id = int(sent["chat"]["id"])
        if user_id is None:
            user_id = chat_id if sent["chat"].get("type") == "private" else 424242
        with self._state.lock:
            stored = self._state.messages.get((chat_id, int(sent["message_id"])))
            current = stored.message if stored else sent
            query_id = str(next(self._state.callback_ids))
            self._state.open_callbacks.add(query_id)
            query = {
                "id": query_id,
                "from": {"id": user_id, "is_bot": False, "first_name": first_name},
                "chat_instance": str(abs(chat_id) * 7919),
                "message": json.loads(json.dumps(current)),
                "data": data,
            }
            self._push(callback_query=query)
            return query_id

    def _push(self, **payload: Any) -> int:
        with self._state.lock:
            update_id = next(self._state.update_ids)
            self._state.updates.append({"update_id": update_id, **payload})
            self._state.changed()
            return update_id

    def revoke_token(self) -> None:
        """From now on every call is answered 401 Unauthorized, as after /revoke in @BotFather;
        a long poll already waiting is answered so too."""
        with self._state.lock:
            self._state.revoked = True
            self._state.changed()

    def restore_token(self) -> None:
        """The token works again (the bot is started with a token Telegram takes)."""
        with self._state.lock:
            self._state.revoked = False
            self._state.changed()

    def fail_next(
        self, method: str, *, status: int = 502, description: str = "Bad Gateway", times: int = 1
    ) -> None:
        """Answer the next `times` calls of this method with this error instead (429 comes with
        retry_after 1, as Telegram's flood control does)."""
        with self._state.lock:
            errors = self._state.failures.setdefault(method, [])
            errors.extend(ApiError(status, description) for _ in range(times))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not confirmed yet (delivered or not)."""
        with self._state.lock:
            return json.loads(json.dumps(self._state.updates))  # type: ignore[no-any-return]

    # -- what the bot did

    def calls(self, method: str | None = None) -> list[Call]:
        """Every request so far, in order of arrival (only this method's, if given)."""
        with self._state.lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def replies_to(self, chat_id: int) -> list[Call]:
        """The sendMessage and editMessageText calls for this chat, answered or refused."""
        return [
            c
            for c in self.calls()
            if c.method in ("sendMessage", "editMessageText") and c.chat_id == chat_id
        ]

    @property
    def errors(self) -> list[str]:
        """Failures of the fake itself (should stay empty)."""
        with self._state.lock:
            return list(self._state.errors)

    def wait_for(self, predicate: Callable[[], T], timeout: float) -> T:
        """Call predicate until it returns something true (returned) or timeout seconds pass
        (its last, false value is returned). Wakes at once on every call and pushed update."""
        deadline = time.monotonic() + timeout
        while True:
            with self._state.lock:
                version = self._state.version
            value = predicate()
            remaining = deadline - time.monotonic()
            if value or remaining <= 0:
                return value
            with self._state.lock:
                if self._state.version == version:
                    # A short cap: the predicate may also watch things outside the fake.
                    self._state.lock.wait(min(remaining, 0.05))


def post_update(url: str, update: dict[str, Any], secret: str, *, tries: int = 300) -> int:
    """Post an update to a bot's webhook as Telegram does (JSON, the secret in its header);
    returns the HTTP status. A server not listening yet (still starting) is tried again every
    0.1 s, `tries` times, then ConnectionError."""
    request = Request(
        url,
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    for _ in range(tries):
        try:
            with urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            time.sleep(0.1)
    raise ConnectionError(f"the webhook at {url} never answered")
