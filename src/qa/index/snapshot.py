"""One built index, read-only: its manifest, documents, passages and search engines.

Passages are read lazily by row from `passages.jsonl` (byte offsets in
`passage_offsets.npy`), and vectors are memory-mapped, so opening a large index for
a one-shot question costs little.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.errors import IndexStoreError, NotFoundError
from qa.index import layout
from qa.index.layout import Manifest, read_manifest
from qa.models import Document, DocumentDetail, DocumentInfo, Passage, PassageDetail

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.retrieval.dense import DenseIndex
    from qa.retrieval.lexical import LexicalIndex


class IndexSnapshot:
    """A loaded, immutable build. Safe to share between threads."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self.path = path
        self.manifest = manifest
        self.build_id = manifest.build_id
        self._offsets: NDArray[np.int64] = np.load(path / layout.PASSAGE_OFFSETS)
        self.passage_documents: NDArray[np.int32] = np.load(path / layout.PASSAGE_DOCUMENTS)
        self.sentence_starts: NDArray[np.int64] = np.load(path / layout.SENTENCE_STARTS)
        # Held open: a build pruned while this snapshot still serves stays readable.
        self._passages = (path / layout.PASSAGES).open("rb")
        self._cache: dict[int, Passage] = {}

    @classmethod
    def open(cls, path: Path) -> IndexSnapshot:
        """Open the build folder `path`; `IndexStoreError` when it is damaged."""
        try:
            manifest = read_manifest(path)
            return cls(path, manifest)
        except (OSError, ValueError) as exc:
            raise IndexStoreError(
                f"The index at {path} is damaged ({exc}).", remedy="Run `qa ingest --rebuild`."
            ) from exc

    def warm(self) -> None:
        """Load every lazily opened part now, so a long-running server never reads a
        build folder after a later ingest has pruned it."""
        for part in ("vectors", "sentence_vectors", "dense", "lexical", "_documents",
                     "_rows_by_id", "_document_index", "_by_source"):  # fmt: skip
            getattr(self, part)

    # -- engines, loaded on first use -------------------------------------------------

    @cached_property
    def vectors(self) -> NDArray[np.float32]:
        vectors: NDArray[np.float32] = np.load(self.path / layout.VECTORS, mmap_mode="r")
        return vectors

    @cached_property
    def sentence_vectors(self) -> NDArray[np.float16]:
        vectors: NDArray[np.float16] = np.load(self.path / layout.SENTENCE_VECTORS, mmap_mode="r")
        return vectors

    @cached_property
    def dense(self) -> DenseIndex:
        from qa.retrieval.dense import DenseIndex

        return DenseIndex.load(self.path / layout.DENSE, self.vectors, self.manifest.dense_kind)

    @cached_property
    def lexical(self) -> LexicalIndex:
        from qa.retrieval.lexical import LexicalIndex

        return LexicalIndex.load(self.path / layout.LEXICAL)

    # -- documents -----------------------------------------------------------------------

    @cached_property
    def _documents(self) -> dict[str, Document]:
        documents: dict[str, Document] = {}
        with (self.path / layout.DOCUMENTS).open("rb") as lines:
            for line in lines:
                document = Document.model_validate_json(line)
                documents[document.id] = document
        return documents

    @cached_property
    def _document_index(self) -> dict[str, int]:
        # Position in documents.jsonl, which is the value stored in passage_documents.
        return {document_id: i for i, document_id in enumerate(self._documents)}

    @cached_property
    def _by_source(self) -> dict[str, Document]:
        return {d.source: d for d in self._documents.values()}

    def document(self, document_id: str) -> Document:
        """The document with this id (or source path); `NotFoundError` otherwise."""
        found = self._documents.get(document_id) or self._by_source.get(document_id)
        if found is None:
            raise NotFoundError(
                f"No document {document_id!r}.",
                remedy="List the documents to see their ids.",
                remedy_key="list_documents",
            )
        return found

    def document_infos(self) -> list[DocumentInfo]:
        return [self._info(d) for d in self._documents.values()]

    def _info(self, document: Document) -> DocumentInfo:
        entry = self.manifest.documents[document.source]
        return DocumentInfo(
            id=document.id,
            title=document.title,
            source=document.source,
            format=document.format,
            pages=len(document.page_starts) or None,
            passages=entry.passages,
            content_hash=document.content_hash,
            metadata=document.metadata,
        )

    def document_detail(self, document_id: str) -> DocumentDetail:
        document = self.document(document_id)
        return DocumentDetail(**self._info(document).model_dump(), text=document.text)

    # -- passages ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def passage(self, row: int) -> Passage:
        """The passage at `row` of the vectors."""
        cached = self._cache.get(row)
        if cached is None:
            start, end = int(self._offsets[row]), int(self._offsets[row + 1])
            raw = os.pread(self._passages.fileno(), end - start, start)  # thread-safe read
            cached = Passage.model_validate_json(raw)
            if len(self._cache) < 100_000:
                self._cache[row] = cached
        return cached

    def passage_lines(self, first: int, last: int) -> tuple[bytes, NDArray[np.int64]]:
        """The raw `passages.jsonl` lines of rows `first` to `last` (exclusive), unparsed,
        and where each line ends within them."""
        start, end = int(self._offsets[first]), int(self._offsets[last])
        ends = self._offsets[first + 1 : last + 1] - start
        return os.pread(self._passages.fileno(), end - start, start), ends

    @cached_property
    def passage_ids(self) -> list[str]:
        """The passage id of every row."""
        ids: list[str] = json.loads((self.path / layout.PASSAGE_IDS).read_text(encoding="utf-8"))
        return ids

    @cached_property
    def _rows_by_id(self) -> dict[str, int]:
        return {passage_id: row for row, passage_id in enumerate(self.passage_ids)}

    def row_of(self, passage_id: str) -> int:
        row = self._rows_by_id.get(passage_id)
        if row is None:
            raise NotFoundError(
                f"No passage {passage_id!r}.",
                remedy="Use a passage id from a search hit or a citation.",
                remedy_key="find_passage",
            )
        return row

    def passage_detail(self, passage_id: str) -> PassageDetail:
        row = self.row_of(passage_id)
        passage = self.passage(row)
        same = self.passage_documents
        previous = self.passage(row - 1).id if row > 0 and same[row - 1] == same[row] else None
        following = (
            self.passage(row + 1).id if row + 1 < len(self) and same[row + 1] == same[row] else None
        )
        return PassageDetail(passage=passage, previous_id=previous, next_id=following)

    def rows_for(self, documents: Sequence[str] | None) -> NDArray[np.int64] | None:
        """Rows of the named documents (ids or sources), or None for no filter."""
        if not documents:
            return None
        # A document's passages are one contiguous run of rows, in document order.
        wanted = sorted({self._document_index[self.document(d).id] for d in documents})
        order = self.passage_documents
        return np.concatenate(
            [
                np.arange(np.searchsorted(order, i, "left"), np.searchsorted(order, i, "right"))
                for i in wanted
            ]
        ).astype(np.int64)

    def sentence_rows(self, row: int) -> range:
        """Rows of `sentence_vectors` holding the sentences of passage `row`."""
        return range(int(self.sentence_starts[row]), int(self.sentence_starts[row + 1]))
