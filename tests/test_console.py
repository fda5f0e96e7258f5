from __future__ import annotations

import io

from bot.config import Settings
from bot.console import chat, terminal_language

from .conftest import SAMPLE_PAGE, WriteFile


async def run_chat(settings: Settings, lines: list[str], language: str | None = None) -> str:
    out = io.StringIO()
    stdin = io.StringIO("\n".join(lines) + "\n")
    assert await chat(settings, stdin=stdin, stdout=out, language=language) == 0
    return out.getvalue()


async def test_each_line_is_a_message_and_replies_are_plain_text(
    settings: Settings, write: WriteFile
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    out = await run_chat(settings, ["/latest"])
    assert "> /latest\nLatest news (1–2 of 2)" in out
    assert "<b>" not in out and "&amp;" not in out
    assert "[1] 📖 2  [2] 📖 1" in out  # buttons by place, labelled with article ids


async def test_typing_a_number_presses_that_button(settings: Settings, write: WriteFile) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    out = await run_chat(settings, ["/latest", "2", "2"])
    # Button 2 of the list opens the second article; button 2 of its card is the full text.
    assert "(edited) Azerbaijan grateful to Pakistan" in out
    assert "— page 1 of 2" in out and "[1] More ▶  [2] 📝 Summary" in out


async def test_at_bot_words_is_an_inline_query(settings: Settings, write: WriteFile) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    out = await run_chat(settings, ["@newsbot Karabakh"])
    assert "Inline results:\n  Azerbaijan grateful to Pakistan" in out


async def test_the_terminal_user_is_an_admin(settings: Settings, write: WriteFile) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    out = await run_chat(settings, ["/reload"])
    assert "Reload done" in out


async def test_blank_lines_are_skipped_and_end_of_input_ends_the_chat(
    settings: Settings, write: WriteFile
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    out = await run_chat(settings, ["", "   ", "/help"])
    assert out.count("> ") == 1
    assert "What I can do" in out


async def test_the_terminal_speaks_the_locales_language(
    settings: Settings, write: WriteFile
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    out = await run_chat(settings, ["/latest"], language="de")
    assert "> /latest\nNeueste Nachrichten (1–2 von 2)" in out


def test_the_locale_gives_the_terminal_users_language() -> None:
    assert terminal_language({"LANG": "de_DE.UTF-8"}) == "de-de"
    assert terminal_language({"LC_ALL": "uk_UA.utf8", "LANG": "de_DE.UTF-8"}) == "uk-ua"
    assert terminal_language({"LC_MESSAGES": "fr_FR@euro"}) == "fr-fr"
    assert terminal_language({"LANG": "C.UTF-8"}) is None
    assert terminal_language({}) is None
