"""Hybrid retrieval: FAISS and BM25 rankings fused into one list of candidates."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from qa.config import Settings
from qa.encoders.base import QueryEncoder
from qa.index.snapshot import IndexSnapshot
from qa.models import Hit, Passage
from qa.retrieval.fusion import convex_fusion, reciprocal_rank_fusion
from qa.retrieval.terms import expand_terms, title_matcher

if TYPE_CHECKING:
    from numpy.typing import NDArray

POOL = 50  # depth of each ranking before fusion
LIFT_POOL = 15  # candidates read to lift a named statement's pages (`retrieve_named_parts`)


@dataclass(frozen=True)
class Candidate:
    """A retrieved passage with the scores that ranked it."""

    row: int
    passage: Passage
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True)
class Evidence:
    """What sentence scoring reads beside the candidates: the question's vector, each
    candidate's sentence vectors (one row per sentence), and term IDFs."""

    query_vector: NDArray[np.float32]
    sentence_vectors: list[NDArray[np.float32]]
    idf: Mapping[str, float]


class QueryVectors:
    """Question embeddings, the last few cached: `ask` embeds a question once for retrieval
    and sentence scoring (and a list question's further reads)."""

    def __init__(self, encoder: QueryEncoder, *, size: int = 64) -> None:
        self.encoder = encoder
        self._size = size
        self._vectors: OrderedDict[str, NDArray[np.float32]] = OrderedDict()

    def __call__(self, text: str) -> NDArray[np.float32]:
        vector = self._vectors.get(text)
        if vector is None:
            vector = self.encoder.encode([text])[0]
            self._vectors[text] = vector
            if len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return vector

    def clear(self) -> None:
        """Forget every cached vector."""
        self._vectors.clear()


class HybridRetriever:
    """Dense + lexical retrieval over one snapshot."""

    def __init__(self, snapshot: IndexSnapshot, encoder: QueryEncoder, settings: Settings) -> None:
        self.snapshot = snapshot
        self.encoder = encoder
        self.settings = settings
        self.query_vector = QueryVectors(encoder)

    def retrieve(
        self, query: str, *, k: int, documents: Sequence[str] | None = None
    ) -> list[Candidate]:
        """The fused top-`k` candidates for `query`."""
        snapshot, settings = self.snapshot, self.settings
        if len(snapshot) == 0:
            return []
        rows = snapshot.rows_for(documents)
        vector = self.query_vector(query)
        depth = max(POOL, k)
        dense = snapshot.dense.search(vector, depth, rows=rows)
        lexical = snapshot.lexical.search(query, depth, rows=rows)
        weights = (settings.dense_weight, settings.lexical_weight)
        if settings.fusion == "rrf":
            fused = reciprocal_rank_fusion([dense, lexical], weights, k=settings.rrf_k)
        else:
            fused = convex_fusion([dense, lexical], weights)
        dense_of, lexical_of = dict(dense), dict(lexical)
        out: list[Candidate] = []
        for row, score in fused[:k]:
            cosine = dense_of.get(row)
            if cosine is None:
                cosine = float(np.asarray(snapshot.vectors[row]) @ vector)
            out.append(
                Candidate(row, snapshot.passage(row), score, cosine, lexical_of.get(row, 0.0))
            )
        return out

    def evidence(self, query: str, candidates: Sequence[Candidate]) -> Evidence:
        """The vectors and IDFs that score the sentences of `candidates` against `query`."""
        snapshot = self.snapshot
        rows = [snapshot.sentence_rows(c.row) for c in candidates]
        vectors = [
            np.asarray(snapshot.sentence_vectors[r.start : r.stop], dtype=np.float32) for r in rows
        ]
        return Evidence(self.query_vector(query), vectors, snapshot.lexical.idf)

    def search(self, query: str, *, k: int, documents: Sequence[str] | None = None) -> list[Hit]:
        """`retrieve` as ranked `Hit`s."""
        return [
            to_hit(rank, c)
            for rank, c in enumerate(self.retrieve(query, k=k, documents=documents), 1)
        ]


def retrieve_named_parts(
    retrieve: Callable[[str, int], Sequence[Candidate]],
    query: str,
    k: int,
    *,
    only_named: bool = False,
) -> list[Candidate]:
    """`retrieve(text, n)`'s top `k` for `query`, reading a statement the query names first.

    A query that names a financial statement ("the balance sheet"; `qa.retrieval.terms`) is
    searched with the statement's other names added, over at least `LIFT_POOL`
    candidates, and the passages titled by one of those names are lifted by the score gap
    between the first and the last of them: they lead unless a passage outranks them by
    more than the pool's own spread. Any other query is `retrieve(query, k)`.

    `only_named` keeps only the titled passages of the top `k` when there are any, so
    "Using only the information within the balance sheet, how much …?" is answered from
    the balance sheet, not from the auditor's report that names every statement.
    """
    titled = title_matcher(query)
    if titled is None:
        return list(retrieve(query, k))
    pool = list(retrieve(expand_terms(query), max(k, LIFT_POOL)))
    if not pool:
        return []
    lift = pool[0].score - pool[-1].score
    lifted = [
        (replace(c, score=c.score + lift), True) if titled(c.passage) else (c, False) for c in pool
    ]
    lifted.sort(key=lambda pair: (-pair[0].score, not pair[1]))  # a tie goes to the title
    top = lifted[:k]
    if only_named and any(named for _, named in top):
        return [c for c, named in top if named]
    return [c for c, _ in top]


def spread_pages(candidates: Sequence[Candidate], k: int) -> list[Candidate]:
    """The top `k` with one passage per PDF page before any second one from the same page.

    A page of a filing's statement holds several passages; five hits from one page would
    hide the other pages that answer. Passages without a page (txt, md, html, docx) are
    each their own place; the order is otherwise the ranking's.
    """
    first: list[Candidate] = []
    again: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for candidate in candidates:
        passage = candidate.passage
        if passage.page is None:
            first.append(candidate)
            continue
        place = (passage.document_id, passage.page)
        (again if place in seen else first).append(candidate)
        seen.add(place)
    return (first + again)[:k]


def to_hit(rank: int, candidate: Candidate) -> Hit:
    passage = candidate.passage
    return Hit(
        **Hit.fields_of(passage),
        rank=rank,
        score=round(candidate.score, 6),
        headings=passage.headings,
    )
