"""Terminal output at 80 columns and when piped: skips, plurals, wrapping, ids, sources."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from qa.cli.render import render_ingest, render_status
from qa.models import DocumentInfo, IndexStatus, IngestReport, SkippedFile

SKIPS = [
    SkippedFile(source="blob.bin", reason="unsupported file type '.bin'."),
    SkippedFile(source="link.txt", reason="it links outside the corpus."),
]


def _console(width: int = 80) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=width, highlight=False, soft_wrap=True), buffer


def _status(**fields: object) -> IndexStatus:
    base: dict[str, object] = {
        "index_dir": "index",
        "corpus_dir": "corpus",
        "built": True,
        "model": "m",
        "dimension": 8,
        "built_at": datetime.now(UTC),
        "build_id": "b1",
    }
    return IndexStatus(**{**base, **fields})  # type: ignore[arg-type]


def test_render_skips_one_line_per_file_same_in_ingest_and_status() -> None:
    out, ingest_text = _console()
    render_ingest(IngestReport(documents=1, passages=2, skipped=SKIPS), out)
    out2, status_text = _console()
    render_status(_status(skipped=SKIPS), out2)
    expected = [
        "Skipped blob.bin: unsupported file type '.bin'.",
        "Skipped link.txt: it links outside the corpus.",
    ]
    for text in (ingest_text.getvalue(), status_text.getvalue()):
        lines = [line for line in text.splitlines() if line.startswith("Skipped")]
        assert lines == expected
    assert "Stale" not in status_text.getvalue()


SEED_ID = "key-fields-of-international-cooperation-in-the-new-vehicle-industry-txt"


def _document(id: str = SEED_ID, passages: int = 7) -> DocumentInfo:
    return DocumentInfo(
        id=id,
        title="Key Fields of International Cooperation in the New Vehicle Industry",
        source=id.removesuffix("-txt") + ".txt",
        format="txt",
        pages=None,
        passages=passages,
        content_hash="0" * 64,
    )


def test_render_ingest_summary_uses_plurals_and_keeps_phrases_whole_at_80_columns() -> None:
    out, buffer = _console()
    out.soft_wrap = False  # a terminal: rich wraps at word boundaries
    report = IngestReport(
        documents=1, passages=1, added=["a.txt"], embedded_passages=1, unchanged=["b.txt"] * 1234
    )
    render_ingest(report, out)
    text = buffer.getvalue()
    assert "Indexed 1 document (1 passage)" in text and "1 documents" not in text
    assert "1 passage embedded" in text and "1234 unchanged" in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_render_status_never_cuts_a_document_id() -> None:
    for width in (80, 60, 200):
        out, buffer = _console(width)
        render_status(_status(documents=[_document(), _document("short-txt", 1)]), out)
        text = buffer.getvalue()
        assert SEED_ID in text and "…" not in text.split("Documents", 1)[-1].split("short")[0]
        assert "2 documents, 0 passages" in text


def test_render_suggestions_keep_one_line_each() -> None:
    from qa.cli.render import render_answer
    from qa.models import Answer, Hit

    hit = Hit(
        rank=1, passage_id="p", document="d", title="Japan\nBatteries", source="j.txt",
        page=None, start=0, end=5, text="Japan\n\nFunds solid-state\nresearch.", score=0.03,
    )  # fmt: skip
    out, buffer = _console()
    render_answer(Answer(question="q", answered=False, answer="No.", suggestions=[hit]), out)
    bullets = buffer.getvalue().split("Closest passages:", 1)[1].strip().splitlines()
    assert bullets == ["• Japan Batteries (j.txt): Japan Funds solid-state research."]


def test_cli_help_shows_every_command_description_whole_at_80_columns() -> None:
    from click.testing import CliRunner

    from qa.cli import main

    output = CliRunner().invoke(main, ["--help"], terminal_width=80).output
    assert "..." not in output.split("Commands:", 1)[1]
    for name, command in main.commands.items():
        first = (command.help or "").split("\n")[0].strip()
        assert f"{name:<6}  {first}" in output


def test_render_ingest_names_each_guessed_encoding() -> None:
    out, buffer = _console()
    render_ingest(IngestReport(documents=1, passages=1, encodings={"cafe.txt": "cp1252"}), out)
    assert "Guessed cafe.txt: not UTF-8; read as cp1252" in buffer.getvalue()


def test_render_answer_shows_its_caution() -> None:
    from qa.cli.render import render_answer
    from qa.models import Answer

    caution = "The document the question names (acme.pdf) does not say; this answer quotes …"
    out, buffer = _console()
    render_answer(Answer(question="q", answered=True, answer="Rose [1].", caution=caution), out)
    assert f"Caution: {caution}" in " ".join(buffer.getvalue().split())
