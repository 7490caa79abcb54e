"""Scoring the sentences of retrieved passages with the answer-sentence cross-encoder.

Headings are context, never answers. Front-matter lines (title, byline, copyright) are
scored in words ("This document was written by …"), so a question about the document
itself finds them, and a question about anything else does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qa.retrieval.retriever import Candidate

# How a front-matter label reads as a statement the scorer can weigh.
_METADATA_PHRASES = {
    "title": "The title of this document is “{}”.",
    "author": "This document was written by {}.",
    "copyright": "This document is published by, and copyright of, {}.",
    "date": "This document was published on {}.",
}


class Scorer(Protocol):
    """Probability that each sentence answers the question (`qa.encoders.scorer`)."""

    def score(
        self,
        question: str,
        sentences: Sequence[str],
        *,
        titles: Sequence[str] | None = None,
        previous: Sequence[str] | None = None,
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class ScoredSentence:
    """One candidate sentence: where it is, and how likely it answers the question."""

    candidate: int  # index into the candidates, i.e. retrieval rank - 1
    position: int  # index of the sentence in its passage
    text: str
    label: str  # "", "heading", or a front-matter label
    probability: float


def _statement(text: str, label: str) -> str:
    if not label:
        return text
    phrase = _METADATA_PHRASES.get(label, f"The {label} of this document is {{}}.")
    return phrase.replace("{}", text)


def score_sentences(
    question: str,
    candidates: Sequence[Candidate],
    scorer: Scorer,
    *,
    first: int = 0,
) -> list[ScoredSentence]:
    """Every answerable sentence of `candidates[first:]`, scored against `question`."""
    where: list[tuple[int, int, str, str]] = []
    texts: list[str] = []
    titles: list[str] = []
    previous: list[str] = []
    for i in range(first, len(candidates)):
        passage = candidates[i].passage
        sentences = passage.sentence_texts()
        labels = passage.labels or [""] * len(sentences)
        context = " > ".join([passage.title, *passage.headings[-1:]])
        before = ""
        for j, (text, label) in enumerate(zip(sentences, labels, strict=True)):
            if label == "heading":
                continue
            where.append((i, j, text, label))
            texts.append(_statement(text, label))
            titles.append(context)
            previous.append(before if not label else "")
            before = text
    if not texts:
        return []
    probabilities = scorer.score(question, texts, titles=titles, previous=previous)
    return [
        ScoredSentence(i, j, text, label, float(p))
        for (i, j, text, label), p in zip(where, probabilities, strict=True)
    ]
