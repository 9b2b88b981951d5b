"""Request dependencies: what :func:`~failgraph.ui.httpapi.app.create_app` keeps in ``app.state``, handed to routes."""

from __future__ import annotations

from fastapi import Request

from ...kg.sparql_service import QueryService
from ...kg.store import GraphStore
from .knowledge import LazyKnowledgeBase


async def knowledge(request: Request) -> LazyKnowledgeBase:
    """The app's lazily loaded knowledge base."""
    return request.app.state.knowledge


async def graph_store(request: Request) -> GraphStore | None:
    """The app's graph store (None when it has none)."""
    return request.app.state.store


async def query_service(request: Request) -> QueryService | None:
    """The app's SPARQL query service (None without a graph store)."""
    return request.app.state.query_service


__all__ = ["graph_store", "knowledge", "query_service"]
