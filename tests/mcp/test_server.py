"""The MCP server through the official client SDK, over stdio (spawning `qa mcp`) and over
streamable HTTP (`/mcp` on a running `qa serve` app): tools, structured results,
citations, abstention, errors and the document resource."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import httpx2
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent, TextResourceContents
from servers import assert_error_body, running_server

from qa.api.app import settings_environ
from qa.config import Settings
from qa.mcp.tools import DocumentList
from qa.models import Answer, FieldMap, PassageDetail, SearchResult
from qa.service import QAService

pytestmark = pytest.mark.e2e

QUESTION = "What forum did Korea set up for hydrogen?"
OFF_TOPIC = "Which company sells the most solid-state batteries?"
API_KEY = "mcp-test-key-0123456789"
QA_BIN = Path(sys.executable).with_name("qa")
TOOLS = ["ask", "search", "get_passage", "list_documents", "fields"]

_T = TypeVar("_T")
Streams = Any  # (read stream, write stream) of an MCP client transport


class SyncMCP:
    """An initialised `ClientSession` living in a portal thread, driven from sync tests."""

    def __init__(self, portal: BlockingPortal, session: ClientSession, errors: list[Exception]):
        self.portal = portal
        self.session = session
        # Anything on the wire that was not a protocol message (e.g. a stray print).
        self.stream_errors = errors

    def run(self, call: Callable[[ClientSession], Awaitable[_T]]) -> _T:
        async def go() -> _T:
            return await call(self.session)

        return self.portal.call(go)

    def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        return self.run(lambda s: s.call_tool(name, arguments or {}))


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def stdio_params(settings: Settings) -> StdioServerParameters:
    """`qa mcp` configured like `settings`, as an MCP host would spawn it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env |= {k: v for k, v in settings_environ(settings).items() if v is not None}
    return StdioServerParameters(command=str(QA_BIN), args=["mcp"], env=env)


@asynccontextmanager
async def http_streams(url: str, api_key: str | None = None) -> AsyncIterator[Streams]:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(120)) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as streams,
    ):
        yield streams


@contextmanager
def connect(transport: Callable[[], AbstractAsyncContextManager[Streams]]) -> Iterator[SyncMCP]:
    """Open `transport`, initialise a session on it and hand it to sync code."""
    errors: list[Exception] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):
            errors.append(message)

    @asynccontextmanager
    async def session() -> AsyncIterator[ClientSession]:
        async with (
            transport() as (read, write),
            ClientSession(read, write, read_timeout_seconds=180, message_handler=on_message) as s,
        ):
            await s.initialize()
            yield s

    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(session()) as s,
    ):
        yield SyncMCP(portal, s, errors)


@pytest.fixture(scope="module", params=["stdio", "http"])
def mcp(
    request: pytest.FixtureRequest, seed_settings: Settings, seed_service: QAService
) -> Iterator[SyncMCP]:
    """One session per transport, shared by the module's tests (`qa mcp` loads a model)."""
    if request.param == "stdio":
        with connect(lambda: stdio_client(stdio_params(seed_settings))) as client:
            yield client
    else:
        with (
            running_server(seed_settings, service=seed_service) as url,
            connect(lambda: http_streams(url)) as client,
        ):
            yield client


def comparable(answer: Answer) -> dict[str, Any]:
    """An answer without its float scores, which may differ in the last bits across processes."""
    return answer.model_dump(
        mode="json",
        exclude={
            "confidence": True,
            "citations": {"__all__": {"score"}},
            "suggestions": {"__all__": {"score"}},
        },
    )


# -- tools ----------------------------------------------------------------------------------


def test_mcp_lists_the_tools_with_descriptions_and_schemas(mcp: SyncMCP) -> None:
    tools = {tool.name: tool for tool in mcp.run(lambda s: s.list_tools()).tools}

    assert sorted(tools) == sorted(TOOLS)
    for tool in tools.values():
        assert tool.description and len(tool.description) > 80
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None
    assert tools["ask"].input_schema["required"] == ["question"]
    assert set(tools["ask"].output_schema["properties"]) == set(Answer.model_fields)
    assert "answered` is false" in (tools["ask"].description or "")


def test_mcp_ask_returns_cited_text_and_the_answer_object(
    mcp: SyncMCP, seed_service: QAService
) -> None:
    result = mcp.call_tool("ask", {"question": QUESTION})

    assert not result.is_error
    answer = Answer.model_validate(result.structured_content)
    assert comparable(answer) == comparable(seed_service.ask(QUESTION))
    assert answer.answered
    assert "hydrogen economy standards forum" in answer.answer.lower()
    assert answer.citations
    text = text_of(result)
    assert text.startswith(answer.answer.strip())
    assert "\nSources:\n" in text
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.answer
        assert f"[{citation.n}] {citation.title}" in text
        assert " ".join(citation.quote.split()) in text


def test_mcp_ask_off_topic_is_not_answered_and_says_so(mcp: SyncMCP) -> None:
    result = mcp.call_tool("ask", {"question": OFF_TOPIC})

    assert not result.is_error
    answer = Answer.model_validate(result.structured_content)
    assert not answer.answered
    assert answer.citations == []
    assert "Sources:" not in text_of(result)


def test_mcp_search_returns_ranked_hits_restricted_to_documents(
    mcp: SyncMCP, seed_service: QAService
) -> None:
    document = seed_service.documents()[0].id
    result = mcp.call_tool(
        "search", {"query": "hydrogen standards", "k": 3, "documents": [document]}
    )

    assert not result.is_error
    found = SearchResult.model_validate(result.structured_content)
    assert 1 <= len(found.hits) <= 3
    assert [hit.rank for hit in found.hits] == list(range(1, len(found.hits) + 1))
    assert all(hit.document == document for hit in found.hits)
    assert all(hit.passage_id in text_of(result) for hit in found.hits)


def test_mcp_get_passage_returns_the_passage_and_its_neighbours(
    mcp: SyncMCP, seed_service: QAService
) -> None:
    hit = seed_service.search("hydrogen", k=1).hits[0]

    result = mcp.call_tool("get_passage", {"passage_id": hit.passage_id})

    assert not result.is_error
    detail = PassageDetail.model_validate(result.structured_content)
    assert detail == seed_service.passage(hit.passage_id)
    assert detail.passage.text == hit.text
    assert detail.passage.text in text_of(result)


def test_mcp_list_documents_returns_every_indexed_document(
    mcp: SyncMCP, seed_service: QAService
) -> None:
    result = mcp.call_tool("list_documents")

    assert not result.is_error
    listed = DocumentList.model_validate(result.structured_content)
    assert listed.documents == seed_service.documents()
    for document in listed.documents:
        assert f"qa://documents/{document.id}" in text_of(result)


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("get_passage", {"passage_id": "no-such-passage"}, "no-such-passage"),
        ("ask", {"question": "   "}, "empty"),
        ("ask", {"question": QUESTION, "k": 0}, "k"),
        ("search", {"query": "hydrogen", "k": 10_000}, "k"),
        ("ask", {}, "question"),
    ],
)
def test_mcp_bad_calls_are_tool_errors_with_a_clear_message(
    mcp: SyncMCP, tool: str, arguments: dict[str, Any], message: str
) -> None:
    result = mcp.call_tool(tool, arguments)

    assert result.is_error
    assert result.structured_content is None
    text = text_of(result)
    assert text.startswith(f"Error executing tool {tool}:")
    assert message in text


def test_mcp_stdout_carries_only_protocol_messages(mcp: SyncMCP) -> None:
    mcp.call_tool("ask", {"question": QUESTION})
    mcp.call_tool("list_documents")

    assert mcp.stream_errors == []


# -- resources ------------------------------------------------------------------------------


def test_mcp_documents_are_listed_and_readable_as_resources(
    mcp: SyncMCP, seed_service: QAService
) -> None:
    templates = mcp.run(lambda s: s.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["qa://documents/{id}"]
    listed = {r.uri for r in mcp.run(lambda s: s.list_resources()).resources}
    documents = seed_service.documents()
    assert listed == {f"qa://documents/{d.id}" for d in documents}

    uri = f"qa://documents/{documents[0].id}"
    contents = mcp.run(lambda s: s.read_resource(uri)).contents

    assert len(contents) == 1
    assert isinstance(contents[0], TextResourceContents)
    assert contents[0].mime_type == "text/plain"
    assert contents[0].text == seed_service.document(documents[0].id).text


def test_mcp_unknown_document_resource_is_a_protocol_error(mcp: SyncMCP) -> None:
    with pytest.raises(MCPError, match="no-such-document"):
        mcp.run(lambda s: s.read_resource("qa://documents/no-such-document"))


# -- transport specifics --------------------------------------------------------------------


def test_mcp_stdio_without_an_index_starts_and_tells_to_run_ingest(
    seed_settings: Settings, tmp_path: Path
) -> None:
    settings = seed_settings.model_copy(update={"index_dir": tmp_path / "missing-index"})

    with connect(lambda: stdio_client(stdio_params(settings))) as client:
        tools = client.run(lambda s: s.list_tools()).tools
        result = client.call_tool("ask", {"question": QUESTION})
        resources = client.run(lambda s: s.list_resources()).resources

    assert sorted(t.name for t in tools) == sorted(TOOLS)
    assert result.is_error
    assert "qa ingest" in text_of(result)
    assert resources == []


def leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


def test_mcp_http_requires_the_api_key_when_one_is_set(
    seed_settings: Settings, seed_service: QAService
) -> None:
    settings = seed_settings.model_copy(update={"api_key": API_KEY})

    with running_server(settings, service=seed_service) as url:
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        refused = httpx.post(
            f"{url}/mcp", json=initialize, headers={"Accept": "application/json, text/event-stream"}
        )
        assert_error_body(refused, 401, "unauthorized")

        for wrong in (None, "wrong-key"):
            with pytest.raises(BaseException) as failed, connect(partial(http_streams, url, wrong)):
                pass
            assert any(isinstance(leaf, MCPError) for leaf in leaves(failed.value))

        with connect(lambda: http_streams(url, API_KEY)) as client:
            result = client.call_tool("list_documents")
        assert not result.is_error


def test_mcp_fields_returns_the_map_as_text_and_the_fieldmap_object(
    mcp: SyncMCP, seed_service: QAService
) -> None:
    result = mcp.call_tool("fields", {"actors": ["Korea"], "fields": ["hydrogen"]})
    assert not result.is_error
    field_map = FieldMap.model_validate(result.structured_content)
    assert field_map == seed_service.fields(actors=["Korea"], fields=["hydrogen"])
    assert [(c.actor, c.field) for c in field_map.cells] == [("kor", "hydrogen")]
    assert "hydrogen economy standards forum" in text_of(result)
    bad = mcp.call_tool("fields", {"fields": ["no_such_field"]})
    assert bad.is_error and "Unknown field id" in text_of(bad)
