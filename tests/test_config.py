from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_CONFIG, ConfigError, load_settings


def write_config(tmp_path: Path, text: str, boilerplate: str = "lines = []\n") -> Path:
    (tmp_path / "boilerplate.toml").write_text(boilerplate)
    path = tmp_path / "newsbot.toml"
    path.write_text(text)
    return path


def test_committed_defaults_load() -> None:
    settings = load_settings(DEFAULT_CONFIG, environ={})
    assert settings.articles_dir == DEFAULT_CONFIG.parent.parent / "articles"
    assert (settings.summary.algorithm, settings.summary.sentences) == ("lede", 3)
    assert settings.summary.language == "english"
    assert "exit mobile version" in settings.boilerplate.lines
    assert "more articles like this" in settings.boilerplate.cut_from
    assert (settings.telegram.flood_messages, settings.telegram.flood_seconds) == (20, 10.0)


def test_relative_paths_are_resolved_against_the_config_folder(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[articles]\ndir = "news"\n[database]\npath = "db/x.sqlite3"\n')
    settings = load_settings(path, environ={})
    assert settings.articles_dir == tmp_path / "news"
    assert settings.database == tmp_path / "db" / "x.sqlite3"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "")
    settings = load_settings(
        None,
        environ={
            "NEWSBOT_CONFIG": str(path),
            "NEWSBOT_ARTICLES_DIR": str(tmp_path / "elsewhere"),
            "NEWSBOT_DATABASE": str(tmp_path / "other.sqlite3"),
        },
    )
    assert settings.config_path == path
    assert settings.articles_dir == tmp_path / "elsewhere"
    assert settings.database == tmp_path / "other.sqlite3"


def test_size_limit_is_read_in_megabytes(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[articles]\nmax_file_mb = 0.5\n")
    assert load_settings(path, environ={}).max_file_bytes == 512 * 1024


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[summary]\nsentences = 0\n", "summary.sentences: expected a number from 1 to 50, got 0"),
        ('[summary]\nsentences = "3"\n', "summary.sentences: expected a number"),
        (
            '[summary]\nalgorithm = "magic"\n',
            "summary.algorithm: expected one of news, lead, lexrank",
        ),
        ('[summary]\nlanguage = "klingon"\n', "summary.language: expected one of"),
        ("[summary]\nsentense = 3\n", "unknown key summary.sentense"),
        ("[sumary]\n", r"unknown section \[sumary\]"),
        ("[articles]\nmax_file_mb = -1\n", "articles.max_file_mb"),
        ("[articles]\ndir = 3\n", "articles.dir: expected a path"),
        ("[index]\nworkers = true\n", "index.workers"),
        ("[summary\n", "is not valid TOML"),
        ('[feeds]\nsources = [{ name = "X", url = "ftp://x" }]\n', r"feeds.sources\[0\].url"),
        ('[feeds]\nsources = [{ url = "https://x.org/rss" }]\n', r"feeds.sources\[0\].name"),
        (
            '[feeds]\nsources = [{ name = "A", url = "https://a/rss" },'
            ' { name = "a", url = "https://b/rss" }]\n',
            "used twice",
        ),
        ("[feeds]\npoll_minutes = 0\n", "feeds.poll_minutes"),
        ("[telegram]\nflood_messages = 0\n", "telegram.flood_messages: expected a number"),
        ('[telegram]\nflood_seconds = "10"\n', "telegram.flood_seconds: expected a number"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(path, environ={})
    assert "\n" not in str(caught.value)


def test_a_missing_config_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found .*NEWSBOT_CONFIG"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_a_bad_boilerplate_pattern_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path, "", boilerplate="patterns = ['(unclosed']\n")
    with pytest.raises(ConfigError, match=r"patterns: '\(unclosed' is not a valid regular"):
        load_settings(path, environ={})


def test_feeds_come_from_the_config_and_the_environment(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[feeds]\npoll_minutes = 5\nsources = [{ name = "World", url = "https://x.org/rss",'
        ' tags = ["world"] }]\n',
    )
    environ = {
        "NEWSBOT_FEEDS": "Local=http://127.0.0.1:9/rss?a=1 https://feeds.example.org/x.xml",
        "NEWSBOT_FEEDS_POLL_MINUTES": "0.5",
    }
    feeds = load_settings(path, environ=environ).feeds
    assert [(f.name, f.url, f.tags) for f in feeds.sources] == [
        ("World", "https://x.org/rss", ("world",)),
        ("Local", "http://127.0.0.1:9/rss?a=1", ()),
        ("feeds.example.org 2", "https://feeds.example.org/x.xml", ()),
    ]
    assert feeds.poll_minutes == 0.5


def test_a_config_file_elsewhere_needs_only_the_keys_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"  # no boilerplate.toml beside it
    path.write_text("[feeds]\npoll_minutes = 1\n")
    settings = load_settings(path, environ={})
    assert settings.articles_dir == (DEFAULT_CONFIG.parent / "../articles").resolve()
    assert settings.database == (DEFAULT_CONFIG.parent / "../var/newsbot.sqlite3").resolve()
    assert "exit mobile version" in settings.boilerplate.lines  # the project's list
    assert settings.feeds.poll_minutes == 1


def test_the_settings_table_and_the_committed_config_agree() -> None:
    import tomllib

    from bot.settings import SETTINGS

    data = tomllib.loads(DEFAULT_CONFIG.read_text())
    in_file = {
        f"{section}.{key}": value for section, keys in data.items() for key, value in keys.items()
    }
    in_table = {row.name: row for row in SETTINGS}
    assert set(in_file) == set(in_table) - {"feeds.folder"}  # folder's default is computed
    for name, value in in_file.items():
        assert in_table[name].default == value or list(in_table[name].default) == value, name
    assert all(row.help for row in SETTINGS)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NEWSBOT_WEBHOOK_PORT": "x"}, "telegram.webhook_port: expected a port from 1 to 65535"),
        ({"NEWSBOT_FEEDS_POLL_MINUTES": "soon"}, "NEWSBOT_FEEDS_POLL_MINUTES: expected a number"),
        ({"NEWSBOT_ADMIN_IDS": "1,x"}, "NEWSBOT_ADMIN_IDS: 'x' is not a Telegram user id"),
        ({"NEWSBOT_API_BASE_URL": "ftp://x"}, "NEWSBOT_API_BASE_URL: expected an http"),
        ({"NEWSBOT_WEBHOOK_SECRET": "a b"}, "NEWSBOT_WEBHOOK_SECRET: 1-256 characters"),
    ],
)
def test_a_bad_environment_value_is_named(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    path = write_config(tmp_path, "")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ=environ)


def test_the_environment_overrides_telegram_and_feed_settings(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[telegram]\nadmins = [1]\n")
    environ = {
        "NEWSBOT_ADMIN_IDS": "7, 8",
        "NEWSBOT_WEBHOOK_PORT": "9000",
        "NEWSBOT_WEBHOOK_URL": "https://x.org/hook",
        "NEWSBOT_FEEDS_ALLOW_PRIVATE": "yes",
    }
    settings = load_settings(path, environ=environ)
    assert settings.telegram.admins == frozenset({7, 8})
    assert (settings.telegram.webhook_port, settings.telegram.webhook_url) == (
        9000,
        "https://x.org/hook",
    )
    assert settings.feeds.allow_private_addresses is True
    assert settings.feeds.max_bytes == 5 * 1024 * 1024
    assert settings.feeds.folder is None


def test_pictures_are_on_by_default_and_turned_off_in_the_file_or_the_environment(
    tmp_path: Path,
) -> None:
    assert load_settings(DEFAULT_CONFIG, environ={}).telegram.pictures is True
    off = write_config(tmp_path, "[telegram]\npictures = false\n")
    assert load_settings(off, environ={}).telegram.pictures is False
    on = write_config(tmp_path, "[telegram]\npictures = true\n")
    assert load_settings(on, environ={"NEWSBOT_PICTURES": "0"}).telegram.pictures is False
    with pytest.raises(ConfigError, match=r"telegram\.pictures: expected true or false"):
        load_settings(write_config(tmp_path, '[telegram]\npictures = "no"\n'), environ={})


def test_the_database_is_a_postgresql_url_or_a_sqlite_path(tmp_path: Path) -> None:
    url = "postgresql://newsbot:secret@db.example:5432/newsbot"
    assert load_settings(environ={"NEWSBOT_DATABASE": url}).database == url
    from_env = load_settings(environ={"NEWSBOT_DATABASE": "x/news.sqlite3"}).database
    assert from_env == Path("x/news.sqlite3").resolve()
    config = tmp_path / "newsbot.toml"
    config.write_text(f'[database]\npath = "a.sqlite3"\nurl = "{url}"\n')
    assert load_settings(config, environ={}).database == url  # url names it when set
    config.write_text('[database]\npath = "a.sqlite3"\n')
    assert load_settings(config, environ={}).database == tmp_path / "a.sqlite3"
    with pytest.raises(ConfigError, match="only PostgreSQL servers"):
        load_settings(environ={"NEWSBOT_DATABASE": "mysql://x/y"})
