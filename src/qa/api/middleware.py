"""ASGI middleware of the HTTP service: request ids, access log, metrics, the last-resort
500, and the optional bearer-token check.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.api.errors import error_response
from qa.api.metrics import HTTPMetrics
from qa.logs import ACCESS_LOGGER

logger = logging.getLogger(__name__)
access_logger = logging.getLogger(ACCESS_LOGGER)

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def _request_id(scope: Scope) -> str:
    incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    return incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _route_label(scope: Scope) -> str:
    # The route template, not the raw path, keeps metric labels bounded.
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    """Outermost layer: tags every response with a request id, logs it as one JSON line,
    records metrics, and turns an unexpected exception into the canonical 500.
    """

    def __init__(self, app: ASGIApp, *, metrics: HTTPMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # The single place an unexpected error is logged; the client never sees a traceback.
            logger.exception(
                "Unhandled error on %s %s (request %s)", scope["method"], scope["path"], request_id
            )
            if started:
                raise
            response = error_response(
                500,
                "internal_error",
                f"Internal server error; the server log has details (request id {request_id}).",
            )
            await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            route = _route_label(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            self._log(scope, request_id, route, status, seconds)

    @staticmethod
    def _log(scope: Scope, request_id: str, route: str, status: int, seconds: float) -> None:
        if not access_logger.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client": client[0] if client else None,
        }
        access_logger.info(json.dumps(record))


class BearerAuthMiddleware:
    """Requires `Authorization: Bearer <api_key>` on every path except `public_paths`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_key: str,
        public_paths: frozenset[str],
        public_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self._key = api_key.encode()
        self.public_paths = public_paths
        self.public_prefixes = public_prefixes

    def _is_public(self, path: str) -> bool:
        return path in self.public_paths or path.startswith(self.public_prefixes)

    def _is_authorised(self, scope: Scope) -> bool:
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        # Header values arrive latin-1 decoded: re-encode to the raw bytes the client sent.
        # compare_digest takes the same time wherever the two values differ.
        given = token.strip().encode("latin-1")
        return scheme.lower() == "bearer" and hmac.compare_digest(given, self._key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or self._is_public(scope["path"])
            or self._is_authorised(scope)
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = error_response(
            401,
            "unauthorized",
            "Missing or wrong API key; send the header `Authorization: Bearer <key>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


class BodyTooLargeError(HTTPException):
    """Raised from `receive` once a streamed body passes its limit.

    An `HTTPException`, so FastAPI's body parsing lets it through to the error handlers
    instead of turning it into a generic 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over the {limit}-byte limit.")
        self.limit = limit


class BodyLimitMiddleware:
    """413 for bodies over `max_bytes` (or a per-route limit in `limits`, keyed by
    method and path): refused up front on Content-Length, and counted as a chunked body
    streams in, so an oversized body is never read into memory.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, limits: Mapping[tuple[str, str], int]
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get((scope["method"], scope["path"]), self.max_bytes)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLargeError:
            # Reached only from apps without FastAPI's handlers, e.g. a mounted sub-app.
            if started:
                raise
            await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> JSONResponse:
    return error_response(
        413, "payload_too_large", f"The request body is over the {limit}-byte limit."
    )
