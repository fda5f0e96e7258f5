"""Measuring summaries against references: ROUGE with Google's rouge-score, and how much of the
human-written headline a summary covers.

Two yardsticks, because they disagree on news (see docs/summaries.md): machine-made reference
summaries reward what graph methods pick, while the headline (the one summary a person wrote for
every article) rewards the lead. A good news summary scores well on both.

The data is JSON Lines: `text` (paragraphs separated by blank lines), `summary` (the reference
sentences, one a line), and optionally `title` (CNN/Daily Mail has none: headline coverage is
then n/a) and `language` (a code or a name; without it, the language is detected as the bot
does). Every paragraph is body text: no heading detection or boilerplate, so the figures compare
with any other computation on the same data.

Each mean comes with a 95 % bootstrap interval (articles resampled with a fixed seed), and each
method is compared with `lead` article by article: wins, ties and losses, and the interval of the
mean difference, so that a difference inside the noise is not read as a win.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy
from rouge_score import rouge_scorer

from . import languages
from .articles import Article, Block
from .config import SummaryOptions
from .errors import NewsbotError
from .summarize import summarize

log = logging.getLogger(__name__)

METRICS = ("rouge1", "rouge2", "rougeLsum", "headline", "ms_per_article")
# The metrics scored per article (ms_per_article is a total over the run).
SCORED = ("rouge1", "rouge2", "rougeLsum", "headline")
BASELINE = "lead"
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 12


class EvaluationError(NewsbotError):
    """The data file cannot be used; str() says where and why."""


@dataclass(frozen=True)
class Sample:
    """One article with its reference summary."""

    title: str  # "" when the data has none
    paragraphs: tuple[str, ...]
    reference: tuple[str, ...]
    key: str = ""
    language: str | None = None  # the sample's own `language`, else None (detected)

    def article(self, default_language: str = "english") -> Article:
        """The sample as the bot would summarize it, in its language: its own, else detected
        (as `summarize` and `index` do), else `default_language`."""
        article = Article(
            title=self.title,
            blocks=tuple(Block(p) for p in self.paragraphs),
            source=self.key or "evaluate",
            published=datetime(1970, 1, 1, tzinfo=UTC),
            language=self.language,
        )
        if self.language is not None:
            return replace(article, language=languages.code(self.language) or self.language)
        return languages.assign(article, default_language)


Interval = tuple[float, float]


@dataclass(frozen=True)
class Versus:
    """One metric of a method against the baseline, article by article."""

    wins: int
    ties: int
    losses: int
    difference: float  # mean difference, in points
    interval: Interval  # its 95 % bootstrap interval

    def as_dict(self) -> dict[str, object]:
        return {
            "wins": self.wins,
            "ties": self.ties,
            "losses": self.losses,
            "difference": round(self.difference, 2),
            "interval": [round(x, 2) for x in self.interval],
        }


@dataclass(frozen=True)
class Scores:
    """Means over the samples; ROUGE and headline as percentages (headline None when no
    sample has a title), with 95 % bootstrap intervals and the comparison with `lead`."""

    rouge1: float
    rouge2: float
    rougeLsum: float  # the name rouge-score and the --json output use
    headline: float | None
    ms_per_article: float
    intervals: dict[str, Interval] | None = None
    versus: dict[str, Versus] | None = None  # against BASELINE, when it was run too

    def as_dict(self) -> dict[str, object]:
        result: dict[str, object] = {}
        for name in METRICS:
            value = getattr(self, name)
            result[name] = None if value is None else round(value, 2)
        result["intervals"] = {
            name: [round(x, 2) for x in interval]
            for name, interval in (self.intervals or {}).items()
        }
        if self.versus is not None:
            result[f"vs_{BASELINE}"] = {name: v.as_dict() for name, v in self.versus.items()}
        return result


def load_samples(path: Path) -> list[Sample]:
    """Read DATA.jsonl; a line that is not a usable sample stops with its line number."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise EvaluationError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise EvaluationError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start});"
            " save it as UTF-8"
        ) from None
    samples = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            samples.append(_sample(json.loads(line), number))
        except (json.JSONDecodeError, ValueError) as exc:
            raise EvaluationError(f"{path}, line {number}: {exc}") from exc
    if not samples:
        raise EvaluationError(f"{path}: no samples")
    return samples


def _sample(record: object, number: int) -> Sample:
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    fields = {}
    for name in ("title", "text", "summary", "language"):
        value = record.get(name)
        if isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        if name in ("title", "language") and value is None:
            value = ""  # optional: CNN/Daily Mail has no headlines
        if not isinstance(value, str) or (name in ("text", "summary") and not value.strip()):
            raise ValueError(f"no {name!r}")
        fields[name] = value.replace("\r\n", "\n")
    paragraphs = tuple(" ".join(p.split()) for p in fields["text"].split("\n\n") if p.strip())
    reference = tuple(s.strip() for s in fields["summary"].split("\n") if s.strip())
    return Sample(
        title=" ".join(fields["title"].split()),
        paragraphs=paragraphs,
        reference=reference,
        key=str(record.get("id") or f"line {number}"),
        language=fields["language"].strip() or None,
    )


class Scorer:
    """rouge-score's scorers, built once (stemming on, as in the papers' figures)."""

    def __init__(self) -> None:
        self._rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
        self._headline = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)

    def rouge(self, reference: Sequence[str], summary: Sequence[str]) -> dict[str, float]:
        """F1 of each ROUGE; sentences joined by newlines, which is how rougeLsum splits them."""
        scores = self._rouge.score("\n".join(reference), "\n".join(summary))
        return {name: score.fmeasure for name, score in scores.items()}

    def headline(self, title: str, summary: Sequence[str]) -> float:
        """ROUGE-1 recall of the headline's words by the summary."""
        return float(self._headline.score(title, "\n".join(summary))["rouge1"].recall)


def evaluate(
    samples: Sequence[Sample],
    algorithms: Iterable[str],
    options: SummaryOptions,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Scores]:
    """Each algorithm's mean scores over `samples` at `options.sentences` sentences, with
    intervals, and compared with `lead` article by article when `lead` is among them."""
    scorer = Scorer()
    articles = [s.article(options.language) for s in samples]
    titled = [i for i, s in enumerate(samples) if s.title]
    per_article: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, float] = {}
    for name in algorithms:
        algorithm_options = replace(options, algorithm=name)
        scores: dict[str, list[float]] = {metric: [] for metric in SCORED}
        seconds[name] = 0.0
        for done, (sample, article) in enumerate(zip(samples, articles, strict=True), 1):
            start = time.perf_counter()
            summary = summarize(article, algorithm_options)
            seconds[name] += time.perf_counter() - start
            for metric, value in scorer.rouge(sample.reference, summary).items():
                scores[metric].append(100 * value)
            if sample.title:
                scores["headline"].append(100 * scorer.headline(sample.title, summary))
            if progress is not None:
                progress(name, done, len(samples))
        per_article[name] = scores
    baseline = per_article.get(BASELINE)
    results = {}
    for name, scores in per_article.items():
        means = {m: _mean(v) if v else None for m, v in scores.items()}
        results[name] = Scores(
            rouge1=means["rouge1"] or 0.0,
            rouge2=means["rouge2"] or 0.0,
            rougeLsum=means["rougeLsum"] or 0.0,
            headline=means["headline"] if titled else None,
            ms_per_article=1000 * seconds[name] / len(samples),
            intervals={m: bootstrap(v) for m, v in scores.items() if v},
            versus=(
                {m: versus(v, baseline[m]) for m, v in scores.items() if v}
                if baseline is not None and name != BASELINE
                else None
            ),
        )
        log.info("%s: %s", name, results[name])
    return results


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def bootstrap(
    values: Sequence[float], *, samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED
) -> Interval:
    """The 95 % percentile bootstrap interval of the mean (the same draws for every call with
    the same number of values, so two methods' intervals come from the same resamples)."""
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    data = numpy.asarray(values, dtype=float)
    draws = numpy.random.default_rng(seed).integers(0, len(data), size=(samples, len(data)))
    low, high = numpy.percentile(data[draws].mean(axis=1), [2.5, 97.5])
    return float(low), float(high)


def versus(values: Sequence[float], baseline: Sequence[float]) -> Versus:
    """Article by article against the baseline: wins, ties, losses and the mean difference."""
    differences = [a - b for a, b in zip(values, baseline, strict=True)]
    return Versus(
        wins=sum(d > 1e-9 for d in differences),
        ties=sum(abs(d) <= 1e-9 for d in differences),
        losses=sum(d < -1e-9 for d in differences),
        difference=_mean(differences),
        interval=bootstrap(differences),
    )


def table(results: dict[str, Scores], default: str) -> str:
    """A Markdown table, each mean with its 95 % interval, best of each column in bold; the
    default marked; then each method against `lead` when it was run."""
    columns = ("ROUGE-1", "ROUGE-2", "ROUGE-Lsum", "headline", "ms/article")
    best = {}
    for metric in METRICS:
        values = [getattr(s, metric) for s in results.values() if getattr(s, metric) is not None]
        if values:
            best[metric] = (min if metric == "ms_per_article" else max)(values)
    lines = [
        "| method | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name, scores in results.items():
        cells = []
        for metric in METRICS:
            value = getattr(scores, metric)
            if value is None:
                cells.append("n/a")
                continue
            text = f"{value:.1f}"
            if value == best[metric] and len(results) > 1:
                text = f"**{text}**"
            interval = (scores.intervals or {}).get(metric)
            if interval is not None:
                text += f" ({interval[0]:.1f}-{interval[1]:.1f})"
            cells.append(text)
        label = f"{name} (default)" if name == default else name
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    compared = {name: s.versus for name, s in results.items() if s.versus}
    if compared:
        lines += [
            "",
            f"Against {BASELINE}, article by article: wins/ties/losses, and the mean difference"
            " in points with its 95 % interval",
            "",
            "| method | " + " | ".join(columns[:4]) + " |",
            "|---|" + "---:|" * 4,
        ]
        for name, against in compared.items():
            cells = []
            for metric in SCORED:
                v = against.get(metric)
                cells.append(
                    "n/a"
                    if v is None
                    else f"{v.wins}/{v.ties}/{v.losses}, {v.difference:+.1f}"
                    f" ({v.interval[0]:+.1f} to {v.interval[1]:+.1f})"
                )
            label = f"{name} (default)" if name == default else name
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
