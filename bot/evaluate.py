"""Measuring summaries against references: ROUGE with Google's rouge-score, and how much of the
human-written headline a summary covers.

Two yardsticks, because they disagree on news (see docs/summaries.md): machine-made reference
summaries reward what graph methods pick, while the headline (the one summary a person wrote for
every article) rewards the lead. A good news summary scores well on both.

The data is JSON Lines: `title`, `text` (paragraphs separated by blank lines) and `summary`
(the reference sentences, one a line). Every paragraph is body text: no heading detection or
boilerplate, so the figures compare with any other computation on the same data.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from rouge_score import rouge_scorer

from .articles import Article, Block
from .config import SummaryOptions
from .summarize import summarize

log = logging.getLogger(__name__)

METRICS = ("rouge1", "rouge2", "rougeLsum", "headline", "ms_per_article")


class EvaluationError(Exception):
    """The data file cannot be used; str() says where and why."""


@dataclass(frozen=True)
class Sample:
    """One article with its reference summary."""

    title: str
    paragraphs: tuple[str, ...]
    reference: tuple[str, ...]
    key: str = ""

    def article(self) -> Article:
        return Article(
            title=self.title,
            blocks=tuple(Block(p) for p in self.paragraphs),
            source=self.key or "evaluate",
            published=datetime(1970, 1, 1, tzinfo=UTC),
        )


@dataclass(frozen=True)
class Scores:
    """Means over the samples; ROUGE and headline as percentages."""

    rouge1: float
    rouge2: float
    rougeLsum: float  # the name rouge-score and the --json output use
    headline: float
    ms_per_article: float

    def as_dict(self) -> dict[str, float]:
        return {name: round(getattr(self, name), 2) for name in METRICS}


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
    for name in ("title", "text", "summary"):
        value = record.get(name)
        if isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"no {name!r}")
        fields[name] = value.replace("\r\n", "\n")
    paragraphs = tuple(" ".join(p.split()) for p in fields["text"].split("\n\n") if p.strip())
    reference = tuple(s.strip() for s in fields["summary"].split("\n") if s.strip())
    return Sample(
        title=" ".join(fields["title"].split()),
        paragraphs=paragraphs,
        reference=reference,
        key=str(record.get("id") or f"line {number}"),
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
    """Each algorithm's mean scores over `samples` at `options.sentences` sentences."""
    scorer = Scorer()
    articles = [s.article() for s in samples]
    results = {}
    for name in algorithms:
        algorithm_options = replace(options, algorithm=name)
        totals = dict.fromkeys(("rouge1", "rouge2", "rougeLsum", "headline"), 0.0)
        seconds = 0.0
        for done, (sample, article) in enumerate(zip(samples, articles, strict=True), 1):
            start = time.perf_counter()
            summary = summarize(article, algorithm_options)
            seconds += time.perf_counter() - start
            for metric, value in scorer.rouge(sample.reference, summary).items():
                totals[metric] += value
            totals["headline"] += scorer.headline(sample.title, summary)
            if progress is not None:
                progress(name, done, len(samples))
        n = len(samples)
        results[name] = Scores(
            rouge1=100 * totals["rouge1"] / n,
            rouge2=100 * totals["rouge2"] / n,
            rougeLsum=100 * totals["rougeLsum"] / n,
            headline=100 * totals["headline"] / n,
            ms_per_article=1000 * seconds / n,
        )
        log.info("%s: %s", name, results[name])
    return results


def table(results: dict[str, Scores], default: str) -> str:
    """A Markdown table, best score of each column in bold; the default marked."""
    columns = ("ROUGE-1", "ROUGE-2", "ROUGE-Lsum", "headline", "ms/article")
    best = {
        metric: (min if metric == "ms_per_article" else max)(
            getattr(s, metric) for s in results.values()
        )
        for metric in METRICS
    }
    lines = [
        "| method | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name, scores in results.items():
        cells = []
        for metric in METRICS:
            value = getattr(scores, metric)
            text = f"{value:.1f}"
            cells.append(f"**{text}**" if value == best[metric] and len(results) > 1 else text)
        label = f"{name} (default)" if name == default else name
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
