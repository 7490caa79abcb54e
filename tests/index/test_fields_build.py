"""The field map in the build: computed at ingest, reused for unchanged documents, redone
when the taxonomy changes, refused clearly when the taxonomy is malformed."""

from __future__ import annotations

import logging

import pytest

from qa.errors import TaxonomyError
from qa.fields.store import read_fields
from qa.index import layout
from qa.service import QAService

KOREA = "The Korean government is cooperating with Australia on hydrogen fuel cell trucks.\n"
INDIA = "The Indian government collaborates with the United States on semiconductor projects.\n"
TAXONOMY = 'threshold = 0.2\n[[field]]\nid = "chips"\nlabel = "Chips"\ndescription = "Semiconductors."\nseeds = ["semiconductor"]\n'


def _mapped(caplog: pytest.LogCaptureFixture) -> str:
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("field map:")]
    return lines[-1] if lines else ""


def test_fields_build_reuses_unchanged_documents_and_follows_the_taxonomy(
    make_corpus, fake_embedder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qa.fields.build")
    settings, corpus = make_corpus(
        {"korea.txt": KOREA, "india.txt": INDIA}, embedding_model="fake-embedder"
    )
    service = QAService(settings, embedder=fake_embedder)
    service.ingest(export_query_encoder=False)
    assert _mapped(caplog) == "field map: 2 documents mapped, 0 reused"
    first = read_fields(service.store.current_build() / layout.FIELDS)
    assert first is not None and set(first.documents) == {"korea-txt", "india-txt"}

    (corpus / "korea.txt").write_text(KOREA + "It also invests in batteries.\n", encoding="utf-8")
    service.ingest(export_query_encoder=False)
    assert _mapped(caplog) == "field map: 1 documents mapped, 1 reused"

    caplog.clear()
    report = service.ingest(export_query_encoder=False)  # nothing changed: no new build
    assert report.embedded_passages == 0 and _mapped(caplog) == ""

    (corpus / "fields.toml").write_text(TAXONOMY, encoding="utf-8")
    service.ingest(export_query_encoder=False)
    assert _mapped(caplog) == "field map: 2 documents mapped, 0 reused"
    stored = read_fields(service.store.current_build() / layout.FIELDS)
    assert stored is not None and [f.id for f in stored.fields] == ["chips"]
    field_map = service.fields()
    assert ("ind", "chips", ["usa"]) in [(c.actor, c.field, c.partners) for c in field_map.cells]


def test_fields_build_refuses_a_malformed_taxonomy_before_any_work(
    make_corpus, fake_embedder
) -> None:
    settings, _ = make_corpus(
        {"korea.txt": KOREA, "fields.toml": "[[field]\nid = 1\n"}, embedding_model="fake-embedder"
    )
    with pytest.raises(TaxonomyError, match=r"fields.toml, line 1"):
        QAService(settings, embedder=fake_embedder).ingest(export_query_encoder=False)


def test_status_is_stale_when_the_taxonomy_changes_or_breaks(make_corpus, fake_embedder) -> None:
    settings, corpus = make_corpus({"korea.txt": KOREA}, embedding_model="fake-embedder")
    service = QAService(settings, embedder=fake_embedder)
    service.ingest(export_query_encoder=False)
    assert service.status().stale_reasons == []

    (corpus / "fields.toml").write_text(TAXONOMY, encoding="utf-8")
    status = service.status()
    assert status.is_stale
    assert status.stale_reasons == [f"field taxonomy changed ({corpus / 'fields.toml'})"]

    (corpus / "fields.toml").write_text("[[field]]\nid = 3\n", encoding="utf-8")
    (reason,) = service.status().stale_reasons
    assert (
        reason.startswith("field taxonomy cannot be read: ") and "line 1: the field needs" in reason
    )

    (corpus / "fields.toml").write_text(TAXONOMY, encoding="utf-8")
    service.ingest(export_query_encoder=False)
    assert service.status().stale_reasons == []
    (corpus / "fields.toml").unlink()  # back to the bundled default
    assert service.status().stale_reasons == ["field taxonomy changed (default)"]
