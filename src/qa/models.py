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
    format: Literal["txt", "md", "html", "pdf", "docx"]
    text: str = Field(description="Normalised text; passage offsets index into it.")
    blocks: list[tuple[int, int, str, int]] = Field(
        default_factory=list,
        description="(start, end, kind, level) of each title/meta/heading/paragraph/table block.",
    )
    page_starts: list[int] = Field(
        default_factory=list, description="PDF only: offset in `text` where each page begins."
    )
    page_labels: list[str | None] = Field(
        default_factory=list,
        description="PDF only: the page number printed on each page ('iv', '12'), if any.",
    )
    ocr_pages: list[int] = Field(
        default_factory=list, description="PDF only: pages whose text was read by OCR."
    )
    unread_pages: list[int] = Field(
        default_factory=list,
        description="PDF only: pages without a text layer that were not OCR'd (no Tesseract).",
    )
    metadata: dict[str, str] = Field(default_factory=dict)
    content_hash: str

    def page_at(self, offset: int) -> int | None:
        """1-based page holding `offset`, or None for documents without pages."""
        if not self.page_starts:
            return None
        return max(1, bisect_right(self.page_starts, offset))

    def label_of(self, page: int | None) -> str | None:
        """The printed label of 1-based `page`, or None when the page shows none."""
        if page is None or not 0 < page <= len(self.page_labels):
            return None
        return self.page_labels[page - 1]


class Passage(_Frozen):
    """A retrievable span of one document; `document.text[start:end] == text`."""

    id: str
    document_id: str
    title: str
    source: str
    page: int | None = None
    page_label: str | None = Field(None, description="The page number printed on the page.")
    ocr: bool = Field(False, description="True when the text was read from a page image by OCR.")
    headings: list[str] = Field(default_factory=list)
    start: int
    end: int
    text: str
    sentences: list[tuple[int, int]] = Field(
        default_factory=list, description="Sentence spans, as offsets into `text`."
    )
    labels: list[str] = Field(
        default_factory=list,
        description="Per sentence: '', 'heading', or a front-matter label such as 'title' or "
        "'author'.",
    )

    def sentence_texts(self) -> list[str]:
        """The text of each sentence, in order."""
        return [self.text[a:b] for a, b in self.sentences]


def describe_page(page: int | None, page_label: str | None = None, ocr: bool = False) -> str:
    """How a citation names its page: "p. 45 (printed 43), OCR"; "" without a page."""
    if page is None:
        return ""
    shown = f"p. {page}"
    if page_label and page_label != str(page):
        shown += f" (printed {page_label})"
    return shown + (", OCR" if ocr else "")


class _PassageRef(_Frozen):
    """Where a passage sits: shared by search hits and citations."""

    passage_id: str
    document_id: str = Field(
        description="Document id.", validation_alias=AliasChoices("document_id", "document")
    )
    title: str
    source: str
    page: int | None
    page_label: str | None = Field(None, description="The page number printed on the page.")
    ocr: bool = Field(False, description="True when the text was read from a page image by OCR.")
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
            "page_label": passage.page_label,
            "ocr": passage.ocr,
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
    quote: str = Field(description="The quoted span(s) of the passage, joined by a space.")
    spans: list[tuple[int, int]] = Field(
        default_factory=list,
        description="Document offsets of each quoted span: `document.text[a:b]` is verbatim.",
    )
    headings: list[str] = Field(default_factory=list, description="Section path of the passage.")
    score: float = Field(
        description="Calibrated probability (0 to 1) that the best quote of this passage "
        "answers the question, on the scale of the answer's `confidence`; not a search score."
    )

    quote_start: int | None = Field(
        None, description="Offset of `quote` in the document's text, when it is one span."
    )
    quote_end: int | None = Field(
        None, description="End of `quote` in the document's text: text[quote_start:quote_end]."
    )


AbstentionReason = Literal["no_evidence", "unsupported_detail", "language", "empty_corpus"]


class Answer(_Frozen):
    """An extractive answer, or an abstention (`answered=False`) with suggestions."""

    question: str
    answered: bool
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    suggestions: list[Hit] = Field(default_factory=list)
    confidence: float = Field(
        0.0,
        description="Calibrated probability (0 to 1) that the best quoted sentence answers the "
        "question; the answer abstains below `QA_ABSTAIN_THRESHOLD`.",
    )
    reason: AbstentionReason | None = Field(
        None,
        description="Why the answer abstains (None when answered): no_evidence, "
        "unsupported_detail (the figure, date or name asked for is absent), language (the "
        "question is not in the model's language), empty_corpus.",
    )
    message: str | None = Field(None, description="The abstention explained for people.")
    uncovered: list[str] = Field(
        default_factory=list, description="Parts of a multi-part question the texts do not answer."
    )
    caution: str | None = Field(
        None,
        description="A caution for people about an answer's sources: set when the document the "
        "question names does not say, and the answer quotes other documents, or when a "
        "section the question names says more than the sentences quoted.",
    )


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
    """A corpus file left out of the index, and why."""

    source: str = Field(description="Path relative to the corpus folder.")
    reason: str = Field(description="Why it was skipped, without the file name.")


class SkippedPage(_Frozen):
    """A PDF page that was not read (no text layer and no OCR), with what to do about it."""

    source: str
    page: int
    reason: str
    remedy: str


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
    skipped_pages: list[SkippedPage] = Field(
        default_factory=list, description="Pages indexed without text (scanned, no OCR)."
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
