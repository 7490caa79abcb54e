"""Text normalisation: raw extracted text → clean blocks (headings, paragraphs, metadata).

Each reader (txt, md, html, pdf) produces raw lines; this module repairs the
artefacts of extraction — page breaks inside paragraphs, hyphenation across line
breaks, escaped punctuation, odd Unicode — and recognises the title and metadata.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

BlockKind = Literal["title", "meta", "heading", "label", "paragraph", "table"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b\ufeff]")
# A backslash that is itself escaped (`\\$`) is text: unescaping it too would make a
# second cleaning change the first one's output.
_ESCAPED = re.compile(r"(?<!\\)\\([$%&#_*\[\](){}`~|<>!+.-])")
_HYPHEN_BREAK = re.compile(r"(\w)-\n[ \t]*([a-z])")
_SPACES = re.compile(r"[ \t\u00a0]+")
_TERMINAL = (".", "!", "?", ":", ";", '"', "”", "’", ")", "]")
_COPYRIGHT = re.compile(r"^(©|\(c\)|copyright\b)", re.IGNORECASE)
_AUTHOR = re.compile(r"^(?:authors?|by|written by|prepared by)\s*[:\-]?\s+(.+)$", re.IGNORECASE)
_PUBLISHER = re.compile(r"^(?:published|issued|released)\s+by\s*[:\-]?\s+(.+)$", re.IGNORECASE)
_KEY_VALUE = re.compile(
    r"^(date|published|publisher|source|organisation|organization|affiliation)\s*:\s*(.+)$",
    re.IGNORECASE,
)


class Block(BaseModel):
    """A structural unit of normalised text: a title, metadata line, heading, paragraph or table.

    A table's text is one row per line, cells separated by " | ", caption lines first. A
    label is the bold lead-in of a paragraph or list item ("**Battery passport.** From
    2027 …"): a heading run into its text, which opens no section.
    """

    model_config = ConfigDict(frozen=True)

    kind: BlockKind
    text: str
    level: int = 0  # a heading's depth; a table's count of header rows (after its caption)
    page: int | None = None


# A bold lead-in is a label when it ends a sentence of its own, in a few words; one that
# runs on into its sentence ("**Note:** the …", "**Only** cars …") is part of it.
_LABEL_WORDS = 12


def lead_blocks(lead: str, rest: str) -> list[Block]:
    """The blocks of a paragraph that opens in bold: the bold `lead` as a label and `rest`
    as the paragraph, when the lead is a label ("Battery passport." then "From 2027 …");
    otherwise the one paragraph. A metadata line in bold ("**Author:** …") stays whole."""
    lead, rest = squash(lead), squash(rest)
    if rest[:1] == ".":  # "**Battery passport**. From …"
        lead, rest = lead + ".", rest[1:].lstrip()
    whole = squash(f"{lead} {rest}")
    if (
        not rest
        or not lead.endswith(".")
        or len(lead.split()) > _LABEL_WORDS
        or metadata_of(whole) is not None
    ):
        return [Block(kind="paragraph", text=whole)] if whole else []
    return [Block(kind="label", text=lead), Block(kind="paragraph", text=rest)]


def clean_text(raw: str) -> str:
    """Unicode NFKC, no control characters, `\\$`→`$`, words rejoined across hyphen breaks."""
    text = unicodedata.normalize("NFKC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\f", "\n\n")
    text = _CONTROL.sub("", text)
    text = _ESCAPED.sub(r"\1", text)
    return _HYPHEN_BREAK.sub(r"\1\2", text)


def squash(text: str) -> str:
    """Collapse runs of whitespace inside one block to single spaces."""
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


CELL_SEPARATOR = " | "  # between the cells of a table row, in every format's table blocks


def table_row(cells: Sequence[str]) -> str:
    """A table row as one line: its cells joined by `CELL_SEPARATOR` (written " / " where a
    cell's own text holds it, so the cells stay apart)."""
    return CELL_SEPARATOR.join(c.replace(CELL_SEPARATOR, " / ") for c in cells).rstrip()


def split_paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each squashed to one line."""
    return [p for p in (squash(chunk) for chunk in re.split(r"\n\s*\n", text)) if p]


def _continues(previous: Block, following: Block) -> bool:
    # A paragraph cut by a page break ends without terminal punctuation, and its
    # other half starts in lower case (or with a digit continuing a list of figures).
    if previous.kind != "paragraph" or following.kind != "paragraph":
        return False
    if previous.text.endswith(_TERMINAL):
        return False
    head = following.text[:1]
    return head.islower() or (head.isdigit() and previous.text[-1:].isalpha())


def join_broken_paragraphs(blocks: Iterable[Block]) -> list[Block]:
    """Rejoin paragraphs that a page break (or stray blank lines) split in two."""
    joined: list[Block] = []
    for block in blocks:
        if joined and _continues(joined[-1], block):
            previous = joined.pop()
            block = previous.model_copy(update={"text": f"{previous.text} {block.text}"})
        joined.append(block)
    return joined


def metadata_of(text: str) -> tuple[str, str] | None:
    """(key, value) when `text` is a metadata line such as an author or copyright line."""
    if len(text) > 300:
        return None
    if _COPYRIGHT.match(text):
        return "copyright", text
    if (match := _AUTHOR.match(text)) and _names_someone(match.group(1).strip()):
        return "author", match.group(1).strip()
    if (match := _PUBLISHER.match(text)) and _names_someone(match.group(1).strip()):
        return "publisher", match.group(1).strip()
    if match := _KEY_VALUE.match(text):
        return match.group(1).lower(), match.group(2).strip()
    return None


# A byline's names: "By Jane Doe, senior fellow at CIER", "Written by J. Smith and A. N.
# Other.", not "By 2031, batteries must …", "By contrast, the EU …" or "By Monday, the
# ministry must publish its list.": capitalised words, a few lowercase ones at most.
_BYLINE_WORDS = 12
_BYLINE_LOWERCASE = 2
_NAME_JOINERS = frozenset(
    ["and", "&", "of", "for", "at", "the", "de", "del", "der", "van", "von", "da", "du", "le"]
)


def _names_someone(value: str) -> bool:
    words = [w.strip(",;()") for w in value.split()]
    lower = [w for w in words if w[:1].islower() and w not in _NAME_JOINERS]
    upper = [w for w in words if w[:1].isupper()]
    first = next((w for w in words if w not in _NAME_JOINERS), "")
    return (
        first[:1].isupper()
        and len(words) <= _BYLINE_WORDS
        and len(lower) <= _BYLINE_LOWERCASE
        and len(upper) > len(lower)
    )


def _byline(text: str) -> tuple[str, str] | None:
    # "Name | Role, Organisation" right under a title is an author line.
    if " | " in text and len(text) < 200 and not text.endswith("."):
        name, _, role = text.partition(" | ")
        if 0 < len(name.split()) <= 6:
            return name.strip(), role.strip()
    return None


def label_front_matter(blocks: Sequence[Block]) -> tuple[list[Block], dict[str, str]]:
    """Mark the title and metadata lines, returning the relabelled blocks and metadata."""
    metadata: dict[str, str] = {}
    labelled: list[Block] = []
    title_seen = False
    for i, block in enumerate(blocks):
        kind = block.kind
        if kind == "table":
            pass  # a table near the top is data, not a byline or a metadata line
        elif not title_seen and kind in ("heading", "paragraph") and i < 3:
            if kind == "heading" or (len(block.text) <= 200 and not block.text.endswith(".")):
                kind, title_seen = "title", True
                metadata["title"] = block.text
        elif found := metadata_of(block.text):
            kind = "meta"
            metadata.setdefault(found[0], found[1])
        elif i < 4 and (byline := _byline(block.text)):
            kind = "meta"
            metadata.setdefault("author", byline[0])
            metadata.setdefault("affiliation", byline[1])
        labelled.append(block.model_copy(update={"kind": kind}) if kind != block.kind else block)
    return labelled, metadata


def blocks_from_plain_text(text: str, *, page: int | None = None) -> list[Block]:
    """Paragraph blocks from plain text (one paragraph per blank-line group)."""
    return [Block(kind="paragraph", text=p, page=page) for p in split_paragraphs(clean_text(text))]
