"""The local backend: today's index folder (`IndexStore`, `IndexBuilder`, `IndexSnapshot`)
behind the backend seam, with FAISS + BM25 retrieval by `HybridRetriever`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from qa.backends.base import EmbedderFactory, EncoderFactory, IndexReader
from qa.config import Settings
from qa.index.builder import IndexBuilder, Progress
from qa.index.snapshot import IndexSnapshot
from qa.index.store import IndexStore
from qa.models import (
    Document,
    DocumentDetail,
    DocumentInfo,
    IndexInfo,
    IndexStatus,
    IngestReport,
    PassageDetail,
)
from qa.retrieval.retriever import Candidate, Evidence, HybridRetriever


class LocalReader:
    """One build folder and the hybrid retriever over it."""

    def __init__(self, snapshot: IndexSnapshot, retriever: HybridRetriever) -> None:
        self.snapshot = snapshot
        self.retriever = retriever

    @property
    def version(self) -> str:
        return self.snapshot.build_id

    def info(self) -> IndexInfo:
        manifest = self.snapshot.manifest
        return IndexInfo(
            build_id=manifest.build_id,
            model=manifest.model,
            dimension=manifest.dimension,
            documents=len(manifest.documents),
            passage_count=manifest.passage_count,
            built_at=manifest.built_at,
            dense_index=manifest.dense_kind,
        )

    def retrieve(
        self, query: str, *, k: int, documents: Sequence[str] | None = None
    ) -> list[Candidate]:
        return self.retriever.retrieve(query, k=k, documents=documents)

    def evidence(self, query: str, candidates: Sequence[Candidate]) -> Evidence:
        return self.retriever.evidence(query, candidates)

    def document_infos(self) -> list[DocumentInfo]:
        return self.snapshot.document_infos()

    def document(self, document_id: str) -> Document:
        return self.snapshot.document(document_id)

    def document_detail(self, document_id: str) -> DocumentDetail:
        return self.snapshot.document_detail(document_id)

    def passage_detail(self, passage_id: str) -> PassageDetail:
        return self.snapshot.passage_detail(passage_id)

    def warm(self) -> None:
        self.snapshot.warm()


class LocalBackend:
    """The index folder `settings.index_dir`, built and read in this process."""

    def __init__(self, settings: Settings, *, store: IndexStore | None = None) -> None:
        self.settings = settings
        self.store = store or IndexStore(settings)
        self.builder = IndexBuilder(self.store)

    def ingest(
        self,
        paths: Sequence[Path] | None,
        *,
        embedder_factory: EmbedderFactory,
        rebuild: bool = False,
        progress: Progress | None = None,
        export_query_encoder: bool = True,
    ) -> IngestReport:
        return self.builder.build(
            paths,
            embedder_factory=embedder_factory,
            rebuild=rebuild,
            progress=progress,
            export_query_encoder=export_query_encoder,
        )

    def status(self) -> IndexStatus:
        return self.store.status()

    def open(self, encoder_factory: EncoderFactory) -> LocalReader:
        snapshot = self.store.load()
        retriever = HybridRetriever(snapshot, encoder_factory(snapshot.path), self.settings)
        return LocalReader(snapshot, retriever)

    def is_newer_than(self, reader: IndexReader) -> bool:
        assert isinstance(reader, LocalReader)
        return self.store.has_newer_than(reader.snapshot)
