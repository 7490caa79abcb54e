"""The OpenAI-compatible endpoint through the official `openai` client against a running
server: the model list, plain and streamed completions whose citations arrive whole,
and OpenAI's error shape (bad bodies, unknown model, API key)."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from conftest import API_KEY
from openai import OpenAI

from qa.models import Answer, Citation
from qa.plaintext import render_answer
from qa.service import QAService

pytestmark = pytest.mark.e2e

QUESTION = "What forum did Korea set up for hydrogen?"
OFF_TOPIC = "Which company sells the most solid-state batteries?"


@pytest.fixture
def client(base_url: str) -> OpenAI:
    # Without QA_API_KEY set, any key is accepted; the client insists on one.
    return OpenAI(base_url=f"{base_url}/v1", api_key="unused", timeout=120, max_retries=0)


def ask(client: OpenAI, content: Any, **extra: Any) -> Any:
    return client.chat.completions.create(
        model="qa", messages=[{"role": "user", "content": content}], **extra
    )


def assert_openai_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    return dict(error)


# -- models and completions -----------------------------------------------------------------


def test_openai_models_list_has_the_one_model_qa(client: OpenAI) -> None:
    models = client.models.list()

    assert [model.id for model in models.data] == ["qa"]
    assert client.models.list().data[0].object == "model"


def test_openai_chat_completion_carries_answer_sources_and_structured_citations(
    client: OpenAI, seed_service: QAService
) -> None:
    expected = seed_service.ask(QUESTION)

    response = ask(client, QUESTION, temperature=0.2, max_tokens=500, user="tester")

    assert response.object == "chat.completion"
    assert response.model == "qa"
    choice = response.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    content = choice.message.content or ""
    assert content == render_answer(expected)
    assert "hydrogen economy standards forum" in content.lower()
    assert "\nSources:\n[1] " in content
    extra = response.model_extra or {}
    assert Answer.model_validate(extra["answer"]) == expected
    citations = [Citation.model_validate(c) for c in extra["citations"]]
    assert citations == expected.citations
    assert citations
    for citation in citations:
        assert f"[{citation.n}] {citation.title}" in content


def test_openai_streaming_concatenates_to_the_plain_content_then_sends_citations(
    client: OpenAI,
) -> None:
    plain = ask(client, QUESTION)

    chunks = list(ask(client, QUESTION, stream=True, stream_options={"include_usage": True}))

    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    content_chunks = [c for c in chunks if c.choices]
    assert content_chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(c.choices[0].delta.content or "" for c in content_chunks)
    assert streamed == plain.choices[0].message.content
    assert len(content_chunks) > 5  # streamed in pieces, not in one block
    last = content_chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in content_chunks[:-1])
    extra = last.model_extra or {}
    assert extra["citations"] == (plain.model_extra or {})["citations"]
    assert Answer.model_validate(extra["answer"]).answered
    assert chunks[-1].usage is not None and not chunks[-1].choices


def test_openai_off_topic_question_is_not_answered(client: OpenAI) -> None:
    response = ask(client, OFF_TOPIC)

    answer = Answer.model_validate((response.model_extra or {})["answer"])
    assert not answer.answered
    assert (response.model_extra or {})["citations"] == []
    assert "Sources:" not in (response.choices[0].message.content or "")


def test_openai_answers_the_last_user_message_of_a_conversation(client: OpenAI) -> None:
    response = client.chat.completions.create(
        model="qa",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the EU doing about batteries?"},
            {"role": "assistant", "content": "Something about batteries."},
            {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
        ],
    )

    answer = Answer.model_validate((response.model_extra or {})["answer"])
    assert answer.question == QUESTION
    assert "hydrogen economy standards forum" in answer.answer.lower()


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": "qa", "messages": [{"role": "system", "content": "x"}]}, 400, "messages"),
        ({"model": "qa", "messages": []}, 400, "messages"),
        ({"model": "qa", "messages": "hello"}, 400, "messages"),
        ({"messages": [{"role": "user", "content": QUESTION}]}, 400, "model"),
        ({"model": "qa", "messages": [{"role": "user", "content": "  "}]}, 400, "messages"),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, 404, "model"),
    ],
)
def test_openai_bad_requests_get_openai_error_bodies(
    base_url: str, body: dict[str, Any], status: int, param: str
) -> None:
    response = httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=60)

    error = assert_openai_error(response, status)
    assert error["type"] == "invalid_request_error"
    assert error["param"] is not None and error["param"].startswith(param)


def test_openai_malformed_json_is_a_400_in_openai_shape(base_url: str) -> None:
    response = httpx.post(
        f"{base_url}/v1/chat/completions",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )

    assert_openai_error(response, 400)


def test_openai_client_raises_typed_errors(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="qa", messages=[{"role": "system", "content": "x"}])
    assert bad.value.type == "invalid_request_error"
    assert bad.value.param == "messages"

    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert missing.value.code == "model_not_found"


def test_openai_api_key_is_required_when_set(keyed_url: str) -> None:
    wrong = OpenAI(base_url=f"{keyed_url}/v1", api_key="wrong-key", max_retries=0)
    right = OpenAI(base_url=f"{keyed_url}/v1", api_key=API_KEY, max_retries=0)

    with pytest.raises(openai.AuthenticationError) as refused:
        wrong.models.list()
    assert refused.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="qa", messages=[{"role": "user", "content": "x"}])

    assert [m.id for m in right.models.list().data] == ["qa"]
    error = assert_openai_error(httpx.get(f"{keyed_url}/v1/models"), 401)
    assert error["type"] == "authentication_error"
    # The rest of the service keeps its own canonical error body.
    assert set(httpx.get(f"{keyed_url}/documents").json()["error"]) == {"code", "message", "detail"}
