"""The Milvus side of the index: connecting, the two collections' schemas, and the small
side collection of named text blobs (manifest, document catalog, documents, version).

pymilvus is imported only inside these functions, so choosing the local backend never
loads it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any, Literal

from qa.config import Settings
from qa.errors import IndexStoreError

logger = logging.getLogger(__name__)

SCHEMA = 1
# Milvus VARCHAR limits are in bytes; a blob part of this many characters always fits.
BLOB_PART_CHARS = 16_000
VARCHAR_MAX = 65_535
QUERY_WINDOW = 16_384  # the most rows one query may return
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 512
Bm25Mode = Literal["stemmed", "analyzer"]


def is_server_uri(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "tcp://", "grpc://"))


def resolve_uri(settings: Settings) -> str:
    """QA_MILVUS_URI, or a Milvus Lite file inside the index folder."""
    return settings.milvus_uri or str(settings.index_dir / "milvus.db")


def collection_name(settings: Settings) -> str:
    """QA_MILVUS_COLLECTION, or one derived from the corpus folder (its name and path hash)."""
    if settings.milvus_collection:
        return settings.milvus_collection
    corpus = settings.corpus_dir.resolve()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", corpus.name).strip("_").lower()[:40] or "corpus"
    return f"qa_{slug}_{hashlib.sha1(str(corpus).encode()).hexdigest()[:8]}"


def connect(settings: Settings) -> Any:
    """A `MilvusClient` for the settings; `IndexStoreError` with a remedy when unreachable."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    uri = resolve_uri(settings)
    if not is_server_uri(uri):
        Path(uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri=uri, token=settings.milvus_token or "")
    except (MilvusException, OSError, RuntimeError) as exc:
        raise IndexStoreError(
            f"Cannot open Milvus at {uri} ({getattr(exc, 'message', exc)}).",
            remedy="Check QA_MILVUS_URI and QA_MILVUS_TOKEN. A Milvus Lite file serves one "
            "process: for several, run `milvus-lite server --data-dir DIR --port 19530` "
            "and set QA_MILVUS_URI=http://127.0.0.1:19530.",
        ) from exc


def supports_bm25(client: Any) -> bool:
    """Milvus ≥ 2.5 (and Lite) has sparse vectors, the BM25 function and hybrid search."""
    from pymilvus.exceptions import MilvusException

    try:
        version = str(client.get_server_version())
    except (MilvusException, NotImplementedError, AttributeError):
        return True  # Lite may not answer a version call; it has BM25
    found = re.search(r"(\d+)\.(\d+)", version)
    return found is None or (int(found[1]), int(found[2])) >= (2, 5)


def analyzer(mode: Bm25Mode) -> dict[str, Any]:
    # "stemmed": the text is already qa's stemmed, stop-worded tokens (Lite has no English
    # stemmer); "analyzer": Milvus tokenises the raw search text itself.
    if mode == "stemmed":
        return {"tokenizer": "standard"}
    return {"tokenizer": "standard", "filter": ["lowercase"]}


def create_passages(
    client: Any, name: str, dimension: int, *, lexical: bool, bm25: Bm25Mode
) -> None:
    """The passage collection: scalars for citations and filters, dense HNSW, BM25 sparse."""
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("passage_id", DataType.VARCHAR, is_primary=True, max_length=512)
    schema.add_field("document_id", DataType.VARCHAR, max_length=512)
    schema.add_field("source", DataType.VARCHAR, max_length=4096)
    schema.add_field("title", DataType.VARCHAR, max_length=4096)
    schema.add_field("position", DataType.INT64)  # order within the document
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("page", DataType.INT64)  # -1: the document has no pages
    schema.add_field("text", DataType.VARCHAR, max_length=VARCHAR_MAX)
    schema.add_field("headings", DataType.JSON)  # {"items": [...]}
    schema.add_field("sentences", DataType.JSON)  # {"spans": [[a, b], ...], "labels": [...]}
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    index = client.prepare_index_params()
    index.add_index(
        "dense",
        index_type="HNSW",
        metric_type="COSINE",
        params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION},
    )
    if lexical:
        schema.add_field(
            "bm25_text",
            DataType.VARCHAR,
            max_length=VARCHAR_MAX,
            enable_analyzer=True,
            analyzer_params=analyzer(bm25),
        )
        schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25_of_text",
                function_type=FunctionType.BM25,
                input_field_names=["bm25_text"],
                output_field_names=["bm25"],
            )
        )
        index.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")


def create_meta(client: Any, name: str) -> None:
    """The side collection of blobs, one row per part (Milvus wants a vector in each)."""
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=1024)
    schema.add_field("name", DataType.VARCHAR, max_length=1024)
    schema.add_field("part", DataType.INT64)
    schema.add_field("body", DataType.VARCHAR, max_length=VARCHAR_MAX)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("unused", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")


def quote(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(value)


class Blobs:
    """Named text values in the side collection, split into parts that fit a VARCHAR."""

    def __init__(self, client: Any, collection: str) -> None:
        self.client = client
        self.collection = collection

    def write(self, name: str, text: str) -> None:
        parts = [text[i : i + BLOB_PART_CHARS] for i in range(0, len(text), BLOB_PART_CHARS)]
        parts = parts or [""]
        rows = [
            {"key": f"{name}#{n}", "name": name, "part": n, "body": body, "unused": [0.0, 0.0]}
            for n, body in enumerate(parts)
        ]
        for first in range(0, len(rows), 64):
            self.client.upsert(self.collection, rows[first : first + 64])
        self.client.delete(
            self.collection, filter=f"name == {quote(name)} and part >= {len(parts)}"
        )

    def read(self, name: str) -> str | None:
        rows = self.client.query(
            self.collection,
            filter=f"name == {quote(name)}",
            output_fields=["part", "body"],
            limit=QUERY_WINDOW,
        )
        if not rows:
            return None
        return "".join(row["body"] for row in sorted(rows, key=lambda r: int(r["part"])))

    def delete(self, name: str) -> None:
        self.client.delete(self.collection, filter=f"name == {quote(name)}")
