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
