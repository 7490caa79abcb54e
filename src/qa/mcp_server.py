"""The MCP server (official `mcp` SDK): four tools and a document resource over one
`QAService`, served on stdio (`qa mcp`) or as streamable HTTP mounted at `/mcp`.
"""

from __future__ import annotations

import inspect
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar
from urllib.parse import quote

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.types import CallToolResult, Resource, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp

from qa import version as qa_version
from qa.errors import NotFoundError, QAError
from qa.models import Answer, DocumentDetail, DocumentInfo, PassageDetail, SearchResult
from qa.tools import render_answer, render_documents, render_passage, render_search

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.service import QAService

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

INSTRUCTIONS = """\
qa answers questions from a fixed set of indexed documents, with extractive, cited answers.
Call `ask` for a question; `search` to explore passages; `get_passage` to read around a
citation; `list_documents` to see what is covered. Keep the [n] citation markers and the
source list when you pass an answer on. When an answer has `answered: false`, the documents
do not cover the question: say so instead of answering from your own knowledge.
"""

_READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class DocumentList(BaseModel):
    """Structured result of `list_documents`."""

    model_config = ConfigDict(frozen=True)

    documents: list[DocumentInfo]


class _ServiceSlot:
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
            raise ToolError(str(exc)) from exc

    def preload(self) -> None:
        """Load the index and model now, so the first question is fast; failures wait
        for a tool call to report them."""
        try:
            self.get().load()
        except QAError as exc:
            logger.warning("qa index not loaded yet: %s", exc)


class _QAMCPServer(MCPServer[Any]):
    """`MCPServer` whose resource list also names every indexed document."""

    def __init__(self, slot: _ServiceSlot, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._slot = slot

    async def list_resources(self) -> list[Resource]:
        static = await super().list_resources()
        try:
            documents = await anyio.to_thread.run_sync(lambda: self._slot.get().documents())
        except QAError as exc:
            logger.info("Listing documents as resources failed: %s", exc)
            return static
        return static + [
            Resource(
                uri=f"qa://documents/{quote(d.id, safe='')}",
                name=d.id,
                title=d.title,
                description=f"Full normalised text of {d.source}.",
                mime_type="text/plain",
            )
            for d in documents
        ]


_SDK_LEVELS: dict[str, Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]] = {
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
    "CRITICAL": "CRITICAL",
}


def create_mcp_server(
    service: QAService | Callable[[], QAService],
    *,
    preload: bool = False,
    log_level: str = "WARNING",
) -> MCPServer[Any]:
    """Build the MCP server over `service`, or over a factory called whenever it is needed.

    Tools: `ask`, `search`, `get_passage`, `list_documents`; resource template
    `qa://documents/{id}`. With `preload`, the index and model load in the background
    as soon as a session starts. A `QAError` becomes a tool error with its remedy.
    """
    slot = _ServiceSlot(service)

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
        if preload:
            threading.Thread(target=slot.preload, name="qa-preload", daemon=True).start()
        yield {}

    server = _QAMCPServer(
        slot,
        name="qa",
        title="qa: cited answers from your documents",
        instructions=INSTRUCTIONS,
        version=qa_version(),
        lifespan=lifespan,
        log_level=_SDK_LEVELS.get(log_level.upper(), "WARNING"),
    )

    def ask(
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
        answer = slot.call(lambda s: s.ask(question, k=k))
        return CallToolResult(
            content=[TextContent(text=render_answer(answer))],
            structured_content=answer.model_dump(mode="json"),
        )

    def search(
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
        result = slot.call(lambda s: s.search(query, k=k, documents=documents))
        return CallToolResult(
            content=[TextContent(text=render_search(result))],
            structured_content=result.model_dump(mode="json"),
        )

    def get_passage(
        passage_id: Annotated[
            str, Field(description="A passage_id from `ask` citations or `search` hits.")
        ],
    ) -> Annotated[CallToolResult, PassageDetail]:
        """Read one passage by id, with where it comes from (title, page, section) and the
        ids of the passages just before and after it in the same document.

        Call it to see the full context of a citation or to read on: call it again with
        `previous_id` or `next_id`. An unknown id returns an error.
        """
        detail = slot.call(lambda s: s.passage(passage_id))
        return CallToolResult(
            content=[TextContent(text=render_passage(detail))],
            structured_content=detail.model_dump(mode="json"),
        )

    def list_documents() -> Annotated[CallToolResult, DocumentList]:
        """List every indexed document: id, title, source file, format, pages and passages.

        Call it to learn what the documents cover, or to get ids for
        `search(documents=[...])`. A document's full text is the resource
        `qa://documents/{id}`.
        """
        documents = slot.call(lambda s: s.documents())
        return CallToolResult(
            content=[TextContent(text=render_documents(documents))],
            structured_content=DocumentList(documents=documents).model_dump(mode="json"),
        )

    for fn, title in (
        (ask, "Ask the documents"),
        (search, "Search passages"),
        (get_passage, "Read a passage"),
        (list_documents, "List documents"),
    ):
        server.add_tool(
            fn, title=title, description=inspect.cleandoc(fn.__doc__ or ""), annotations=_READ_ONLY
        )

    @server.resource(
        "qa://documents/{id}",
        name="document",
        title="Document text",
        description="The full normalised text of one indexed document (ids: `list_documents`).",
        mime_type="text/plain",
    )
    def document(id: str) -> str:
        try:
            detail: DocumentDetail = slot.get().document(id)
            return detail.text
        except NotFoundError as exc:
            raise ResourceNotFoundError(str(exc)) from exc
        except QAError as exc:
            raise ResourceError(str(exc)) from exc

    return server


def run_stdio(settings: Settings) -> None:
    """Serve MCP on stdin/stdout until the client disconnects (`qa mcp`).

    Only protocol goes to stdout: logs go to stderr, and while serving the SDK points
    file descriptor 1 at stderr, so stray prints and progress bars cannot corrupt the
    stream. The service loads in the background; a missing index is reported by tool
    calls (run `qa ingest`), never by a failed handshake.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(
            stream=sys.stderr,
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )

    def build() -> QAService:
        from qa.service import QAService

        return QAService(settings)

    service_source = _memoize(build)
    server = create_mcp_server(service_source, preload=True, log_level=settings.log_level)
    server.run("stdio")


def _memoize(factory: Callable[[], _T]) -> Callable[[], _T]:
    lock = threading.Lock()
    made: list[_T] = []

    def get() -> _T:
        with lock:
            if not made:
                made.append(factory())
            return made[0]

    return get


def create_mcp_http_app(
    service: QAService | Callable[[], QAService],
    *,
    host: str = "127.0.0.1",
    log_level: str = "WARNING",
) -> tuple[ASGIApp, Callable[[], AbstractAsyncContextManager[None]]]:
    """The streamable HTTP transport as an ASGI app plus the lifespan it needs.

    Route the app at exactly `/mcp` (`Route("/mcp", asgi_app)`, not a `Mount`) and
    enter `lifespan()` inside the host app's lifespan: the SDK's session manager only
    serves requests while it runs. Stateless JSON responses, so it works behind any
    proxy. `host` is the bind address: on loopback the SDK checks Host/Origin headers
    against DNS rebinding. Authentication is the host app's job.
    """
    server = create_mcp_server(service, log_level=log_level)
    # Builds the session manager; the Starlette app around it is not needed.
    server.streamable_http_app(
        streamable_http_path="/mcp", stateless_http=True, json_response=True, host=host
    )
    manager = server.session_manager
    return StreamableHTTPASGIApp(manager), manager.run
