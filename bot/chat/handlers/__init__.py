"""Handlers: thin. Each reads its input, asks News, and sends what render makes of the answer.

reading.py: /start /help /latest /read /search, the reading buttons, inline mode;
settings.py: a chat's subscriptions, language, pictures, digest and time zone;
admin.py: the admins' commands; common.py: replying, editing, who may do what."""

from __future__ import annotations

from .admin import (
    add_feed,
    admins_only,
    export,
    feeds,
    import_feeds,
    not_admins_file,
    reload,
    remove_feed,
    stats,
)
from .common import flood_notice, news
from .reading import (
    full_text_button,
    help_command,
    inline_query,
    latest,
    latest_button,
    not_text,
    read,
    read_button,
    search,
    search_button,
    stale_button,
    start,
    text_search,
    unknown_command,
)
from .settings import (
    digest,
    lang,
    membership,
    pictures,
    remove_button,
    subscribe,
    subscriptions,
    timezone,
    unsubscribe,
)

__all__ = [
    "add_feed",
    "admins_only",
    "digest",
    "export",
    "feeds",
    "flood_notice",
    "full_text_button",
    "help_command",
    "import_feeds",
    "inline_query",
    "lang",
    "latest",
    "latest_button",
    "membership",
    "news",
    "not_admins_file",
    "not_text",
    "pictures",
    "read",
    "read_button",
    "reload",
    "remove_button",
    "remove_feed",
    "search",
    "search_button",
    "stale_button",
    "start",
    "stats",
    "subscribe",
    "subscriptions",
    "text_search",
    "timezone",
    "unknown_command",
    "unsubscribe",
]
