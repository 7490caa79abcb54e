"""The HTTP service: `create_app` builds the FastAPI app around one `QAService`, and
`serve` runs it under uvicorn. Routes live in `routes/`, the error mapping in `errors`,
request ids, logging and auth in `middleware`, metrics in `metrics`, `/v1` in `openai`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from qa import version as qa_version
from qa.api.errors import install_error_handlers
from qa.api.metrics import HTTPMetrics
from qa.api.middleware import (
    REQUEST_ID_HEADER,
    BearerAuthMiddleware,
    BodyLimitMiddleware,
    RequestContextMiddleware,
)
from qa.api.openai import OpenAIErrorMiddleware, create_openai_router
from qa.api.routes import build_router
from qa.config import Settings, load_settings
from qa.errors import IndexStoreError
from qa.logs import configure_logging
from qa.mcp.server import create_mcp_http_app
from qa.service import QAService

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).parent / "web"
# Paths served without the API key: liveness probes must not need a secret.
# The web page shell and its assets hold no corpus data; the page asks for the key
# itself when a data route answers 401.
PUBLIC_PATHS = frozenset({"/healthz", "/"})
PUBLIC_PREFIXES = ("/static/",)
# Room for the multipart framing around an upload of `max_upload_bytes`.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

Lifespan = Callable[[], AbstractAsyncContextManager[None]]

# How long an idle keep-alive connection stays open. It must outlast the clients' pool
# expiry (httpx and the OpenAI SDK: 5 s, aiohttp: 15 s): with uvicorn's default of 5 s a
# client may send its next request on a connection the server is closing, which fails
# with a read error under load, when the client reads each response late.
KEEP_ALIVE_SECONDS = 75


def create_app(settings: Settings, *, service: QAService | None = None) -> FastAPI:
    """The HTTP app serving `service` (by default a new `QAService(settings)`).

    The index and model load once, in the lifespan, not here. A missing index does not
    stop the server: `/healthz` stays up, and other routes answer 503 `index_not_found`
    until `qa ingest` has built one (which is then picked up without a restart).
    """
    service = service or QAService(settings)
    # Async context managers entered for the app's lifetime (e.g. the MCP session manager).
    lifespans: list[Lifespan] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(service.warm)
            status = service.info()
            logger.info(
                "Index loaded: %d documents, %d passages.",
                status.documents,
                status.passage_count,
            )
        except IndexStoreError as exc:
            logger.warning("Serving without an index: %s", exc)
        async with AsyncExitStack() as stack:
            for enter in lifespans:
                await stack.enter_async_context(enter())
            yield

    app = FastAPI(
        title="qa",
        version=qa_version(),
        summary="Ask questions about a folder of documents; answers cite their sources.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.metrics = metrics = HTTPMetrics(service)
    app.state.lifespans = lifespans
    install_error_handlers(app)
    app.include_router(build_router(settings))

    # ---- The other surfaces (they reuse `app.state.service`) ---------------------------
    # OpenAI-compatible routes, all under /v1:
    app.include_router(create_openai_router())
    # MCP streamable HTTP at /mcp; its session manager must run for the app's lifetime:
    mcp_app, mcp_lifespan = create_mcp_http_app(
        service, host=settings.host, log_level=settings.log_level
    )
    app.router.routes.append(Route("/mcp", mcp_app, methods=["GET", "POST", "DELETE"]))
    lifespans.append(mcp_lifespan)
    # ------------------------------------------------------------------------------------

    _mount_web(app)

    # Middleware: the last added runs first. Request ids and logging wrap everything,
    # CORS answers preflights before auth, auth guards all but PUBLIC_PATHS, and no
    # body over its limit reaches a route (uploads have their own, larger limit).
    upload_limit = settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        limits={("POST", "/documents"): max(upload_limit, settings.max_request_bytes)},
    )
    if settings.api_key:
        app.add_middleware(
            BearerAuthMiddleware,
            api_key=settings.api_key,
            public_paths=PUBLIC_PATHS,
            public_prefixes=PUBLIC_PREFIXES,
        )
    # OpenAI's error shape on /v1, also for the auth check's 401 (so it wraps that).
    app.add_middleware(OpenAIErrorMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


def _mount_web(app: FastAPI) -> None:
    """Serve the web page at `/` and its assets at `/static`, when they are installed."""
    index = WEB_DIR / "index.html"
    if not index.is_file():
        return

    @app.get("/", include_in_schema=False)
    async def web_page() -> FileResponse:
        return FileResponse(index)

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")


def app_from_env() -> FastAPI:
    """App factory for uvicorn workers (`qa.api.app:app_from_env`, factory=True): settings
    come from the `QA_*` environment, which `serve` fills in before forking."""
    settings = load_settings()
    configure_logging(settings.log_level, access_log=True)
    return create_app(settings)


def settings_environ(settings: Settings) -> dict[str, str | None]:
    """`settings` as `QA_*` variables (None: unset), so worker processes rebuild them."""
    environ: dict[str, str | None] = {}
    for name, value in settings.model_dump(mode="json").items():
        key = f"QA_{name.upper()}"
        if value is None:
            environ[key] = None
        elif isinstance(value, list | dict):
            environ[key] = json.dumps(value)
        else:
            environ[key] = str(value)
    return environ


def startup_line(settings: Settings) -> str:
    """The one line `qa serve` prints: where each surface is, and whether a key is needed."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    base = f"http://{host}:{settings.port}"
    key = "API key required (QA_API_KEY)" if settings.api_key else "no API key required"
    return (
        f"qa serving {base}/ (web page) · {base}/docs (HTTP API) · {base}/v1 (OpenAI) · "
        f"{base}/mcp (MCP) · {key}"
    )


def serve(settings: Settings, *, workers: int = 1) -> None:
    """Run the HTTP service under uvicorn on `settings.host:settings.port` until stopped.

    With `workers > 1` each worker process builds its own app (and loads its own copy
    of the model and index) from the `QA_*` environment.
    """
    import uvicorn

    configure_logging(settings.log_level, access_log=True)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "access_log": False,  # qa.access logs every request as JSON instead
        "server_header": False,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }
    if workers > 1:
        for key, value in settings_environ(settings).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        uvicorn.run("qa.api.app:app_from_env", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
