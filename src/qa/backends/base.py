"""The index-backend seam: what `QAService` needs from wherever the index lives.

A backend ingests and reports status; `open()` gives a reader over one version of the index,
which retrieves candidates and serves documents and passages until `is_newer_than` says a
newer version was published (by this process or another one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from qa.config import Settings
from qa.encoders.base import Embedder, QueryEncoder
from qa.index.builder import Progress
from qa.models import (
    Document,
    DocumentDetail,
    DocumentInfo,
    IndexInfo,
    IndexStatus,
    IngestReport,
    PassageDetail,
)
from qa.retrieval.retriever import Candidate, Evidence

EmbedderFactory = Callable[[], Embedder]
# Given the reader's version folder (None when the backend keeps no local files), the
# encoder that embeds questions for it.
EncoderFactory = Callable[[Path | None], QueryEncoder]


class IndexReader(Protocol):
    """One published version of the index, read-only and safe to share between threads."""

    @property
    def version(self) -> str:
        """The build id (local) or version counter (Milvus) this reader serves."""
        ...

    def info(self) -> IndexInfo:
        """What is being served, cheaply."""
        ...

    def retrieve(
        self, query: str, *, k: int, documents: Sequence[str] | None = None
    ) -> list[Candidate]:
        """The fused top-`k` candidates for `query`, optionally within `documents`."""
        ...

    def evidence(self, query: str, candidates: Sequence[Candidate]) -> Evidence:
        """The question's vector, the candidates' sentence vectors and term IDFs."""
        ...

    def document_infos(self) -> list[DocumentInfo]:
        """Every indexed document, in source order."""
        ...

    def document(self, document_id: str) -> Document:
        """The document with this id or source; `NotFoundError` otherwise."""
        ...

    def document_detail(self, document_id: str) -> DocumentDetail:
        """One document with its text."""
        ...

    def passage_detail(self, passage_id: str) -> PassageDetail:
        """One passage with its neighbours' ids; `NotFoundError` for an unknown id."""
        ...

    def warm(self) -> None:
        """Read whatever is read lazily now (long-running servers call this)."""
        ...


class IndexBackend(Protocol):
    """Where the index lives: it builds, describes and opens it."""

    def ingest(
        self,
        paths: Sequence[Path] | None,
        *,
        embedder_factory: EmbedderFactory,
        rebuild: bool = False,
        progress: Progress | None = None,
        export_query_encoder: bool = True,
    ) -> IngestReport:
        """Bring the index up to date with the corpus (or `paths` within it)."""
        ...

    def status(self) -> IndexStatus:
        """What is built and whether it is stale, without loading a model."""
        ...

    def open(self, encoder_factory: EncoderFactory) -> IndexReader:
        """A reader over the current version; `IndexNotFoundError` when nothing is built."""
        ...

    def is_newer_than(self, reader: IndexReader) -> bool:
        """True when a version newer than `reader`'s has been published anywhere."""
        ...


def open_backend(settings: Settings) -> IndexBackend:
    """The backend `settings.index_backend` names (Milvus is imported only when chosen)."""
    if settings.index_backend == "milvus":
        from qa.backends.milvus import MilvusBackend

        return MilvusBackend(settings)
    from qa.backends.local import LocalBackend

    return LocalBackend(settings)
