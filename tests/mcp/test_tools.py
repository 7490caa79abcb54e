"""Tool definitions (`qa tools --format openai|mcp`) and the text renderings chat models read."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from mcp.types import Tool

from qa.mcp.server import tool_definitions
from qa.mcp.tools import TOOL_NAMES
from qa.models import Answer, Citation, Hit
from qa.plaintext import render_answer

EXPECTED_REQUIRED = {
    "ask": ["question"],
    "search": ["query"],
    "get_passage": ["passage_id"],
    "list_documents": [],
    "fields": [],
}


def _citation(n: int, quote: str, page: int | None = None) -> Citation:
    return Citation(
        n=n,
        passage_id=f"p{n}",
        document="doc",
        title="Cooperation",
        source="doc.txt",
        page=page,
        start=0,
        end=len(quote),
        quote=quote,
        text=quote,
        score=0.9,
    )


def _hit(rank: int, text: str) -> Hit:
    return Hit(
        rank=rank,
        passage_id=f"h{rank}",
        document="doc",
        title="Cooperation",
        source="doc.txt",
        page=None,
        start=0,
        end=len(text),
        text=text,
        score=0.1,
    )


@pytest.mark.parametrize("fmt", ["openai", "mcp"])
def test_tools_definitions_are_json_serialisable_with_the_four_names(fmt: str) -> None:
    definitions = tool_definitions(fmt)  # type: ignore[arg-type]

    json.loads(json.dumps(definitions))
    names = [d["function"]["name"] if fmt == "openai" else d["name"] for d in definitions]
    assert names == list(TOOL_NAMES)


def test_tools_openai_format_is_valid_function_calling_schema() -> None:
    for definition in tool_definitions("openai"):
        assert definition["type"] == "function"
        function = definition["function"]
        assert set(function) == {"name", "description", "parameters"}
        assert function["description"].strip()
        parameters = function["parameters"]
        Draft202012Validator.check_schema(parameters)
        assert parameters["type"] == "object"
        assert parameters.get("required", []) == EXPECTED_REQUIRED[function["name"]]


def test_tools_mcp_format_validates_as_mcp_tools_with_output_schemas() -> None:
    for definition in tool_definitions("mcp"):
        tool = Tool.model_validate(definition)
        Draft202012Validator.check_schema(tool.input_schema)
        assert tool.output_schema is not None
        Draft202012Validator.check_schema(tool.output_schema)
        assert tool.annotations is not None and tool.annotations.read_only_hint
        assert tool.input_schema.get("required", []) == EXPECTED_REQUIRED[tool.name]


def test_tools_ask_output_schema_is_the_answer_model() -> None:
    ask = next(d for d in tool_definitions("mcp") if d["name"] == "ask")

    assert set(ask["outputSchema"]["properties"]) == set(Answer.model_fields)
    validator = Draft202012Validator(ask["outputSchema"])
    answer = Answer(
        question="q", answered=True, answer="a [1]", citations=[_citation(1, "a")], confidence=1
    )
    validator.validate(answer.model_dump(mode="json"))


def test_tools_ask_description_tells_the_model_how_to_use_answers() -> None:
    ask = next(d for d in tool_definitions("openai") if d["function"]["name"] == "ask")
    description = ask["function"]["description"]

    assert "[n]" in description
    assert "`answered` is false" in description
    assert "do not invent" in description
    assert "suggestions" in description


def test_tools_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="openai"):
        tool_definitions("yaml")  # type: ignore[arg-type]


def test_tools_render_answer_lists_numbered_sources_with_page_and_quote() -> None:
    answer = Answer(
        question="q",
        answered=True,
        answer="Korea set up a forum [1]. It meets yearly [2].",
        citations=[
            _citation(1, "Korea set up a forum.", page=3),
            _citation(2, "It meets\nyearly."),
        ],
        confidence=0.8,
    )

    assert render_answer(answer) == (
        "Korea set up a forum [1]. It meets yearly [2].\n"
        "\n"
        "Sources:\n"
        '[1] Cooperation, p. 3 — "Korea set up a forum."\n'
        '[2] Cooperation — "It meets yearly."'
    )


def test_tools_render_answer_shows_a_caution_before_the_sources() -> None:
    caution = "The document the question names (acme.pdf) does not say; this answer quotes …"
    answer = Answer(
        question="q",
        answered=True,
        answer="Net income rose [1].",
        citations=[_citation(1, "Net income rose.")],
        caution=caution,
    )
    lines = render_answer(answer).splitlines()
    assert lines[:3] == ["Net income rose [1].", f"Caution: {caution}", ""]
    assert "Caution" not in render_answer(answer.model_copy(update={"caution": None}))


def test_tools_render_answer_abstention_labels_suggestions_as_not_answering() -> None:
    answer = Answer(
        question="q",
        answered=False,
        answer="",
        suggestions=[_hit(1, "Batteries are mentioned here."), _hit(2, "x " * 400)],
    )

    text = render_answer(answer)

    assert text.startswith("The indexed documents do not answer this question.")
    assert "Closest passages (they do not answer the question):" in text
    assert '1. Cooperation — "Batteries are mentioned here."' in text
    assert text.endswith('…"')
    assert "Sources:" not in text


def test_tools_errors_give_remedies_in_mcp_terms(seed_service) -> None:  # type: ignore[no-untyped-def]
    from mcp.server.mcpserver.exceptions import ToolError

    from qa.mcp.tools import QATools, ServiceSlot

    tools = QATools(ServiceSlot(seed_service))
    with pytest.raises(ToolError) as unknown_document:
        tools.search("hydrogen", documents=["no-such-document"])
    assert "`list_documents` tool" in str(unknown_document.value)
    assert "qa status" not in str(unknown_document.value)
    with pytest.raises(ToolError) as unknown_passage:
        tools.get_passage("no-such-passage")
    assert "`search` hits" in str(unknown_passage.value)
