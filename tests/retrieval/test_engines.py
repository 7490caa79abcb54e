"""Oracle tests for the engines: FAISS vs numpy, BM25 on three documents, fusion by hand."""

from __future__ import annotations

import numpy as np
import pytest

from qa.retrieval.dense import DenseIndex
from qa.retrieval.fusion import convex_fusion, reciprocal_rank_fusion
from qa.retrieval.lexical import LexicalIndex


def _unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("n", [1, 7, 500])
def test_dense_flat_top_k_equals_numpy_brute_force(n: int) -> None:
    vectors = _unit_vectors(n, 32, seed=n)
    index = DenseIndex.build(vectors, flat_max=10_000)
    assert index.kind == "flat"
    for query in _unit_vectors(5, 32, seed=99):
        expected = np.argsort(-(vectors @ query), kind="stable")[:10]
        got = index.search(query, 10)
        assert [row for row, _ in got] == list(expected)
        np.testing.assert_allclose([s for _, s in got], (vectors @ query)[expected], rtol=1e-5)


def test_dense_filtered_search_is_exact_within_rows() -> None:
    vectors = _unit_vectors(200, 16, seed=1)
    index = DenseIndex.build(vectors, flat_max=10_000)
    rows = np.arange(50, 80, dtype=np.int64)
    query = vectors[3]
    got = index.search(query, 5, rows=rows)
    expected = rows[np.argsort(-(vectors[rows] @ query))[:5]]
    assert [r for r, _ in got] == list(expected)
    assert index.search(query, 5, rows=np.array([], dtype=np.int64)) == []


def test_dense_switches_to_hnsw_above_threshold_with_high_recall() -> None:
    vectors = _unit_vectors(3000, 32, seed=5)
    approximate = DenseIndex.build(vectors, flat_max=1000)
    exact = DenseIndex.build(vectors, flat_max=10_000)
    assert (approximate.kind, exact.kind) == ("hnsw", "flat")
    queries = _unit_vectors(50, 32, seed=6)
    recall = np.mean(
        [
            len({r for r, _ in approximate.search(q, 10)} & {r for r, _ in exact.search(q, 10)})
            / 10
            for q in queries
        ]
    )
    assert recall >= 0.95


def test_dense_below_threshold_results_identical_to_exact() -> None:
    vectors = _unit_vectors(300, 16, seed=8)
    a = DenseIndex.build(vectors, flat_max=300)
    b = DenseIndex.build(vectors, flat_max=10**6)
    q = vectors[0]
    assert a.kind == "flat" and a.search(q, 20) == b.search(q, 20)


def test_bm25_ranks_three_document_corpus() -> None:
    index = LexicalIndex.build(
        [
            "Cookies are stored on your device for analytics.",
            "We never sell personal data to third parties.",
            "Hydrogen refuelling stations follow ISO standards.",
        ]
    )
    assert [row for row, _ in index.search("hydrogen standards", 3)] == [2]
    assert index.search("selling data", 3)[0][0] == 1
    assert index.search("cookie", 3)[0][0] == 0  # stemmed: cookies ~ cookie
    assert index.search("the and of", 3) == []  # stop words only
    assert index.search("zebra", 3) == []
    rare, common = index.idf["hydrogen"], index.idf.get("data")
    assert rare > 0 and common is not None


def test_bm25_reads_a_year_run_into_a_period_label() -> None:
    """ "FY2019" and "2022Q4" are a period label and a year: each matches the year alone."""
    from qa.retrieval.lexical import tokenize

    assert tokenize(["FY2019 revenue", "2022Q4 earnings", "ISO34501 and 10K"]) == [
        ["fy", "2019", "revenu"],
        ["2022", "q4", "earn"],
        ["iso34501", "10k"],  # no four-digit year at a letter boundary: one word
    ]
    index = LexicalIndex.build(["Revenue in fiscal 2018 rose.", "Revenue in fiscal 2019 fell."])
    assert index.search("FY2019 revenue", 2)[0][0] == 1
    assert index.search("revenue 2018", 2)[0][0] == 0


def test_bm25_filter_restricts_rows() -> None:
    index = LexicalIndex.build(["data data", "data", "nothing here"])
    assert [r for r, _ in index.search("data", 3, rows=np.array([1]))] == [1]


def test_rrf_on_hand_built_rankings() -> None:
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    lexical = [(3, 12.0), (1, 5.0)]
    fused = reciprocal_rank_fusion([dense, lexical], [1.0, 1.0], k=60)
    scores = dict(fused)
    assert scores[1] == pytest.approx(1 / 61 + 1 / 62)
    assert scores[3] == pytest.approx(1 / 63 + 1 / 61)
    assert scores[2] == pytest.approx(1 / 62)
    assert [row for row, _ in fused] == [1, 3, 2]
    assert [r for r, _ in reciprocal_rank_fusion([dense, lexical], [1.0, 0.0])] == [1, 2, 3]


def test_convex_fusion_on_hand_built_rankings() -> None:
    dense = [(1, 0.5), (2, 0.25)]
    lexical = [(2, 10.0), (3, 5.0)]
    fused = dict(convex_fusion([dense, lexical], [1.0, 0.5]))
    assert fused == pytest.approx({1: 1.0, 2: 0.5 + 0.5, 3: 0.25})
    assert convex_fusion([[], []], [1.0, 1.0]) == []


def test_spread_pages_shows_each_pdf_page_once_before_a_second_passage_of_it() -> None:
    from qa.models import Passage
    from qa.retrieval.retriever import Candidate, spread_pages

    def candidate(row: int, document: str, page: int | None) -> Candidate:
        passage = Passage(
            id=f"p{row}", document_id=document, title=document, source=f"{document}.pdf",
            page=page, start=0, end=1, text="x",
        )  # fmt: skip
        return Candidate(row, passage, 1.0 - row / 10, 0.0, 0.0)

    ranked = [
        candidate(0, "a", 3), candidate(1, "a", 3), candidate(2, "a", 3),
        candidate(3, "b", 3), candidate(4, "t", None), candidate(5, "t", None),
        candidate(6, "a", 4),
    ]  # fmt: skip
    assert [c.row for c in spread_pages(ranked, 5)] == [0, 3, 4, 5, 6]
    assert [c.row for c in spread_pages(ranked, 10)] == [0, 3, 4, 5, 6, 1, 2]
    assert [c.row for c in spread_pages(ranked[:3], 2)] == [0, 1]  # one page: its order
