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
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

from qa import version as qa_version
from qa.builder import (
    SENTENCE_DTYPE,
    EmbeddingCache,
    embed_into,
    progress_bar,
    search_text,
    sentence_texts,
    write_build,
)
from qa.changes import ChangePlan, is_unchanged
from qa.chunking import CHUNKER_VERSION, chunk_document
from qa.config import Settings
from qa.embedding import Embedder, QueryEncoder
from qa.errors import IndexMismatchError, IndexNotFoundError
from qa.ingest import discover
from qa.models import Document, IndexStatus, IngestReport, Passage
from qa.snapshot import SCHEMA_VERSION, DocumentEntry, IndexSnapshot, Manifest

logger = logging.getLogger(__name__)

EmbedderFactory = Callable[[], Embedder]


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
            for path, source in discover(root):
                seen.add(source)
                entry = manifest.documents.get(source)
                if entry is None:
                    reasons.append(f"new file {source}")
                elif not is_unchanged(path, entry):
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
            documents = sorted([*plan.kept, *plan.fresh], key=lambda d: d.source)
            passages = [
                p
                for d in documents
                for p in (
                    new_passages[d.id] if d.id in new_passages else _kept_passages(previous, d.id)
                )
            ]
            staging = self._staging()
            encoder: QueryEncoder = embedder
            if export_query_encoder:
                # Export first: the ONNX model gives the same vectors about twice as fast.
                encoder = self._add_query_encoder(staging, embedder, previous) or embedder
            embedded = self._fill_vectors(
                staging, documents, passages, new_passages, previous, encoder, progress
            )
            self._publish(staging, documents, passages, plan.stats, embedder, previous)
            shutil.rmtree(self.root / ".cache", ignore_errors=True)
        return plan.report(len(passages), embedded, time.perf_counter() - started)

    def _staging(self) -> Path:
        build_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        self.builds.mkdir(parents=True, exist_ok=True)
        staging = self.builds / f".{build_id}.partial"
        staging.mkdir()
        return staging

    def _fill_vectors(
        self,
        staging: Path,
        documents: list[Document],
        passages: list[Passage],
        new_passages: dict[str, list[Passage]],
        previous: IndexSnapshot | None,
        embedder: QueryEncoder,
        progress: bool,
    ) -> int:
        """Write passage and sentence vectors straight into memory-mapped files.

        Kept documents are copied row ranges of the previous build; new ones are embedded
        a chunk at a time, so memory holds one chunk of vectors, not the corpus.
        """
        dim = embedder.dimension
        n_sentences = sum(len(p.sentences) for p in passages)
        vectors = open_memmap(staging / "vectors.npy", "w+", np.float32, (len(passages), dim))
        sentences = open_memmap(
            staging / "sentence_vectors.npy", "w+", SENTENCE_DTYPE, (n_sentences, dim)
        )
        by_id = {d.id: d for d in documents}
        fresh_texts: list[tuple[int, str]] = []
        fresh_sentences: list[tuple[int, str]] = []
        p_at = s_at = 0
        for document in documents:
            rows = new_passages.get(document.id)
            if rows is None:
                assert previous is not None  # kept documents come from it
                old = previous.rows_for([document.id])
                assert old is not None and len(old)
                first, last = int(old[0]), int(old[-1]) + 1  # a document's rows are contiguous
                s0, s1 = int(previous.sentence_starts[first]), int(previous.sentence_starts[last])
                vectors[p_at : p_at + last - first] = previous.vectors[first:last]
                sentences[s_at : s_at + s1 - s0] = previous.sentence_vectors[s0:s1]
                p_at, s_at = p_at + last - first, s_at + s1 - s0
                continue
            for passage in rows:
                fresh_texts.append((p_at, search_text(passage, by_id[document.id])))
                p_at += 1
                for text in sentence_texts(passage):
                    fresh_sentences.append((s_at, text))
                    s_at += 1
        cache = EmbeddingCache(self.root / ".cache", embedder.model_id)
        chunk = self.settings.batch_size * 4
        total = len(fresh_texts) + len(fresh_sentences)
        with progress_bar(total, enabled=progress, label="Embedding") as advance:
            embed_into(vectors, fresh_texts, embedder, cache, chunk=chunk, advance=advance)
            embed_into(sentences, fresh_sentences, embedder, cache, chunk=chunk, advance=advance)
        vectors.flush()
        sentences.flush()
        return len(fresh_texts)

    def _publish(
        self,
        staging: Path,
        documents: list[Document],
        passages: list[Passage],
        stats: dict[str, tuple[int, int]],
        embedder: Embedder,
        previous: IndexSnapshot | None,
    ) -> None:
        build_id = staging.name.removeprefix(".").removesuffix(".partial")
        vectors = np.load(staging / "vectors.npy", mmap_mode="r")
        kind = write_build(
            staging, documents, passages, vectors, flat_max=self.settings.flat_index_max
        )
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
            sentence_count=sum(len(p.sentences) for p in passages),
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
        (staging / "manifest.json").write_text(manifest.model_dump_json(indent=2))
        final = self.builds / build_id
        staging.rename(final)
        link = self.root / f".current.{build_id}"
        link.symlink_to(final.relative_to(self.root))
        link.replace(self.pointer)  # the atomic swap
        self._prune(keep={final.name, previous.build_id if previous else ""})

    def _add_query_encoder(
        self, folder: Path, embedder: Embedder, previous: IndexSnapshot | None
    ) -> QueryEncoder | None:
        """Put an ONNX export of the model in `folder/onnx`; return an encoder over it."""
        from qa.onnx_encoder import OnnxQueryEncoder, export_query_encoder, find_export

        old = find_export(previous.path) if previous is not None else None
        if old is not None:
            shutil.copytree(old, folder / "onnx")
            export: Path | None = folder / "onnx"
        elif (model := getattr(embedder, "model", None)) is not None:
            export = export_query_encoder(model, folder / "onnx")
        else:
            return None
        if export is None:
            return None
        try:
            return OnnxQueryEncoder(export, model_id=embedder.model_id)
        except (OSError, ValueError, RuntimeError) as exc:
            logger.warning("ONNX export unusable for ingest (%s); using the model", exc)
            return None

    def _prune(self, keep: set[str]) -> None:
        # Keep the previous build too: a reader may still be opening its files.
        for path in self.builds.iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
        for link in self.root.glob(".current.*"):
            link.unlink(missing_ok=True)


def _kept_passages(previous: IndexSnapshot | None, document_id: str) -> list[Passage]:
    assert previous is not None  # only documents of the previous build are kept
    rows = previous.rows_for([document_id])
    assert rows is not None
    return [previous.passage(int(r)) for r in rows]
