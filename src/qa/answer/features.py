"""Features of a candidate sentence for the answer model: how close it is to the question
in meaning (bi-encoder cosines) and in words (IDF-weighted coverage, bigrams), where it
sits in the ranking, and whether it holds the kind of detail the question asks for."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qa.answer.questions import QuestionPlan
from qa.retrieval.lexical import tokenize
from qa.retrieval.retriever import Candidate, Evidence

FEATURES = (
    "cosine",  # question · sentence
    "cosine_gap",  # cosine minus the best cosine of any candidate sentence
    "passage_cosine",  # question · passage
    "reciprocal_rank",  # 1 / retrieval rank of the passage
    "coverage",  # IDF-weighted share of the question's terms in the sentence
    "coverage_gap",  # coverage minus the best coverage of any candidate sentence
    "passage_coverage",  # the same share in the whole passage
    "bigrams",  # share of the question's term bigrams in the sentence
    "detail",  # the figure or date asked for is in the sentence (1), absent (-1), not asked (0)
    "first",  # the first sentence of its passage
    "words",  # sentence length, in words / 40
    "front_matter",  # a title, byline or copyright line (scored as a statement)
)

# How a front-matter label reads as a statement, so a question about the document itself
# ("Who wrote this?", "Which body issued this report?") finds it, and others do not.
_STATEMENTS = {
    "title": "The title of this document is “{}”.",
    "author": "This document was written by {}.",
    "copyright": "This document is published by, and copyright of, {}.",
    "date": "This document was published on {}.",
}
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
                     r"thousand|million|billion|percent)\b", re.IGNORECASE)  # fmt: skip


@dataclass(frozen=True)
class SentenceRef:
    """Where a scored sentence is: `candidates[candidate].passage.sentence_texts()[position]`."""

    candidate: int
    position: int
    text: str
    label: str  # "" or a front-matter label; headings are never answers, so never here


def statement(text: str, label: str) -> str:
    """A front-matter line as a sentence the question can be compared with."""
    return _STATEMENTS.get(label, f"The {label} of this document is {{}}.").replace("{}", text)


def _coverage(terms: Sequence[str], tokens: set[str], idf: Mapping[str, float]) -> float:
    if not terms:
        return 0.0
    total = sum(idf.get(t, 1.0) for t in terms)
    return sum(idf.get(t, 1.0) for t in terms if t in tokens) / total


def sentence_features(
    plan: QuestionPlan,
    candidates: Sequence[Candidate],
    evidence: Evidence,
) -> tuple[list[SentenceRef], NDArray[np.float32]]:
    """The answerable sentences of `candidates` and their feature rows (`FEATURES`)."""
    question = plan.question
    terms = list(dict.fromkeys(tokenize([question])[0]))
    bigrams = set(itertools.pairwise(terms))
    ask = plan.asks[0]
    refs: list[SentenceRef] = []
    rows: list[list[float]] = []
    statements: list[tuple[int, str]] = []
    for i, candidate in enumerate(candidates):
        passage = candidate.passage
        texts = passage.sentence_texts()
        labels = passage.labels or [""] * len(texts)
        cosines = evidence.sentence_vectors[i] @ evidence.query_vector
        passage_tokens = set(tokenize([passage.text])[0])
        passage_coverage = _coverage(terms, passage_tokens, evidence.idf)
        for j, (text, tokens) in enumerate(zip(texts, tokenize(texts), strict=True)):
            label = labels[j]
            if label == "heading":
                continue
            if label:
                statements.append((len(rows), statement(text, label)))
            token_set = set(tokens)
            wanted = ask.wants_number or ask.wants_date or bool(ask.numbers)
            rows.append([
                float(cosines[j]),
                0.0,
                candidate.dense,
                1.0 / (i + 1),
                _coverage(terms, token_set, evidence.idf),
                0.0,
                passage_coverage,
                len(bigrams & set(itertools.pairwise(tokens))) / max(1, len(bigrams)),
                (-1.0 if ask.lacks_detail(text) else 1.0) if wanted else 0.0,
                1.0 if j == 0 else 0.0,
                len(text.split()) / 40,
                1.0 if label else 0.0,
            ])  # fmt: skip
            refs.append(SentenceRef(i, j, text, label))
    matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURES))
    if statements:
        vectors = evidence.encoder.encode([s for _, s in statements])
        for (row, _), vector in zip(statements, vectors, strict=True):
            matrix[row, 0] = float(vector @ evidence.query_vector)
    if len(matrix):
        matrix[:, 1] = matrix[:, 0] - matrix[:, 0].max()
        matrix[:, 5] = matrix[:, 4] - matrix[:, 4].max()
    return refs, matrix
