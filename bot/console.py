"""The terminal chat: the same Application and handlers, with a local Bot API instead of Telegram.

Each line typed is a message from a local user (who is an admin here); what the bot sends is
printed as plain text, with its buttons numbered: type the number to press one; a message's
picture (its link preview) is a line `[picture: URL]` above it. `@bot words` is an inline
query, and `/file PATH` sends that file (an OPML feed list, say); a file the bot sends
(/export) is saved in the current folder. No token, no network.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from .chat import jobs, render
from .chat.app import build_application, close_news, open_news
from .chat.local import LOCAL_TOKEN, Call, LocalBotApi, LocalUser
from .config import Settings
from .news import News

log = logging.getLogger(__name__)

PROMPT = "> "
# `/file PATH` sends a file; at most Telegram's limit for files a bot downloads.
FILE_COMMAND = "/file"
MAX_FILE_BYTES = 20 * 2**20
WELCOME = (
    "newsbot terminal chat: the bot as Telegram users see it, on {articles} (indexed in the"
    " background: the bot answers meanwhile).\n"
    "Type /start, /latest, /search words, or a number to press a button; /file PATH sends a"
    " file. Ctrl-D quits.\n"
)
INDEXED = "the articles folder is indexed: {count:,} articles"


class Terminal:
    """Prints what the bot sends and remembers the buttons of the last message that had any.
    A photo (the /stats chart) is saved to a file in `photos` (a new temporary folder by
    default), and its path printed."""

    def __init__(self, out: TextIO, *, photos: Path | None = None) -> None:
        self.out = out
        self.buttons: list[tuple[str, dict[str, Any]]] = []
        self.photos = photos

    def show(self, call: Call) -> None:
        p = call.params
        if call.method in ("sendMessage", "editMessageText"):
            prefix = "(edited) " if call.method == "editMessageText" else ""
            picture = _picture(p.get("link_preview_options"))
            if picture:
                prefix += f"[picture: {picture}]\n"
            self._print(prefix + render.plain(str(p.get("text", ""))))
            self._remember_buttons(call)
        elif call.method == "sendPhoto":
            path = self._save_photo(call)
            caption = render.plain(str(p.get("caption", "")))
            self._print(f"[photo saved to {path}] {caption}".rstrip())
        elif call.method == "answerCallbackQuery" and p.get("text"):
            self._print(f"[{p['text']}]")
        elif call.method == "sendDocument":
            self._save(call)
        elif call.method == "answerInlineQuery":
            results = _json(p.get("results")) or []
            titles = [f"  {r.get('title', '')}" for r in results if isinstance(r, dict)]
            button = _json(p.get("button"))
            above = f"[{button.get('text', '')}]\n" if isinstance(button, dict) else ""
            self._print(f"{above}Inline results:\n" + ("\n".join(titles) or "  (none)"))

    def _save(self, call: Call) -> None:
        """A file from the bot, saved in the current folder under its name."""
        sent = call.params.get("document")
        if not isinstance(sent, dict):
            return
        path = Path.cwd() / Path(str(sent["filename"])).name
        path.write_bytes(sent["content"])
        caption = render.plain(str(call.params.get("caption", "")))
        self._print(f"[file {path} saved, {len(sent['content'])} bytes] {caption}".rstrip())

    def _remember_buttons(self, call: Call) -> None:
        markup = _json(call.params.get("reply_markup")) or {}
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        flat = [b for row in rows for b in row if b.get("callback_data")]
        if not flat or not isinstance(call.result, dict):
            return
        self.buttons = [(b["callback_data"], call.result) for b in flat]
        self._print("  ".join(f"[{i}] {b['text']}" for i, b in enumerate(flat, start=1)))

    def show_note(self, text: str) -> None:
        """A word from the terminal itself (not the bot), in brackets."""
        self._print(f"[{text}]")

    def _save_photo(self, call: Call) -> Path:
        data = call.files.get("photo", b"")
        if self.photos is None:
            self.photos = Path(tempfile.mkdtemp(prefix="newsbot-chat-"))
        number = call.result.get("message_id", 0) if isinstance(call.result, dict) else 0
        suffix = ".png" if data.startswith(b"\x89PNG") else ".jpg"
        path = self.photos / f"photo-{number}{suffix}"
        path.write_bytes(data)
        return path

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)
        print(file=self.out, flush=True)


def terminal_language(environ: Mapping[str, str]) -> str | None:
    """The terminal user's language, as a Telegram app would tell it: from LC_ALL,
    LC_MESSAGES or LANG ("de_DE.UTF-8" -> "de"); None for C/POSIX or nothing set."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            code = value.split(".")[0].split("@")[0].replace("_", "-").lower()
            return None if code in ("c", "posix") else code
    return None


async def chat(
    settings: Settings,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    language: str | None = None,
    photos: Path | None = None,
) -> int:
    """Run the terminal chat until end of input; returns the exit status. `language` is the
    user's (as Telegram's language_code), by default the terminal's locale. Photos the bot
    sends are saved in `photos` (default: a new temporary folder, made when the first comes)."""
    # Looked up now, not at import: tests and callers may have replaced them.
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    local_user_id = 1
    telegram = dataclasses.replace(
        settings.telegram, admins=settings.telegram.admins | {local_user_id}
    )
    settings = dataclasses.replace(settings, telegram=telegram)
    terminal = Terminal(stdout, photos=photos)
    api = LocalBotApi(on_call=terminal.show)
    application = build_application(settings, token=LOCAL_TOKEN, request=api, rate_limit=False)
    async with application:
        await open_news(application)  # the folder is indexed in the background meanwhile
        user = LocalUser(
            application.bot,
            user_id=local_user_id,
            chat_id=local_user_id,
            language_code=language or terminal_language(os.environ),
        )
        print(WELCOME.format(articles=settings.articles_dir), file=stdout, flush=True)
        await application.start()  # runs what handlers start in the background (/reload)
        # One line's echo and replies are printed together; the note that the folder is
        # indexed waits for them rather than landing in between.
        turn = asyncio.Lock()
        note = asyncio.create_task(_note_when_indexed(application, terminal, turn))
        try:
            await _loop(application, api, user, terminal, stdin, stdout, turn)
        finally:
            note.cancel()
            await application.stop()  # waits for those to finish
            await close_news(application)  # stops the start-up index run if it still goes
    return 0


async def _note_when_indexed(application: Any, terminal: Terminal, turn: asyncio.Lock) -> None:
    """When the start-up index run ends: a note of how many articles there are now."""
    await jobs.start_up_indexed(application)
    news = application.bot_data.get("news")
    if isinstance(news, News):
        async with turn:
            terminal.show_note(INDEXED.format(count=news.count()))


async def _loop(
    application: Any,
    api: LocalBotApi,
    user: LocalUser,
    terminal: Terminal,
    stdin: TextIO,
    stdout: TextIO,
    turn: asyncio.Lock,
) -> None:
    interactive = stdin.isatty()
    while True:
        if interactive:
            print(PROMPT, end="", file=stdout, flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            return
        text = line.strip()
        if text:
            async with turn:
                await _one_line(application, api, user, terminal, text, interactive, stdout)


async def _one_line(
    application: Any,
    api: LocalBotApi,
    user: LocalUser,
    terminal: Terminal,
    text: str,
    interactive: bool,
    stdout: TextIO,
) -> None:
    """One line typed: a message, a button press, an inline query or a file, to the bot."""
    if not interactive:
        print(f"{PROMPT}{text}", file=stdout, flush=True)
    if text.isdigit() and 1 <= int(text) <= len(terminal.buttons):
        data, message = terminal.buttons[int(text) - 1]
        update = user.press(data, message)
    elif re.match(rf"@{re.escape(api.username)}\b", text):
        update = user.inline(text.split(maxsplit=1)[1] if " " in text else "")
    elif text.split()[0] == FILE_COMMAND:
        update = _file(api, user, text.removeprefix(FILE_COMMAND).strip(), terminal)
        if update is None:
            return
    else:
        update = user.message(text)
    await application.process_update(update)


def _file(api: LocalBotApi, user: LocalUser, name: str, terminal: Terminal) -> Any:
    """`/file PATH`: the file as a document sent to the bot, or None (and why) if it cannot be
    read."""
    path = Path(name).expanduser()
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            terminal.show_note(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MB")
            return None
        data = path.read_bytes()
    except OSError as exc:
        terminal.show_note(f"cannot send {name or 'nothing'}: {exc.strerror or exc}")
        return None
    return user.document(api.upload(path.name, data))


def _picture(options: Any) -> str | None:
    """The address a message's link preview shows, if it has one that is not turned off."""
    options = _json(options)
    if not isinstance(options, dict) or options.get("is_disabled"):
        return None
    url = options.get("url")
    return url if isinstance(url, str) and url else None


def _json(value: Any) -> Any:
    """Bot API parameters arrive as objects, or as JSON text for nested ones."""
    return json.loads(value) if isinstance(value, str) else value
