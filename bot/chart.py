"""The /stats chart: articles added per day by source, and deliveries sent or failed per day,
over the last 30 days (UTC days), as one PNG.

Activity is the data behind a chart, plain values (News.activity fills it from the store's
per-day counts); draw() makes the PNG. The only module that imports matplotlib, and only when a
chart is drawn: starting the bot does not pay for the import. Knows nothing of Telegram.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from babel.dates import format_date

from .chat import texts
from .chat.i18n import DEFAULT_LANGUAGE, Translator, translator

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

DAYS = 30
# Sources drawn one by one, the most articles first; the others are summed as "other".
TOP_SOURCES = 6
# Telegram shows photos at up to 1280 px on the long side: drawn at that size, nothing is lost.
WIDTH, HEIGHT, DPI = 1280, 960, 100
DAY_SECONDS = 86400

# Colour-blind-safe (Okabe-Ito) for the sources, grey for "other"; sent green, failed red.
_SOURCE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
_OTHER_COLOUR = "#999999"
_SENT_COLOUR = "#2CA02C"
_FAILED_COLOUR = "#D62728"

# One chart at a time: matplotlib's font and text caches are not made for threads.
_drawing = threading.Lock()


@dataclass(frozen=True)
class Activity:
    """Per-day counts over a window of whole UTC days, every day present (zero when quiet)."""

    days: tuple[date, ...]  # oldest first
    # (source, articles per day): the most articles first, "other" (the rest) last.
    sources: tuple[tuple[str, tuple[int, ...]], ...]
    sent: tuple[int, ...]
    failed: tuple[int, ...]

    @property
    def articles(self) -> int:
        return sum(sum(counts) for _, counts in self.sources)

    @property
    def deliveries(self) -> int:
        return sum(self.sent) + sum(self.failed)


def window(now: float, days: int = DAYS) -> tuple[float, float, int]:
    """The last `days` UTC days up to and including today: (start, end) in epoch seconds and
    the first day's number (days since 1970-01-01, as the store counts them)."""
    today = int(now // DAY_SECONDS)
    first = today - days + 1
    return float(first * DAY_SECONDS), float((today + 1) * DAY_SECONDS), first


def collect(
    first_day: int,
    days: int,
    articles: Iterable[tuple[int, str, int]],
    deliveries: Iterable[tuple[int, str, int]],
    *,
    names: Mapping[str, str] | None = None,
    top: int = TOP_SOURCES,
) -> Activity:
    """Activity from the store's rows: articles (day, source, count) and deliveries (day,
    'sent' or 'failed', count). `names` renames sources (a feed's folder to the feed's name);
    the `top` sources with the most articles are kept, the rest summed as "other"."""
    names = names or {}
    per_source: dict[str, list[int]] = {}
    for day, source, count in articles:
        if 0 <= day - first_day < days:
            series = per_source.setdefault(names.get(source, source), [0] * days)
            series[day - first_day] += count
    ranked = sorted(per_source.items(), key=lambda item: (-sum(item[1]), item[0]))
    kept = [(name, tuple(series)) for name, series in ranked[:top]]
    if len(ranked) > top:
        rest = [sum(day) for day in zip(*(series for _, series in ranked[top:]), strict=True)]
        kept.append((texts.CHART_OTHER, tuple(rest)))
    outcomes = {"sent": [0] * days, "failed": [0] * days}
    for day, status, count in deliveries:
        if status in outcomes and 0 <= day - first_day < days:
            outcomes[status][day - first_day] += count
    start = datetime.fromtimestamp(first_day * DAY_SECONDS, tz=UTC).date()
    return Activity(
        days=tuple(start + timedelta(days=n) for n in range(days)),
        sources=tuple(kept),
        sent=tuple(outcomes["sent"]),
        failed=tuple(outcomes["failed"]),
    )


def draw(activity: Activity, tr: Translator | None = None) -> bytes:
    """The chart as PNG bytes, WIDTH x HEIGHT pixels: stacked bars of articles per day by
    source above, deliveries sent and failed per day below, its words in `tr`'s language
    (English by default). Takes a few tenths of a second of CPU (and the matplotlib import,
    the first time): call it from a worker thread in a server."""
    tr = tr or translator(DEFAULT_LANGUAGE)
    import matplotlib

    matplotlib.use("Agg")  # files only, never a display
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with _drawing, rc_context({"font.size": 15, "axes.titlesize": 17, "legend.fontsize": 12}):
        figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
        # Margins set by hand: matplotlib's automatic layouts doubled the drawing time.
        figure.subplots_adjust(left=0.08, right=0.74, top=0.9, bottom=0.07, hspace=0.22)
        top, bottom = figure.subplots(2, 1, sharex=True)
        first, last = activity.days[0], activity.days[-1]
        figure.suptitle(
            tr.format(
                texts.CHART_TITLE,
                days=len(activity.days),
                first=_day(tr, first),
                last=format_date(last, "d MMM y", locale=tr.language),
            ),
            fontsize=19,
        )
        _articles(tr, top, activity)
        _deliveries(tr, bottom, activity)
        _day_axis(tr, bottom, activity.days)
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _articles(tr: Translator, axes: Axes, activity: Activity) -> None:
    positions = range(len(activity.days))
    base = [0] * len(activity.days)
    for number, (name, counts) in enumerate(activity.sources):
        other = name == texts.CHART_OTHER and number == len(activity.sources) - 1
        colour = _OTHER_COLOUR if other else _SOURCE_COLOURS[number % len(_SOURCE_COLOURS)]
        shown = tr(name) if other else name
        label = tr.format(texts.CHART_LEGEND, name=_short(shown), total=sum(counts))
        axes.bar(positions, counts, bottom=base, color=colour, width=0.8, label=label)
        base = [b + c for b, c in zip(base, counts, strict=True)]
    axes.set_title(tr(texts.CHART_ARTICLES), loc="left")
    # The legend in the stack's order: the biggest source at the bottom of both.
    _counts_axis(axes, activity.articles, tr(texts.CHART_NO_ARTICLES), reverse=True)


def _deliveries(tr: Translator, axes: Axes, activity: Activity) -> None:
    positions = range(len(activity.days))
    for shift, counts, colour, name in (
        (-0.2, activity.sent, _SENT_COLOUR, texts.CHART_SENT),
        (0.2, activity.failed, _FAILED_COLOUR, texts.CHART_FAILED),
    ):
        label = tr.format(texts.CHART_LEGEND, name=tr(name), total=sum(counts))
        axes.bar([p + shift for p in positions], counts, width=0.4, color=colour, label=label)
    axes.set_title(tr(texts.CHART_DELIVERIES), loc="left")
    _counts_axis(axes, activity.deliveries, tr(texts.CHART_NO_DELIVERIES))


def _counts_axis(axes: Axes, total: int, nothing: str, *, reverse: bool = False) -> None:
    """Whole numbers from zero up; a panel with nothing to show says so in words."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(FuncFormatter(_count))
    axes.set_ylim(bottom=0, top=None if total else 1)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if total:  # beside the bars, never over them
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, reverse=reverse)
    else:
        axes.text(0.5, 0.5, nothing, transform=axes.transAxes, ha="center", va="center")


def _day_axis(tr: Translator, axes: Axes, days: Sequence[date]) -> None:
    """A date under every fifth day, counting back from the last (a tick per day cost a
    sixth of the drawing time)."""
    last = len(days) - 1
    labelled = [n for n in range(len(days)) if (last - n) % 5 == 0]
    axes.set_xticks(labelled, [_day(tr, days[n]) for n in labelled])
    axes.set_xlim(-0.6, last + 0.6)


def _day(tr: Translator, day: date) -> str:
    """3 Jan, in the reader's language (CLDR's month names, through Babel)."""
    return format_date(day, "d MMM", locale=tr.language)


def _count(value: float, _: object = None) -> str:
    """An axis number: 4,500; from 10,000 on in thousands (150k), so it fits the margin."""
    return f"{value / 1000:,.0f}k" if value >= 10_000 else f"{value:,.0f}"


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
