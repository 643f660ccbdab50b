"""Shared schema pieces: text without NUL characters, paging parameters, the error shape."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Query, Schema
from pydantic import Field, StringConstraints

from pejling.api.pagination import DEFAULT_LIMIT, MAX_LIMIT

# Text never holds NUL characters (PostgreSQL cannot store them).
NO_NUL = r"^[^\x00]*$"
MAX_ID = 2**63 - 1

Code = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NO_NUL)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=NO_NUL)]
ShortText = Annotated[str, StringConstraints(max_length=300, pattern=NO_NUL)]
LongText = Annotated[str, StringConstraints(max_length=20_000, pattern=NO_NUL)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Year = Annotated[int, Field(ge=1900, le=2200)]

Cursor = Annotated[
    str | None,
    Query(None, max_length=1000, pattern=NO_NUL, description="`next` of the previous page"),
]
Limit = Annotated[
    int, Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page (≤ {MAX_LIMIT})")
]
Within = Annotated[
    str | None,
    Query(
        None,
        max_length=50,
        pattern=NO_NUL,
        description="A unit code: only this unit and the units below it",
    ),
]


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable error code")
    message: str = Field(description="For people, in the request's language")
    fields: dict[str, list[str]] = Field(description="Messages per field; may be empty")


ERROR_STATUSES = (400, 401, 403, 404, 409, 422, 429)


def responses(ok: Any, status: int = 200) -> dict[int, Any]:
    """A response map: ``ok`` on success, the error shape on every error status."""
    return {status: ok, **dict.fromkeys(ERROR_STATUSES, ErrorOut)}


class Deleted(Schema):
    deleted: bool = True
