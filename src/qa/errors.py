"""The one exception tree of `qa`; every adapter maps it in a single place.

    QAError
    ├── ConfigError                 bad settings (a remedy names the variable)
    │   └── TaxonomyError           a malformed fields taxonomy file (names file and line)
    ├── CorpusError                 a corpus path is missing or unsafe
    │   ├── DocumentParseError      one file could not be read (ingest skips it)
    │   └── UnsupportedFormatError  not one of `qa.formats.FORMATS`
    ├── IndexStoreError             the index folder cannot be used
    │   ├── IndexNotFoundError      nothing built yet: run `qa ingest`
    │   └── IndexMismatchError      built with other settings: run `qa ingest --rebuild`
    ├── QueryError                  an empty, oversized or otherwise bad question
    │   ├── UnknownActorError       an actor id or name that no gazetteer entry has
    │   └── UnknownFieldError       a field id that the taxonomy does not define
    └── NotFoundError               an unknown document or passage id

"The corpus does not say" is not an error: it is an `Answer` with `answered=False`.
"""

from __future__ import annotations


class QAError(Exception):
    """Base of every expected failure; `remedy` tells the user what to do."""

    code = "qa_error"

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def __str__(self) -> str:
        return f"{self.message} {self.remedy}" if self.remedy else self.message


class ConfigError(QAError):
    code = "config_error"


class TaxonomyError(ConfigError):
    code = "taxonomy_error"


class CorpusError(QAError):
    code = "corpus_error"


class DocumentParseError(CorpusError):
    code = "document_parse_error"


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


class UnknownActorError(QueryError):
    code = "unknown_actor"


class UnknownFieldError(QueryError):
    code = "unknown_field"


class NotFoundError(QAError):
    code = "not_found"
