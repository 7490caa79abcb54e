"""The stored field map of one build (`fields.json`): evidence per document, reusable
while the document, the taxonomy and the model are unchanged; and the `FieldMap` (cells
with citations) assembled from it for the selected documents, actors and fields.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from qa.actors import actor, related_ids, resolve_actor
from qa.errors import IndexMismatchError, UnknownActorError, UnknownFieldError
from qa.fields.assign import ALGORITHM_VERSION, Evidence
from qa.fields.taxonomy import Taxonomy
from qa.models import Citation, CooperationField, FieldCell, FieldMap, Passage

if TYPE_CHECKING:
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

PassageLookup = Callable[[str], Passage]


class DocumentFields(BaseModel):
    """The evidence found in one document, with the content hash it was found in."""

    model_config = ConfigDict(frozen=True)

    content_hash: str
    evidence: list[tuple[str, int, int, list[str], list[str], str, float]] = Field(
        default_factory=list,
        description="(passage_id, start, end, actors, partners, field, score) per finding.",
    )

    @classmethod
    def of(cls, content_hash: str, evidence: Iterable[Evidence]) -> DocumentFields:
        rows = [
            (e.passage_id, e.start, e.end, list(e.actors), list(e.partners), e.field, e.score)
            for e in evidence
        ]
        return cls(content_hash=content_hash, evidence=rows)

    def findings(self) -> list[Evidence]:
        return [
            Evidence(pid, start, end, tuple(actors), tuple(partners), field, score)
            for pid, start, end, actors, partners, field, score in self.evidence
        ]


class StoredFields(BaseModel):
    """`fields.json`: what a build found, and with which taxonomy, rule and model."""

    model_config = ConfigDict(frozen=True)

    algorithm: int
    model: str
    taxonomy_source: str
    taxonomy_digest: str
    fields: list[CooperationField]
    threshold: float = Field(description="The taxonomy's calibrated assignment threshold.")
    seed_weight: float = Field(description="The bonus a seed term adds to the similarity.")
    vectors: list[list[float]] = Field(
        description="One unit vector per field (its description and seed terms), in order."
    )
    documents: dict[str, DocumentFields]  # by document id, in document order

    def is_reusable_for(self, taxonomy: Taxonomy, model: str) -> bool:
        """True when evidence of unchanged documents can be copied into a new build."""
        return (
            self.algorithm == ALGORITHM_VERSION
            and self.taxonomy_digest == taxonomy.digest
            and self.model == model
        )

    def taxonomy(self) -> Taxonomy:
        """The taxonomy this map was computed with."""
        return Taxonomy(
            fields=tuple(self.fields),
            threshold=self.threshold,
            seed_weight=self.seed_weight,
            source=self.taxonomy_source,
            digest=self.taxonomy_digest,
        )

    def field_matrix(self) -> NDArray[np.float32]:
        """The fields' vectors as one (fields, dimension) array."""
        return np.asarray(self.vectors, dtype=np.float32)


def write_fields(path: Path, stored: StoredFields) -> None:
    path.write_text(stored.model_dump_json(), encoding="utf-8")


def read_fields(path: Path) -> StoredFields | None:
    """The stored map at `path`, or None when the build has none (or an unreadable one)."""
    try:
        return StoredFields.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable field map %s: %s", path, exc)
        return None


def require_fields(path: Path) -> StoredFields:
    """The stored map at `path`; `IndexMismatchError` (run `qa ingest`) when missing."""
    stored = read_fields(path)
    if stored is None:
        raise IndexMismatchError(
            "This index was built without a field map.", remedy="Run `qa ingest` to add it."
        )
    return stored


def _actor_ids(names: Sequence[str]) -> list[str]:
    ids: list[str] = []
    for name in names:
        try:
            ids.append(actor(name).id)
        except UnknownActorError:
            found = resolve_actor(name)
            if found is None:
                raise UnknownActorError(
                    f"Unknown actor {name!r}.",
                    remedy="Use an actor id from `qa fields --json` (kor, usa, eu, asean) "
                    "or a country name.",
                ) from None
            ids.append(found.id)
    return ids


def check_field_ids(stored: StoredFields, field_ids: Sequence[str]) -> list[str]:
    """`field_ids`, each checked against the taxonomy (`UnknownFieldError` otherwise)."""
    known = [f.id for f in stored.fields]
    for field_id in field_ids:
        if field_id not in known:
            raise UnknownFieldError(
                f"Unknown field id {field_id!r}.", remedy=f"Use one of: {', '.join(known)}."
            )
    return list(field_ids)


def assemble_map(
    stored: StoredFields,
    passage: PassageLookup,
    *,
    documents: Sequence[str] | None = None,
    actors: Sequence[str] | None = None,
    fields: Sequence[str] | None = None,
) -> FieldMap:
    """The map over `documents` (ids; default all), restricted to `actors` and `fields`.

    An actor filter (ids or names) keeps the cells of that actor, of its bloc's members
    or the blocs it belongs to, and the cells that name any of those as a partner.
    """
    wanted_fields = set(check_field_ids(stored, fields or []))
    wanted_actors: set[str] = set()
    for actor_id in _actor_ids(actors or []):
        wanted_actors |= related_ids(actor_id)
    chosen = list(stored.documents) if documents is None else list(documents)
    numbers: dict[tuple[str, int, int], int] = {}  # each quote gets one [n] across the map
    found: dict[tuple[str, str], tuple[list[str], dict[tuple[str, int, int], Evidence]]] = {}
    for document_id in chosen:
        entry = stored.documents.get(document_id)
        if entry is None:
            continue
        for finding in entry.findings():
            if wanted_fields and finding.field not in wanted_fields:
                continue
            key = (finding.passage_id, finding.start, finding.end)
            for subject in finding.actors:
                if wanted_actors and not {subject, *finding.partners} & wanted_actors:
                    continue
                numbers.setdefault(key, len(numbers) + 1)
                partners, cited = found.setdefault((subject, finding.field), ([], {}))
                partners.extend(p for p in finding.partners if p not in partners)
                if key not in cited or cited[key].score < finding.score:
                    cited[key] = finding  # two clauses of one sentence: the better score
    field_order = {f.id: i for i, f in enumerate(stored.fields)}
    actor_order: dict[str, int] = {}
    for subject, _ in found:
        actor_order.setdefault(subject, len(actor_order))
    ordered = sorted(found.items(), key=lambda kv: (actor_order[kv[0][0]], field_order[kv[0][1]]))
    named: list[str] = list(actor_order)
    for _, (partners, _) in ordered:
        named.extend(p for p in partners if p not in named)
    passages: dict[str, Passage] = {}

    def cite(key: tuple[str, int, int], finding: Evidence) -> Citation:
        if key[0] not in passages:
            passages[key[0]] = passage(key[0])
        return _citation(passages[key[0]], finding, numbers[key])

    return FieldMap(
        fields=[f for f in stored.fields if not wanted_fields or f.id in wanted_fields],
        actors=[actor(a) for a in named],
        cells=[
            FieldCell(
                actor=subject,
                field=field_id,
                partners=partners,
                citations=[cite(k, e) for k, e in cited.items()],
            )
            for (subject, field_id), (partners, cited) in ordered
        ],
    )


def _citation(passage: Passage, finding: Evidence, n: int) -> Citation:
    a, b = finding.start - passage.start, finding.end - passage.start
    return Citation(
        **Citation.fields_of(passage),
        n=n,
        quote=passage.text[a:b],
        spans=[(finding.start, finding.end)],
        headings=passage.headings,
        score=finding.score,
        quote_start=finding.start,
        quote_end=finding.end,
    )


def cells_for(
    field_map: FieldMap, *, actors: Sequence[str] = (), fields: Sequence[str] = ()
) -> list[FieldCell]:
    """The cells of an assembled map for actor ids (with related blocs/members, and as
    partners) and/or field ids; every cell when both are empty."""
    wanted: set[str] = set()
    for actor_id in actors:
        wanted |= related_ids(actor_id)
    return [
        cell
        for cell in field_map.cells
        if (not fields or cell.field in fields)
        and (not wanted or {cell.actor, *cell.partners} & wanted)
    ]
