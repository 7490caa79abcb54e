"""Question routes: `POST /ask`, `GET /search` and `POST /search`.

Request models are built per app from `Settings`, so the limits they enforce (and
document in OpenAPI) follow `max_question_chars` and `max_k`.
"""

# No `from __future__ import annotations` in this module, on purpose: FastAPI evaluates
# route annotations at runtime against module globals only, and the request models are
# local to `questions_router` because their limits come from the settings.

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from qa.api.deps import NOT_BLANK, RequestBody, ServiceDep
from qa.api.errors import error_responses
from qa.config import Settings
from qa.models import Answer, SearchResult


def questions_router(settings: Settings) -> APIRouter:
    """The ask and search routes, with request limits taken from `settings`."""
    router = APIRouter(tags=["questions"])
    max_chars, max_k = settings.max_question_chars, settings.max_k

    class AskRequest(RequestBody):
        question: str = Field(min_length=1, max_length=max_chars, pattern=NOT_BLANK)
        k: int | None = Field(None, ge=1, le=max_k, description="Passages to retrieve.")
        documents: list[str] | None = Field(
            None, max_length=10_000, description="Only use these document ids."
        )

    class SearchRequest(RequestBody):
        query: str = Field(min_length=1, max_length=max_chars, pattern=NOT_BLANK)
        k: int | None = Field(None, ge=1, le=max_k, description="Passages to return.")
        documents: list[str] | None = Field(
            None, max_length=10_000, description="Only search these document ids."
        )

    @router.post(
        "/ask",
        response_model=Answer,
        responses=error_responses(400, 401, 404, 413, 415, 422, 503),
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
        responses=error_responses(401, 422, 503),
    )
    async def search_get(
        service: ServiceDep,
        q: Annotated[str, Query(min_length=1, max_length=max_chars, pattern=NOT_BLANK)],
        k: Annotated[int | None, Query(ge=1, le=max_k)] = None,
    ) -> SearchResult:
        """The top-`k` passages for the query `q` (hybrid dense + BM25 retrieval)."""
        return await run_in_threadpool(service.search, q, k=k)

    @router.post(
        "/search",
        response_model=SearchResult,
        responses=error_responses(400, 401, 404, 413, 415, 422, 503),
    )
    async def search_post(body: SearchRequest, service: ServiceDep) -> SearchResult:
        """The top-`k` passages for `query`, optionally within some documents."""
        return await run_in_threadpool(
            service.search, body.query, k=body.k, documents=body.documents
        )

    return router
