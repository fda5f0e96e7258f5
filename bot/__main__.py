"""The command line: `python -m bot [--config PATH] COMMAND ...`.

Parses arguments and calls one function per subcommand; the work is done in index, store and
summarize. Exit status: 0 done, 1 the input could not be used, 2 bad settings or arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from . import articles, index, languages
from .config import ALGORITHM_NAMES, MAX_SENTENCES, ConfigError, Settings, load_settings
from .data_commands import cmd_db, cmd_feeds, cmd_stats
from .settings import help_text as settings_help
from .store import DatabaseUnusable, StoreUnavailable, open_store

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`summarize ... | head -1`): no traceback. Python would also
        # complain when flushing stdout at exit, so point it at /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # as a shell tool killed by SIGPIPE


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(_quote_search_words(list(sys.argv[1:] if argv is None else argv)))
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = load_settings(getattr(args, "config", None))
        command = args.command or "default"
        return int(COMMANDS[command](args, settings))
    except ConfigError as exc:
        print(f"newsbot: config: {exc}", file=sys.stderr)
        return 2
    except index.IndexRunError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except (DatabaseUnusable, StoreUnavailable) as exc:  # damaged, gone, or a server refusing
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


_SEARCH_FLAGS = {"--json", "-v", "--verbose", "-h", "--help"}
_SEARCH_OPTIONS = {"--limit", "--config"}


def _quote_search_words(argv: list[str]) -> list[str]:
    """After `search`, a word starting with '-' is an excluded word, not an unknown option."""
    at = 0
    while at < len(argv) and argv[at].startswith("-"):  # global options before the command
        at += 2 if argv[at] == "--config" else 1
    if argv[at : at + 1] != ["search"]:
        return argv
    at += 1
    options: list[str] = []
    words: list[str] = []
    rest = iter(argv[at:])
    for token in rest:
        if token == "--":
            words.extend(rest)
        elif token in _SEARCH_FLAGS or token.split("=", 1)[0] in _SEARCH_OPTIONS:
            options.append(token)
            if token in _SEARCH_OPTIONS:
                options.append(next(rest, ""))
        else:
            words.append(token)
    return [*argv[:at], *options, "--", *words]


class _Parser(argparse.ArgumentParser):
    """Argument errors in one line, with where to look, instead of the whole usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"newsbot: {message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--config", default=argparse.SUPPRESS, help="settings file (default config/newsbot.toml)"
    )
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    parser = _Parser(
        prog="python -m bot",
        description="News summaries: index the articles folder, summarize, search.",
        parents=[common],
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # No set_defaults for --config/-v: parents share their action objects with the
    # subcommands, so a default set here would overwrite a value given before the subcommand.
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", parents=[common], help="the bot in Telegram (TELEGRAM_BOT_TOKEN)")
    p.add_argument(
        "--webhook", action="store_true", help="receive updates by webhook ([telegram] settings)"
    )

    sub.add_parser("chat", parents=[common], help="the same bot in this terminal, no network")

    p = sub.add_parser("summarize", parents=[common], help="summarize the articles in one file")
    p.add_argument("path", help="an article file, or - for standard input")
    p.add_argument("--algorithm", "-a", choices=ALGORITHM_NAMES, help="default from config")
    p.add_argument("--sentences", "-n", type=_sentences, help="default from config")
    p.add_argument(
        "--format",
        choices=("text", "markdown", "json", "jsonl"),
        help="how to read standard input (files: from their suffix)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    _add_library_commands(sub, common)
    return parser


def _add_library_commands(sub: argparse._SubParsersAction[_Parser], common: _Parser) -> None:
    """evaluate, index, feeds, search and stats: the commands that work on the library."""
    p = sub.add_parser(
        "evaluate", parents=[common], help="score summary methods against reference summaries"
    )
    p.add_argument("data", type=Path, help="JSON Lines: title, text, summary (one sentence a line)")
    p.add_argument(
        "--algorithms",
        type=_algorithms,
        help="comma-separated methods (default: every method and the configured default)",
    )
    p.add_argument("--sentences", "-n", type=_sentences, help="default from config")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("index", parents=[common], help="index the articles folder")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("feeds", parents=[common], help="import or export the feeds as OPML")
    p.add_argument(
        "action",
        choices=("import", "export"),
        help="import: add the list's feeds and read each once; export: write the feeds",
    )
    p.add_argument("file", help="an OPML file, or - for standard input or output")

    p = sub.add_parser("search", parents=[common], help="search the indexed articles")
    p.add_argument("query", nargs="*", help='words; "a phrase", word*, -word, title:word')
    p.add_argument("--limit", type=int, default=20, help="at most this many hits (20)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("db", parents=[common], help="copy the database to another engine")
    p.add_argument("action", choices=("copy",), help="copy: every row of SRC written into DST")
    p.add_argument("source", metavar="SRC", help="a SQLite file's path or a postgresql:// URL")
    p.add_argument("target", metavar="DST", help="a SQLite file's path or a postgresql:// URL")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace what DST holds (else a DST with data is refused)",
    )

    p = sub.add_parser("stats", parents=[common], help="what /stats shows; --png: its chart")
    p.add_argument(
        "--png", type=Path, metavar="FILE", help="also write the chart of the last 30 days here"
    )


def _sentences(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_SENTENCES:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to {MAX_SENTENCES}")
    return value


def _algorithms(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in ALGORITHM_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown method {', '.join(unknown) or '(none given)'}; choose from"
            f" {', '.join(ALGORITHM_NAMES)}"
        )
    return names


# -- commands ---------------------------------------------------------------------------------


def cmd_summarize(args: argparse.Namespace, settings: Settings) -> int:
    from .summarize import summarize

    suffixes = {"text": ".txt", "markdown": ".md", "json": ".json", "jsonl": ".jsonl"}
    try:
        if args.path == "-":
            parsed = articles.parse_bytes(
                sys.stdin.buffer.read(),
                source="-",
                suffix=suffixes[args.format or "text"],
                boilerplate=settings.boilerplate,
                mtime=datetime.now(UTC),
            )
        else:
            parsed = articles.read_file(
                Path(args.path),
                source=args.path,
                boilerplate=settings.boilerplate,
                max_bytes=settings.max_file_bytes,
                suffix=suffixes[args.format] if args.format else None,
            )
    except articles.ArticleError as exc:
        print(f"newsbot: {args.path}: {exc}", file=sys.stderr)
        return 1
    for problem in parsed.problems:
        print(f"newsbot: {args.path}: {problem}", file=sys.stderr)
    overrides: dict[str, object] = {}
    if args.algorithm:
        overrides["algorithm"] = args.algorithm
    if args.sentences:
        overrides["sentences"] = args.sentences
    options = index.summary_options(settings, **overrides)
    results: list[dict[str, object]] = []
    summaries: list[tuple[str, list[str]]] = []
    for article in parsed.articles:
        article = languages.assign(article, settings.summary.language)
        summary = summarize(article, options)
        summaries.append((article.title, summary))
        results.append(
            {
                "title": article.title,
                "summary": summary,
                "algorithm": options.algorithm,
                "published": article.published.isoformat(),
                "url": article.url,
                "tags": list(article.tags),
                "language": article.language,
                "headings": list(article.headings),
                "source": article.source,
                "image": article.image,
            }
        )
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    for i, (title, summary) in enumerate(summaries):
        if i:
            print()
        _print_article(title, summary)
    return 0


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluate import EvaluationError, evaluate, load_samples, table

    options = index.summary_options(
        settings, **({"sentences": args.sentences} if args.sentences else {})
    )
    default = options.algorithm
    algorithms = args.algorithms or tuple(dict.fromkeys([*ALGORITHM_NAMES, default]))
    try:
        samples = load_samples(args.data)
    except EvaluationError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    progress = _progress_bar if sys.stderr.isatty() else None
    results = evaluate(samples, algorithms, options, progress=progress)
    if progress:
        print(file=sys.stderr)
    if args.json:
        output = {"results": {name: s.as_dict() for name, s in results.items()}, "default": default}
        print(json.dumps(output, indent=2))
        return 0
    print(
        f"{len(samples)} articles from {args.data}, {options.sentences} sentences;"
        " ROUGE F1 against the references (rouge-score, stemmed), headline = ROUGE-1 recall of"
        " the title (n/a without titles); means with their 95 % bootstrap intervals"
    )
    print(table(results, default))
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    progress = _progress_bar if sys.stderr.isatty() and not args.json else None
    with open_store(settings.database) as store:
        report = index.run(settings, store, progress=progress)
    if progress:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(
        f"{settings.articles_dir}: {report.files} files; {report.added} added,"
        f" {report.updated} updated, {report.removed} removed, {report.unchanged} unchanged,"
        f" {len(report.failed)} failed ({report.summarized} summarized, {report.seconds:.2f} s)"
    )
    for failure in report.failed:
        print(f"  failed: {failure.path}: {failure.error}")
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    query = " ".join(args.query)
    with open_store(settings.database) as store:
        if store.last_reload() is None:
            print(
                f"newsbot: {settings.database} holds no index yet; run `python -m bot index` first",
                file=sys.stderr,
            )
            return 1
        result = store.search(query, limit=max(1, args.limit))
    if args.json:
        hits = [
            {
                "id": hit.id,
                "title": hit.title,
                "snippet": hit.snippet,
                "published": hit.published.isoformat(),
                "url": hit.url,
                "source": hit.source,
                "score": round(hit.score, 4),
            }
            for hit in result.hits
        ]
        print(json.dumps(hits, ensure_ascii=False, indent=2))
        return 0
    if not result.hits:
        print(f"No articles match {query!r}." if query.strip() else "Search for what? Give words.")
        return 0
    if result.relaxed:
        print("No article has all those words; these have some of them.")
    for hit in result.hits:
        print(f"[{hit.id}] {hit.title}  ({hit.published:%Y-%m-%d})")
        print(textwrap.indent(textwrap.fill(hit.snippet, 96), "    "))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The bot in Telegram: long polling, or a webhook server with --webhook."""
    from .chat.app import run

    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        print(
            "newsbot: set TELEGRAM_BOT_TOKEN to the token @BotFather gave you"
            " (or run `python -m bot chat` to try the bot in this terminal)",
            file=sys.stderr,
        )
        return 2
    return run(settings, token=token, webhook=args.webhook, verbose=_verbose(args))


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """The same bot in this terminal, on the configured articles, with no network."""
    import asyncio

    from .console import chat

    return asyncio.run(chat(settings))


def cmd_default(args: argparse.Namespace, settings: Settings) -> int:
    """No command: the bot in Telegram when a token is set, else the terminal chat."""
    if os.environ.get("TELEGRAM_BOT_TOKEN", "").strip():
        return cmd_run(argparse.Namespace(webhook=False, verbose=_verbose(args)), settings)
    return cmd_chat(args, settings)


COMMANDS = {
    "run": cmd_run,
    "chat": cmd_chat,
    "summarize": cmd_summarize,
    "evaluate": cmd_evaluate,
    "index": cmd_index,
    "search": cmd_search,
    "feeds": cmd_feeds,
    "stats": cmd_stats,
    "db": cmd_db,
    "default": cmd_default,
}


def _verbose(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "verbose", False))


def _print_article(title: str, summary: list[str]) -> None:
    print(title)
    print("=" * min(len(title), 96))
    for sentence in summary:
        print(textwrap.fill(sentence, 96, initial_indent="- ", subsequent_indent="  "))


def _progress_bar(stage: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(
        f"\r{stage:>9} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
        end="",
        file=sys.stderr,
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
