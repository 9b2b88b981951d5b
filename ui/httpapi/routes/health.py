"""``/healthz``: liveness, what is loaded, and whether the graph store answers."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from ....kg.build import SnapshotStore
from ....kg.sparql_service import QueryService
from ....kg.store import GraphStore, StoreError
from ..dependencies import graph_store, knowledge, query_service
from ..knowledge import LazyKnowledgeBase
from ..schemas import Health

log = logging.getLogger("failgraph.api")
router = APIRouter(tags=["service"])


def api_version() -> str:
    """The installed failgraph version."""
    try:
        return version("failgraph")
    except PackageNotFoundError:  # pragma: no cover
        return "0+unknown"


@router.get("/healthz", response_model=Health, summary="Liveness, what is loaded and served",
            responses={503: {"model": Health, "description": "The graph store cannot answer a query"}})
def healthz(kb: LazyKnowledgeBase = Depends(knowledge), store: GraphStore | None = Depends(graph_store),
            service: QueryService | None = Depends(query_service)):
    pinned = isinstance(store, SnapshotStore)  # an OxigraphStore on a pinned snapshot: reported as such
    health = Health(knowledge_base=kb.state, snapshot=store.snapshot if pinned else None,
                    store="OxigraphStore" if pinned else type(store).__name__ if store is not None else "none",
                    version=api_version())
    if service is not None:
        try:
            service.run("ASK {}")  # the same path as /sparql (worker processes on a snapshot)
        except StoreError as e:
            log.warning("health check: the graph store cannot answer: %s", e)
            health.status, health.detail = "unavailable", "the graph store cannot answer queries"
            return JSONResponse(health.model_dump(), status_code=503)
    return health


@router.head("/healthz", include_in_schema=False)
def healthz_head() -> Response:
    """Liveness for probes that send HEAD: 200, no body."""
    return Response(status_code=200)


__all__ = ["api_version", "router"]
