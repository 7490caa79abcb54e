"""Extractive answers: pick the retrieved sentences that answer, cite them, or abstain.

Every answer sentence is a verbatim sentence of the passage it cites. Sentence
vectors are precomputed at ingest, so composing an answer embeds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.config import Settings
from qa.lexical import tokenize
from qa.models import Answer, Citation
from qa.retriever import Candidate, HybridRetriever, to_hit
from qa.snapshot import IndexSnapshot

NOT_COVERED = "The documents do not cover this question."
LEXICAL_WEIGHT = 0.3  # weight of IDF-weighted term overlap next to cosine similarity
NUMBER = re.compile(r"\b\d[\d,.]*\b")
DUPLICATE_COSINE = 0.92
MARGIN = 0.12  # sentences this far below the best one are not worth adding


@dataclass(frozen=True)
class ScoredSentence:
    candidate: int  # index into the candidates
    position: int  # index of the sentence in its passage
    text: str
    score: float
    vector_row: int


def _coverage(question_terms: Sequence[str], sentence: str, idf: dict[str, float]) -> float:
    # Share of the question's (IDF-weighted) content terms that the sentence contains.
    if not question_terms:
        return 0.0
    present = set(tokenize([sentence])[0])
    total = sum(idf.get(t, 1.0) for t in question_terms)
    return sum(idf.get(t, 1.0) for t in question_terms if t in present) / total


def _missing_numbers(question: str, texts: Sequence[str]) -> bool:
    # A question about a figure the evidence never mentions ("in 2023") is not answered by it.
    wanted = set(NUMBER.findall(question))
    return bool(wanted) and not any(n in t for t in texts for n in wanted)


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
        if not len(rows):
            continue
        cosines = np.asarray(snapshot.sentence_vectors[rows.start : rows.stop]) @ query_vector
        for j, (a, b) in enumerate(candidate.passage.sentences):
            text = candidate.passage.text[a:b]
            score = float(cosines[j]) + LEXICAL_WEIGHT * _coverage(terms, text, idf)
            scored.append(ScoredSentence(i, j, text, score, rows.start + j))
    return scored


def _select(
    scored: Sequence[ScoredSentence], snapshot: IndexSnapshot, limit: int
) -> list[ScoredSentence]:
    ranked = sorted(scored, key=lambda s: -s.score)
    chosen: list[ScoredSentence] = []
    for sentence in ranked:
        if len(chosen) == limit or sentence.score < ranked[0].score - MARGIN:
            break
        vector = np.asarray(snapshot.sentence_vectors[sentence.vector_row])
        if any(
            float(vector @ np.asarray(snapshot.sentence_vectors[c.vector_row])) > DUPLICATE_COSINE
            or c.text == sentence.text
            for c in chosen
        ):
            continue
        chosen.append(sentence)
    return chosen


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
    confidence = chosen[0].score if chosen else 0.0
    if _missing_numbers(question, [c.passage.text for c in candidates]):
        confidence -= 0.2
    if not chosen or confidence < settings.abstain_threshold:
        return Answer(
            question=question,
            answered=False,
            answer=NOT_COVERED,
            suggestions=suggestions,
            confidence=round(confidence, 4),
        )
    # Readable order: passages by their best sentence, sentences in document order.
    passage_order = list(dict.fromkeys(s.candidate for s in chosen))
    numbers = {c: n for n, c in enumerate(passage_order, start=1)}
    parts: list[str] = []
    citations: list[Citation] = []
    for c in passage_order:
        mine = sorted((s for s in chosen if s.candidate == c), key=lambda s: s.position)
        parts += [f"{s.text} [{numbers[c]}]" for s in mine]
        passage = candidates[c].passage
        citations.append(
            Citation(
                n=numbers[c],
                passage_id=passage.id,
                document=passage.document_id,
                title=passage.title,
                source=passage.source,
                page=passage.page,
                start=passage.start,
                end=passage.end,
                quote=" ".join(s.text for s in mine),
                text=passage.text,
                score=round(max(s.score for s in mine), 4),
            )
        )
    return Answer(
        question=question,
        answered=True,
        answer=" ".join(parts),
        citations=citations,
        confidence=round(confidence, 4),
    )
