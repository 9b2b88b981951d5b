"""The HTTP API: ``/v1/similar``, ``/v1/diagnose``, ``/v1/issues/{id}``, ``/healthz`` and the SPARQL endpoint.

Build it with objects (no globals)::

    app = create_app(lambda: KnowledgeBase.from_home(home), open_store(home))

The knowledge base is loaded lazily, once per app, on the first request that needs it (or at start-up with
``preload=True``). Every request and response body is a pydantic model (:mod:`.schemas`); every error is
``{"detail": "…"}`` (:mod:`.errors`). OpenAPI documentation is served at ``/docs``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from ...assistant.diagnose import diagnose
from ...assistant.knowledge import KnowledgeBase
from ...assistant.models import Diagnosis, ReportRequest
from ...kg.sparql_service import QueryLimits, QueryService
from ...kg.store import GraphStore
from .errors import install_error_handlers
from .knowledge import LazyKnowledgeBase, with_batching
from .middleware import BodyLimitMiddleware
from .routes import assistant, health, issues
from .routes.github import PATH as WEBHOOK_PATH
from .routes.github import github_router
from .routes.sparql import EndpointSettings, sparql_router, unavailable_sparql_router
from .schemas import ApiLimits

if TYPE_CHECKING:
    from ..github.bot import GitHubBot

log = logging.getLogger("failgraph.api")
#: Builds the GitHub bot given the server's diagnosis function (see :meth:`failgraph.ui.github.bot.GitHubBot.create`).
BotFactory = Callable[[Callable[[ReportRequest], Diagnosis]], "GitHubBot"]

DESCRIPTION = ("Troubleshooting open-source LLM fine-tuning and serving failures with a knowledge graph: similar past "
               "failures, ranked root causes with fixes, and a read-only SPARQL 1.1 endpoint over the graph.")


def create_app(kb: KnowledgeBase | Callable[[], KnowledgeBase] | None = None, store: GraphStore | None = None, *,
               limits: ApiLimits | None = None, sparql: QueryLimits | None = None,
               endpoint: EndpointSettings | None = None, preload: bool = False,
               github: BotFactory | None = None, knowledge_version: Callable[[], object] | None = None) -> FastAPI:
    """The failgraph HTTP API over a knowledge base (or a factory that loads one) and a graph store.

    ``preload`` starts loading the knowledge base (and the SPARQL workers) when the server starts instead of on the
    first request. Without a store, ``/v1/issues`` and ``/sparql`` answer 503. ``endpoint`` is where ``/sparql`` is
    published (its service description and the base IRI of queries); SPARQL SERVICE calls follow the store's policy.
    ``github`` builds the GitHub bot: ``POST /github/webhook`` is served (its worker started and stopped with the
    app) when the bot's configuration has a webhook secret.
    """
    limits = limits or ApiLimits()
    endpoint = endpoint or EndpointSettings()
    knowledge = LazyKnowledgeBase(kb, with_batching if limits.batch_inference else (lambda k: k),
                                  version=knowledge_version)
    service = QueryService(store, sparql, base_iri=endpoint.url) if store is not None else None
    bot = github(lambda req: diagnose(knowledge.get(), req)) if github is not None else None
    if bot is not None and not bot.cfg.webhook_enabled:
        bot = None
    if bot is not None and bot.handler.learn is not None:  # what the bot learns is answered from at once
        learned = bot.handler.learn

        def learn_then_reload(item) -> None:
            learned(item)
            knowledge.refresh()

        bot.handler.learn = learn_then_reload

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if preload:
            def warm():
                try:
                    if service is not None:
                        service.warm_up()
                    knowledge.get()
                except Exception:
                    log.warning("preloading failed", exc_info=True)

            threading.Thread(target=warm, name="failgraph-preload", daemon=True).start()
        if bot is not None:
            bot.start()
        try:
            yield
        finally:
            if bot is not None:
                bot.stop()
            if service is not None:
                service.close()

    app = FastAPI(title="failgraph", version=health.api_version(), lifespan=lifespan, description=DESCRIPTION)
    app.state.knowledge = knowledge
    app.state.store = store
    app.state.query_service = service
    app.state.github = bot
    app.add_middleware(BodyLimitMiddleware, max_bytes=limits.max_body_bytes,
                       per_path={WEBHOOK_PATH: max(limits.max_body_bytes, limits.webhook_max_body_bytes)})
    install_error_handlers(app)

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/docs")

    app.include_router(health.router)
    app.include_router(assistant.router)
    app.include_router(issues.router)
    app.include_router(sparql_router(service, endpoint=endpoint) if service is not None
                       else unavailable_sparql_router())
    if bot is not None:
        app.include_router(github_router(bot))
    return app


__all__ = ["create_app"]
