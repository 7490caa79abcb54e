"""HTTP errors: the one canonical body `{"error": {"code", "message", "detail"}}` and
the single place where `QAError`s, validation errors and HTTP errors become responses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from qa.errors import QAError, RemedyKey

logger = logging.getLogger(__name__)

# Status of each `QAError.code`; subclasses without an entry use their parent's.
STATUS_BY_CODE: dict[str, int] = {
    "bad_query": 422,
    "not_found": 404,
    "index_error": 503,
    "index_not_found": 503,
    "index_mismatch": 503,
    "corpus_error": 400,
    "document_parse_error": 400,
    "unsupported_format": 415,
    "config_error": 500,
    "qa_error": 500,
}

# Remedies in HTTP terms (see `QAError.explain`).
REMEDIES: dict[RemedyKey, str] = {
    "list_documents": "List documents with `GET /documents`.",
    "find_passage": "Use a `passage_id` from `GET /search` hits or `POST /ask` citations.",
    "build_index": "Run `qa ingest` on the server, or add a document with `POST /documents`.",
}

# Codes for errors raised by Starlette/FastAPI themselves, by status.
CODE_BY_STATUS: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
    503: "unavailable",
}


class ErrorInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="Stable machine-readable error code, e.g. `bad_query`.")
    message: str = Field(description="Human-readable explanation, with a remedy when known.")
    detail: Any = Field(None, description="Structured extra information, or null.")


class ErrorBody(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorInfo


class APIError(Exception):
    """A failure that only exists over HTTP (size limits, auth), with its status and code."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = dict(headers or {})


def error_response(
    status_code: int,
    code: str,
    message: str,
    *,
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON response carrying the canonical error body."""
    body = {"error": {"code": code, "message": message, "detail": detail}}
    return JSONResponse(body, status_code=status_code, headers=dict(headers or {}))


def status_for(exc: QAError) -> int:
    """HTTP status for a core error, looked up by `code` along the class hierarchy."""
    for cls in type(exc).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and code in STATUS_BY_CODE:
            return STATUS_BY_CODE[code]
    return 500


def _qa_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QAError)
    status_code = status_for(exc)
    if status_code >= 500 and status_code != 503:
        logger.error("%s on %s %s: %s", exc.code, request.method, request.url.path, exc)
    remedy = exc.remedy_in(REMEDIES)
    detail = {"remedy": remedy} if remedy else None
    return error_response(status_code, exc.code, exc.explain(REMEDIES), detail=detail)


def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return error_response(
        exc.status_code, exc.code, exc.message, detail=exc.detail, headers=exc.headers
    )


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Never echo the input back: it can be large, and `ctx` may not be JSON-serialisable.
    problems = [
        {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": err.get("type")}
        for err in exc.errors()
    ]
    if any(p["type"] == "json_invalid" for p in problems):
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if any(p["loc"] == ["body"] for p in problems) and not _is_json(media_type):
        # The body was never parsed: FastAPI only reads JSON sent as JSON.
        got = f"`{media_type}`" if media_type else "no content type"
        return error_response(
            415,
            "unsupported_media_type",
            f"The request body must be JSON, sent with `Content-Type: application/json` "
            f"(got {got}).",
            detail={"expected": "application/json", "received": media_type or None},
        )
    first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"]) or "request"
    return error_response(
        422, "invalid_request", f"Invalid {where}: {first['msg']}.", detail=problems
    )


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = CODE_BY_STATUS.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = f"No route {request.method} {request.url.path}."
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
        allowed = _allowed_methods(request)
        if allowed:
            return error_response(
                405, code, message, headers={**(exc.headers or {}), "Allow": allowed}
            )
    elif exc.status_code == 400 and message == "There was an error parsing the body":
        message = "The request body could not be parsed."
    return error_response(exc.status_code, code, message, headers=exc.headers)


def _allowed_methods(request: Request) -> str:
    # Starlette names only the first route matching the path; ask every route, per method.
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every expected failure into the canonical body.

    Unexpected exceptions are turned into a 500 by the request middleware, which
    also logs them; see `qa.api.middleware`.
    """
    app.add_exception_handler(QAError, _qa_error)
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error body for `statuses`."""
    return {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses
    }


_DESCRIPTIONS = {
    400: "Malformed request (invalid JSON, unsafe file name).",
    401: "Missing or wrong API key.",
    404: "Unknown document or passage id.",
    413: "Request body or upload too large.",
    415: "Unsupported document type, or a body not sent as `application/json`.",
    422: "Invalid parameters (empty question, `k` out of range, unknown field).",
    503: "No index loaded yet: run `qa ingest`.",
}
