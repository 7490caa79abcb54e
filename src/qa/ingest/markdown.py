"""Markdown reading with markdown-it-py (CommonMark and GFM tables): headings, paragraphs,
list items and tables as blocks, with inline markup removed."""

from __future__ import annotations

from typing import Any

from qa.ingest.normalize import Block, clean_text, lead_blocks, squash, table_row

# Inline tokens whose own text is what a reader sees; other inline tokens are markup.
_TEXT_TOKENS = ("text", "code_inline")
_BREAKS = ("softbreak", "hardbreak")


def blocks_from_markdown(text: str) -> list[Block]:
    """Heading, paragraph and table blocks of a Markdown text, in order.

    Each paragraph, list item, block quote paragraph and code block is a paragraph; a GFM
    table is one table block, a row per line with ` | ` between its cells; raw HTML keeps
    its text without the tags.
    """
    from markdown_it import MarkdownIt

    # Cleaned after parsing: `clean_text` drops backslashes, which Markdown reads as escapes.
    tokens = MarkdownIt("commonmark").enable("table").parse(text.replace("\r\n", "\n"))
    blocks: list[Block] = []
    heading_level = 0
    rows: list[list[str]] | None = None
    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            heading_level = int(token.tag[1])
        elif kind == "heading_close":
            heading_level = 0
        elif kind == "table_open":
            rows = []
        elif kind == "table_close" and rows is not None:
            lines = [table_row(cells) for cells in rows if any(cells)]
            if lines:
                header = int(bool(rows and any(rows[0])))  # a GFM table's first row heads it
                blocks.append(Block(kind="table", text="\n".join(lines), level=header))
            rows = None
        elif kind == "tr_open" and rows is not None:
            rows.append([])
        elif kind == "inline" and rows is not None:
            rows[-1].append(squash(clean_text(_inline_text(token))))
        elif kind == "inline" and not heading_level and (lead := _bold_lead(token)):
            blocks += lead_blocks(*(clean_text(part) for part in lead))
        elif kind == "inline":
            _add(blocks, squash(clean_text(_inline_text(token))), heading_level)
        elif kind in ("fence", "code_block"):
            _add(blocks, squash(clean_text(token.content)), 0)
        elif kind == "html_block":
            _add(blocks, _html_text(token.content), 0)
    return blocks


def _add(blocks: list[Block], text: str, heading_level: int) -> None:
    if not text:
        return
    if heading_level:
        blocks.append(Block(kind="heading", text=text, level=heading_level))
    else:
        blocks.append(Block(kind="paragraph", text=text))


def _bold_lead(token: Any) -> tuple[str, str] | None:
    """The text in bold that opens a paragraph, and the text after it; None when it does
    not open in bold."""
    children = [c for c in token.children or [] if c.type != "text" or c.content.strip()]
    if not children or children[0].type != "strong_open":
        return None
    close = next((i for i, c in enumerate(children) if c.type == "strong_close"), None)
    if close is None:
        return None
    return _text_of(children[1:close]), _text_of(children[close + 1 :])


def _inline_text(token: Any) -> str:
    return _text_of(token.children or [])


def _text_of(children: list[Any]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in _TEXT_TOKENS:
            parts.append(child.content)
        elif child.type in _BREAKS:
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)  # its alt text
        elif child.type == "html_inline" and child.content.lower().startswith("<br"):
            parts.append("\n")
    return "".join(parts)


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    return squash(clean_text(BeautifulSoup(html, "html.parser").get_text(" ")))
