"""Each article in its own language: from its metadata or detected, summarized with that
language's sentence model, and a clear fallback for a language without one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import index, languages
from bot.articles import Article, Block
from bot.config import Settings
from bot.config import SummaryOptions as Options
from bot.store import Store
from bot.summarize import summarize, tools

from .conftest import WriteFile

GERMAN = (
    "Der Stadtrat hat am Montag den Bau einer neuen Brücke über den Fluss beschlossen.",
    "Die Arbeiten sollen im Frühjahr beginnen und etwa zwei Jahre dauern.",
    "Anwohner hatten seit Jahren eine zweite Querung gefordert, sagte die Bürgermeisterin.",
    "Die alte Brücke wird für Autos gesperrt, sobald die neue eröffnet ist.",
)
JAPANESE = (
    "東京都は月曜日、隅田川に新しい橋を建設する計画を承認した。工事は来年の春に始まる予定だ。",
    "住民は長年、二つ目の橋を求めてきた。完成までには約二年かかる見込みだという。",
)


def article(title: str, paragraphs: tuple[str, ...], language: str | None = None) -> Article:
    return Article(
        title=title,
        blocks=tuple(Block(p) for p in paragraphs),
        source="x.txt",
        published=datetime.now(UTC),
        language=language,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("de", "de"), ("de-AT", "de"), ("German", "de"), ("en_GB", "en"), ("", None), (None, None)],
)
def test_metadata_languages_become_codes(value: str | None, expected: str | None) -> None:
    assert languages.code(value) == expected


def test_the_language_is_detected_when_the_article_does_not_say() -> None:
    german = languages.assign(article("Neue Brücke beschlossen", GERMAN), "english")
    assert german.language == "de"
    japanese = languages.assign(article("新しい橋", JAPANESE), "english")
    assert japanese.language == "ja"
    stated = languages.assign(article("Neue Brücke", ("Guten Tag.",), language="fr"), "english")
    assert stated.language == "fr"  # too little text to doubt what the article says


SPANISH = (
    "El ayuntamiento aprobó el lunes la construcción de un nuevo puente sobre el río.",
    "Las obras comenzarán en primavera y durarán unos dos años, según la alcaldesa.",
)


def test_a_sure_detection_wins_over_a_stated_language_it_contradicts() -> None:
    # A site template's <html lang="en"> on a Spanish page.
    page = languages.assign(article("Nuevo puente", SPANISH, language="en"), "english")
    assert page.language == "es"
    german = languages.assign(article("Neue Brücke", GERMAN, language="French"), "english")
    assert german.language == "de"


def test_a_stated_language_stands_against_a_near_neighbour() -> None:
    norwegian = (
        "Bystyret vedtok mandag å bygge en ny bro over elva, og arbeidet starter til våren.",
        "Beboerne har i mange år bedt om en ny forbindelse mellom de to bydelene.",
    )
    stated = languages.assign(article("Ny bro", norwegian, language="nb"), "english")
    assert stated.language == "nb"


def test_too_little_text_to_tell_falls_back_to_the_default() -> None:
    assert languages.assign(article("Hi", ("Ok.",)), "german").language == "de"


def test_a_german_article_is_split_with_the_german_model() -> None:
    # "2. Mai" ends no sentence in German: the German Punkt model knows ordinal numbers.
    text = "Die Sitzung fand am 2. Mai statt und dauerte bis in die Nacht hinein an."
    doc = article("Sitzung", (text, *GERMAN), language="de")
    summary = summarize(doc, Options(algorithm="lead", sentences=1))
    assert summary == [text]


def test_a_language_without_a_model_gets_its_lead_sentences() -> None:
    doc = article("新しい橋", JAPANESE, language="ja")
    for algorithm in ("news", "lexrank", "lead"):
        summary = summarize(doc, Options(algorithm=algorithm, sentences=2))
        assert summary == [
            "東京都は月曜日、隅田川に新しい橋を建設する計画を承認した。",
            "工事は来年の春に始まる予定だ。",
        ]


async def test_indexing_stores_each_articles_language(
    settings: Settings, store: Store, write: WriteFile
) -> None:
    write("de.txt", "Neue Brücke beschlossen\n\n" + "\n\n".join(GERMAN) + "\n")
    write("ja.txt", "新しい橋\n\n" + "\n\n".join(JAPANESE) + "\n")
    write("en.md", "---\ntitle: Bridge\nlanguage: en\n---\n\nThe council approved a bridge.\n")
    report = index.run(settings, store)
    assert report.added == 3 and not report.failed
    found = {a.article.title: a.article.language for a in store.latest(10, 0)}
    assert found == {"Neue Brücke beschlossen": "de", "新しい橋": "ja", "Bridge": "en"}


def test_a_sumy_language_without_a_punkt_model_is_summarized_not_just_led() -> None:
    paragraphs = (
        "Київська міська рада у понеділок ухвалила рішення про будівництво нового мосту."
        " Роботи почнуться навесні.",
        "Мешканці лівого берега роками просили про другу переправу."
        " Будівництво триватиме приблизно два роки.",
        "Старий міст закриють для автомобілів, щойно відкриється новий міст.",
    )
    doc = article("Київ будує новий міст", paragraphs, language="uk")
    assert tools("ukrainian").stop_words  # sumy's Ukrainian stop words and stemmer
    summary = summarize(doc, Options(algorithm="news", sentences=2))
    lead = summarize(doc, Options(algorithm="lead", sentences=2))
    assert len(summary) == 2 and summary != lead  # rated, not the first two
    assert summary[0].startswith("Київська міська рада")


def test_the_model_is_loaded_ahead_of_the_first_detection_when_preloaded() -> None:
    # bot.preload does this in a forkserver, so that the workers it forks inherit the model.
    languages._identifier.cache_clear()
    languages.preload()
    assert languages._identifier.cache_info().currsize == 1
    assert languages.detect("Der Bundestag hat am Montag ein neues Gesetz beschlossen.") == "de"
    assert languages._identifier.cache_info().misses == 1
