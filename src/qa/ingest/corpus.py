"""Files → `Document`s: discovery, safe paths, decoding and the txt/md/html/pdf/docx readers.

A file that cannot be read raises `DocumentParseError` with the reason; the store
skips it with a warning and indexes the rest.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import CorpusError, DocumentParseError, UnsupportedFormatError
from qa.formats import FORMATS, describe_formats
from qa.ingest.normalize import (
    Block,
    blocks_from_plain_text,
    join_broken_paragraphs,
    label_front_matter,
    squash,
)
from qa.models import Document, SkippedFile

if TYPE_CHECKING:
    from qa.ingest.pdf import PdfContent

logger = logging.getLogger(__name__)

_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_SLUG = re.compile(r"[^a-z0-9]+")
LINK_OUTSIDE = "it links outside the corpus."


def safe_corpus_path(corpus_dir: Path, name: str) -> Path:
    """The path of `name` inside `corpus_dir`, or `CorpusError` if it could escape or hide."""
    remedy = "Use a plain relative file name such as report.pdf."
    if not name or "\x00" in name or "\\" in name:
        raise CorpusError(f"Unsafe file name {name!r}.", remedy=remedy)
    relative = Path(name)
    if relative.is_absolute() or any(part in ("", "..", ".") for part in relative.parts):
        raise CorpusError(
            f"Unsafe file name {name!r}: it must stay inside the corpus.", remedy=remedy
        )
    if any(part.startswith(".") for part in relative.parts):
        raise CorpusError(f"Hidden file name {name!r} is not allowed.", remedy=remedy)
    if relative.suffix.lower() not in FORMATS:
        raise UnsupportedFormatError(
            f"Unsupported file type {relative.suffix or '(none)'!r} for {name!r}.",
            remedy=f"Supported types: {describe_formats()}.",
        )
    root = corpus_dir.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise CorpusError(
            f"Unsafe file name {name!r}: it resolves outside the corpus.", remedy=remedy
        )
    return target


def discover(
    corpus_dir: Path,
    paths: Sequence[Path] | None = None,
    *,
    skipped: list[SkippedFile] | None = None,
) -> Iterator[tuple[Path, str]]:
    """(path, source) of every non-hidden file under `paths` (default: the corpus), sorted.

    `source` is the path relative to the corpus. Links that lead outside it are not
    yielded: they are appended to `skipped`, with the reason, when it is given.
    """
    root = corpus_dir.resolve()
    if not root.is_dir():
        raise CorpusError(
            f"Corpus folder {corpus_dir} does not exist.",
            remedy="Create it and add documents, or set QA_CORPUS_DIR.",
        )
    for given in paths or [root]:
        path = given.resolve()
        if not path.is_relative_to(root):
            raise CorpusError(
                f"{given} is outside the corpus folder {corpus_dir}.",
                remedy="Copy the file into the corpus folder first, or set QA_CORPUS_DIR.",
            )
        if not path.exists():
            raise CorpusError(f"{given} does not exist.")
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for candidate in candidates:
            relative = candidate.relative_to(root)
            if not candidate.is_file() or any(p.startswith(".") for p in relative.parts):
                continue
            if not candidate.resolve().is_relative_to(root):
                if skipped is not None:
                    skipped.append(SkippedFile(source=relative.as_posix(), reason=LINK_OUTSIDE))
                continue
            yield candidate, relative.as_posix()


def document_id(source: str) -> str:
    """A readable, URL-safe id from the source path: `a/EU Act.pdf` → `a-eu-act-pdf`."""
    slug = _SLUG.sub("-", source.lower()).strip("-")
    return slug or hashlib.sha1(source.encode()).hexdigest()[:12]


def decode(data: bytes, source: str, *, guesses: dict[str, str] | None = None) -> str:
    """UTF-8 when it is; otherwise the best guess of charset-normalizer, which is recorded
    in `guesses` (source → encoding) when given, for the ingest summary to report."""
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentParseError(f"{source}: binary content, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    results = from_bytes(data)
    best = results.best()
    if best is None:
        raise DocumentParseError(f"{source}: cannot determine the text encoding.")
    # Short Western text is ambiguous between code pages; prefer Windows-1252 when it
    # reads as well as the best guess, as it is by far the most common legacy encoding.
    western = next((r for r in results if r.encoding in _WESTERN), None)
    if western is not None and western.chaos <= best.chaos + 0.02:
        best = western
    logger.info("%s is not UTF-8; decoded as %s", source, best.encoding)
    if guesses is not None:
        guesses[source] = best.encoding
    return str(best)


def read_document(
    path: Path,
    corpus_dir: Path,
    *,
    source: str | None = None,
    max_bytes: int | None = None,
    guesses: dict[str, str] | None = None,
    ocr: bool = True,
) -> Document:
    """Read, normalise and label one file. Raises `DocumentParseError` on any failure.

    `source` (the path relative to the corpus, as `discover` gives it) defaults to
    `path`'s place in `corpus_dir`. A guessed text encoding is recorded in `guesses`;
    `ocr=False` leaves PDF pages without text unread.
    """
    if source is None:
        source = path.resolve().relative_to(corpus_dir.resolve()).as_posix()
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DocumentParseError(f"{source}: unsupported file type {path.suffix or '(none)'!r}.")
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise DocumentParseError(f"{source}: {size} bytes is over the {max_bytes}-byte limit.")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentParseError(f"{source}: cannot read ({exc.strerror}).") from exc
    if not data.strip():
        raise DocumentParseError(f"{source}: the file is empty.")
    pdf: PdfContent | None = None
    if fmt == "pdf":
        from qa.ingest.pdf import read_pdf

        pdf = read_pdf(data, source, ocr=ocr)
        blocks, page_count = pdf.blocks, pdf.page_count
    elif fmt == "docx":
        from qa.ingest.docx import read_docx_blocks

        blocks, page_count = read_docx_blocks(data, source), None
    elif fmt == "html":
        from qa.ingest.html import read_html_blocks

        blocks, page_count = read_html_blocks(decode(data, source, guesses=guesses), source), None
    elif fmt == "md":
        from qa.ingest.markdown import blocks_from_markdown

        blocks, page_count = blocks_from_markdown(decode(data, source, guesses=guesses)), None
    else:
        blocks, page_count = blocks_from_plain_text(decode(data, source, guesses=guesses)), None
    blocks, metadata = label_front_matter(join_broken_paragraphs(blocks))
    if not blocks:
        raise DocumentParseError(f"{source}: no text could be extracted.")
    document = assemble(
        blocks, source=source, fmt=fmt, data=data, metadata=metadata, pages=page_count
    )
    if pdf is None:
        return document
    return document.model_copy(
        update={
            "page_labels": pdf.page_labels,
            "ocr_pages": pdf.ocr_pages,
            "unread_pages": pdf.unread_pages,
        }
    )


def assemble(
    blocks: Sequence[Block],
    *,
    source: str,
    fmt: str,
    data: bytes,
    metadata: dict[str, str],
    pages: int | None,
) -> Document:
    """Join blocks into the document text, recording block and page offsets."""
    parts: list[str] = []
    spans: list[tuple[int, int, str, int]] = []
    page_starts: list[int] = []
    offset = 0
    for block in blocks:
        if block.kind == "table":  # one row per line
            text = "\n".join(row for row in map(squash, block.text.split("\n")) if row)
        else:
            text = squash(block.text)
        if not text:
            continue
        if parts:
            offset += 2
        if block.page is not None:
            while len(page_starts) < block.page:
                page_starts.append(offset)
        spans.append((offset, offset + len(text), block.kind, block.level))
        parts.append(text)
        offset += len(text)
    if pages is not None:
        while len(page_starts) < pages:
            page_starts.append(offset)
    title = metadata.get("title") or Path(source).stem.replace("_", " ").replace("-", " ").strip()
    return Document(
        id=document_id(source),
        title=title,
        source=source,
        format=fmt,
        text="\n\n".join(parts),
        blocks=spans,
        page_starts=page_starts,
        metadata=metadata,
        content_hash=hashlib.sha256(data).hexdigest(),
    )
