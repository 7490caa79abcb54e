"""End to end through the CLI with the real model: ingest, ask, search, status, chat, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SEED

from qa.cli import main
from qa.config import Settings

CITATION_FIELDS = {
    "n",
    "passage_id",
    "document",
    "source",
    "page",
    "start",
    "end",
    "quote",
    "text",
    "score",
}
HIT_FIELDS = {"rank", "passage_id", "document", "source", "page", "start", "end", "text", "score"}


@pytest.fixture
def runner(seed_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("QA_INDEX_DIR", str(seed_settings.index_dir))
    monkeypatch.setenv("QA_CORPUS_DIR", str(seed_settings.corpus_dir))
    return CliRunner()


def test_cli_ask_json_contract(runner: CliRunner, seed_settings: Settings) -> None:
    result = runner.invoke(main, ["ask", "--json", "What forum did Korea set up for hydrogen?"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["question"] == "What forum did Korea set up for hydrogen?"
    assert answer["answered"] is True
    assert "hydrogen economy standards forum" in answer["answer"]
    assert answer["citations"] and set(answer["citations"][0]) >= CITATION_FIELDS
    text = (seed_settings.corpus_dir / SEED.name).read_text()
    document_text = _document_text(runner)
    for citation in answer["citations"]:
        assert f"[{citation['n']}]" in answer["answer"]
        assert document_text[citation["start"] : citation["end"]] == citation["text"]
        assert citation["quote"] in citation["text"]
        assert citation["source"] == SEED.name and citation["page"] is None
    # every answer sentence is verbatim text of a cited passage
    for sentence in answer["answer"].split(" [")[:-1]:
        sentence = sentence.split("] ", 1)[-1]
        assert any(sentence in c["text"] for c in answer["citations"])
    assert text  # the corpus copy is intact


def _document_text(runner: CliRunner) -> str:
    from qa.config import load_settings
    from qa.service import QAService

    service = QAService(load_settings())
    return service.document(service.documents()[0].id).text


def test_cli_ask_abstains_on_unanswerable(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["ask", "--json", "Which company sells the most solid-state batteries?"]
    )
    answer = json.loads(result.stdout)
    assert answer["answered"] is False and answer["citations"] == []
    assert answer["suggestions"] and set(answer["suggestions"][0]) >= HIT_FIELDS
    assert "do not cover" in answer["answer"]


def test_cli_ask_human_output_lists_sources(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["ask", "What does the Indian government promote for its EV industry?"]
    )
    assert result.exit_code == 0
    assert "localization of the EV supply chain" in result.stdout
    assert "Sources" in result.stdout and "[1]" in result.stdout


def test_cli_search_json_contract(runner: CliRunner) -> None:
    result = runner.invoke(main, ["search", "--json", "--k", "3", "solid-state battery"])
    data = json.loads(result.stdout)
    assert data["query"] == "solid-state battery"
    assert [h["rank"] for h in data["hits"]] == [1, 2, 3]
    assert set(data["hits"][0]) >= HIT_FIELDS and "solid-state" in data["hits"][0]["text"]


def test_cli_search_document_filter(runner: CliRunner) -> None:
    result = runner.invoke(main, ["search", "--json", "--document", "no-such-doc", "battery"])
    assert result.exit_code == 1 and "No document 'no-such-doc'" in result.stderr


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_cli_rejects_empty_question(runner: CliRunner, question: str) -> None:
    result = runner.invoke(main, ["ask", question])
    assert result.exit_code == 1
    assert "question is empty" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("k", ["0", "51"])
def test_cli_rejects_bad_k(runner: CliRunner, k: str) -> None:
    result = runner.invoke(main, ["ask", "--k", k, "battery?"])
    assert result.exit_code == 1 and "k must be between 1 and 50" in result.stderr


def test_cli_without_index_says_run_ingest(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--index", str(tmp_path / "none"), "ask", "Anything?"])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "qa ingest" in result.stderr


def test_cli_bad_setting_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CHUNK_OVERLAP", "500")
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 1 and "chunk_overlap must be smaller" in result.stderr


def test_cli_status_reports_index(runner: CliRunner) -> None:
    result = runner.invoke(main, ["status", "--json"])
    status = json.loads(result.stdout)
    assert status["built"] and not status["is_stale"] and status["passage_count"] > 3
    assert status["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert status["documents"][0]["metadata"]["author"] == "Wu, Yu-Yin"


def test_cli_ingest_then_ask_new_document(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "charging.md").write_text(
        "# Charging Corridors\n\nThe Nordic charging corridor plan installs megawatt chargers every 60 km.\n"
    )
    _write_pdf(
        corpus / "reports" / "grid.pdf",
        [
            "Grid operators publish annual capacity reports.",
            "Vehicle-to-grid pilots pay owners 30 cents per kWh returned.",
        ],
    )
    args = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    runner = CliRunner()
    first = runner.invoke(main, [*args, "ingest", "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert sorted(report["added"]) == ["charging.md", SEED.name, "reports/grid.pdf"]
    second = json.loads(runner.invoke(main, [*args, "ingest", "--json"]).stdout)
    assert second["embedded_passages"] == 0
    answer = json.loads(
        runner.invoke(
            main, [*args, "ask", "--json", "How often are megawatt chargers installed?"]
        ).stdout
    )
    assert answer["answered"] and "every 60 km" in answer["answer"]
    assert answer["citations"][0]["source"] == "charging.md"
    answer = json.loads(
        runner.invoke(
            main, [*args, "ask", "--json", "How much do vehicle-to-grid pilots pay owners?"]
        ).stdout
    )
    assert answer["answered"] and "30 cents per kWh" in answer["answer"]
    citation = answer["citations"][0]
    assert citation["source"] == "reports/grid.pdf" and citation["page"] == 2


def _write_pdf(path: Path, pages: list[str]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    for text in pages:
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 10, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))


def test_cli_chat_scripted_session(runner: CliRunner) -> None:
    script = "What forum did Korea set up for hydrogen?\n/sources\n\nWhat is the capital of France?\n/bogus\n/quit\n"
    result = runner.invoke(main, [], input=script)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "hydrogen economy standards forum" in out
    assert "full passage" not in out  # /sources shows each passage once, quote inside
    assert "do not cover" in out  # off-topic question abstained
    assert "Unknown command /bogus" in out and out.rstrip().endswith("bye")


def test_chat_help_lists_each_command_and_sources_shows_the_quote_once(seed_service) -> None:  # type: ignore[no-untyped-def]
    import io

    from rich.console import Console

    from qa.cli.chat import run_chat

    lines = iter(["/help", "What forum did Korea set up for hydrogen?", "/sources", "/quit"])
    buffer = io.StringIO()
    out = Console(file=buffer, width=80, highlight=False, soft_wrap=True)
    run_chat(seed_service, prompt=lambda message: next(lines), out=out)
    text = buffer.getvalue()
    help_text = text.split("Commands:", 1)[1]
    for command in ("/sources", "/help", "/quit"):
        assert sum(line.strip().startswith(command) for line in help_text.splitlines()) == 1
    answer = seed_service.ask("What forum did Korea set up for hydrogen?")
    sources = text.split("Sources", 1)[1].rsplit("bye", 1)[0]
    after_answer = sources.split(f"[{answer.citations[-1].n}]", 1)[1]
    quote = answer.citations[0].quote
    # Once in the answer's source list, once inside its passage after /sources: not again.
    assert text.count(quote) == 2 + answer.answer.count(quote), after_answer


def test_cli_chat_ends_cleanly_on_eof(runner: CliRunner) -> None:
    result = runner.invoke(main, ["chat"], input="")
    assert result.exit_code == 0 and "bye" in result.stdout


def test_chat_with_prompt_toolkit_line_editing(seed_service) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from rich.console import Console

    from qa.cli.chat import run_chat

    console = Console(record=True, width=200)
    with create_pipe_input() as pipe:
        session: PromptSession[str] = PromptSession(input=pipe, output=DummyOutput())
        # Type a typo, erase it with backspace, then submit; then Ctrl-D.
        pipe.send_text("What forum did Korea set up for hydrogenX\x7f?\r")
        pipe.send_text("\x04")
        run_chat(seed_service, prompt=lambda message: session.prompt(message), out=console)
    text = console.export_text()
    assert "hydrogen economy standards forum" in text and "bye" in text


def test_cli_errors_give_remedies_in_command_line_terms(runner: CliRunner) -> None:
    result = runner.invoke(main, ["search", "--document", "no-such-document", "hydrogen"])
    assert result.exit_code == 1
    assert "No document 'no-such-document'. List documents with `qa status`." in result.stderr
