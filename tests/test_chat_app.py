from __future__ import annotations

import dataclasses
import io
import logging

import pytest

from bot.chat.app import RedactingFormatter, _file_url, build_application, configure_logging
from bot.chat.local import LOCAL_TOKEN, LocalBotApi
from bot.config import Settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_the_token_is_redacted_from_messages_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s", (TOKEN, ""))
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "POST https://api.telegram.org/bot%s/getMe",
        (TOKEN,),
        None,
    )
    assert formatter.format(record) == "POST https://api.telegram.org/bot<redacted>/getMe"
    try:
        raise RuntimeError(f"bad secret {TOKEN.partition(':')[2]}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    text = formatter.format(record)
    assert TOKEN.partition(":")[2] not in text and "<redacted>" in text


def test_configured_logging_never_prints_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(secrets=(TOKEN,))
        logging.getLogger("telegram.ext").warning("polling %s failed", f"/bot{TOKEN}/getUpdates")
        logging.getLogger("httpx").info("HTTP Request: POST /bot%s/getUpdates", TOKEN)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    out = stream.getvalue()
    assert "polling /bot<redacted>/getUpdates failed" in out
    assert TOKEN not in out and "HTTP Request" not in out  # httpx requests are not logged


def test_the_api_base_url_is_configurable(settings: Settings) -> None:
    telegram = dataclasses.replace(settings.telegram, api_base_url="http://127.0.0.1:8081/bot")
    app = build_application(
        dataclasses.replace(settings, telegram=telegram),
        token=LOCAL_TOKEN,
        request=LocalBotApi(),
        rate_limit=False,
    )
    assert app.bot.base_url == f"http://127.0.0.1:8081/bot{LOCAL_TOKEN}"
    assert app.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{LOCAL_TOKEN}"


def test_defaults_are_html_without_link_previews(settings: Settings) -> None:
    app = build_application(settings, token=LOCAL_TOKEN, request=LocalBotApi(), rate_limit=False)
    defaults = app.bot.defaults
    assert defaults is not None
    assert defaults.parse_mode == "HTML"
    assert defaults.link_preview_options is not None
    assert defaults.link_preview_options.is_disabled is True


def test_file_url_sits_beside_the_api_url() -> None:
    assert _file_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert _file_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"


@pytest.mark.parametrize(
    ("args", "level"),
    [
        (["run"], logging.INFO),
        (["-v", "run"], logging.DEBUG),
        (["run", "--verbose"], logging.DEBUG),
    ],
)
def test_verbose_sets_the_log_level_of_run_and_the_token_stays_redacted(
    monkeypatch: pytest.MonkeyPatch, args: list[str], level: int
) -> None:
    from bot.__main__ import main

    seen: list[int] = []

    def serve(*_: object, **__: object) -> None:  # instead of polling Telegram
        seen.append(logging.getLogger().level)
        logging.getLogger("bot.chat.app").debug("debugging with %s", TOKEN)
        logging.getLogger("bot.chat.app").info("started with %s", TOKEN)

    monkeypatch.setattr("bot.chat.app._serve", serve)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        assert main(args) == 0
    finally:
        root.handlers[:], saved_level = saved
        root.setLevel(saved_level)
    assert seen == [level]
    out = stream.getvalue()
    assert TOKEN not in out and "started with <redacted>" in out
    assert ("debugging with <redacted>" in out) == (level == logging.DEBUG)
