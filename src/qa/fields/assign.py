"""Assigning attributed clauses to cooperation fields: embedding similarity to each field
(its description and seed terms) plus a bonus when a seed term occurs, against the
taxonomy's calibrated threshold. One document at a time, so builds can reuse the rest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qa.attribution import antecedent, clause_attributions
from qa.chunking import run_in_heading
from qa.encoders.base import QueryEncoder
from qa.fields.taxonomy import Taxonomy
from qa.models import Passage

if TYPE_CHECKING:
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

ALGORITHM_VERSION = 4  # bump when attribution or scoring changes what a build stores
_MAX_QUOTE_CHARS = 1500  # a quote extended back to its antecedent stays readable

# The stored vector of a whole sentence (the build embeds every sentence), if any.
SentenceVector = Callable[[str, int], "NDArray[np.float32] | None"]


@dataclass(frozen=True)
class Evidence:
    """One clause that puts `actors` in `field`; `start:end` is the quote in the document."""

    passage_id: str
    start: int
    end: int
    actors: tuple[str, ...]
    partners: tuple[str, ...]
    field: str
    score: float


def field_vectors(taxonomy: Taxonomy, encoder: QueryEncoder) -> NDArray[np.float32]:
    """One unit vector per field: the mean of its description's and seed terms' vectors."""
    rows = []
    for field in taxonomy.fields:
        vectors = encoder.encode([field.description, *field.seeds])
        mean = vectors.mean(axis=0)
        rows.append(mean / (np.linalg.norm(mean) or 1.0))
    return np.asarray(rows, dtype=np.float32)


def _seed_pattern(seed: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s-]+", seed.strip()) if w]
    body = r"[\s-]+".join(words)
    return rf"(?<![\w]){body}(?:s|es)?(?![\w])"


@dataclass(frozen=True)
class SeedMatcher:
    """Which fields' seed terms occur in a text (acronyms case-sensitively)."""

    patterns: tuple[tuple[re.Pattern[str] | None, re.Pattern[str] | None], ...]

    @classmethod
    def of(cls, taxonomy: Taxonomy) -> SeedMatcher:
        compiled = []
        for field in taxonomy.fields:
            acronyms = [s for s in field.seeds if s.isupper() or s[:-1].isupper()]
            upper = [_seed_pattern(s) for s in acronyms]
            lower = [_seed_pattern(s) for s in field.seeds if s not in acronyms]
            compiled.append(
                (
                    re.compile("|".join(upper)) if upper else None,
                    re.compile("|".join(lower), re.IGNORECASE) if lower else None,
                )
            )
        return cls(tuple(compiled))

    def hits(self, text: str) -> NDArray[np.float32]:
        return np.array(
            [
                float(bool((u and u.search(text)) or (lw and lw.search(text))))
                for u, lw in self.patterns
            ],
            dtype=np.float32,
        )


def scores(
    texts: Sequence[str],
    vectors: NDArray[np.float32],
    fields: NDArray[np.float32],
    taxonomy: Taxonomy,
    matcher: SeedMatcher,
) -> NDArray[np.float32]:
    """(len(texts), n_fields) scores: cosine plus `seed_weight` where a seed term occurs."""
    if not len(texts):
        return np.zeros((0, len(taxonomy.fields)), dtype=np.float32)
    similarity = np.asarray(vectors, dtype=np.float32) @ fields.T
    bonus = np.stack([matcher.hits(t) for t in texts]) * taxonomy.seed_weight
    result: NDArray[np.float32] = similarity + bonus
    return result


@dataclass(frozen=True)
class _Unit:
    passage: Passage
    sentence: int
    text: str
    whole: bool  # the clause is the whole sentence (its stored vector can be reused)
    actors: tuple[str, ...]
    partners: tuple[str, ...]


def _units(passages: Sequence[Passage]) -> list[_Unit]:
    units: list[_Unit] = []
    for passage in passages:
        sentences = passage.sentence_texts()
        for index, sentence in enumerate(sentences):
            if passage.labels and passage.labels[index]:
                continue  # titles and bylines state no cooperation
            clauses = clause_attributions(sentences, index)
            for clause in clauses:
                if not clause.subjects:
                    continue
                text = sentence[clause.start : clause.end].strip()
                whole = len(clauses) == 1
                units.append(_Unit(passage, index, text, whole, clause.subjects, clause.partners))
    return units


def _quote_span(passage: Passage, index: int) -> tuple[int, int]:
    """Document offsets of sentence `index`, extended back to its antecedent if it has one."""
    sentences = passage.sentence_texts()
    first = antecedent(sentences, index)
    end = passage.sentences[index][1]
    if first is None or first == index or end - passage.sentences[first][0] > _MAX_QUOTE_CHARS:
        first = index
    start = passage.sentences[first][0]
    start += run_in_heading(sentences[first])  # a heading run into the sentence is not quoted
    return passage.start + start, passage.start + end


def document_evidence(
    passages: Sequence[Passage],
    encoder: QueryEncoder,
    taxonomy: Taxonomy,
    fields: NDArray[np.float32],
    *,
    sentence_vector: SentenceVector | None = None,
    matcher: SeedMatcher | None = None,
) -> list[Evidence]:
    """The evidence in one document's passages, in document order."""
    matcher = matcher or SeedMatcher.of(taxonomy)
    units = _units(passages)
    if not units:
        return []
    vectors = np.zeros((len(units), fields.shape[1]), dtype=np.float32)
    missing: list[int] = []
    for i, unit in enumerate(units):
        stored = sentence_vector(unit.passage.id, unit.sentence) if sentence_vector else None
        if unit.whole and stored is not None:
            vectors[i] = stored
        else:
            missing.append(i)
    if missing:
        vectors[missing] = encoder.encode([units[i].text for i in missing])
    table = scores([u.text for u in units], vectors, fields, taxonomy, matcher)
    found: list[Evidence] = []
    for unit, row in zip(units, table, strict=True):
        start, end = _quote_span(unit.passage, unit.sentence)
        for f, field in enumerate(taxonomy.fields):
            if row[f] >= taxonomy.threshold:
                found.append(
                    Evidence(
                        passage_id=unit.passage.id,
                        start=start,
                        end=end,
                        actors=unit.actors,
                        partners=unit.partners,
                        field=field.id,
                        score=round(float(row[f]), 4),
                    )
                )
    return found
