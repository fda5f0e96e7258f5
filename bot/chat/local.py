"""A Bot API answered in-process, and updates made locally: the terminal chat and the tests run
the real Application through these instead of the network.

LocalBotApi is a python-telegram-bot request object (the pattern of PTB's own test suite): every
call is recorded and answered the way Telegram would answer it, as far as this bot needs.
LocalUser makes real Update objects, as if a person typed, pressed a button or sent a file
(LocalBotApi.upload keeps the file for getFile and its download).
"""

from __future__ import annotations

import itertools
import json
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

# A token of the right shape that no Telegram server knows.
LOCAL_TOKEN = "1000:local-terminal-chat-no-network"
BOT_ID = 1000


# The flags Telegram sends with an administrator's or owner's membership.
_ADMIN_RIGHTS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None  # what the local Bot API answered (a message, for sends and edits)
    files: dict[str, bytes] = field(default_factory=dict)  # uploads (sendPhoto's photo), by name


class LocalBotApi(BaseRequest):
    """Answers Bot API methods without a network; `calls` holds every request, in order."""

    def __init__(
        self,
        *,
        username: str = "newsbot",
        on_call: Callable[[Call], None] | None = None,
        failure: Callable[[Call], tuple[int, dict[str, Any]] | None] | None = None,
    ) -> None:
        self.username = username
        self.calls: list[Call] = []
        self.on_call = on_call
        # Tests inject Telegram's failures: return (HTTP status, error body) for a call, or
        # None to answer it normally; raising (e.g. telegram.error.TimedOut) works too.
        self.failure = failure
        # Group members' statuses for getChatMember (anyone else is a plain member).
        self.member_status: dict[int, str] = {}
        self._message_ids = itertools.count(1)
        # Files people sent (by file_id), for getFile and the download that follows.
        self.files: dict[str, bytes] = {}

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        if "/file/bot" in url:  # a file's download (getFile named its path): the bytes
            return (200, self.files[name]) if name in self.files else (404, b"Not Found")
        params = dict(request_data.parameters) if request_data else {}
        for field_name, (filename, content, _) in (
            request_data.multipart_data if request_data else {}
        ).items():
            params[field_name] = {"filename": filename, "content": content}
        call = Call(name, params, files=_uploads(request_data))
        self.calls.append(call)
        try:
            failed = self.failure(call) if self.failure else None
        except Exception as exc:  # an injected network failure: the call never got an answer
            call.result = {"ok": False, "raised": repr(exc)}
            raise
        if failed is not None:
            call.result = failed[1]
            return failed[0], json.dumps(failed[1]).encode()
        call.result = self._result(call)
        if self.on_call:
            self.on_call(call)
        return 200, json.dumps({"ok": True, "result": call.result}).encode()

    def sent(self, *methods: str) -> list[Call]:
        """The recorded calls of these methods (default: messages sent or edited), answered."""
        wanted = methods or ("sendMessage", "editMessageText")
        return [
            call
            for call in self.calls
            if call.method in wanted and not (isinstance(call.result, dict) and "ok" in call.result)
        ]

    def upload(self, filename: str, data: bytes, mime_type: str = "") -> dict[str, Any]:
        """A file a person sends: kept for getFile; returns its Document (for LocalUser)."""
        file_id = f"doc{len(self.files) + 1}"
        self.files[file_id] = data
        document = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_name": filename}
        return {**document, "mime_type": mime_type or _mime_type(filename), "file_size": len(data)}

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "News",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    def _result(self, call: Call) -> Any:
        p = call.params
        if call.method == "getMe":
            return self.bot_user()
        if call.method == "getUpdates":
            return []
        if call.method == "sendMessage":
            return self._message(p, next(self._message_ids))
        if call.method == "sendPhoto":
            return self._photo(call, next(self._message_ids))
        if call.method == "editMessageText":
            if "inline_message_id" in p:
                return True
            return self._message(p, int(p["message_id"]))
        if call.method == "sendDocument":
            message = self._message(p, next(self._message_ids))
            sent = p.get("document")
            if isinstance(sent, dict):
                message["document"] = {
                    "file_id": f"sent{message['message_id']}",
                    "file_unique_id": f"u-sent{message['message_id']}",
                    "file_name": sent["filename"],
                    "file_size": len(sent["content"]),
                }
            if "caption" in p:
                message["caption"] = p["caption"]
            return message
        if call.method == "getFile":
            file_id = str(p.get("file_id", ""))
            data = self.files.get(file_id, b"")
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(data),
                "file_path": f"documents/{file_id}",
            }
        if call.method == "getChatMember":
            user_id = int(p["user_id"])
            rights = dict.fromkeys(_ADMIN_RIGHTS, False)
            return {
                **rights,
                "status": self.member_status.get(user_id, "member"),
                "user": {"id": user_id, "is_bot": False, "first_name": "Member"},
            }
        return True

    def _message(self, p: dict[str, Any], message_id: int) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": self.bot_user(),
            "text": p.get("text", ""),
        }
        if "reply_markup" in p:
            markup = p["reply_markup"]
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        if "link_preview_options" in p:  # Telegram returns the preview the message shows
            options = p["link_preview_options"]
            message["link_preview_options"] = (
                json.loads(options) if isinstance(options, str) else options
            )
        if "message_thread_id" in p:
            message["message_thread_id"] = p["message_thread_id"]
            message["is_topic_message"] = True
        return message

    def _photo(self, call: Call, message_id: int) -> dict[str, Any]:
        message = self._message(call.params, message_id)
        del message["text"]
        data = call.files.get("photo", b"")
        # A PNG says its size in its header; anything else is taken as Telegram's usual size.
        is_png = data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = (
            (int.from_bytes(data[16:20]), int.from_bytes(data[20:24])) if is_png else (1280, 960)
        )
        message["photo"] = [
            {
                "file_id": f"photo-{message_id}",
                "file_unique_id": f"p{message_id}",
                "width": width,
                "height": height,
                "file_size": len(data),
            }
        ]
        if call.params.get("caption"):
            message["caption"] = call.params["caption"]
        return message


def _uploads(request_data: RequestData | None) -> dict[str, bytes]:
    """The files of a multipart request, by part name, as bytes."""
    if request_data is None or not request_data.contains_files:
        return {}
    files: dict[str, bytes] = {}
    for name, (_, content, _) in request_data.multipart_data.items():
        files[name] = content if isinstance(content, bytes) else content.read()
    return files


# Update ids as Telegram gives them: unique to the bot and growing, here across every local user
# and every run of the terminal chat (the bot handles an update id once: app.py, once_only).
_UPDATE_IDS = itertools.count(int(time.time() * 1000))


@dataclass
class LocalUser:
    """A person chatting with the bot: makes the Updates Telegram would send for them."""

    bot: Bot
    user_id: int = 1
    chat_id: int = 1
    chat_type: str = "private"
    thread_id: int | None = None
    first_name: str = "You"
    # The language of the person's Telegram app (IETF code, "de"), if the client tells it.
    language_code: str | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def message(self, text: str) -> Update:
        """A text message; a leading /command carries the bot_command entity Telegram adds."""
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self._chat(),
            "from": self._user(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if self.thread_id is not None:
            message["message_thread_id"] = self.thread_id
            message["is_topic_message"] = True
        return self._update(message=message)

    def document(self, document: dict[str, Any], caption: str = "") -> Update:
        """A file sent to the bot (its Document, as LocalBotApi.upload made it)."""
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self._chat(),
            "from": self._user(),
            "document": document,
        }
        if caption:
            message["caption"] = caption
        return self._update(message=message)

    def sticker(self) -> Update:
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self._chat(),
            "from": self._user(),
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "s1u",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        }
        return self._update(message=message)

    def press(self, data: str, message: dict[str, Any]) -> Update:
        """A button press on a message the bot sent (as recorded by LocalBotApi)."""
        query = {
            "id": str(next(self._ids)),
            "from": self._user(),
            "chat_instance": str(self.chat_id),
            "data": data,
            "message": message,
        }
        return self._update(callback_query=query)

    def inline(self, text: str) -> Update:
        query = {"id": str(next(self._ids)), "from": self._user(), "query": text, "offset": ""}
        return self._update(inline_query=query)

    def _update(self, **payload: Any) -> Update:
        update = Update.de_json({"update_id": next(_UPDATE_IDS), **payload}, self.bot)
        assert update is not None
        return update

    def _chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.chat_id, "type": self.chat_type}
        if self.chat_type == "private":
            chat["first_name"] = self.first_name
        else:
            chat["title"] = "News group"
            chat["is_forum"] = self.thread_id is not None
        return chat

    def _user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user


def _mime_type(filename: str) -> str:
    """The type Telegram gives a file by its name (OPML has none registered with Python)."""
    if filename.lower().endswith(".opml"):
        return "text/x-opml"
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
