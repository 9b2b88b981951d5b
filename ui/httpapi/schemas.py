"""The HTTP API's wire models: request and response bodies, errors and the server's limits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...assistant.models import ReportRequest, SimilarFailure
from ...ingest.decode import UnicodeText
from ...kg.home import SnapshotInfo

MAX_SIMILAR = 50


class ErrorResponse(BaseModel):
    """Every error the service answers with: one clear sentence, never a stack trace."""

    detail: str = Field(description="What was wrong and how to fix it")


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str


class ValidationErrorResponse(ErrorResponse):
    errors: list[FieldError] = Field(default_factory=list)


class SimilarRequest(BaseModel):
    """A report to match against past failures."""

    model_config = ConfigDict(extra="forbid")

    text: UnicodeText = Field(min_length=1, description="The report: error output, logs, versions")
    title: UnicodeText | None = Field(None, max_length=1_000, description="The issue's title, where there is one")
    k: int = Field(default=5, ge=1, le=MAX_SIMILAR, description="How many similar failures to return")
    exclude_urls: list[UnicodeText] = Field(default_factory=list, max_length=1000,
                                    description="Issue URLs to leave out (e.g. the report's own issue)")


class DiagnoseRequest(ReportRequest):
    """A report to diagnose over HTTP: the batch line's fields, and no others (unknown fields are refused with 422,
    as by /v1/similar; batch files stay lenient)."""

    model_config = ConfigDict(extra="forbid")


class SimilarResponse(BaseModel):
    results: list[SimilarFailure]


class Health(BaseModel):
    status: Literal["ok", "unavailable"] = "ok"
    knowledge_base: Literal["loaded", "loading", "not loaded", "failed", "none"]
    store: str
    snapshot: SnapshotInfo | None = Field(default=None, description="The graph snapshot the store serves (its name "
                                                                     "and when it was built)")
    detail: str | None = Field(default=None, description="Why the service is unavailable")
    version: str


class ApiLimits(BaseModel):
    """Limits of the HTTP API (those of /sparql are :class:`~failgraph.kg.sparql_service.QueryLimits`)."""

    model_config = ConfigDict(frozen=True)

    max_body_bytes: int = Field(default=64 * 1024, ge=1, description="Larger request bodies get HTTP 413")
    webhook_max_body_bytes: int = Field(default=1024 * 1024, ge=1, description="The limit for GitHub's webhook "
                                                                               "deliveries (an issue body alone "
                                                                               "may be 64 KiB of text)")
    batch_inference: bool = Field(default=True, description="Encode concurrent requests' texts in shared model "
                                                            "calls (micro-batching)")


__all__ = ["MAX_SIMILAR", "ApiLimits", "DiagnoseRequest", "ErrorResponse", "FieldError", "Health", "SimilarRequest",
           "SimilarResponse", "ValidationErrorResponse"]
