"""What an ingest must do: which documents to keep, re-read, drop or skip.

Unchanged files (same path, same SHA-256) are kept from the previous build without
being read; the rest are read and normalised here, and failures become skips.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from qa.config import Settings
from qa.errors import DocumentParseError
from qa.fields.taxonomy import CORPUS_FILE as TAXONOMY_FILE
from qa.index.layout import DocumentEntry
from qa.index.snapshot import IndexSnapshot
from qa.ingest.corpus import discover, read_document
from qa.models import Document, IngestReport, SkippedFile

logger = logging.getLogger(__name__)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stat_key(path: Path) -> tuple[int, int]:
    """(size, mtime_ns): when both match the manifest, the file is taken as unchanged."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def is_unchanged(path: Path, entry: DocumentEntry) -> bool:
    """Same size and mtime as recorded, or else the same SHA-256 (a touched, unedited file)."""
    return stat_key(path) == (entry.size, entry.mtime_ns) or entry.content_hash == file_hash(path)


class ChangePlan:
    """Which documents are kept from the previous build, re-read, removed or skipped."""

    def __init__(self) -> None:
        self.kept: list[Document] = []
        self.fresh: list[Document] = []
        self.added: list[str] = []
        self.changed: list[str] = []
        self.removed: list[str] = []
        self.unchanged: list[str] = []
        self.skipped: list[SkippedFile] = []
        # Taken before a file is read, so an edit made during the build shows next time.
        self.stats: dict[str, tuple[int, int]] = {}

    @property
    def has_changes(self) -> bool:
        return bool(self.fresh or self.removed)

    @classmethod
    def make(
        cls, settings: Settings, previous: IndexSnapshot | None, paths: Sequence[Path] | None
    ) -> ChangePlan:
        plan = cls()
        root = settings.corpus_dir
        known = previous.manifest.documents if previous else {}
        scanned: set[str] = set()
        for path, source in discover(root, paths):
            if source == TAXONOMY_FILE:
                continue  # the corpus's field taxonomy, not a document
            scanned.add(source)
            entry = known.get(source)
            try:
                plan.stats[source] = stat_key(path)
                if entry is not None and previous is not None and is_unchanged(path, entry):
                    plan.kept.append(previous.document(entry.id))
                    plan.unchanged.append(source)
                    continue
                document = read_document(
                    path, root, source=source, max_bytes=settings.max_file_bytes
                )
                plan.fresh.append(document)
            except (DocumentParseError, OSError) as exc:
                reason = exc.message if isinstance(exc, DocumentParseError) else str(exc)
                logger.warning("skipped %s", reason)
                plan.skipped.append(SkippedFile(source=source, reason=reason))
                continue
            (plan.changed if entry else plan.added).append(source)
        for source, entry in known.items():
            if source in scanned:
                continue
            if paths and (root / source).is_file():
                assert previous is not None
                plan.kept.append(previous.document(entry.id))  # outside the paths given
                plan.stats[source] = (entry.size, entry.mtime_ns)
            else:
                plan.removed.append(source)
        plan._dedupe_ids()
        return plan

    def _dedupe_ids(self) -> None:
        # Two sources can slug to one id (a.txt vs A.txt); suffix the later ones.
        seen: set[str] = {d.id for d in self.kept}
        for i, document in enumerate(self.fresh):
            candidate, n = document.id, 2
            while candidate in seen:
                candidate, n = f"{document.id}-{n}", n + 1
            seen.add(candidate)
            if candidate != document.id:
                self.fresh[i] = document.model_copy(update={"id": candidate})

    def report(self, passages: int, embedded: int, seconds: float) -> IngestReport:
        return IngestReport(
            documents=len(self.kept) + len(self.fresh),
            passages=passages,
            added=self.added,
            changed=self.changed,
            removed=self.removed,
            unchanged=self.unchanged,
            skipped=self.skipped,
            embedded_passages=embedded,
            seconds=round(seconds, 3),
        )
