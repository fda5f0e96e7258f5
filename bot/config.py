"""Settings: read once at start from config/*.toml (tomllib) and the environment, checked there.

A bad value raises ConfigError with one line naming the key; the command line turns it into
exit status 2. Relative paths in a config file are resolved against that file's folder, relative
paths in environment variables against the current directory.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import NewsbotError

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "newsbot.toml"

# Kept here rather than imported from summarize so that reading settings never loads sumy/nltk.
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


class ConfigError(NewsbotError):
    """A setting is missing or wrong; the message names the key and what to do."""


@dataclass(frozen=True)
class Boilerplate:
    """What counts as site boilerplate in scraped text (see config/boilerplate.toml)."""

    lines: frozenset[str] = frozenset()
    cut_from: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class SummaryOptions:
    """How summaries are made ([summary] in the config); summarize.py takes these as they are."""

    algorithm: str = "lede"
    sentences: int = 3
    language: str = "english"
    # KL-Sum is cubic in sentences: longer articles are summarized with kl_fallback instead.
    kl_max_sentences: int = 80
    kl_fallback: str = "lexrank"
    # Only the first max_sentences body sentences are rated, whatever the method.
    max_sentences: int = 600


@dataclass(frozen=True)
class TelegramSettings:
    """[telegram]: how the bot reaches Telegram. The token is not here: it is a secret and
    comes from TELEGRAM_BOT_TOKEN only."""

    # Telegram user ids allowed to run admin commands (/reload).
    admins: frozenset[int] = frozenset()
    # The Bot API base URL; the token is appended (python-telegram-bot's base_url).
    api_base_url: str = "https://api.telegram.org/bot"
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    # Flood control, per person (admins too): this many updates at once, refilled over
    # flood_seconds; past that, one notice, then nothing until it has refilled.
    flood_messages: int = 20
    flood_seconds: float = 10.0


@dataclass(frozen=True)
class DeliverySettings:
    """[delivery]: how fast new articles go out to subscribers, within Telegram's limits."""

    # Telegram allows about 30 messages a second overall...
    max_per_second: float = 30.0
    # ...about one a second in one chat...
    per_chat_seconds: float = 1.0
    # ...and 20 a minute in one group.
    group_per_minute: int = 20
    # Re-index the folder this often through the same code path as /reload (0: never).
    reload_minutes: float = 0.0


@dataclass(frozen=True)
class FeedSource:
    """A feed to read: its URL, the name people see, tags given to its articles."""

    name: str
    url: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedSettings:
    """[feeds]: the feeds in the config file (admins add more in chat) and how they are read."""

    sources: tuple[FeedSource, ...] = ()
    poll_minutes: float = 15.0
    # Where each new entry is written as a JSON article file, for the index operation to read.
    # None: a `feeds` folder inside the articles folder.
    folder: Path | None = None
    timeout_seconds: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    # An entry whose own content has fewer words than this is a teaser: its page is fetched.
    full_text_words: int = 150
    # At most this many new entries a feed brings per poll (a new feed's backlog is capped).
    max_new_entries: int = 30
    # Fetch from loopback and private addresses too: only for a deliberately local feed.
    allow_private_addresses: bool = False
    # A feed's whole poll (the feed and the pages of its entries) ends after this long; what
    # arrived by then is taken, the rest waits for the next poll.
    poll_seconds: float = 120.0


@dataclass(frozen=True)
class Settings:
    articles_dir: Path
    database: Path
    max_file_bytes: int = 5 * 1024 * 1024
    boilerplate: Boilerplate = field(default_factory=Boilerplate)
    summary: SummaryOptions = field(default_factory=SummaryOptions)
    workers: int = 0
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


# key -> (section, name); the schema of newsbot.toml, so that a typo is an error, not a no-op.
_KNOWN: dict[str, set[str]] = {
    "articles": {"dir", "max_file_mb", "boilerplate"},
    "summary": {
        "algorithm",
        "sentences",
        "language",
        "kl_max_sentences",
        "kl_fallback",
        "max_sentences",
    },
    "database": {"path"},
    "index": {"workers"},
    "delivery": {"max_per_second", "per_chat_seconds", "group_per_minute", "reload_minutes"},
    "feeds": {
        "sources",
        "poll_minutes",
        "folder",
        "timeout_seconds",
        "max_mb",
        "max_redirects",
        "full_text_words",
        "max_new_entries",
        "allow_private_addresses",
        "poll_seconds",
    },
    "telegram": {
        "admins",
        "api_base_url",
        "webhook_listen",
        "webhook_port",
        "webhook_url",
        "webhook_secret",
        "flood_messages",
        "flood_seconds",
    },
}


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read the config file (argument, NEWSBOT_CONFIG or config/newsbot.toml) and environment."""
    env = os.environ if environ is None else environ
    path = Path(config_path or env.get("NEWSBOT_CONFIG") or _default_config_path())
    data = _read_toml(path, what="config file")
    _check_keys(data, path)
    base = path.parent

    articles = _section(data, "articles")
    summary = _section(data, "summary")
    database = _section(data, "database")
    index = _section(data, "index")

    # A key a config file leaves out means the project's default, wherever that file is.
    defaults = DEFAULT_CONFIG.parent
    articles_dir = _path_setting(
        env.get("NEWSBOT_ARTICLES_DIR"),
        articles.get("dir", "../articles"),
        base if "dir" in articles else defaults,
        "articles.dir",
    )
    db_path = _path_setting(
        env.get("NEWSBOT_DATABASE"),
        database.get("path", "../var/newsbot.sqlite3"),
        base if "path" in database else defaults,
        "database.path",
    )
    max_mb = _number(articles, "articles.max_file_mb", default=5, low=0.001, high=1024)
    boilerplate_file = articles.get("boilerplate", "boilerplate.toml")
    if not isinstance(boilerplate_file, str):
        raise ConfigError("articles.boilerplate: expected a file name, like 'boilerplate.toml'")
    boilerplate_path = base / boilerplate_file
    if "boilerplate" not in articles and not boilerplate_path.exists():
        boilerplate_path = defaults / "boilerplate.toml"  # the project's list
    boilerplate = load_boilerplate(boilerplate_path)

    algorithm = _choice(summary, "summary.algorithm", "lede", ALGORITHM_NAMES)
    kl_fallback = _choice(
        summary, "summary.kl_fallback", "lexrank", tuple(a for a in ALGORITHM_NAMES if a != "kl")
    )
    language = _choice(summary, "summary.language", "english", LANGUAGES)
    sentences = int(_number(summary, "summary.sentences", default=3, low=1, high=MAX_SENTENCES))
    kl_max = int(_number(summary, "summary.kl_max_sentences", default=80, low=1, high=100_000))
    max_sentences = int(_number(summary, "summary.max_sentences", default=600, low=1, high=10**6))
    workers = int(_number(index, "index.workers", default=0, low=0, high=1024))
    telegram = _telegram_settings(_section(data, "telegram"), env)
    section = _section(data, "delivery")
    delivery = DeliverySettings(
        max_per_second=_number(section, "delivery.max_per_second", default=30, low=0.1, high=1e6),
        per_chat_seconds=_number(section, "delivery.per_chat_seconds", default=1, low=0, high=3600),
        group_per_minute=int(
            _number(section, "delivery.group_per_minute", default=20, low=1, high=1e6)
        ),
        reload_minutes=_number(section, "delivery.reload_minutes", default=0, low=0, high=10080),
    )

    feeds = _feed_settings(_section(data, "feeds"), base, env)

    return Settings(
        articles_dir=articles_dir,
        database=db_path,
        max_file_bytes=int(max_mb * 1024 * 1024),
        boilerplate=boilerplate,
        summary=SummaryOptions(
            algorithm=algorithm,
            sentences=sentences,
            language=language,
            kl_max_sentences=kl_max,
            kl_fallback=kl_fallback,
            max_sentences=max_sentences,
        ),
        workers=workers,
        telegram=telegram,
        delivery=delivery,
        feeds=feeds,
        config_path=path,
    )


def _feed_settings(
    section: Mapping[str, Any], base: Path, env: Mapping[str, str] | None = None
) -> FeedSettings:
    raw = section.get("sources", [])
    if not isinstance(raw, list):
        raise ConfigError("feeds.sources: expected a list of {name, url, tags} tables")
    env = env or {}
    # NEWSBOT_FEEDS: more feeds, "url" or "name=url", separated by spaces, commas or newlines.
    for i, item in enumerate(re.split(r"[\s,]+", env.get("NEWSBOT_FEEDS", "").strip())):
        if not item:
            continue
        name, _, url = item.partition("=") if "=" in item.split("://", 1)[0] else ("", "", item)
        raw = [*raw, {"name": name or _feed_name(url, i), "url": url}]
    if env.get("NEWSBOT_FEEDS_POLL_MINUTES"):
        section = {**section, "poll_minutes": _env_number(env, "NEWSBOT_FEEDS_POLL_MINUTES")}
    if env.get("NEWSBOT_FEEDS_ALLOW_PRIVATE"):
        allow = env["NEWSBOT_FEEDS_ALLOW_PRIVATE"].strip().lower() in ("1", "true", "yes", "on")
        section = {**section, "allow_private_addresses": allow}
    allow_private = section.get("allow_private_addresses", False)
    if not isinstance(allow_private, bool):
        raise ConfigError("feeds.allow_private_addresses: expected true or false")
    sources = []
    names: set[str] = set()
    for i, item in enumerate(raw):
        key = f"feeds.sources[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{key}: expected a table with name and url")
        url, name = item.get("url"), item.get("name")
        tags = item.get("tags", [])
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise ConfigError(f"{key}.url: expected an http or https URL, got {url!r}")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{key}.name: expected the name people see, like 'BBC World'")
        if name.strip().lower() in names:
            raise ConfigError(f"{key}.name: {name!r} is used twice")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ConfigError(f"{key}.tags: expected a list of words")
        names.add(name.strip().lower())
        sources.append(FeedSource(" ".join(name.split()), url.strip(), tuple(tags)))
    folder = section.get("folder")
    return FeedSettings(
        sources=tuple(sources),
        poll_minutes=_number(section, "feeds.poll_minutes", default=15, low=0.05, high=10080),
        folder=_path_setting(None, folder, base, "feeds.folder") if folder is not None else None,
        timeout_seconds=_number(section, "feeds.timeout_seconds", default=20, low=0.1, high=600),
        max_bytes=int(_number(section, "feeds.max_mb", default=5, low=0.01, high=1024) * 2**20),
        max_redirects=int(_number(section, "feeds.max_redirects", default=5, low=0, high=50)),
        full_text_words=int(
            _number(section, "feeds.full_text_words", default=150, low=0, high=100_000)
        ),
        max_new_entries=int(
            _number(section, "feeds.max_new_entries", default=30, low=1, high=10_000)
        ),
        allow_private_addresses=allow_private,
        poll_seconds=_number(section, "feeds.poll_seconds", default=120, low=1, high=3600),
    )


def _telegram_settings(section: Mapping[str, Any], env: Mapping[str, str]) -> TelegramSettings:
    raw_admins: Any = section.get("admins", [])
    if env.get("NEWSBOT_ADMIN_IDS") is not None:
        key = "NEWSBOT_ADMIN_IDS"
        raw_admins = [part.strip() for part in env["NEWSBOT_ADMIN_IDS"].split(",") if part.strip()]
    else:
        key = "telegram.admins"
    if not isinstance(raw_admins, list):
        raise ConfigError(f"{key}: expected a list of Telegram user ids, like [12345678]")
    admins = set()
    for value in raw_admins:
        try:
            admins.add(int(value))
        except (TypeError, ValueError):
            raise ConfigError(
                f"{key}: {value!r} is not a Telegram user id (a whole number)"
            ) from None
    base_url = env.get("NEWSBOT_API_BASE_URL") or section.get(
        "api_base_url", TelegramSettings.api_base_url
    )
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"telegram.api_base_url / NEWSBOT_API_BASE_URL: expected an http(s) URL like"
            f" http://127.0.0.1:8081/bot, got {base_url!r}"
        )
    port_text = env.get("NEWSBOT_WEBHOOK_PORT")
    try:
        port = int(port_text) if port_text else section.get("webhook_port", 8443)
    except ValueError:
        port = -1
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"telegram.webhook_port: expected a port from 1 to 65535, got {port!r}")
    strings = {}
    for name in ("webhook_listen", "webhook_url", "webhook_secret"):
        value = env.get(f"NEWSBOT_{name.upper()}") or section.get(
            name, getattr(TelegramSettings, name)
        )
        if not isinstance(value, str):
            raise ConfigError(f"telegram.{name}: expected text, got {value!r}")
        strings[name] = value
    secret = strings["webhook_secret"]
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise ConfigError(
            "telegram.webhook_secret / NEWSBOT_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z,"
            " 0-9, _ and - (Telegram's rule)"
        )
    return TelegramSettings(
        admins=frozenset(admins),
        api_base_url=base_url,
        webhook_listen=strings["webhook_listen"],
        webhook_port=port,
        webhook_url=strings["webhook_url"],
        webhook_secret=secret,
        flood_messages=int(
            _number(section, "telegram.flood_messages", default=20, low=1, high=10_000)
        ),
        flood_seconds=_number(section, "telegram.flood_seconds", default=10, low=0.1, high=3600),
    )


def load_boilerplate(path: Path) -> Boilerplate:
    """Read the boilerplate list; phrases are normalized the way articles.py compares lines."""
    data = _read_toml(path, what="boilerplate file")
    lines = _string_list(data, "lines", path)
    cut_from = _string_list(data, "cut_from", path)
    patterns = []
    for raw in _string_list(data, "patterns", path):
        try:
            patterns.append(re.compile(raw, re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(
                f"{path}: patterns: {raw!r} is not a valid regular expression ({exc})"
            ) from None
    return Boilerplate(
        lines=frozenset(normalize_phrase(s) for s in lines),
        cut_from=frozenset(normalize_phrase(s) for s in cut_from),
        patterns=tuple(patterns),
    )


def normalize_phrase(text: str) -> str:
    """Case-folded, spaces collapsed, no trailing punctuation: how boilerplate is compared."""
    return " ".join(text.split()).casefold().rstrip(" .:!?…|-–—»>")


def _default_config_path() -> Path:
    local = Path("config") / "newsbot.toml"
    return local if local.is_file() else DEFAULT_CONFIG


def _read_toml(path: Path, *, what: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} not found (set NEWSBOT_CONFIG or --config)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc.strerror}") from None


def _check_keys(data: Mapping[str, Any], path: Path) -> None:
    for section, value in data.items():
        if section not in _KNOWN:
            raise ConfigError(f"{path}: unknown section [{section}]")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {section} must be a [{section}] table")
        for key in value:
            if key not in _KNOWN[section]:
                known = ", ".join(sorted(_KNOWN[section]))
                raise ConfigError(f"{path}: unknown key {section}.{key} (known: {known})")


def _section(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    return value if isinstance(value, dict) else {}


def _path_setting(env_value: str | None, file_value: Any, base: Path, key: str) -> Path:
    if env_value:
        return Path(env_value).expanduser().resolve()
    if not isinstance(file_value, str) or not file_value:
        raise ConfigError(f"{key}: expected a path, got {file_value!r}")
    path = Path(file_value).expanduser()
    return (path if path.is_absolute() else base / path).resolve()


def _number(
    section: Mapping[str, Any], key: str, *, default: float, low: float, high: float
) -> float:
    value = section.get(key.split(".", 1)[1], default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{key}: expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _choice(section: Mapping[str, Any], key: str, default: str, choices: tuple[str, ...]) -> str:
    value = section.get(key.split(".", 1)[1], default)
    if value not in choices:
        raise ConfigError(f"{key}: expected one of {', '.join(choices)}; got {value!r}")
    return str(value)


def _string_list(data: Mapping[str, Any], key: str, path: Path) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of strings")
    return list(value)


def _feed_name(url: str, index: int) -> str:
    host = re.sub(r"^[a-z]+://", "", url.lower()).split("/", 1)[0].split("@")[-1]
    return f"{host or 'feed'} {index + 1}"


def _env_number(env: Mapping[str, str], key: str) -> float:
    try:
        return float(env[key])
    except ValueError:
        raise ConfigError(f"{key}: expected a number, got {env[key]!r}") from None
