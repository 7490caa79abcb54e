"""What an ingest must do: which documents to keep, re-read, drop or skip.

Unchanged files (same path, same SHA-256) are kept from the previous build without
being read; the rest are read and normalised here, and failures become skips.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from qa.config import Settings
from qa.errors import DocumentParseError
from qa.fields.taxonomy import CORPUS_FILE as TAXONOMY_FILE
from qa.index.layout import DocumentEntry, Manifest, SkippedEntry
from qa.ingest.corpus import discover, read_document
from qa.ingest.ocr import NO_TEXT_LAYER, OCR_REMEDY
from qa.models import Document, IngestReport, SkippedFile, SkippedPage

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


def is_unchanged(path: Path, entry: DocumentEntry | SkippedEntry) -> bool:
    """Same size and mtime as recorded, or else the same SHA-256 (a touched, unedited file)."""
    return stat_key(path) == (entry.size, entry.mtime_ns) or entry.content_hash == file_hash(path)


def skip_reason(exc: DocumentParseError | OSError, source: str) -> str:
    """Why `source` was skipped, without repeating its name (the skip line shows it)."""
    if isinstance(exc, DocumentParseError):
        reason = exc.message.removeprefix(f"{source}: ").removeprefix(f"{source} ")
    else:
        reason = exc.strerror or str(exc)
    return reason if reason.endswith(".") else f"{reason}."


class PreviousBuild(Protocol):
    """What a plan reads of the previous build (an `IndexSnapshot`, or a Milvus version)."""

    @property
    def manifest(self) -> Manifest: ...

    def document(self, document_id: str) -> Document: ...


class ChangePlan:
    """Which documents are kept from the previous build, re-read, removed or skipped."""

    def __init__(self) -> None:
        self.kept: list[Document] = []
        self.fresh: list[Document] = []
        self.added: list[str] = []
        self.changed: list[str] = []
        self.removed: list[str] = []
        self.unchanged: list[str] = []
        # Every file left out of the build, by source, with why (recorded in the manifest).
        self.skips: dict[str, SkippedEntry] = {}
        self.known_skips: dict[str, SkippedEntry] = {}
        # Taken before a file is read, so an edit made during the build shows next time.
        self.stats: dict[str, tuple[int, int]] = {}
        # Files read this run that were not UTF-8: source → the encoding assumed.
        self.encodings: dict[str, str] = {}

    @property
    def skipped(self) -> list[SkippedFile]:
        """The skipped files, one per source, in source order."""
        return [SkippedFile(source=s, reason=e.reason) for s, e in sorted(self.skips.items())]

    @property
    def has_changes(self) -> bool:
        """True when a new build is needed: documents, or the skipped files, changed."""
        return bool(self.fresh or self.removed) or self.skips != self.known_skips

    def skip(self, source: str, reason: str, path: Path | None = None) -> None:
        """Leave `source` out of the build, remembering why and the file's size and mtime."""
        size = mtime_ns = -1
        if path is not None:
            with contextlib.suppress(OSError):  # e.g. removed while being read
                size, mtime_ns = stat_key(path)
        logger.info("skipped %s: %s", source, reason)
        self.skips[source] = SkippedEntry(reason=reason, size=size, mtime_ns=mtime_ns)

    @classmethod
    def make(
        cls, settings: Settings, previous: PreviousBuild | None, paths: Sequence[Path] | None
    ) -> ChangePlan:
        plan = cls()
        root = settings.corpus_dir
        known = previous.manifest.documents if previous else {}
        plan.known_skips = dict(previous.manifest.skipped) if previous else {}
        links: list[SkippedFile] = []
        scanned: set[str] = set()
        for path, source in discover(root, paths, skipped=links):
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
                old_skip = plan.known_skips.get(source)
                if entry is None and old_skip is not None and is_unchanged(path, old_skip):
                    plan.skips[source] = old_skip  # the same file fails the same way
                    continue
                document = read_document(
                    path,
                    root,
                    source=source,
                    max_bytes=settings.max_file_bytes,
                    guesses=plan.encodings,
                    ocr=settings.ocr,
                )
                plan.fresh.append(document)
            except (DocumentParseError, OSError) as exc:
                plan.skip(source, skip_reason(exc, source), path)
                continue
            (plan.changed if entry else plan.added).append(source)
        for link in links:
            scanned.add(link.source)
            plan.skip(link.source, link.reason, root / link.source)
        for source, skip in plan.known_skips.items():
            if source not in scanned and paths and (root / source).exists():
                plan.skips[source] = skip  # outside the paths given
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

    def skipped_entries(self) -> dict[str, SkippedEntry]:
        """The skips to record in the manifest, by source."""
        return dict(sorted(self.skips.items()))

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
            encodings={s: e for s, e in sorted(self.encodings.items()) if s not in self.skips},
            skipped_pages=[
                SkippedPage(source=d.source, page=page, reason=NO_TEXT_LAYER, remedy=OCR_REMEDY)
                for d in sorted(self.kept + self.fresh, key=lambda d: d.source)
                for page in d.unread_pages
            ],
            embedded_passages=embedded,
            seconds=round(seconds, 3),
        )
