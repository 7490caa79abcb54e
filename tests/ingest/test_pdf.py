"""PDF reading on PDFs generated here with fpdf2: running headers and footers, two columns,
tables and a page that is only an image of text (OCR'd with the real Tesseract)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fpdf import FPDF

from qa.chunking import chunk_document
from qa.errors import CorpusError
from qa.ingest.corpus import read_document
from qa.models import Document, Passage
from qa.service import QAService

PROSE = [
    "The agency funds grid upgrades in rural districts. Each district files a plan every spring.",
    "Hydrogen buses replace diesel fleets in three cities. Refuelling stations open next year.",
    "Heat pumps receive a rebate of one third of their price. Installers must be certified.",
    "Offshore wind auctions run twice a year. Winning bids are published within a month.",
]
TABLE = [
    ["Item", "FY2022", "FY2023"],
    ["Capital expenditures", "1,577", "1,749"],
    ["Research grants", "312", "398"],
]


class _Report(FPDF):
    """A report whose pages carry a running header and a "Page n of N" footer."""

    def header(self) -> None:
        self.set_font("helvetica", size=9)
        self.cell(0, 8, "Ministry of Energy - Annual Report 2023 - CONFIDENTIAL", align="C")
        self.ln(12)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("helvetica", size=9)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def _report(pages: list[str]) -> _Report:
    pdf = _Report()
    pdf.alias_nb_pages()
    for text in pages:
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 8, text)
    return pdf


def _read(pdf: FPDF, folder: Path, name: str = "report.pdf", *, ocr: bool = True) -> Document:
    path = folder / name
    pdf.output(str(path))
    return read_document(path, folder, ocr=ocr)


def _assert_offsets(document: Document, passages: list[Passage]) -> None:
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text


def test_pdf_running_header_and_footer_are_dropped(tmp_path: Path, fake_embedder: object) -> None:
    document = _read(_report(PROSE), tmp_path)
    assert "Annual Report 2023" not in document.text and "CONFIDENTIAL" not in document.text
    assert "Page" not in document.text and " of 4" not in document.text
    for text in PROSE:
        assert text in document.text
    assert document.page_labels == ["1", "2", "3", "4"]
    passages = chunk_document(document, fake_embedder, size=64)  # type: ignore[arg-type]
    _assert_offsets(document, passages)
    assert [p.page_label for p in passages] == [str(p.page) for p in passages]


def test_pdf_printed_page_labels_differ_from_pdf_pages(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    for label, text in zip(["i", "ii", "iii", "1", "2"], PROSE + PROSE[:1], strict=True):
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 8, text)
        pdf.set_y(-15)
        pdf.cell(0, 10, label, align="C")
    document = _read(pdf, tmp_path)
    assert document.page_labels == ["i", "ii", "iii", "1", "2"]
    assert document.label_of(4) == "1" and document.label_of(9) is None


def test_pdf_two_columns_read_in_order(tmp_path: Path) -> None:
    left = " ".join(PROSE[:2])
    right = " ".join(PROSE[2:])
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.set_xy(10, 20)
    pdf.multi_cell(90, 6, left)
    pdf.set_xy(110, 20)
    pdf.multi_cell(90, 6, right)
    document = _read(pdf, tmp_path)
    assert left in document.text and right in document.text
    assert document.text.index(left) < document.text.index(right)


def _raw_pdf(stream: bytes) -> bytes:
    """A one-page PDF (Helvetica as F1) whose content stream is `stream`, written by hand so
    each text object sits exactly where a typesetter put it."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_pdf_kerned_letters_in_separate_text_objects_are_read_once(tmp_path: Path) -> None:
    # Filings set a kerned pair as two text objects that overlap by a point ("T" + "otal"):
    # pdfium's rectangles then overlap, and reading each one's text repeated the letters
    # ("ToTotal", "fofor"). Each character is read once, and the words stay whole.
    width_t, width_f = 611 * 11 / 1000, 278 * 11 / 1000  # Helvetica advances at 11 pt
    stream = (
        b"BT /F1 11 Tf 72 700 Td (T) Tj ET\n"
        b"BT /F1 11 Tf %.2f 700 Td (otal current assets) Tj ET\n"
        b"BT /F1 11 Tf 72 686 Td (f) Tj ET\n"
        b"BT /F1 11 Tf %.2f 686 Td (or the year ended) Tj ET\n"
        % (72 + width_t - 0.9, 72 + width_f - 0.4)
    )
    path = tmp_path / "kerned.pdf"
    path.write_bytes(_raw_pdf(stream))
    document = read_document(path, tmp_path)
    assert document.text.split() == ["Total", "current", "assets", "for", "the", "year", "ended"]


def test_pdf_table_row_is_one_line_with_its_caption(tmp_path: Path, fake_embedder: object) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, PROSE[0])
    pdf.ln(6)
    pdf.cell(0, 8, "Table 3: Spending by programme (in USD millions)")
    pdf.ln(10)
    with pdf.table(first_row_as_headings=False) as table:
        for cells in TABLE:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    document = _read(pdf, tmp_path)
    lines = document.text.split("\n")
    assert "Capital expenditures | 1,577 | 1,749" in lines
    assert "Item | FY2022 | FY2023" in lines
    passages = chunk_document(document, fake_embedder, size=64)  # type: ignore[arg-type]
    _assert_offsets(document, passages)
    (row,) = [p for p in passages if "Capital expenditures" in p.text]
    assert "Table 3: Spending by programme" in row.text


def _scanned_page(path: Path, lines: list[str], *, text_page: bool = True) -> None:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1700, 2200), color=255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=44)
    for i, line in enumerate(lines):
        draw.text((120, 160 + i * 80), line, fill=0, font=font)
    picture = path.with_suffix(".png")
    image.save(picture)
    pdf = FPDF()
    if text_page:
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 8, PROSE[0])
    pdf.add_page()
    pdf.image(str(picture), x=0, y=0, w=210)
    pdf.output(str(path))
    picture.unlink()


SCANNED = [
    "The geothermal permit office opened in Reykjavik.",
    "It approves drilling licences within sixty days.",
]
needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="Tesseract is not installed (make ocr)"
)


@needs_tesseract
def test_pdf_scanned_page_is_ocrd_and_searchable(
    make_corpus: object, embedder: object, tmp_path: Path
) -> None:
    settings, corpus = make_corpus({})  # type: ignore[operator]
    _scanned_page(corpus / "scan.pdf", SCANNED)
    service = QAService(settings, embedder=embedder)  # type: ignore[arg-type]
    report = service.ingest(export_query_encoder=False)
    assert report.skipped_pages == []
    hits = service.search("Which office approves drilling licences for geothermal?", k=3).hits
    assert hits[0].page == 2 and hits[0].ocr is True
    assert "geothermal permit office" in hits[0].text.lower()
    document = service.document(hits[0].document_id)
    assert document.text[hits[0].start : hits[0].end] == hits[0].text
    answer = service.ask("Which office approves drilling licences for geothermal projects?")
    assert answer.citations and all(c.ocr for c in answer.citations if c.page == 2)


@needs_tesseract
@pytest.mark.parametrize("text_page", [True, False], ids=["part-scanned", "all-scanned"])
def test_pdf_upload_ocrs_each_scanned_page_once(
    make_corpus: object,
    embedder: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text_page: bool,
) -> None:
    import qa.ingest.pdf

    calls: list[object] = []
    real = qa.ingest.pdf.ocr_image
    monkeypatch.setattr(
        qa.ingest.pdf, "ocr_image", lambda image: calls.append(image) or real(image)
    )
    settings, _ = make_corpus({"notes.txt": "The grid agency meets monthly."})  # type: ignore[operator]
    service = QAService(settings, embedder=embedder)  # type: ignore[arg-type]
    service.ingest(export_query_encoder=False)
    upload = tmp_path / "upload.pdf"
    _scanned_page(upload, SCANNED, text_page=text_page)
    report = service.add_document("permits.pdf", upload.read_bytes())
    assert len(calls) == 1  # the upload check reads no page image; indexing reads it once
    assert report.documents == 2 and report.skipped_pages == []
    hit = service.search("Which office approves drilling licences for geothermal?", k=1).hits[0]
    assert hit.source == "permits.pdf" and hit.ocr is True


@needs_tesseract
def test_pdf_upload_that_ocr_cannot_read_is_refused_and_changes_nothing(
    make_corpus: object, embedder: object, tmp_path: Path
) -> None:
    settings, corpus = make_corpus({"notes.txt": "The grid agency meets monthly."})  # type: ignore[operator]
    service = QAService(settings, embedder=embedder)  # type: ignore[arg-type]
    service.ingest(export_query_encoder=False)
    before = service.status()
    blank = tmp_path / "blank.pdf"
    _scanned_page(blank, [], text_page=False)  # a page image with nothing on it
    with pytest.raises(CorpusError, match=r"blank\.pdf: no extractable text") as raised:
        service.add_document("blank.pdf", blank.read_bytes())
    assert "Upload a readable" in (raised.value.remedy or "")
    assert sorted(p.name for p in corpus.iterdir()) == ["notes.txt"]
    after = service.status()
    assert [d.source for d in service.documents()] == ["notes.txt"]
    assert after.skipped == before.skipped == [] and not after.is_stale


def test_pdf_scanned_upload_without_ocr_is_refused(
    make_corpus: object, embedder: object, tmp_path: Path
) -> None:
    settings, corpus = make_corpus({}, ocr=False)  # type: ignore[operator]
    scan = tmp_path / "scan.pdf"
    _scanned_page(scan, SCANNED, text_page=False)
    service = QAService(settings, embedder=embedder)  # type: ignore[arg-type]
    with pytest.raises(CorpusError, match="no text layer on any page") as raised:
        service.add_document("scan.pdf", scan.read_bytes())
    assert "tesseract" in str(raised.value).lower()
    assert list(corpus.iterdir()) == []


def test_pdf_scanned_page_without_ocr_is_reported(make_corpus: object, embedder: object) -> None:
    settings, corpus = make_corpus({}, ocr=False)  # type: ignore[operator]
    _scanned_page(corpus / "scan.pdf", SCANNED)
    report = QAService(settings, embedder=embedder).ingest(export_query_encoder=False)  # type: ignore[arg-type]
    (skipped,) = report.skipped_pages
    assert (skipped.source, skipped.page) == ("scan.pdf", 2)
    assert "no text layer" in skipped.reason
    assert "apt-get install tesseract-ocr" in skipped.remedy
    assert report.documents == 1 and not report.skipped


def test_pdf_search_shows_another_page_before_a_second_passage_of_one(
    make_corpus: object, embedder: object
) -> None:
    """Page 1 holds several passages on hydrogen buses, page 2 one on refuelling: the top two
    hits are one of each page, where the plain ranking gives two of page 1."""
    cities = ["Lyon", "Turin", "Graz", "Porto", "Ghent", "Leeds", "Malmo", "Bergen", "Cork"]
    buses = " ".join(
        f"Hydrogen buses in {city} replace {n + 10} diesel buses on the city's busiest routes, "
        f"and the operator reports on their fuel use every quarter."
        for n, city in enumerate(cities * 2)
    )
    settings, corpus = make_corpus({})  # type: ignore[operator]
    _report([buses, "Hydrogen refuelling stations for buses open in two ports."]).output(
        str(corpus / "fleet.pdf")
    )
    service = QAService(settings, embedder=embedder)  # type: ignore[arg-type]
    service.ingest(export_query_encoder=False)
    query = "Where do hydrogen buses replace diesel buses?"
    ranked = [c.passage.page for c in service.reader().retrieve(query, k=2)]
    assert ranked == [1, 1]  # what spreading changes
    hits = service.search(query, k=2).hits
    assert [h.page for h in hits] == [1, 2] and [h.rank for h in hits] == [1, 2]
    every = {c.passage.id for c in service.reader().retrieve(query, k=10)}
    assert len(every) > 3  # repeats fill in after every page, none lost
    assert {h.passage_id for h in service.search(query, k=10).hits} == every
