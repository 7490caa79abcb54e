"""Writing one build folder: reuse unchanged documents, embed the rest, write the engines.

Embeddings are cached in shards as batches finish, so an interrupted ingest resumes
without re-embedding what it had done.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.encoders.base import QueryEncoder
from qa.index import layout
from qa.models import Document, Passage

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


def embed_into(
    out: NDArray[Any],
    items: Sequence[tuple[int, str]],
    embedder: QueryEncoder,
    cache: EmbeddingCache,
    *,
    chunk: int,
    advance: Advance,
) -> None:
    """Write the vector of each (row, text) into `out[row]`, embedding `chunk` texts at a time.

    Texts cached by an interrupted run are not embedded again.
    """
    pending: list[tuple[int, str, str]] = []
    for row, text in items:
        key = cache.key(text)
        cached = cache.get(key)
        if cached is None:
            pending.append((row, key, text))
        else:
            out[row] = cached
    advance(len(items) - len(pending))
    for first in range(0, len(pending), chunk):
        batch = pending[first : first + chunk]
        vectors = embedder.encode([text for _, _, text in batch])
        cache.save([key for _, key, _ in batch], vectors)
        out[[row for row, _, _ in batch]] = vectors
        advance(len(batch))


def write_build(
    folder: Path,
    documents: Sequence[Document],
    passages: Sequence[Passage],
    vectors: NDArray[np.float32],
    *,
    flat_max: int,
) -> str:
    """Write passages and engines of a build into `folder` (vectors are already there).

    Returns the dense index kind.
    """
    from qa.retrieval.dense import DenseIndex
    from qa.retrieval.lexical import LexicalIndex

    by_id = {d.id: d for d in documents}
    order = {d.id: i for i, d in enumerate(documents)}
    with (folder / layout.DOCUMENTS).open("w", encoding="utf-8") as out:
        for document in documents:
            out.write(document.model_dump_json() + "\n")
    offsets = [0]
    with (folder / layout.PASSAGES).open("wb") as raw:
        for passage in passages:
            line = passage.model_dump_json().encode() + b"\n"
            raw.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(folder / layout.PASSAGE_OFFSETS, np.array(offsets, dtype=np.int64))
    np.save(
        folder / layout.PASSAGE_DOCUMENTS,
        np.array([order[p.document_id] for p in passages], dtype=np.int32),
    )
    starts = np.cumsum([0] + [len(p.sentences) for p in passages]).astype(np.int64)
    np.save(folder / layout.SENTENCE_STARTS, starts)
    (folder / layout.PASSAGE_IDS).write_text(json.dumps([p.id for p in passages]))
    dense = DenseIndex.build(vectors, flat_max=flat_max)
    dense.save(folder / layout.DENSE)
    LexicalIndex.build([search_text(p, by_id[p.document_id]) for p in passages]).save(
        folder / layout.LEXICAL
    )
    return dense.kind
