"""`MilvusBackend`: incremental ingest into Milvus (changed documents upserted, removed ones
deleted by filter, unchanged ones never re-embedded), status, and opening readers.

The manifest, the document catalog and a version counter live in the side collection, so
any process pointed at the same Milvus sees a new ingest on its next request.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from qa import version as qa_version
from qa.backends.base import EmbedderFactory, EncoderFactory, IndexReader
from qa.backends.milvus import collections as mc
from qa.backends.milvus.reader import MilvusReader, bm25_text, passage_row
from qa.chunking import chunk_document
from qa.config import Settings
from qa.errors import IndexMismatchError, IndexNotFoundError
from qa.index.builder import Progress
from qa.index.layout import SCHEMA_VERSION, DocumentEntry, Manifest
from qa.index.plan import ChangePlan
from qa.index.store import IndexStore
from qa.index.writer import embed_passages, lexical_text, search_text
from qa.models import Document, DocumentInfo, IndexStatus, IngestReport, Passage

logger = logging.getLogger(__name__)

MANIFEST, CATALOG, VERSION, LAYOUT = "manifest", "catalog", "version", "layout"
UPSERT_BATCH = 256


def document_blob(document_id: str) -> str:
    return f"document:{document_id}"


class Previous:
    """The published version as `ChangePlan` sees a previous build: manifest and documents.

    Kept documents are taken from the catalog without their text (Milvus ingest never
    re-reads what it keeps).
    """

    def __init__(self, manifest: Manifest, catalog: list[DocumentInfo]) -> None:
        self.manifest = manifest
        self.infos = {info.id: info for info in catalog}

    def document(self, document_id: str) -> Document:
        info = self.infos[document_id]
        return Document(
            id=info.id,
            title=info.title,
            source=info.source,
            format=info.format,
            text="",
            metadata=info.metadata,
            content_hash=info.content_hash,
        )


class MilvusBackend:
    """One corpus in Milvus: the passage collection and its `<name>_meta` side collection."""

    # Measured by benchmarks/bench_milvus.py (the alternatives stay for re-measuring):
    # BM25 over qa's stemmed tokens matches the local ranking; Milvus's own analyzer has no
    # English stemmer in Lite. Client-side weighted RRF is the local fusion exactly;
    # `hybrid_search` with RRFRanker cannot weight the two rankings.
    default_bm25: mc.Bm25Mode = "stemmed"
    default_fusion: Literal["client", "hybrid"] = "client"

    def __init__(self, settings: Settings, *, bm25: mc.Bm25Mode | None = None) -> None:
        self.settings = settings
        self.uri = mc.resolve_uri(settings)
        self.passages = mc.collection_name(settings)
        self.meta = f"{self.passages}_meta"
        self.bm25: mc.Bm25Mode = bm25 or self.default_bm25
        self.fusion = self.default_fusion
        self._local = IndexStore(settings)  # for its checks and its cross-process lock

    @cached_property
    def client(self) -> Any:
        return mc.connect(self.settings)

    @cached_property
    def lexical(self) -> bool:
        """Whether this Milvus has BM25 (≥ 2.5 and Lite); older servers search dense only."""
        has = mc.supports_bm25(self.client)
        if not has:
            logger.warning("Milvus at %s has no BM25 (needs 2.5+): dense search only", self.uri)
        return has

    @cached_property
    def blobs(self) -> mc.Blobs:
        return mc.Blobs(self.client, self.meta)

    # -- reading the published version ---------------------------------------------------

    def _exists(self) -> bool:
        return bool(
            self.client.has_collection(self.passages) and self.client.has_collection(self.meta)
        )

    def _load(self) -> None:
        # Lite forgets loaded collections when reopened; a server ignores a repeat.
        self.client.load_collection(self.passages)
        self.client.load_collection(self.meta)

    def _published(self) -> tuple[Manifest, list[DocumentInfo]] | None:
        if not self._exists():
            return None
        self._load()
        raw, catalog = self.blobs.read(MANIFEST), self.blobs.read(CATALOG)
        if raw is None or catalog is None:
            return None
        manifest = Manifest.model_validate_json(raw)
        infos = [DocumentInfo.model_validate(d) for d in json.loads(catalog)]
        return manifest, infos

    def current_version(self) -> str | None:
        """The version counter of the published index (one small query)."""
        if not self._exists():
            return None
        return self.blobs.read(VERSION)

    def check(self, manifest: Manifest) -> None:
        """`IndexMismatchError` when the collection cannot serve these settings."""
        self._local.check(manifest)
        layout = json.loads(self.blobs.read(LAYOUT) or "{}")
        if layout.get("bm25", self.bm25) != self.bm25 or layout.get("schema") != mc.SCHEMA:
            raise IndexMismatchError(
                f"The Milvus collection {self.passages!r} has another layout ({layout}).",
                remedy="Run `qa ingest --rebuild`.",
            )

    def open(self, encoder_factory: EncoderFactory) -> MilvusReader:
        published = self._published()
        version = self.current_version()
        if published is None or version is None:
            raise IndexNotFoundError(
                f"No index in Milvus collection {self.passages!r} at {self.uri}.",
                remedy="Run `qa ingest` to build it.",
            )
        manifest, catalog = published
        self.check(manifest)
        return MilvusReader(
            self.client,
            self.passages,
            self.blobs,
            manifest=manifest,
            catalog=catalog,
            version=version,
            encoder=encoder_factory(None),
            settings=self.settings,
            lexical=self.lexical and "bm25" in self._fields(),
            bm25=self.bm25,
            fusion=self.fusion,
        )

    def _fields(self) -> set[str]:
        described = self.client.describe_collection(self.passages)
        return {field["name"] for field in described.get("fields", [])}

    def is_newer_than(self, reader: IndexReader) -> bool:
        return self.current_version() != reader.version

    def status(self) -> IndexStatus:
        base = {
            "index_dir": f"{self.uri} (Milvus collection {self.passages})",
            "corpus_dir": str(self.settings.corpus_dir),
        }
        published = self._published()
        if published is None:
            return IndexStatus(**base, built=False, is_stale=True, stale_reasons=["no index"])
        manifest, catalog = published
        reasons = self._local.stale_reasons(manifest)
        return IndexStatus(
            **base,
            built=True,
            model=manifest.model,
            dimension=manifest.dimension,
            documents=catalog,
            passage_count=manifest.passage_count,
            built_at=manifest.built_at,
            build_id=manifest.build_id,
            is_stale=bool(reasons),
            stale_reasons=reasons,
        )

    # -- ingest --------------------------------------------------------------------------

    def _reusable(self, rebuild: bool) -> Previous | None:
        if rebuild:
            return None
        try:
            published = self._published()
            if published is None:
                return None
            self.check(published[0])
        except IndexMismatchError as exc:
            logger.warning("previous index not reusable (%s); rebuilding everything", exc)
            return None
        manifest, catalog = published
        if manifest.chunking != self._local.chunking():
            logger.warning("chunking settings changed; rebuilding everything")
            return None
        return Previous(manifest, catalog)

    def _recreate(self, dimension: int) -> None:
        for name in (self.passages, self.meta):
            if self.client.has_collection(name):
                self.client.drop_collection(name)
        mc.create_passages(
            self.client, self.passages, dimension, lexical=self.lexical, bm25=self.bm25
        )
        mc.create_meta(self.client, self.meta)
        self._load()
        self.blobs.write(LAYOUT, json.dumps({"schema": mc.SCHEMA, "bm25": self.bm25}))

    def ingest(
        self,
        paths: Sequence[Path] | None,
        *,
        embedder_factory: EmbedderFactory,
        rebuild: bool = False,
        progress: Progress | None = None,
        export_query_encoder: bool = True,
    ) -> IngestReport:
        """Bring the collection up to date with the corpus; publish a new version last."""
        started = time.perf_counter()
        with self._local.locked():  # serialises ingests on this machine
            previous = self._reusable(rebuild)
            plan = ChangePlan.make(self.settings, previous, paths)
            if previous is not None and not plan.has_changes:
                return plan.report(
                    previous.manifest.passage_count, 0, time.perf_counter() - started
                )
            embedder = embedder_factory()
            if previous is None:
                self._recreate(embedder.dimension)
            counts = dict.fromkeys((d.id for d in plan.kept), 0)
            if previous is not None:
                for document in plan.kept:
                    counts[document.id] = previous.manifest.documents[document.source].passages
            fresh = {
                d.id: chunk_document(
                    d,
                    embedder,
                    size=self.settings.chunk_size,
                    overlap=self.settings.chunk_overlap,
                    min_tokens=self.settings.min_chunk_tokens,
                )
                for d in plan.fresh
            }
            total = sum(len(p) for p in fresh.values())
            with (progress or (lambda label, n: nullcontext(lambda done: None)))(
                "Embedding", total
            ) as advance:
                for document in plan.fresh:
                    self._upsert_document(document, fresh[document.id], embedder, advance)
                    counts[document.id] = len(fresh[document.id])
            if previous is not None:
                for source in plan.removed:
                    entry = previous.manifest.documents[source]
                    self.client.delete(self.passages, filter=f"document_id == {mc.quote(entry.id)}")
                    self.blobs.delete(document_blob(entry.id))
            documents = sorted([*plan.kept, *plan.fresh], key=lambda d: d.source)
            known = previous.infos if previous is not None else {}
            self._publish(
                documents, counts, plan.stats, known, embedder.model_id, embedder.dimension
            )
        return plan.report(sum(counts.values()), total, time.perf_counter() - started)

    def _upsert_document(
        self, document: Document, passages: list[Passage], embedder: Any, advance: Any
    ) -> None:
        texts = [search_text(p, document) for p in passages]
        for first in range(0, len(passages), UPSERT_BATCH):
            batch = passages[first : first + UPSERT_BATCH]
            vectors, _ = embed_passages(
                embedder, texts[first : first + UPSERT_BATCH], [p.sentences for p in batch]
            )
            rows = [
                passage_row(p, first + i, vectors[i], texts[first + i]) for i, p in enumerate(batch)
            ]
            if self.lexical:
                for row, passage in zip(rows, batch, strict=True):
                    row["bm25_text"] = bm25_text(lexical_text(passage, document), self.bm25)
            self.client.upsert(self.passages, rows)
            advance(len(batch))
        keep = json.dumps([p.id for p in passages])
        self.client.delete(
            self.passages,
            filter=f"document_id == {mc.quote(document.id)} and passage_id not in {keep}",
        )
        self.blobs.write(document_blob(document.id), document.model_dump_json())

    def _publish(
        self,
        documents: list[Document],
        counts: dict[str, int],
        stats: dict[str, tuple[int, int]],
        known: dict[str, DocumentInfo],
        model: str,
        dimension: int,
    ) -> None:
        build_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        manifest = Manifest(
            schema_version=SCHEMA_VERSION,
            qa_version=qa_version(),
            build_id=build_id,
            built_at=datetime.now(UTC),
            model=model,
            dimension=dimension,
            chunking=self._local.chunking(),
            dense_kind="hnsw",
            passage_count=sum(counts.values()),
            sentence_count=0,  # not stored: answers need no sentence vectors from Milvus
            documents={
                d.source: DocumentEntry(
                    id=d.id,
                    content_hash=d.content_hash,
                    passages=counts.get(d.id, 0),
                    size=stats.get(d.source, (-1, -1))[0],
                    mtime_ns=stats.get(d.source, (-1, -1))[1],
                )
                for d in documents
            },
        )
        catalog = [
            (
                known[d.id].model_copy(update={"passages": counts.get(d.id, 0)})
                if d.id in known and not d.text  # kept: its catalog entry stands
                else DocumentInfo(
                    id=d.id,
                    title=d.title,
                    source=d.source,
                    format=d.format,
                    pages=len(d.page_starts) or None,
                    passages=counts.get(d.id, 0),
                    content_hash=d.content_hash,
                    metadata=d.metadata,
                )
            ).model_dump(mode="json")
            for d in documents
        ]
        self.blobs.write(MANIFEST, manifest.model_dump_json())
        self.blobs.write(CATALOG, json.dumps(catalog))
        self.blobs.write(VERSION, build_id)  # last: readers reopen when this changes
