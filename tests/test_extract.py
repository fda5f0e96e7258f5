"""Web pages to article text: the main text and metadata, without the site around it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.articles import ArticleError, read_file
from bot.config import Boilerplate
from bot.extract import ExtractionError, page

from .conftest import REPO

PAGE = """<!doctype html><html lang="de-AT"><head><meta charset="utf-8">
<title>Stadtblatt | Rathaus beschließt neue Brücke</title>
<link rel="canonical" href="https://stadtblatt.example/news/bruecke">
<meta property="article:published_time" content="2026-11-20T08:00:00Z">
<meta name="author" content="Anna Schmidt"></head>
<body><nav><a href="/">Startseite</a> <a href="/sport">Sport</a> <a href="/wetter">Wetter</a></nav>
<article><h1>Rathaus beschließt neue Brücke</h1>
<p>Der Stadtrat hat am Montag den Bau einer neuen Brücke über den Fluss beschlossen. Die
Arbeiten sollen im Frühjahr beginnen.</p>
<h2>Zwei Jahre Bauzeit</h2>
<p>Die Bauzeit wird auf zwei Jahre geschätzt. Anwohner hatten seit Jahren eine zweite Querung
gefordert.</p></article>
<footer><p>Impressum</p><p>Alle Rechte vorbehalten.</p></footer></body></html>"""


def test_a_page_gives_its_headline_text_subheadings_and_metadata() -> None:
    result = page(PAGE.encode("utf-8"), url="https://stadtblatt.example/x?utm=1")
    assert result.title == "Rathaus beschließt neue Brücke"
    assert result.blocks[0] == (
        "Der Stadtrat hat am Montag den Bau einer neuen Brücke über den Fluss beschlossen."
        " Die Arbeiten sollen im Frühjahr beginnen.",
        False,
    )
    assert ("Zwei Jahre Bauzeit", True) in result.blocks
    assert result.url == "https://stadtblatt.example/news/bruecke"
    assert result.author == "Anna Schmidt"
    assert result.published == datetime(2026, 11, 20, tzinfo=UTC)
    assert result.language == "de"
    text = " ".join(t for t, _ in result.blocks)
    assert "Startseite" not in text and "Impressum" not in text


def test_a_page_in_windows_1252_keeps_its_accents() -> None:
    html = PAGE.replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    result = page(html.encode("cp1252"))
    assert result.title == "Rathaus beschließt neue Brücke"


@pytest.mark.parametrize(
    "html",
    [b"", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", b"\x00\x01\x02binary"],
)
def test_a_page_without_an_article_says_so(html: bytes) -> None:
    with pytest.raises(ExtractionError):
        page(html)


def test_html_files_in_the_articles_folder_are_read_as_pages(boilerplate: Boilerplate) -> None:
    parsed = read_file(
        REPO / "articles" / "riverside-bridge.html",
        source="riverside-bridge.html",
        boilerplate=boilerplate,
        max_bytes=2**20,
    )
    (article,) = parsed.articles
    assert article.title == "Council approves a second bridge over the river"
    assert article.headings == ("Two years of building work", "Cost and funding")
    assert article.url == "https://gazette.example/news/2026/11/second-bridge"
    assert article.dated and article.published.year == 2026
    body = article.body
    assert "Most read" not in body and "Exit mobile version" not in body
    assert "Follow us" not in body


def test_an_html_file_with_no_article_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "menu.html"
    path.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    with pytest.raises(ArticleError, match="no article text"):
        read_file(path, source="menu.html", boilerplate=Boilerplate(), max_bytes=2**20)
