"""A web page's bytes to text: header, byte-order mark, <meta>, UTF-8, detector, Windows-1252."""

from __future__ import annotations

import codecs

import pytest

from bot.encoding import codec_for, decode_page, header_charset, meta_charset

RUSSIAN = "В Казани открыли новую станцию метро. Она стала одиннадцатой в городе."
JAPANESE = "大阪で新しい美術館が開館した。初日から多くの人が列を作った。"
CHINESE = "新建高铁线路今天正式开通运营，沿线城市之间的旅行时间大幅缩短。"
POLISH = "Bezrobocie w Polsce spadło do 2,9 proc. Ekonomiści zwracają uwagę na brak pracowników."


def html(text: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head>{head}<title>x</title></head><body><p>{text}</p></body></html>"
    )


@pytest.mark.parametrize(
    ("text", "label", "codec"),
    [
        (RUSSIAN, "windows-1251", "cp1251"),
        (JAPANESE, "Shift_JIS", "shift_jis"),
        (CHINESE, "gb2312", "gb2312"),
        (POLISH, "ISO-8859-2", "iso-8859-2"),
    ],
)
def test_a_page_is_read_in_the_encoding_its_meta_declares(
    text: str, label: str, codec: str
) -> None:
    for head in (
        f'<meta charset="{label}">',
        f'<meta http-equiv="Content-Type" content="text/html; charset={label}">',
    ):
        assert text in decode_page(html(text, head).encode(codec))


def test_a_script_charset_before_the_meta_does_not_decide_the_encoding() -> None:
    head = (
        '<script charset="utf-8" src="/counter.js"></script>'
        '<link rel="stylesheet" charset="utf-8" href="/a.css">'
        "<!-- <meta charset=utf-8> -->"
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    )
    assert RUSSIAN in decode_page(html(RUSSIAN, head).encode("cp1251"))


def test_the_http_header_charset_comes_before_the_meta() -> None:
    page = html(RUSSIAN, '<meta charset="iso-8859-1">').encode("cp1251")
    assert RUSSIAN not in decode_page(page)
    assert RUSSIAN in decode_page(page, "text/html; charset=windows-1251")


def test_a_byte_order_mark_comes_before_everything() -> None:
    page = codecs.BOM_UTF16_LE + html(JAPANESE, '<meta charset="shift_jis">').encode("utf-16-le")
    assert JAPANESE in decode_page(page, "text/html; charset=iso-8859-1")


def test_utf8_sent_as_latin_1_is_read_as_utf8() -> None:
    # Servers that label every page ISO-8859-1 are common; valid UTF-8 is not an accident.
    page = html("Größere Brücke für Köln.", '<meta charset="iso-8859-1">').encode("utf-8")
    assert "Größere Brücke für Köln." in decode_page(page, "text/html; charset=ISO-8859-1")


def test_a_page_that_declares_nothing_is_utf8_if_it_can_be() -> None:
    assert CHINESE in decode_page(html(CHINESE).encode("utf-8"))


def test_a_page_that_declares_nothing_and_is_not_utf8_is_detected() -> None:
    text = " ".join([RUSSIAN] * 4)
    assert text in decode_page(html(text).encode("cp1251"))


def test_a_stray_accent_in_an_undeclared_page_is_windows_1252() -> None:
    assert "Café crème" in decode_page(html("Café crème").encode("cp1252"))


def test_a_wrong_declaration_falls_back_to_what_the_bytes_are() -> None:
    assert "Café" in decode_page(html("Café", '<meta charset="utf-8">').encode("cp1252"))
    assert "Café" in decode_page(html("Café", '<meta charset="base64">').encode("cp1252"))
    assert "Café" in decode_page(html("Café", '<meta charset="no-such">').encode("cp1252"))


@pytest.mark.parametrize(
    ("content_type", "codec"),
    [
        ("text/html; charset=UTF-8", "utf-8"),
        ('text/html; charset="windows-1251"', "cp1251"),
        ("text/html;charset=gb2312", "gb18030"),  # browsers read GB2312 pages as GB18030
        ("text/html; charset=iso-8859-1", "cp1252"),  # and ISO-8859-1 ones as Windows-1252
        ("text/html", None),
        ("text/html; charset=", None),
        ("text/html; charset=klingon", None),
        (None, None),
    ],
)
def test_the_charset_of_a_content_type(content_type: str | None, codec: str | None) -> None:
    assert header_charset(content_type) == codec


def test_only_meta_elements_declare_the_encoding() -> None:
    assert meta_charset(b'<script charset="utf-8"></script><p>charset=utf-8</p>') is None
    assert meta_charset(b"<meta charset='Shift_JIS'>") == "cp932"
    assert meta_charset(b"<meta content='text/html; charset=koi8-r' http-equiv=content-type>") == (
        "koi8-r"
    )
    assert codec_for("UTF-16") == "utf-8"  # a page read as ASCII to find its meta is not UTF-16
