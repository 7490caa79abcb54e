"""HTML reading with BeautifulSoup: visible text only, headings kept as structure, data
tables one row per line with ` | ` between cells."""

from __future__ import annotations

from typing import Any

from qa.errors import DocumentParseError
from qa.ingest.normalize import Block, clean_text, lead_blocks, squash, table_row

_INVISIBLE = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "svg",
    "iframe",
    "head",
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = (
    "p",
    "li",
    "pre",
    "blockquote",
    "td",
    "th",
    "dt",
    "dd",
    "figcaption",
    "caption",
    "address",
    "div",
    "section",
    "article",
    "main",
    "body",
)


def read_html_blocks(html: str, source: str) -> list[Block]:
    """Title, meta author and the visible heading/paragraph blocks of an HTML page.

    Raises `DocumentParseError`, naming `source`, for markup nested too deeply to walk and
    for markup the parser rejects (a marked section such as "<![0").
    """
    from bs4.exceptions import ParserRejectedMarkup

    try:
        return _read_html_blocks(html)
    except RecursionError as exc:
        # BeautifulSoup and the walk below recurse once per level of nesting.
        raise DocumentParseError(f"{source}: the HTML is nested too deeply to read.") from exc
    except ParserRejectedMarkup as exc:
        reason = str(exc).rsplit("\n", 1)[-1].strip()
        raise DocumentParseError(
            f"{source}: the HTML parser rejected the markup ({reason}); "
            "fix the markup or save the page as text."
        ) from exc


def _read_html_blocks(html: str) -> list[Block]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    blocks: list[Block] = []
    if soup.title and (title := squash(soup.title.get_text(" "))):
        blocks.append(Block(kind="heading", text=title, level=1))
    author = soup.find("meta", attrs={"name": "author"})
    if author is not None and (name := squash(str(author.get("content") or ""))):
        blocks.append(Block(kind="paragraph", text=f"Author: {name}"))
    for tag in soup(list(_INVISIBLE)):
        tag.decompose()
    root: Any = soup.body or soup
    _walk(root, blocks)
    if blocks and len(blocks) > 1 and blocks[0].text == blocks[1].text:
        blocks.pop(1)  # <title> repeated as the first <h1>
    return blocks


def _walk(node: Any, blocks: list[Block]) -> None:
    # Text directly inside a block element forms a paragraph; nested blocks recurse. One
    # that opens in bold (<strong>, <b>) may open with a label.
    pending: list[str] = []
    lead: list[str] = []

    def flush() -> None:
        raw = "".join(pending)
        if lead:
            rest = raw[raw.index(lead[0]) + len(lead[0]) :]
            blocks.extend(lead_blocks(clean_text(lead[0]), clean_text(rest)))
        elif text := squash(clean_text(raw)):
            blocks.append(Block(kind="paragraph", text=text))
        pending.clear()
        lead.clear()

    for child in getattr(node, "children", []):
        name = getattr(child, "name", None)
        if name is None:
            pending.append(str(child))
        elif name in _HEADINGS:
            flush()
            if text := squash(clean_text(child.get_text(" "))):
                blocks.append(Block(kind="heading", text=text, level=_HEADINGS[name]))
        elif name == "table" and (table := _table_block(child)) is not None:
            flush()
            blocks.append(table)
        elif name in _BLOCKS or name in ("ul", "ol", "table", "tr", "tbody", "thead", "dl"):
            flush()
            _walk(child, blocks)
        elif name == "br":
            pending.append("\n")
        else:
            if name in ("strong", "b") and not "".join(pending).strip():
                lead.append(child.get_text())
            pending.append(child.get_text())  # inline: the source's own spacing
    flush()


_LAYOUT = ("table", "h1", "h2", "h3", "h4", "h5", "h6")  # in a cell: the table lays out a page


def _table_block(table: Any) -> Block | None:
    """A data table as one block: its caption, then a row per line, cells between ` | `.

    None for a layout table (a cell holds a heading or another table, or the table has a
    single cell): its content is read as the page's own blocks.
    """
    rows = [row for row in table.find_all("tr") if row.find_parent("table") is table]
    cells = [row.find_all(("td", "th"), recursive=False) for row in rows]
    if sum(len(c) for c in cells) < 2 or any(
        cell.find(_LAYOUT) is not None for row in cells for cell in row
    ):
        return None
    caption = [squash(clean_text(c.get_text(" "))) for c in table.find_all("caption", limit=1)]
    filled = [row for row in cells if any(cell.get_text().strip() for cell in row)]
    rows = [table_row([squash(clean_text(cell.get_text(" "))) for cell in row]) for row in filled]
    header = 0  # the leading rows of <th> cells only
    while header < len(filled) and all(cell.name == "th" for cell in filled[header]):
        header += 1
    lines = [line for line in caption if line] + rows
    return Block(kind="table", text="\n".join(lines), level=header) if lines else None
