"""Scoring the sentences of retrieved passages: a ranking score, and the calibrated
probability that the sentence answers the question. Headings are context, never answers.

Both are fitted by `benchmarks/calibrate.py` on PolicyQA dev and seed-dev (answerable), and
on the same questions asked of another corpus (unanswerable); see the README's Quality.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.answer.features import FEATURES, sentence_features
from qa.answer.questions import QuestionPlan
from qa.retrieval.retriever import Candidate, Evidence

EvidenceOf = Callable[[str, Sequence[Candidate]], Evidence]

# Ranking score = cosine(sentence) + PASSAGE_WEIGHT × cosine(passage) + COVERAGE_WEIGHT ×
# IDF-weighted term coverage − RANK_PENALTY × (passage rank − 1).
PASSAGE_WEIGHT = 1.0
COVERAGE_WEIGHT = 0.3
RANK_PENALTY = 0.05
# Logistic model of "this sentence answers the question". Features: the sentence's cosine,
# its passage's cosine, its coverage, the best passage cosine, the best coverage of any
# sentence of the candidates.
CONFIDENCE_WEIGHTS = (8.024, 7.555, 0.898, 7.822, 2.84)
CONFIDENCE_BIAS = -7.915

_COSINE, _PASSAGE, _COVERAGE = (FEATURES.index(f) for f in ("cosine", "passage_cosine", "coverage"))


@dataclass(frozen=True)
class ScoredSentence:
    """One candidate sentence: where it is, how it ranks, and how likely it answers."""

    candidate: int  # index into the candidates, i.e. retrieval rank - 1
    position: int  # index of the sentence in its passage
    text: str
    label: str  # "" or a front-matter label
    score: float
    probability: float


def score_sentences(
    plan: QuestionPlan, candidates: Sequence[Candidate], evidence_of: EvidenceOf
) -> list[ScoredSentence]:
    """Every answerable sentence of `candidates`, best first (ties: better rank, earlier)."""
    if not candidates:
        return []
    refs, features = sentence_features(plan, candidates, evidence_of(plan.question, candidates))
    if not refs:
        return []
    best_passage = max(c.dense for c in candidates)
    best_coverage = float(features[:, _COVERAGE].max())
    w = CONFIDENCE_WEIGHTS
    scored = []
    for ref, row in zip(refs, features, strict=True):
        cosine, passage, coverage = float(row[_COSINE]), float(row[_PASSAGE]), float(row[_COVERAGE])
        score = cosine + PASSAGE_WEIGHT * passage + COVERAGE_WEIGHT * coverage
        z = CONFIDENCE_BIAS + w[0] * cosine + w[1] * passage + w[2] * coverage
        z += w[3] * best_passage + w[4] * best_coverage
        scored.append(
            ScoredSentence(
                ref.candidate,
                ref.position,
                ref.text,
                ref.label,
                score - RANK_PENALTY * ref.candidate,
                1.0 / (1.0 + math.exp(-z)),
            )
        )
    return sorted(scored, key=lambda s: (-s.score, s.candidate, s.position))
