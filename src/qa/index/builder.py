"""The build pipeline: plan the changes, chunk and embed what is new a batch at a time
(streaming passages and vectors to disk), write a build aside, and hand it to the store to
swap in. Progress is reported through a callback, so terminal UI stays in the CLI.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.chunking import chunk_document
from qa.encoders.base import Embedder, QueryEncoder, SpanEncoder
from qa.fields.build import map_documents
from qa.fields.store import StoredFields, read_fields, write_fields
from qa.fields.taxonomy import Taxonomy, load_taxonomy
from qa.index import layout
from qa.index.plan import ChangePlan
from qa.index.snapshot import IndexSnapshot
from qa.index.store import IndexStore
from qa.index.writer import (
    PASSAGE_VECTOR,
    Advance,
    EmbeddingCache,
    PassageSink,
    embed_passages,
    search_text,
    staged_passages,
)
from qa.models import Document, IngestReport, Passage

if TYPE_CHECKING:
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

EmbedderFactory = Callable[[], Embedder]
# Called with (label, total); returns a context whose value is told how many items are done.
Progress = Callable[[str, int], AbstractContextManager[Advance]]


# Sentence vectors pooled out of the passage pass, instead of embedded in the same batch.
POOL_SENTENCES = False


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
            documents = sorted([*plan.kept, *plan.fresh], key=lambda d: d.source)
            staging = self.store.staging()
            encoder: QueryEncoder = embedder
            if export_query_encoder:
                # Export first: the ONNX model gives the same vectors about twice as fast.
                encoder = _add_query_encoder(staging, embedder, previous) or embedder
            fresh = {d.id for d in plan.fresh}
            sink = PassageSink(staging, embedder.dimension)
            cache = EmbeddingCache(self.store.root / layout.CACHE, encoder.model_id)
            with (progress or _silent)("Embedding", len(fresh)) as advance:
                batches = _Batches(
                    sink, encoder, cache, size=self.settings.batch_size * 4, advance=advance
                )
                for number, document in enumerate(documents):
                    if document.id not in fresh:
                        assert previous is not None  # kept documents come from it
                        old = previous.rows_for([document.id])
                        assert old is not None and len(old)
                        # A document's rows are contiguous.
                        sink.copy(previous, int(old[0]), int(old[-1]) + 1, number)
                        continue
                    for passage in chunk_document(
                        document,
                        embedder,
                        size=self.settings.chunk_size,
                        overlap=self.settings.chunk_overlap,
                        min_tokens=self.settings.min_chunk_tokens,
                    ):
                        batches.add(passage, search_text(passage, document), number)
                    batches.document_done()
                batches.flush()
            sink.close()
            stored = self._map_fields(
                staging,
                documents,
                staged_passages(staging),
                taxonomy,
                old_fields,
                encoder,
                progress or _silent,
            )
            write_fields(staging / layout.FIELDS, stored)
            self.store.publish(
                staging,
                documents,
                sink,
                plan.stats,
                embedder,
                previous,
                skipped=plan.skipped_entries(),
                taxonomy_digest=taxonomy.digest,
            )
            shutil.rmtree(self.store.root / layout.CACHE, ignore_errors=True)
        return plan.report(len(sink), batches.embedded, time.perf_counter() - started)

    def _map_fields(
        self,
        staging: Path,
        documents: list[Document],
        passages: Iterable[Passage],
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


class _Batches:
    """Fresh passages gathered into batches, embedded, and written to their reserved rows.

    A batch is one model call over its passages' sentences (and the headings and labels a
    passage's search text adds), which the encoders sort by length so little goes on
    padding. A passage's vector is then the mean of its parts' vectors
    (`embed_passages`), so no token is embedded twice: this halves ingest's model work,
    and retrieved as well as embedding the passage whole (`benchmarks/README.md`,
    "Passage vectors from sentence vectors"). Pooling sentence vectors out of a passage
    pass instead (`SpanEncoder`, `POOL_SENTENCES`) picked the answer sentence 4-5 points
    less often on PolicyQA (`benchmarks/bench_sentence_pooling.py`), so it is off.
    """

    def __init__(
        self,
        sink: PassageSink,
        encoder: QueryEncoder,
        cache: EmbeddingCache,
        *,
        size: int,
        advance: Advance,
    ) -> None:
        self.sink = sink
        self.encoder = encoder
        self.cache = cache
        self.size = size
        self.advance = advance
        self.pooled = POOL_SENTENCES and isinstance(encoder, SpanEncoder)
        self.embedded = 0
        self._items: list[tuple[int, int, str, list[tuple[int, int]]]] = []
        self._done = 0  # documents whose passages are all gathered, not yet reported

    def add(self, passage: Passage, text: str, document: int) -> None:
        """Give `passage` (of the `document`-th document) its rows; embed when a batch is full."""
        row, sentence_row = self.sink.add(passage, document)
        self._items.append((row, sentence_row, text, list(passage.sentences)))
        self.embedded += 1
        if len(self._items) >= self.size:
            self.flush()

    def document_done(self) -> None:
        self._done += 1

    def flush(self) -> None:
        """Embed what is gathered (what an interrupted run cached is not embedded again)."""
        if self._items:
            self._embed(self._items)
        self._items = []
        self.advance(self._done)
        self._done = 0

    def _embed(self, items: list[tuple[int, int, str, list[tuple[int, int]]]]) -> None:
        cache = self.cache
        keys = [self._keys(text, spans) for _, _, text, spans in items]
        pending = [i for i, ks in enumerate(keys) if any(cache.get(k) is None for k in ks)]
        for i in set(range(len(items))) - set(pending):
            row, sentence_row, _, _ = items[i]
            vectors = np.stack([cache.get(k) for k in keys[i]])  # type: ignore[misc]
            self.sink.vectors.write(row, vectors[:1])
            self.sink.sentence_vectors.write(sentence_row, vectors[1:])
        if not pending:
            return
        texts = [items[i][2] for i in pending]
        spans = [items[i][3] for i in pending]
        if self.pooled:
            assert isinstance(self.encoder, SpanEncoder)
            vectors, sentences = self.encoder.encode_spans(texts, spans)
            flat_keys = [k for i in pending for k in keys[i]]
            cache.save(flat_keys, _interleave(vectors, sentences, spans))
        else:
            vectors, sentences = embed_passages(self.encoder, texts, spans)
            cache.save(
                [keys[i][0] for i in pending] + [k for i in pending for k in keys[i][1:]],
                np.concatenate([vectors, sentences]),
            )
        at = 0
        for j, i in enumerate(pending):
            row, sentence_row, _, span = items[i]
            self.sink.vectors.write(row, vectors[j : j + 1])
            self.sink.sentence_vectors.write(sentence_row, sentences[at : at + len(span)])
            at += len(span)

    def _keys(self, text: str, spans: list[tuple[int, int]]) -> list[str]:
        """Cache keys of a passage's vector, then of each of its sentence vectors."""
        if self.pooled:
            # Pooled vectors depend on the passage around the sentence, not just its text.
            return [self.cache.key(text)] + [
                self.cache.key(f"pooled\x00{a}\x00{b}\x00{text}") for a, b in spans
            ]
        head = self.cache.key(f"{PASSAGE_VECTOR}\x00{text}")
        return [head] + [self.cache.key(text[a:b]) for a, b in spans]


def _interleave(
    vectors: NDArray[np.float32], sentences: NDArray[np.float32], spans: list[list[tuple[int, int]]]
) -> NDArray[np.float32]:
    """Each passage's vector followed by its sentences' vectors, in the order of `_keys`."""
    rows: list[NDArray[np.float32]] = []
    at = 0
    for j, span in enumerate(spans):
        rows += [vectors[j : j + 1], sentences[at : at + len(span)]]
        at += len(span)
    return np.concatenate(rows) if rows else vectors


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
