"""The HTTP routes over `QAService`, one module per group: questions, documents, fields,
operations."""

from __future__ import annotations

from fastapi import APIRouter

from qa.api.routes.documents import documents_router
from qa.api.routes.fields import fields_router
from qa.api.routes.operations import Health, Readiness, operations_router
from qa.api.routes.questions import questions_router
from qa.config import Settings


def build_router(settings: Settings) -> APIRouter:
    """Every question-service route, with request limits taken from `settings`."""
    router = APIRouter()
    router.include_router(questions_router(settings))
    router.include_router(documents_router(settings))
    router.include_router(fields_router())
    router.include_router(operations_router())
    return router


__all__ = ["Health", "Readiness", "build_router"]
