"""The on-disk format of the index, in one place: file names, schema version, `Manifest`.

index/
  current -> builds/<build_id>     symlink, replaced atomically after each build
  builds/<build_id>/               one complete build (the files below)
  .cache/                          embeddings of an unfinished build (for resume)
  .lock                            serialises builds across processes
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 3

# The index root.
CURRENT = "current"
BUILDS = "builds"
CACHE = ".cache"
LOCK = ".lock"

# One build folder.
MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
PASSAGES = "passages.jsonl"
PASSAGE_OFFSETS = "passage_offsets.npy"  # byte offset of each line of PASSAGES
PASSAGE_DOCUMENTS = "passage_documents.npy"  # row -> index of the document in DOCUMENTS
PASSAGE_IDS = "passage_ids.json"
SENTENCE_STARTS = "sentence_starts.npy"  # row -> first row of its sentences
VECTORS = "vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
DENSE = "dense.faiss"
LEXICAL = "bm25"  # a folder: bm25s arrays and idf.json
ONNX = "onnx"  # a folder: the query encoder export
FIELDS = "fields.json"  # the cooperation-field map: evidence per document (qa.fields)

# Sentence vectors only rank sentences within a handful of passages: half precision
# is plenty there and halves the largest file of the index.
SENTENCE_DTYPE = np.float16


class DocumentEntry(BaseModel):
    """One document of a build, as the manifest records it for change detection."""

    model_config = ConfigDict(frozen=True)

    id: str
    content_hash: str
    passages: int
    size: int = -1
    mtime_ns: int = -1


class SkippedEntry(BaseModel):
    """A file a build skipped, with why: remembered so that status does not call the
    index stale for it until the file changes."""

    model_config = ConfigDict(frozen=True)

    reason: str
    size: int = -1
    mtime_ns: int = -1
    content_hash: str = ""


class Manifest(BaseModel):
    """`manifest.json`: what was built, with what, from what."""

    model_config = ConfigDict(frozen=True)

    schema_version: int
    qa_version: str
    build_id: str
    built_at: datetime
    model: str
    dimension: int
    normalized: bool = True
    chunking: dict[str, int]
    dense_kind: Literal["flat", "hnsw"]
    passage_count: int
    sentence_count: int
    documents: dict[str, DocumentEntry]  # by source path
    skipped: dict[str, SkippedEntry] = {}  # by source path; older builds lack it
    corpus_dir: str | None = None  # the corpus folder the build was made from
    taxonomy_digest: str | None = None  # SHA-256 of the field taxonomy of its field map


def read_manifest(build: Path) -> Manifest:
    """The manifest of the build folder `build` (raises OSError or ValueError)."""
    return Manifest.model_validate_json((build / MANIFEST).read_bytes())


def write_manifest(build: Path, manifest: Manifest) -> None:
    (build / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
