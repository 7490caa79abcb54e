"""PDF extraction and page retrieval on real filings (FinanceBench dev: 12 PDFs, 21 questions).

(a) Extractors side by side: pypdf, pypdfium2 and pdfplumber (plain text) and qa's own reader,
in pages/s, and how many table rows of the evidence pages come out whole (a row label and its
first figure on one line). (b) `qa search` over the 12 ingested filings: how often an evidence
page is in the top 5, beside a plain bm25s index of 180-word page chunks (pypdf text). Both
are scored twice, as FinanceBench reports them: over all filings at once (its "shared
store") and within the question's own filing (its "single store": `qa search --document`).
(c) Whether `qa ask`'s answer cites an evidence page.

    python benchmarks/bench_pdf.py                      # reads ../shared/eval/financebench-dev
    python benchmarks/bench_pdf.py --data DIR           # another copy of the folder
    python benchmarks/bench_pdf.py --tiny               # extractors on 2 filings, no retrieval
    python benchmarks/bench_pdf.py --retrieval-only     # (b) only

Skips (exit 0) when the folder is absent.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import _common as c

TARGET_HITS = 16
CHUNK_WORDS = 180
_NUMBER = re.compile(r"^\(?\$?\s*\(?\d[\d,]*(\.\d+)?\)?%?$")


def _pypdf(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def _pdfium(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def _pdfplumber(data: bytes, limit: int = 10) -> list[str]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages[:limit]]


def _qa(data: bytes) -> list[str]:
    import qa.ingest.pdf as reader

    if hasattr(reader, "read_pdf"):
        blocks = reader.read_pdf(data, "bench.pdf").blocks
    else:  # qa before 0.x: pypdf, one block per blank-line group
        blocks = reader.read_pdf_blocks(data, "bench.pdf")[0]
    pages: dict[int, list[str]] = {}
    for block in blocks:
        pages.setdefault(block.page or 1, []).append(block.text)
    count = max(pages) if pages else 0
    return ["\n".join(pages.get(n, [])) for n in range(1, count + 1)]


EXTRACTORS: dict[str, Callable[[bytes], list[str]]] = {
    "pypdf": _pypdf,
    "pypdfium2": _pdfium,
    "pdfplumber (first 10 pages)": _pdfplumber,
    "qa reader": _qa,
}


def _row_pairs(evidence: str) -> list[tuple[str, str]]:
    """(row label, first figure) pairs read off FinanceBench's evidence text."""
    lines = [line.strip() for line in evidence.splitlines()]
    pairs: list[tuple[str, str]] = []
    for i, line in enumerate(lines):
        if not re.search(r"[A-Za-z]{3}", line) or _NUMBER.match(line):
            continue
        for following in lines[i + 1 : i + 4]:
            figure = following.replace("$", "").strip()
            if not figure:
                continue
            if _NUMBER.match(figure) and re.search(r"\d{2}", figure):
                pairs.append((line, figure.strip("()")))
            break
    return pairs


def _row_whole(page_text: str, label: str, figure: str, following: str | None) -> bool:
    """The label, then (past separators only) its figure on one line, without the next row."""
    row = re.compile(re.escape(label) + r"[\s$|:.()—-]*" + re.escape(figure))
    for line in page_text.splitlines():
        line = re.sub(r"\s+", " ", line)
        if row.search(line):
            return not following or following in label or following not in line
    return False


Rows = dict[str, list[tuple[int, str, str, str | None]]]


def _extractors(pdfs: list[Path], rows: Rows) -> None:
    print(f"\n{'extractor':<30}{'pages/s':>10}{'rows whole':>14}")
    for name, extract in EXTRACTORS.items():
        pages, seconds, whole, total = 0, 0.0, 0, 0
        for pdf in pdfs:
            data = pdf.read_bytes()
            start = time.perf_counter()
            texts = extract(data)
            seconds += time.perf_counter() - start
            pages += len(texts)
            for page, label, figure, following in rows.get(pdf.stem, []):
                if page <= len(texts):
                    total += 1
                    whole += _row_whole(texts[page - 1], label, figure, following)
        rate = pages / seconds if seconds else float("nan")
        shown = f"{whole}/{total}" if total else "-"
        print(f"{name:<30}{rate:>10.1f}{shown:>14}")


Scored = tuple[list[bool], list[bool]]  # per question: over all filings, within its own
QaScored = tuple[list[bool], list[bool], list[bool]]  # ... and whether `ask` cites the page


def _bm25s_index(pdfs: list[Path]) -> tuple[object, list[tuple[str, int]]]:
    import bm25s

    chunks: list[str] = []
    places: list[tuple[str, int]] = []
    for pdf in pdfs:
        for number, text in enumerate(_pypdf(pdf.read_bytes()), start=1):
            words = text.split()
            for i in range(0, max(len(words), 1), CHUNK_WORDS):
                chunks.append(" ".join(words[i : i + CHUNK_WORDS]))
                places.append((pdf.stem, number))
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(chunks, stopwords="en", show_progress=False), show_progress=False
    )
    return retriever, places


def _bm25s_hits(pdfs: list[Path], questions: list[dict[str, object]], k: int) -> Scored:
    import bm25s

    shared = _bm25s_index(pdfs)
    single = {pdf.stem: _bm25s_index([pdf]) for pdf in pdfs}
    scored: Scored = ([], [])
    for row in questions:
        tokens = bm25s.tokenize([str(row["question"])], stopwords="en", show_progress=False)
        for found, (retriever, places) in zip(
            scored, (shared, single[str(row["doc_name"])]), strict=True
        ):
            ids, _ = retriever.retrieve(  # type: ignore[attr-defined]
                tokens, k=min(k, len(places)), show_progress=False
            )
            top = {places[int(i)] for i in ids[0]}
            found.append(any((row["doc_name"], page) in top for page in _pages(row)))
    return scored


def _pages(row: dict[str, object]) -> set[int]:
    evidence = row["evidence"]
    assert isinstance(evidence, list)
    return {int(e["page"]) for e in evidence}


def _qa_hits(
    pdfs: list[Path], questions: list[dict[str, object]], k: int, base: Path
) -> tuple[QaScored, float, int]:
    from qa.config import load_settings
    from qa.service import QAService

    corpus = base / "corpus"
    corpus.mkdir()
    for pdf in pdfs:
        shutil.copy(pdf, corpus / pdf.name)
    service = QAService(load_settings(corpus_dir=corpus, index_dir=base / "index"))
    service.embedder  # noqa: B018 (load the model outside the timed ingest)
    start = time.perf_counter()
    report = service.ingest(export_query_encoder=False)
    seconds = time.perf_counter() - start
    ids = {Path(d.source).stem: d.id for d in service.documents()}
    scored: QaScored = ([], [], [])
    for row in questions:
        scopes = ((scored[0], None), (scored[1], [ids[str(row["doc_name"])]]))
        for found, documents in scopes:
            hits = service.search(str(row["question"]), k=k, documents=documents).hits
            top = {(Path(h.source).stem, h.page) for h in hits}
            found.append(any((row["doc_name"], page) in top for page in _pages(row)))
        cited = {(Path(c.source).stem, c.page) for c in service.ask(str(row["question"])).citations}
        scored[2].append(any((row["doc_name"], page) in cited for page in _pages(row)))
    return scored, seconds, report.passages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=c.SHARED_EVAL / "financebench-dev")
    parser.add_argument("--tiny", action="store_true", help="extractors on 2 filings only")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--no-retrieval", action="store_true", help="extractors only")
    parser.add_argument("--retrieval-only", action="store_true", help="skip the extractors")
    args = parser.parse_args()
    if not (args.data / "questions.jsonl").is_file():
        print(f"skipped: {args.data} is absent (FinanceBench dev sample); nothing to measure.")
        return
    questions = [
        json.loads(line) for line in (args.data / "questions.jsonl").read_text().splitlines()
    ]
    pdfs = sorted((args.data / "pdfs").glob("*.pdf"))
    if args.tiny:
        pdfs = [p for p in pdfs if "EARNINGS" in p.name][:2]
    rows: Rows = {}
    for row in questions:
        for evidence in row["evidence"]:
            pairs = _row_pairs(evidence["text"])
            for i, (label, figure) in enumerate(pairs):
                following = pairs[i + 1][0] if i + 1 < len(pairs) else None
                rows.setdefault(row["doc_name"], []).append(
                    (evidence["page"], label, figure, following)
                )
    page_count = sum(len(_pdfium(p.read_bytes())) for p in pdfs)
    c.header("PDF extraction and page retrieval", f"{len(pdfs)} filings, {page_count} pages")
    if not args.retrieval_only:
        _extractors(pdfs, rows)
    if args.tiny or args.no_retrieval:
        return
    with tempfile.TemporaryDirectory() as tmp:
        qa_found, seconds, passages = _qa_hits(pdfs, questions, args.k, Path(tmp))
    bm25_found = _bm25s_hits(pdfs, questions, args.k)
    print(f"\nqa ingest: {page_count} pages, {passages} passages in {seconds:.1f} s", end="")
    print(f" = {page_count / seconds:.1f} pages/s (reading, chunking and embedding)")
    head = f"{'qa all':>8}{'bm25s all':>11}{'qa own':>8}{'bm25s own':>11}{'qa ask':>8}"
    print(f"\n{'question':<56}{head}")
    columns = (qa_found[0], bm25_found[0], qa_found[1], bm25_found[1], qa_found[2])
    widths = (8, 11, 8, 11, 8)
    for number, row in enumerate(questions):
        marks = "".join(
            f"{'yes' if column[number] else '-':>{width}}"
            for column, width in zip(columns, widths, strict=True)
        )
        print(f"{str(row['question'])[:54]:<56}{marks}")
    n = len(questions)
    for scope, qa_hits, peer_hits in (
        ("over all filings", sum(qa_found[0]), sum(bm25_found[0])),
        ("within the question's filing", sum(qa_found[1]), sum(bm25_found[1])),
    ):
        print(
            f"\nevidence page in top {args.k} {scope}: qa {qa_hits}/{n}, "
            f"bm25s 180-word page chunks {peer_hits}/{n} "
            f"(target qa >= {TARGET_HITS}: {c.verdict_at_least(qa_hits, TARGET_HITS)})"
        )
    print(f"\nqa ask cites an evidence page: {sum(qa_found[2])}/{n}")


if __name__ == "__main__":
    main()
