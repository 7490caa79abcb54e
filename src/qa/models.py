"""The data contract: frozen pydantic models that every surface serialises.

`qa ask --json`, HTTP, MCP and the OpenAI-compatible routes all emit these exact
models, so a field renamed here is renamed everywhere (and breaks a test).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, computed_field


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
    score: float
    headings: list[str] = Field(default_factory=list)


class SearchResult(_Frozen):
    query: str
    hits: list[Hit]


class Citation(_PassageRef):
    """The passage behind answer marker `[n]`; `quote` is the cited sentence(s)."""

    n: int
    quote: str
    score: float
    quote_start: int | None = Field(
        None, description="Offset of `quote` in the document's text, when it is one span."
    )
    quote_end: int | None = Field(
        None, description="End of `quote` in the document's text: text[quote_start:quote_end]."
    )


class Answer(_Frozen):
    """An extractive answer, or an abstention (`answered=False`) with suggestions."""

    question: str
    answered: bool
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    suggestions: list[Hit] = Field(default_factory=list)
    confidence: float = Field(0.0, description="Evidence score the abstention rule compared.")


class Actor(_Frozen):
    """A country, bloc or organisation that a sentence can be about (see `qa.actors`)."""

    id: str = Field(description="ISO alpha-3 in lower case for countries, a slug otherwise.")
    name: str
    kind: Literal["country", "bloc", "organisation"]
    aliases: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list, description="Actor ids of a bloc's members.")


class CooperationField(_Frozen):
    """One field of cooperation of the taxonomy (`fields.toml`)."""

    id: str
    label: str
    description: str
    seeds: list[str] = Field(default_factory=list, description="Seed terms of the field.")


class FieldCell(_Frozen):
    """What the corpus says one actor does in one field, with whom, sentence by sentence."""

    actor: str = Field(description="Actor id.")
    field: str = Field(description="Field id.")
    partners: list[str] = Field(default_factory=list, description="Counterpart actor ids.")
    citations: list[Citation] = Field(default_factory=list)


class FieldMap(_Frozen):
    """Actors against fields of cooperation; every cell backed by verbatim sentences."""

    fields: list[CooperationField]
    actors: list[Actor]
    cells: list[FieldCell]


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
    source: str
    reason: str


class IngestReport(_Frozen):
    """What one `qa ingest` did."""

    documents: int
    passages: int
    added: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)
    embedded_passages: int = 0
    seconds: float = 0.0


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

    @computed_field(description="Deprecated alias of `build_id`.")
    def version(self) -> str | None:
        return self.build_id
