"""The document formats `qa` reads: the one list that ingest, uploads, help and errors use."""

from __future__ import annotations

# File suffix (lower-case) → format name, as recorded on each Document.
FORMATS: dict[str, str] = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}


def format_of(suffix: str) -> str | None:
    """The format name of a file suffix such as ".PDF", or None when it is not supported."""
    return FORMATS.get(suffix.lower())


def describe_formats() -> str:
    """The supported formats for people: ".txt, .md, .html, .pdf or .docx"."""
    names: dict[str, str] = {}
    for suffix, name in FORMATS.items():
        names.setdefault(name, suffix)
    shown = list(names.values())
    return ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]
