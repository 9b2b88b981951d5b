"""What every failgraph command shares: the consoles, the --home option and one-line errors with exit code 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)

HomeOpt = Annotated[Path | None, typer.Option("--home", help="Graph home directory (default: $FAILGRAPH_HOME or "
                                                                  "the user data dir).")]
EmbedderOpt = Annotated[str | None, typer.Option(
    "--embedder", metavar="minilm|minilm-int8|static",
    help="Embedding tier: minilm (the transformer), minilm-int8 (its int8-quantised weights, about twice as fast) or "
         "static (distilled from it at first use and cached in the home; about 1 ms a report, no torch). "
         "Default: $FAILGRAPH_EMBEDDER, else the tier the graph's index was built with, else minilm-int8.")]
AllowServiceOpt = Annotated[list[str] | None, typer.Option(
    "--allow-service", metavar="IRI",
    help="A SPARQL endpoint that SERVICE may call (repeatable; also $FAILGRAPH_SPARQL_ALLOWED_SERVICES). Without "
         "one, queries using SERVICE are refused and failgraph makes no outbound request.")]


def query_policy(allow: list[str] | None):
    """The SPARQL query policy from ``--allow-service`` and the environment (a bad IRI: one error line, exit 2)."""
    from pydantic import ValidationError

    from ..kg.sparql_text import QueryPolicy

    try:
        return QueryPolicy.from_settings(allow or ())
    except ValidationError as e:
        fail(f"--allow-service / $FAILGRAPH_SPARQL_ALLOWED_SERVICES: {e.errors()[0]['msg']}")


def fail(message: str, code: int = 2) -> None:
    """Print one clear error line on stderr and exit (code 2 unless told otherwise)."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def require_extra(modules: tuple[str, ...], extra: str, what: str) -> None:
    """One clear line (exit 2) when an optional dependency of ``what`` is not installed: ``pip install
    'failgraph[extra]'`` brings it."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        fail(f"{what} needs {', '.join(missing)}, which is not installed: pip install 'failgraph[{extra}]'")


def user_errors(errors: tuple[type[BaseException], ...] | Callable[[], tuple[type[BaseException], ...]],
                interrupted: str | None = None):
    """Decorator: turn ``errors`` (or those a callable gives when an error is raised) into one line and exit code 2,
    never a traceback; with ``interrupted``, Ctrl-C prints that message and exits 130."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            try:
                return fn(*a, **kw)
            except typer.Exit:
                raise
            except KeyboardInterrupt:
                if interrupted is None:
                    raise
                fail(interrupted, 130)
            except Exception as e:
                if not isinstance(e, errors() if callable(errors) else errors):
                    raise
                msg = str(e.args[0] if isinstance(e, KeyError) and e.args else e)
                fail(msg.splitlines()[0] if msg else type(e).__name__)

        return wrapper

    return decorate


def cli_embedder(name: str | None, home: Path | None, *, follow_graph: bool = True):
    """The embedder of ``--embedder``, else of ``$FAILGRAPH_EMBEDDER``; with ``follow_graph``, None when neither
    names one (the knowledge base then takes the tier its graph's index was built with), else the default tier.
    Distilling the static model (first use in a home) is announced on stderr."""
    from ..kg.embed import embedder_name, make_embedder
    from ..kg.home import resolve_home

    tier = embedder_name(name)
    if tier is None and follow_graph:
        return None
    return make_embedder(tier, resolve_home(home), on_distill=lambda path: err.print(
        f"distilling the static embedding model from MiniLM into {path} (once per home; about 2 minutes on two "
        "cores)…", highlight=False, soft_wrap=True))


__all__ = ["AllowServiceOpt", "EmbedderOpt", "HomeOpt", "cli_embedder", "err", "fail", "out", "query_policy",
           "user_errors"]
