from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="Path to the offending field, e.g. ['body', 'links', 2].")
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, served as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", description="URI identifying the problem type.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path that produced the problem.")
    request_id: str | None = None
    errors: list[FieldProblem] | None = None

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)
