"""The settings table: every key of config/newsbot.toml, declared once, and the typed
dataclasses that hold the values (a new setting is a row and a field, both here).

Each row gives a key's section and name, its kind (how it is read and checked), its default,
its bounds, the environment variable that overrides it and what it is for. bot.config builds
the known-keys check from it, reads every value through it, and its dataclasses take their
defaults from it (`default("summary.sentences")`). This module imports nothing of the bot's,
so that reading settings never loads sumy/nltk.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ALGORITHM_NAMES = (
    "news",
    "lead",
    "lexrank",
    "lsa",
    "textrank",
    "luhn",
    "sumbasic",
    "kl",
    "reduction",
    "edmundson",
    "lede",
)
LANGUAGES = (
    "czech",
    "danish",
    "dutch",
    "english",
    "estonian",
    "finnish",
    "french",
    "german",
    "greek",
    "italian",
    "norwegian",
    "polish",
    "portuguese",
    "russian",
    "slovene",
    "spanish",
    "swedish",
    "turkish",
)
MAX_SENTENCES = 50
MB = 1024 * 1024

# int, float: a number from low to high (mb: in megabytes, kept in bytes); choice: one of
# choices; path: relative to the config file's folder; text: any string (url: http(s);
# secret: Telegram's webhook secret rule); port: 1-65535; bool; ids: Telegram user ids;
# feeds: the list of {name, url, tags} tables; file: the boilerplate file's name; database: a
# postgresql:// URL, or a SQLite file's path.
Kind = (
    Literal["int", "float", "mb", "choice", "path", "text", "url", "secret", "port", "bool", "ids"]
    | Literal["feeds", "file", "database"]
)


@dataclass(frozen=True)
class Setting:
    """One key of the config file."""

    section: str
    key: str
    kind: Kind
    default: Any
    low: float = 0
    high: float = 0
    env: str = ""
    help: str = ""
    choices: tuple[str, ...] = ()
    # The dataclass field that holds it, when that is not the key.
    attr: str = ""

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def field(self) -> str:
        return self.attr or self.key


S = Setting
SETTINGS: tuple[Setting, ...] = (
    S("articles", "dir", "path", "../articles", env="NEWSBOT_ARTICLES_DIR", attr="articles_dir",
      help="the folder of article files the index operation reads"),
    S("articles", "max_file_mb", "mb", 5, 0.001, 1024, attr="max_file_bytes",
      help="a bigger file is refused, not read"),
    S("articles", "boilerplate", "file", "boilerplate.toml",
      help="the list of site boilerplate lines, beside this file"),
    S("summary", "algorithm", "choice", "lede", choices=ALGORITHM_NAMES,
      help="how summaries are made"),
    S("summary", "sentences", "int", 3, 1, MAX_SENTENCES, help="sentences in a summary"),
    S("summary", "language", "choice", "english", choices=LANGUAGES,
      help="the tokenizer's and stemmer's language"),
    S("summary", "kl_max_sentences", "int", 80, 1, 100_000,
      help="KL-Sum is cubic in sentences: longer articles use kl_fallback instead"),
    S("summary", "kl_fallback", "choice", "lexrank",
      choices=tuple(a for a in ALGORITHM_NAMES if a != "kl"),
      help="the method for articles too long for KL-Sum"),
    S("summary", "max_sentences", "int", 100, 1, 10**6,
      help="body sentences rated, whatever the method: a longer article's first half of them"
      " and an even sample of the rest"),
    S("database", "path", "path", "../var/newsbot.sqlite3", attr="database",
      help="the SQLite file (when no url is set)"),
    S("database", "url", "database", "", env="NEWSBOT_DATABASE", attr="database_url",
      help="a PostgreSQL server (postgresql://user:password@host/db) for several processes;"
      " or a SQLite file's path"),
    S("index", "workers", "int", 0, 0, 1024,
      help="processes that read article files (0: one per CPU)"),
    S("telegram", "admins", "ids", (), env="NEWSBOT_ADMIN_IDS",
      help="Telegram user ids allowed to run admin commands (/reload, /addfeed)"),
    S("telegram", "api_base_url", "url", "https://api.telegram.org/bot",
      env="NEWSBOT_API_BASE_URL", help="the Bot API base URL; the token is appended"),
    S("telegram", "webhook_listen", "text", "127.0.0.1", env="NEWSBOT_WEBHOOK_LISTEN",
      help="the address the webhook server listens on"),
    S("telegram", "webhook_port", "port", 8443, 1, 65535, env="NEWSBOT_WEBHOOK_PORT",
      help="the port the webhook server listens on"),
    S("telegram", "webhook_url", "text", "", env="NEWSBOT_WEBHOOK_URL",
      help="the public URL Telegram posts updates to"),
    S("telegram", "webhook_secret", "secret", "", env="NEWSBOT_WEBHOOK_SECRET",
      help="the secret Telegram sends with each update"),
    S("telegram", "flood_messages", "int", 20, 1, 10_000,
      help="per person, this many updates at once, refilled over flood_seconds"),
    S("telegram", "flood_seconds", "float", 10, 0.1, 3600,
      help="how long a person's flood allowance takes to refill"),
    S("telegram", "pictures", "bool", True, env="NEWSBOT_PICTURES",
      help="show an article's lead image as its message's large preview (chats: /pictures off)"),
    S("delivery", "max_per_second", "float", 30, 0.1, 1e6,
      help="messages a second overall (Telegram allows about 30)"),
    S("delivery", "per_chat_seconds", "float", 1, 0, 3600,
      help="seconds between messages in one chat (Telegram: about one a second)"),
    S("delivery", "group_per_minute", "int", 20, 1, 1e6,
      help="messages a minute in one group (Telegram: 20)"),
    S("delivery", "reload_minutes", "float", 0, 0, 10080,
      help="re-index the folder this often, as /reload does (0: never)"),
    S("feeds", "sources", "feeds", (), env="NEWSBOT_FEEDS",
      help="feeds to read: {name, url, tags} tables (env: 'url' or 'name=url' items)"),
    S("feeds", "poll_minutes", "float", 15, 0.05, 10080, env="NEWSBOT_FEEDS_POLL_MINUTES",
      help="how often every feed is read"),
    S("feeds", "folder", "path", None,
      help="where new entries are written as JSON articles (default: articles/feeds)"),
    S("feeds", "timeout_seconds", "float", 20, 0.1, 600, help="one fetch's time limit"),
    S("feeds", "max_mb", "mb", 5, 0.01, 1024, attr="max_bytes", help="one fetch's size limit"),
    S("feeds", "max_redirects", "int", 5, 0, 50, help="redirects one fetch follows"),
    S("feeds", "full_text_words", "int", 150, 0, 100_000,
      help="an entry with fewer words of its own is a teaser: its page is fetched"),
    S("feeds", "max_new_entries", "int", 30, 1, 10_000,
      help="at most this many new entries a feed brings per poll"),
    S("feeds", "allow_private_addresses", "bool", False, env="NEWSBOT_FEEDS_ALLOW_PRIVATE",
      help="fetch from loopback and private addresses too (a deliberately local feed)"),
    S("feeds", "poll_seconds", "float", 120, 1, 3600,
      help="a feed's whole poll ends after this long; the rest waits for the next poll"),
)  # fmt: skip
BY_NAME = {row.name: row for row in SETTINGS}
# The schema of newsbot.toml, so that a typo is an error, not a no-op.
KNOWN: dict[str, set[str]] = {}
for _row in SETTINGS:
    KNOWN.setdefault(_row.section, set()).add(_row.key)


def help_text() -> str:
    """Every setting for `--help`: key, kind and bounds, default, environment variable, purpose."""
    lines = ["settings (config/newsbot.toml [section] key; environment variables override):"]
    for row in SETTINGS:
        kind: str = row.kind
        if row.kind in ("int", "float", "mb", "port"):
            unit = " MB" if row.kind == "mb" else ""
            kind = f"{row.kind} {_number(row.low)}..{_number(row.high)}{unit}"
        elif row.kind == "choice":
            kind = "one of " + ", ".join(row.choices)
        default = row.default if row.default not in ("", (), None) else "none"
        env = f", ${row.env}" if row.env else ""
        lines.append(f"  {row.name} ({kind}; default {default}{env})")
        lines.append(f"      {row.help}")
    return "\n".join(lines)


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:g}"


def rows(section: str) -> tuple[Setting, ...]:
    return tuple(row for row in SETTINGS if row.section == section)


def default(name: str) -> Any:
    """A setting's default as its dataclass holds it (megabytes in bytes, lists as sets)."""
    row = BY_NAME[name]
    if row.kind == "mb":
        return int(row.default * MB)
    if row.kind in ("int", "port"):
        return int(row.default)
    if row.kind == "float":
        return float(row.default)
    if row.kind == "ids":
        return frozenset(row.default)
    return row.default


@dataclass(frozen=True)
class Boilerplate:
    """What counts as site boilerplate in scraped text (see config/boilerplate.toml)."""

    lines: frozenset[str] = frozenset()
    cut_from: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()


# The typed sections: each field takes its default from its row in the table above.
@dataclass(frozen=True)
class SummaryOptions:
    """How summaries are made ([summary] in the config); summarize.py takes these as they are."""

    algorithm: str = default("summary.algorithm")
    sentences: int = default("summary.sentences")
    language: str = default("summary.language")
    kl_max_sentences: int = default("summary.kl_max_sentences")
    kl_fallback: str = default("summary.kl_fallback")
    max_sentences: int = default("summary.max_sentences")


@dataclass(frozen=True)
class TelegramSettings:
    """[telegram]: how the bot reaches Telegram. The token is not here: it is a secret and
    comes from TELEGRAM_BOT_TOKEN only."""

    admins: frozenset[int] = default("telegram.admins")
    api_base_url: str = default("telegram.api_base_url")
    webhook_listen: str = default("telegram.webhook_listen")
    webhook_port: int = default("telegram.webhook_port")
    webhook_url: str = default("telegram.webhook_url")
    webhook_secret: str = field(default=default("telegram.webhook_secret"), repr=False)
    flood_messages: int = default("telegram.flood_messages")
    flood_seconds: float = default("telegram.flood_seconds")
    pictures: bool = default("telegram.pictures")


@dataclass(frozen=True)
class DeliverySettings:
    """[delivery]: how fast new articles go out to subscribers, within Telegram's limits."""

    max_per_second: float = default("delivery.max_per_second")
    per_chat_seconds: float = default("delivery.per_chat_seconds")
    group_per_minute: int = default("delivery.group_per_minute")
    reload_minutes: float = default("delivery.reload_minutes")


@dataclass(frozen=True)
class FeedSource:
    """A feed to read: its URL, the name people see, tags given to its articles."""

    name: str
    url: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedSettings:
    """[feeds]: the feeds in the config file (admins add more in chat) and how they are read."""

    sources: tuple[FeedSource, ...] = default("feeds.sources")
    poll_minutes: float = default("feeds.poll_minutes")
    folder: Path | None = None  # a `feeds` folder inside the articles folder
    timeout_seconds: float = default("feeds.timeout_seconds")
    max_bytes: int = default("feeds.max_mb")
    max_redirects: int = default("feeds.max_redirects")
    full_text_words: int = default("feeds.full_text_words")
    max_new_entries: int = default("feeds.max_new_entries")
    allow_private_addresses: bool = default("feeds.allow_private_addresses")
    poll_seconds: float = default("feeds.poll_seconds")


@dataclass(frozen=True)
class Settings:
    articles_dir: Path
    # A SQLite file's path, or a postgresql:// URL (store.open_store takes either), which may
    # hold a password: not in repr.
    database: Path | str = field(repr=False)
    max_file_bytes: int = default("articles.max_file_mb")
    boilerplate: Boilerplate = field(default_factory=Boilerplate)
    summary: SummaryOptions = field(default_factory=SummaryOptions)
    workers: int = default("index.workers")
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    feeds: FeedSettings = field(default_factory=FeedSettings)
    config_path: Path | None = None

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def feeds_folder(self) -> Path:
        return self.feeds.folder or self.articles_dir / "feeds"
