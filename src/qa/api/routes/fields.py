"""The field-map route: `GET /fields`, as JSON (the `FieldMap`), CSV or Markdown."""

# No `from __future__ import annotations`: FastAPI evaluates route annotations at runtime.

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from qa.api.deps import ServiceDep
from qa.api.errors import error_responses
from qa.models import FieldMap
from qa.plaintext import field_map_csv, field_map_markdown


def fields_router() -> APIRouter:
    """`GET /fields`: the cooperation-field map, filtered like `qa fields`."""
    router = APIRouter(tags=["fields"])

    @router.get(
        "/fields",
        response_model=FieldMap,
        responses={
            **error_responses(401, 404, 422, 503),
            200: {"content": {"text/csv": {}, "text/markdown": {}}},
        },
    )
    async def get_fields(
        service: ServiceDep,
        document: Annotated[
            list[str] | None, Query(description="Only these document ids (repeatable).")
        ] = None,
        actor: Annotated[
            list[str] | None,
            Query(description="Only cells of these actor ids or names, e.g. kor (repeatable)."),
        ] = None,
        field: Annotated[
            list[str] | None, Query(description="Only these field ids (repeatable).")
        ] = None,
        format: Annotated[
            Literal["json", "csv", "markdown"], Query(description="Response format.")
        ] = "json",
    ) -> FieldMap | Response:
        """Actors against fields of cooperation; each cell lists its partners and the
        verbatim sentences (citations) that say so. Computed at ingest: no model runs."""
        field_map = await run_in_threadpool(
            service.fields, documents=document, actors=actor, fields=field
        )
        if format == "csv":
            return PlainTextResponse(
                field_map_csv(field_map),
                media_type="text/csv",
                headers={"Content-Disposition": 'attachment; filename="fields.csv"'},
            )
        if format == "markdown":
            return PlainTextResponse(field_map_markdown(field_map), media_type="text/markdown")
        return field_map

    return router
