"""The evaluate command's scoring: ROUGE F1 and headline coverage on hand-checked examples."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.config import SummaryOptions
from bot.evaluate import (
    EvaluationError,
    Sample,
    Scorer,
    bootstrap,
    evaluate,
    load_samples,
    table,
    versus,
)

LEAD = "The council approved a new bridge over the river on Monday evening."
SECOND = "Building work will start in the spring and take two years."
THIRD = "Residents have asked for a second crossing for more than a decade."
FOURTH = "The old bridge will close to cars once the new one opens."


def write_samples(path: Path, *records: Mapping[str, object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def bridge(reference: list[str]) -> dict[str, object]:
    return {
        "title": "Council approves new river bridge for town",
        "text": f"{LEAD} {SECOND}\n\n{THIRD}\n\n{FOURTH}",
        "summary": "\n".join(reference),
    }


def test_rouge_is_f1_of_stemmed_words() -> None:
    scorer = Scorer()
    # Reference 6 words, summary 3 of them: precision 1, recall 0.5, F1 2/3.
    scores = scorer.rouge(["the cats sat on the mat"], ["the cat sat"])
    assert scores["rouge1"] == pytest.approx(2 / 3)
    # Bigrams: "the cat", "cat sat" of the reference's 5: precision 1, recall 0.4.
    assert scores["rouge2"] == pytest.approx(2 * 0.4 / 1.4)


def test_headline_coverage_is_the_share_of_title_words_in_the_summary() -> None:
    scorer = Scorer()
    # council, approv(es)/approv(ed), bridg(e) are in the lead; "vote" is not.
    assert scorer.headline("Council approves bridge vote", [LEAD]) == pytest.approx(3 / 4)
    assert scorer.headline("Council approves bridge vote", [SECOND]) == 0.0


def test_a_method_that_picks_the_reference_scores_100(tmp_path: Path) -> None:
    data = write_samples(tmp_path / "d.jsonl", bridge([LEAD, SECOND]))
    results = evaluate(
        load_samples(data), ["lead", "news"], SummaryOptions(algorithm="lead", sentences=2)
    )
    lead = results["lead"]
    assert (lead.rouge1, lead.rouge2, lead.rougeLsum) == (100.0, 100.0, 100.0)
    assert lead.headline == pytest.approx(100 * 5 / 7)  # all but "for" and "town"
    assert lead.ms_per_article > 0
    assert results["news"].rouge2 <= 100.0


def test_scores_are_means_over_the_articles(tmp_path: Path) -> None:
    data = write_samples(tmp_path / "d.jsonl", bridge([LEAD, SECOND]), bridge([THIRD, FOURTH]))
    (scores,) = evaluate(load_samples(data), ["lead"], SummaryOptions(sentences=2)).values()
    one = Scorer().rouge([THIRD, FOURTH], [LEAD, SECOND])["rouge1"]
    assert scores.rouge1 == pytest.approx(100 * (1.0 + one) / 2)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2"),
        ('{"title": "T", "text": "Body."}', "no 'summary'"),
        ('["a list"]', "not a JSON object"),
    ],
)
def test_a_bad_line_is_reported_with_its_number(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(bridge([LEAD])) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match=message):
        load_samples(path)


def test_an_empty_file_has_no_samples(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match="no samples"):
        load_samples(path)


def test_paragraphs_split_on_blank_lines_and_every_one_is_body() -> None:
    sample = Sample("T", ("ALL CAPS LINE", "Body."), ("Body.",))
    article = sample.article()
    assert article.paragraphs == ("ALL CAPS LINE", "Body.")
    assert article.headings == ()


def test_the_table_marks_the_default_and_the_best() -> None:
    options = SummaryOptions(sentences=1)
    results = evaluate([Sample("Bridge", (LEAD, SECOND), (LEAD,))], ["lead", "lexrank"], options)
    text = table(results, "lexrank")
    assert "| lexrank (default) |" in text
    assert "**100.0**" in text


def test_data_without_titles_keeps_its_whole_text_and_reports_headline_as_na(
    tmp_path: Path,
) -> None:
    record = {"title": "", "text": f"{LEAD} {SECOND} {THIRD}", "summary": LEAD}
    data = write_samples(tmp_path / "d.jsonl", record, {**record, "title": None})
    samples = load_samples(data)
    assert [s.title for s in samples] == ["", ""]
    results = evaluate(samples, ["lead"], SummaryOptions(sentences=1))
    assert results["lead"].headline is None
    assert results["lead"].rouge1 == 100.0
    assert results["lead"].as_dict()["headline"] is None
    assert "| n/a |" in table(results, "lead")


def test_each_sample_is_read_in_its_own_language_else_the_detected_one() -> None:
    french = (
        "Le conseil municipal a approuvé lundi soir la construction d'un nouveau pont sur la"
        " rivière, attendu depuis plus de dix ans par les habitants du quartier."
    )
    stated = Sample("Pont", (french,), ("x",), language="fr")
    assert stated.article().language == "fr"
    assert Sample("Pont", (french,), ("x",)).article().language == "fr"
    assert Sample("", ("Ok.",), ("x",)).article("german").language == "de"


def test_the_language_field_is_read_from_the_data(tmp_path: Path) -> None:
    data = write_samples(tmp_path / "d.jsonl", {**bridge([LEAD]), "language": "de"})
    (sample,) = load_samples(data)
    assert sample.language == "de"


def test_every_figure_has_a_95_percent_bootstrap_interval(tmp_path: Path) -> None:
    records = [bridge([LEAD, SECOND]), bridge([THIRD, FOURTH]), bridge([SECOND, THIRD])]
    data = write_samples(tmp_path / "d.jsonl", *records)
    scores = evaluate(load_samples(data), ["lead"], SummaryOptions(sentences=2))["lead"]
    assert scores.intervals is not None
    for metric in ("rouge1", "rouge2", "rougeLsum", "headline"):
        low, high = scores.intervals[metric]
        assert low <= getattr(scores, metric) <= high
    assert "(" in table({"lead": scores}, "lead")


def test_the_bootstrap_is_deterministic_and_a_constant_has_no_spread() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert bootstrap(values) == bootstrap(values)
    assert bootstrap([5.0] * 10) == (5.0, 5.0)
    low, high = bootstrap(values)
    assert 10.0 <= low < 25.0 < high <= 40.0


def test_each_method_is_compared_with_lead_article_by_article(tmp_path: Path) -> None:
    records = [bridge([LEAD]), bridge([SECOND]), bridge([LEAD, SECOND])]
    data = write_samples(tmp_path / "d.jsonl", *records)
    results = evaluate(load_samples(data), ["lead", "textrank"], SummaryOptions(sentences=1))
    assert results["lead"].versus is None
    against = results["textrank"].versus
    assert against is not None
    one = against["rouge1"]
    assert one.wins + one.ties + one.losses == 3
    assert one.interval[0] <= one.difference <= one.interval[1]
    assert "Against lead" in table(results, "lead")
    as_json = json.loads(json.dumps(results["textrank"].as_dict()))
    assert as_json["vs_lead"]["rouge1"]["wins"] == one.wins


def test_versus_counts_wins_ties_and_losses() -> None:
    result = versus([3.0, 2.0, 1.0, 2.0], [2.0, 2.0, 2.0, 1.0])
    assert (result.wins, result.ties, result.losses) == (2, 1, 1)
    assert result.difference == pytest.approx(0.25)
