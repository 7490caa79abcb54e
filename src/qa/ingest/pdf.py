"""PDF reading with pypdfium2: lines rebuilt from text runs, table rows with ` | ` between cells,
running headers/footers dropped (their page numbers kept as page labels), and pages without
a text layer OCR'd with Tesseract when it is installed (`qa.ingest.ocr`).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from qa.errors import DocumentParseError, NoTextLayerError
from qa.ingest.normalize import Block, clean_text, squash
from qa.ingest.ocr import OCR_REMEDY, ocr_available, ocr_image

logger = logging.getLogger(__name__)

_CURRENCY = frozenset("$€£¥")
_LABEL = re.compile(
    r"^(?:page\s+)?((?:[A-Z]-)?\d{1,4}|[ivxlcdm]{1,7})(?:\s+(?:of|/)\s+\d+)?$", re.IGNORECASE
)
_EDGE_LINES = 3  # how many lines at the top and bottom of a page may be furniture
_TERMINAL = (".", "!", "?", ";")
OCR_DPI = 300
Run = tuple[float, float, float, float, str, int]  # left, bottom, right, top, text, segment


@dataclass
class _Line:
    text: str
    top: float
    bottom: float
    cells: int = 1

    @property
    def is_row(self) -> bool:
        return self.cells >= 2


@dataclass
class PdfContent:
    """What a PDF gave: blocks tagged with pages, page labels, and pages read or not by OCR."""

    blocks: list[Block]
    page_count: int
    page_labels: list[str | None] = field(default_factory=list)
    ocr_pages: list[int] = field(default_factory=list)
    unread_pages: list[int] = field(default_factory=list)


_CELL_GAP = 6.0  # points: the least gap between two table cells on a line


def _join_runs(runs: list[Run]) -> _Line:
    # One visual line from word runs. A wide gap between two of pdfium's text segments is a
    # cell break; inside a segment it is not (justified prose spreads its words).
    height = max(run[3] - run[1] for run in runs) or 1.0
    parts: list[str] = []
    cells = 1
    previous_right: float | None = None
    previous = ""
    spaced = False
    segment = -1
    for left, _, right, _, text, run_segment in runs:
        piece = squash(text)
        if not piece:
            continue
        if parts and previous_right is not None:
            gap = left - previous_right
            if piece in ("%", ")"):
                parts.append(piece)
            elif previous in _CURRENCY:  # "$" set apart from its figure in a table column
                parts.append((" " if spaced or gap > _CELL_GAP else "") + piece)
            elif run_segment != segment and gap > max(_CELL_GAP, 1.2 * height):
                parts.append(" | " + piece)
                cells += 1
            else:  # pdfium's text says where words break
                parts.append((" " if spaced else "") + piece)
        else:
            parts.append(piece)
        previous_right, previous, segment = right, piece, run_segment
        spaced = text[-1:].isspace()
    bottom = min(run[1] for run in runs)
    top = max(run[3] for run in runs)
    return _Line("".join(parts), top, bottom, cells)


def _char_runs(textpage: object) -> list[Run]:
    """Word runs of a page in content order, built from its characters.

    pdfium's own rectangles overlap where a font kerns ("To" in "Total"), so reading each
    rectangle's text re-reads its neighbour's letters ("ToTotal"). Characters do not overlap.
    A run is the characters between two spaces or line breaks of pdfium's text that sit on
    one line in one of pdfium's segments (its rectangles, which part a line at table cells);
    its text ends in a space when a space followed it.
    """
    count = textpage.count_chars()  # type: ignore[attr-defined]
    text = textpage.get_text_range(0, count)  # type: ignore[attr-defined]
    if len(text) != count:  # one string per character keeps indexes aligned
        text = "".join(textpage.get_text_range(i, 1)[:1] or " " for i in range(count))  # type: ignore[attr-defined]
    rects = [textpage.get_rect(i) for i in range(textpage.count_rects())]  # type: ignore[attr-defined]
    runs: list[Run] = []
    chars: list[str] = []
    left = bottom = right = top = 0.0
    segment = 0

    def close(spaced: bool) -> None:
        if chars:
            text = "".join(chars) + (" " if spaced else "")
            runs.append((left, bottom, right, top, text, segment))
            chars.clear()

    def inside(rect: tuple[float, float, float, float], x: float, y: float) -> bool:
        return rect[0] - 0.5 <= x <= rect[2] + 0.5 and rect[1] - 0.5 <= y <= rect[3] + 0.5

    for i, char in enumerate(text):
        if char.isspace():
            close(spaced=char not in "\r\n")
            continue
        # The glyph's own box: a loose box spans its advance and closes up a table's gaps.
        c_left, c_bottom, c_right, c_top = textpage.get_charbox(i)  # type: ignore[attr-defined]
        x, y = (c_left + c_right) / 2, (c_bottom + c_top) / 2
        # Segments hold consecutive characters; look a few ahead, and stay put if none holds it.
        ahead = next(
            (j for j in range(segment, segment + 4) if j < len(rects) and inside(rects[j], x, y)),
            segment,
        )
        if ahead != segment:
            close(spaced=False)
            segment = ahead
        if chars:
            overlap = min(top, c_top) - max(bottom, c_bottom)
            height = min(top - bottom, c_top - c_bottom)
            backwards = c_left < right - max(2.0, 0.5 * height)
            if overlap <= 0.3 * height or backwards or c_left - right > _CELL_GAP:
                close(spaced=False)
        if not chars:
            left, bottom, right, top = c_left, c_bottom, c_right, c_top
        else:
            bottom, right, top = min(bottom, c_bottom), max(right, c_right), max(top, c_top)
        chars.append(char)
    close(spaced=False)
    return runs


def _page_lines(textpage: object) -> list[_Line]:
    """Visual lines of a page in content order: runs that share a baseline, left to right."""
    lines: list[_Line] = []
    runs: list[Run] = []
    for run in _char_runs(textpage):
        left, bottom, _, top = run[:4]
        if runs:
            # Against the line so far, so a comma or superscript set lower or higher stays on it.
            r = runs[-1][2]
            b = min(other[1] for other in runs)
            t = max(other[3] for other in runs)
            overlap = min(t, top) - max(b, bottom)
            same_line = overlap > 0.1 * min(t - b, top - bottom) and left >= r - 2.0
            if not same_line:
                lines.append(_join_runs(runs))
                runs = []
        runs.append(run)
    if runs:
        lines.append(_join_runs(runs))
    return [line for line in lines if line.text]


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _edges(lines: list[_Line]) -> list[int]:
    # Indexes of the top-most and bottom-most lines by position (content order varies).
    by_height = sorted(range(len(lines)), key=lambda i: -lines[i].top)
    return sorted(set(by_height[:_EDGE_LINES] + by_height[-_EDGE_LINES:]))


def find_furniture(pages: list[list[_Line]]) -> tuple[list[set[int]], list[str | None]]:
    """Per page, the indexes of running header/footer lines, and the printed page label.

    A line is furniture when it sits among a page's top or bottom lines and the same
    line, digits aside ("Page 3 of 40"), sits there on at least half the pages.
    """
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_furniture_key(lines[i].text) for i in _edges(lines)})
    enough = max(3, (len([p for p in pages if p]) + 1) // 2)
    dropped: list[set[int]] = []
    labels: list[str | None] = []
    for lines in pages:
        edge = _edges(lines)
        drop = {i for i in edge if counts[_furniture_key(lines[i].text)] >= enough}
        label = None
        by_height = sorted(range(len(lines)), key=lambda i: lines[i].top)
        extremes = {by_height[0], by_height[-1]} if by_height else set()
        for i in sorted(edge, key=lambda i: lines[i].top):  # footers first
            match = _LABEL.match(lines[i].text.replace(" | ", " ").strip())
            # A bare number or numeral as the page's last or first line is its label.
            if match and (i in drop or i in extremes):
                label = match.group(1)
                drop.add(i)
                break
        dropped.append(drop)
        labels.append(label)
    return dropped, labels


def _is_table_line(line: _Line) -> bool:
    return line.is_row or (len(line.text.split()) <= 8 and not line.text.endswith(_TERMINAL))


def blocks_from_lines(lines: list[_Line], page: int) -> list[Block]:
    """Paragraph and table blocks of one page; a table keeps up to 3 caption lines above it."""
    blocks: list[Block] = []
    i = 0
    paragraph: list[_Line] = []

    def flush() -> None:
        if paragraph:
            text = squash(clean_text("\n".join(line.text for line in paragraph)))
            if text:
                blocks.append(Block(kind="paragraph", text=text, page=page))
            paragraph.clear()

    while i < len(lines):
        j = i
        while j < len(lines) and _is_table_line(lines[j]):
            j += 1
        while j > i and not lines[j - 1].is_row:
            j -= 1  # short lines after the last row belong to what follows
        rows = sum(line.is_row for line in lines[i:j])
        if rows >= 2:
            caption: list[_Line] = []
            while paragraph and len(caption) < 3 and _is_table_line(paragraph[-1]):
                caption.insert(0, paragraph.pop())
            flush()
            table = [squash(clean_text(line.text)) for line in caption + lines[i:j]]
            blocks.append(Block(kind="table", text="\n".join(t for t in table if t), page=page))
            i = j
            continue
        line = lines[i]
        if paragraph:
            previous = paragraph[-1]
            height = max(previous.top - previous.bottom, 1.0)
            if previous.bottom - line.top > 0.8 * height or line.top > previous.top + height:
                flush()
        paragraph.append(line)
        i += 1
    flush()
    return blocks


def _ocr_lines(page: object) -> list[_Line]:
    image = page.render(scale=OCR_DPI / 72).to_pil()  # type: ignore[attr-defined]
    text = ocr_image(image)
    lines: list[_Line] = []
    y = 0.0
    for raw in text.split("\n"):
        y -= 10.0
        if raw.strip():
            lines.append(_Line(raw.strip(), y + 8.0, y))
        else:
            y -= 10.0  # a blank line is a paragraph break
    return lines


def _has_content(page: object) -> bool:
    return any(True for _ in page.get_objects(max_depth=1))  # type: ignore[attr-defined]


def read_pdf(data: bytes, source: str, *, ocr: bool = True) -> PdfContent:
    """The blocks of a PDF, tagged with their 1-based page, plus page labels and OCR notes.

    Pages without a text layer are OCR'd when `ocr` is set and Tesseract is installed;
    otherwise they are listed in `unread_pages`.
    """
    import pypdfium2 as pdfium

    if not data.lstrip().startswith(b"%PDF"):
        raise DocumentParseError(f"{source}: not a PDF file (no %PDF header).")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise DocumentParseError(f"{source}: the PDF is encrypted with a password.") from exc
        raise DocumentParseError(f"{source}: corrupt or unreadable PDF ({exc}).") from exc
    pages: list[list[_Line]] = []
    ocr_pages: list[int] = []
    unread: list[int] = []
    try:
        for number in range(1, len(document) + 1):
            page = document[number - 1]
            textpage = page.get_textpage()
            lines = _page_lines(textpage) if textpage.count_chars() else []
            if not lines and _has_content(page):
                if ocr and ocr_available():
                    lines = _ocr_lines(page)
                    ocr_pages.append(number)
                else:
                    unread.append(number)
            pages.append(lines)
    except pdfium.PdfiumError as exc:
        raise DocumentParseError(f"{source}: corrupt or unreadable PDF ({exc}).") from exc
    finally:
        document.close()
    dropped, labels = find_furniture(pages)
    blocks: list[Block] = []
    for number, (lines, drop) in enumerate(zip(pages, dropped, strict=True), start=1):
        kept = [line for i, line in enumerate(lines) if i not in drop]
        blocks.extend(blocks_from_lines(kept, number))
    if not blocks:
        if unread:
            raise NoTextLayerError(
                f"{source}: no text layer on any page (a scanned PDF); {OCR_REMEDY}"
            )
        raise DocumentParseError(f"{source}: no extractable text.")
    if unread:
        logger.warning("%s: pages %s have no text layer; %s", source, unread, OCR_REMEDY)
    return PdfContent(blocks, len(pages), labels, ocr_pages, unread)
