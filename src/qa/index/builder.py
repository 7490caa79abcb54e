"""The build pipeline: plan the changes, chunk and embed what is new, write a build aside,
and hand it to the store to swap in. Progress is reported through a callback, so terminal
UI stays in the CLI.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

from qa.chunking import chunk_document
from qa.encoders.base import Embedder, QueryEncoder
from qa.fields.build import map_documents
from qa.fields.store import StoredFields, read_fields, write_fields
from qa.fields.taxonomy import Taxonomy, load_taxonomy
from qa.index import layout
from qa.index.plan import ChangePlan
from qa.index.snapshot import IndexSnapshot
from qa.index.store import IndexStore
from qa.index.writer import Advance, EmbeddingCache, embed_into, search_text
from qa.models import Document, IngestReport, Passage

logger = logging.getLogger(__name__)

EmbedderFactory = Callable[[], Embedder]
# Called with (label, total); returns a context whose value is told how many items are done.
Progress = Callable[[str, int], AbstractContextManager[Advance]]


def _silent(label: str, total: int) -> AbstractContextManager[Advance]:
    return nullcontext(lambda n: None)


class IndexBuilder:
    """Brings the store's index up to date with the corpus, one atomic build at a time."""

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self.settings = store.settings

    def build(
        self,
        paths: Sequence[Path] | None,
        *,
        embedder_factory: EmbedderFactory,
        rebuild: bool = False,
        progress: Progress | None = None,
        export_query_encoder: bool = True,
    ) -> IngestReport:
        """Bring the index up to date with the corpus (or just `paths` within it)."""
        started = time.perf_counter()
        taxonomy = load_taxonomy(self.settings)  # a malformed taxonomy fails before any work
        with self.store.locked():
            previous = self.store.reusable(rebuild)
            plan = ChangePlan.make(self.settings, previous, paths)
            old_fields = read_fields(previous.path / layout.FIELDS) if previous else None
            fields_current = old_fields is not None and old_fields.is_reusable_for(
                taxonomy, self.settings.embedding_model
            )
            if previous is not None and not plan.has_changes and fields_current:
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
            staging = self.store.staging()
            encoder: QueryEncoder = embedder
            if export_query_encoder:
                # Export first: the ONNX model gives the same vectors about twice as fast.
                encoder = _add_query_encoder(staging, embedder, previous) or embedder
            embedded = self._fill_vectors(
                staging, documents, passages, new_passages, previous, encoder, progress or _silent
            )
            stored = self._map_fields(
                staging, documents, passages, taxonomy, old_fields, encoder, progress or _silent
            )
            write_fields(staging / layout.FIELDS, stored)
            self.store.publish(staging, documents, passages, plan.stats, embedder, previous)
            shutil.rmtree(self.store.root / layout.CACHE, ignore_errors=True)
        return plan.report(len(passages), embedded, time.perf_counter() - started)

    def _fill_vectors(
        self,
        staging: Path,
        documents: list[Document],
        passages: list[Passage],
        new_passages: dict[str, list[Passage]],
        previous: IndexSnapshot | None,
        embedder: QueryEncoder,
        progress: Progress,
    ) -> int:
        """Write passage and sentence vectors straight into memory-mapped files.

        Kept documents are copied row ranges of the previous build; new ones are embedded
        a chunk at a time, so memory holds one chunk of vectors, not the corpus.
        """
        dim = embedder.dimension
        n_sentences = sum(len(p.sentences) for p in passages)
        vectors = open_memmap(staging / layout.VECTORS, "w+", np.float32, (len(passages), dim))
        sentences = open_memmap(
            staging / layout.SENTENCE_VECTORS, "w+", layout.SENTENCE_DTYPE, (n_sentences, dim)
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
                for text in passage.sentence_texts():
                    fresh_sentences.append((s_at, text))
                    s_at += 1
        cache = EmbeddingCache(self.store.root / layout.CACHE, embedder.model_id)
        chunk = self.settings.batch_size * 4
        total = len(fresh_texts) + len(fresh_sentences)
        with progress("Embedding", total) as advance:
            embed_into(vectors, fresh_texts, embedder, cache, chunk=chunk, advance=advance)
            embed_into(sentences, fresh_sentences, embedder, cache, chunk=chunk, advance=advance)
        vectors.flush()
        sentences.flush()
        return len(fresh_texts)

    def _map_fields(
        self,
        staging: Path,
        documents: list[Document],
        passages: list[Passage],
        taxonomy: Taxonomy,
        previous: StoredFields | None,
        encoder: QueryEncoder,
        progress: Progress,
    ) -> StoredFields:
        """The field map of the build: unchanged documents' evidence is copied."""
        by_document: dict[str, list[Passage]] = {}
        first_sentence: dict[str, int] = {}
        row = 0
        for passage in passages:
            by_document.setdefault(passage.document_id, []).append(passage)
            first_sentence[passage.id] = row
            row += len(passage.sentences)
        sentences = np.load(staging / layout.SENTENCE_VECTORS, mmap_mode="r")

        def sentence_vector(passage_id: str, index: int) -> np.ndarray | None:
            return np.asarray(sentences[first_sentence[passage_id] + index], dtype=np.float32)

        with progress("Mapping fields", len(documents)) as advance:
            stored, _ = map_documents(
                documents,
                lambda document_id: by_document.get(document_id, []),
                taxonomy=taxonomy,
                encoder=encoder,
                model=self.settings.embedding_model,
                previous=previous,
                sentence_vector=sentence_vector,
                advance=advance,
            )
        return stored


def _add_query_encoder(
    folder: Path, embedder: Embedder, previous: IndexSnapshot | None
) -> QueryEncoder | None:
    """Put an ONNX export of the model in `folder/onnx`; return an encoder over it."""
    from qa.encoders.onnx import find_export, open_export
    from qa.encoders.onnx_export import export_query_encoder

    old = find_export(previous.path / layout.ONNX) if previous is not None else None
    if old is not None:
        shutil.copytree(old, folder / layout.ONNX)
        export: Path | None = folder / layout.ONNX
    elif (model := getattr(embedder, "model", None)) is not None:
        export = export_query_encoder(model, folder / layout.ONNX)
    else:
        return None
    return None if export is None else open_export(export, model_id=embedder.model_id)


def _kept_passages(previous: IndexSnapshot | None, document_id: str) -> list[Passage]:
    assert previous is not None  # only documents of the previous build are kept
    rows = previous.rows_for([document_id])
    assert rows is not None
    return [previous.passage(int(r)) for r in rows]
