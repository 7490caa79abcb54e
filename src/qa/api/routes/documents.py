"""Document routes: list, read, upload and delete documents, and read passages."""

# No `from __future__ import annotations`: FastAPI evaluates route annotations at runtime.

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from starlette.concurrency import run_in_threadpool

from qa.api.deps import ServiceDep
from qa.api.errors import APIError, error_responses
from qa.config import Settings
from qa.formats import describe_formats
from qa.models import DocumentDetail, DocumentInfo, IngestReport, PassageDetail


def documents_router(settings: Settings) -> APIRouter:
    """The document and passage routes; uploads are limited by `settings.max_upload_bytes`."""
    router = APIRouter(tags=["documents"])

    @router.get(
        "/documents",
        response_model=list[DocumentInfo],
        responses=error_responses(401, 503),
    )
    async def list_documents(service: ServiceDep) -> list[DocumentInfo]:
        """Every indexed document with its page, passage count and content hash."""
        return await run_in_threadpool(service.documents)

    @router.get(
        "/documents/{document_id}",
        response_model=DocumentDetail,
        responses=error_responses(401, 404, 503),
    )
    async def get_document(document_id: str, service: ServiceDep) -> DocumentDetail:
        """One document with its normalised text."""
        return await run_in_threadpool(service.document, document_id)

    @router.get(
        "/passages/{passage_id}",
        response_model=PassageDetail,
        responses=error_responses(401, 404, 503),
    )
    async def get_passage(passage_id: str, service: ServiceDep) -> PassageDetail:
        """One passage with its offsets and the ids of its neighbours."""
        return await run_in_threadpool(service.passage, passage_id)

    @router.post(
        "/documents",
        status_code=201,
        response_model=IngestReport,
        responses=error_responses(400, 401, 413, 415, 422, 503),
    )
    async def upload_document(
        file: Annotated[UploadFile, File(description=f"A {describe_formats()} file.")],
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
        responses=error_responses(401, 404, 503),
    )
    async def delete_document(document_id: str, service: ServiceDep) -> IngestReport:
        """Delete the document's file from the corpus and drop it from the index."""
        return await run_in_threadpool(service.remove_document, document_id)

    return router
