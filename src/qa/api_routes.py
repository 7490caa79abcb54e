"""HTTP routes over `QAService`: ask, search, documents, passages, health and metrics.

Request models are built per app from `Settings`, so the limits they enforce (and
document in OpenAPI) follow `max_question_chars` and `max_k`.
"""

# No `from __future__ import annotations` in this module, on purpose: FastAPI evaluates
# route annotations at runtime against module globals only, and the request models are
# local to `build_router` because their limits come from the settings.

from typing import Annotated, cast

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from qa.api_errors import APIError, error_responses
from qa.api_metrics import METRICS_CONTENT_TYPE, HTTPMetrics
from qa.config import Settings
from qa.models import (
    Answer,
    DocumentDetail,
    DocumentInfo,
    IndexInfo,
    IngestReport,
    PassageDetail,
    SearchResult,
)
from qa.service import QAService

# A question must contain something besides whitespace.
_NOT_BLANK = r"\S"


class _RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("k", mode="before", check_fields=False)
    @classmethod
    def _json_integer(cls, value: object) -> object:
        # JSON Schema's integer: 5 and 5.0, not true or "5" (pydantic's lax mode takes both).
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError("Input should be a valid integer")
        return value


def get_service(request: Request) -> QAService:
    """The app's one `QAService`; a dependency other routers (e.g. `/v1`) can reuse."""
    return cast(QAService, request.app.state.service)


ServiceDep = Annotated[QAService, Depends(get_service)]


class Health(BaseModel):
    status: str = Field("ok", description="Always `ok` while the process serves requests.")


class Readiness(BaseModel):
    ready: bool = Field(description="True when the index is loaded and queries can run.")
    index: IndexInfo


def build_router(settings: Settings) -> APIRouter:
    """The question-service routes, with request limits taken from `settings`."""
    router = APIRouter()
    max_chars, max_k = settings.max_question_chars, settings.max_k

    class AskRequest(_RequestBody):
        question: str = Field(min_length=1, max_length=max_chars, pattern=_NOT_BLANK)
        k: int | None = Field(None, ge=1, le=max_k, description="Passages to retrieve.")
        documents: list[str] | None = Field(
            None, max_length=10_000, description="Only use these document ids."
        )

    class SearchRequest(_RequestBody):
        query: str = Field(min_length=1, max_length=max_chars, pattern=_NOT_BLANK)
        k: int | None = Field(None, ge=1, le=max_k, description="Passages to return.")
        documents: list[str] | None = Field(
            None, max_length=10_000, description="Only search these document ids."
        )

    @router.post(
        "/ask",
        response_model=Answer,
        tags=["questions"],
        responses=error_responses(400, 401, 404, 413, 422, 503),
    )
    async def ask(body: AskRequest, service: ServiceDep) -> Answer:
        """Answer a question with sentences quoted from the corpus and their citations,
        or abstain (`answered: false`) with the closest passages as suggestions."""
        return await run_in_threadpool(
            service.ask, body.question, k=body.k, documents=body.documents
        )

    @router.get(
        "/search",
        response_model=SearchResult,
        tags=["questions"],
        responses=error_responses(401, 422, 503),
    )
    async def search_get(
        service: ServiceDep,
        q: Annotated[str, Query(min_length=1, max_length=max_chars, pattern=_NOT_BLANK)],
        k: Annotated[int | None, Query(ge=1, le=max_k)] = None,
    ) -> SearchResult:
        """The top-`k` passages for the query `q` (hybrid dense + BM25 retrieval)."""
        return await run_in_threadpool(service.search, q, k=k)

    @router.post(
        "/search",
        response_model=SearchResult,
        tags=["questions"],
        responses=error_responses(400, 401, 404, 413, 422, 503),
    )
    async def search_post(body: SearchRequest, service: ServiceDep) -> SearchResult:
        """The top-`k` passages for `query`, optionally within some documents."""
        return await run_in_threadpool(
            service.search, body.query, k=body.k, documents=body.documents
        )

    @router.get(
        "/documents",
        response_model=list[DocumentInfo],
        tags=["documents"],
        responses=error_responses(401, 503),
    )
    async def list_documents(service: ServiceDep) -> list[DocumentInfo]:
        """Every indexed document with its page, passage count and content hash."""
        return await run_in_threadpool(service.documents)

    @router.get(
        "/documents/{document_id}",
        response_model=DocumentDetail,
        tags=["documents"],
        responses=error_responses(401, 404, 503),
    )
    async def get_document(document_id: str, service: ServiceDep) -> DocumentDetail:
        """One document with its normalised text."""
        return await run_in_threadpool(service.document, document_id)

    @router.get(
        "/passages/{passage_id}",
        response_model=PassageDetail,
        tags=["documents"],
        responses=error_responses(401, 404, 503),
    )
    async def get_passage(passage_id: str, service: ServiceDep) -> PassageDetail:
        """One passage with its offsets and the ids of its neighbours."""
        return await run_in_threadpool(service.passage, passage_id)

    @router.post(
        "/documents",
        status_code=201,
        response_model=IngestReport,
        tags=["documents"],
        responses=error_responses(400, 401, 413, 415, 422, 503),
    )
    async def upload_document(
        file: Annotated[UploadFile, File(description="A .txt, .md, .html or .pdf file.")],
        service: ServiceDep,
    ) -> IngestReport:
        """Store the file in the corpus under its (checked) name and index it; the new
        index is swapped in without downtime."""
        limit = settings.max_upload_bytes
        content = await file.read(limit + 1)
        if len(content) > limit:
            raise APIError(413, "payload_too_large", f"The upload exceeds the {limit}-byte limit.")
        return await run_in_threadpool(service.add_document, file.filename or "", content)

    @router.delete(
        "/documents/{document_id}",
        response_model=IngestReport,
        tags=["documents"],
        responses=error_responses(401, 404, 503),
    )
    async def delete_document(document_id: str, service: ServiceDep) -> IngestReport:
        """Delete the document's file from the corpus and drop it from the index."""
        return await run_in_threadpool(service.remove_document, document_id)

    @router.get("/healthz", response_model=Health, tags=["operations"])
    async def healthz() -> Health:
        """Liveness: the process is up. Never requires the API key."""
        return Health()

    @router.get(
        "/readyz",
        response_model=Readiness,
        tags=["operations"],
        responses=error_responses(401, 503),
    )
    async def readyz(service: ServiceDep) -> Readiness:
        """Readiness: the index is loaded (503 until `qa ingest` has built one)."""
        status = await run_in_threadpool(service.load)
        return Readiness(ready=True, index=status)

    @router.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus metrics."}},
    )
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: requests, latency, passage count and index version."""
        registry = cast(HTTPMetrics, request.app.state.metrics)
        body = await run_in_threadpool(registry.render)
        return Response(body, media_type=METRICS_CONTENT_TYPE)

    return router


__all__ = ["Health", "Readiness", "ServiceDep", "build_router", "get_service"]
