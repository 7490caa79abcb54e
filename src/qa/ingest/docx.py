"""Word (.docx) reading with python-docx: headings from `Heading N` styles, paragraphs, and
tables one row per line with ` | ` between cells, in body order.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from typing import Any

from qa.errors import DocumentParseError
from qa.ingest.normalize import Block, clean_text, lead_blocks, squash, table_row

logger = logging.getLogger(__name__)

_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def _table_rows(table: object) -> list[str]:
    rows: list[str] = []
    for row in table.rows:  # type: ignore[attr-defined]
        cells: list[str] = []
        previous: object = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell repeats; keep it once
                continue
            previous = cell._tc
            cells.append(squash(clean_text(cell.text)))
        if any(cells):
            rows.append(table_row(cells))
    return rows


def read_docx_blocks(data: bytes, source: str) -> list[Block]:
    """Heading, paragraph and table blocks of a .docx file, in document order."""
    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = open_docx(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentParseError(f"{source}: not a readable .docx file ({exc}).") from exc
    blocks: list[Block] = []
    pending_caption: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            rows = _table_rows(item)
            if rows:
                blocks.append(Block(kind="table", text="\n".join(pending_caption + rows)))
            pending_caption = []
            continue
        assert isinstance(item, Paragraph)
        text = squash(clean_text(item.text))
        style = (item.style.name if item.style is not None else "") or ""
        if pending_caption:
            blocks.append(Block(kind="paragraph", text=pending_caption.pop()))
        if not text:
            continue
        if style.lower() == "title":
            blocks.append(Block(kind="heading", text=text, level=1))
        elif match := _HEADING.match(style):
            blocks.append(Block(kind="heading", text=text, level=int(match.group(1))))
        elif style.lower() == "caption" or (len(text) <= 120 and text.lower().startswith("table")):
            pending_caption = [text]  # kept with the table that follows
        else:
            blocks += _blocks_of(item, text)
    if pending_caption:
        blocks.append(Block(kind="paragraph", text=pending_caption[0]))
    return blocks


def _blocks_of(paragraph: Any, text: str) -> list[Block]:
    """A body paragraph's blocks: one paragraph, or a label and a paragraph when it opens
    with a few words in bold that end a sentence ("Battery passport. From 2027 …")."""
    lead = ""
    for run in paragraph.runs:
        if run.bold is not True and run.text.strip():
            break
        lead += run.text
    whole = paragraph.text  # with hyperlinks, which `runs` leaves out
    if lead.strip() and whole.startswith(lead):
        return lead_blocks(clean_text(lead), clean_text(whole[len(lead) :]))
    return [Block(kind="paragraph", text=text)]
