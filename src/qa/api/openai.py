"""OpenAI-compatible routes (`/v1/models`, `/v1/chat/completions`) so chat UIs can use
`qa` as a model, and the middleware that gives every `/v1` error OpenAI's error shape.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.api.errors import APIError
from qa.models import Answer
from qa.plaintext import render_answer

if TYPE_CHECKING:
    from qa.service import QAService

MODEL_ID = "qa"
OPENAI_PREFIX = "/v1"
_CREATED = int(time.time())


# -- request bodies: the fields `qa` reads; anything else OpenAI clients send is accepted --


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str = Field(description="`user` messages are answered; others are ignored.")
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        parts = self.content or []
        return "\n".join(p.text for p in parts if p.type == "text" and p.text)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """An OpenAI chat completion request; only the last user message is answered."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description=f"Must be `{MODEL_ID}`.")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None


# -- responses --------------------------------------------------------------------------


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def _structured(answer: Answer) -> dict[str, Any]:
    """The fields that carry the citations in machine-readable form."""
    dumped = answer.model_dump(mode="json")
    return {"citations": dumped["citations"], "answer": dumped}


def completion_body(answer: Answer) -> dict[str, Any]:
    """A `chat.completion` whose message is the rendered answer and its numbered sources,
    with the whole `Answer` (citations included) beside it as structured data."""
    return {
        "id": _completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": render_answer(answer)},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        **_structured(answer),
    }


def _pieces(text: str) -> list[str]:
    """Word-sized pieces of `text` whose concatenation is exactly `text`."""
    return [piece for piece in re.split(r"(?<=\s)(?=\S)", text) if piece]


async def stream_completion(answer: Answer, *, include_usage: bool = False) -> AsyncIterator[str]:
    """SSE events of `chat.completion.chunk`s: the role, the content word by word, a last
    chunk with `finish_reason` and the structured citations, then `[DONE]`."""
    base = {
        "id": _completion_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL_ID,
    }

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return f"data: {json.dumps({**base, 'choices': [choice], **extra})}\n\n"

    yield event({"role": "assistant", "content": ""})
    for piece in _pieces(render_answer(answer)):
        yield event({"content": piece})
    yield event({}, "stop", **_structured(answer))
    if include_usage:
        # qa runs no language model, so there are no tokens to count.
        usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"


def _last_user_text(messages: list[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.text()
    raise APIError(
        400,
        "invalid_request",
        "The request has no user message to answer.",
        detail={"param": "messages"},
    )


def create_openai_router() -> APIRouter:
    """The `/v1` routes; they use the app's `QAService` from `request.app.state.service`."""
    router = APIRouter(prefix=OPENAI_PREFIX, tags=["openai"])

    @router.get("/models", summary="List the one model, `qa`")
    async def list_models() -> dict[str, Any]:
        model = {"id": MODEL_ID, "object": "model", "created": _CREATED, "owned_by": "qa"}
        return {"object": "list", "data": [model]}

    @router.post(
        "/chat/completions",
        summary="Answer the last user message, with citations",
        response_model=None,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def chat_completions(
        body: ChatCompletionRequest, request: Request
    ) -> JSONResponse | StreamingResponse:
        if body.model != MODEL_ID:
            raise APIError(
                404,
                "model_not_found",
                f"The model {body.model!r} does not exist; use {MODEL_ID!r}.",
                detail={"param": "model"},
            )
        question = _last_user_text(body.messages)
        service: QAService = request.app.state.service
        answer = await run_in_threadpool(service.ask, question)
        if not body.stream:
            return JSONResponse(completion_body(answer))
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            stream_completion(answer, include_usage=include_usage),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


# -- errors -----------------------------------------------------------------------------


def openai_error(
    message: str, *, type: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's error body."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def _error_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def _param(detail: Any) -> str | None:
    if isinstance(detail, dict) and isinstance(detail.get("param"), str):
        return str(detail["param"])
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        loc = [str(part) for part in detail[0].get("loc", []) if part != "body"]
        return ".".join(loc) or None
    return None


def to_openai_error(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Translate the service's canonical error body into OpenAI's shape and status."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return status, openai_error("Request failed.", type=_error_type(status))
    if "type" in error:  # already OpenAI-shaped
        return status, body
    code = error.get("code")
    param = _param(error.get("detail"))
    if code in ("bad_query", "invalid_request"):
        # OpenAI reports every invalid request as 400; the question is the last message.
        status, param = 400, param or "messages"
    if status == 401:
        code = "invalid_api_key"
    message = str(error.get("message") or "Request failed.")
    return status, openai_error(message, type=_error_type(status), code=code, param=param)


class OpenAIErrorMiddleware:
    """Rewrites error responses under `/v1` into OpenAI's shape, whoever produced them
    (auth, routing, size limits, the routes themselves). Put it outside the auth check."""

    def __init__(self, app: ASGIApp, *, prefix: str = OPENAI_PREFIX) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def send_translated(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                content_type = MutableHeaders(scope=message).get("content-type", "")
                if message["status"] >= 400 and content_type.startswith("application/json"):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await self._send_error(held, b"".join(chunks), send)
                return
            await send(message)

        await self.app(scope, receive, send_translated)

    @staticmethod
    async def _send_error(start: Message, raw: bytes, send: Send) -> None:
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        status, translated = to_openai_error(start["status"], body)
        payload = json.dumps(translated).encode()
        headers = MutableHeaders(scope=start)
        headers["content-length"] = str(len(payload))
        await send({**start, "status": status})
        await send({"type": "http.response.body", "body": payload})
