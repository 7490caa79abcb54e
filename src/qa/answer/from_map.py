"""Set questions answered from the cooperation-field map.

"Who works on semiconductor projects?" asks for every actor in a field, "What does China
cooperate on?" for every field of an actor, "Which partners does Taiwan want?" for an
actor's counterparts, and "Which fields of cooperation does the article cover?" or "Which
countries does it mention?" for the map's whole inventory of fields or actors. The map
already holds each of those cells with its attributed, verbatim sentences, so the answer
quotes enough of them to cover every cell (or every field, or actor) the question asks
about, in document order, grouped and cited by passage. Any other question, or one the
map has no cells for, is left to retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from qa.actors import related_ids
from qa.answer.questions import QuestionPlan, named_actors
from qa.fields.assign import SeedMatcher, scores
from qa.fields.store import StoredFields
from qa.models import Answer, Citation, FieldCell, FieldMap
from qa.retrieval.lexical import content_terms

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

# The map's assignments were calibrated at a precision of at least 0.9
# (eval/fields-labels.jsonl); an answer read off it is as sure as they are.
MAP_CONFIDENCE = 0.9
# A field counts as asked about within this margin of the question's best field.
FIELD_MARGIN = 0.05

_I = re.IGNORECASE
_PARTNER_ASK = re.compile(
    r"\b(?:partners?|counterparts?|allies)\b|\bwith\s+(?:whom|which|what)\b|\bwith\W*$", _I
)
_ACTOR_ASK = re.compile(
    r"^\s*(?:(?:and|so|then)\s+)?(?:who|whom|which\s+(?:countries|country|nations|"
    r"governments|economies|actors|partners|blocs|regions|members|states|parties)|"
    r"what\s+(?:countries|nations|governments|economies|actors|partners|blocs|regions))\b",
    _I,
)

# "What does China cooperate on?", "In which fields does Japan work?": an actor's fields.
_FIELD_ASK = re.compile(
    r"\b(?:cooperat|collaborat|partner|work|engag|participat)\w*\s+(?:on|in)\b"
    r"|\b(?:fields?|areas?|sectors?|domains?|topics?)\b",
    _I,
)
# "Who works on semiconductor projects?": the field's actors. A narrower verb ("Which
# countries attract foreign investment …?") asks more than the field, so retrieval reads it.
_COOPERATION = re.compile(
    r"\b(?:work|cooperat|co-operat|collaborat|partner|involv|engag|participat|link|"
    r"connect|associat|active|focus)\w*\b",
    _I,
)
# "… besides raw materials?": the map cannot leave a field out; retrieval reads the text.
_EXCLUSION = re.compile(
    r"\b(?:besides|apart from|aside from|other than|except|excluding|beyond|not counting)\b",
    _I,
)

# "Which fields of cooperation does the article cover?", "Which countries are mentioned?":
# the map's inventory, asked by a question whose words all ask for it (`_INVENTORY_WORDS`).
# One with a topic of its own ("Which countries attract foreign investment?") is read.
_INVENTORY_NOUN = re.compile(
    r"\b(?P<fields>fields|areas|sectors|domains|topics|themes)\b"
    r"|\b(?P<actors>countries|nations|governments|economies|actors|blocs|regions|players)\b",
    _I,
)
_INVENTORY_WORDS = (
    "field fields area areas sector sectors domain domains topic topics theme themes "
    "country countries nation nations government governments economy economies actor actors "
    "bloc blocs region regions player players cooperation cooperate cooperates co-operation "
    "collaboration collaborate partnership international main key major different various "
    "mention mentions mentioned name names named cover covers covered discuss discusses "
    "discussed feature featured include included involve involved appear appears article "
    "articles text texts document documents report reports paper corpus source sources list "
    "there"
)
Inventory = Literal["", "fields", "actors"]
# "Which countries are mentioned?" asks for more than the map holds: it says so.
_MENTION_ASK = re.compile(r"\b(?:mention|name|discuss|cover|feature|appear|include|refer)\w*", _I)


@dataclass(frozen=True)
class MapQuery:
    """What a set question asks of the map."""

    actors: tuple[str, ...]  # actor ids the question names
    fields: tuple[str, ...]  # field ids the question is about
    partners: bool  # it asks whom the actors cooperate with
    inventory: Inventory = ""  # it asks for every field, or every actor, the map holds


def question_fields(
    question: str, vector: NDArray[np.float32], stored: StoredFields
) -> tuple[str, ...]:
    """The fields `question` is about: those it would be assigned to as a sentence of the
    corpus (the taxonomy's own rule and threshold), within `FIELD_MARGIN` of the best."""
    taxonomy = stored.taxonomy()
    row = scores(
        [question], vector[None, :], stored.field_matrix(), taxonomy, SeedMatcher.of(taxonomy)
    )[0]
    best = float(row.max()) if len(row) else 0.0
    return tuple(
        f.id
        for f, score in zip(taxonomy.fields, row, strict=True)
        if score >= taxonomy.threshold and score >= best - FIELD_MARGIN
    )


def read_question(
    plan: QuestionPlan, stored: StoredFields, vector: NDArray[np.float32]
) -> MapQuery | None:
    """The map query of a set question, or None when the map is not what it asks for."""
    if plan.is_multipart or _EXCLUSION.search(plan.question):
        return None
    question = plan.question
    if (inventory := _inventory(question)) and not named_actors(question):
        return MapQuery((), (), False, inventory)
    partners = bool(_PARTNER_ASK.search(question))
    asks_actors = bool(_ACTOR_ASK.match(question))
    if not (plan.is_list or partners or asks_actors):
        return None
    actors = tuple(named_actors(question))
    fields = question_fields(question, vector, stored)
    if not fields and not actors:
        return None
    if not actors and not _COOPERATION.search(question):
        return None
    if actors and not (fields or partners or asks_actors or _FIELD_ASK.search(question)):
        return None  # "What incentives does Taiwan offer?" is not about its fields
    # "Which countries cooperate with Korea?" asks for Korea's counterparts.
    return MapQuery(actors, fields, partners or (bool(actors) and asks_actors))


def _inventory(question: str) -> Inventory:
    """ "fields" or "actors" for a question asking for the map's whole inventory of them (the
    first such plural it says is what it asks for), else ""."""
    noun = _INVENTORY_NOUN.search(question)
    if noun is None or set(content_terms(question)) - _inventory_words():
        return ""
    return "fields" if noun.group("fields") else "actors"


@lru_cache(maxsize=1)
def _inventory_words() -> frozenset[str]:
    return frozenset(content_terms(_INVENTORY_WORDS))


def _cells(query: MapQuery, field_map: FieldMap) -> list[FieldCell]:
    wanted: set[str] = set()
    for actor_id in query.actors:
        wanted |= related_ids(actor_id)
    chosen = []
    for cell in field_map.cells:
        if query.fields and cell.field not in query.fields:
            continue
        if wanted:
            own, named = cell.actor in wanted, bool(wanted & set(cell.partners))
            if not (own or (named and query.partners)):
                continue  # "What does Japan work on?" is Japan's cells, not Taiwan's plans
            if query.partners and not query.fields and not named and not cell.partners:
                continue  # a counterpart question needs a counterpart
        chosen.append(cell)
    return chosen


def _groups(cell: int, field_cell: FieldCell, inventory: Inventory) -> set[str | int]:
    """What a quote of `field_cell` shows: the cell itself, or for an inventory its field,
    or its actor and the counterparts it names."""
    if inventory == "fields":
        return {field_cell.field}
    if inventory == "actors":
        return {field_cell.actor, *field_cell.partners}
    return {cell}


def _cover(
    cells: Sequence[FieldCell], limit: int, inventory: Inventory = ""
) -> tuple[list[Citation], int]:
    """Few quotes that together cover every cell (or for an inventory, every field or
    actor): greedily the quote that covers the most not yet covered (then the better
    score, then the earlier one), up to `limit`; and how many are left uncovered."""
    quotes: dict[tuple[str, int, int], Citation] = {}
    covers: dict[tuple[str, int, int], set[str | int]] = {}
    for c, cell in enumerate(cells):
        for citation in cell.citations:
            key = (citation.passage_id, citation.quote_start or 0, citation.quote_end or 0)
            if key not in quotes or quotes[key].score < citation.score:
                quotes[key] = citation
            covers.setdefault(key, set()).update(_groups(c, cell, inventory))
    left = set().union(*covers.values())
    chosen: list[Citation] = []
    while left and len(chosen) < limit:
        key = max(
            covers,
            key=lambda k: (len(covers[k] & left), quotes[k].score, -quotes[k].start, -k[1]),
        )
        if not covers[key] & left:
            break
        chosen.append(quotes[key])
        left -= covers.pop(key)
    return chosen, len(left)


def _merged(citations: Sequence[Citation]) -> list[tuple[Citation, list[tuple[int, int]]]]:
    """The quotes grouped by passage in document order, overlapping or adjacent spans
    (only white space between them) joined."""
    by_passage: dict[str, tuple[Citation, list[tuple[int, int]]]] = {}
    for citation in sorted(citations, key=lambda c: (c.source, c.start, c.quote_start or 0)):
        assert citation.quote_start is not None and citation.quote_end is not None
        base, spans = by_passage.setdefault(citation.passage_id, (citation, []))
        if spans and _joins(citation, spans[-1][1]):
            spans[-1] = (spans[-1][0], max(spans[-1][1], citation.quote_end))
        else:
            spans.append((citation.quote_start, citation.quote_end))
        if citation.score > base.score:
            by_passage[citation.passage_id] = (citation, spans)
    return list(by_passage.values())


def _joins(citation: Citation, end: int) -> bool:
    # A quote that overlaps the span ending at `end`, or follows it after white space only.
    assert citation.quote_start is not None
    gap = citation.text[end - citation.start : citation.quote_start - citation.start]
    return citation.quote_start <= end or not gap.strip()


def answer_from_map(
    plan: QuestionPlan, query: MapQuery, field_map: FieldMap, *, limit: int
) -> Answer | None:
    """The answer to a set question from the map's cells, or None when it has none."""
    cells = _cells(query, field_map)
    if not cells:
        return None
    parts: list[str] = []
    citations: list[Citation] = []
    chosen, left = _cover(cells, limit, query.inventory)
    for n, (citation, spans) in enumerate(_merged(chosen), start=1):
        texts = [citation.text[a - citation.start : b - citation.start] for a, b in spans]
        parts.extend(f"{text} [{n}]" for text in texts)
        one = spans[0] if len(spans) == 1 else (None, None)
        citations.append(
            citation.model_copy(
                update={
                    "n": n,
                    "quote": " ".join(texts),
                    "spans": spans,
                    "quote_start": one[0],
                    "quote_end": one[1],
                    "score": MAP_CONFIDENCE,
                }
            )
        )
    cautions = []
    if query.inventory == "actors" and _MENTION_ASK.search(plan.question):
        cautions.append(
            "These are the actors the field map ties to a field of cooperation; one the "
            "texts mention only in passing is not among them."
        )
    if left:
        what = query.inventory or "cells"
        cautions.append(
            f"The {limit} quotes (QA_MAX_LIST_SENTENCES) leave out {left} of the field map's "
            f"{what} for this question; `qa fields` or GET /fields shows the whole map."
        )
    caution = " ".join(cautions) or None
    return Answer(
        question=plan.question,
        answered=True,
        answer=" ".join(parts),
        citations=citations,
        confidence=MAP_CONFIDENCE,
        caution=caution,
    )
