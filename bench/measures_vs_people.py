"""Which automatic measure agrees with people? SummEval's experts against ROUGE.

SummEval (Fabbri et al., 2021) had three experts score 16 systems' summaries of 100 CNN/Daily
Mail articles for coherence, consistency, fluency and relevance. This script scores the same
summaries with the measures `python -m bot evaluate` reports (rouge-score's ROUGE-1, ROUGE-2 and
ROUGE-Lsum F1, stemmed) against one reference (the journalists' highlights, as evaluate does)
and against all eleven, and prints how well each measure orders what the experts ordered:

- per article: Kendall's tau between a measure and an expert score over the 16 summaries,
  averaged over the articles (does it pick the better summary of one article?);
- per system: Kendall's tau over the 16 systems' means (does it rank methods as people do?).

It also reads where the lead stands: system M0 is the first three sentences ("lead").

Usage: python bench/measures_vs_people.py ../shared/data/summeval-judgments.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from rouge_score import rouge_scorer

ASPECTS = ("relevance", "consistency", "coherence", "fluency")
MEASURES = ("rouge1", "rouge2", "rougeLsum")


def kendall(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b."""
    concordant = discordant = ties_x = ties_y = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = x[i] - x[j], y[i] - y[j]
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            ties_x += 1
        elif dy == 0:
            ties_y += 1
        elif (dx > 0) == (dy > 0):
            concordant += 1
        else:
            discordant += 1
    denominator = ((concordant + discordant + ties_x) * (concordant + discordant + ties_y)) ** 0.5
    return (concordant - discordant) / denominator if denominator else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    args = parser.parse_args(argv)
    records = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines()]
    scorer = rouge_scorer.RougeScorer(list(MEASURES), use_stemmer=True)

    # scores[(measure, references)][article][system] and people[aspect][article][system]
    scores: dict[tuple[str, str], list[dict[str, float]]] = {
        (m, r): [] for m in MEASURES for r in ("one", "eleven")
    }
    people: dict[str, list[dict[str, float]]] = {a: [] for a in ASPECTS}
    for record in records:
        references = [record["summary"], *record["extra_references"]]
        per: dict[tuple[str, str], dict[str, float]] = {k: {} for k in scores}
        for aspect in ASPECTS:
            people[aspect].append({})
        for item in record["system_summaries"]:
            system, summary = item["system"], item["summary"]
            one = scorer.score(references[0], summary)
            many = [scorer.score(r, summary) for r in references]
            for measure in MEASURES:
                per[(measure, "one")][system] = one[measure].fmeasure
                per[(measure, "eleven")][system] = statistics.fmean(
                    s[measure].fmeasure for s in many
                )
            for aspect in ASPECTS:
                people[aspect][-1][system] = item["expert_scores_mean"][aspect]
        for key, values in per.items():
            scores[key].append(values)

    systems = sorted(people["relevance"][0])
    print(
        f"{len(records)} articles, {len(systems)} systems; Kendall's tau between each measure and"
        " the experts' mean score\n"
    )
    print(
        "| measure | references | "
        + " | ".join(f"{a} (article)" for a in ASPECTS)
        + " | "
        + " | ".join(f"{a} (system)" for a in ASPECTS)
        + " |"
    )
    print("|---|---|" + "---:|" * (2 * len(ASPECTS)))
    for (measure, references), per_article in scores.items():
        cells = []
        for aspect in ASPECTS:
            taus = [
                kendall([a[s] for s in systems], [p[s] for s in systems])
                for a, p in zip(per_article, people[aspect], strict=True)
            ]
            cells.append(f"{statistics.fmean(taus):.2f}")
        for aspect in ASPECTS:
            means = [statistics.fmean(a[s] for a in per_article) for s in systems]
            judged = [statistics.fmean(p[s] for p in people[aspect]) for s in systems]
            cells.append(f"{kendall(means, judged):.2f}")
        print(f"| {measure} | {references} | " + " | ".join(cells) + " |")

    print("\nThe lead (M0) among the 16 systems, by the experts' mean score:")
    for aspect in ASPECTS:
        means = {s: statistics.fmean(p[s] for p in people[aspect]) for s in systems}
        rank = sorted(systems, key=lambda s: -means[s]).index("M0") + 1
        print(f"  {aspect}: {means['M0']:.2f}, {rank} of {len(systems)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
