"""The bot's own language: the markers that make every sentence in texts.py a gettext message.

Every user-facing sentence is written in English in bot/chat/texts.py, wrapped in N_() (one
message) or NP_() (a message with a number, in singular and plural). The markers change nothing
at run time; they let Babel find the messages:

    pybabel extract -F bot/locale/babel.cfg -k N_ -k NP_:1,2 --no-location --sort-output \
        --project=newsbot --copyright-holder=newsbot -o bot/locale/newsbot.pot .

(tests/test_chat_i18n.py fails when the template and the code differ.)

bot/locale/<lang>/LC_MESSAGES/newsbot.po holds each language's translations (issue 14 adds
German, French, Spanish, Russian and Ukrainian; choosing the language per chat is still to come). Placeholders are str.format's ({name}); a
plural message's number is always {count}.
"""

from __future__ import annotations

from dataclasses import dataclass
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

    def format(self, count: int, **values: Any) -> str:
        """The English text for this count (the number goes into {count})."""
        text = self.singular if count == 1 else self.plural
        return text.format(count=count, **values)


def NP_(singular: str, plural: str) -> Plural:
    """Marks a message with singular and plural forms for extraction."""
    return Plural(singular, plural)
