from __future__ import annotations

import io
from pathlib import Path

from bot.config import Settings
from bot.console import chat

from .conftest import SAMPLE_PAGE, WriteFile, png_size


async def run_chat(settings: Settings, lines: list[str]) -> str:
    out = io.StringIO()
    assert await chat(settings, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out) == 0
    return out.getvalue()


async def test_each_line_is_a_message_and_replies_are_plain_text(
    settings: Settings, write: WriteFile
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    out = await run_chat(settings, ["/latest"])
    assert "> /latest\nLatest news (1–2 of 2)" in out
    assert "<b>" not in out and "&amp;" not in out
    assert "[1] 📖 1  [2] 📖 2" in out


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


async def test_a_photo_is_saved_to_a_file_and_its_path_printed(
    settings: Settings, write: WriteFile, tmp_path: Path
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    out = io.StringIO()
    lines = io.StringIO("/stats\n")
    assert await chat(settings, stdin=lines, stdout=out, photos=tmp_path) == 0
    (saved,) = tmp_path.glob("photo-*.png")
    assert f"[photo saved to {saved}] The last 30 days, by UTC day:" in out.getvalue()
    assert "Articles: 2" in out.getvalue()
    assert png_size(saved.read_bytes()) == (1280, 960)
