from __future__ import annotations

import dataclasses
import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot import index, opml
from bot.config import Settings
from bot.console import chat, terminal_language
from bot.store import open_store

from .conftest import REPO, SAMPLE_PAGE, HeldIndex, WriteFile, png_size
from .feed_server import FeedServer


def indexed(settings: Settings) -> None:
    """The folder indexed before the chat starts: the chat answers at once while its own
    start-up run goes on in the background, and these tests want the articles there."""
    with open_store(settings.database) as store:
        index.run(settings, store)


async def run_chat(settings: Settings, lines: list[str], language: str | None = None) -> str:
    indexed(settings)
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


async def test_file_sends_a_file_and_a_file_from_the_bot_is_saved_here(
    settings: Settings,
    server: FeedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feeds = dataclasses.replace(settings.feeds, allow_private_addresses=True, timeout_seconds=2)
    settings = dataclasses.replace(settings, feeds=feeds)
    broken = server.route("/broken.xml", behaviour="status", status=500)
    listing = tmp_path / "my feeds.opml"
    listing.write_bytes(opml.write([opml.Outline("Broken", broken, ("Tests",))]))
    out = await run_chat(settings, [f"/file {listing}", "/file missing.opml"])
    assert "Adding the 1 feed of my feeds.opml and reading it once…" in out
    assert "Imported my feeds.opml: 0 added, 0 already there, 1 failed." in out
    assert "[cannot send missing.opml: No such file or directory]" in out

    monkeypatch.chdir(tmp_path)
    out = await run_chat(settings, ["/export"])
    saved = tmp_path / "newsbot-feeds.opml"
    assert f"[file {saved} saved, {saved.stat().st_size} bytes] 1 feed as OPML" in out
    assert opml.read(saved.read_bytes()).feeds == (opml.Outline("Broken", broken, ("Tests",)),)


async def test_a_page_with_an_og_image_shows_its_picture_above_the_text(
    settings: Settings, write: WriteFile
) -> None:
    page = REPO / "tests" / "fixtures" / "pages" / "en-gazette-og-image-relative.html"
    write("crane.html", page.read_bytes())
    out = await run_chat(settings, ["/read 1", "/pictures off", "/read 1"])
    picture = (
        "https://www.northpoint-gazette.example/wp-content/uploads/2026/11/"
        "electric-crane-1200x675.jpg"
    )
    assert f"> /read 1\n[picture: {picture}]\nHarbour gets its first electric crane\n" in out
    assert out.count("[picture:") == 1  # not after /pictures off
    assert "> /read 1\nHarbour gets its first electric crane\n" in out


async def test_the_terminal_speaks_the_locales_language(
    settings: Settings, write: WriteFile
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    out = await run_chat(settings, ["/latest"], language="de")
    assert "> /latest\nNeueste Nachrichten (1–2 von 2)" in out


class Output(io.StringIO):
    """The terminal's output, telling (`noted`) when the note that the folder is indexed is in."""

    def __init__(self) -> None:
        super().__init__()
        self.noted = threading.Event()

    def write(self, text: str) -> int:
        if "the articles folder is indexed" in text:
            self.noted.set()
        return super().write(text)


class Typed(io.StringIO):
    """Lines typed one at a time, each made by a step (which may wait for something first)."""

    def __init__(self, steps: list[Callable[[], str]]) -> None:
        super().__init__()
        self.steps: Iterator[Callable[[], str]] = iter(steps)

    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]  # typeshed
        step = next(self.steps, None)
        return step() if step else ""


async def test_the_terminal_answers_while_the_folder_is_indexed_and_notes_when_it_is(
    settings: Settings, write: WriteFile, held_index: HeldIndex
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    out = Output()

    def once_indexed() -> str:
        held_index.release.set()
        out.noted.wait()
        return "/latest\n"

    typed = Typed([lambda: "/latest\n", once_indexed])
    assert await chat(settings, stdin=typed, stdout=out) == 0
    text = out.getvalue()
    assert "> /latest\n⏳ I am indexing the articles" in text
    assert "[the articles folder is indexed: 2 articles]" in text
    assert "> /latest\nLatest news (1–2 of 2)" in text


def test_the_locale_gives_the_terminal_users_language() -> None:
    assert terminal_language({"LANG": "de_DE.UTF-8"}) == "de-de"
    assert terminal_language({"LC_ALL": "uk_UA.utf8", "LANG": "de_DE.UTF-8"}) == "uk-ua"
    assert terminal_language({"LC_MESSAGES": "fr_FR@euro"}) == "fr-fr"
    assert terminal_language({"LANG": "C.UTF-8"}) is None
    assert terminal_language({}) is None


async def test_a_photo_is_saved_to_a_file_and_its_path_printed(
    settings: Settings, write: WriteFile, tmp_path: Path
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    indexed(settings)
    out = io.StringIO()
    lines = io.StringIO("/stats\n")
    assert await chat(settings, stdin=lines, stdout=out, photos=tmp_path) == 0
    (saved,) = tmp_path.glob("photo-*.png")
    assert f"[photo saved to {saved}] The last 30 days, by UTC day:" in out.getvalue()
    assert "Articles: 2" in out.getvalue()
    assert png_size(saved.read_bytes()) == (1280, 960)
