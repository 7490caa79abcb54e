"""Dense retrieval with FAISS: exact inner product up to a size, HNSW above it.

Vectors are L2-normalised, so inner product is cosine similarity. A saved index is
memory-mapped on load, so a one-shot query reads only the pages it touches.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

IndexKind = Literal["flat", "hnsw"]
HNSW_NEIGHBOURS = 32
# Measured by benchmarks/bench_scale.py at 100k near-isotropic 384-d vectors: efConstruction
# 80 -> 200 costs ~1.5x build time; efSearch 512 lifts recall@10 from 0.73 (efC 80, efS 128)
# to 0.98 for ~1 ms per query, far inside the latency budget.
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 512


class DenseIndex:
    """A FAISS index over the passage vectors, plus exact search on subsets."""

    def __init__(self, index: Any, vectors: NDArray[np.float32], kind: IndexKind) -> None:
        self._index = index
        self.vectors = vectors
        self.kind = kind

    @classmethod
    def build(cls, vectors: NDArray[np.float32], *, flat_max: int) -> DenseIndex:
        """Exact (flat) index up to `flat_max` vectors, HNSW beyond."""
        import faiss

        dimension = vectors.shape[1]
        kind: IndexKind = "flat" if len(vectors) <= flat_max else "hnsw"
        index: Any
        if kind == "flat":
            index = faiss.IndexFlatIP(dimension)
        else:
            index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, vectors, kind)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, vectors: NDArray[np.float32], kind: IndexKind) -> DenseIndex:
        import faiss

        # Map the stored vectors instead of reading them: a 100k-passage HNSW file loads in
        # milliseconds instead of ~0.2 s, and pages are shared with other processes.
        flags = getattr(faiss, "IO_FLAG_MMAP_IFC", 0)
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError:
            if not flags:
                raise
            index = faiss.read_index(str(path))
        return cls(index, vectors, kind)

    def search(
        self, query: NDArray[np.float32], k: int, *, rows: NDArray[np.int64] | None = None
    ) -> list[tuple[int, float]]:
        """Top-`k` (row, cosine) for one query vector, optionally within `rows` (exact)."""
        if rows is not None:
            if len(rows) == 0:
                return []
            scores = self.vectors[rows] @ query
            top = np.argsort(-scores, kind="stable")[:k]
            return [(int(rows[i]), float(scores[i])) for i in top]
        if self._index.ntotal == 0:
            return []
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
        scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
