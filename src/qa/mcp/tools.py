"""The MCP tools (`ask`, `search`, `get_passage`, `list_documents`, `fields`) over one
`QAService`.

Docstrings here are written for the model: what each tool returns and when to call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, ConfigDict, Field

from qa.errors import QAError, RemedyKey
from qa.models import Answer, DocumentInfo, FieldMap, PassageDetail, SearchResult
from qa.plaintext import (
    render_answer,
    render_documents,
    render_field_map,
    render_passage,
    render_search,
)

if TYPE_CHECKING:
    from qa.service import QAService

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# Remedies in MCP terms, for the model reading the tool error (see `QAError.explain`).
REMEDIES: dict[RemedyKey, str] = {
    "list_documents": "Call the `list_documents` tool for the document ids.",
    "find_passage": "Use a passage_id from `search` hits or `ask` citations.",
    "build_index": "No documents are indexed yet: ask the user to run `qa ingest`.",
}

TOOL_NAMES = ("ask", "search", "get_passage", "list_documents", "fields")
TOOL_TITLES = {
    "ask": "Ask the documents",
    "search": "Search passages",
    "get_passage": "Read a passage",
    "list_documents": "List documents",
    "fields": "Map cooperation fields",
}


class DocumentList(BaseModel):
    """Structured result of `list_documents`."""

    model_config = ConfigDict(frozen=True)

    documents: list[DocumentInfo]


class ServiceSlot:
    """Hands out the service: a given instance, or a factory's result on each use (so the
    service can be built lazily and a missing index never breaks the MCP handshake)."""

    def __init__(self, source: QAService | Callable[[], QAService]) -> None:
        self._source = source

    def get(self) -> QAService:
        source = self._source
        return source() if callable(source) else source

    def call(self, fn: Callable[[QAService], _T]) -> _T:
        """Run `fn(service)`, turning a `QAError` into the tool error the model reads."""
        try:
            return fn(self.get())
        except QAError as exc:
            raise ToolError(exc.explain(REMEDIES)) from exc

    def preload(self) -> None:
        """Load the index and model now, so the first question is fast; failures wait
        for a tool call to report them."""
        try:
            self.get().warm()
        except QAError as exc:
            logger.warning("qa index not loaded yet: %s", exc)


class QATools:
    """The tool functions the MCP server registers; each returns text and a structured result."""

    def __init__(self, slot: ServiceSlot) -> None:
        self._slot = slot

    def ask(
        self,
        question: Annotated[
            str, Field(description="The user's question, in natural language, self-contained.")
        ],
        k: Annotated[
            int | None,
            Field(ge=1, description="Passages to retrieve as evidence; omit for the default."),
        ] = None,
    ) -> Annotated[CallToolResult, Answer]:
        """Answer a question from the indexed documents, with numbered citations.

        Call this first whenever the user asks something the documents may cover. The
        answer is extracted from the documents (quoted sentences), not generated.

        Returns text: the answer with [n] markers, then a numbered "Sources" list (document
        title, page, quoted sentence). The structured result is the Answer object:
        `answered`, `answer`, `citations` (n, passage_id, document, title, page, quote,
        text, score), `suggestions` and `confidence`.

        When you use the answer, keep each [n] marker next to the claim it supports and
        include the numbered sources; do not drop or renumber them.

        If `answered` is false, the documents do not cover the question: tell the user so
        and do not invent an answer from your own knowledge. `suggestions` are then the
        closest passages found; offer them only as possibly related reading, or try
        `search` with other words.
        """
        answer = self._slot.call(lambda s: s.ask(question, k=k))
        return CallToolResult(
            content=[TextContent(text=render_answer(answer))],
            structured_content=answer.model_dump(mode="json"),
        )

    def search(
        self,
        query: Annotated[str, Field(description="Words or a question to look for.")],
        k: Annotated[
            int | None, Field(ge=1, description="Number of passages; omit for the default.")
        ] = None,
        documents: Annotated[
            list[str] | None,
            Field(description="Only search these document ids (from `list_documents`)."),
        ] = None,
    ) -> Annotated[CallToolResult, SearchResult]:
        """Find the passages most relevant to a query (semantic + keyword search), without
        composing an answer.

        Use it to explore what the documents say about a topic, to gather more context than
        `ask` returned, or after `ask` abstained. Returns ranked hits: passage_id, document
        id, title, page, text and score. Quote hit text verbatim and cite it by title and
        page; call `get_passage` with a passage_id to read the passage and its neighbours.
        """
        result = self._slot.call(lambda s: s.search(query, k=k, documents=documents))
        return CallToolResult(
            content=[TextContent(text=render_search(result))],
            structured_content=result.model_dump(mode="json"),
        )

    def get_passage(
        self,
        passage_id: Annotated[
            str, Field(description="A passage_id from `ask` citations or `search` hits.")
        ],
    ) -> Annotated[CallToolResult, PassageDetail]:
        """Read one passage by id, with where it comes from (title, page, section) and the
        ids of the passages just before and after it in the same document.

        Call it to see the full context of a citation or to read on: call it again with
        `previous_id` or `next_id`. An unknown id returns an error.
        """
        detail = self._slot.call(lambda s: s.passage(passage_id))
        return CallToolResult(
            content=[TextContent(text=render_passage(detail))],
            structured_content=detail.model_dump(mode="json"),
        )

    def list_documents(self) -> Annotated[CallToolResult, DocumentList]:
        """List every indexed document: id, title, source file, format, pages and passages.

        Call it to learn what the documents cover, or to get ids for
        `search(documents=[...])`. A document's full text is the resource
        `qa://documents/{id}`.
        """
        documents = self._slot.call(lambda s: s.documents())
        return CallToolResult(
            content=[TextContent(text=render_documents(documents))],
            structured_content=DocumentList(documents=documents).model_dump(mode="json"),
        )

    def fields(
        self,
        actors: Annotated[
            list[str] | None,
            Field(description="Only these actors: ids (kor, usa, eu, asean) or country names."),
        ] = None,
        fields: Annotated[
            list[str] | None,
            Field(description="Only these field ids, e.g. hydrogen, semiconductors."),
        ] = None,
        documents: Annotated[
            list[str] | None, Field(description="Only these document ids.")
        ] = None,
    ) -> Annotated[CallToolResult, FieldMap]:
        """The cooperation-field map: which actors (countries, blocs) work on which fields
        (critical minerals, battery technology, standards, hydrogen, …), with whom.

        Call it for "who works on X?", "what does Y cooperate on?", "which partners does
        Z have?", or for an overview across documents. Returns text: one line per actor
        with its fields, then each cell's partners and its quoted sentences with [n]
        citations. The structured result is the FieldMap: `fields`, `actors` and `cells`
        (actor, field, partners, citations with verbatim `quote`). Quote the sentences as
        given and keep their citations; the map holds only what the documents state.
        """
        field_map = self._slot.call(
            lambda s: s.fields(documents=documents, actors=actors, fields=fields)
        )
        return CallToolResult(
            content=[TextContent(text=render_field_map(field_map))],
            structured_content=field_map.model_dump(mode="json"),
        )
