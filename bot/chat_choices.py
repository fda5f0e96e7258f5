"""What each chat chose: the language of its articles (/lang) and of the bot (/language), its
pictures, its saved searches and last list, its subscriptions, digest and time zone. A part of
News (bot/news.py), kept apart so that each stays readable; knows nothing of Telegram."""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import languages
from .config import Settings
from .refusals import RefusalReason, Refused
from .store import ChatState, Store, StoreUnavailable, Subscription, parse_filter
from .store.records import Lease

log = logging.getLogger(__name__)

# Filters a chat may have, and how long one may be: enough for anyone, bounded for the matcher.
MAX_FILTERS = 20
MAX_FILTER_CHARS = 200
# A saved search (its paging buttons) and a chat's last list are kept this long unused.
QUERY_DAYS = 30


@dataclass(frozen=True)
class Pick:
    """What `/read N` may open. Lists show article ids, but people also type the place of an
    article in the list they saw: `by_id` is article N (when it exists, or when the chat's
    last list shows it), `by_place` the N-th article of that list (when N is not one of its
    ids). Both set and different: the chat is asked which one it meant."""

    by_id: int | None
    by_place: int | None = None


# The chat rows one update has read. Answering a command reads its chat's row for the language,
# then for the chat's own choices (pictures, the /lang filter): on PostgreSQL each read is a
# round trip to the server. Within one update (set by begin_update, per asyncio task) the row
# is read once; any change to a chat here forgets what was read.
_CHAT_ROWS: ContextVar[dict[int, ChatState | None] | None] = ContextVar("chat_rows", default=None)


class ChatChoices:
    """News's part about each chat's choices (mixed into News, which gives it `store` and
    `settings`)."""

    store: Store
    settings: Settings

    def begin_update(self) -> None:
        """An update is being answered (in this task): its chat rows are read once."""
        _CHAT_ROWS.set({})

    def _chat_row(self, chat_id: int) -> ChatState | None:
        rows = _CHAT_ROWS.get()
        if rows is None:
            return self.store.chat(chat_id)
        if chat_id not in rows:
            rows[chat_id] = self.store.chat(chat_id)
        return rows[chat_id]

    def _chats_changed(self) -> None:
        rows = _CHAT_ROWS.get()
        if rows:
            rows.clear()

    # -- languages ------------------------------------------------------------------------------

    def chat_language(self, chat_id: int) -> str | None:
        chat = self._chat_row(chat_id)
        return chat.language if chat else None

    def languages(self) -> list[tuple[str, int]]:
        return self.store.languages()

    # -- the bot's own language in a chat ---------------------------------------------------

    def ui_language(self, chat_id: int) -> str | None:
        """The language chosen for the bot in this chat with /language, if any."""
        chat = self._chat_row(chat_id)
        return chat.ui_language if chat else None

    def set_ui_language(self, chat_id: int, kind: str, language: str | None) -> None:
        """Choose the bot's language in this chat (None: each person's Telegram language)."""
        self.store.set_ui_language(chat_id, kind, language)
        self._chats_changed()

    def note_user_language(self, chat_id: int, language: str) -> None:
        """Who set this chat up writes in this language: deliveries and digests follow it when
        the chat chose none. Only a convenience: a busy database skips it."""
        try:
            self.store.note_user_language(chat_id, language)
            self._chats_changed()
        except StoreUnavailable as exc:
            log.warning("chat %s's language not noted: %s", chat_id, exc)

    def delivery_language(self, chat_id: int) -> str | None:
        """What the bot writes in when it writes first (deliveries, digests): the chat's choice,
        else the Telegram language of whoever subscribed it."""
        chat = self._chat_row(chat_id)
        return (chat.ui_language or chat.user_language) if chat else None

    def set_language(self, chat_id: int, kind: str, value: str | None) -> str | None:
        """Narrow the chat's /latest and /search to a language (None: all); Refused
        (no_articles) when no article is in it."""
        if value is None:
            self.store.set_chat_language(chat_id, kind, None)
            self._chats_changed()
            return None
        found = languages.code(value)
        if found is None or found not in dict(self.store.languages()):
            raise Refused(RefusalReason.NO_ARTICLES, detail=value)
        self.store.set_chat_language(chat_id, kind, found)
        self._chats_changed()
        return found

    # -- pictures -------------------------------------------------------------------------------

    def pictures(self, chat_id: int) -> bool:
        """Whether articles sent to the chat show their lead image as the message's preview:
        unless [telegram] pictures is false, or the chat turned them off (/pictures off)."""
        return self.settings.telegram.pictures and self.chat_pictures(chat_id)

    def chat_pictures(self, chat_id: int) -> bool:
        """The chat's own choice (on unless it sent /pictures off), whatever the setting."""
        chat = self._chat_row(chat_id)
        return chat.pictures if chat else True

    def set_pictures(self, chat_id: int, kind: str, on: bool) -> None:
        self.store.set_chat_pictures(chat_id, kind, on)
        self._chats_changed()

    def remember_query(self, chat_id: int, text: str) -> int:
        """A short id for a search's paging buttons, good in this chat only."""
        return self.store.remember_query(chat_id, text)

    def query_text(self, query_id: int, chat_id: int) -> str | None:
        """The query behind a paging button, if this chat saved it (else None)."""
        return self.store.query_text(query_id, chat_id)

    def forget_old_queries(self, now: float) -> int:
        """Daily: saved searches and shown lists unused for QUERY_DAYS go (a chat's history is
        not kept for ever, and the tables stop growing); returns how many rows went."""
        # Telegram re-sends an update for at most a day: two are plenty to remember its id.
        return self.store.forget_before(now - QUERY_DAYS * 86400, now - 2 * 86400)

    def remember_list(self, chat_id: int, article_ids: list[int]) -> None:
        """The list of articles this chat was just shown, for `/read <place>` (pick). Only a
        convenience: when the database is busy it is skipped, and the list is answered."""
        try:
            self.store.remember_list(chat_id, article_ids)
        except StoreUnavailable as exc:
            log.warning("the list shown to chat %s was not kept: %s", chat_id, exc)

    def pick(self, chat_id: int, number: int) -> Pick:
        """What `/read number` may mean in this chat (see Pick)."""
        shown = self.store.shown_list(chat_id)
        if number in shown:
            return Pick(by_id=number)
        by_place = shown[number - 1] if 1 <= number <= len(shown) else None
        by_id = number if by_place is None or self.store.get(number) is not None else None
        return Pick(by_id=by_id, by_place=by_place)

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe(self, chat_id: int, kind: str, words: str) -> bool:
        """Subscribe a chat to all news (no words) or to articles matching the words.

        Returns False when the chat had that filter already; raises Refused for a filter that
        can never match or one too many.
        """
        words = " ".join(words.split())
        if len(words) > MAX_FILTER_CHARS:
            raise Refused(RefusalReason.TOO_LONG, MAX_FILTER_CHARS)
        if words and parse_filter(words) is None:
            raise Refused(RefusalReason.NO_WORDS)
        existing = self.store.subscriptions(chat_id)
        if len(existing) >= MAX_FILTERS and words not in {s.query for s in existing}:
            raise Refused(RefusalReason.TOO_MANY, MAX_FILTERS)
        self._chats_changed()
        return self.store.subscribe(chat_id, kind, words)

    def subscriptions(self, chat_id: int) -> list[Subscription]:
        return self.store.subscriptions(chat_id)

    def unsubscribe(self, chat_id: int, words: str | None) -> int:
        """Remove the filter with these words, or every filter (None or 'all')."""
        if words is None or words.strip().lower() == "all":
            self._chats_changed()
            return self.store.unsubscribe(chat_id)
        self._chats_changed()
        return self.store.unsubscribe(chat_id, query=" ".join(words.split()))

    def unsubscribe_id(self, chat_id: int, subscription_id: int) -> int:
        self._chats_changed()
        return self.store.unsubscribe(chat_id, sub_id=subscription_id)

    def chat(self, chat_id: int) -> ChatState | None:
        return self._chat_row(chat_id)

    @property
    def shared(self) -> bool:
        """Whether other processes may use this database too (PostgreSQL)."""
        return self.store.shared

    def lease(self) -> Lease:
        """The right to run the once-only jobs (see chat/jobs.py)."""
        return self.store.lease()

    def digest_chats(self) -> list[ChatState]:
        """The chats that take a daily digest (their jobs are scheduled at start)."""
        return self.store.digest_chats()

    def chat_gone(self, chat_id: int, reason: str) -> None:
        """The bot was blocked or removed from the chat: its deliveries stop."""
        self.store.deactivate_chat(chat_id, reason)
        self._chats_changed()

    def chat_moved(self, old: int, new: int) -> None:
        """A group became a supergroup with a new id: its filters and deliveries move."""
        self.store.migrate_chat(old, new)
        self._chats_changed()

    def chat_back(self, chat_id: int) -> None:
        """The bot is in the chat again: its deliveries resume."""
        self.store.activate_chat(chat_id)
        self._chats_changed()

    def set_digest(self, chat_id: int, kind: str, when: str) -> str | None:
        """'HH:MM' for a daily digest, 'off' for one message per article; returns the time."""
        text = when.strip().lower()
        if text in {"off", "stop", "none"}:
            self.store.set_digest(chat_id, kind, None)
            self._chats_changed()
            return None
        match = re.fullmatch(r"([01]?\d|2[0-3])[:.h]([0-5]\d)", text)
        if not match:
            raise Refused(RefusalReason.BAD_TIME)
        at = f"{int(match[1]):02}:{match[2]}"
        self.store.set_digest(chat_id, kind, at)
        self._chats_changed()
        return at

    def set_timezone(self, chat_id: int, kind: str, name: str) -> str:
        zone = zone_named(name)
        self.store.set_timezone(chat_id, kind, zone.key)
        self._chats_changed()
        return zone.key


def zone_named(name: str) -> ZoneInfo:
    """An IANA time zone ('Europe/Berlin', 'UTC'), or Refused."""
    name = name.strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}", name):
        raise Refused(RefusalReason.BAD_ZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Refused(RefusalReason.BAD_ZONE) from None


def digest_due(chat: ChatState, now: float) -> bool:
    """Has the chat's digest time passed since its last digest? (Catches up after downtime.)"""
    if not chat.digest_time:
        return False
    zone = zone_named(chat.timezone)
    hours, minutes = (int(part) for part in chat.digest_time.split(":"))
    local_now = datetime.fromtimestamp(now, tz=UTC).astimezone(zone)
    latest = local_now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if latest > local_now:
        latest -= timedelta(days=1)
    return (chat.last_digest_at or 0) < latest.timestamp()
