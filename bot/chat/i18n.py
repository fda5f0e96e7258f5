"""The bot's own language: the markers that make every sentence in texts.py a gettext message.

Every user-facing sentence is written in English in bot/chat/texts.py, wrapped in N_() (one
message) or NP_() (a message with a number, in singular and plural). The markers change nothing
at run time; they let Babel find the messages:

    pybabel extract -F bot/locale/babel.cfg -k N_ -k NP_:1,2 --no-location --sort-output \
        --project=newsbot --copyright-holder=newsbot -o bot/locale/newsbot.pot .

(tests/test_chat_i18n.py fails when the template and the code differ.)

bot/locale/<lang>/LC_MESSAGES/newsbot.po holds each language's translations, compiled into
newsbot.mo beside it (`pybabel compile -d bot/locale -D newsbot`), which is what the bot reads
(gettext, no Babel at run time). Placeholders are str.format's ({name}); a plural message's
number is always {count}. A Translator gives one language's sentences; which language a chat
gets is chosen by the chat code.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


def N_(message: str) -> str:
    """Marks a message for extraction; returns it unchanged."""
    return message


@dataclass(frozen=True)
class Plural:
    """A message with a number: its English singular and plural (other languages have as many
    forms as their catalog's Plural-Forms says)."""

    singular: str
    plural: str


def NP_(singular: str, plural: str) -> Plural:
    """Marks a message with singular and plural forms for extraction."""
    return Plural(singular, plural)


# -- choosing and using a language ----------------------------------------------------------

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "newsbot"
# The languages with a complete catalog; English is the messages themselves.
LANGUAGES = ("en", "de", "fr", "es", "ru", "uk")
DEFAULT_LANGUAGE = "en"
# Each language by its own name, as a person looking for theirs reads it.
AUTONYMS = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "ru": "Русский",
    "uk": "Українська",
}


class Translator:
    """The bot's sentences in one language: `tr(texts.X)` for a message, `tr.format(texts.X,
    **values)` to fill one in (a Plural takes the form for `count`)."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._translations = translations

    def __call__(self, message: str) -> str:
        return self._translations.gettext(message)

    def format(self, message: str | Plural, **values: Any) -> str:
        if isinstance(message, Plural):
            count = int(values["count"])
            text = self._translations.ngettext(message.singular, message.plural, count)
            return text.format(**values)
        return self._translations.gettext(message).format(**values)


def shipped_language(value: str | None) -> str | None:
    """The shipped language a code ("de", "pt-br", "de_AT") or a language's own name
    ("Deutsch") means; None for any other."""
    text = (value or "").strip().lower()
    by_name = {name.lower(): code for code, name in AUTONYMS.items()}
    code = by_name.get(text) or text.replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def language_of(code: str | None) -> str:
    """The supported language for a Telegram language_code ("de", "pt-br", "uk"), else
    English."""
    return shipped_language(code) or DEFAULT_LANGUAGE


@cache
def translator(language: str) -> Translator:
    """The Translator for a supported language (English for any other), from its compiled
    catalog bot/locale/<language>/LC_MESSAGES/newsbot.mo."""
    language = language_of(language)
    if language == DEFAULT_LANGUAGE:
        return Translator(language, gettext.NullTranslations())
    return Translator(
        language, gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language])
    )
