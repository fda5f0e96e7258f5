from __future__ import annotations

import contextlib
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles import (
    Article,
    ArticleError,
    Block,
    ParsedFile,
    decode,
    parse_bytes,
    parse_date,
    read_file,
    word_count,
)
from bot.config import Boilerplate, normalize_phrase
from bot.images import image_url

from .conftest import SAMPLE_PAGE, story

MTIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def parse(content: str | bytes, bp: Boilerplate, suffix: str = ".txt") -> ParsedFile:
    data = content.encode() if isinstance(content, str) else content
    return parse_bytes(data, source="f" + suffix, suffix=suffix, boilerplate=bp, mtime=MTIME)


def only(content: str | bytes, bp: Boilerplate, suffix: str = ".txt") -> Article:
    (article,) = parse(content, bp, suffix).articles
    return article


# -- plain text as scraped --------------------------------------------------------------------


def test_sample_page_gives_two_articles_under_their_headlines(boilerplate: Boilerplate) -> None:
    parsed = read_file(SAMPLE_PAGE, source="sample.txt", boilerplate=boilerplate, max_bytes=2**20)
    titles = [a.title for a in parsed.articles]
    assert titles == [
        "Azerbaijan grateful to Pakistan for support during Patriotic War and liberation of"
        " Karabakh",
        "Keir Starmer becomes UK’s new prime minister as Labour wins UK general election 2024",
    ]
    assert parsed.problems == ()


def test_sample_page_drops_site_boilerplate(boilerplate: Boilerplate) -> None:
    parsed = read_file(SAMPLE_PAGE, source="sample.txt", boilerplate=boilerplate, max_bytes=2**20)
    text = "\n".join(a.title + "\n" + a.body for a in parsed.articles)
    assert "Exit mobile version" not in text
    assert "More Articles Like This" not in text
    assert parsed.articles[1].paragraphs[-1].endswith("end 14 years of Conservative rule.")


def test_short_lines_without_closing_punctuation_are_subheadings(bp: Boilerplate) -> None:
    parsed = read_file(SAMPLE_PAGE, source="sample.txt", boilerplate=bp, max_bytes=2**20)
    first = parsed.articles[0]
    assert first.headings == ("War crimes by Armenia", "Patriotic War", "Liberation of Karabakh")
    assert all(not p.startswith("Patriotic War") or len(p) > 20 for p in first.paragraphs)
    assert first.blocks[0] == Block(
        "The Azerbaijan Embassy in Pakistan on November 1 marked the first anniversary of the"
        " “44-day Patriotic War” to liberate its territories from Armenian occupation."
    )


@pytest.fixture
def bp(boilerplate: Boilerplate) -> Boilerplate:
    return boilerplate


def test_one_blank_line_separates_paragraphs_not_articles(bp: Boilerplate) -> None:
    text = story("Headline one", "First sentence here.", "Second one here.", "Third one.")
    article = only(text, bp)
    assert article.title == "Headline one"
    assert article.paragraphs == ("First sentence here. Second one here.", "Third one.")


def test_two_blank_lines_before_a_headline_start_a_new_article(bp: Boilerplate) -> None:
    text = "Story A\n\nBody of A.\n\n\nStory B\n\nBody of B.\n"
    assert [(a.title, a.paragraphs, a.ordinal) for a in parse(text, bp).articles] == [
        ("Story A", ("Body of A.",), 0),
        ("Story B", ("Body of B.",), 1),
    ]


def test_two_blank_lines_before_a_paragraph_do_not_split(bp: Boilerplate) -> None:
    text = "Story A\n\nBody of A.\n\n\nMore body of A, after a wide gap.\n"
    assert only(text, bp).paragraphs == ("Body of A.", "More body of A, after a wide gap.")


def test_related_headlines_after_the_cut_marker_are_dropped(bp: Boilerplate) -> None:
    text = (
        "Main story\n\nThe story itself.\n\nMore Articles Like This\n\n"
        "Other headline one\n\n\nOther headline two\n\nExit mobile version\n"
    )
    article = only(text, bp)
    assert article.title == "Main story"
    assert article.blocks == (Block("The story itself."),)


def test_a_list_of_headlines_after_two_blank_lines_is_not_an_article(bp: Boilerplate) -> None:
    text = "Main story\n\nThe story itself.\n\n\nHeadline one\n\nHeadline two\n"
    (article,) = parse(text, bp).articles
    assert article.paragraphs == ("The story itself.",)


def test_boilerplate_lines_and_patterns_are_dropped(bp: Boilerplate) -> None:
    text = (
        "Skip to content\nHeadline\n\nAdvertisement\n\nPhoto: Someone / Agency\n\n"
        "Real text of the story.\n\nShare this:\n\nREAD MORE: another story\n\nFollow us on X\n"
    )
    article = only(text, bp)
    assert article.title == "Headline"
    assert article.blocks == (Block("Real text of the story."),)


def test_operators_can_add_their_own_boilerplate(bp: Boilerplate) -> None:
    text = "Headline\n\nReal text.\n\nBrought to you by Acme.\n"
    assert only(text, bp).paragraphs == ("Real text.", "Brought to you by Acme.")
    extended = Boilerplate(
        lines=bp.lines | {normalize_phrase("Brought to you by Acme")},
        cut_from=bp.cut_from,
        patterns=bp.patterns,
    )
    assert only(text, extended).paragraphs == ("Real text.",)


def test_crlf_bom_and_trailing_spaces_are_normalized(bp: Boilerplate) -> None:
    data = "\ufeffHeadline  \r\n\r\nBody text here.   \r\n".encode("utf-8")
    article = only(data, bp)
    assert (article.title, article.paragraphs) == ("Headline", ("Body text here.",))


def test_cp1252_text_keeps_its_accents(bp: Boilerplate) -> None:
    data = "Café reopens\n\nThe café on the quay charges €5 for crème brûlée.\n".encode("cp1252")
    article = only(data, bp)
    assert article.title == "Café reopens"
    assert article.paragraphs == ("The café on the quay charges €5 for crème brûlée.",)


def test_bytes_undefined_in_cp1252_decode_as_latin1() -> None:
    assert decode(b"Caf\xe9 \x81ok.") == "Café \x81ok."


def test_utf16_with_byte_order_mark_is_read(bp: Boilerplate) -> None:
    data = "Überschrift\n\nEin Satz über alles.\n".encode("utf-16")
    assert only(data, bp).title == "Überschrift"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\n  \n", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        (b"Headline only\n", "only a headline"),
        (b"Heading one\n\nHeading two\n\nHeading three\n", "every line is a heading"),
        (b"Exit mobile version\n\nAdvertisement\n", "boilerplate"),
    ],
)
def test_unusable_files_are_reported_with_a_reason(
    bp: Boilerplate, content: bytes, reason: str
) -> None:
    with pytest.raises(ArticleError, match=reason):
        parse(content, bp)


def test_file_over_the_size_limit_is_reported_not_read(tmp_path: Path, bp: Boilerplate) -> None:
    path = tmp_path / "big.txt"
    path.write_text("Headline\n\n" + "Words here. " * 200_000)
    with pytest.raises(ArticleError, match=r"too large \(2\.3 MB, the limit is 1\.0 MB"):
        read_file(path, source="big.txt", boilerplate=bp, max_bytes=2**20)


def test_hard_wrapped_lines_are_joined_into_one_paragraph(bp: Boilerplate) -> None:
    text = (
        "Headline\n\nThis paragraph was wrapped by an exporter at a fixed width so\n"
        "that its sentences run over several lines, which a reader never sees.\n"
    )
    assert only(text, bp).paragraphs == (
        "This paragraph was wrapped by an exporter at a fixed width so that its sentences run"
        " over several lines, which a reader never sees.",
    )


def test_one_paragraph_per_line_stays_apart(bp: Boilerplate) -> None:
    text = "Headline\nFirst paragraph ends here.\nSecond paragraph ends here.\n"
    assert only(text, bp).paragraphs == (
        "First paragraph ends here.",
        "Second paragraph ends here.",
    )


def test_subheading_directly_above_its_paragraph_is_marked(bp: Boilerplate) -> None:
    text = (
        "Headline\n\nIntro sentence of the story.\n\nThe background\n"
        "It all began many years ago, when the first settlers arrived at the coast.\n"
    )
    assert only(text, bp).blocks[1:] == (
        Block("The background", heading=True),
        Block("It all began many years ago, when the first settlers arrived at the coast."),
    )


def test_quoted_short_line_is_not_a_subheading(bp: Boilerplate) -> None:
    text = "Headline\n\nHe spoke briefly.\n\n“We will be back”\n\nThen he left.\n"
    assert not only(text, bp).headings


def test_page_without_a_headline_line_gets_one_from_its_first_words(bp: Boilerplate) -> None:
    first = (
        "The council voted on Tuesday to close the old bridge to cars for good, after engineers"
        " found cracks in two of its supports and warned that repairs would cost more than a new"
        " crossing."
    )
    article = only(first + "\n\nSecond paragraph.\n", bp)
    assert article.title.startswith("The council voted on Tuesday to close the old bridge")
    assert article.title.endswith("…")
    assert article.paragraphs[0] == first


CHINESE = (
    "东京都周一批准了在隅田川上建设一座新桥的计划，工程预计明年春天开始，"
    "居民多年来一直要求修建第二座桥，当局表示完工大约需要两年时间，"
    "旧桥将在新桥通车后对汽车关闭。"
)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("The council met on Monday.", 5),
        (CHINESE, 38),  # 76 Han characters, about two to a word
        ("iPhone 15 在中国发布", 5),
        ("", 0),
    ],
)
def test_words_are_counted_also_in_scripts_without_spaces(text: str, words: int) -> None:
    assert word_count(text) == words


def test_a_chinese_paragraph_without_a_headline_is_body_not_a_headline(bp: Boilerplate) -> None:
    article = only(CHINESE + "\n\n第二段。\n", bp)
    assert article.paragraphs[0] == CHINESE
    assert article.title.endswith("…") and len(article.title) <= 40


# -- Markdown -----------------------------------------------------------------------------------

MARKDOWN = """---
title: "Floods: what we know"
date: 2026-03-04T05:06:07+02:00
url: https://example.org/floods
tags: [weather, "rivers"]
---

# Floods: what we know

The river rose by **two metres** overnight, [officials said](https://example.org/x).

![A flooded street](street.jpg)

## Who is affected

- About 300 homes were evacuated in the low-lying east of the town.
- Schools stay closed until Monday.

> "We have never seen it this high," said a resident.

Share this
"""


def test_markdown_front_matter_gives_title_date_url_and_tags(bp: Boilerplate) -> None:
    article = only(MARKDOWN, bp, ".md")
    assert article.title == "Floods: what we know"
    assert article.published == datetime(2026, 3, 4, 3, 6, 7, tzinfo=UTC)
    assert article.dated
    assert article.url == "https://example.org/floods"
    assert article.tags == ("weather", "rivers")


def test_markdown_body_is_plain_text_with_headings_marked(bp: Boilerplate) -> None:
    article = only(MARKDOWN, bp, ".md")
    assert article.blocks == (
        Block("The river rose by two metres overnight, officials said."),
        Block("Who is affected", heading=True),
        Block("About 300 homes were evacuated in the low-lying east of the town."),
        Block("Schools stay closed until Monday."),
        Block('"We have never seen it this high," said a resident.'),
    )


def test_markdown_without_front_matter_takes_the_first_heading_as_title(
    bp: Boilerplate,
) -> None:
    article = only("# The title\n\nSome body text.\n", bp, ".md")
    assert (article.title, article.paragraphs, article.dated) == (
        "The title",
        ("Some body text.",),
        False,
    )
    assert article.published == MTIME


def test_markdown_with_toml_front_matter(bp: Boilerplate) -> None:
    text = '+++\ntitle = "Toml title"\ndate = 2026-05-06\n+++\nBody text.\n'
    article = only(text, bp, ".md")
    assert (article.title, article.published) == ("Toml title", datetime(2026, 5, 6, tzinfo=UTC))


def test_markdown_with_broken_front_matter_is_reported(bp: Boilerplate) -> None:
    with pytest.raises(ArticleError, match="front matter is not valid YAML"):
        parse("---\ntitle: [unclosed\n---\nBody.\n", bp, ".md")


# -- JSON and JSON Lines ------------------------------------------------------------------------


def test_json_list_of_articles_with_metadata(bp: Boilerplate) -> None:
    data = [
        {"title": "One", "text": "First body.\n\nSecond para.", "date": "2026-01-01", "id": 7},
        {"headline": "Two", "body": ["Para one.", "Para two."], "tags": "a, b", "url": "u"},
    ]
    first, second = parse(json.dumps(data), bp, ".json").articles
    assert (first.title, first.paragraphs, first.key) == (
        "One",
        ("First body.", "Second para."),
        "f.json#id=7",
    )
    assert (second.title, second.paragraphs, second.tags, second.url, second.key) == (
        "Two",
        ("Para one.", "Para two."),
        ("a", "b"),
        "u",
        "f.json#1",
    )


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ({"author": "Anna  Smith"}, "Anna Smith"),
        ({"authors": [{"name": "A. One"}, {"name": "B. Two"}]}, "A. One, B. Two"),
        ({"byline": "By the newsdesk"}, "By the newsdesk"),
        ({"creator": {"name": "Wire"}}, "Wire"),
        ({}, None),
    ],
)
def test_an_author_is_read_from_the_usual_fields(
    bp: Boilerplate, field: dict[str, object], expected: str | None
) -> None:
    article = only(json.dumps({"title": "T", "text": "Body.", **field}), bp, ".json")
    assert article.author == expected


def test_an_author_changes_the_fingerprint_only_when_there_is_one(bp: Boilerplate) -> None:
    plain = only(json.dumps({"title": "T", "text": "Body.", "date": "2026-01-01"}), bp, ".json")
    signed = only(
        json.dumps({"title": "T", "text": "Body.", "date": "2026-01-01", "author": "A"}),
        bp,
        ".json",
    )
    assert plain.content_hash == signed.content_hash
    assert plain.fingerprint != signed.fingerprint


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "T", "text": "Body."},
        {"articles": [{"title": "T", "text": "Body."}]},
    ],
)
def test_json_object_or_articles_key(bp: Boilerplate, payload: object) -> None:
    assert only(json.dumps(payload), bp, ".json").paragraphs == ("Body.",)


def test_jsonl_bad_lines_are_reported_while_the_others_load(bp: Boilerplate) -> None:
    lines = [
        json.dumps({"title": "Good", "text": "Fine body."}),
        "{not json",
        json.dumps({"title": "No text"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"title": "Also good", "text": "Another body."}),
    ]
    parsed = parse("\n".join(lines), bp, ".jsonl")
    assert [a.title for a in parsed.articles] == ["Good", "Also good"]
    assert parsed.problems == (
        "line 2: not valid JSON: Expecting property name enclosed in double quotes",
        "line 3: no 'text' or 'body'",
        "line 4: not a JSON object",
    )


def test_json_without_any_usable_entry_is_reported(bp: Boilerplate) -> None:
    with pytest.raises(ArticleError, match="not valid JSON"):
        parse('{"title": ', bp, ".json")
    with pytest.raises(ArticleError, match="no article could be read"):
        parse('{"a": 1}\n{"b": 2}\n', bp, ".jsonl")


def test_json_entry_without_title_takes_its_first_line(bp: Boilerplate) -> None:
    article = only(json.dumps({"text": "The headline\n\nThe body."}), bp, ".json")
    assert (article.title, article.paragraphs) == ("The headline", ("The body.",))


# CNN/Daily Mail text: no headline, no paragraph breaks, no full stop after the last caption.
UNTITLED = (
    "A two-year-old boy is recovering after falling into a cheetah exhibit at the zoo, officials"
    " said. The toddler's mother was holding him when he slipped and fell about 12ft into the pit"
    " on Saturday. He suffered minor bumps and bruises and is in a stable condition in hospital"
    " The boy was rescued by his parents (file photo of the zoo)"
)


@pytest.mark.parametrize("record", [{"title": "", "text": UNTITLED}, {"text": UNTITLED}])
def test_a_json_record_without_a_title_keeps_its_whole_body(
    bp: Boilerplate, record: dict[str, str]
) -> None:
    article = only(json.dumps(record), bp, ".jsonl")
    assert article.paragraphs == (UNTITLED,)
    assert article.headline == ""


def test_an_untitled_article_shows_its_first_sentence_shortened(bp: Boilerplate) -> None:
    article = only(json.dumps({"title": "", "text": UNTITLED}), bp, ".json")
    assert article.title == (
        "A two-year-old boy is recovering after falling into a cheetah exhibit at the zoo,"
        " officials said."
    )
    long = only(json.dumps({"text": "Word " * 60 + "end. Next."}), bp, ".json")
    assert long.title.endswith("Word…") and len(long.title) <= 100
    short = only(
        json.dumps({"text": "The council met. It voted to close the bridge."}), bp, ".json"
    )
    assert (short.title, short.paragraphs) == (
        "The council met.",
        ("The council met. It voted to close the bridge.",),
    )


def test_the_first_sentence_is_not_cut_at_an_initial_or_a_title(bp: Boilerplate) -> None:
    text = "Dr. Jane O. Smith, the zoo's vet, said the boy was lucky. Nobody else was hurt."
    article = only(json.dumps({"text": text}), bp, ".json")
    assert article.title == "Dr. Jane O. Smith, the zoo's vet, said the boy was lucky."


def test_a_plain_text_page_that_opens_with_a_long_paragraph_has_no_headline_line(
    bp: Boilerplate,
) -> None:
    article = only(UNTITLED + "\n", bp)
    assert article.paragraphs == (UNTITLED,)
    assert article.headline == ""
    assert article.title.startswith("A two-year-old boy is recovering")


def test_a_real_headline_is_the_articles_headline(bp: Boilerplate) -> None:
    article = only(
        json.dumps({"title": "Boy falls into cheetah pit", "text": UNTITLED}), bp, ".json"
    )
    assert article.headline == article.title == "Boy falls into cheetah pit"


def test_a_json_title_keeps_angle_brackets_that_are_not_tags(bp: Boilerplate) -> None:
    record = {"title": "Why std::vector<bool> is special", "text": "It packs bits. Really."}
    assert only(json.dumps(record), bp, ".json").title == "Why std::vector<bool> is special"


def test_a_json_text_in_html_gives_its_paragraphs(bp: Boilerplate) -> None:
    record = {"title": "Bridge", "content": "<p>The council met.</p>Text outside.<p>It voted.</p>"}
    article = only(json.dumps(record), bp, ".json")
    assert " ".join(article.paragraphs) == "The council met. Text outside. It voted."


# -- metadata -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-04T05:06:07Z", datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)),
        ("2026-03-04T05:06:07+01:00", datetime(2026, 3, 4, 4, 6, 7, tzinfo=UTC)),
        ("2026-03-04", datetime(2026, 3, 4, tzinfo=UTC)),
        ("Wed, 04 Mar 2026 05:06:07 GMT", datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)),
        (1772600767, datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)),
        (1772600767000, datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)),
        ("yesterday-ish", None),
        ("", None),
        (True, None),
    ],
)
def test_dates_in_common_formats(value: object, expected: datetime | None) -> None:
    assert parse_date(value) == expected


def test_article_without_a_date_gets_the_file_time(bp: Boilerplate) -> None:
    article = only(json.dumps({"title": "T", "text": "B.", "date": "soon"}), bp, ".json")
    assert (article.published, article.dated) == (MTIME, False)


def test_content_hash_follows_the_text_and_fingerprint_everything(bp: Boilerplate) -> None:
    base = only(json.dumps({"title": "T", "text": "Body."}), bp, ".json")
    retagged = only(json.dumps({"title": "T", "text": "Body.", "tags": ["x"]}), bp, ".json")
    edited = only(json.dumps({"title": "T", "text": "Body, edited."}), bp, ".json")
    assert base.content_hash == retagged.content_hash != edited.content_hash
    assert base.fingerprint != retagged.fingerprint


# -- lead images ---------------------------------------------------------------------------------

BODY = "The council met on Monday. It voted for the bridge."
PIC = "https://img.example.org/2026/11/bridge.jpg"


@pytest.mark.parametrize(
    "image",
    [
        PIC,
        f"  {PIC}\n",
        {"url": PIC, "width": 1200},
        {"src": PIC},
        [{"url": "data:image/png;base64,iVBOR"}, PIC],
        [{"@type": "ImageObject", "contentUrl": PIC}],
    ],
)
def test_a_json_image_in_its_common_shapes_is_the_articles_picture(
    image: object, bp: Boilerplate
) -> None:
    record = {"title": "Bridge", "text": BODY, "image": image}
    assert only(json.dumps(record), bp, ".json").image == PIC


@pytest.mark.parametrize("key", ["thumbnail", "og:image", "featured_image", "cover"])
def test_other_names_exporters_give_the_image_are_read(key: str, bp: Boilerplate) -> None:
    assert only(json.dumps({"title": "Bridge", "text": BODY, key: PIC}), bp, ".json").image == PIC


def test_a_relative_image_is_resolved_against_the_articles_url(bp: Boilerplate) -> None:
    record = {"title": "B", "text": BODY, "url": "https://site.example/news/1", "image": "/p.jpg"}
    assert only(json.dumps(record), bp, ".json").image == "https://site.example/p.jpg"
    without_url = {"title": "B", "text": BODY, "image": "/p.jpg"}
    assert only(json.dumps(without_url), bp, ".json").image is None


@pytest.mark.parametrize(
    "front_matter",
    [
        f"---\ntitle: Bridge\nimage: {PIC}\n---\n",
        f"---\ntitle: Bridge\nimages:\n  - {PIC}\n---\n",
        f'+++\ntitle = "Bridge"\n[cover]\nimage = "{PIC}"\n+++\n',
    ],
)
def test_markdown_front_matter_gives_the_picture(front_matter: str, bp: Boilerplate) -> None:
    assert only(front_matter + BODY + "\n", bp, ".md").image == PIC


def test_an_article_without_an_image_reads_as_before(bp: Boilerplate) -> None:
    article = only(json.dumps({"title": "T", "text": BODY}), bp, ".json")
    assert article.image is None
    pictured = only(json.dumps({"title": "T", "text": BODY, "image": PIC}), bp, ".json")
    # A picture is shown, so it changes the fingerprint; an article without one keeps its own.
    assert pictured.content_hash == article.content_hash
    assert pictured.fingerprint != article.fingerprint


def assert_valid_image(image: str | None) -> None:
    """None, or an address Telegram may be given: absolute http(s), short, printable."""
    if image is None:
        return
    assert image == image_url(image), image
    assert re.fullmatch(r"https?://[^\s\x00-\x1f\x7f]{1,993}", image, re.IGNORECASE), image


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.text(max_size=60)
    | st.builds(lambda s: "https://ex.org/" + s, st.text(max_size=40))
    | st.builds(lambda s: s + "://ex.org/p.jpg", st.text(max_size=12)),
    base=st.none() | st.sampled_from(["https://site.example/news/1", "not a url", "http://[x"]),
    markdown=st.booleans(),
)
def test_any_string_as_an_image_gives_a_valid_picture_or_none(
    value: str, base: str | None, markdown: bool, bp: Boilerplate
) -> None:
    record = {"title": "Bridge", "text": BODY, "image": value, "url": base}
    if markdown:
        article = only(f"---\n{yaml.safe_dump(record)}---\n{BODY}\n", bp, ".md")
    else:
        article = only(json.dumps(record), bp, ".json")
    assert_valid_image(article.image)
    assert_valid_image(image_url(value, base))


# -- any input ----------------------------------------------------------------------------------
# Property-based: whatever a scraper or exporter writes, a reader gives articles or an
# ArticleError with a reason, never another exception; and no markup reaches the text.

READER_SUFFIXES = [".txt", ".md", ".json", ".jsonl"]
MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?>|\\[\\`*_{}\[\]()#+\-.!]|\]\(")


def assert_readable(content: bytes, suffix: str, bp: Boilerplate) -> ParsedFile | None:
    try:
        parsed = parse(content, bp, suffix)
    except ArticleError as exc:
        assert str(exc), "a failure says why"
        return None
    assert parsed.articles
    for article in parsed.articles:
        assert article.title.strip()
        assert any(not b.heading for b in article.blocks)
        assert all(b.text.strip() for b in article.blocks)
        assert_valid_image(article.image)
    return parsed


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=2000), suffix=st.sampled_from(READER_SUFFIXES))
def test_any_bytes_give_articles_or_a_reason(content: bytes, suffix: str, bp: Boilerplate) -> None:
    assert_readable(content, suffix, bp)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=600),
    suffix=st.sampled_from(READER_SUFFIXES),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_any_text_in_any_common_encoding_gives_articles_or_a_reason(
    text: str, suffix: str, encoding: str, bp: Boilerplate
) -> None:
    assert_readable(text.encode(encoding, errors="replace"), suffix, bp)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "title",
    "text",
    "body",
    "content",
    "date",
    "url",
    "tags",
    "author",
    "id",
    "language",
    "image",
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6), max_size=4),
    lines=st.booleans(),
)
def test_any_json_records_give_articles_or_a_reason(
    records: list[dict[str, object]], lines: bool, bp: Boilerplate
) -> None:
    if lines:
        assert_readable("\n".join(json.dumps(r) for r in records).encode(), ".jsonl", bp)
    else:
        assert_readable(json.dumps(records).encode(), ".json", bp)


WORDS = st.sampled_from(
    ["The", "council", "met", "on", "Monday", "CO2", "river", "said", "1.5", "€5", "«quote»"]
)
INLINE = st.sampled_from(
    [
        "**{}**",
        "*{}*",
        "_{}_",
        "`{}`",
        "[{}](https://example.org/x)",
        "![{}](pic.jpg)",
        "{}<sup>[1]</sup>",
        "CO<sub>{}</sub>",
        "\\_{}\\_",
        "\\*{}",
        "\\[{}\\]",
        "<em>{}</em>",
        "<a href='x'>{}</a>",
        "{}",
    ]
)


@st.composite
def markdown_paragraph(draw: st.DrawFn) -> str:
    words = draw(st.lists(WORDS, min_size=3, max_size=12))
    marks = draw(st.lists(INLINE, min_size=len(words), max_size=len(words)))
    return " ".join(m.format(w) for m, w in zip(marks, words, strict=True)) + "."


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=st.lists(WORDS, min_size=1, max_size=6).map(" ".join),
    paragraphs=st.lists(markdown_paragraph(), min_size=1, max_size=5),
)
def test_markdown_markup_never_reaches_the_text(
    title: str, paragraphs: list[str], bp: Boilerplate
) -> None:
    content = f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"
    article = only(content, bp, ".md")
    for text in (article.title, *(b.text for b in article.blocks)):
        assert not MARKUP.search(text), text


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(paragraphs=st.lists(markdown_paragraph(), min_size=1, max_size=4))
def test_html_inside_a_json_text_never_reaches_the_text(
    paragraphs: list[str], bp: Boilerplate
) -> None:
    html = "".join(f"<p>{p}</p>" for p in paragraphs if "\\" not in p and "](" not in p)
    if not html:
        return
    record = {"title": "Council <b>meets</b> &amp; votes", "text": html}
    article = only(json.dumps(record), bp, ".json")
    assert article.title == "Council meets & votes"
    for block in article.blocks:
        assert not re.search(r"</?[A-Za-z][^<>]*>", block.text), block.text


# -- linear in the input ------------------------------------------------------------------------
# Hostile files (an unclosed "[a](" or "<a" repeated) once took 47 s at 400 KB: each reader
# must take about twice as long for twice the input, never four times.

HOSTILE = [
    (".md", b"[a]("),
    (".md", b"![a]("),
    (".md", b"<a"),
    (".md", b"*a_"),
    (".md", b"[a]["),
    (".txt", b"[a]("),
    (".txt", b"a.\n\n\n"),
    (".txt", b"Headline like\n\n\n"),  # headline-like lines two blank lines apart
    (".json", b'{"text": "[a]('),
    (".jsonl", b'{"a":'),
    (".html", b"<a"),
    (".html", b"<p><b>"),
]


def _seconds_to_read(contents: tuple[bytes, bytes], suffix: str, bp: Boilerplate) -> list[float]:
    """The best CPU time of five to read each content. CPU time (this process's), not wall
    time: on a busy machine (CI beside two test workers and their bots) the wall clock also
    counts the time other processes ran, and a 2x input read 3.6x as long. The two are read in
    turn (small, large, small, ...), so that what remains of a busy spell (caches) slows both
    alike; a busy machine slows some runs, never speeds one up."""
    best = [float("inf")] * len(contents)
    for _ in range(5):
        for i, content in enumerate(contents):
            started = time.process_time()
            with contextlib.suppress(ArticleError):
                parse(content, bp, suffix)
            best[i] = min(best[i], time.process_time() - started)
    return best


@pytest.mark.parametrize(("suffix", "unit"), HOSTILE)
def test_reading_takes_twice_as_long_for_twice_the_input(
    suffix: str, unit: bytes, bp: Boilerplate
) -> None:
    def content(size: int) -> bytes:
        return b"# Headline\n\n" + unit * (size // len(unit)) + b".\n"

    size = 8_000 if suffix == ".html" else 100_000  # trafilatura is slower per byte
    small, large = _seconds_to_read((content(size), content(2 * size)), suffix, bp)
    # Quadratic work would be 4x; 3x leaves room for a noisy machine, 20 ms for tiny timings.
    assert large <= 3 * small + 0.02, (small, large)


def test_a_file_of_more_lines_than_any_article_file_is_refused(bp: Boilerplate) -> None:
    with pytest.raises(ArticleError, match=r"too many lines for an article file \(150,002;"):
        parse(b"Title\n\n" + b"A\n" * 150_000, bp, ".md")
