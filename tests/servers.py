"""A real uvicorn server on a free loopback port, in a background thread, for tests.

    with running_server(settings) as base_url:
        httpx.get(f"{base_url}/healthz")

Reused by the HTTP, MCP, OpenAI-compatible and browser tests.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn

from qa.config import Settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from qa.service import QAService


@contextmanager
def running_server(
    target: Settings | ASGIApp,
    *,
    service: QAService | None = None,
    startup_timeout: float = 120.0,
    log_level: str = "warning",
) -> Iterator[str]:
    """Serve `target` (an ASGI app, or `Settings` for `create_app(settings, service=...)`)
    on 127.0.0.1 and yield its base URL, e.g. `http://127.0.0.1:54321`.

    The listening socket is bound before the server starts, so there is no race for the
    port. The lifespan runs, so the app loads its index as in production. On exit the
    server shuts down gracefully (requests in flight finish).
    """
    from qa.api.app import KEEP_ALIVE_SECONDS

    if isinstance(target, Settings):
        from qa.api.app import create_app

        app: ASGIApp = create_app(target, service=service)
    else:
        app = target

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,  # as `qa serve` runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("The test server failed to start; see the log above.")
            if time.monotonic() > deadline:
                raise TimeoutError(f"The test server did not start in {startup_timeout} s.")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def assert_error_body(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """Check `response` carries the canonical error body; return its `error` object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "detail"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in response.text
    if code is not None:
        assert error["code"] == code, error
    return error
