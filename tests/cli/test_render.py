"""Terminal output at 80 columns and when piped: skips, plurals, wrapping, ids, sources."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from qa.cli.render import render_ingest, render_status
from qa.models import IndexStatus, IngestReport, SkippedFile

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
