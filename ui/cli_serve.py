"""``failgraph serve`` (the HTTP API and SPARQL endpoint) and ``failgraph ui`` (the Streamlit app).

Registered on the main CLI by ``ui/cli.py``; also runnable alone: ``python -m failgraph.ui.cli_serve serve --help``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from .console import AllowServiceOpt, EmbedderOpt, HomeOpt, err, fail, query_policy, require_extra

HostOpt = Annotated[str, typer.Option("--host", help="Address to listen on (default: loopback only).")]


def _check_home(home: Path | None) -> Path:
    from ..kg.home import GraphHome, NoGraphError

    gh = GraphHome(home)
    try:
        gh.current()
    except NoGraphError as e:
        fail(str(e))
    return gh.root


def _github_bot(root: Path):
    """The GitHub bot's factory when ``FAILGRAPH_GITHUB_WEBHOOK_SECRET`` is set (else None); bad settings: one line."""
    from .github.bot import GitHubBot
    from .github.config import BotConfig, ConfigError

    try:
        cfg = BotConfig.from_env()
        if not cfg.webhook_enabled:
            return None
        if cfg.auth_mode == "none" and not cfg.dry_run:
            raise ConfigError("FAILGRAPH_GITHUB_WEBHOOK_SECRET is set but the bot has no credentials: set "
                              "FAILGRAPH_GITHUB_TOKEN or FAILGRAPH_GITHUB_APP_ID with a private key "
                              "(or FAILGRAPH_BOT_DRY_RUN=1)")
        if cfg.auth_mode == "app":
            from .github.auth import make_auth

            make_auth(cfg, None)  # the key is readable and PyJWT is installed: fail now rather than per delivery
    except ConfigError as e:
        fail(str(e))
    from .github.learner import home_learner

    # a maintainer's cause: the thread joins the graph without a rebuild
    return lambda diagnose: GitHubBot.create(cfg, root / "github", diagnose, learn=home_learner(root))


def _check_embedder(name: str | None) -> str | None:
    """The tier ``--embedder`` or ``$FAILGRAPH_EMBEDDER`` names (None: the graph's), or one error line."""
    from ..kg.embed import embedder_name

    try:
        return embedder_name(name)
    except ValueError as e:
        fail(str(e))


def serve(host: HostOpt = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
          home: HomeOpt = None,
          store: Annotated[str | None, typer.Option(
              "--store", help="Answer /sparql and /v1/issues from this store instead of the home's graph, e.g. "
                              "sparql+http://127.0.0.1:7878/query?union-default-graph")] = None,
          sparql_timeout: Annotated[float, typer.Option("--sparql-timeout", min=0.1,
                                                        help="Seconds a SPARQL query may run (then 503).")] = 10.0,
          sparql_max_rows: Annotated[int, typer.Option("--sparql-max-rows", min=1,
                                                       help="Rows a SPARQL result returns at most.")] = 10_000,
          max_body: Annotated[int, typer.Option("--max-body", min=1024, help="Largest request body in bytes.")]
          = 64 * 1024,
          public_url: Annotated[str | None, typer.Option(
              "--public-url", help="The URL clients reach /sparql at (its service description and the base IRI of "
                                   "queries); default http://HOST:PORT/sparql")] = None,
          allow_service: AllowServiceOpt = None, embedder: EmbedderOpt = None):
    """Serve the HTTP API (/v1/similar, /v1/diagnose, /v1/issues, /healthz; docs at /docs) and a read-only SPARQL 1.1
    endpoint at /sparql; with FAILGRAPH_GITHUB_WEBHOOK_SECRET set, also the GitHub bot's /github/webhook."""
    require_extra(("fastapi", "uvicorn"), "serve", "failgraph serve")
    import uvicorn

    from ..assistant.knowledge import KnowledgeBase
    from ..kg.build import SnapshotStore
    from ..kg.home import GraphHome
    from ..kg.remote import connect
    from ..kg.sparql_service import QueryLimits
    from ..kg.store import StoreError
    from .httpapi import ApiLimits, EndpointSettings, create_app

    root = _check_home(home)
    tier = _check_embedder(embedder)
    policy = query_policy(allow_service)
    github = _github_bot(root)
    try:
        endpoint = EndpointSettings.for_server(host, port, public_url)
    except ValueError as e:
        fail(f"--public-url: {e}")
    try:
        graph = connect(store, policy=policy) if store else connect(str(root), policy=policy)
    except StoreError as e:
        fail(str(e))
    gh = GraphHome(root)
    served = graph.snapshot.name if isinstance(graph, SnapshotStore) else None  # the KB reads the same snapshot
    from ..kg.embed import make_embedder

    def knowledge() -> KnowledgeBase:
        return KnowledgeBase.from_home(gh, make_embedder(tier, root) if tier else None, snapshot=served)

    from ..kg.delta import delta_generation

    version = (lambda: delta_generation(gh.root / served)) if served else None  # learned by another process too
    app = create_app(knowledge, graph, preload=True, endpoint=endpoint, knowledge_version=version,
                     limits=ApiLimits(max_body_bytes=max_body),
                     sparql=QueryLimits(timeout_s=sparql_timeout, max_rows=sparql_max_rows), github=github)
    hook = ", GitHub webhook: /github/webhook" if github is not None else ""
    err.print(f"failgraph API on http://{host}:{port} (docs: /docs, SPARQL: /sparql{hook}); graph home {root}",
              highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)


def ui(port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8501,
       host: HostOpt = "127.0.0.1",
       home: HomeOpt = None,
       allow_service: AllowServiceOpt = None, embedder: EmbedderOpt = None):
    """Open the troubleshooting chat, the graph explorer and the SPARQL page (Streamlit) in the browser."""
    from ..kg.sparql_text import ALLOWED_SERVICES_ENV

    require_extra(("streamlit", "altair", "pandas"), "ui", "failgraph ui")
    root = _check_home(home)
    tier = _check_embedder(embedder)
    policy = query_policy(allow_service)
    app_py = Path(__file__).resolve().with_name("app.py")
    args = [sys.executable, "-m", "streamlit", "run", str(app_py),
            "--server.port", str(port), "--server.address", host, "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--global.developmentMode", "false", "--client.toolbarMode", "minimal", "--", "--home", str(root)]
    env = dict(os.environ, FAILGRAPH_HOME=str(root))
    env[ALLOWED_SERVICES_ENV] = " ".join(sorted(policy.allowed_services))  # the app reads its policy from here
    if tier:
        from ..kg.embed import EMBEDDER_ENV

        env[EMBEDDER_ENV] = tier  # and its embedding tier (KnowledgeBase.from_home reads it)
    err.print(f"failgraph UI on http://{host}:{port} (graph home {root})", highlight=False)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, args, env)  # the Streamlit server replaces this process (signals reach it directly)


serve_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                        help="failgraph servers: the HTTP API and the Streamlit UI.")
serve_app.command(name="serve")(serve)
serve_app.command(name="ui")(ui)

__all__ = ["serve", "serve_app", "ui"]

if __name__ == "__main__":
    serve_app()
