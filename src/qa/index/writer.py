"""Writing one build folder: reuse unchanged documents, embed the rest, write the engines.

Embeddings are cached in shards as batches finish, so an interrupted ingest resumes
without re-embedding what it had done.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from array import array
from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.encoders.base import QueryEncoder
from qa.index import layout
from qa.index.snapshot import IndexSnapshot
from qa.models import Document, Passage
from qa.retrieval.lexical import document_label

if TYPE_CHECKING:
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

Advance = Callable[[int], None]


def search_text(passage: Passage, document: Document) -> str:
    """What the engines index for a passage: its text, then its headings and metadata labels.

    The text comes first: chunking keeps it within the model's window, and whatever the
    window cuts from the end is context, never the passage itself.
    """
    parts = [passage.text]
    if passage.headings:
        parts.append(" > ".join(passage.headings))
    if any(
        kind in ("title", "meta") and start < passage.end and end > passage.start
        for start, end, kind, _ in document.blocks
    ):
        # Lets "who wrote this?" find the byline; the passage text itself is untouched.
        parts.append(
            "Document title, author, written by, published by, copyright: "
            + "; ".join(f"{k}: {v}" for k, v in document.metadata.items())
        )
    return "\n".join(parts)


def lexical_text(passage: Passage, document: Document) -> str:
    """What BM25 indexes for a passage: its search text, then its document's label (title
    and file-name words; `document_label`). Every passage of a document then holds the words
    that name it, so a question's "Amazon" or "2019" favours that document's passages and,
    within it, no longer the few sentences that happen to say the company's name; the
    passage's own words decide. No vector embeds the label.
    """
    return f"{search_text(passage, document)}\n{document_label(document.title, document.source)}"


# How a passage's vector is made from its parts' (a cache key prefix: change it with them).
PASSAGE_VECTOR = "sentence-mean-sqrt-chars"


def passage_parts(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """What is embedded for a passage's search `text`: each sentence, then what is left.

    What is left is the text outside the sentence spans (headings, metadata labels), as one
    piece; a passage without sentences is embedded whole.
    """
    if not spans:
        return [text]
    rest = [text[: spans[0][0]]] + [text[b:a] for (_, b), (a, _) in pairwise(spans)]
    rest.append(text[spans[-1][1] :])
    left = "\n".join(piece.strip() for piece in rest if piece.strip())
    return [text[a:b] for a, b in spans] + ([left] if left else [])


def _starts(parts: list[list[str]]) -> list[int]:
    return [int(n) for n in np.cumsum([0] + [len(p) for p in parts[:-1]])]


def passage_vectors(embedded: NDArray[np.float32], parts: list[list[str]]) -> NDArray[np.float32]:
    """Each passage's unit vector: the mean of its parts' vectors, weighted by √(characters).

    Weighting by length follows mean pooling (a long sentence holds more of the passage's
    tokens); the square root keeps one long sentence from standing for the whole passage.
    It was chosen on PolicyQA and SQuAD dev over weights of 1, of the length and of its
    square; on held-out documents it retrieves as well as a pass over the whole passage, or
    better (`benchmarks/README.md`).
    """
    rows = np.empty((len(parts), embedded.shape[1]), dtype=np.float32)
    for j, (start, pieces) in enumerate(zip(_starts(parts), parts, strict=True)):
        weights = np.sqrt(np.array([max(len(p), 1) for p in pieces], dtype=np.float32))
        mean = weights @ embedded[start : start + len(pieces)]
        rows[j] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return rows


def embed_passages(
    encoder: QueryEncoder, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(passage vectors, sentence vectors) of passages' search `texts`, in one model call.

    Only each passage's parts (`passage_parts`) are embedded, so no token is embedded twice;
    the sentence vectors are every passage's sentences in order.
    """
    parts = [passage_parts(text, list(span)) for text, span in zip(texts, spans, strict=True)]
    embedded = encoder.encode([piece for pieces in parts for piece in pieces])
    sentences = [
        embedded[start : start + len(span)]
        for start, span in zip(_starts(parts), spans, strict=True)
    ]
    empty = np.empty((0, embedded.shape[1]), dtype=np.float32)
    return passage_vectors(embedded, parts), np.concatenate([empty, *sentences])


class EmbeddingCache:
    """Vectors by text hash, persisted in shards under `folder` as batches finish.

    Only vectors from an earlier, interrupted run are held in memory (to resume it);
    new vectors go to disk and to the caller, not into this object.
    """

    def __init__(self, folder: Path, model_id: str) -> None:
        key = hashlib.sha1(model_id.encode()).hexdigest()[:12]
        self.folder = folder / key
        self._vectors: dict[str, NDArray[np.float32]] = {}
        self._model_id = model_id
        self._shards = 0
        if self.folder.is_dir():
            for shard in sorted(self.folder.glob("shard-*.npz")):
                self._shards += 1
                try:
                    with np.load(shard) as data:
                        for k, v in zip(data["keys"], data["vectors"], strict=True):
                            self._vectors[str(k)] = v
                except (OSError, ValueError, KeyError):
                    logger.warning("ignoring damaged embedding cache shard %s", shard)
        if self._vectors:
            logger.info("resuming: %d cached embeddings", len(self._vectors))

    def key(self, text: str) -> str:
        return hashlib.sha1(f"{self._model_id}\x00{text}".encode()).hexdigest()

    def get(self, key: str) -> NDArray[np.float32] | None:
        return self._vectors.get(key)

    def save(self, keys: Sequence[str], vectors: NDArray[np.float32]) -> None:
        """Persist one finished batch (atomically) so a later run can resume after it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        shard = self.folder / f"shard-{self._shards:06d}"
        self._shards += 1
        tmp = shard.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=vectors)
        tmp.replace(shard.with_suffix(".npz"))


class RowFile:
    """A 2-D `.npy` file written row by row, in any order, without knowing its length ahead.

    Rows are reserved as passages come, written when their batch is embedded, and the
    header (with the final shape) is written on `close`; nothing is held in memory.
    """

    HEADER = 128  # bytes: room for the header of any shape, a multiple of 64 as .npy wants

    def __init__(self, path: Path, dtype: type[np.generic], dim: int) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.dim = dim
        self.rows = 0
        self._row_bytes = self.dtype.itemsize * dim
        self._file = path.open("wb")

    def reserve(self, count: int) -> int:
        """The first of `count` new rows at the end of the file."""
        first, self.rows = self.rows, self.rows + count
        return first

    def write(self, row: int, block: NDArray[Any]) -> None:
        """Write `block` (rows × dim) from `row` on."""
        data = np.ascontiguousarray(block, dtype=self.dtype).reshape(-1, self.dim)
        assert row + len(data) <= self.rows, "write past the reserved rows"
        os.pwrite(self._file.fileno(), data.tobytes(), self.HEADER + row * self._row_bytes)

    def close(self) -> None:
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": (self.rows, self.dim),
        }
        text = repr(header).encode("latin1")
        prefix = b"\x93NUMPY\x01\x00"
        room = self.HEADER - len(prefix) - 2
        line = text + b" " * (room - len(text) - 1) + b"\n"
        os.pwrite(self._file.fileno(), prefix + len(line).to_bytes(2, "little") + line, 0)
        self._file.truncate(self.HEADER + self.rows * self._row_bytes)
        self._file.close()


class PassageSink:
    """A build's passages streamed to disk in row order, with their vectors by row.

    Holds per row only the document index, sentence count and id, never the passages,
    so memory stays flat as the corpus grows.
    """

    def __init__(self, folder: Path, dim: int) -> None:
        self.folder = folder
        self.vectors = RowFile(folder / layout.VECTORS, np.float32, dim)
        self.sentence_vectors = RowFile(
            folder / layout.SENTENCE_VECTORS, layout.SENTENCE_DTYPE, dim
        )
        self._lines = (folder / layout.PASSAGES).open("wb")
        self._offsets = array("q", [0])
        self._documents = array("i")
        self._sentences = array("q", [0])
        self._ids: list[str] = []
        self.counts: dict[int, int] = {}  # passages per document index

    def __len__(self) -> int:
        return len(self._documents)

    @property
    def sentence_count(self) -> int:
        return int(self._sentences[-1])

    def add(self, passage: Passage, document: int) -> tuple[int, int]:
        """Append `passage` (of the `document`-th document); its (row, first sentence row)."""
        line = passage.model_dump_json().encode() + b"\n"
        self._lines.write(line)
        self._offsets.append(self._offsets[-1] + len(line))
        self._documents.append(document)
        self._sentences.append(self._sentences[-1] + len(passage.sentences))
        self._ids.append(passage.id)
        self.counts[document] = self.counts.get(document, 0) + 1
        return self.vectors.reserve(1), self.sentence_vectors.reserve(len(passage.sentences))

    def copy(self, previous: IndexSnapshot, first: int, last: int, document: int) -> None:
        """Append rows `first` to `last` of `previous` with their vectors, as they are."""
        count = last - first
        s0, s1 = int(previous.sentence_starts[first]), int(previous.sentence_starts[last])
        lines, ends = previous.passage_lines(first, last)
        base = self._offsets[-1]
        self._lines.write(lines)
        self._offsets.extend(int(e) + base for e in ends)
        self._documents.extend([document] * count)
        sentence_base = self._sentences[-1]  # read before extending: extend appends as it goes
        self._sentences.extend(
            int(s) - s0 + sentence_base for s in previous.sentence_starts[first + 1 : last + 1]
        )
        self._ids.extend(previous.passage_ids[first:last])
        self.counts[document] = self.counts.get(document, 0) + count
        row, srow = self.vectors.reserve(count), self.sentence_vectors.reserve(s1 - s0)
        for a in range(0, count, 4096):  # in blocks: a kept document can be large
            self.vectors.write(row + a, previous.vectors[first + a : min(first + a + 4096, last)])
        for a in range(s0, s1, 16384):
            block = previous.sentence_vectors[a : min(a + 16384, s1)]
            self.sentence_vectors.write(srow + a - s0, block)

    def close(self) -> None:
        """Finish every file of the passage rows."""
        self._lines.close()
        self.vectors.close()
        self.sentence_vectors.close()
        np.save(self.folder / layout.PASSAGE_OFFSETS, np.frombuffer(self._offsets, dtype=np.int64))
        np.save(self.folder / layout.PASSAGE_DOCUMENTS, np.frombuffer(self._documents, np.int32))
        np.save(self.folder / layout.SENTENCE_STARTS, np.frombuffer(self._sentences, np.int64))
        (self.folder / layout.PASSAGE_IDS).write_text(json.dumps(self._ids))


def staged_passages(folder: Path) -> Iterator[Passage]:
    """The passages written into the build `folder`, one at a time, in row order."""
    with (folder / layout.PASSAGES).open("rb") as lines:
        for line in lines:
            yield Passage.model_validate_json(line)


def write_build(folder: Path, documents: Sequence[Document], *, flat_max: int) -> str:
    """Write documents and engines of a build into `folder` (passages and vectors are there).

    Returns the dense index kind.
    """
    from qa.retrieval.dense import DenseIndex
    from qa.retrieval.lexical import LexicalIndex

    by_id = {d.id: d for d in documents}
    with (folder / layout.DOCUMENTS).open("w", encoding="utf-8") as out:
        for document in documents:
            out.write(document.model_dump_json() + "\n")
    vectors = np.load(folder / layout.VECTORS, mmap_mode="r")
    dense = DenseIndex.build(vectors, flat_max=flat_max)
    dense.save(folder / layout.DENSE)
    kind = dense.kind
    del dense  # free the graph before BM25 is built
    texts = (lexical_text(p, by_id[p.document_id]) for p in staged_passages(folder))
    LexicalIndex.build(texts).save(folder / layout.LEXICAL)
    return kind
