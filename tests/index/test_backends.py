"""The same end-to-end checks on every index backend: local folder and Milvus (Lite file).

Ingest, incremental update, ask, search, document filter, delete, freshness across
service objects, and refusing an index built with another model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qa.config import Settings, load_settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.errors import IndexMismatchError, IndexNotFoundError, NotFoundError
from qa.service import QAService

DOCS = {
    "eu.md": "# EU batteries\n\nThe EU requires a battery passport for every industrial "
    "battery sold after 2027. The passport records the battery's carbon footprint.",
    "japan.txt": "Japan\n\nJapan funds solid-state battery research through public "
    "programmes. The ministry granted 120 billion yen to three universities.",
    "korea.html": "<html><body><h1>Korea</h1><p>Korea runs a hydrogen economy standards "
    "forum with Australia. The forum meets twice a year in Seoul.</p></body></html>",
}

Factory = Callable[..., tuple[Settings, Path]]


@pytest.fixture(params=["local", "milvus"])
def backend_corpus(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """Write a corpus and return settings for it on the backend under test."""

    def factory(files: dict[str, str], **overrides: object) -> tuple[Settings, Path]:
        corpus = tmp_path / "corpus"
        corpus.mkdir(exist_ok=True)
        for name, content in files.items():
            (corpus / name).write_text(content, encoding="utf-8")
        extra: dict[str, object] = {"index_backend": request.param}
        if request.param == "milvus":
            extra["milvus_uri"] = str(tmp_path / "milvus" / "qa.db")
        settings = load_settings(
            corpus_dir=corpus, index_dir=tmp_path / "index", **extra, **overrides
        )
        return settings, corpus

    return factory


def _service(settings: Settings, embedder: SentenceTransformerEmbedder) -> QAService:
    return QAService(settings, embedder=embedder)


def test_backend_ingest_search_ask_and_browse(backend_corpus: Factory, embedder) -> None:
    settings, _ = backend_corpus(DOCS)
    service = _service(settings, embedder)
    report = service.ingest(export_query_encoder=False)
    assert sorted(report.added) == sorted(DOCS) and report.documents == 3
    assert report.embedded_passages == report.passages > 0

    hits = service.search("battery passport carbon footprint", k=3).hits
    assert hits[0].source == "eu.md" and "passport" in hits[0].text
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))

    answer = service.ask("How much did the ministry grant to universities?")
    assert answer.answered, answer
    assert "120 billion yen" in answer.answer
    assert answer.citations[0].source == "japan.txt"

    documents = {d.source: d for d in service.documents()}
    assert set(documents) == set(DOCS) and all(d.passages >= 1 for d in documents.values())
    detail = service.document(documents["korea.html"].id)
    assert "twice a year" in detail.text
    passage = service.passage(hits[0].passage_id).passage
    assert detail.text is not None and passage.text == hits[0].text
    with pytest.raises(NotFoundError):
        service.passage("no-such-passage")
    status = service.status()
    assert status.built and not status.is_stale and len(status.documents) == 3


def test_backend_incremental_update_and_delete(backend_corpus: Factory, embedder) -> None:
    settings, corpus = backend_corpus(DOCS)
    _service(settings, embedder).ingest(export_query_encoder=False)
    again = _service(settings, embedder).ingest(export_query_encoder=False)
    assert again.embedded_passages == 0 and sorted(again.unchanged) == sorted(DOCS)

    (corpus / "india.txt").write_text("India\n\nIndia localises the EV supply chain in Pune.")
    (corpus / "japan.txt").write_text("Japan\n\nJapan now funds hydrogen trucks instead.")
    (corpus / "eu.md").unlink()
    service = _service(settings, embedder)
    report = service.ingest(export_query_encoder=False)
    assert report.added == ["india.txt"] and report.changed == ["japan.txt"]
    assert report.removed == ["eu.md"] and report.unchanged == ["korea.html"]
    assert report.embedded_passages == 2  # the two new passages, nothing else

    assert {d.source for d in service.documents()} == {"india.txt", "japan.txt", "korea.html"}
    assert "hydrogen trucks" in service.search("hydrogen trucks", k=1).hits[0].text
    hits = service.search("battery passport solid-state research", k=10).hits
    assert all("passport" not in h.text and "solid-state" not in h.text for h in hits)
    assert not service.status().is_stale

    report = service.remove_document("india.txt")
    assert report.removed == ["india.txt"] and not (corpus / "india.txt").exists()
    assert all(h.source != "india.txt" for h in service.search("EV supply chain", k=10).hits)


def test_backend_document_filter_restricts_search(backend_corpus: Factory, embedder) -> None:
    settings, _ = backend_corpus(DOCS)
    service = _service(settings, embedder)
    service.ingest(export_query_encoder=False)
    korea = next(d.id for d in service.documents() if d.source == "korea.html")
    hits = service.search("battery research funding", k=5, documents=[korea]).hits
    assert hits and {h.source for h in hits} == {"korea.html"}
    by_source = service.search("battery research funding", k=5, documents=["japan.txt"]).hits
    assert {h.source for h in by_source} == {"japan.txt"}
    answer = service.ask("How often does the forum meet?", documents=[korea])
    assert {c.source for c in answer.citations} <= {"korea.html"}
    with pytest.raises(NotFoundError):
        service.search("battery", documents=["missing.txt"])


def test_backend_reader_sees_another_services_ingest(backend_corpus: Factory, embedder) -> None:
    """A second service (a replica) picks up a new version without being restarted."""
    settings, corpus = backend_corpus(DOCS)
    writer = _service(settings, embedder)
    writer.ingest(export_query_encoder=False)
    replica = _service(settings, embedder)
    replica.warm()
    assert all("tidal" not in h.text for h in replica.search("tidal power plant", k=5).hits)
    (corpus / "uk.txt").write_text("United Kingdom\n\nThe UK builds a tidal power plant.")
    writer.ingest(export_query_encoder=False)
    assert "tidal power" in replica.search("tidal power plant", k=1).hits[0].text
    assert replica.info().documents == 4


def test_backend_missing_and_mismatched_index(backend_corpus: Factory, embedder) -> None:
    settings, _ = backend_corpus(DOCS)
    with pytest.raises(IndexNotFoundError, match="qa ingest"):
        _service(settings, embedder).search("battery")
    _service(settings, embedder).ingest(export_query_encoder=False)
    other = settings.model_copy(update={"embedding_model": "some/other-model"})
    with pytest.raises(IndexMismatchError, match="QA_EMBEDDING_MODEL"):
        QAService(other, embedder=embedder).search("battery")
