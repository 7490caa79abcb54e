"""The MCP server (official `mcp` SDK): the tools of `qa.mcp.tools` and a document resource
over one `QAService`, served on stdio (`qa mcp`) or as streamable HTTP mounted at `/mcp`;
and the tools' definitions as MCP or OpenAI function-calling JSON (`qa tools`).
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.types import Resource, ToolAnnotations
from starlette.types import ASGIApp

from qa import version as qa_version
from qa.errors import NotFoundError, QAError
from qa.logs import configure_logging
from qa.mcp.tools import REMEDIES, TOOL_NAMES, TOOL_TITLES, QATools, ServiceSlot
from qa.models import DocumentDetail

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.service import QAService

logger = logging.getLogger(__name__)

ToolFormat = Literal["openai", "mcp"]

INSTRUCTIONS = """\
qa answers questions from a fixed set of indexed documents, with extractive, cited answers.
Call `ask` for a question; `search` to explore passages; `get_passage` to read around a
citation; `list_documents` to see what is covered. Keep the [n] citation markers and the
source list when you pass an answer on. When an answer has `answered: false`, the documents
do not cover the question: say so instead of answering from your own knowledge.
"""

_READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class _QAMCPServer(MCPServer[Any]):
    """`MCPServer` whose resource list also names every indexed document."""

    def __init__(self, slot: ServiceSlot, **kwargs: Any) -> None:
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
    slot = ServiceSlot(service)

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

    tools = QATools(slot)
    for name in TOOL_NAMES:
        fn = getattr(tools, name)
        server.add_tool(
            fn,
            name=name,
            title=TOOL_TITLES[name],
            description=inspect.cleandoc(fn.__doc__ or ""),
            annotations=_READ_ONLY,
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
            raise ResourceNotFoundError(exc.explain(REMEDIES)) from exc
        except QAError as exc:
            raise ResourceError(exc.explain(REMEDIES)) from exc

    return server


def run_stdio(settings: Settings) -> None:
    """Serve MCP on stdin/stdout until the client disconnects (`qa mcp`).

    Only protocol goes to stdout: logs go to stderr, and while serving the SDK points
    file descriptor 1 at stderr, so stray prints and progress bars cannot corrupt the
    stream. The service loads in the background; a missing index is reported by tool
    calls (run `qa ingest`), never by a failed handshake.
    """
    configure_logging(settings.log_level)

    def build() -> QAService:
        from qa.service import QAService

        return QAService(settings)

    service_source = functools.cache(build)
    server = create_mcp_server(service_source, preload=True, log_level=settings.log_level)
    server.run("stdio")


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


def tool_definitions(fmt: ToolFormat) -> list[dict[str, Any]]:
    """JSON-schema definitions of the four tools, for an MCP host or OpenAI function calling.

    Both formats are read off the real MCP server's `tools/list`, so the names,
    descriptions and schemas printed by `qa tools` cannot drift from what `qa mcp` serves.
    Call it from synchronous code (it runs a short event loop).
    """

    def no_service() -> Any:
        raise RuntimeError("tool definitions never call the service")

    server = create_mcp_server(no_service)
    tools = anyio.run(server.list_tools)
    mcp_tools = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
    if fmt == "mcp":
        return mcp_tools
    if fmt == "openai":
        return [
            {
                "type": "function",
                "function": {
                    "name": tool["name"],
                    "description": tool.get("description", ""),
                    "parameters": tool["inputSchema"],
                },
            }
            for tool in mcp_tools
        ]
    raise ValueError(f"Unknown tool format {fmt!r}; use 'openai' or 'mcp'.")
