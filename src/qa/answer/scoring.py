"""Scoring the sentences of retrieved passages: a ranking score, and the calibrated
probability that the sentence answers the question. Headings (also one set as a sentence in
title case), sentences that are themselves questions and lines in capitals (captions) are
context, never answers.

Two scorers: the retrieval-score rule below (the default), fitted by `benchmarks/calibrate.py`
on PolicyQA dev and seed-dev, and the trained cross-encoder (`qa.answer.scorer`,
QA_ANSWER_SCORER=trained), which reads the question with each of the sentences the rule
ranks first. The README's Quality has both on held-out data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from qa.actors import find_actors
from qa.answer.questions import named_actors
from qa.answer.scorer import SentenceScorer
from qa.attribution import antecedent, subject_actors
from qa.chunking import is_title_line
from qa.ingest.normalize import CELL_SEPARATOR
from qa.models import Passage
from qa.retrieval.lexical import tokenize
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
# The cross-encoder reads this many sentences, the rule's best: its cost is per sentence.
# A list question gathers answers from more passages, so it reads `LIST_RERANKED`.
RERANKED = 12
LIST_RERANKED = 24
ACTOR_TOKEN = "@"  # prefix of the coverage token that stands for an actor (no word has it)


@dataclass(frozen=True)
class ScoredSentence:
    """One candidate sentence: where it is, how it ranks, and how likely it answers."""

    candidate: int  # index into the candidates, i.e. retrieval rank - 1
    position: int  # index of the sentence in its passage
    text: str
    label: str  # "" or a front-matter label
    score: float
    probability: float


def coverage(terms: Sequence[str], tokens: set[str], idf: Mapping[str, float]) -> float:
    """Share of the question's (IDF-weighted) content terms that `tokens` contain."""
    if not terms:
        return 0.0
    total = sum(idf.get(t, 1.0) for t in terms)
    return sum(idf.get(t, 1.0) for t in terms if t in tokens) / total


def score_sentences(
    question: str,
    candidates: Sequence[Candidate],
    evidence_of: EvidenceOf,
    scorer: SentenceScorer | None = None,
    *,
    depth: int = RERANKED,
) -> list[ScoredSentence]:
    """Every answerable sentence of `candidates`, best first (ties: better rank, earlier).

    With `scorer`, the `depth` best by the rule are scored by it (score and probability
    are its calibrated probability) and rank first; the rest keep the rule's order after
    them with probability 0, so they never answer.
    """
    ranked = _rule_scores(question, candidates, evidence_of)
    if scorer is None or not ranked:
        return ranked
    # Front-matter lines answer questions about the document, found by label, not score.
    head = [s for s in ranked if not s.label][:depth]
    pairs = [
        (question, s.text, candidates[s.candidate].passage.title, _previous(candidates, s))
        for s in head
    ]
    probabilities = scorer.probabilities(pairs)
    rescored = [
        ScoredSentence(s.candidate, s.position, s.text, s.label, float(p), float(p))
        for s, p in zip(head, probabilities, strict=True)
    ]
    rescored.sort(key=lambda s: (-s.score, s.candidate, s.position))
    read = {(s.candidate, s.position) for s in head}
    rest = [
        ScoredSentence(s.candidate, s.position, s.text, s.label, s.score - 100.0, 0.0)
        for s in ranked
        if (s.candidate, s.position) not in read
    ]
    return rescored + rest


def is_answer_line(sentence: str) -> bool:
    """Whether a sentence not marked as a heading can answer: not a question itself, a
    caption in capitals or a heading set as a sentence in title case."""
    return not _asks(sentence) and not _is_caption(sentence) and not is_title_line(sentence)


def _asks(sentence: str) -> bool:
    """True for a sentence that is itself a question ("Who Can See Your Information?"): an
    FAQ entry or a contents line, which never answers; the sentences after it may."""
    return sentence.rstrip(" \"'”’)]").endswith("?")


def _is_caption(sentence: str) -> bool:
    """True for a line in capitals that is not a table row ("MGM RESORTS INTERNATIONAL AND
    SUBSIDIARIES", "CONSOLIDATED BALANCE SHEETS"): a title or caption the reader did not
    mark as a heading. It heads its rows; it does not answer."""
    if sentence != sentence.upper() or sentence == sentence.lower() or CELL_SEPARATOR in sentence:
        return False
    return sum(any(ch.isalpha() for ch in w) for w in sentence.split()) >= 2


@lru_cache(maxsize=8192)
def _actor_tokens(text: str) -> frozenset[str]:
    """One token per country, bloc or organisation `text` names, however it names it
    (cached: the same passages' sentences are scored again and again)."""
    return frozenset(ACTOR_TOKEN + m.actor_id for m in find_actors(text))


@lru_cache(maxsize=4096)
def _inherited_actor_tokens(texts: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    """For each sentence of a passage, the actor tokens of what it is about: its own
    mentions and, for a sentence led by a pronoun or a bare reference, its antecedent's
    subject. "It has jointly developed … ISO 34501" after "China actively participates …"
    is about China, and covers a question's "China" as that sentence does."""
    found = []
    for j, text in enumerate(texts):
        tokens = _actor_tokens(text)
        first = antecedent(texts, j)  # j itself unless the sentence points back
        if first is not None and first != j:
            tokens |= {ACTOR_TOKEN + a for a in subject_actors(texts, first)}
        found.append(tokens)
    return tuple(found)


def headings_over(passage: Passage) -> list[tuple[list[str], str]]:
    """For each sentence of `passage`, the heading path it stands under (its passage's, then
    any heading within the passage, which replaces the section the passage opened in) and
    the bold label ("Battery passport.") that leads it, or ""."""
    return [
        (list(path), label)
        for path, label in _headings_over(
            passage.title,
            tuple(passage.headings),
            tuple(passage.sentence_texts()),
            tuple(passage.labels or [""] * len(passage.sentences)),
        )
    ]


@lru_cache(maxsize=4096)
def _headings_over(
    title: str, path: tuple[str, ...], texts: tuple[str, ...], labels: tuple[str, ...]
) -> tuple[tuple[tuple[str, ...], str], ...]:
    label = ""
    found = []
    for j, (text, kind) in enumerate(zip(texts, labels, strict=True)):
        if kind == "heading" and text not in path:
            # A label, a table's header row, or its caption (the line before a row).
            table = CELL_SEPARATOR in text or CELL_SEPARATOR in (texts[j + 1 : j + 2] or [""])[0]
            if text.endswith(".") or table:
                label = text
            else:  # the next section
                path, label = (*(path if path[-1:] == (title,) else path[:-1]), text), ""
        found.append((path, label))
    return tuple(found)


@lru_cache(maxsize=4096)
def _section_tokens(
    title: str, path: tuple[str, ...], texts: tuple[str, ...], labels: tuple[str, ...]
) -> tuple[frozenset[str], ...]:
    """For each sentence of a passage, the tokens of the headings it stands under and of
    the bold label that leads it. Under "Key obligations", "From 2025, EV batteries must
    carry …" answers "What are the key obligations?". The document title, which every
    sentence shares, is left out."""
    return tuple(
        frozenset().union(*(_heading_tokens(h) for h in [*over, label] if h and h != title))
        for over, label in _headings_over(title, path, texts, labels)
    )


@lru_cache(maxsize=4096)
def _led_by_label(texts: tuple[str, ...], labels: tuple[str, ...]) -> tuple[int | None, ...]:
    """For each sentence of a passage, the label ("Battery passport.", "Contact
    information.") just before it, which introduces it; else None."""
    led = (
        j if labels[j] == "heading" and texts[j].endswith(".") and not labels[j + 1] else None
        for j in range(len(texts) - 1)
    )
    return (None, *led)


@lru_cache(maxsize=4096)
def _heading_tokens(heading: str) -> frozenset[str]:
    return frozenset(tokenize([heading])[0])


def _actor_terms(question: str, idf: Mapping[str, float]) -> tuple[list[str], Mapping[str, float]]:
    """The question's content terms and, for each actor it names, the actor's token
    (weighted as the rarest word that names it), so that "the Japanese government" covers
    a question's "Japan" and "Korea" its "Korean". The words themselves stay terms: a
    sentence that uses the question's own word still covers more."""
    terms = list(dict.fromkeys(tokenize([question])[0]))
    asked = named_actors(question)
    if not asked:
        return terms, idf
    weights = dict(idf)
    for actor_id, surface in asked.items():
        words = tokenize([surface])[0]
        weights[ACTOR_TOKEN + actor_id] = max((idf.get(w, 1.0) for w in words), default=1.0)
    return terms + [ACTOR_TOKEN + a for a in asked], weights


def _previous(candidates: Sequence[Candidate], sentence: ScoredSentence) -> str:
    if sentence.position == 0:
        return ""
    return candidates[sentence.candidate].passage.sentence_texts()[sentence.position - 1]


def _rule_scores(
    question: str, candidates: Sequence[Candidate], evidence_of: EvidenceOf
) -> list[ScoredSentence]:
    if not candidates:
        return []
    evidence = evidence_of(question, candidates)
    terms, idf = _actor_terms(question, evidence.idf)
    # (candidate, position, text, label, cosine, coverage) of every non-heading sentence.
    rows: list[tuple[int, int, str, str, float, float]] = []
    for i, candidate in enumerate(candidates):
        texts = candidate.passage.sentence_texts()
        labels = candidate.passage.labels or [""] * len(texts)
        cosines = evidence.sentence_vectors[i] @ evidence.query_vector
        about = _inherited_actor_tokens(tuple(texts))
        under = _section_tokens(
            candidate.passage.title, tuple(candidate.passage.headings), tuple(texts), tuple(labels)
        )
        led = _led_by_label(tuple(texts), tuple(labels))
        for j, (text, tokens) in enumerate(zip(texts, tokenize(texts), strict=True)):
            if labels[j] != "heading" and is_answer_line(text):
                share = coverage(terms, set(tokens) | about[j] | under[j], idf)
                # The sentence a label leads is read with it: "Demographic information.
                # We may collect information about events you like …".
                cosine = float(cosines[j] if led[j] is None else max(cosines[j], cosines[led[j]]))
                rows.append((i, j, text, labels[j], cosine, share))
    if not rows:
        return []
    best_passage = max(c.dense for c in candidates)
    best_coverage = max(row[5] for row in rows)
    w = CONFIDENCE_WEIGHTS
    scored = []
    for i, j, text, label, cosine, share in rows:
        passage = candidates[i].dense
        score = cosine + PASSAGE_WEIGHT * passage + COVERAGE_WEIGHT * share - RANK_PENALTY * i
        z = CONFIDENCE_BIAS + w[0] * cosine + w[1] * passage + w[2] * share
        z += w[3] * best_passage + w[4] * best_coverage
        scored.append(ScoredSentence(i, j, text, label, score, 1.0 / (1.0 + math.exp(-z))))
    return sorted(scored, key=lambda s: (-s.score, s.candidate, s.position))
