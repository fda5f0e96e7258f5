"""The deployment files fit together and fit the bot: compose.yaml, the Dockerfile and
deploy/nginx.conf name the same services, ports, credentials and settings the bot has. No
Docker engine runs here or in CI, so these checks read the files; .ci/dockerfile performs the
Dockerfile's steps (tests/dockerfile.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.__main__ import _parser
from bot.config import DEFAULT_CONFIG, load_settings
from bot.settings import SETTINGS

from . import dockerfile
from .conftest import REPO

COMPOSE = REPO / "compose.yaml"
NGINX = REPO / "deploy" / "nginx.conf"
# What an operator puts in the environment (compose.yaml's header says which are needed).
OPERATOR_ENV = {
    "TELEGRAM_BOT_TOKEN": "123:abc",
    "NEWSBOT_WEBHOOK_URL": "https://news.example.org/telegram/hook",
    "NEWSBOT_WEBHOOK_SECRET": "s3cret_-token",
    "NEWSBOT_DB_PASSWORD": "Pa55word",
}
VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>\w+)")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME:?error} (and without the colon), $$."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg, value = match.group("op") or "", match.group("arg") or "", env.get(name)
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("?") and unset:
            raise KeyError(f"{name}: {arg}")
        if op.endswith("-") and unset:
            return arg
        return value or ""

    return VARIABLE.sub(substitute, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def environment(
    service: Mapping[str, Any], env: Mapping[str, str] = OPERATOR_ENV
) -> dict[str, str]:
    """A service's environment as its container gets it (the mapping form)."""
    given = service.get("environment", {})
    assert isinstance(given, dict), "environment: use the NAME: value form"
    return {name: interpolate(str(value), env) for name, value in given.items()}


def image_env() -> dict[str, str]:
    """The ENV the Dockerfile sets."""
    found: dict[str, str] = {}
    for step in dockerfile.read():
        if step.keyword == "ENV":
            found.update(dockerfile.env_pairs(step.args))
    return found


def bot_env(services: Mapping[str, Any]) -> dict[str, str]:
    """What a bot replica runs with: the image's ENV, then compose's environment over it."""
    return image_env() | environment(services["bot"])


def instruction(keyword: str) -> list[dockerfile.Instruction]:
    return [step for step in dockerfile.read() if step.keyword == keyword]


def test_compose_runs_a_database_the_bots_and_a_proxy(services: dict[str, Any]) -> None:
    assert set(services) == {"db", "bot", "proxy"}
    assert str(services["db"]["image"]).startswith("postgres:")
    assert str(services["proxy"]["image"]).startswith("nginx:")


def test_two_bot_replicas_start_once_the_database_is_healthy(services: dict[str, Any]) -> None:
    bot, db = services["bot"], services["db"]
    assert bot["deploy"]["replicas"] == 2
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert bot["restart"] == "unless-stopped"


def test_bots_connect_to_the_db_service_with_its_own_credentials(
    services: dict[str, Any],
) -> None:
    url = urlsplit(environment(services["bot"])["NEWSBOT_DATABASE"])
    db = environment(services["db"])
    assert url.scheme == "postgresql"
    assert (url.hostname, url.port) == ("db", 5432)
    assert url.username == db["POSTGRES_USER"]
    assert url.password == db["POSTGRES_PASSWORD"] == OPERATOR_ENV["NEWSBOT_DB_PASSWORD"]
    assert url.path.lstrip("/") == db["POSTGRES_DB"]


def test_compose_refuses_to_start_without_the_token_url_secret_or_password(
    services: dict[str, Any],
) -> None:
    for name in OPERATOR_ENV:
        missing = {k: v for k, v in OPERATOR_ENV.items() if k != name}
        with pytest.raises(KeyError, match=name):
            environment(services["bot"], missing)


def test_proxy_forwards_to_the_port_the_bots_listen_on(services: dict[str, Any]) -> None:
    targets = re.findall(r"\bhttp://([\w.-]+):(\d+)", NGINX.read_text(encoding="utf-8"))
    env = bot_env(services)
    assert targets == [("bot", env["NEWSBOT_WEBHOOK_PORT"])]
    assert env["NEWSBOT_WEBHOOK_LISTEN"] == "0.0.0.0"
    assert [str(port) for port in services["bot"]["expose"]] == [env["NEWSBOT_WEBHOOK_PORT"]]
    assert [step.args for step in instruction("EXPOSE")] == [env["NEWSBOT_WEBHOOK_PORT"]]


def test_proxy_publishes_the_port_nginx_listens_on(services: dict[str, Any]) -> None:
    listen = re.findall(r"^\s*listen\s+(\d+)\s*;", NGINX.read_text(encoding="utf-8"), re.M)
    published = [interpolate(str(p), {}).rsplit(":", 1)[1] for p in services["proxy"]["ports"]]
    assert listen == published


def test_proxy_passes_the_secret_header_and_asks_dockers_dns_each_time() -> None:
    conf = NGINX.read_text(encoding="utf-8")
    assert re.search(
        r"proxy_set_header\s+X-Telegram-Bot-Api-Secret-Token\s+"
        r"\$http_x_telegram_bot_api_secret_token\s*;",
        conf,
    )
    assert re.search(r"^\s*resolver\s+127\.0\.0\.11\b", conf, re.M)
    # A variable upstream is looked up while nginx runs: both replicas' addresses, in turn.
    assert re.search(r"^\s*proxy_pass\s+\$\w+\s*;", conf, re.M)


def test_every_file_compose_builds_from_or_mounts_is_in_the_repository(
    services: dict[str, Any],
) -> None:
    build = services["bot"]["build"]
    context = REPO / (build if isinstance(build, str) else build["context"])
    name = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (context / name).is_file()
    mounts = [
        volume.split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if volume.startswith((".", "/"))
    ]
    assert mounts, "the proxy mounts deploy/nginx.conf"
    missing = [m for m in mounts if not (REPO / m).exists()]
    assert missing == []


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, Any]) -> None:
    named = {
        volume.split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert named == set(compose["volumes"]) == {"pgdata", "feeds"}


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    ignore = dockerfile.dockerignore()
    for step in instruction("COPY"):
        sources, _ = dockerfile.copy_args(step.args)
        for source in sources:
            assert (REPO / source).exists(), f"line {step.line}: {source}"
            assert not dockerfile.is_ignored(source.rstrip("/"), ignore), source
    for kept_out in (".venv", ".git", "var", "bot/__pycache__", "articles/feeds"):
        assert dockerfile.is_ignored(kept_out, ignore), kept_out


def test_the_image_starts_the_webhook_bot() -> None:
    (cmd,) = instruction("CMD")
    argv = dockerfile.command(cmd.args)
    assert argv == ["python", "-m", "bot", "run", "--webhook"]
    assert isinstance(argv, list)
    args = _parser().parse_args(argv[3:])
    assert (args.command, args.webhook) == ("run", True)
    assert [step.args for step in instruction("USER")] not in ([], ["root"], ["0"])


def test_environment_names_are_settings_of_the_bot(services: dict[str, Any]) -> None:
    """A renamed setting breaks this test rather than the deployment, which would silently
    run with the default instead."""
    known = {row.env for row in SETTINGS if row.env}
    # The token is no setting (never in a file): bot/__main__.py reads it from the environment.
    source = (REPO / "bot" / "__main__.py").read_text(encoding="utf-8")
    assert 'os.environ.get("TELEGRAM_BOT_TOKEN"' in source
    known.add("TELEGRAM_BOT_TOKEN")
    names = set(image_env()) | set(environment(services["bot"]))
    ours = {n for n in names if n.startswith(("NEWSBOT_", "TELEGRAM_"))}
    assert ours - known == set()
    assert {"NEWSBOT_DATABASE", "NEWSBOT_WEBHOOK_URL", "NEWSBOT_WEBHOOK_SECRET"} <= ours


def test_the_container_settings_load_and_point_at_the_copied_articles(
    services: dict[str, Any],
) -> None:
    env = bot_env(services)
    settings = load_settings(DEFAULT_CONFIG, environ=env)
    assert str(settings.database).startswith("postgresql://") and "@db:5432/" in str(
        settings.database
    )
    tg = settings.telegram
    assert (tg.webhook_listen, tg.webhook_port) == ("0.0.0.0", 8443)
    assert tg.webhook_url == OPERATOR_ENV["NEWSBOT_WEBHOOK_URL"]
    workdirs = [step.args for step in instruction("WORKDIR")]
    copied = [
        Path(workdirs[-1]) / dest
        for step in instruction("COPY")
        for sources, dest in [dockerfile.copy_args(step.args)]
        if sources == ["articles"]
    ]
    assert [settings.articles_dir] == copied


def test_dockerfile_instructions_are_read_across_continuations_and_comments(
    tmp_path: Path,
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "# a comment\nFROM python:3.11-slim\n\nRUN echo one \\\n"
        "    # inside\n    && echo two\nENV A=1 \\\n    B='two words'\n"
        'CMD ["python", "-m", "bot"]\n'
    )
    steps = dockerfile.read(path)
    assert [(s.keyword, s.line) for s in steps] == [("FROM", 2), ("RUN", 4), ("ENV", 7), ("CMD", 9)]
    assert steps[1].args == "echo one && echo two"
    assert dockerfile.env_pairs(steps[2].args) == {"A": "1", "B": "two words"}
    assert dockerfile.command(steps[3].args) == ["python", "-m", "bot"]


def test_the_emulation_fails_when_a_run_step_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM python:3.11-slim\nWORKDIR /app\nRUN true \\\n && exit 3\nCMD x\n")
    assert dockerfile.main(path) == 1
    assert "Dockerfile line 3: RUN exited 3" in capsys.readouterr().err


def test_nginx_accepts_its_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        # CI installs nginx (.ci/run) and must not skip this; elsewhere it is optional.
        if os.environ.get("NEWSBOT_REQUIRE_NGINX"):
            pytest.fail("nginx is not installed, and NEWSBOT_REQUIRE_NGINX is set")
        pytest.skip("nginx is not installed here")
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(NGINX)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
