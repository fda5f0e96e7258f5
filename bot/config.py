"""Settings: read once at start from config/*.toml (tomllib) and the environment, checked there.

A bad value raises ConfigError with one line naming the key; the command line turns it into
exit status 2. Relative paths in a config file are resolved against that file's folder, relative
paths in environment variables against the current directory.

Each key is declared once, in bot/settings.py: a row of its table (default, bounds,
environment variable, help) and the field of the dataclass that holds it. Here every row is
read by the reader for its kind; the dataclasses are importable from here as before.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import NewsbotError
from .settings import ALGORITHM_NAMES as ALGORITHM_NAMES
from .settings import KNOWN, Setting, rows
from .settings import LANGUAGES as LANGUAGES
from .settings import MAX_SENTENCES as MAX_SENTENCES
from .settings import Boilerplate as Boilerplate
from .settings import DeliverySettings as DeliverySettings
from .settings import FeedSettings as FeedSettings
from .settings import FeedSource as FeedSource
from .settings import Settings as Settings
from .settings import SummaryOptions as SummaryOptions
from .settings import TelegramSettings as TelegramSettings

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "newsbot.toml"


class ConfigError(NewsbotError):
    """A setting is missing or wrong; the message names the key and what to do."""


Reader = Callable[[Setting, Mapping[str, Any], Mapping[str, str], Path], Any]


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
    top = {
        **_read_section(data, "articles", env, base),
        **_read_section(data, "database", env, base),
        **_read_section(data, "index", env, base),
    }
    # [database] url (or NEWSBOT_DATABASE), when set, names the database instead of path.
    top["database"] = top.pop("database_url") or top["database"]
    return Settings(
        **top,
        summary=SummaryOptions(**_read_section(data, "summary", env, base)),
        telegram=TelegramSettings(**_read_section(data, "telegram", env, base)),
        delivery=DeliverySettings(**_read_section(data, "delivery", env, base)),
        feeds=FeedSettings(**_read_section(data, "feeds", env, base)),
        config_path=path,
    )


def _read_section(
    data: Mapping[str, Any], name: str, env: Mapping[str, str], base: Path
) -> dict[str, Any]:
    """The section's values by dataclass field, each read and checked as its row says."""
    section = _section(data, name)
    return {row.field: _READERS[row.kind](row, section, env, base) for row in rows(name)}


def _read_number(
    row: Setting, section: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> Any:
    if row.env and env.get(row.env):
        number = _number(_env_number(env, row.env), row)
    else:
        number = _number(section.get(row.key, row.default), row)
    if row.kind == "int":
        return int(number)
    return int(number * 1024 * 1024) if row.kind == "mb" else number


def _read_choice(
    row: Setting, section: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> str:
    return _choice(section, row.name, row.default, row.choices)


def _read_path(
    row: Setting, section: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> Path | None:
    if row.default is None and row.key not in section:
        return None
    # A key a config file leaves out means the project's default, wherever that file is.
    return _path_setting(
        env.get(row.env) if row.env else None,
        section.get(row.key, row.default),
        base if row.key in section else DEFAULT_CONFIG.parent,
        row.name,
    )


def _read_database(
    row: Setting, section: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> Path | str:
    """A postgresql:// URL as it is, a SQLite file's path resolved (as other paths), or ''."""
    from_env = env.get(row.env) if row.env else None
    value = from_env or section.get(row.key, row.default)
    if not isinstance(value, str):
        raise ConfigError(f"{row.name}: expected a postgresql:// URL or a path, got {value!r}")
    if not value or value.startswith(("postgresql://", "postgres://")):
        return value
    if "://" in value:
        raise ConfigError(
            f"{row.name} / {row.env}: only PostgreSQL servers (postgresql://...) or SQLite"
            f" files' paths are databases here, got {value.split('://')[0]}://..."
        )
    return _path_setting(from_env, value, base, row.name)


def _read_boilerplate(
    row: Setting, section: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> Boilerplate:
    name = section.get(row.key, row.default)
    if not isinstance(name, str):
        raise ConfigError(f"{row.name}: expected a file name, like 'boilerplate.toml'")
    path = base / name
    if row.key not in section and not path.exists():
        path = DEFAULT_CONFIG.parent / row.default  # the project's list
    return load_boilerplate(path)


def _read_text(row: Setting, section: Mapping[str, Any], env: Mapping[str, str], base: Path) -> str:
    value = env.get(row.env) or section.get(row.key, row.default)
    if row.kind == "url" and (
        not isinstance(value, str) or not value.startswith(("http://", "https://"))
    ):
        raise ConfigError(
            f"{row.name} / {row.env}: expected an http(s) URL like"
            f" http://127.0.0.1:8081/bot, got {value!r}"
        )
    if not isinstance(value, str):
        raise ConfigError(f"{row.name}: expected text, got {value!r}")
    if row.kind == "secret" and value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
        raise ConfigError(
            f"{row.name} / {row.env}: 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
        )
    return value


def _read_port(row: Setting, section: Mapping[str, Any], env: Mapping[str, str], base: Path) -> int:
    text = env.get(row.env)
    try:
        port = int(text) if text else section.get(row.key, row.default)
    except ValueError:
        port = -1
    if isinstance(port, bool) or not isinstance(port, int) or not row.low <= port <= row.high:
        raise ConfigError(
            f"{row.name}: expected a port from {row.low:g} to {row.high:g}, got {port!r}"
        )
    return port


def _read_bool(
    row: Setting, section: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> bool:
    if env.get(row.env):
        return env[row.env].strip().lower() in ("1", "true", "yes", "on")
    value = section.get(row.key, row.default)
    if not isinstance(value, bool):
        raise ConfigError(f"{row.name}: expected true or false")
    return value


def _read_ids(
    row: Setting, section: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> frozenset[int]:
    raw: Any = section.get(row.key, list(row.default))
    key = row.name
    if env.get(row.env) is not None:
        key = row.env
        raw = [part.strip() for part in env[row.env].split(",") if part.strip()]
    if not isinstance(raw, list):
        raise ConfigError(f"{key}: expected a list of Telegram user ids, like [12345678]")
    ids = set()
    for value in raw:
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            raise ConfigError(
                f"{key}: {value!r} is not a Telegram user id (a whole number)"
            ) from None
    return frozenset(ids)


def _read_feeds(
    row: Setting, section: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> tuple[FeedSource, ...]:
    raw = section.get(row.key, list(row.default))
    if not isinstance(raw, list):
        raise ConfigError(f"{row.name}: expected a list of {{name, url, tags}} tables")
    # NEWSBOT_FEEDS: more feeds, "url" or "name=url", separated by spaces, commas or newlines.
    for i, item in enumerate(re.split(r"[\s,]+", env.get(row.env, "").strip())):
        if not item:
            continue
        name, _, url = item.partition("=") if "=" in item.split("://", 1)[0] else ("", "", item)
        raw = [*raw, {"name": name or _feed_name(url, i), "url": url}]
    sources = []
    names: set[str] = set()
    for i, item in enumerate(raw):
        key = f"{row.name}[{i}]"
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
    return tuple(sources)


_READERS: dict[str, Reader] = {
    "int": _read_number,
    "float": _read_number,
    "mb": _read_number,
    "choice": _read_choice,
    "path": _read_path,
    "file": _read_boilerplate,
    "text": _read_text,
    "url": _read_text,
    "secret": _read_text,
    "port": _read_port,
    "bool": _read_bool,
    "ids": _read_ids,
    "feeds": _read_feeds,
    "database": _read_database,
}


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
        if section not in KNOWN:
            raise ConfigError(f"{path}: unknown section [{section}]")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {section} must be a [{section}] table")
        for key in value:
            if key not in KNOWN[section]:
                known = ", ".join(sorted(KNOWN[section]))
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


def _number(value: Any, row: Setting) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not row.low <= value <= row.high
    ):
        raise ConfigError(
            f"{row.name}: expected a number from {row.low:g} to {row.high:g}, got {value!r}"
        )
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
