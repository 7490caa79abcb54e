"""HTML reading with BeautifulSoup: visible text only, headings kept as structure."""

from __future__ import annotations

from typing import Any

from qa.errors import DocumentParseError
from qa.ingest.normalize import Block, clean_text, squash

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
    # Text directly inside a block element forms a paragraph; nested blocks recurse.
    pending: list[str] = []

    def flush() -> None:
        text = squash(clean_text("".join(pending)))
        pending.clear()
        if text:
            blocks.append(Block(kind="paragraph", text=text))

    for child in getattr(node, "children", []):
        name = getattr(child, "name", None)
        if name is None:
            pending.append(str(child))
        elif name in _HEADINGS:
            flush()
            if text := squash(clean_text(child.get_text(" "))):
                blocks.append(Block(kind="heading", text=text, level=_HEADINGS[name]))
        elif name in _BLOCKS or name in ("ul", "ol", "table", "tr", "tbody", "thead", "dl"):
            flush()
            _walk(child, blocks)
        elif name == "br":
            pending.append("\n")
        else:
            pending.append(child.get_text())  # inline: the source's own spacing
    flush()
