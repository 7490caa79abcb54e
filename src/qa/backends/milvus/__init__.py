"""The Milvus backend: passages, dense vectors and BM25 in one Milvus collection per corpus,
reached through `pymilvus.MilvusClient` (Milvus Lite file, standalone server or cluster)."""

from __future__ import annotations

from qa.backends.milvus.backend import MilvusBackend

__all__ = ["MilvusBackend"]
