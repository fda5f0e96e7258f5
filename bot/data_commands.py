"""The command line's data commands: `feeds import|export`, `stats`, `db copy`. (__main__.py
holds the parser, the bot's commands and the library's.)"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .config import Settings
from .store import StoreUnavailable, open_store


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    """`feeds import FILE`: add an OPML list's feeds and read each once (exit 1 if one failed);
    `feeds export FILE`: the feeds as OPML. Exit 2 for a file that cannot be read or used."""
    import asyncio

    from . import feed_lists, opml
    from .news import News

    news = News(settings, open_store(settings.database))
    try:
        if args.action == "export":
            data = feed_lists.export_list(news)
            if args.file == "-":
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            else:
                Path(args.file).write_bytes(data)
                print(f"{len(news.feeds())} feeds written to {args.file}", file=sys.stderr)
            return 0
        try:
            parsed = opml.read(_read_list(args.file, opml.MAX_BYTES))
        except (OSError, opml.OpmlError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            print(f"newsbot: {args.file}: {reason}", file=sys.stderr)
            return 2
        report = asyncio.run(feed_lists.import_list(news, parsed))
    finally:
        news.close()
    print(
        f"{args.file}: {len(report.added)} added, {len(report.present)} already there,"
        f" {len(report.failed)} failed"
    )
    for name, new in report.added:
        read = "not read yet" if new is None else f"{new} new article{'' if new == 1 else 's'}"
        print(f"  added: {name} ({read})")
    for title, why in report.present:
        print(f"  already there: {title} ({why})")
    for failure in report.failed:
        kept = " (kept: tried again at the next polls)" if failure.kept else ""
        print(f"  failed: {failure.name}: {failure.reason}{kept}")
    for problem in report.problems:
        print(f"  note: {problem}")
    return 0 if report.ok else 1


def _read_list(name: str, limit: int) -> bytes:
    """A feed list's bytes (from standard input for -); OpmlError past `limit` bytes."""
    from .opml import OpmlError, size_text

    if name == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        with open(name, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > limit:
                raise OpmlError(
                    f"the file is {size_text(size)}; at most {size_text(limit)} is read"
                )
            data = file.read(limit + 1)
    if len(data) > limit:
        raise OpmlError(f"more than {size_text(limit)}, the most that is read")
    return data


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """What /stats shows, as plain text; with --png FILE, its chart written to FILE too."""
    from . import chart
    from .chat import render, reports
    from .chat.i18n import DEFAULT_LANGUAGE, translator
    from .news import News

    with open_store(settings.database) as store:
        news = News(settings, store)
        print(render.plain(reports.stats_message(translator(DEFAULT_LANGUAGE), news.stats())))
        if args.png is None:
            return 0
        png = chart.draw(news.activity())
    try:
        args.png.write_bytes(png)
    except OSError as exc:
        print(f"newsbot: cannot write the chart to {args.png}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"\nChart of the last {chart.DAYS} days (UTC) written to {args.png}")
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    """`db copy SRC DST`: every row (articles with their ids, summaries, chats, filters, the
    outbox, feeds) from one database into another, SQLite or PostgreSQL either way."""
    from .store import copy as db_copy
    from .store import is_url

    source, target = (s if is_url(s) else Path(s).expanduser() for s in (args.source, args.target))
    if not is_url(source) and not Path(source).is_file():
        print(f"newsbot: {args.source}: no such database file", file=sys.stderr)
        return 1
    try:
        with open_store(source) as src, open_store(target) as dst:
            copied = db_copy.copy(src, dst, overwrite=args.overwrite)
    except db_copy.CopyRefused as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    except StoreUnavailable as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    print(", ".join(f"{n:,} {table}" for table, n in copied.items() if n) or "nothing to copy")
    return 0
