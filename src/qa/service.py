"""`QAService`: the one core object behind the CLI, HTTP, MCP and OpenAI surfaces.

It owns the settings, the embedder and the currently loaded index snapshot. Reads
(ask, search, documents) use an immutable snapshot, so a concurrent ingest or hot
reload swaps the snapshot without disturbing requests already in flight.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from qa.answer.compose import compose_answer
from qa.config import Settings
from qa.encoders.base import Embedder, QueryEncoder
from qa.encoders.sentence_transformer import load_embedder, load_query_encoder
from qa.errors import CorpusError, DocumentParseError, QueryError
from qa.fields.store import StoredFields, assemble_map, require_fields
from qa.formats import describe_formats
from qa.index import layout
from qa.index.builder import IndexBuilder, Progress
from qa.index.snapshot import IndexSnapshot
from qa.index.store import IndexStore
from qa.ingest.corpus import read_document, safe_corpus_path
from qa.models import (
    Answer,
    DocumentDetail,
    DocumentInfo,
    FieldMap,
    IndexInfo,
    IndexStatus,
    IngestReport,
    PassageDetail,
    SearchResult,
)
from qa.retrieval.retriever import HybridRetriever

logger = logging.getLogger(__name__)


class Loaded(NamedTuple):
    """The index build a request reads, and the retriever over it."""

    snapshot: IndexSnapshot
    retriever: HybridRetriever


class QAService:
    """Ingest, ask, search and browse one corpus with one index."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        query_encoder: QueryEncoder | None = None,
        store: IndexStore | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or IndexStore(settings)
        self.builder = IndexBuilder(self.store)
        self._embedder = embedder
        self._query_encoder = query_encoder
        self._snapshot: IndexSnapshot | None = None
        self._retriever: HybridRetriever | None = None
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._warm = False  # set by warm(): servers keep whole builds in hand
        self._fields: tuple[str, StoredFields] | None = None  # (build id, its field map)

    # -- collaborators, built lazily so `qa status` never loads a model ----------------

    @property
    def embedder(self) -> Embedder:
        """The passage embedder (sentence-transformers); loaded on first use."""
        if self._embedder is None:
            self._embedder = load_embedder(self.settings)
        return self._embedder

    def _encoder_for(self, snapshot: IndexSnapshot) -> QueryEncoder:
        if self._query_encoder is None:
            if self._embedder is not None:
                self._query_encoder = self._embedder
            else:
                export = snapshot.path / layout.ONNX
                self._query_encoder = load_query_encoder(self.settings, export)
        return self._query_encoder

    def current(self) -> Loaded:
        """The loaded snapshot and its retriever, loading it (or a newer build) when needed.

        Take both from one call: a concurrent ingest may swap in a newer build between two.
        """
        with self._read_lock:
            snapshot, retriever = self._snapshot, self._retriever
            if snapshot is None or retriever is None or self.store.has_newer_than(snapshot):
                replacing = snapshot is not None
                snapshot = self.store.load()
                if replacing or self._warm:
                    snapshot.warm()  # a long-running process: read it all while it exists
                retriever = HybridRetriever(snapshot, self._encoder_for(snapshot), self.settings)
                self._snapshot, self._retriever = snapshot, retriever
            return Loaded(snapshot, retriever)

    def warm(self) -> None:
        """Load the whole index (or a newer build) now, and keep later builds whole too.

        Servers call this at start-up, so a request never waits on a cold load and a build
        pruned by a later ingest is never read from disk again.
        """
        self._warm = True
        self.current().snapshot.warm()

    def info(self) -> IndexInfo:
        """A cheap description of the build being served (loading it if needed)."""
        manifest = self.current().snapshot.manifest
        return IndexInfo(
            build_id=manifest.build_id,
            model=manifest.model,
            dimension=manifest.dimension,
            documents=len(manifest.documents),
            passage_count=manifest.passage_count,
            built_at=manifest.built_at,
            dense_index=manifest.dense_kind,
        )

    # -- writing ------------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[Path] | None = None,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        export_query_encoder: bool = True,
    ) -> IngestReport:
        """Index `paths` (default: the corpus folder) incrementally; swap the result in.

        `progress`, when given, is told how far embedding has got (the CLI draws a bar).
        `export_query_encoder=False` skips the ONNX export, for throwaway indexes (eval)
        that are queried in-process with the loaded model anyway.
        """
        with self._write_lock:
            report = self.builder.build(
                paths,
                embedder_factory=lambda: self.embedder,
                rebuild=rebuild,
                progress=progress,
                export_query_encoder=export_query_encoder,
            )
        self._invalidate()
        return report

    def add_document(self, filename: str, content: bytes) -> IngestReport:
        """Store an uploaded file in the corpus under a safe name, then index it.

        The file is parsed before it enters the corpus, so a bad upload changes nothing;
        an upload with an existing name replaces that document (restored if indexing fails).
        """
        target = safe_corpus_path(self.settings.corpus_dir, filename)
        if len(content) > self.settings.max_upload_bytes:
            raise CorpusError(
                f"Upload is {len(content)} bytes, over the "
                f"{self.settings.max_upload_bytes}-byte limit.",
                remedy="Split the document or raise QA_MAX_UPLOAD_BYTES.",
            )
        with self._write_lock:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Hidden names are never ingested, so the staged file cannot leak into a build.
            staged = target.with_name(f".{target.name}.upload{target.suffix}")
            backup = target.with_name(f".{target.name}.previous")
            staged.write_bytes(content)
            try:
                read_document(staged, self.settings.corpus_dir,
                              max_bytes=self.settings.max_file_bytes)  # fmt: skip
            except DocumentParseError as exc:
                staged.unlink(missing_ok=True)
                raise CorpusError(
                    exc.message.replace(staged.name, filename),
                    remedy=f"Upload a readable {describe_formats()} file.",
                ) from exc
            replaced = target.exists()
            if replaced:
                target.replace(backup)
            staged.replace(target)
            indexed = False
            try:
                report = self.builder.build(None, embedder_factory=lambda: self.embedder)
                indexed = True
            finally:
                if not indexed:  # leave the corpus as it was
                    target.unlink(missing_ok=True)
                    if replaced:
                        backup.replace(target)
            backup.unlink(missing_ok=True)
        self._invalidate()
        return report

    def remove_document(self, document_id: str) -> IngestReport:
        """Delete a document's file from the corpus and drop it from the index."""
        snapshot, _ = self.current()
        document = snapshot.document(document_id)
        path = safe_corpus_path(self.settings.corpus_dir, document.source)
        with self._write_lock:
            path.unlink(missing_ok=True)
            report = self.builder.build(None, embedder_factory=lambda: self.embedder)
        self._invalidate()
        return report

    def _invalidate(self) -> None:
        with self._read_lock:
            self._snapshot, self._retriever = None, None

    # -- reading ------------------------------------------------------------------------

    def check_question(self, text: str, *, what: str = "question") -> str:
        """Strip `text` and enforce the length limits, or raise `QueryError`."""
        cleaned = text.strip() if isinstance(text, str) else ""
        if not cleaned:
            raise QueryError(
                f"The {what} is empty.", remedy=f"Type a {what} with some words in it."
            )
        if len(cleaned) > self.settings.max_question_chars:
            raise QueryError(
                f"The {what} has {len(cleaned)} characters; the limit is "
                f"{self.settings.max_question_chars}.",
                remedy=f"Shorten the {what}.",
            )
        return cleaned

    def _check_k(self, k: int | None) -> int:
        k = self.settings.k if k is None else k
        if not 1 <= k <= self.settings.max_k:
            raise QueryError(f"k must be between 1 and {self.settings.max_k}, not {k}.")
        return k

    def search(
        self, query: str, *, k: int | None = None, documents: Sequence[str] | None = None
    ) -> SearchResult:
        """The top-`k` passages for `query` by hybrid retrieval."""
        query = self.check_question(query, what="query")
        _, retriever = self.current()
        hits = retriever.search(query, k=self._check_k(k), documents=documents)
        return SearchResult(query=query, hits=hits)

    def ask(
        self, question: str, *, k: int | None = None, documents: Sequence[str] | None = None
    ) -> Answer:
        """An extractive answer citing its passages, or an abstention with suggestions."""
        question = self.check_question(question)
        snapshot, retriever = self.current()
        candidates = retriever.retrieve(question, k=self._check_k(k), documents=documents)
        return compose_answer(question, candidates, snapshot, retriever, self.settings)

    def documents(self) -> list[DocumentInfo]:
        """Every indexed document, in source order."""
        snapshot, _ = self.current()
        return snapshot.document_infos()

    def document(self, document_id: str) -> DocumentDetail:
        """One document with its normalised text."""
        snapshot, _ = self.current()
        return snapshot.document_detail(document_id)

    def passage(self, passage_id: str) -> PassageDetail:
        """One passage with the ids of its neighbours in the same document."""
        snapshot, _ = self.current()
        return snapshot.passage_detail(passage_id)

    def status(self) -> IndexStatus:
        """Index summary and staleness against the corpus, without loading a model."""
        return self.store.status()

    def _snapshot_only(self) -> IndexSnapshot:
        # The field map needs no retriever: never load a model or the ONNX encoder for it.
        with self._read_lock:
            snapshot = self._snapshot
        if snapshot is not None and not self.store.has_newer_than(snapshot):
            return snapshot
        return self.store.load()

    def fields(
        self,
        documents: Sequence[str] | None = None,
        actors: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> FieldMap:
        """The cooperation-field map: actors x fields, each cell with its cited sentences.

        `documents` (ids or sources) limits the corpus; `actors` (ids or names) keeps the
        cells of those actors, their blocs or members, and the cells naming them as
        partners; `fields` (ids) keeps those columns. Read from the build: no model runs.
        """
        snapshot = self._snapshot_only()
        cached = self._fields
        if cached is None or cached[0] != snapshot.build_id:
            cached = (snapshot.build_id, require_fields(snapshot.path / layout.FIELDS))
            self._fields = cached
        chosen = [snapshot.document(d).id for d in documents] if documents else None
        return assemble_map(
            cached[1],
            lambda passage_id: snapshot.passage(snapshot.row_of(passage_id)),
            documents=chosen,
            actors=actors,
            fields=fields,
        )


__all__ = ["QAService"]
