"""Choosing what to quote: the sentences the scorer judges to answer, each extended back to
the sentence that names its subject, so a quote never changes who it is about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.scoring import ScoredSentence
from qa.attribution import antecedent
from qa.retrieval.retriever import Candidate

# A further sentence joins the best one only when it scores nearly as well: one sentence is
# the common case, and filler about other actors is what readers complained of.
SUPPORT_RATIO = 0.8


@dataclass(frozen=True)
class Quote:
    """A verbatim span of one passage: sentences `first..last` (inclusive)."""

    candidate: int
    first: int
    last: int
    probability: float

    def text(self, candidates: Sequence[Candidate]) -> str:
        passage = candidates[self.candidate].passage
        return passage.text[passage.sentences[self.first][0] : passage.sentences[self.last][1]]

    def document_span(self, candidates: Sequence[Candidate]) -> tuple[int, int]:
        passage = candidates[self.candidate].passage
        return (
            passage.start + passage.sentences[self.first][0],
            passage.start + passage.sentences[self.last][1],
        )


def attributed(
    sentence: ScoredSentence, candidates: Sequence[Candidate], max_words: int
) -> Quote | None:
    """`sentence` as a quote that names its own subject, or None when that takes too long.

    A sentence led by a pronoun or a bare reference ("It", "They", "The country") is
    extended back, as one verbatim span, to the sentence of the same passage that names
    its subject; front-matter lines are quoted alone.
    """
    passage = candidates[sentence.candidate].passage
    if sentence.label:
        return Quote(sentence.candidate, sentence.position, sentence.position, sentence.probability)
    sentences = passage.sentence_texts()
    first = antecedent(sentences, sentence.position)
    if first is None:
        return None
    quote = Quote(sentence.candidate, first, sentence.position, sentence.probability)
    if first < sentence.position and len(quote.text(candidates).split()) > max_words:
        return None
    return quote


def select_quotes(
    ranked: Sequence[ScoredSentence],
    candidates: Sequence[Candidate],
    *,
    threshold: float,
    limit: int,
    max_words: int,
    every_supporting: bool,
) -> list[Quote]:
    """The quotes that answer: the best sentence, and those scoring nearly as well (or, for
    a list question, every sentence over `threshold`), at most `limit`, none overlapping."""
    if not ranked or ranked[0].probability < threshold:
        return []
    floor = threshold if every_supporting else max(threshold, SUPPORT_RATIO * ranked[0].probability)
    quotes: list[Quote] = []
    for sentence in ranked:
        if len(quotes) == limit or sentence.probability < floor:
            break
        quote = attributed(sentence, candidates, max_words)
        if quote is None or any(_overlaps(quote, q) for q in quotes):
            continue
        if any(_same_text(quote, q, candidates) for q in quotes):
            continue  # the same sentence in two passages (overlap, or a repeated paragraph)
        quotes.append(quote)
    return quotes


def _overlaps(a: Quote, b: Quote) -> bool:
    return a.candidate == b.candidate and a.first <= b.last and b.first <= a.last


def _same_text(a: Quote, b: Quote, candidates: Sequence[Candidate]) -> bool:
    return a.text(candidates) == b.text(candidates)
