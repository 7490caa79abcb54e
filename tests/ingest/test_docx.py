"""Word files written here with python-docx: headings, paragraphs and tables, in body order."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document as new_docx

from qa.chunking import chunk_document
from qa.errors import DocumentParseError
from qa.formats import FORMATS, describe_formats
from qa.ingest.corpus import read_document


def _write(path: Path) -> None:
    doc = new_docx()
    doc.add_heading("Clean Heat Strategy", level=0)
    doc.add_heading("Funding", level=1)
    doc.add_paragraph("The ministry funds heat pumps in social housing from next spring.")
    doc.add_heading("Budget lines", level=2)
    doc.add_paragraph("Table 2: Grants by year (in EUR millions)", style="Caption")
    table = doc.add_table(rows=3, cols=3)
    for r, cells in enumerate(
        [["Line", "2024", "2025"], ["Heat pump grants", "120", "180"], ["Insulation", "75", "90"]]
    ):
        for c, value in enumerate(cells):
            table.cell(r, c).text = value
    doc.add_paragraph("Grants are paid after installation is certified.")
    doc.save(str(path))


def test_docx_is_a_supported_format() -> None:
    assert FORMATS[".docx"] == "docx" and ".docx" in describe_formats()


def test_docx_headings_paragraphs_and_table_rows(tmp_path: Path, fake_embedder: object) -> None:
    _write(tmp_path / "strategy.docx")
    document = read_document(tmp_path / "strategy.docx", tmp_path)
    assert document.format == "docx" and document.title == "Clean Heat Strategy"
    kinds = [(kind, document.text[a:b].split("\n")[0]) for a, b, kind, _ in document.blocks]
    assert kinds == [
        ("title", "Clean Heat Strategy"),
        ("heading", "Funding"),
        ("paragraph", "The ministry funds heat pumps in social housing from next spring."),
        ("heading", "Budget lines"),
        ("table", "Table 2: Grants by year (in EUR millions)"),
        ("paragraph", "Grants are paid after installation is certified."),
    ]
    assert "Heat pump grants | 120 | 180" in document.text.split("\n")
    passages = chunk_document(document, fake_embedder, size=64)  # type: ignore[arg-type]
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text
    (row,) = [p for p in passages if "Heat pump grants" in p.text]
    assert "Table 2: Grants by year" in row.text and row.headings[:2] == ["Funding", "Budget lines"]


def test_docx_bold_lead_in_is_a_label(tmp_path: Path) -> None:
    doc = new_docx()
    doc.add_heading("Battery rules", level=0)
    item = doc.add_paragraph(style="List Bullet")
    item.add_run("Battery passport.").bold = True
    item.add_run(" From 2027 every battery needs one.")
    plain = doc.add_paragraph()
    plain.add_run("Only").bold = True
    plain.add_run(" cars count.")
    doc.save(str(tmp_path / "rules.docx"))
    document = read_document(tmp_path / "rules.docx", tmp_path)
    kinds = [(kind, document.text[a:b]) for a, b, kind, _ in document.blocks]
    assert kinds == [
        ("title", "Battery rules"),
        ("label", "Battery passport."),
        ("paragraph", "From 2027 every battery needs one."),
        ("paragraph", "Only cars count."),
    ]


def test_docx_corrupt_file_is_a_parse_error(tmp_path: Path) -> None:
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DocumentParseError, match=r"broken\.docx"):
        read_document(tmp_path / "broken.docx", tmp_path)
