"""Computing a build's field map: reuse the evidence of documents that have not changed
(same content, taxonomy, rule and model), find it afresh for the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from qa.encoders.base import QueryEncoder
from qa.fields.assign import (
    ALGORITHM_VERSION,
    SeedMatcher,
    SentenceVector,
    document_evidence,
    field_vectors,
)
from qa.fields.store import DocumentFields, StoredFields
from qa.fields.taxonomy import Taxonomy
from qa.models import Document, Passage

logger = logging.getLogger(__name__)


def map_documents(
    documents: Sequence[Document],
    passages_of: Callable[[str], Sequence[Passage]],
    *,
    taxonomy: Taxonomy,
    encoder: QueryEncoder,
    model: str,
    previous: StoredFields | None = None,
    sentence_vector: SentenceVector | None = None,
    advance: Callable[[int], None] = lambda n: None,
) -> tuple[StoredFields, int]:
    """The field map of `documents` and how many documents were mapped afresh."""
    reusable = previous is not None and previous.is_reusable_for(taxonomy, model)
    vectors = previous.field_matrix() if reusable and previous else None
    matcher = SeedMatcher.of(taxonomy)
    out: dict[str, DocumentFields] = {}
    fresh = 0
    for document in documents:
        old = previous.documents.get(document.id) if previous is not None else None
        if reusable and old is not None and old.content_hash == document.content_hash:
            out[document.id] = old
        else:
            if vectors is None:
                vectors = field_vectors(taxonomy, encoder)
            evidence = document_evidence(
                passages_of(document.id),
                encoder,
                taxonomy,
                vectors,
                sentence_vector=sentence_vector,
                matcher=matcher,
            )
            out[document.id] = DocumentFields.of(document.content_hash, evidence)
            fresh += 1
        advance(1)
    if vectors is None:
        vectors = field_vectors(taxonomy, encoder)
    logger.info("field map: %d documents mapped, %d reused", fresh, len(documents) - fresh)
    stored = StoredFields(
        algorithm=ALGORITHM_VERSION,
        model=model,
        taxonomy_source=taxonomy.source,
        taxonomy_digest=taxonomy.digest,
        fields=list(taxonomy.fields),
        threshold=taxonomy.threshold,
        seed_weight=taxonomy.seed_weight,
        vectors=np.round(vectors, 6).tolist(),
        documents=out,
    )
    return stored, fresh
