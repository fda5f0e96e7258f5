"""The Dockerfile, read and (run as `python3 -m tests.dockerfile`, by .ci/dockerfile) performed
without Docker, since neither CI nor the development machine runs a Docker engine.

Standard library only. tests/test_deploy.py reads the instructions through `read`; `main`
performs them in a new temporary folder standing in for the image's file system:

- FROM: a new venv stands in for the base image's Python (python3.11 when there is one, else
  the interpreter running this), noted when its version differs from the image's tag.
- WORKDIR, COPY (local sources, `--chown` ignored, .dockerignore applied), ENV and ARG as
  Docker does them, absolute paths taken inside the temporary folder.
- RUN: each command in `sh -c` in the working folder, with the venv first on PATH and the
  image's ENV; a command that fails fails the whole run, naming its Dockerfile line. Commands
  that write absolute paths would write them on this machine: the Dockerfile keeps to relative
  ones.
- USER is ignored (the steps run as whoever runs this; CI runs as root, as a build does), and
  so are EXPOSE, LABEL, HEALTHCHECK, STOPSIGNAL, VOLUME, which change nothing on disk.
- CMD: the module it starts is asked for `--help`, and for its subcommand's `--help`, in the
  working folder with the image's environment; then the settings it would run with are loaded
  there (the config file and articles folder it names must be in the image), and the bundled
  articles are indexed into a SQLite file, so that the installed package is known to work.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
IGNORED = {"USER", "EXPOSE", "LABEL", "HEALTHCHECK", "STOPSIGNAL", "VOLUME", "MAINTAINER"}
# Host settings must not leak into the stand-in image: it has only what the Dockerfile sets.
HOST_ONLY = re.compile(r"^(NEWSBOT_|TELEGRAM_|VIRTUAL_ENV$|PYTHONPATH$|PYTHONHOME$)")


class StepFailed(Exception):
    """An instruction could not be performed as Docker would."""


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: RUN, COPY...
    args: str  # the rest, continuation lines joined with a space
    line: int  # where it starts in the Dockerfile


def read(path: Path = DOCKERFILE) -> list[Instruction]:
    """The instructions, with comments dropped and backslash continuations joined."""
    found: list[Instruction] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = raw.strip()
        if text.startswith("#") or (not text and not parts):
            continue  # a comment inside a continued instruction does not end it, as in Docker
        if not parts:
            start = number
        continued = text.endswith("\\")
        parts.append(text[:-1].strip() if continued else text)
        if not continued:
            keyword, _, rest = " ".join(p for p in parts if p).partition(" ")
            found.append(Instruction(keyword.upper(), rest.strip(), start))
            parts = []
    if parts:
        raise StepFailed(f"{path}:{start}: the last instruction ends with a backslash")
    return found


def command(args: str) -> list[str] | str:
    """RUN/CMD arguments: the exec form (a JSON list) as a list, the shell form as a string."""
    if args.startswith("["):
        value = json.loads(args)
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise StepFailed(f"not a JSON list of strings: {args}")
        return value
    return args


def env_pairs(args: str) -> dict[str, str]:
    """ENV (or ARG) `A=1 B="two words"`, or the old `A one value` form."""
    words = shlex.split(args)
    if words and "=" not in words[0]:
        return {words[0]: args.partition(" ")[2].strip()}
    pairs = {}
    for word in words:
        name, eq, value = word.partition("=")
        if not eq:
            raise StepFailed(f"ENV/ARG: expected NAME=value, got {word!r}")
        pairs[name] = value
    return pairs


def copy_args(args: str) -> tuple[list[str], str]:
    """COPY's sources and destination; flags (--chown, --chmod, --link) dropped."""
    words = command(args)
    if isinstance(words, str):
        words = shlex.split(words)
    words = [w for w in words if not w.startswith("--")]
    if len(words) < 2:
        raise StepFailed(f"COPY needs a source and a destination: {args}")
    return words[:-1], words[-1]


def dockerignore(repo: Path = REPO) -> list[str]:
    path = repo / ".dockerignore"
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith("#")]


def is_ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps a path (relative to the context) out: a pattern matches the
    path or a folder above it; `**/` matches at any depth (negations are not supported)."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("!"):
            raise StepFailed(".dockerignore: negated patterns are not supported here")
        bare = pattern.removeprefix("**/")
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if bare != pattern and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], bare):
                return True
    return False


class Image:
    """The stand-in image: a temporary root folder, a venv, the environment, the working folder."""

    def __init__(self, root: Path, python: str) -> None:
        self.root = root
        self.venv = root / "venv"
        subprocess.run([python, "-m", "venv", str(self.venv)], check=True)
        ask = [str(self.venv / "bin" / "python"), "-c", "import sys; print(sys.version.split()[0])"]
        done = subprocess.run(ask, check=True, capture_output=True, text=True)
        self.version = done.stdout.strip()
        env = {k: v for k, v in os.environ.items() if not HOST_ONLY.match(k)}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        self.env = env
        self.workdir = root
        self.cmd: list[str] | str = []
        self.set_by_env: set[str] = set()
        self.ignore = dockerignore()

    def path(self, name: str) -> Path:
        """A path of the image, inside the root folder."""
        return self.root / name.lstrip("/") if name.startswith("/") else self.workdir / name

    def perform(self, step: Instruction) -> None:
        keyword, args = step.keyword, step.args
        if keyword == "FROM":
            print(f"FROM {args}: a venv of Python {self.version} stands in for it")
        elif keyword == "WORKDIR":
            self.workdir = self.path(args)
            self.workdir.mkdir(parents=True, exist_ok=True)
        elif keyword in ("ENV", "ARG"):
            pairs = env_pairs(args)
            self.env.update(pairs if keyword == "ENV" else {k: v for k, v in pairs.items() if v})
            self.set_by_env.update(pairs if keyword == "ENV" else ())
        elif keyword in ("COPY", "ADD"):
            self.copy(*copy_args(args))
        elif keyword == "RUN":
            self.run(step)
        elif keyword in ("CMD", "ENTRYPOINT"):
            if keyword == "ENTRYPOINT":
                raise StepFailed("ENTRYPOINT: not emulated (the CMD alone starts the bot)")
            self.cmd = command(args)
        elif keyword in IGNORED:
            print(f"{keyword} {args}: ignored (nothing changes on disk; steps run as this user)")
        else:
            raise StepFailed(f"{keyword}: not an instruction this emulation knows")

    def copy(self, sources: list[str], destination: str) -> None:
        target = self.path(destination)
        into = destination.endswith("/") or len(sources) > 1 or target.is_dir()
        for source in sources:
            origin = (REPO / source).resolve()
            if "://" in source or (origin != REPO and REPO not in origin.parents):
                raise StepFailed(f"COPY {source}: not inside the build context")
            relative = origin.relative_to(REPO).as_posix()
            if not origin.exists() or is_ignored(relative, self.ignore):
                raise StepFailed(f"COPY {source}: not in the build context (or .dockerignore'd)")
            if origin.is_dir():
                shutil.copytree(origin, target, dirs_exist_ok=True, ignore=self._ignored)
            else:
                dest = target / origin.name if into else target
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, dest)

    def _ignored(self, folder: str, names: list[str]) -> set[str]:
        base = Path(folder).resolve().relative_to(REPO).as_posix()
        prefix = "" if base == "." else f"{base}/"
        return {n for n in names if is_ignored(prefix + n, self.ignore)}

    def run(self, step: Instruction) -> None:
        argv = command(step.args)
        shell = ["/bin/sh", "-c", argv] if isinstance(argv, str) else argv
        print(f"RUN (Dockerfile line {step.line}): {step.args}", flush=True)
        done = subprocess.run(shell, cwd=self.workdir, env=self.env, check=False)
        if done.returncode != 0:
            raise StepFailed(f"Dockerfile line {step.line}: RUN exited {done.returncode}")

    def image_env(self) -> dict[str, str]:
        """The environment at run time: an ENV value that is an absolute path the image has is
        taken inside the root folder."""
        env = dict(self.env)
        for name in self.set_by_env:
            if env[name].startswith("/") and (inside := self.path(env[name])).exists():
                env[name] = str(inside)
        return env


def check_cmd(image: Image) -> None:
    """The CMD's module starts: `--help`, its subcommand's `--help`, its settings, an index."""
    cmd = image.cmd
    if isinstance(cmd, str) or cmd[:2] != ["python", "-m"] or len(cmd) < 4:
        raise StepFailed(f"CMD: expected the exec form python -m MODULE COMMAND..., got {cmd}")
    module, subcommand = cmd[2], cmd[3]
    env = image.image_env()
    python = str(image.venv / "bin" / "python")
    load = (
        "from bot import config; s = config.load_settings();"
        "assert s.config_path.is_file() and s.articles_dir.is_dir(), s;"
        "assert 'site-packages' in config.__file__, config.__file__;"
        "print('settings:', s.config_path, s.articles_dir)"
    )
    database = str(image.root / "index-check" / "newsbot.sqlite3")
    for argv, extra in (
        ([python, "-m", module, "--help"], {}),
        ([python, "-m", module, subcommand, "--help"], {}),
        ([python, "-c", load], {}),
        ([python, "-m", module, "index"], {"NEWSBOT_DATABASE": database}),
    ):
        shown = " ".join(a if a != load else "'<load the settings>'" for a in argv[1:])
        print(f"CMD check: python {shown}", flush=True)
        done = subprocess.run(
            argv, cwd=image.workdir, env=env | extra, check=False, stdout=subprocess.DEVNULL
        )
        if done.returncode != 0:
            raise StepFailed(f"CMD check: python {shown} exited {done.returncode}")


def main(dockerfile: Path = DOCKERFILE) -> int:
    python = shutil.which("python3.11") or sys.executable
    with tempfile.TemporaryDirectory(prefix="newsbot-image-") as folder:
        try:
            image = Image(Path(folder), python)
            for step in read(dockerfile):
                image.perform(step)
            check_cmd(image)
        except StepFailed as exc:
            print(f"dockerfile: {exc}", file=sys.stderr)
            return 1
    print("dockerfile: every step ran and the CMD's module starts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
