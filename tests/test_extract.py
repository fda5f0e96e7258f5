"""Web pages to article text: the main text and metadata, without the site around it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import escape, unescape
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bot.articles import ArticleError, parse_bytes, read_file
from bot.config import Boilerplate
from bot.extract import ExtractionError, Page, page

from .conftest import REPO

MTIME = datetime(2026, 1, 1, tzinfo=UTC)

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
gefordert, weil die alte Brücke zu den Stoßzeiten verstopft ist.</p></article>
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


# ---------------------------------------------------------------------------------------------
# Clean text: no tag, Markdown escape, emphasis mark or footnote marker reaches a block


def news(*paragraphs: str, title: str = "Council approves a second bridge", head: str = "") -> str:
    """A news page around `paragraphs` (HTML allowed), with enough prose to be an article."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{head}'
        f"<title>{title} | Gazette</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>{title}</h1>{body}<p>{FILLER}</p></article>"
        "<footer><p>Contact us</p></footer></body></html>"
    )


FILLER = (
    "The council said the work would start in the spring and take about two years. Residents"
    " of the east bank have asked for a second crossing for more than a decade, and the vote"
    " was twenty-one to nine after a debate that ran past midnight."
)


def text_of(result: Page) -> str:
    return " ".join(text for text, _ in result.blocks)


def test_a_footnote_marker_does_not_glue_two_sentences() -> None:
    result = page(
        news(
            "The method was described by Geoffrey Hinton."
            '<sup class="reference"><a href="#cite_note-1">&#91;1&#93;</a></sup> It is used'
            " widely.<sup>[2]</sup><sup>[3]</sup> Critics disagree,<sup>4</sup> and say so"
            "<sup>[citation needed]</sup>."
        )
    )
    first = result.blocks[0][0]
    assert first == (
        "The method was described by Geoffrey Hinton. It is used widely. Critics disagree,"
        " and say so."
    )


def test_footnote_markers_typed_as_text_are_dropped_too() -> None:
    result = page(news("It was built in 1890.[1] It was rebuilt in 1950,[2][3] after the war."))
    assert result.blocks[0][0] == "It was built in 1890. It was rebuilt in 1950, after the war."


def test_subscripts_and_superscripts_read_as_plain_text() -> None:
    result = page(news("Emissions of CO<sub>2</sub> rose; the area grew to 5 km<sup>2</sup>."))
    assert result.blocks[0][0] == "Emissions of CO2 rose; the area grew to 5 km2."


def test_underscores_asterisks_and_brackets_are_not_escaped() -> None:
    result = page(
        news(
            "The mod Kingdom_Come_Overhaul sold 5 * 3 copies [sic] and a \\ backslash.",
            "*ما حدث أمس كان مؤسفا وأضاف أن الحكومة ستتحرك قريبا.",
        )
    )
    assert result.blocks[0][0] == (
        "The mod Kingdom_Come_Overhaul sold 5 * 3 copies [sic] and a \\ backslash."
    )
    assert result.blocks[1][0] == "ما حدث أمس كان مؤسفا وأضاف أن الحكومة ستتحرك قريبا."


def test_emphasis_links_and_struck_text_leave_no_marks() -> None:
    result = page(
        news(
            "It was <em>very</em> <strong>late</strong>, <b><i>said</i></b> the"
            ' <a href="/mayor">mayor</a>, who <code>voted</code> <del>no</del> yes.'
        )
    )
    assert result.blocks[0][0] == "It was very late, said the mayor, who voted yes."


def test_a_list_of_sections_keeps_each_heading_apart_from_its_text() -> None:
    sections = "".join(
        f"<li><h2>{name}</h2><p>{name} is a tool that helps with the work of the council.</p></li>"
        for name in ("Planner", "Tracker")
    )
    result = page(news(f"</p><ul>{sections}</ul><p>The tools are free to use."))
    assert ("Planner", True) in result.blocks
    assert ("Planner is a tool that helps with the work of the council.", False) in result.blocks
    assert not any(text.startswith("#") for text, _ in result.blocks)


def test_the_sites_name_is_not_part_of_the_headline() -> None:
    html = news("A first paragraph.").replace(
        "<title>Council approves a second bridge | Gazette</title>",
        "<title>Council approves a second bridge_Gazette</title>",
    )
    result = page(html)
    assert result.title == "Council approves a second bridge"
    assert result.blocks[0][0] == "A first paragraph."


def test_a_date_line_over_the_text_is_not_its_first_paragraph() -> None:
    result = page(news("3/11/2021 09:15", "The council met on Monday."))
    assert result.blocks[0][0] == "The council met on Monday."


# ---------------------------------------------------------------------------------------------
# Pages that are not articles are reported with the reason


def test_a_short_news_brief_is_an_article() -> None:
    brief = (
        "The harbour ferry between Northpoint and the old town will run again from Saturday,"
        " the council said on Tuesday. Its landing stage was damaged in January's storm and"
        " has been rebuilt with a higher deck. Crossings will run every twenty minutes until"
        " the summer timetable starts in April, with the first boat leaving at seven."
    )
    assert len(brief.split()) < 60
    html = f"<html><head><title>Ferry resumes</title></head><body><p>{brief}</p></body></html>"
    assert page(html).blocks == ((brief, False),)


def test_a_page_with_only_a_photo_caption_is_not_an_article() -> None:
    html = (
        "<html><head><title>Tsai's playbook | SCMP</title></head><body><div id='app'></div>"
        "<figure><img src='a.jpg'><figcaption>Taiwanese President Tsai Ing-wen celebrates with"
        " supporters in Taipei after winning a second term on January 11. Photo: AFP"
        "</figcaption></figure></body></html>"
    )
    with pytest.raises(ExtractionError, match=r"^not an article: \d\d words"):
        page(html)


def test_a_one_sentence_page_is_not_an_article() -> None:
    sentence = " ".join(["word"] * 50) + "."
    with pytest.raises(ExtractionError, match="not an article: a single sentence"):
        page(f"<html><head><title>T</title></head><body><p>{sentence}</p></body></html>")


def test_chinese_text_counts_its_characters_as_words() -> None:
    text = (
        "新建高铁线路今天正式开通运营，沿线城市之间的旅行时间大幅缩短。首趟列车上午八时从石家庄站出发。"
        "这条线路全长约三百公里，沿途设有十个车站。铁路部门表示，开通初期每天将安排三十多对列车。"
    )
    assert 80 <= len(text) < 100  # 40 to 50 words, two characters to a word
    html = f"<html lang='zh'><head><title>高铁通车</title></head><body><p>{text}</p></body></html>"
    assert page(html).blocks == ((text, False),)
    with pytest.raises(ExtractionError, match="not an article"):
        page(html.replace(text, "新建高铁线路今天正式开通运营。首趟列车出发。"))


def test_a_page_template_is_not_an_article() -> None:
    paragraphs = [f"{{{{ vm.article.paragraphs[{n}].text }}}}" for n in range(3)]
    html = news(*paragraphs, title="{{ vm.article.headline }}")
    with pytest.raises(ExtractionError, match=r"not an article: a page template \(\{\{…\}\}"):
        page(html)
    with pytest.raises(ExtractionError, match="page template"):
        page(news(*paragraphs))


def test_a_server_status_page_is_not_an_article() -> None:
    html = (REPO / "tests" / "fixtures" / "pages" / "en-apache-server-status.html").read_bytes()
    with pytest.raises(ExtractionError, match="not an article: a server status page"):
        page(html)


@pytest.mark.parametrize(
    "title",
    [
        "Fortnite server status: is it down?",
        "500 workers lose jobs after a factory error",
        "Status for refugees extended by a year",
        "404 days of protest",
    ],
)
def test_a_headline_that_names_a_status_or_an_error_is_news(title: str) -> None:
    assert page(news("The council met on Monday.", title=title)).title == title


def test_a_page_of_key_value_lines_is_not_an_article() -> None:
    rows = "".join(
        f"<li>Item {n}: {n * 37 % 101} units, {n * 3.5:.1f} kg, checked 2024-03-0{n % 9 + 1}</li>"
        for n in range(1, 30)
    )
    html = (
        "<html><head><title>Stock report</title></head><body><h1>Stock report</h1>"
        f"<ul>{rows}</ul><p>Generated automatically.</p></body></html>"
    )
    with pytest.raises(ExtractionError, match="not an article: mostly key: value lines"):
        page(html)


def test_a_long_article_that_mentions_a_placeholder_is_an_article() -> None:
    result = page(news("In Angular a value is shown with {{ name }} and {{ title }} in a page."))
    assert "{{ name }}" in result.blocks[0][0]


def test_a_page_that_is_not_an_article_is_reported_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "status.html"
    path.write_bytes(
        (REPO / "tests" / "fixtures" / "pages" / "en-apache-server-status.html").read_bytes()
    )
    with pytest.raises(ArticleError, match="not an article: a server status page"):
        read_file(path, source="status.html", boilerplate=Boilerplate(), max_bytes=2**20)


def test_the_citation_line_does_not_end_the_article(boilerplate: Boilerplate) -> None:
    html = news(
        "The tool is free.",
        "<b>Citation</b>: Tool predicts how fast a delta will sink (2019, March 5) retrieved"
        " 6 March 2019 from https://phys.org/news/2019-03-tool.html",
        "This document is subject to copyright. Apart from any fair dealing for the purpose of"
        " private study or research, no part may be reproduced without the written permission.",
    )
    (article,) = parse_bytes(
        html.encode(), source="a.html", suffix=".html", boilerplate=boilerplate, mtime=MTIME
    ).articles
    assert not any("retrieved" in p or "copyright" in p for p in article.paragraphs)


# ---------------------------------------------------------------------------------------------
# Encodings, as the page and its HTTP header declare them


def test_a_script_charset_before_the_meta_does_not_decide_the_encoding() -> None:
    html = REPO / "tests" / "fixtures" / "pages" / "ru-metro-cp1251-script-charset.html"
    assert b'<script charset="utf-8"' in html.read_bytes()[:200]
    result = page(html.read_bytes())
    assert result.title == "В Казани открыли новую станцию метро"
    assert result.blocks[0][0].startswith("В Казани в четверг открылась новая станция метро")


@pytest.mark.parametrize(
    ("codec", "title", "text"),
    [
        ("cp1251", "Новая станция метро", "В Казани открыли новую станцию метро."),
        ("shift_jis", "新しい美術館", "大阪市の中心部に新しい美術館が開館した。"),
        ("gb2312", "高铁通车", "新建高铁线路今天正式开通运营，旅行时间大幅缩短。"),
        ("iso-8859-2", "Bezrobocie spada", "Stopa bezrobocia w Polsce spadła w marcu."),
    ],
)
def test_a_page_in_its_declared_encoding_keeps_its_letters(
    codec: str, title: str, text: str
) -> None:
    html = (
        f'<html><head><meta charset="{codec}"><title>{title}</title></head>'
        f"<body><article><h1>{title}</h1>"
        + "".join(f"<p>{text} {text} {n}.</p>" for n in range(1, 7))
        + "</article></body></html>"
    )
    result = page(html.encode(codec))
    assert result.title == title
    assert result.blocks[0][0].startswith(text)


def test_the_http_content_type_decides_the_encoding_first() -> None:
    title = "Новая станция метро"
    text = "В Казани открыли новую станцию метро. Она стала одиннадцатой в городе."
    html = (
        f'<html><head><meta charset="iso-8859-1"><title>{title}</title></head>'
        f"<body><article><h1>{title}</h1>"
        + "".join(f"<p>{text} {text} {n}.</p>" for n in range(1, 5))
        + "</article></body></html>"
    )
    result = page(html.encode("cp1251"), content_type="text/html; charset=windows-1251")
    assert result.title == title


# ---------------------------------------------------------------------------------------------
# Any input: a page or a reason; generated markup: text without markup


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=3000), content_type=st.sampled_from([None, "text/html"]))
def test_any_bytes_give_a_page_or_a_reason(data: bytes, content_type: str | None) -> None:
    try:
        result = page(data, content_type=content_type)
    except ExtractionError as exc:
        assert str(exc)
        return
    assert result.title and any(not heading for _, heading in result.blocks)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=3000))
def test_any_bytes_in_an_html_file_give_an_article_or_a_reason(data: bytes) -> None:
    try:
        parsed = parse_bytes(
            data, source="a.html", suffix=".html", boilerplate=Boilerplate(), mtime=MTIME
        )
    except ArticleError as exc:
        assert str(exc)
        return
    (article,) = parsed.articles
    assert article.title and article.paragraphs


# Text with the characters Markdown escapes; no "<" or ">": any in the output would be a tag.
TEXT = st.text(
    st.sampled_from("abcdefghijk lmnopqrstu ABCD. ,;:!?_*[]\\#`~-()0123456789ł中"),
    max_size=30,
)
INLINE = ["sup", "sub", "em", "strong", "b", "i", "a", "code", "span", "del", "mark", "u", "small"]
INLINE_HTML = st.recursive(
    TEXT.map(escape),
    lambda children: st.tuples(st.sampled_from(INLINE), st.lists(children, max_size=3)).map(
        lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0]}>"
    ),
    max_leaves=10,
)
BLOCK = st.tuples(
    st.sampled_from(["p", "h2", "h3", "li", "blockquote", "div", "pre", "td"]), INLINE_HTML
).map(lambda t: f"<ul><li>{t[1]}</li></ul>" if t[0] == "li" else f"<{t[0]}>{t[1]}</{t[0]}>")
WATCHED = "\\*_#`~[]<>"  # what a Markdown or HTML rendering would add


@settings(max_examples=150, deadline=None)
@given(
    title=TEXT,
    blocks=st.lists(BLOCK, min_size=1, max_size=8),
    prose=st.booleans(),
    sources=st.data(),
)
def test_generated_pages_give_text_without_markup(
    title: str, blocks: list[str], prose: bool, sources: st.DataObject
) -> None:
    filler = f"<p>{FILLER}</p><p>{FILLER.upper()}</p>" if prose else ""
    html = (
        f"<html><head><title>{escape(title)}</title></head><body><article>"
        f"{''.join(blocks)}{filler}</article></body></html>"
    )
    try:
        result = page(html.encode("utf-8"))
    except ExtractionError:
        event("refused")
        return
    event("read")
    source = unescape(re.sub(r"<[^>]+>", "", html))
    for text in [result.title, *(text for text, _ in result.blocks)]:
        assert "<" not in text and ">" not in text, text
        for char in WATCHED:
            # Nothing the page's own text did not hold: no escapes, no emphasis, no "#".
            assert text.count(char) <= source.count(char), (char, text)
        assert not re.search(r"[.,;:!?]\[\d{1,3}\]", text), text


@settings(max_examples=100, deadline=None)
@given(
    blocks=st.lists(BLOCK, min_size=1, max_size=6),
    label=st.sampled_from(["utf-8", "windows-1251", "shift_jis", "gb2312", "utf-16", "x", ""]),
    codec=st.sampled_from(["utf-8", "cp1251", "shift_jis", "gb18030", "utf-16", "latin-1"]),
    content_type=st.sampled_from([None, "text/html; charset=utf-8", "text/html; charset=koi8-r"]),
    damage=st.lists(st.tuples(st.integers(0, 4000), st.binary(max_size=3)), max_size=4),
)
def test_mislabelled_or_damaged_pages_give_a_page_or_a_reason(
    blocks: list[str],
    label: str,
    codec: str,
    content_type: str | None,
    damage: list[tuple[int, bytes]],
) -> None:
    html = f'<html><head><meta charset="{label}"><title>Т</title></head><body>'
    data = (html + "".join(blocks) + f"<p>{FILLER}</p></body></html>").encode(codec, "replace")
    for at, junk in damage:
        data = data[:at] + junk + data[at + len(junk) :]
    try:
        result = page(data, content_type=content_type)
    except ExtractionError as exc:
        assert str(exc)
        return
    assert result.title and any(not heading for _, heading in result.blocks)


# ---------------------------------------------------------------------------------------------
# Real-world-shaped pages (tests/fixtures/pages, see its README.md)

PAGES = REPO / "tests" / "fixtures" / "pages"
# Articles: (file, headline, the opening words of the first paragraph).
ARTICLES = [
    (
        "ar-aljazeera-desalination.html",
        "افتتاح أكبر محطة لتحلية المياه في المنطقة",
        "افتتحت الحكومة اليوم الأربعاء محطة جديدة",
    ),
    ("de-spiegel-nachtzug.html", "Nachtzug nach Wien fährt wieder täglich", "Der Nachtzug"),
    (
        "en-co2-and-a-mod-name.html",
        "Shipping emissions rose again last year, report finds",
        "Emissions of CO2 from the world's merchant fleet",
    ),
    (
        "en-fivethirtyeight-manchin.html",
        "Could Manchin Actually Leave The Democratic Party?",
        "Sen. Joe Manchin told reporters Wednesday",
    ),
    (
        "en-news-brief-60-words.html",
        "Harbour ferry resumes after storm repairs",
        "The harbour ferry between Northpoint",
    ),
    (
        "en-physorg-citation.html",
        "Tool predicts how fast a river delta will sink",
        "A new tool lets planners estimate",
    ),
    (
        "en-wikipedia-footnotes.html",
        "t-distributed stochastic neighbor embedding",
        "t-distributed stochastic neighbor embedding (t-SNE) is a machine learning method",
    ),
    (
        "es-infobae-sismo.html",
        "Un sismo de magnitud 5,8 sacudió el sur de México sin causar daños",
        "Un sismo de magnitud 5,8 sacudió este miércoles",
    ),
    (
        "fr-nouvellerepublique-passerelle.html",
        "Tours : la passerelle Saint-Martin rouvrira au printemps",
        "Fermée depuis la crue de janvier",
    ),
    ("ja-museum-shift_jis.html", "大阪で新しい美術館が開館", "大阪市の中心部に新しい美術館"),
    (
        "pl-forsal-bezrobocie-iso-8859-2.html",
        "Eurostat: bezrobocie w Polsce najniższe od trzech dekad",
        "Według danych Eurostatu bezrobocie w Polsce",
    ),
    (
        "ru-metro-cp1251-script-charset.html",
        "В Казани открыли новую станцию метро",
        "В Казани в четверг открылась новая станция метро",
    ),
    ("zh-xinhua-gaotie-gb2312.html", "河北新建高铁线路正式通车", "新华社石家庄12月28日电"),
    (
        "en-gazette-og-image-relative.html",
        "Harbour gets its first electric crane",
        "The harbour's first electric crane lifted",
    ),
    (
        "en-ledger-twitter-image-only.html",
        "Rail fares to rise by 3 percent in March",
        "Regional rail fares will go up by 3 percent",
    ),
]
# Pages with a lead image: (file, its address); the other articles have none.
IMAGES = {
    "en-fivethirtyeight-manchin.html": "https://fivethirtyeight.com/wp-content/uploads/2021/10/"
    "GettyImages-1236041264-16x9-1.jpg?w=700",
    # og:image "/wp-content/...", resolved against the page's canonical URL (a saved page has
    # no address of its own); og:image wins over twitter:image.
    "en-gazette-og-image-relative.html": "https://www.northpoint-gazette.example/wp-content/"
    "uploads/2026/11/electric-crane-1200x675.jpg",
    # og:image is a data: placeholder: twitter:image it is (its &amp; read as &).
    "en-ledger-twitter-image-only.html": "https://media.valley-ledger.example/images/2026/11/27/"
    "rail-fares.jpg?format=jpg&name=large",
}
# Not articles: (file, the reason given).
NOT_ARTICLES = [
    ("en-angular-template.html", r"not an article: a page template \(\{\{…\}\} placeholders\)"),
    ("en-apache-server-status.html", "not an article: a server status page"),
    ("en-cookie-wall.html", r"not an article: \d+ words"),
    ("en-nginx-404.html", "not an article: an error page"),
    ("en-scmp-caption-only.html", r"not an article: \d+ words"),
]
LEAKS = re.compile(r"</?[A-Za-z][A-Za-z0-9]*[\s>/]|\\[\\`*_{}\[\]()#+\-.!]|\*\*|^#|[.,;]\[\d+\]")
MOJIBAKE = re.compile("[ÃÂÐÑ][\u0080-\u00bf]|\ufffd")


BRIDGE_STORY = (
    "The council approved a second bridge over the river on Monday evening.",
    "Building work will start in the spring and should take about two years to finish.",
    "Residents of the east bank have asked for a second crossing for more than a decade.",
    "The bridge will carry buses, bicycles and people on foot, but no private cars.",
)


def test_a_page_with_only_json_ld_gives_its_articles_image_resolved_against_its_address() -> None:
    json_ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebSite", "image": "/logo.png"},
                {"@type": ["NewsArticle"], "image": [{"@type": "ImageObject", "url": "/a.jpg"}]},
            ],
        }
    )
    html = (
        f'<html><head><title>Bridge</title><script type="application/ld+json">{json_ld}</script>'
        "</head><body><article><h1>Council approves the bridge</h1>"
        + "".join(f"<p>{sentence}</p>" for sentence in BRIDGE_STORY)
        + "</article></body></html>"
    )
    found = page(html, "https://site.example/news/bridge")
    assert found.image == "https://site.example/a.jpg"
    assert page(html.replace("NewsArticle", "Thing"), "https://site.example/n").image is None


def test_every_fixture_page_is_listed() -> None:
    listed = {name for name, *_ in ARTICLES + NOT_ARTICLES}
    assert listed == {path.name for path in PAGES.glob("*.html")}


@pytest.mark.parametrize(("name", "title", "opening"), ARTICLES)
def test_a_real_news_page_gives_clean_text(
    name: str, title: str, opening: str, boilerplate: Boilerplate
) -> None:
    (article,) = read_file(
        PAGES / name, source=name, boilerplate=boilerplate, max_bytes=2**20
    ).articles
    assert article.title == title
    assert article.paragraphs[0].startswith(opening)
    for text in [article.title, *(b.text for b in article.blocks)]:
        assert not LEAKS.search(text), text
        assert not MOJIBAKE.search(text), text
    last = article.paragraphs[-1]
    assert not last.startswith(("Citation", "This document is subject to copyright")), last
    assert article.image == IMAGES.get(name)


@pytest.mark.parametrize(("name", "reason"), NOT_ARTICLES)
def test_a_page_that_is_not_news_is_refused_with_its_reason(
    name: str, reason: str, boilerplate: Boilerplate
) -> None:
    with pytest.raises(ArticleError, match=f"^{reason}"):
        read_file(PAGES / name, source=name, boilerplate=boilerplate, max_bytes=2**20)


def test_a_page_of_more_tags_than_any_news_page_is_refused_before_extraction() -> None:
    hostile = b"<html><body>" + b"<p><b>" * 50_000 + b"x.</body></html>"
    with pytest.raises(ExtractionError, match=r"a page too large to read \(100,002 elements"):
        page(hostile)
