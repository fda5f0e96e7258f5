from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import opml
from bot.__main__ import main
from bot.settings import SETTINGS

from .conftest import REPO, SAMPLE_PAGE, WriteFile, png_size, story
from .feed_server import FeedServer, page, rss


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, articles_dir: Path) -> Path:
    """Point the command line at a temporary folder and database; returns the database path."""
    database = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("NEWSBOT_ARTICLES_DIR", str(articles_dir))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(database))
    monkeypatch.delenv("NEWSBOT_CONFIG", raising=False)
    return database


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def body_sentences(text: str) -> str:
    return " ".join(text.split())


def test_summarize_the_sample_page_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """The owner's acceptance check, run the way a user would: `python -m bot summarize`."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "summarize", str(SAMPLE_PAGE), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [a["title"] for a in result] == [
        "Azerbaijan grateful to Pakistan for support during Patriotic War and liberation of"
        " Karabakh",
        "Keir Starmer becomes UK’s new prime minister as Labour wins UK general election 2024",
    ]
    assert "Exit mobile version" not in done.stdout
    assert "More Articles Like This" not in done.stdout
    first = result[0]["summary"]
    assert len(first) == 3
    page = SAMPLE_PAGE.read_text(encoding="utf-8")
    assert all(sentence in page for sentence in first)
    subheadings = {"War crimes by Armenia", "Patriotic War", "Liberation of Karabakh"}
    assert not subheadings & set(first)


def test_summarize_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.dumps(
        {"title": "From stdin", "text": "The river rose. Boats were moved. Schools shut."}
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    result = run_json(capsys, "summarize", "-", "--format", "json", "--json", "-n", "2")
    assert result == [
        {
            "title": "From stdin",
            "summary": ["The river rose.", "Boats were moved."],
            "algorithm": "lede",
            "published": result[0]["published"],  # type: ignore[index]
            "url": None,
            "tags": [],
            "language": "en",
            "headings": [],
            "source": "-",
            "image": None,
        }
    ]


@pytest.mark.parametrize("algorithm", ["lead", "kl", "edmundson"])
def test_summarize_with_a_chosen_algorithm_and_length(
    capsys: pytest.CaptureFixture[str], algorithm: str
) -> None:
    result = run_json(
        capsys,
        "summarize",
        str(SAMPLE_PAGE),
        "--algorithm",
        algorithm,
        "--sentences",
        "4",
        "--json",
    )
    assert isinstance(result, list)
    assert len(result[0]["summary"]) == 4
    assert result[0]["algorithm"] == algorithm


def test_summarize_prints_readable_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", str(SAMPLE_PAGE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Azerbaijan grateful to Pakistan")
    assert out.count("\n- ") == 3 + 2


def test_summarize_an_unusable_file_says_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert main(["summarize", str(empty)]) == 1
    assert capsys.readouterr().err == f"newsbot: {empty}: empty file\n"
    assert main(["summarize", str(tmp_path / "missing.txt")]) == 1
    assert "No such file or directory" in capsys.readouterr().err


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["summarize", "x", "--algorithm", "magic"], ["summarize", "x", "-n", "0"]):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "expected a number from 1 to 50" in err
    # One line each, not the multi-line usage.
    assert err.count("\n") == 2 and "usage:" not in err
    assert err.startswith("newsbot: argument --algorithm/-a: invalid choice: 'magic'")


def test_help_lists_every_setting_with_its_default_bounds_and_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    shown = capsys.readouterr().out
    for row in SETTINGS:
        assert f"  {row.name} (" in shown, row.name
        assert row.help in shown, row.name
        if row.env:
            assert f"${row.env})" in shown, row.name
    assert "summary.sentences (int 1..50; default 3)" in shown
    poll = "feeds.poll_minutes (float 0.05..10,080; default 15, $NEWSBOT_FEEDS_POLL_MINUTES)"
    assert poll in shown


def test_summarize_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`summarize FILE | head -1`: the reader leaves early; no BrokenPipeError traceback."""
    many = tmp_path / "many.jsonl"
    record = {"title": "Harbour news", "text": "The ferry was late again today. " * 20}
    many.write_text((json.dumps(record) + "\n") * 1500, encoding="utf-8")  # >64 KB printed
    done = subprocess.run(
        f"{sys.executable} -m bot summarize {many} -a lead | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.stdout == "Harbour news\n"
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_a_bad_config_value_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "boilerplate.toml").write_text("")
    config = tmp_path / "bad.toml"
    config.write_text("[summary]\nsentences = 'many'\n")
    assert main(["--config", str(config), "index"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "summary.sentences" in err


def test_index_json_report_and_exit_0_despite_failures(
    capsys: pytest.CaptureFixture[str], env: Path, write: WriteFile
) -> None:
    write("good.txt", story("Good", "Body."))
    write("empty.txt", b"")
    report = run_json(capsys, "index", "--json")
    assert report == {
        "added": 1,
        "updated": 0,
        "removed": 0,
        "unchanged": 0,
        "failed": [{"path": "empty.txt", "error": "empty file"}],
        "files": 2,
        "summarized": 1,
        "queued": 0,
        "seconds": report["seconds"],  # type: ignore[index]
    }
    again = run_json(capsys, "index", "--json")
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 1)  # type: ignore[index]


def test_index_prints_a_summary_line_and_each_failure(
    capsys: pytest.CaptureFixture[str], env: Path, write: WriteFile
) -> None:
    write("empty.txt", b"")
    assert main(["index"]) == 0
    out = capsys.readouterr().out
    assert "0 added" in out and "1 failed" in out
    assert "failed: empty.txt: empty file" in out


def test_index_of_a_missing_folder_exits_2(
    capsys: pytest.CaptureFixture[str], env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSBOT_ARTICLES_DIR", str(tmp_path / "nowhere"))
    assert main(["index"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_search_before_any_index_says_to_run_index(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    assert main(["search", "volcano"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no index yet; run `python -m bot index` first" in captured.err


def test_search_json_finds_by_title_word(
    capsys: pytest.CaptureFixture[str], env: Path, write: WriteFile
) -> None:
    write("a.txt", story("Volcano erupts again", "Ash fell on the villages."))
    write("b.txt", story("Markets calm", "Traders waited for news."))
    run_json(capsys, "index", "--json")
    hits = run_json(capsys, "search", "volcano", "--json")
    assert isinstance(hits, list) and len(hits) == 1
    assert hits[0]["title"] == "Volcano erupts again"
    assert isinstance(hits[0]["id"], int)
    assert "snippet" in hits[0]


@pytest.mark.parametrize(
    "query",
    ['"', "*", "(", "NEAR", "-", "AND OR NOT", "title:x", "🎉", "-volcano", "x" * 5000],
)
def test_search_takes_any_text(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    env: Path,
    write: WriteFile,
    query: str,
) -> None:
    write("a.txt", story("Volcano erupts again", "Ash fell on the villages."))
    run_json(capsys, "index", "--json")
    assert isinstance(run_json(capsys, "search", query, "--json"), list)
    # Not by FTS5 rejecting the query and the search answering nothing (it logs that).
    assert not [r for r in caplog.records if r.getMessage().startswith("FTS5 rejected")]


def test_search_prints_hits_or_says_none_matched(
    capsys: pytest.CaptureFixture[str], env: Path, write: WriteFile
) -> None:
    write("a.txt", story("Volcano erupts again", "Ash fell on the villages."))
    main(["index"])
    capsys.readouterr()
    assert main(["search", "ash"]) == 0
    assert "Volcano erupts again" in capsys.readouterr().out
    assert main(["search", "glacier"]) == 0
    assert capsys.readouterr().out == "No articles match 'glacier'.\n"


def test_stats_prints_the_numbers_and_writes_the_chart(
    capsys: pytest.CaptureFixture[str], env: Path, write: WriteFile, tmp_path: Path
) -> None:
    write("a.txt", story("Volcano erupts again", "Ash fell on the villages."))
    write("b.txt", story("Markets calm", "Traders waited for news."))
    main(["index"])
    capsys.readouterr()
    assert main(["stats"]) == 0
    assert "Articles: 2" in capsys.readouterr().out
    png = tmp_path / "stats.png"
    assert main(["stats", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "Articles: 2" in out and "<b>" not in out
    assert f"written to {png}" in out
    assert png_size(png.read_bytes()) == (1280, 960)


def test_stats_says_when_the_chart_cannot_be_written(
    capsys: pytest.CaptureFixture[str], env: Path, tmp_path: Path
) -> None:
    assert main(["stats", "--png", str(tmp_path / "no" / "such" / "folder.png")]) == 1
    assert "cannot write the chart to" in capsys.readouterr().err


def test_no_command_without_a_token_is_the_terminal_chat(
    capsys: pytest.CaptureFixture[str], env: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("sample.txt", SAMPLE_PAGE.read_bytes())
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["index"]) == 0  # the chat answers at once; the articles are there already
    monkeypatch.setattr(sys, "stdin", io.StringIO("/latest\n"))
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "Latest news (1–2 of 2)" in out
    assert "Keir Starmer becomes UK’s new prime minister" in out


def test_no_command_with_a_token_runs_the_bot_in_telegram(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[str, bool, bool]] = []

    def fake_run(settings: object, *, token: str, webhook: bool, verbose: bool) -> int:
        started.append((token, webhook, verbose))
        return 0

    monkeypatch.setattr("bot.chat.app.run", fake_run)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    assert main([]) == 0
    assert main(["run", "--webhook"]) == 0
    assert main(["-v"]) == 0
    assert started == [
        ("123:abc", False, False),
        ("123:abc", True, False),
        ("123:abc", False, True),
    ]


def test_run_without_a_token_says_where_to_get_one(
    capsys: pytest.CaptureFixture[str], env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["run"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_the_module_runs_with_the_bundled_articles(tmp_path: Path) -> None:
    """`python -m bot` with no token, on a fresh database: what the README's first command
    shows. The chat answers at once and says when the folder is indexed; then /latest lists it."""
    environ = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    with subprocess.Popen(
        [sys.executable, "-m", "bot"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**environ, "NEWSBOT_DATABASE": str(tmp_path / "fresh.sqlite3")},
    ) as chat:
        assert chat.stdin is not None and chat.stdout is not None
        before = "".join(iter(lambda: _line_until(chat, "is indexed: 10 articles"), ""))
        out, err = chat.communicate("/latest\n1\n", timeout=300)
    assert chat.returncode == 0, err
    assert "newsbot terminal chat" in before
    assert "Latest news (1–5 of 10)" in out
    assert "(edited) Harbour festival draws record crowds despite the rain" in out


def _line_until(process: subprocess.Popen[str], wanted: str) -> str:
    """The next line of the process's output, or "" once a line with `wanted` went by (or the
    output ended)."""
    assert process.stdout is not None
    line = process.stdout.readline()
    return "" if not line or wanted in line else line


def test_evaluate_prints_json_scores_for_each_method_and_names_the_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "dev.jsonl"
    lead = "The council approved a new bridge over the river on Monday evening."
    rest = "Building work will start in the spring. Residents asked for it for years."
    record = {"title": "Council approves bridge", "text": f"{lead}\n\n{rest}", "summary": lead}
    data.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = run_json(
        capsys, "evaluate", str(data), "--algorithms", "lead,textrank", "-n", "1", "--json"
    )
    assert isinstance(result, dict)
    assert result["default"] == "lede"
    assert set(result["results"]) == {"lead", "textrank"}
    scores = result["results"]["lead"]
    metrics = {"rouge1", "rouge2", "rougeLsum", "headline", "ms_per_article"}
    assert set(scores) == metrics | {"intervals"}
    assert scores["rouge2"] == 100.0 and scores["headline"] == 100.0
    assert set(result["results"]["textrank"]) == metrics | {"intervals", "vs_lead"}
    assert set(result["results"]["textrank"]["vs_lead"]["rouge1"]) == {
        "wins",
        "ties",
        "losses",
        "difference",
        "interval",
    }


def test_evaluate_prints_a_table_with_every_method_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "dev.jsonl"
    record = {"title": "T", "text": "One sentence here. Another one there.", "summary": "x"}
    data.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert main(["evaluate", str(data)]) == 0
    out = capsys.readouterr().out
    for name in ("lede (default)", "news", "lead", "lexrank", "kl", "edmundson"):
        assert f"| {name} |" in out


def test_evaluate_reports_a_bad_file_or_method(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "dev.jsonl"
    data.write_text("{broken\n", encoding="utf-8")
    assert main(["evaluate", str(data)]) == 1
    assert "line 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", str(data), "--algorithms", "lead,magic"])
    assert exit_info.value.code == 2
    assert "unknown method magic" in capsys.readouterr().err


def test_evaluate_names_a_file_that_is_not_utf8_in_plain_words(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "latin1.jsonl"
    data.write_bytes('{"title": "Café", "text": "x", "summary": "y"}\n'.encode("latin-1"))
    assert main(["evaluate", str(data)]) == 1
    err = capsys.readouterr().err
    assert "not UTF-8 text (byte 0xe9 at offset 14); save it as UTF-8" in err
    assert "codec" not in err


def test_feeds_import_reads_each_feed_once_and_exits_1_when_one_failed(
    capsys: pytest.CaptureFixture[str],
    env: Path,
    server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("NEWSBOT_FEEDS_ALLOW_PRIVATE", "1")
    text = (
        "The town council approved a second bridge over the river on Monday evening after a"
        " debate that ran past midnight.",
        "The crossing will link the station with the new housing on the east bank, and"
        " councillors voted 21 to 9 for the plan after two delays over its cost.",
    )
    link = server.route("/bridge", page("Council approves bridge", *text))
    item = {"title": "Council approves bridge", "link": link, "guid": "b1"}
    good = server.route("/g.xml", rss("Gazette", item), content_type="text/xml")
    broken = server.route("/broken.xml", behaviour="status", status=500)
    listing = tmp_path / "feeds.opml"
    listing.write_bytes(
        opml.write([opml.Outline("Gazette", good, ("Local",)), opml.Outline("", broken)])
    )

    assert main(["feeds", "import", str(listing)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{listing}: 1 added, 0 already there, 1 failed",
        "  added: Gazette (1 new article)",
        "  failed: 127.0.0.1: HTTP 500 Internal Server Error (kept: tried again at the next polls)",
    ]
    assert main(["feeds", "import", str(listing)]) == 0
    assert "0 added, 2 already there, 0 failed" in capsys.readouterr().out
    assert main(["search", "bridge"]) == 0
    assert "Council approves bridge" in capsys.readouterr().out

    exported = tmp_path / "out.opml"
    assert main(["feeds", "export", str(exported)]) == 0
    assert capsys.readouterr().err == f"2 feeds written to {exported}\n"
    feeds = opml.read(exported.read_bytes()).feeds
    assert [(f.title, f.url, f.categories) for f in feeds] == [
        ("127.0.0.1", broken, ()),
        ("Gazette", good, ("Local",)),
    ]
    assert main(["feeds", "export", "-"]) == 0
    assert opml.read(capsys.readouterr().out.encode()).feeds == feeds


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("missing.opml", "missing.opml: No such file or directory"),
        (str(SAMPLE_PAGE), "not an OPML file: it is not XML"),
    ],
)
def test_feeds_import_of_an_unusable_file_exits_2(
    capsys: pytest.CaptureFixture[str], env: Path, name: str, error: str
) -> None:
    assert main(["feeds", "import", name]) == 2
    assert error in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["feeds", "send", "x.opml"], "invalid choice: 'send'"),
        (["feeds", "import"], "the following arguments are required: file"),
    ],
)
def test_feeds_with_bad_arguments_exits_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert error in capsys.readouterr().err
