"""``GET /v1/issues/{id}``: what the graph knows about one GitHub issue."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse

from ....ingest.records import issue_key
from ....kg.issues import IssueFacts, issue_facts, issue_url_of, learned_issue_facts
from ....kg.store import GraphStore, StoreError
from ..dependencies import graph_store, knowledge
from ..knowledge import LazyKnowledgeBase
from ..schemas import ErrorResponse

log = logging.getLogger("failgraph.api")
router = APIRouter(tags=["graph"])


@router.get("/v1/issues/{issue_id:path}", response_model=IssueFacts,
            responses={404: {"model": ErrorResponse, "description": "The graph does not know this issue"},
                       422: {"model": ErrorResponse, "description": "Not an issue id"},
                       503: {"model": ErrorResponse, "description": "No graph store"}},
            summary="An issue's facts from the graph: owner/repo#number (URL-encoded) or owner/repo/number")
def get_issue(issue_id: str, store: GraphStore | None = Depends(graph_store),
              kb: LazyKnowledgeBase = Depends(knowledge)) -> IssueFacts:
    try:
        key = issue_key(issue_url_of(issue_id))
        facts = issue_facts(store, issue_id) if store is not None else None
    except ValueError as e:
        return JSONResponse(ErrorResponse(detail=str(e)).model_dump(), status_code=422)
    except StoreError as e:
        log.error("issue lookup failed: %s", e)
        raise HTTPException(503, "the graph store could not answer") from None
    if facts is None:
        facts = _learned(kb, key)
    if facts is None:
        if store is None:
            raise HTTPException(503, "this server has no graph store configured")
        raise HTTPException(404, f"the graph has no issue {key}")
    return facts


def _learned(kb: LazyKnowledgeBase, key: str) -> IssueFacts | None:
    """An issue learned since the store was opened, from the loaded knowledge base (never loads it for this)."""
    if kb.state != "loaded":
        return None
    failure = kb.get().failures.get(key)
    if failure is None or not (failure.text_learned or failure.labels_learned):
        return None
    return learned_issue_facts(failure)


__all__ = ["router"]
