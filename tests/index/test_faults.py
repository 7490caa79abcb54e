"""Faults: ingest killed with SIGKILL at several points, a folder of corrupt files, and
property tests of the normaliser and chunker on arbitrary text."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import FakeEmbedder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.chunking import chunk_document
from qa.config import Settings
from qa.index.store import IndexStore
from qa.ingest.corpus import assemble
from qa.ingest.markdown import blocks_from_markdown
from qa.ingest.normalize import blocks_from_plain_text
from qa.service import QAService

FAKE = FakeEmbedder.model_id
DOCS = {
    "eu.md": "# EU batteries\n\nThe EU requires battery passports for every industrial battery.",
    "japan.txt": "Japan\n\nJapan funds solid-state battery research through public programmes.",
    "korea.html": "<html><body><h1>Korea</h1><p>Korea runs a hydrogen standards forum.</p></body></html>",
}
TESTS = Path(__file__).resolve().parents[1]

# Where the ingest subprocess stops to be killed: mid-embedding, with the engines written,
# with the manifest written (not yet swapped in), and after the swap (while pruning).
KILL_POINTS = ["embedding", "write_build", "write_manifest", "prune"]

SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
from conftest import FakeEmbedder
import qa.index.store as store
from qa.config import Settings
from qa.service import QAService

POINT = {point!r}

def stop(label):
    print(label, flush=True)
    time.sleep(120)

def after(module, name):
    real = getattr(module, name)
    def wrapped(*args, **kwargs):
        result = real(*args, **kwargs)
        stop(name.strip("_"))
        return result
    setattr(module, name, wrapped)

if POINT in ("write_build", "write_manifest"):
    after(store, POINT)
if POINT == "prune":
    after(store.IndexStore, "_prune")

class Embedder(FakeEmbedder):
    def encode(self, texts, *, progress=False):
        out = super().encode(texts)
        if POINT == "embedding" and len(self.calls) == 1:
            stop("embedding")
        return out

settings = Settings(corpus_dir={corpus!r}, index_dir={index!r}, batch_size=1,
                    embedding_model={model!r})
QAService(settings, embedder=Embedder()).ingest()
print("finished", flush=True)
"""


def _ingest_killed_at(point: str, settings: Settings) -> None:
    script = SCRIPT.format(
        tests=str(TESTS),
        point=point,
        corpus=str(settings.corpus_dir),
        index=str(settings.index_dir),
        model=FAKE,
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == point
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("first_build", [True, False], ids=["first-build", "incremental"])
@pytest.mark.parametrize("point", KILL_POINTS)
def test_faults_kill_9_keeps_the_previous_index_and_a_plain_ingest_completes(
    make_corpus, point: str, first_build: bool
) -> None:
    settings, corpus = make_corpus({} if first_build else DOCS, embedding_model=FAKE)
    store = IndexStore(settings)
    if not first_build:
        QAService(settings, embedder=FakeEmbedder()).ingest()
    before = store.current_build()
    for name, text in DOCS.items():
        (corpus / f"new-{name}").write_text(text.replace("battery", "charging"))

    _ingest_killed_at(point, settings)

    if point != "prune":  # killed before the swap: the previous index is untouched
        assert store.current_build() == before
    if before is not None:
        service = QAService(settings, embedder=FakeEmbedder())
        assert service.search("hydrogen forum", k=1).hits  # the index still answers
    report = QAService(settings, embedder=FakeEmbedder()).ingest()
    assert report.documents == len(DOCS) * (1 if first_build else 2)
    status = QAService(settings).status()
    assert status.built and not status.is_stale, status.stale_reasons
    leftovers = [p.name for p in (settings.index_dir / "builds").iterdir()]
    assert not [name for name in leftovers if name.endswith(".partial")]


def _pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def _corrupt_files() -> dict[str, str | bytes]:
    good_pdf = _pdf("Truncation\n\nThis PDF is cut in half.")
    flipped = bytearray(_pdf("Flipped bytes\n\nSome bytes of this PDF are inverted."))
    for i in range(200, len(flipped), 97):
        flipped[i] ^= 0xFF
    return {
        "truncated.pdf": good_pdf[: len(good_pdf) // 2],
        "flipped.pdf": bytes(flipped),
        "long-line.html": "<html><body><p>" + "word " * 400_000 + "</p></body></html>",
        "deep.html": "<div>" * 20_000 + "Deep text." + "</div>" * 20_000,
        "nul.txt": b"Text with\x00NUL bytes\x00inside it.\n" * 20,
        "mixed.txt": "Café policy\n\n".encode() + "crème brûlée".encode("cp1252"),
        "empty.txt": b"",
        "blank.md": "   \n\n\t\n",
    }


def test_faults_corrupt_files_are_skipped_with_reasons_and_the_rest_indexed(
    make_corpus,
) -> None:
    settings, _ = make_corpus({**DOCS, **_corrupt_files()}, embedding_model=FAKE)
    report = QAService(settings, embedder=FakeEmbedder()).ingest()
    indexed = set(report.added)
    skipped = {s.source: s.reason for s in report.skipped}
    assert set(DOCS) <= indexed
    # Every file is either indexed or skipped with a reason; none is lost silently.
    assert indexed | set(skipped) == set(DOCS) | set(_corrupt_files())
    assert not indexed & set(skipped)
    assert {"truncated.pdf", "empty.txt", "blank.md"} <= set(skipped)
    assert all(reason.strip() for reason in skipped.values())
    status = QAService(settings).status()
    assert not status.is_stale and [s.source for s in status.skipped] == sorted(skipped)


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=600
) | st.lists(
    st.sampled_from(["# Head", "Para one.", "Two sentences. Here.", "", "\n", "-", "  ", "é"]),
    max_size=40,
).map("\n".join)


@PROPERTY
@given(text=TEXT, markdown=st.booleans())
def test_faults_normaliser_offsets_reproduce_the_text(text: str, markdown: bool) -> None:
    blocks = blocks_from_markdown(text) if markdown else blocks_from_plain_text(text)
    document = assemble(blocks, source="x.md", fmt="md", data=b"", metadata={}, pages=None)
    for start, end, _kind, _level in document.blocks:
        assert 0 <= start < end <= len(document.text)
        assert document.text[start:end].strip() == document.text[start:end]


@PROPERTY
@given(text=TEXT, size=st.integers(8, 60), overlap=st.integers(0, 7))
def test_faults_chunker_passages_reproduce_text_within_the_token_limit(
    text: str, size: int, overlap: int
) -> None:
    embedder = FakeEmbedder()
    blocks = blocks_from_plain_text(text)
    if not blocks:
        return
    document = assemble(blocks, source="x.txt", fmt="txt", data=b"", metadata={}, pages=None)
    passages = chunk_document(document, embedder, size=size, overlap=overlap, min_tokens=1)
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text
        assert embedder.count_tokens(passage.text) <= max(size, embedder.max_tokens)
        for a, b in passage.sentences:
            assert 0 <= a < b <= len(passage.text)
