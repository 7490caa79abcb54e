"""The one exception tree of `qa`; every adapter maps it in a single place.

    QAError
    ├── ConfigError                 bad settings (a remedy names the variable)
    │   └── TaxonomyError           a malformed fields taxonomy file (names file and line)
    ├── CorpusError                 a corpus path is missing or unsafe
    │   ├── DocumentParseError      one file could not be read (ingest skips it)
    │   │   └── NoTextLayerError    a PDF without text, read without OCR
    │   └── UnsupportedFormatError  not one of `qa.formats.FORMATS`
    ├── IndexStoreError             the index folder cannot be used
    │   ├── IndexNotFoundError      nothing built yet: run `qa ingest`
    │   └── IndexMismatchError      built with other settings: run `qa ingest --rebuild`
    ├── QueryError                  an empty, oversized or otherwise bad question
    └── NotFoundError               an unknown document or passage id
        ├── UnknownActorError       an actor id or name that no gazetteer entry has
        └── UnknownFieldError       a field id that the taxonomy does not define

"The corpus does not say" is not an error: it is an `Answer` with `answered=False`.

A remedy that depends on the surface (list the documents: `qa status`, `GET /documents`
or the `list_documents` tool) is a `RemedyKey`; each adapter words it in its one
error-mapping place through `QAError.explain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

# What the user should do next, when each surface says it in its own terms.
RemedyKey = Literal["list_documents", "find_passage", "build_index"]


class QAError(Exception):
    """Base of every expected failure; `remedy` tells the user what to do.

    `remedy_key`, when set, names the remedy for `explain` to word per surface; `remedy`
    is then the surface-neutral wording.
    """

    code = "qa_error"

    def __init__(
        self, message: str, *, remedy: str | None = None, remedy_key: RemedyKey | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        self.remedy_key = remedy_key

    def remedy_in(self, remedies: Mapping[RemedyKey, str]) -> str | None:
        """The remedy as one surface words it (`remedies`), else the neutral one."""
        if self.remedy_key is not None and self.remedy_key in remedies:
            return remedies[self.remedy_key]
        return self.remedy

    def explain(self, remedies: Mapping[RemedyKey, str]) -> str:
        """The message followed by the remedy in one surface's terms."""
        remedy = self.remedy_in(remedies)
        return f"{self.message} {remedy}" if remedy else self.message

    def __str__(self) -> str:
        return self.explain({})


class ConfigError(QAError):
    code = "config_error"


class TaxonomyError(ConfigError):
    code = "taxonomy_error"


class CorpusError(QAError):
    code = "corpus_error"


class DocumentParseError(CorpusError):
    code = "document_parse_error"


class NoTextLayerError(DocumentParseError):
    """A PDF with no text on any page, read without OCR: OCR may still read it."""


class UnsupportedFormatError(CorpusError):
    code = "unsupported_format"


class IndexStoreError(QAError):
    code = "index_error"


class IndexNotFoundError(IndexStoreError):
    code = "index_not_found"


class IndexMismatchError(IndexStoreError):
    code = "index_mismatch"


class QueryError(QAError):
    code = "bad_query"


class NotFoundError(QAError):
    code = "not_found"


class UnknownActorError(NotFoundError):
    code = "unknown_actor"


class UnknownFieldError(NotFoundError):
    code = "unknown_field"
