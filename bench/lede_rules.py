"""Measure the lede method's rules source by source, and check that its settings carry from two
sources to the third.

The yardsticks (docs/summaries.md): ROUGE F1 against the references people wrote (CNN/Daily
Mail journalists' highlights, OrangeSum authors' abstracts) and the coverage of the BBC's
headlines (ROUGE-1 recall of the title), each as the difference from `lead` (the first three
sentences), article by article: the mean difference with its 95 % bootstrap interval, and wins,
ties and losses. Summaries are made exactly as the bot makes them (bot.summarize's document,
bot.lede's choice, quotes.shown_alone's text), scored with bot.evaluate's scorer.

It prints four tables:

1. lede against lead, per source;
2. each rule switched off in turn (what it is worth, source by source);
3. the direction that was measured and left out: a look-ahead that lets a later sentence take a
   slot when sumy's rating (Reduction's) says it is more central, at a few weights;
4. leave one source out: the two numeric settings (the shortest sentence taken, the share of
   repeated words that makes a repetition) chosen on two sources, scored on the third.

Usage: python bench/lede_rules.py ../shared/data [--sentences 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot import lede, quotes
from bot.config import SummaryOptions
from bot.evaluate import Sample, Scorer, bootstrap, load_samples
from bot.newsrank import Candidate
from bot.summarize import _document, _language, _ratings, lede_candidates, tools

ROUGE = ("rouge1", "rouge2", "rougeLsum")


@dataclass
class Prepared:
    """One article, split and analysed once."""

    sample: Sample
    lead: list[str]
    texts: list[str]
    candidates: list[Candidate]
    quotings: list[quotes.Quoting]
    ratings: list[float]
    lead_scores: dict[str, float]


@dataclass
class Source:
    name: str
    articles: list[Prepared]
    metrics: tuple[str, ...]  # ROUGE against references, or "headline"


def prepare(samples: Sequence[Sample], metrics: tuple[str, ...], scorer: Scorer) -> list[Prepared]:
    prepared = []
    for sample in samples:
        article = sample.article()
        t = tools(_language(article.language, "english") or "english")
        document, _ = _document(article, t, limit=SummaryOptions().max_sentences, title=False)
        candidates, quotings = lede_candidates(document, t)
        ratings = _ratings(document, t)
        candidates = [
            dataclasses.replace(c, rank=r) for c, r in zip(candidates, ratings, strict=True)
        ]
        lead = [str(s) for s in document.sentences[:SENTENCES]]
        item = Prepared(
            sample, lead, [c.text for c in candidates], candidates, quotings, ratings, {}
        )
        item.lead_scores = score(item, lead, metrics, scorer)
        prepared.append(item)
    return prepared


def score(
    item: Prepared, summary: list[str], metrics: tuple[str, ...], scorer: Scorer
) -> dict[str, float]:
    if metrics == ("headline",):
        return {"headline": 100 * scorer.headline(item.sample.title, summary)}
    return {m: 100 * v for m, v in scorer.rouge(item.sample.reference, summary).items()}


Chooser = Callable[[Prepared], list[int]]


def lede_chooser(rules: lede.Rules = lede.DEFAULT_RULES) -> Chooser:
    return lambda item: lede.choose(item.candidates, item.quotings, SENTENCES, rules)


def differences(source: Source, choose: Chooser, scorer: Scorer) -> dict[str, list[float]]:
    """Per article and metric: the method's score minus lead's."""
    result: dict[str, list[float]] = {m: [] for m in source.metrics}
    for item in source.articles:
        chosen = choose(item)
        shown = frozenset(chosen)
        summary = [quotes.shown_alone(item.texts, item.quotings, i, shown) for i in chosen]
        scores = score(item, summary, source.metrics, scorer)
        for metric in source.metrics:
            result[metric].append(scores[metric] - item.lead_scores[metric])
    return result


def describe(values: list[float]) -> str:
    low, high = bootstrap(values)
    wins = sum(v > 1e-9 for v in values)
    losses = sum(v < -1e-9 for v in values)
    ties = len(values) - wins - losses
    return f"{statistics.fmean(values):+.2f} ({low:+.2f} to {high:+.2f}) {wins}/{ties}/{losses}"


def row(label: str, sources: Sequence[Source], choose: Chooser, scorer: Scorer) -> dict[str, float]:
    """Print one line of mean differences; return them by source and metric."""
    cells, means = [], {}
    for source in sources:
        diffs = differences(source, choose, scorer)
        for metric, values in diffs.items():
            means[f"{source.name} {metric}"] = statistics.fmean(values)
            cells.append(f"{statistics.fmean(values):+.2f}")
    print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
    return means


def header(sources: Sequence[Source]) -> None:
    names = [f"{s.name} {m.replace('rouge', 'R-')}" for s in sources for m in s.metrics]
    print("| variant | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))


# -- rules switched off: lede.analyse's answers changed for the one rule ----------------------

Analyse = Callable[..., tuple[list[str | None], list[str]]]
_analyse: Analyse = lede.analyse


def without(problems_off: frozenset[str] = frozenset(), *, leaning: bool = True) -> Analyse:
    def analyse(*args: object, **kwargs: object) -> tuple[list[str | None], list[str]]:
        problems, leans = _analyse(*args, **kwargs)
        problems = [None if p in problems_off else p for p in problems]
        if not leaning:
            leans = ["" for _ in leans]
        elif "quote without speaker" in problems_off:
            leans = ["" if lean == "quote" else lean for lean in leans]
        return problems, leans

    return analyse


@contextmanager
def analysed_by(analyse: Analyse) -> Iterator[None]:
    lede.analyse = analyse  # type: ignore[assignment]  # this script's measurement only
    try:
        yield
    finally:
        lede.analyse = _analyse


def look_ahead(window: int, weight: float) -> Chooser:
    """The direction left out: after the lead, the next readable sentence gives its slot to one
    of the `window` after it when sumy's rating, times `weight`, exceeds its own by more than
    one per sentence skipped (never to a sentence leaning on another or repeating)."""

    def choose(item: Prepared) -> list[int]:
        base = lede.choose(item.candidates, item.quotings, len(item.candidates), lede.DEFAULT_RULES)
        _, leans = lede.analyse(item.candidates, item.quotings, lede.DEFAULT_RULES)
        chosen: list[int] = []
        position = 0
        order = list(base)
        while len(chosen) < SENTENCES and position < len(order):
            i = order[position]
            best, best_score = position, weight * item.ratings[i]
            if chosen:
                for step in range(1, window + 1):
                    if position + step >= len(order):
                        break
                    j = order[position + step]
                    if leans[j]:
                        continue
                    candidate = weight * item.ratings[j] - step
                    if candidate > best_score:
                        best, best_score = position + step, candidate
            chosen.append(order[best])
            position = best + 1
        return sorted(chosen)

    return choose


def main(argv: Sequence[str] | None = None) -> int:
    global SENTENCES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="the folder with the development data")
    parser.add_argument("--sentences", type=int, default=3)
    args = parser.parse_args(argv)
    SENTENCES = args.sentences
    start = time.perf_counter()
    scorer = Scorer()

    bbc = []
    for line in (args.data / "bbc-news-articles.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        paragraphs = tuple(" ".join(p.split()) for p in record["text"].split("\n\n") if p.strip())
        bbc.append(Sample(record["title"], paragraphs, (record["title"],), record["id"], "en"))
    sources = [
        Source(
            "CNN/DM", prepare(load_samples(args.data / "cnndm-dev.jsonl"), ROUGE, scorer), ROUGE
        ),
        Source(
            "OrangeSum",
            prepare(load_samples(args.data / "orangesum-fr-dev.jsonl"), ROUGE, scorer),
            ROUGE,
        ),
        Source("BBC", prepare(bbc, ("headline",), scorer), ("headline",)),
    ]
    print(
        f"{', '.join(f'{len(s.articles)} {s.name}' for s in sources)} articles prepared in"
        f" {time.perf_counter() - start:.0f} s; {SENTENCES} sentences; differences from lead"
        " in points (ROUGE F1 against the references people wrote; BBC: headline coverage)\n"
    )

    print("1. lede against lead: mean difference (95 % interval) wins/ties/losses\n")
    print("| source | metric | lede - lead |")
    print("|---|---|---|")
    for source in sources:
        for metric, values in differences(source, lede_chooser(), scorer).items():
            print(f"| {source.name} | {metric} | {describe(values)} |")

    print("\n2. Each rule switched off: mean difference from lead\n")
    header(sources)
    row("lede", sources, lede_chooser(), scorer)
    switches = {
        "captions, page lines, bylines taken": without(
            frozenset({"caption", "call to action", "byline"})
        ),
        "fragments taken (min_words 0, split tails)": None,
        "repetitions taken": None,
        "leaning sentences taken after a gap": without(leaning=False),
        "quotes taken without their speaker": without(
            frozenset({"quote without speaker", "open quote", "orphan quote"})
        ),
    }
    for label, analyse in switches.items():
        if label.startswith("fragments"):
            with analysed_by(without(frozenset({"fragment"}))):
                row(
                    label,
                    sources,
                    lede_chooser(dataclasses.replace(lede.DEFAULT_RULES, min_words=0)),
                    scorer,
                )
        elif label.startswith("repetitions"):
            row(
                label,
                sources,
                lede_chooser(dataclasses.replace(lede.DEFAULT_RULES, repeat=2.0)),
                scorer,
            )
        else:
            assert analyse is not None
            with analysed_by(analyse):
                row(label, sources, lede_chooser(), scorer)

    print("\n3. Left out: a look-ahead by sumy's rating (Reduction, 0..1)\n")
    header(sources)
    for window, weight in ((1, 1.2), (1, 1.5), (2, 2.0), (2, 3.0)):
        row(f"window {window}, weight {weight}", sources, look_ahead(window, weight), scorer)

    print("\n4. Leave one source out: settings chosen on the other two, scored on it\n")
    grid = list(itertools.product((0, 3, 4, 5, 6), (0.6, 0.7, 0.8, 2.0)))
    results: dict[tuple[int, float], dict[str, float]] = {}
    print("(grid: min_words x repeat share)")
    header(sources)
    for min_words, repeat in grid:
        rules = dataclasses.replace(lede.DEFAULT_RULES, min_words=min_words, repeat=repeat)
        results[(min_words, repeat)] = row(
            f"min_words {min_words}, repeat {repeat}", sources, lede_chooser(rules), scorer
        )
    print()
    for held in sources:
        train_keys = [k for k in results[grid[0]] if not k.startswith(held.name + " ")]
        test_keys = [k for k in results[grid[0]] if k.startswith(held.name + " ")]
        best = max(grid, key=lambda g: (min(results[g][k] for k in train_keys), g == (3, 0.7)))
        held_out = ", ".join(f"{k.split(' ', 1)[1]} {results[best][k]:+.2f}" for k in test_keys)
        default = ", ".join(f"{k.split(' ', 1)[1]} {results[(3, 0.7)][k]:+.2f}" for k in test_keys)
        print(
            f"held out {held.name}: chosen on the others min_words {best[0]}, repeat {best[1]};"
            f" on {held.name}: {held_out} (the defaults: {default})"
        )
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


SENTENCES = 3

if __name__ == "__main__":
    sys.exit(main())
