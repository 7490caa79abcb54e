"""The index folder as a repository: open and validate the current build, report status,
and publish a finished build by an atomic swap of the `current` symlink.

A crash at any moment leaves `current` pointing at the previous complete build. The
layout is in `qa.index.layout`; `qa.index.builder` writes builds.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from qa import version as qa_version
from qa.chunking import CHUNKER_VERSION
from qa.config import Settings
from qa.encoders.base import Embedder
from qa.errors import IndexMismatchError, IndexNotFoundError, TaxonomyError
from qa.fields.store import read_fields
from qa.fields.taxonomy import CORPUS_FILE as TAXONOMY_FILE
from qa.fields.taxonomy import load_taxonomy
from qa.index import layout
from qa.index.layout import (
    SCHEMA_VERSION,
    DocumentEntry,
    Manifest,
    SkippedEntry,
    write_manifest,
)
from qa.index.plan import is_unchanged
from qa.index.snapshot import IndexSnapshot
from qa.index.writer import PassageSink, write_build
from qa.ingest.corpus import discover
from qa.models import Document, IndexStatus, SkippedFile

logger = logging.getLogger(__name__)


class IndexStore:
    """Owns `settings.index_dir`: build, load, validate, swap, and report status."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.index_dir
        self.builds = self.root / layout.BUILDS
        self.pointer = self.root / layout.CURRENT

    # -- reading -----------------------------------------------------------------------

    def current_build(self) -> Path | None:
        """The build folder `current` points at, if any."""
        try:
            target = os.readlink(self.pointer)
        except OSError:
            return None
        path = self.root / target
        return path if path.is_dir() else None

    def recorded_corpus(self) -> Path | None:
        """The corpus folder the current build was made from, when recorded and present."""
        path = self.current_build()
        if path is None:
            return None
        try:
            recorded = layout.read_manifest(path).corpus_dir
        except (OSError, ValueError):
            return None
        return Path(recorded) if recorded and Path(recorded).is_dir() else None

    def has_newer_than(self, snapshot: IndexSnapshot) -> bool:
        """True when another build has been swapped in since `snapshot` was loaded."""
        current = self.current_build()
        return current is not None and current.name != snapshot.build_id

    def load(self) -> IndexSnapshot:
        """Open the current build, checking it matches the settings."""
        path = self.current_build()
        if path is None:
            raise IndexNotFoundError(
                f"No index in {self.root}.",
                remedy="Run `qa ingest` to build it.",
                remedy_key="build_index",
            )
        snapshot = IndexSnapshot.open(path)
        self.check(snapshot.manifest)
        return snapshot

    def check(self, manifest: Manifest) -> None:
        """Raise `IndexMismatchError` when the build cannot serve these settings."""
        if manifest.schema_version != SCHEMA_VERSION:
            raise IndexMismatchError(
                f"The index has schema {manifest.schema_version}; this qa reads {SCHEMA_VERSION}.",
                remedy="Run `qa ingest --rebuild`.",
            )
        if manifest.model != self.settings.embedding_model:
            raise IndexMismatchError(
                f"The index was built with model {manifest.model!r}, but QA_EMBEDDING_MODEL is "
                f"{self.settings.embedding_model!r}.",
                remedy="Run `qa ingest --rebuild`, or set QA_EMBEDDING_MODEL back.",
            )

    def chunking(self) -> dict[str, int]:
        """The chunking parameters a build must have been made with."""
        s = self.settings
        return {
            "size": s.chunk_size,
            "overlap": s.chunk_overlap,
            "min_tokens": s.min_chunk_tokens,
            "version": CHUNKER_VERSION,
        }

    def status(self) -> IndexStatus:
        """What is built and whether it is stale, reading only the manifest and the corpus."""
        base = {"index_dir": str(self.root), "corpus_dir": str(self.settings.corpus_dir)}
        path = self.current_build()
        if path is None:
            return IndexStatus(**base, built=False, is_stale=True, stale_reasons=["no index"])
        snapshot = IndexSnapshot.open(path)
        manifest = snapshot.manifest
        return IndexStatus(
            **base,
            built=True,
            model=manifest.model,
            dimension=manifest.dimension,
            documents=snapshot.document_infos(),
            passage_count=manifest.passage_count,
            built_at=manifest.built_at,
            build_id=manifest.build_id,
            is_stale=bool(reasons := self.stale_reasons(manifest)),
            stale_reasons=reasons,
            skipped=[SkippedFile(source=s, reason=e.reason) for s, e in manifest.skipped.items()],
        )

    def stale_reasons(self, manifest: Manifest) -> list[str]:
        """Why the build no longer matches the corpus or settings (empty when current)."""
        reasons: list[str] = []
        if manifest.model != self.settings.embedding_model:
            reasons.append(f"model changed to {self.settings.embedding_model}")
        if manifest.chunking != self.chunking():
            reasons.append("chunking settings changed")
        digest = manifest.taxonomy_digest
        build = self.current_build()
        if digest is None and build and (stored := read_fields(build / layout.FIELDS)):
            digest = stored.taxonomy_digest  # a build from before manifests recorded it
        if digest is not None:
            try:
                taxonomy = load_taxonomy(self.settings)
            except TaxonomyError as exc:
                reasons.append(f"field taxonomy cannot be read: {exc.message}")
            else:
                if taxonomy.digest != digest:
                    reasons.append(f"field taxonomy changed ({taxonomy.source})")
        root = self.settings.corpus_dir
        seen: set[str] = set()
        if root.is_dir():
            links: list[SkippedFile] = []
            for path, source in discover(root, skipped=links):
                if source == TAXONOMY_FILE:
                    continue
                seen.add(source)
                entry = manifest.documents.get(source) or manifest.skipped.get(source)
                if entry is None:
                    reasons.append(f"new file {source}")
                elif not is_unchanged(path, entry):
                    reasons.append(f"changed file {source}")
            for link in links:
                seen.add(link.source)
                if link.source not in manifest.skipped:
                    reasons.append(f"new file {link.source}")
        reasons += [
            f"removed file {s}" for s in [*manifest.documents, *manifest.skipped] if s not in seen
        ]
        return reasons

    # -- writing -----------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the build lock (across processes) for the duration of the block."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / layout.LOCK).open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def reusable(self, rebuild: bool) -> IndexSnapshot | None:
        """The current build if a new one may copy from it, else None."""
        if rebuild or (path := self.current_build()) is None:
            return None
        try:
            snapshot = IndexSnapshot.open(path)
            self.check(snapshot.manifest)
        except (IndexMismatchError, OSError, ValueError) as exc:
            logger.warning("previous index not reusable (%s); rebuilding everything", exc)
            return None
        if snapshot.manifest.chunking != self.chunking():
            logger.warning("chunking settings changed; rebuilding everything")
            return None
        return snapshot

    def staging(self) -> Path:
        """A fresh, hidden build folder to write into."""
        build_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        self.builds.mkdir(parents=True, exist_ok=True)
        staging = self.builds / f".{build_id}.partial"
        staging.mkdir()
        return staging

    def publish(
        self,
        staging: Path,
        documents: list[Document],
        passages: PassageSink,
        stats: dict[str, tuple[int, int]],
        embedder: Embedder,
        previous: IndexSnapshot | None,
        *,
        skipped: Mapping[str, SkippedEntry] | None = None,
        taxonomy_digest: str | None = None,
    ) -> None:
        """Write the engines and manifest into `staging`, then swap it in as `current`.

        `passages` are already in `staging`, with their vectors, closed.
        """
        build_id = staging.name.removeprefix(".").removesuffix(".partial")
        kind = write_build(staging, documents, flat_max=self.settings.flat_index_max)
        manifest = Manifest(
            schema_version=SCHEMA_VERSION,
            qa_version=qa_version(),
            build_id=build_id,
            built_at=datetime.now(UTC),
            model=embedder.model_id,
            dimension=embedder.dimension,
            chunking=self.chunking(),
            dense_kind=kind,
            passage_count=len(passages),
            sentence_count=passages.sentence_count,
            documents={
                d.source: DocumentEntry(
                    id=d.id,
                    content_hash=d.content_hash,
                    passages=passages.counts.get(number, 0),
                    size=stats.get(d.source, (-1, -1))[0],
                    mtime_ns=stats.get(d.source, (-1, -1))[1],
                )
                for number, d in enumerate(documents)
            },
            skipped=dict(skipped or {}),
            corpus_dir=str(self.settings.corpus_dir.resolve()),
            taxonomy_digest=taxonomy_digest,
        )
        write_manifest(staging, manifest)
        final = self.builds / build_id
        staging.rename(final)
        link = self.root / f".current.{build_id}"
        link.symlink_to(final.relative_to(self.root))
        link.replace(self.pointer)  # the atomic swap
        self._prune(keep={final.name, previous.build_id if previous else ""})

    def _prune(self, keep: set[str]) -> None:
        # Keep the previous build too: a reader may still be opening its files.
        for path in self.builds.iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
        for link in self.root.glob(".current.*"):
            link.unlink(missing_ok=True)
