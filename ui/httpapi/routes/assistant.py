"""The assistant: ``POST /v1/similar`` (similar past failures) and ``POST /v1/diagnose`` (ranked root causes)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ....assistant.diagnose import diagnose, similar
from ....assistant.models import Diagnosis
from ....ingest.extract.narrative import with_title
from ..dependencies import knowledge
from ..knowledge import LazyKnowledgeBase
from ..schemas import DiagnoseRequest, ErrorResponse, SimilarRequest, SimilarResponse, ValidationErrorResponse

ERRORS = {413: {"model": ErrorResponse, "description": "Request body too large"},
          422: {"model": ValidationErrorResponse, "description": "Invalid request or unreadable report"},
          503: {"model": ErrorResponse, "description": "Knowledge base not available"}}
router = APIRouter(tags=["assistant"], responses=ERRORS)


@router.post("/v1/similar", response_model=SimilarResponse,
             summary="Past failures similar to a report, with cosine-similarity scores")
def similar_failures(req: SimilarRequest, kb: LazyKnowledgeBase = Depends(knowledge)) -> SimilarResponse:
    return SimilarResponse(results=similar(kb.get(), with_title(req.title, req.text), k=req.k,
                                           exclude_urls=req.exclude_urls))


@router.post("/v1/diagnose", response_model=Diagnosis,
             summary="Ranked root causes, fixes, explanation paths and similar failures for a report")
def diagnose_report(req: DiagnoseRequest, kb: LazyKnowledgeBase = Depends(knowledge)) -> Diagnosis:
    return diagnose(kb.get(), req)


__all__ = ["router"]
