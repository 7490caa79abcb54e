"""PDF reading with pypdf: text per page, page numbers kept on every block."""

from __future__ import annotations

import io
import logging

from qa.errors import DocumentParseError
from qa.ingest.normalize import Block, blocks_from_plain_text

logger = logging.getLogger(__name__)


def read_pdf_blocks(data: bytes, source: str) -> tuple[list[Block], int]:
    """Paragraph blocks tagged with their 1-based page, and the page count."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    if not data.lstrip().startswith(b"%PDF"):
        raise DocumentParseError(f"{source}: not a PDF file (no %PDF header).")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentParseError(f"{source}: the PDF is encrypted with a password.")
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            blocks.extend(blocks_from_plain_text(page.extract_text() or "", page=number))
        page_count = len(reader.pages)
    except DocumentParseError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentParseError(f"{source}: corrupt or unreadable PDF ({exc}).") from exc
    if not blocks:
        raise DocumentParseError(f"{source}: no extractable text (a scanned PDF needs OCR first).")
    return blocks, page_count
