"""Rank fusion of the dense and lexical rankings.

Two methods, chosen by `Settings.fusion`: weighted reciprocal rank fusion, and a
convex combination of per-query normalised scores. The README's eval table says why
the default is what it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Ranking = Sequence[tuple[int, float]]  # (row, score), best first


def reciprocal_rank_fusion(
    rankings: Sequence[Ranking], weights: Sequence[float], *, k: int = 60
) -> list[tuple[int, float]]:
    """Σ weight / (k + rank) over the rankings a row appears in, best first."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, (row, _) in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    return _sorted(fused)


def _normalise(ranking: Ranking) -> dict[int, float]:
    # Scale by the query's best score, so BM25's unbounded scores compare with cosines;
    # rows missing from a ranking count as 0 in it.
    if not ranking:
        return {}
    best = max(score for _, score in ranking)
    if best <= 0:
        return {row: 0.0 for row, _ in ranking}
    return {row: max(score, 0.0) / best for row, score in ranking}


def convex_fusion(rankings: Sequence[Ranking], weights: Sequence[float]) -> list[tuple[int, float]]:
    """Σ weight × score / best-score-of-that-ranking, best first."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for row, score in _normalise(ranking).items():
            fused[row] = fused.get(row, 0.0) + weight * score
    return _sorted(fused)


def _sorted(scores: Mapping[int, float]) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
