"""`MilvusReader`: one published version of a Milvus index: hybrid retrieval (dense HNSW +
BM25 fused like the local backend), and documents and passages read from Milvus.

Nothing is read from local files: citations come from the stored passage fields.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from qa.backends.milvus import collections as mc
from qa.config import Settings
from qa.encoders.base import QueryEncoder
from qa.errors import NotFoundError
from qa.index.layout import Manifest
from qa.models import Document, DocumentDetail, DocumentInfo, IndexInfo, Passage, PassageDetail
from qa.retrieval.fusion import convex_fusion, reciprocal_rank_fusion
from qa.retrieval.lexical import tokenize
from qa.retrieval.retriever import POOL, Candidate, Evidence, QueryVectors

if TYPE_CHECKING:
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

SCALARS = ["passage_id", "document_id", "source", "title", "position", "start", "end", "page",
           "text", "headings", "sentences"]  # fmt: skip


def bm25_text(search_text: str, mode: mc.Bm25Mode) -> str:
    """What the BM25 function indexes: qa's stemmed tokens ("stemmed") or the raw text."""
    if mode == "stemmed":
        return " ".join(tokenize([search_text])[0])[: mc.BLOB_PART_CHARS]
    return search_text[: mc.BLOB_PART_CHARS]


def passage_row(
    passage: Passage, position: int, vector: NDArray[np.float32], text: str
) -> dict[str, Any]:
    """The collection row of one passage (BM25 text added by the caller)."""
    return {
        "passage_id": passage.id,
        "document_id": passage.document_id,
        "source": passage.source,
        "title": passage.title,
        "position": position,
        "start": passage.start,
        "end": passage.end,
        "page": -1 if passage.page is None else passage.page,
        "text": passage.text,
        "headings": {"items": passage.headings},  # JSON objects: Milvus 2.3 takes no arrays
        "sentences": {"spans": passage.sentences, "labels": passage.labels},
        "dense": [float(x) for x in vector],
    }


def row_passage(row: dict[str, Any]) -> Passage:
    sentences = row["sentences"]
    return Passage(
        id=row["passage_id"],
        document_id=row["document_id"],
        title=row["title"],
        source=row["source"],
        page=None if int(row["page"]) < 0 else int(row["page"]),
        headings=list(row["headings"]["items"]),
        start=int(row["start"]),
        end=int(row["end"]),
        text=row["text"],
        sentences=[(int(a), int(b)) for a, b in sentences["spans"]],
        labels=list(sentences["labels"]),
    )


class MilvusReader:
    """Reads one version; `version` changes when any process publishes an ingest."""

    def __init__(
        self,
        client: Any,
        collection: str,
        blobs: mc.Blobs,
        *,
        manifest: Manifest,
        catalog: list[DocumentInfo],
        version: str,
        encoder: QueryEncoder,
        settings: Settings,
        lexical: bool,
        bm25: mc.Bm25Mode,
        fusion: Literal["client", "hybrid"] = "client",
    ) -> None:
        self.client = client
        self.collection = collection
        self.blobs = blobs
        self.manifest = manifest
        self.encoder = encoder
        self.settings = settings
        self.lexical = lexical
        self.bm25: mc.Bm25Mode = bm25
        self.fusion = fusion  # "client": weighted RRF as local; "hybrid": Milvus RRFRanker
        self._version = version
        self._infos = {info.id: info for info in catalog}
        self._by_source = {info.source: info for info in catalog}
        self._documents: dict[str, Document] = {}
        self.query_vector = QueryVectors(encoder)

    @property
    def version(self) -> str:
        return self._version

    def info(self) -> IndexInfo:
        manifest = self.manifest
        return IndexInfo(
            build_id=manifest.build_id,
            model=manifest.model,
            dimension=manifest.dimension,
            documents=len(manifest.documents),
            passage_count=manifest.passage_count,
            built_at=manifest.built_at,
            dense_index="hnsw",
        )

    def warm(self) -> None:
        """Nothing to read ahead: the catalog is in hand and Milvus serves the rest."""

    # -- retrieval ---------------------------------------------------------------------

    def _filter(self, documents: Sequence[str] | None) -> str:
        if not documents:
            return ""
        ids = sorted({self.document_info(d).id for d in documents})
        return f"document_id in {json.dumps(ids)}"

    def _dense_request(self, vector: NDArray[np.float32], depth: int, where: str) -> Any:
        from pymilvus import AnnSearchRequest

        return AnnSearchRequest(
            data=[[float(x) for x in vector]],
            anns_field="dense",
            param={"metric_type": "COSINE", "params": {"ef": max(mc.HNSW_EF_SEARCH, depth)}},
            limit=depth,
            expr=where or None,
        )

    def _lexical_query(self, query: str) -> str:
        return bm25_text(query, self.bm25)

    def _ids(self, result: Any) -> list[tuple[str, float]]:
        return [(str(hit["entity"].get("passage_id", hit.get("id"))), float(hit["distance"]))
                for hit in result[0]]  # fmt: skip

    def rankings(
        self, query: str, depth: int, where: str
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """(dense, lexical) rankings of passage ids, best first."""
        vector = self.query_vector(query)
        dense = self._ids(
            self.client.search(
                self.collection,
                data=[[float(x) for x in vector]],
                anns_field="dense",
                limit=depth,
                filter=where,
                search_params={
                    "metric_type": "COSINE",
                    "params": {"ef": max(mc.HNSW_EF_SEARCH, depth)},
                },
                output_fields=["passage_id"],
            )
        )
        lexical: list[tuple[str, float]] = []
        terms = self._lexical_query(query)
        if self.lexical and terms.strip():
            lexical = self._ids(
                self.client.search(
                    self.collection,
                    data=[terms],
                    anns_field="bm25",
                    limit=depth,
                    filter=where,
                    search_params={"metric_type": "BM25"},
                    output_fields=["passage_id"],
                )
            )
        return dense, lexical

    def _hybrid(self, query: str, depth: int, k: int, where: str) -> list[tuple[str, float]]:
        from pymilvus import AnnSearchRequest, RRFRanker

        vector = self.query_vector(query)
        requests = [self._dense_request(vector, depth, where)]
        terms = self._lexical_query(query)
        if self.lexical and terms.strip():
            requests.append(
                AnnSearchRequest(
                    data=[terms],
                    anns_field="bm25",
                    param={"metric_type": "BM25"},
                    limit=depth,
                    expr=where or None,
                )
            )
        result = self.client.hybrid_search(
            self.collection,
            requests,
            ranker=RRFRanker(self.settings.rrf_k),
            limit=k,
            output_fields=["passage_id"],
        )
        return self._ids(result)

    def retrieve(
        self, query: str, *, k: int, documents: Sequence[str] | None = None
    ) -> list[Candidate]:
        """The fused top-`k` candidates. `Candidate.row` is the rank position (0-based):
        Milvus has no row numbers."""
        if self.manifest.passage_count == 0:
            return []
        where, depth, settings = self._filter(documents), max(POOL, k), self.settings
        dense_of: dict[str, float] = {}
        lexical_of: dict[str, float] = {}
        if self.fusion == "hybrid" and self.lexical:
            fused = self._hybrid(query, depth, k, where)  # cosines come from the vectors
        else:
            dense, lexical = self.rankings(query, depth, where)
            dense_of, lexical_of = dict(dense), dict(lexical)
            ids = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in lexical]))
            number = {passage_id: n for n, passage_id in enumerate(ids)}
            rankings = [
                [(number[i], s) for i, s in dense],
                [(number[i], s) for i, s in lexical],
            ]
            weights = (settings.dense_weight, settings.lexical_weight)
            if settings.fusion == "rrf":
                rows = reciprocal_rank_fusion(rankings, weights, k=settings.rrf_k)
            else:
                # Lite's BM25 scores are negative: normalise ranks, never raw scores.
                rankings[1] = [(n, 1.0 / (1 + r)) for r, (n, _) in enumerate(rankings[1])]
                rows = convex_fusion(rankings, weights)
            fused = [(ids[n], score) for n, score in rows[:k]]
        fused = fused[:k]
        rows_by_id = self._fetch([i for i, _ in fused], with_vectors=True)
        vector = self.query_vector(query)
        out: list[Candidate] = []
        for position, (passage_id, score) in enumerate(fused):
            row = rows_by_id.get(passage_id)
            if row is None:
                continue  # deleted by an ingest since the search
            cosine = dense_of.get(passage_id)
            if cosine is None:
                cosine = float(np.asarray(row["dense"], dtype=np.float32) @ vector)
            out.append(
                Candidate(
                    position, row_passage(row), score, cosine, lexical_of.get(passage_id, 0.0)
                )
            )
        return out

    def _fetch(self, ids: Sequence[str], *, with_vectors: bool = False) -> dict[str, Any]:
        if not ids:
            return {}
        fields = [*SCALARS, "dense"] if with_vectors else SCALARS
        rows = self.client.get(self.collection, ids=list(ids), output_fields=fields)
        return {row["passage_id"]: row for row in rows}

    def evidence(self, query: str, candidates: Sequence[Candidate]) -> Evidence:
        """Sentence vectors for these candidates, embedded now (Milvus stores none), and no
        IDFs (every term weighs the same in coverage)."""
        texts = [t for c in candidates for t in c.passage.sentence_texts()]
        dim = self.manifest.dimension
        vectors = self.encoder.encode(texts) if texts else np.zeros((0, dim), dtype=np.float32)
        per_candidate, at = [], 0
        for candidate in candidates:
            n = len(candidate.passage.sentences)
            per_candidate.append(np.asarray(vectors[at : at + n], dtype=np.float32))
            at += n
        return Evidence(self.query_vector(query), per_candidate, {})

    # -- documents and passages --------------------------------------------------------

    def document_info(self, document_id: str) -> DocumentInfo:
        found = self._infos.get(document_id) or self._by_source.get(document_id)
        if found is None:
            raise NotFoundError(
                f"No document {document_id!r}.", remedy="List documents with `qa status`."
            )
        return found

    def document_infos(self) -> list[DocumentInfo]:
        return list(self._infos.values())

    def document(self, document_id: str) -> Document:
        info = self.document_info(document_id)
        document = self._documents.get(info.id)
        if document is None:
            from qa.backends.milvus.backend import document_blob

            raw = self.blobs.read(document_blob(info.id))
            if raw is None:
                raise NotFoundError(
                    f"Document {info.id!r} was removed by a later ingest.",
                    remedy="Retry the request.",
                )
            document = Document.model_validate_json(raw)
            if len(self._documents) < 256:
                self._documents[info.id] = document
        return document

    def document_detail(self, document_id: str) -> DocumentDetail:
        document = self.document(document_id)
        info = self.document_info(document_id)
        return DocumentDetail(**info.model_dump(), text=document.text)

    def passage_detail(self, passage_id: str) -> PassageDetail:
        row = self._fetch([passage_id]).get(passage_id)
        if row is None:
            raise NotFoundError(
                f"No passage {passage_id!r}.", remedy="Use an id from a search hit."
            )
        position = int(row["position"])
        neighbours = self.client.query(
            self.collection,
            filter=f"document_id == {mc.quote(row['document_id'])} and "
            f"position in [{position - 1}, {position + 1}]",
            output_fields=["passage_id", "position"],
        )
        at = {int(n["position"]): str(n["passage_id"]) for n in neighbours}
        return PassageDetail(
            passage=row_passage(row), previous_id=at.get(position - 1), next_id=at.get(position + 1)
        )
