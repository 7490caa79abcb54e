"""What every route module shares: the service dependency and the strict JSON body base."""

# No `from __future__ import annotations`: FastAPI evaluates route annotations at runtime.

from typing import Annotated, cast

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, field_validator

from qa.models import QUESTION_PATTERN
from qa.service import QAService

# A question must contain something besides whitespace and control characters.
NOT_BLANK = QUESTION_PATTERN


class RequestBody(BaseModel):
    """A JSON request body: unknown fields are errors, and `k` must be a JSON integer."""

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
