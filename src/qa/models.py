"""The data contract: frozen pydantic models that every surface serialises.

`qa ask --json`, HTTP, MCP and the OpenAI-compatible routes all emit these exact
models, so a field renamed here is renamed everywhere (and breaks a test).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, computed_field

# What a question or query must contain: one character that is neither whitespace nor a
# control character. Spelled out (no `\\s`), so that the JSON schema, pydantic, hypothesis
# and `QAService.check_question` agree on every regex engine.
_BLANK = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
QUESTION_PATTERN = f"[^{_BLANK}]"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Document(_Frozen):
    """One source file after reading and normalisation."""

    id: str
    title: str
    source: str = Field(description="Path relative to the corpus folder.")
    format: Literal["txt", "md", "html", "pdf"]
    text: str = Field(description="Normalised text; passage offsets index into it.")
    blocks: list[tuple[int, int, str, int]] = Field(
        default_factory=list,
        description="(start, end, kind, level) of each title/meta/heading/paragraph block.",
    )
    page_starts: list[int] = Field(
        default_factory=list, description="PDF only: offset in `text` where each page begins."
    )
    metadata: dict[str, str] = Field(default_factory=dict)
    content_hash: str

    def page_at(self, offset: int) -> int | None:
        """1-based page holding `offset`, or None for documents without pages."""
        if not self.page_starts:
            return None
        return max(1, bisect_right(self.page_starts, offset))


class Passage(_Frozen):
    """A retrievable span of one document; `document.text[start:end] == text`."""

    id: str
    document_id: str
    title: str
    source: str
    page: int | None = None
    headings: list[str] = Field(default_factory=list)
    start: int
    end: int
    text: str
    sentences: list[tuple[int, int]] = Field(
        default_factory=list, description="Sentence spans, as offsets into `text`."
    )
    labels: list[str] = Field(
        default_factory=list,
        description="Per sentence: '' or a front-matter label such as 'title' or 'author'.",
    )

    def sentence_texts(self) -> list[str]:
        """The text of each sentence, in order."""
        return [self.text[a:b] for a, b in self.sentences]


class _PassageRef(_Frozen):
    """Where a passage sits: shared by search hits and citations."""

    passage_id: str
    document_id: str = Field(
        description="Document id.", validation_alias=AliasChoices("document_id", "document")
    )
    title: str
    source: str
    page: int | None
    start: int
    end: int
    text: str

    @staticmethod
    def fields_of(passage: Passage) -> dict[str, Any]:
        """The reference fields of `passage`, to build a `Hit` or `Citation` from."""
        return {
            "passage_id": passage.id,
            "document_id": passage.document_id,
            "title": passage.title,
            "source": passage.source,
            "page": passage.page,
            "start": passage.start,
            "end": passage.end,
            "text": passage.text,
        }

    @computed_field(description="Deprecated alias of `document_id`.")
    def document(self) -> str:
        return self.document_id


class Hit(_PassageRef):
    """One search result."""

    rank: int
    score: float = Field(
        description="Fusion rank score: weighted reciprocal rank fusion of the dense and BM25 "
        "rankings (about 0.01 to 0.04). It orders the hits of one search; it is not a "
        "probability, and not comparable across queries or with `confidence`."
    )
    headings: list[str] = Field(default_factory=list)


class SearchResult(_Frozen):
    query: str
    hits: list[Hit]


class Citation(_PassageRef):
    """The passage behind answer marker `[n]`; `quote` is the cited sentence(s)."""

    n: int
    quote: str
    score: float = Field(
        description="Score of the best quoted sentence against the question, from the answer "
        "scorer; it orders sentences and is not the answer's probability (see `confidence`)."
    )


class Answer(_Frozen):
    """An extractive answer, or an abstention (`answered=False`) with suggestions."""

    question: str
    answered: bool
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    suggestions: list[Hit] = Field(default_factory=list)
    confidence: float = Field(
        0.0,
        description="Calibrated probability (0 to 1) that the answer is supported by the "
        "documents; below QA_ABSTAIN_THRESHOLD the service abstains. Not on the scale of "
        "search `score`s.",
    )


class DocumentInfo(_Frozen):
    id: str
    title: str
    source: str
    format: str
    pages: int | None
    passages: int
    content_hash: str
    metadata: dict[str, str] = Field(default_factory=dict)


class DocumentDetail(DocumentInfo):
    text: str


class PassageDetail(_Frozen):
    passage: Passage
    previous_id: str | None
    next_id: str | None


class SkippedFile(_Frozen):
    """A corpus file left out of the index, and why."""

    source: str = Field(description="Path relative to the corpus folder.")
    reason: str = Field(description="Why it was skipped, without the file name.")


class IngestReport(_Frozen):
    """What one `qa ingest` did."""

    documents: int
    passages: int
    added: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)
    encodings: dict[str, str] = Field(
        default_factory=dict,
        description="Files read this run that were not UTF-8: source → the encoding guessed.",
    )
    embedded_passages: int = 0
    seconds: float = 0.0
    corpus_dir: str | None = Field(None, description="The corpus folder this run indexed.")


class IndexInfo(_Frozen):
    """The loaded build, cheaply: what `/readyz` and metrics report."""

    build_id: str
    model: str
    dimension: int
    documents: int
    passage_count: int
    built_at: datetime
    dense_index: Literal["flat", "hnsw"]

    @computed_field(description="Deprecated: always true (no index is a 503, not this model).")
    def built(self) -> bool:
        return True


class IndexStatus(_Frozen):
    """What `qa status` and `/readyz` report."""

    index_dir: str
    corpus_dir: str
    built: bool
    model: str | None = None
    dimension: int | None = None
    documents: list[DocumentInfo] = Field(default_factory=list)
    passage_count: int = 0
    built_at: datetime | None = None
    build_id: str | None = None
    is_stale: bool = False
    stale_reasons: list[str] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(
        default_factory=list, description="Files the build left out, with why."
    )

    @computed_field(description="Deprecated alias of `build_id`.")
    def version(self) -> str | None:
        return self.build_id
