"""The message markers and the catalog template: every sentence the bot says is a gettext
message, and bot/locale/newsbot.pot lists exactly those."""

from __future__ import annotations

import ast
import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.chat import texts
from bot.chat.i18n import LANGUAGES, Plural, Translator, language_of, translator

from .conftest import REPO

LOCALE = REPO / "bot" / "locale"
KEYWORDS = {"N_": None, "NP_": (1, 2)}


def extracted() -> set[str | tuple[str, str]]:
    """The messages Babel finds in the code now, as `pybabel extract` with babel.cfg would."""
    method_map = [("bot/**.py", "python")]
    found: set[str | tuple[str, str]] = set()
    for _, _, message, _, _ in extract_from_dir(
        REPO, method_map=method_map, keywords=KEYWORDS, comment_tags=()
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def template() -> set[str | tuple[str, str]]:
    with (LOCALE / "newsbot.pot").open("rb") as pot:
        catalog = read_po(pot)
    return {
        message.id if isinstance(message.id, str) else (message.id[0], message.id[1])
        for message in catalog
        if message.id
    }


def test_the_template_lists_exactly_the_messages_in_the_code() -> None:
    code, pot = extracted(), template()
    assert len(code) > 100
    missing, stale = code - pot, pot - code
    fix = "run the pybabel extract command in bot/chat/i18n.py's docstring"
    assert not missing, f"not in bot/locale/newsbot.pot ({fix}): {sorted(map(str, missing))[:5]}"
    assert not stale, f"no longer in the code ({fix}): {sorted(map(str, stale))[:5]}"


def test_every_sentence_in_texts_is_marked_for_translation() -> None:
    tree = ast.parse(Path(texts.__file__).read_text(encoding="utf-8"))
    unmarked = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for value in ast.walk(node.value):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    parent_calls = [
                        call
                        for call in ast.walk(node.value)
                        if isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Name)
                        and call.func.id in KEYWORDS
                        and value in ast.walk(call)
                    ]
                    is_command_name = value.value.isidentifier() and value.value.islower()
                    if not parent_calls and not is_command_name and value.value.strip():
                        unmarked.append(value.value)
    assert unmarked == []


def test_a_plural_message_takes_the_english_form_for_its_count() -> None:
    english = translator("en")
    message = Plural("{count} new article in {name}", "{count} new articles in {name}")
    assert english.format(message, count=1, name="Gazette") == "1 new article in Gazette"
    assert english.format(message, count=0, name="Gazette") == "0 new articles in Gazette"
    assert english.format(message, count=21, name="Gazette") == "21 new articles in Gazette"
    assert english.format(texts.ADDFEED_RESULT, count=2, name="X") == "<b>X</b>: 2 new articles."


def russian_catalog() -> gettext.GNUTranslations:
    """A two-message Russian catalog, compiled as pybabel compile would."""
    catalog = Catalog(locale="ru")
    catalog.add("Newest articles", "Свежие статьи")
    catalog.add(
        ("{count} new article", "{count} new articles"),
        ("{count} новая статья", "{count} новые статьи", "{count} новых статей"),
    )
    data = io.BytesIO()
    write_mo(data, catalog)
    data.seek(0)
    return gettext.GNUTranslations(data)


def test_a_translator_gives_each_count_its_russian_form() -> None:
    tr = Translator("ru", russian_catalog())
    assert tr("Newest articles") == "Свежие статьи"
    assert tr("Not in the catalog") == "Not in the catalog"
    news = Plural("{count} new article", "{count} new articles")
    forms = {n: tr.format(news, count=n) for n in (1, 2, 5, 11, 21, 22, 25)}
    assert forms == {
        1: "1 новая статья",
        2: "2 новые статьи",
        5: "5 новых статей",
        11: "11 новых статей",
        21: "21 новая статья",
        22: "22 новые статьи",
        25: "25 новых статей",
    }


def test_telegram_language_codes_map_to_a_shipped_language_or_english() -> None:
    assert [language_of(c) for c in ("de", "de-AT", "pt-br", "UK", None, "", "xx")] == [
        "de",
        "de",
        "en",
        "uk",
        "en",
        "en",
        "en",
    ]
    english = translator("pt-br")
    assert english.language == "en" and english("Newest articles") == "Newest articles"
    assert english.format(texts.ADDFEED_RESULT, count=1, name="X") == "<b>X</b>: 1 new article."


# -- the shipped catalogs ---------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
TAG = re.compile(r"</?[a-z]+")


def catalog_of(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES" / "newsbot.po").open("rb") as po:
        return read_po(po, locale=language)


def _shape(text: str) -> tuple[object, ...]:
    """What a translation must keep of its message: placeholders, tags, outer newlines."""
    return (
        sorted(set(PLACEHOLDER.findall(text))),
        sorted(TAG.findall(text)),
        len(text) - len(text.lstrip("\n")),
        len(text) - len(text.rstrip("\n")),
    )


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_a_catalog_translates_every_message_keeping_placeholders_and_tags(language: str) -> None:
    catalog = catalog_of(language)
    wanted = template()
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        forms = (
            tuple(message.string)
            if isinstance(message.string, (tuple, list))
            else (message.string,)
        )
        source = str(message.id[1] if isinstance(message.id, (tuple, list)) else message.id)
        if isinstance(message.id, (tuple, list)) and len(forms) != catalog.num_plurals:
            problems.append(f"{len(forms)} forms, not {catalog.num_plurals}: {message.id!r}")
        for form in forms:
            if not form:
                problems.append(f"untranslated: {message.id!r}")
            elif _shape(form) != _shape(source):
                problems.append(f"{_shape(form)} != {_shape(source)}: {form!r}")
    translated = {m.id if isinstance(m.id, str) else (m.id[0], m.id[1]) for m in catalog if m.id}
    missing = wanted - translated
    assert not missing, f"{language} lacks {len(missing)}: {sorted(map(str, missing))[:3]}"
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_the_shipped_compiled_catalog_is_the_translated_one(language: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalog_of(language))
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)
    shipped = translator(language)
    for message in catalog_of(language):
        if isinstance(message.id, str) and message.id:
            assert shipped(message.id) == fresh.gettext(message.id), (
                "run pybabel compile -d bot/locale -D newsbot"
            )


def test_each_shipped_language_names_its_plural_forms_right() -> None:
    # One plural message in each language, for the counts where languages differ.
    message = texts.ADDFEED_RESULT
    for language in LANGUAGES[1:]:
        tr = translator(language)
        forms = {re.sub(r"\d", "N", tr.format(message, count=n, name="X")) for n in (1, 2, 5)}
        expected = 3 if language in ("ru", "uk") else 2
        assert len(forms) == expected, (language, forms)
