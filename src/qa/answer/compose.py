"""Extractive answers: pick the retrieved sentences that answer, cite them, or abstain.

Every answer sentence is a verbatim sentence of the passage it cites. Sentence
vectors are precomputed at ingest, so composing an answer embeds nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.answer.intents import label_boost, overview_boost, unsupported
from qa.config import Settings
from qa.index.snapshot import IndexSnapshot
from qa.models import Answer, Citation
from qa.retrieval.lexical import tokenize
from qa.retrieval.retriever import Candidate, HybridRetriever, to_hit

NOT_COVERED = "The documents do not cover this question."

# Sentence score = cosine(sentence) + PASSAGE_WEIGHT × cosine(passage) + COVERAGE_WEIGHT ×
# IDF-weighted term coverage − RANK_PENALTY × passage rank. Fitted on PolicyQA dev and
# seed-dev (benchmarks/calibrate.py reproduces the search); see the README's Quality table.
PASSAGE_WEIGHT = 1.0
COVERAGE_WEIGHT = 0.3
RANK_PENALTY = 0.05
# Answer sentences may score this far below the best one.
MARGIN = 0.5
DUPLICATE_COSINE = 0.92
# Logistic model of "the evidence answers the question", fitted by benchmarks/calibrate.py
# on PolicyQA and seed-dev questions (answerable) and the same questions asked of the
# wrong corpus (unanswerable). Features: best sentence's cosine, its passage's cosine, its
# coverage, best passage cosine, best coverage of any sentence.
CONFIDENCE_WEIGHTS = (8.024, 7.555, 0.898, 7.822, 2.84)
CONFIDENCE_BIAS = -7.915
UNSUPPORTED_FACTOR = 0.2
INTENT_CONFIDENCE = 0.9  # a metadata or overview question matched by its intent


@dataclass(frozen=True)
class ScoredSentence:
    candidate: int  # index into the candidates
    position: int  # index of the sentence in its passage
    text: str
    score: float
    cosine: float
    coverage: float
    vector_row: int
    boosted: bool


def _coverage(
    question_terms: Sequence[str], sentence_terms: set[str], idf: dict[str, float]
) -> float:
    # Share of the question's (IDF-weighted) content terms that the sentence contains.
    if not question_terms:
        return 0.0
    total = sum(idf.get(t, 1.0) for t in question_terms)
    return sum(idf.get(t, 1.0) for t in question_terms if t in sentence_terms) / total


def score_sentences(
    question: str,
    candidates: Sequence[Candidate],
    snapshot: IndexSnapshot,
    query_vector: np.ndarray,
) -> list[ScoredSentence]:
    """Every sentence of the candidates, scored against the question."""
    terms = list(dict.fromkeys(tokenize([question])[0]))
    idf = snapshot.lexical.idf
    scored: list[ScoredSentence] = []
    for i, candidate in enumerate(candidates):
        rows = snapshot.sentence_rows(candidate.row)
        passage = candidate.passage
        if not len(rows):
            continue
        cosines = np.asarray(snapshot.sentence_vectors[rows.start : rows.stop]) @ query_vector
        texts = passage.sentence_texts()
        labels = passage.labels or [""] * len(texts)
        for j, (text, tokens) in enumerate(zip(texts, tokenize(texts), strict=True)):
            coverage = _coverage(terms, set(tokens), idf)
            boost = label_boost(question, labels[j]) + overview_boost(question, text)
            score = (
                float(cosines[j])
                + PASSAGE_WEIGHT * candidate.dense
                + COVERAGE_WEIGHT * coverage
                - RANK_PENALTY * i
                + boost
            )
            scored.append(
                ScoredSentence(
                    i, j, text, score, float(cosines[j]), coverage, rows.start + j, boost > 0
                )
            )
    return scored


def confidence(
    question: str,
    chosen: Sequence[ScoredSentence],
    scored: Sequence[ScoredSentence],
    candidates: Sequence[Candidate],
) -> float:
    """Calibrated probability that the chosen sentences answer the question."""
    if not chosen:
        return 0.0
    best = chosen[0]
    if best.boosted:
        return INTENT_CONFIDENCE
    features = (
        best.cosine,
        candidates[best.candidate].dense,
        best.coverage,
        max(c.dense for c in candidates),
        max(s.coverage for s in scored),
    )
    z = CONFIDENCE_BIAS + sum(w * x for w, x in zip(CONFIDENCE_WEIGHTS, features, strict=True))
    probability = 1.0 / (1.0 + math.exp(-z))
    # Evidence without the figure, year or ranking the question asks for, or passages that
    # never name what it asks about, cannot answer it, however similar they read.
    cited = {s.candidate for s in chosen}
    context = [candidates[c].passage.text for c in sorted(cited)]
    if unsupported(question, [s.text for s in chosen], context):
        return probability * UNSUPPORTED_FACTOR
    return probability


def _select(
    scored: Sequence[ScoredSentence], snapshot: IndexSnapshot, limit: int
) -> list[ScoredSentence]:
    ranked = sorted(scored, key=lambda s: -s.score)
    chosen: list[ScoredSentence] = []
    for sentence in ranked:
        if len(chosen) == limit:
            break
        if ranked[0].boosted and not sentence.boosted:
            continue  # "Who wrote this?" is answered by the byline alone
        # The best sentence's neighbours are context for it; other passages must compete.
        if sentence.score < ranked[0].score - MARGIN and sentence.candidate != ranked[0].candidate:
            continue
        vector = np.asarray(snapshot.sentence_vectors[sentence.vector_row])
        if any(
            float(vector @ np.asarray(snapshot.sentence_vectors[c.vector_row])) > DUPLICATE_COSINE
            or c.text == sentence.text
            for c in chosen
        ):
            continue
        chosen.append(sentence)
    return chosen


def _at(sentence: ScoredSentence) -> int:
    return sentence.position


def compose_answer(
    question: str,
    candidates: Sequence[Candidate],
    snapshot: IndexSnapshot,
    retriever: HybridRetriever,
    settings: Settings,
) -> Answer:
    """The cited extractive answer to `question`, or an abstention with suggestions."""
    suggestions = [to_hit(rank, c) for rank, c in enumerate(candidates, 1)]
    if not candidates:
        return Answer(question=question, answered=False, answer=NOT_COVERED, suggestions=[])
    scored = score_sentences(question, candidates, snapshot, retriever.query_vector(question))
    chosen = _select(scored, snapshot, settings.max_answer_sentences)
    probability = confidence(question, chosen, scored, candidates)
    if not chosen or probability < settings.abstain_threshold:
        return Answer(
            question=question,
            answered=False,
            answer=NOT_COVERED,
            suggestions=suggestions,
            confidence=round(probability, 4),
        )
    # Passages in the order of their best sentence.
    passage_order = list(dict.fromkeys(s.candidate for s in chosen))
    numbers = {c: n for n, c in enumerate(passage_order, start=1)}
    parts: list[str] = []
    citations: list[Citation] = []
    for c in passage_order:
        # In the answer the passage's best sentence leads and the rest follow in document
        # order; the quote keeps document order, so it reads as a span of the passage.
        mine = [s for s in chosen if s.candidate == c]
        parts += [f"{s.text} [{numbers[c]}]" for s in mine[:1] + sorted(mine[1:], key=_at)]
        mine.sort(key=_at)
        passage = candidates[c].passage
        citations.append(
            Citation(
                **Citation.fields_of(passage),
                n=numbers[c],
                quote=" ".join(s.text for s in mine),
                score=round(max(s.score for s in mine), 4),
            )
        )
    return Answer(
        question=question,
        answered=True,
        answer=" ".join(parts),
        citations=citations,
        confidence=round(probability, 4),
    )
