"""The index store: incremental ingest, atomic swap, crash safety, resume and validation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import FakeEmbedder

from qa.config import Settings, load_settings
from qa.errors import CorpusError, IndexMismatchError, IndexNotFoundError
from qa.index.store import IndexStore
from qa.ingest.corpus import safe_corpus_path
from qa.service import QAService

FAKE = FakeEmbedder.model_id
DOCS = {
    "eu.md": "# EU batteries\n\nThe EU requires battery passports for every industrial battery.",
    "japan.txt": "Japan\n\nJapan funds solid-state battery research through public programmes.",
    "korea.html": "<html><body><h1>Korea</h1><p>Korea runs a hydrogen economy standards forum.</p></body></html>",
}


def _service(settings: Settings, embedder: FakeEmbedder) -> QAService:
    return QAService(settings, embedder=embedder)


def test_store_incremental_add_change_delete(make_corpus, fake_embedder: FakeEmbedder) -> None:
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    report = _service(settings, fake_embedder).ingest()
    assert sorted(report.added) == sorted(DOCS) and report.documents == 3
    first_calls = sum(fake_embedder.calls)

    again = _service(settings, fake_embedder).ingest()
    assert again.embedded_passages == 0 and sorted(again.unchanged) == sorted(DOCS)
    assert sum(fake_embedder.calls) == first_calls  # unchanged corpus embeds nothing

    (corpus / "india.txt").write_text("India\n\nIndia localises the EV supply chain.")
    (corpus / "japan.txt").write_text("Japan\n\nJapan now funds hydrogen trucks instead.")
    (corpus / "eu.md").unlink()
    report = _service(settings, fake_embedder).ingest()
    assert report.added == ["india.txt"] and report.changed == ["japan.txt"]
    assert report.removed == ["eu.md"] and report.unchanged == ["korea.html"]
    assert report.embedded_passages == 2

    service = _service(settings, fake_embedder)
    sources = {d.source for d in service.documents()}
    assert sources == {"india.txt", "japan.txt", "korea.html"}
    assert "hydrogen trucks" in service.search("hydrogen trucks", k=1).hits[0].text
    assert all("passports" not in h.text for h in service.search("battery passports", k=5).hits)


def test_store_ingest_paths_keeps_other_documents(make_corpus, fake_embedder: FakeEmbedder) -> None:
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    _service(settings, fake_embedder).ingest()
    (corpus / "new.txt").write_text("New\n\nA new rule on charging plugs.")
    report = _service(settings, fake_embedder).ingest([corpus / "new.txt"])
    assert report.added == ["new.txt"] and report.removed == [] and report.documents == 4


def test_store_rejects_paths_outside_corpus(
    make_corpus, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    settings, _ = make_corpus(DOCS, embedding_model=FAKE)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("secret")
    with pytest.raises(CorpusError, match="outside the corpus"):
        _service(settings, fake_embedder).ingest([outside])


def test_store_skips_bad_files_and_indexes_the_rest(
    make_corpus, fake_embedder: FakeEmbedder
) -> None:
    settings, _ = make_corpus(
        {
            **DOCS,
            "broken.pdf": b"%PDF-1.7 broken",
            "empty.txt": "",
            "blob.txt": b"\x00\x01" * 50,
            "marked.html": "<p>Charging rules <![0 apply.</p>",  # the HTML parser rejects it
        },
        embedding_model=FAKE,
    )
    report = _service(settings, fake_embedder).ingest()
    assert report.documents == 3
    skipped = {s.source: s.reason for s in report.skipped}
    assert set(skipped) == {"broken.pdf", "empty.txt", "blob.txt", "marked.html"}
    assert all(skipped.values())
    assert "HTML parser rejected the markup" in skipped["marked.html"]


def _skip_corpus(make_corpus, tmp_path: Path) -> tuple[Settings, Path]:
    settings, corpus = make_corpus(
        {
            **DOCS,
            "blob.bin": b"\x00\x01binary",
            "empty.txt": "",
            "run.sh": "#!/bin/sh\necho hi\n",
            "x.pdf": b"%PDF-1.7 corrupt",
        },
        embedding_model=FAKE,
    )
    (tmp_path / "secret.txt").write_text("Outside the corpus.")
    (corpus / "link.txt").symlink_to(tmp_path / "secret.txt")
    return settings, corpus


SKIPPED = ["blob.bin", "empty.txt", "link.txt", "run.sh", "x.pdf"]


def test_store_status_remembers_skipped_files_instead_of_staying_stale(
    make_corpus, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    settings, corpus = _skip_corpus(make_corpus, tmp_path)
    _service(settings, fake_embedder).ingest()
    status = QAService(settings).status()
    assert not status.is_stale, status.stale_reasons
    assert [s.source for s in status.skipped] == SKIPPED
    again = _service(settings, fake_embedder).ingest()
    assert again.embedded_passages == 0 and [s.source for s in again.skipped] == SKIPPED
    # A skipped file that changes makes the index stale again, until ingest reads it.
    (corpus / "empty.txt").write_text("Empty\n\nNow it has a rule on charging plugs.")
    assert QAService(settings).status().stale_reasons == ["changed file empty.txt"]
    report = _service(settings, fake_embedder).ingest()
    assert report.added == ["empty.txt"] and "empty.txt" not in [s.source for s in report.skipped]
    assert not QAService(settings).status().is_stale


def test_store_lists_each_skip_once_with_its_reason(
    make_corpus, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    settings, _ = _skip_corpus(make_corpus, tmp_path)
    report = _service(settings, fake_embedder).ingest()
    reasons = {s.source: s.reason for s in report.skipped}
    assert list(reasons) == SKIPPED  # the link outside the corpus is in the list too
    assert reasons["link.txt"] == "it links outside the corpus."
    assert reasons["blob.bin"] == "unsupported file type '.bin'."
    assert all(source not in reason for source, reason in reasons.items())
    assert QAService(settings).status().skipped == report.skipped


class ExplodingEmbedder(FakeEmbedder):
    def __init__(self, fail_after: int) -> None:
        super().__init__()
        self.fail_after = fail_after

    def encode(self, texts, *, progress=False):  # type: ignore[no-untyped-def]
        if len(self.calls) >= self.fail_after:
            raise RuntimeError("simulated crash mid-build")
        return super().encode(texts)


def test_store_failed_build_leaves_previous_index_usable(
    make_corpus, fake_embedder: FakeEmbedder
) -> None:
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    _service(settings, fake_embedder).ingest()
    before = IndexStore(settings).current_build()
    (corpus / "more.txt").write_text(
        "More\n\n" + " ".join(f"Sentence {i} is here." for i in range(300))
    )
    with pytest.raises(RuntimeError, match="simulated"):
        QAService(
            settings.model_copy(update={"batch_size": 1}), embedder=ExplodingEmbedder(2)
        ).ingest()
    assert IndexStore(settings).current_build() == before
    service = _service(settings, fake_embedder)
    assert len(service.documents()) == 3
    assert service.search("hydrogen forum", k=1).hits


def test_store_killed_ingest_keeps_index_and_resumes(make_corpus, tmp_path: Path) -> None:
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    _service(settings, FakeEmbedder()).ingest()
    before = IndexStore(settings).current_build()
    (corpus / "big.txt").write_text(
        "Big\n\n" + "\n\n".join(f"Paragraph {i} covers topic {i}." for i in range(400))
    )
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parents[1])!r})
        from conftest import FakeEmbedder
        from qa.config import Settings
        from qa.service import QAService
        class Slow(FakeEmbedder):
            def encode(self, texts, *, progress=False):
                out = super().encode(texts)
                print("batch", flush=True)
                time.sleep(0.2)
                return out
        settings = Settings(corpus_dir={str(corpus)!r}, index_dir={str(settings.index_dir)!r}, batch_size=4,
                            embedding_model={FAKE!r})
        QAService(settings, embedder=Slow()).ingest()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for _ in range(3):
        assert proc.stdout.readline().strip() == "batch"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = IndexStore(settings)
    assert store.current_build() == before
    assert len(QAService(settings, embedder=FakeEmbedder()).documents()) == 3
    resumed = FakeEmbedder()
    report = QAService(settings.model_copy(update={"batch_size": 4}), embedder=resumed).ingest()
    assert report.added == ["big.txt"]
    # What big.txt alone costs to embed, measured on fresh indexes with and without it.
    with_big = _embed_count(settings, corpus, "with-big")
    (corpus / "big.txt").rename(tmp_path / "big.txt")
    big_alone = with_big - _embed_count(settings, corpus, "without-big")
    # At least two 16-text batches finished before the kill and came from the cache.
    assert sum(resumed.calls) <= big_alone - 2 * 16
    assert not (settings.index_dir / ".cache").exists()


def _embed_count(settings: Settings, corpus: Path, name: str) -> int:
    fresh = FakeEmbedder()
    other = settings.model_copy(update={"corpus_dir": corpus, "index_dir": corpus.parent / name})
    QAService(other, embedder=fresh).ingest()
    return sum(fresh.calls)


def test_store_refuses_index_built_with_another_model(
    make_corpus, fake_embedder: FakeEmbedder
) -> None:
    settings, _ = make_corpus(DOCS, embedding_model=FAKE)
    _service(settings, fake_embedder).ingest()
    other = settings.model_copy(update={"embedding_model": "some/other-model"})
    with pytest.raises(IndexMismatchError, match="qa ingest --rebuild"):
        QAService(other, embedder=fake_embedder).search("battery")


def test_store_missing_index_says_run_ingest(make_corpus) -> None:
    settings, _ = make_corpus(DOCS, embedding_model=FAKE)
    with pytest.raises(IndexNotFoundError, match="qa ingest"):
        QAService(settings).ask("anything?")


def test_store_status_reports_staleness(make_corpus, fake_embedder: FakeEmbedder) -> None:
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    assert QAService(settings).status().built is False
    _service(settings, fake_embedder).ingest()
    status = QAService(settings).status()
    assert status.built and not status.is_stale and status.passage_count >= 3
    (corpus / "japan.txt").write_text("Japan\n\nChanged text.")
    (corpus / "new.md").write_text("# New\n\nNew file.")
    reasons = QAService(settings).status().stale_reasons
    assert "changed file japan.txt" in reasons and "new file new.md" in reasons


def test_store_rebuild_reembeds_everything(make_corpus, fake_embedder: FakeEmbedder) -> None:
    settings, _ = make_corpus(DOCS, embedding_model=FAKE)
    _service(settings, fake_embedder).ingest()
    report = _service(settings, FakeEmbedder()).ingest(rebuild=True)
    assert report.embedded_passages == report.passages > 0


def test_store_swap_keeps_one_previous_build(make_corpus, fake_embedder: FakeEmbedder) -> None:
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    for i in range(3):
        (corpus / "counter.txt").write_text(f"Counter\n\nVersion {i} of the counter file.")
        _service(settings, fake_embedder).ingest()
    builds = list((settings.index_dir / "builds").iterdir())
    assert len(builds) == 2 and not any(b.name.endswith(".partial") for b in builds)


@pytest.mark.parametrize(
    "name",
    [
        "../../x.txt",
        "/etc/passwd.txt",
        "a\x00b.txt",
        ".hidden.txt",
        "sub/.git/x.md",
        "evil.exe",
        "noext",
        "",
    ],
)
def test_safe_corpus_path_rejects_unsafe_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(CorpusError):
        safe_corpus_path(tmp_path, name)


def test_safe_corpus_path_accepts_plain_names(tmp_path: Path) -> None:
    assert (
        safe_corpus_path(tmp_path, "sub/report.pdf") == (tmp_path / "sub" / "report.pdf").resolve()
    )


def test_store_vectors_align_with_passages_across_documents(make_corpus) -> None:
    """Rows of the vector files belong to the passage in the same row, in every document."""
    import numpy as np

    from qa.index.writer import embed_passages, search_text

    embedder = FakeEmbedder()
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    _service(settings, embedder).ingest()
    # Path order and source-string order differ here: "a/b.txt" < "a-b.txt" only as paths.
    (corpus / "a").mkdir()
    (corpus / "a" / "b.txt").write_text("Folder\n\nA file in a folder. It has two sentences.")
    (corpus / "a-b.txt").write_text("Dash\n\nA file with a dash in its name. Also two sentences.")
    service = _service(settings, embedder)
    service.ingest()
    snapshot, _ = service.current()
    for row in range(len(snapshot)):
        passage = snapshot.passage(row)
        document = snapshot.document(passage.document_id)
        expected, _ = embed_passages(
            embedder, [search_text(passage, document)], [passage.sentences]
        )
        np.testing.assert_allclose(snapshot.vectors[row], expected[0], atol=1e-6)
        span = snapshot.sentence_rows(row)
        sentences = passage.sentence_texts()
        np.testing.assert_allclose(
            snapshot.sentence_vectors[span.start : span.stop], embedder.encode(sentences), atol=2e-3
        )


def test_service_add_document_validates_before_touching_corpus(make_corpus) -> None:
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    service = _service(settings, FakeEmbedder())
    service.ingest()
    before = sorted(p.name for p in corpus.rglob("*"))
    with pytest.raises(CorpusError, match=r"broken\.pdf"):
        service.add_document("broken.pdf", b"%PDF-1.4 not really")
    assert sorted(p.name for p in corpus.rglob("*")) == before
    report = service.add_document(
        "japan.txt", b"Japan\n\nJapan replaced its programme with hydrogen buses."
    )
    assert report.changed == ["japan.txt"]
    assert "hydrogen buses" in service.search("hydrogen buses", k=1).hits[0].text
    assert sorted(p.name for p in corpus.rglob("*")) == before  # replaced in place, no leftovers


def test_service_add_document_with_a_relative_corpus_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default corpus folder is the relative `corpus`; uploads resolve their target.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    settings = load_settings(
        corpus_dir=Path("corpus"), index_dir=Path("index"), embedding_model=FAKE
    )
    service = _service(settings, FakeEmbedder())
    report = service.add_document("japan.txt", b"Japan\n\nJapan funds hydrogen buses.")
    assert report.added == ["japan.txt"] and report.documents == 1
    assert (tmp_path / "corpus" / "japan.txt").is_file()
    assert "hydrogen buses" in service.search("hydrogen buses", k=1).hits[0].text


def test_service_add_document_restores_file_when_indexing_fails(make_corpus) -> None:
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    _service(settings, FakeEmbedder()).ingest()
    original = (corpus / "japan.txt").read_text()
    failing = QAService(settings, embedder=ExplodingEmbedder(0))
    with pytest.raises(RuntimeError, match="simulated"):
        failing.add_document("japan.txt", b"Japan\n\nA new version that will fail to embed.")
    assert (corpus / "japan.txt").read_text() == original
    assert not [p for p in corpus.iterdir() if p.name.startswith(".")]


def test_store_touched_but_unedited_file_is_not_reembedded(make_corpus) -> None:
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    _service(settings, FakeEmbedder()).ingest()
    os.utime(corpus / "japan.txt", ns=(1, 1))  # new mtime, same bytes
    again = FakeEmbedder()
    report = _service(settings, again).ingest()
    assert again.calls == [] and report.changed == []
    assert not QAService(settings).status().is_stale
    # Same size, different bytes, mtime forced back: the hash still catches the edit.
    (corpus / "japan.txt").write_text(
        (corpus / "japan.txt").read_text().replace("Japan funds", "Japan finds")
    )
    os.utime(corpus / "japan.txt", ns=(1, 1))
    assert "changed file japan.txt" in QAService(settings).status().stale_reasons


def test_store_ingest_vectors_match_sentence_transformers(
    seed_service: QAService, embedder
) -> None:
    """Ingest embeds through the ONNX export; its vectors must be the model's vectors."""
    import numpy as np

    from qa.index.writer import embed_passages, search_text

    snapshot, _ = seed_service.current()
    assert (snapshot.path / "onnx" / "model.onnx").exists()
    for row in range(len(snapshot)):
        passage = snapshot.passage(row)
        text = search_text(passage, snapshot.document(passage.document_id))
        expected, sentences = embed_passages(embedder, [text], [passage.sentences])
        assert float(np.asarray(snapshot.vectors[row]) @ expected[0]) >= 0.9999
        rows = snapshot.sentence_rows(row)
        got = np.asarray(snapshot.sentence_vectors[rows.start : rows.stop], dtype=np.float32)
        assert np.min(np.sum(got * sentences, axis=1)) >= 0.999  # float16 rows


def test_store_passage_vectors_from_sentences_stand_for_their_passage(
    seed_service: QAService, embedder
) -> None:
    """A passage's vector is built from its sentences' vectors, not a pass over the passage;
    it must still be nearest to its own passage as the model embeds it whole."""
    import numpy as np

    from qa.index.writer import search_text

    snapshot, _ = seed_service.current()
    texts = [
        search_text(p, snapshot.document(p.document_id))
        for p in (snapshot.passage(row) for row in range(len(snapshot)))
    ]
    whole = embedder.encode(texts)
    similarity = np.asarray(snapshot.vectors, dtype=np.float32) @ whole.T
    assert len(texts) > 3
    assert list(np.argmax(similarity, axis=1)) == list(range(len(texts)))
    assert float(np.min(np.diag(similarity))) > 0.8


def test_store_server_snapshot_survives_pruning_of_its_build(make_corpus) -> None:
    """A request still holding an old snapshot finishes even after two newer builds."""
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    _service(settings, FakeEmbedder()).ingest()
    server = _service(settings, FakeEmbedder())
    server.warm()  # what `qa serve` does at startup
    in_flight, retriever = server.current()
    writer = _service(settings, FakeEmbedder())
    for version in range(2):
        (corpus / "news.txt").write_text(f"News\n\nVersion {version} of the hydrogen news.")
        writer.ingest()
    assert not in_flight.path.exists()  # pruned from disk
    hits = retriever.search("hydrogen forum", k=3)
    assert hits and "forum" in hits[0].text
    assert in_flight.passage_detail(hits[0].passage_id).passage.text == hits[0].text
    assert "Version 1" in server.search("hydrogen news", k=1).hits[0].text  # and it reloads


def test_store_empty_corpus_gives_an_empty_working_index(make_corpus) -> None:
    settings, corpus = make_corpus({"broken.pdf": b"not a pdf"}, embedding_model=FAKE)
    service = _service(settings, FakeEmbedder())
    report = service.ingest()
    assert report.documents == 0 and [s.source for s in report.skipped] == ["broken.pdf"]
    assert service.search("anything", k=3).hits == []
    answer = service.ask("Anything at all?")
    assert not answer.answered and answer.suggestions == []
    (corpus / "later.txt").write_text("Later\n\nA document added later about tidal power.")
    assert service.ingest().added == ["later.txt"]
    assert "tidal" in service.search("tidal power", k=1).hits[0].text


def test_search_text_leads_with_the_passage(make_corpus) -> None:
    """Headings and metadata labels follow the text, so a window cut never loses the passage."""
    from qa.chunking import chunk_document
    from qa.index.writer import search_text
    from qa.ingest.corpus import read_document

    _, corpus = make_corpus({"g.md": "# Guide\n\nBy Ann Lee\n\n## Part\n\nBody text here."})
    document = read_document(corpus / "g.md", corpus)
    for passage in chunk_document(document, FakeEmbedder(), size=200):
        text = search_text(passage, document)
        assert text.startswith(passage.text) and len(text) > len(passage.text)


def test_store_bm25_indexes_the_document_label_beside_each_passage(make_corpus) -> None:
    """BM25 reads each passage with its document's title and file-name words, so a question
    naming a file favours its passages; passage texts and what is embedded leave them out."""
    from qa.index.writer import search_text

    same = "Annual report\n\nNet income rose to {} million and revenue grew in the year."
    files = {"acme_2019_report.txt": same.format(5), "globex_2019_report.txt": same.format(7)}
    settings, _ = make_corpus(files, embedding_model=FAKE)
    service = _service(settings, FakeEmbedder())
    service.ingest()
    snapshot, _ = service.current()
    for name in ("Globex", "Acme"):
        (row, top), *rest = snapshot.lexical.search(f"What was {name}'s net income?", 2)
        assert snapshot.passage(row).source.startswith(name.lower())
        assert all(score < top for _, score in rest)
    for row in range(len(snapshot)):
        passage = snapshot.passage(row)
        embedded = search_text(passage, snapshot.document(passage.document_id)).lower()
        assert "acme" not in passage.text.lower() and "acme" not in embedded


def test_store_skips_links_that_lead_outside_the_corpus(make_corpus, tmp_path: Path) -> None:
    settings, corpus = make_corpus(DOCS, embedding_model=FAKE)
    secret = tmp_path / "secret.txt"
    secret.write_text("Secret\n\nThe vault code is 1234.")
    (corpus / "leak.txt").symlink_to(secret)
    (corpus / "alias.txt").symlink_to(corpus / "japan.txt")  # inside: indexed under its own name
    report = _service(settings, FakeEmbedder()).ingest()
    assert "leak.txt" not in report.added and "alias.txt" in report.added
    service = _service(settings, FakeEmbedder())
    assert all("vault" not in h.text for h in service.search("vault code", k=10).hits)
    assert {d.source for d in service.documents()} == {*DOCS, "alias.txt"}


def test_store_reports_guessed_encodings(make_corpus, fake_embedder: FakeEmbedder) -> None:
    text = "Café policy\n\nThe café must label every crème brûlée with its origin."
    settings, _ = make_corpus({**DOCS, "cafe.txt": text.encode("cp1252")}, embedding_model=FAKE)
    report = _service(settings, fake_embedder).ingest()
    assert report.encodings == {"cafe.txt": "cp1252"}
    assert "cafe.txt" in report.added


def test_store_ingest_of_a_folder_outside_the_corpus_makes_it_the_corpus(
    tmp_path: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QA_CORPUS_DIR")
    monkeypatch.chdir(tmp_path)  # the default corpus, ./corpus, is not the folder given
    folder = tmp_path / "policies"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text)
    settings = Settings(index_dir=tmp_path / "index", embedding_model=FAKE)
    report = _service(settings, fake_embedder).ingest([folder])
    assert report.corpus_dir == str(folder) and sorted(report.added) == sorted(DOCS)
    # A later service over the same index finds the folder: status is fresh, not "removed".
    status = QAService(Settings(index_dir=tmp_path / "index", embedding_model=FAKE)).status()
    assert status.corpus_dir == str(folder) and not status.is_stale, status.stale_reasons
    (folder / "new.txt").write_text("New\n\nA new rule on charging plugs.")
    again = _service(Settings(index_dir=tmp_path / "index", embedding_model=FAKE), fake_embedder)
    assert again.ingest().added == ["new.txt"]
    # An explicit QA_CORPUS_DIR still wins over the recorded folder.
    explicit = Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path, embedding_model=FAKE)
    assert QAService(explicit).status().corpus_dir == str(tmp_path)


class SpanFake(FakeEmbedder):
    """A `SpanEncoder`: counts its calls; a span's vector is the fake vector of its text."""

    model_id = FAKE

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__()
        self.span_calls: list[int] = []
        self.fail_after = fail_after

    def encode_spans(self, texts, spans):  # type: ignore[no-untyped-def]
        if self.fail_after is not None and len(self.span_calls) >= self.fail_after:
            raise RuntimeError("simulated crash mid-build")
        self.span_calls.append(len(texts))
        plain = FakeEmbedder()  # its calls are not this encoder's `encode` calls
        pieces = [t[a:b] for t, s in zip(texts, spans, strict=True) for a, b in s]
        return plain.encode(texts), plain.encode(pieces)


BIG = "Big\n\n" + "\n\n".join(f"Paragraph {i} covers topic {i} in full." for i in range(200))


def _embedding_texts(settings, encoder):  # type: ignore[no-untyped-def]
    """Ingest; return the report, and the texts and model calls of the embedding stage (the
    field map, built next, encodes its own clauses and field descriptions)."""
    from contextlib import contextmanager

    seen: list[int] = []

    @contextmanager
    def progress(label, total):  # type: ignore[no-untyped-def]
        if label == "Mapping fields":
            seen.append(len(encoder.calls))
        yield lambda n: None

    report = QAService(settings, embedder=encoder).ingest(
        export_query_encoder=False, progress=progress
    )
    calls = encoder.calls[: seen[0]] if seen else encoder.calls
    return report, sum(calls), len(calls)


def test_builder_one_model_call_per_batch_for_passages_and_sentences(make_corpus) -> None:
    import numpy as np

    from qa.index.writer import embed_passages, passage_parts, search_text

    settings, _ = make_corpus({**DOCS, "big.txt": BIG}, embedding_model=FAKE, batch_size=2)
    encoder = SpanFake()
    report, embedded, calls = _embedding_texts(settings, encoder)
    snapshot, _ = QAService(settings, embedder=encoder).current()
    sentences = snapshot.manifest.sentence_count
    assert encoder.span_calls == []  # pooling is off: it lost answer quality
    parts = [
        passage_parts(search_text(p, snapshot.document(p.document_id)), p.sentences)
        for p in (snapshot.passage(row) for row in range(len(snapshot)))
    ]
    assert sum(len(p) > len(snapshot.passage(i).sentences) for i, p in enumerate(parts)) > 0
    # Each sentence, and what a passage adds to its sentences (headings), once: no
    # passage is embedded whole as well.
    assert embedded == sum(map(len, parts)) <= report.passages + sentences
    batch = settings.batch_size * 4
    assert calls <= report.passages // batch + len(DOCS) + 1
    for row in range(len(snapshot)):
        passage = snapshot.passage(row)
        text = search_text(passage, snapshot.document(passage.document_id))
        rows = snapshot.sentence_rows(row)
        expected, _ = embed_passages(FakeEmbedder(), [text], [passage.sentences])
        np.testing.assert_allclose(snapshot.vectors[row], expected[0], atol=1e-6)
        np.testing.assert_allclose(
            snapshot.sentence_vectors[rows.start : rows.stop],
            encoder.encode(passage.sentence_texts()),
            atol=2e-3,
        )
    again = SpanFake()
    assert QAService(settings, embedder=again).ingest().embedded_passages == 0
    assert again.span_calls == [] and again.calls == []


def test_builder_resumes_after_a_crash_with_the_same_vectors(make_corpus) -> None:
    import numpy as np

    settings, corpus = make_corpus(DOCS, embedding_model=FAKE, batch_size=2)
    first = FakeEmbedder()
    _, first_texts, _ = _embedding_texts(settings, first)
    (corpus / "big.txt").write_text(BIG)
    crashing = ExplodingEmbedder(2)
    with pytest.raises(RuntimeError, match="simulated"):
        QAService(settings, embedder=crashing).ingest(export_query_encoder=False)
    resumed = FakeEmbedder()
    report, resumed_texts, _ = _embedding_texts(settings, resumed)
    assert report.added == ["big.txt"]
    fresh = settings.model_copy(update={"index_dir": corpus.parent / "fresh"})
    everything = FakeEmbedder()
    _, all_texts, _ = _embedding_texts(fresh, everything)
    # The two batches finished before the crash come from the cache.
    assert len(crashing.calls) == 2 and sum(crashing.calls) > 0
    assert resumed_texts == all_texts - first_texts - sum(crashing.calls)
    one, other = (QAService(s, embedder=FakeEmbedder()).current()[0] for s in (settings, fresh))
    np.testing.assert_array_equal(np.asarray(one.vectors), np.asarray(other.vectors))
    np.testing.assert_array_equal(
        np.asarray(one.sentence_vectors), np.asarray(other.sentence_vectors)
    )
