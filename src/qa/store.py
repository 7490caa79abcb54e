"""The index folder: incremental builds written aside and swapped in atomically.

    index/
      current -> builds/<build_id>     symlink, replaced atomically after each build
      builds/<build_id>/               manifest.json, documents, passages, engines, onnx/
      .cache/                          embeddings of an unfinished build (for resume)
      .lock                            serialises builds across processes

A crash at any moment leaves `current` pointing at the previous complete build.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from qa.builder import (
    EmbeddingCache,
    embed_texts,
    progress_bar,
    search_text,
    sentence_texts,
    write_build,
)
from qa.changes import ChangePlan, file_hash
from qa.chunking import CHUNKER_VERSION, chunk_document
from qa.config import Settings
from qa.embedding import Embedder
from qa.errors import IndexMismatchError, IndexNotFoundError
from qa.ingest import discover
from qa.models import Document, IndexStatus, IngestReport, Passage
from qa.snapshot import SCHEMA_VERSION, DocumentEntry, IndexSnapshot, Manifest

logger = logging.getLogger(__name__)

EmbedderFactory = Callable[[], Embedder]


def qa_version() -> str:
    try:
        return version("qa")
    except PackageNotFoundError:
        return "0+unknown"


class IndexStore:
    """Owns `settings.index_dir`: build, load, validate, swap, and report status."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.index_dir
        self.builds = self.root / "builds"
        self.pointer = self.root / "current"

    # -- reading -----------------------------------------------------------------------

    def current_build(self) -> Path | None:
        """The build folder `current` points at, if any."""
        try:
            target = os.readlink(self.pointer)
        except OSError:
            return None
        path = self.root / target
        return path if path.is_dir() else None

    def has_newer_than(self, snapshot: IndexSnapshot) -> bool:
        """True when another build has been swapped in since `snapshot` was loaded."""
        current = self.current_build()
        return current is not None and current.name != snapshot.build_id

    def load(self) -> IndexSnapshot:
        """Open the current build, checking it matches the settings."""
        path = self.current_build()
        if path is None:
            raise IndexNotFoundError(
                f"No index in {self.root}.", remedy="Run `qa ingest` to build it."
            )
        snapshot = IndexSnapshot.open(path)
        self._check(snapshot.manifest)
        return snapshot

    def _check(self, manifest: Manifest) -> None:
        if manifest.schema_version != SCHEMA_VERSION:
            raise IndexMismatchError(
                f"The index has schema {manifest.schema_version}; this qa reads {SCHEMA_VERSION}.",
                remedy="Run `qa ingest --rebuild`.",
            )
        if manifest.model != self.settings.embedding_model:
            raise IndexMismatchError(
                f"The index was built with model {manifest.model!r}, but QA_EMBEDDING_MODEL is "
                f"{self.settings.embedding_model!r}.",
                remedy="Run `qa ingest --rebuild`, or set QA_EMBEDDING_MODEL back.",
            )

    def _chunking(self) -> dict[str, int]:
        s = self.settings
        return {
            "size": s.chunk_size,
            "overlap": s.chunk_overlap,
            "min_tokens": s.min_chunk_tokens,
            "version": CHUNKER_VERSION,
        }

    def status(self) -> IndexStatus:
        """What is built and whether it is stale, reading only the manifest and the corpus."""
        base = {"index_dir": str(self.root), "corpus_dir": str(self.settings.corpus_dir)}
        path = self.current_build()
        if path is None:
            return IndexStatus(**base, built=False, is_stale=True, stale_reasons=["no index"])
        snapshot = IndexSnapshot.open(path)
        manifest = snapshot.manifest
        return IndexStatus(
            **base,
            built=True,
            model=manifest.model,
            dimension=manifest.dimension,
            documents=snapshot.document_infos(),
            passage_count=manifest.passage_count,
            built_at=manifest.built_at,
            version=manifest.build_id,
            is_stale=bool(reasons := self.stale_reasons(manifest)),
            stale_reasons=reasons,
        )

    def stale_reasons(self, manifest: Manifest) -> list[str]:
        """Why the build no longer matches the corpus or settings (empty when current)."""
        reasons: list[str] = []
        if manifest.model != self.settings.embedding_model:
            reasons.append(f"model changed to {self.settings.embedding_model}")
        if manifest.chunking != self._chunking():
            reasons.append("chunking settings changed")
        root = self.settings.corpus_dir
        seen: set[str] = set()
        if root.is_dir():
            for path in discover(root):
                source = path.resolve().relative_to(root.resolve()).as_posix()
                seen.add(source)
                entry = manifest.documents.get(source)
                if entry is None:
                    reasons.append(f"new file {source}")
                elif entry.content_hash != file_hash(path):
                    reasons.append(f"changed file {source}")
        reasons += [f"removed file {s}" for s in manifest.documents if s not in seen]
        return reasons

    # -- writing -----------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _reusable(self, rebuild: bool) -> IndexSnapshot | None:
        if rebuild or (path := self.current_build()) is None:
            return None
        try:
            snapshot = IndexSnapshot.open(path)
            self._check(snapshot.manifest)
        except (IndexMismatchError, OSError, ValueError) as exc:
            logger.warning("previous index not reusable (%s); rebuilding everything", exc)
            return None
        if snapshot.manifest.chunking != self._chunking():
            logger.warning("chunking settings changed; rebuilding everything")
            return None
        return snapshot

    def build(
        self,
        paths: Sequence[Path] | None,
        *,
        embedder_factory: EmbedderFactory,
        rebuild: bool = False,
        progress: bool = False,
        export_query_encoder: bool = True,
    ) -> IngestReport:
        """Bring the index up to date with the corpus (or just `paths` within it)."""
        started = time.perf_counter()
        with self._locked():
            previous = self._reusable(rebuild)
            plan = ChangePlan.make(self.settings, previous, paths)
            if previous is not None and not plan.has_changes:
                return plan.report(len(previous), 0, time.perf_counter() - started)
            embedder = embedder_factory()
            new_passages = {
                d.id: chunk_document(
                    d,
                    embedder,
                    size=self.settings.chunk_size,
                    overlap=self.settings.chunk_overlap,
                    min_tokens=self.settings.min_chunk_tokens,
                )
                for d in plan.fresh
            }
            documents, passages, vectors, sentences, embedded = self._assemble(
                plan, previous, new_passages, embedder, progress
            )
            self._publish(
                documents, passages, vectors, sentences, embedder,
                previous if export_query_encoder else None, export=export_query_encoder,
            )  # fmt: skip
            shutil.rmtree(self.root / ".cache", ignore_errors=True)
        return plan.report(len(passages), embedded, time.perf_counter() - started)

    def _assemble(
        self,
        plan: ChangePlan,
        previous: IndexSnapshot | None,
        new_passages: dict[str, list[Passage]],
        embedder: Embedder,
        progress: bool,
    ) -> tuple[list[Document], list[Passage], np.ndarray, np.ndarray, int]:
        by_id = {d.id: d for d in plan.fresh}
        fresh = [p for d in plan.fresh for p in new_passages[d.id]]
        texts = [search_text(p, by_id[p.document_id]) for p in fresh]
        sentence_list = [s for p in fresh for s in sentence_texts(p)]
        cache = EmbeddingCache(self.root / ".cache", embedder.model_id)
        chunk = self.settings.batch_size * 4
        with progress_bar(
            len(texts) + len(sentence_list), enabled=progress, label="Embedding"
        ) as advance:
            fresh_vectors = embed_texts(texts, embedder, cache, chunk=chunk, advance=advance)
            fresh_sentences = embed_texts(
                sentence_list, embedder, cache, chunk=chunk, advance=advance
            )
        # Fresh vectors are in `plan.fresh` order; documents are written in source order.
        fresh_at: dict[str, tuple[int, int]] = {}
        p_at = s_at = 0
        for document in plan.fresh:
            fresh_at[document.id] = (p_at, s_at)
            p_at += len(new_passages[document.id])
            s_at += sum(len(p.sentences) for p in new_passages[document.id])
        documents: list[Document] = []
        passages: list[Passage] = []
        vector_parts: list[np.ndarray] = []
        sentence_parts: list[np.ndarray] = []
        for document in sorted([*plan.kept, *plan.fresh], key=lambda d: d.source):
            documents.append(document)
            if document.id in fresh_at:
                rows = new_passages[document.id]
                p0, s0 = fresh_at[document.id]
                n_sentences = sum(len(p.sentences) for p in rows)
                passages += rows
                vector_parts.append(fresh_vectors[p0 : p0 + len(rows)])
                sentence_parts.append(fresh_sentences[s0 : s0 + n_sentences])
            else:
                assert previous is not None  # kept documents come from it
                kept_rows = previous.rows_for([document.id])
                assert kept_rows is not None
                passages += [previous.passage(int(r)) for r in kept_rows]
                vector_parts.append(np.asarray(previous.vectors[kept_rows]))
                for r in kept_rows:
                    span = previous.sentence_rows(int(r))
                    sentence_parts.append(
                        np.asarray(previous.sentence_vectors[span.start : span.stop])
                    )
        dim = embedder.dimension
        vectors = np.concatenate(vector_parts) if vector_parts else np.zeros((0, dim), np.float32)
        sentences = (
            np.concatenate(sentence_parts) if sentence_parts else np.zeros((0, dim), np.float32)
        )
        return documents, passages, vectors, sentences, len(texts)

    def _publish(
        self,
        documents: list[Document],
        passages: list[Passage],
        vectors: np.ndarray,
        sentences: np.ndarray,
        embedder: Embedder,
        previous: IndexSnapshot | None,
        *,
        export: bool,
    ) -> None:
        build_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        self.builds.mkdir(parents=True, exist_ok=True)
        staging = self.builds / f".{build_id}.partial"
        staging.mkdir()
        kind = write_build(
            staging, documents, passages, vectors, sentences, flat_max=self.settings.flat_index_max
        )
        if export:
            self._add_query_encoder(staging, embedder, previous)
        counts: dict[str, int] = {}
        for passage in passages:
            counts[passage.document_id] = counts.get(passage.document_id, 0) + 1
        manifest = Manifest(
            schema_version=SCHEMA_VERSION,
            qa_version=qa_version(),
            build_id=build_id,
            built_at=datetime.now(UTC),
            model=embedder.model_id,
            dimension=embedder.dimension,
            chunking=self._chunking(),
            dense_kind=kind,
            passage_count=len(passages),
            sentence_count=len(sentences),
            documents={
                d.source: DocumentEntry(
                    id=d.id, content_hash=d.content_hash, passages=counts.get(d.id, 0)
                )
                for d in documents
            },
        )
        (staging / "manifest.json").write_text(manifest.model_dump_json(indent=2))
        final = self.builds / build_id
        staging.rename(final)
        link = self.root / f".current.{build_id}"
        link.symlink_to(final.relative_to(self.root))
        link.replace(self.pointer)  # the atomic swap
        self._prune(keep={final.name, previous.build_id if previous else ""})

    def _add_query_encoder(
        self, folder: Path, embedder: Embedder, previous: IndexSnapshot | None
    ) -> None:
        from qa.onnx_encoder import export_query_encoder, find_export

        if previous is not None and (old := find_export(previous.path)) is not None:
            shutil.copytree(old, folder / "onnx")
            return
        model = getattr(embedder, "model", None)
        if model is not None:
            export_query_encoder(model, folder / "onnx")

    def _prune(self, keep: set[str]) -> None:
        # Keep the previous build too: a reader may still be opening its files.
        for path in self.builds.iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
        for link in self.root.glob(".current.*"):
            link.unlink(missing_ok=True)
