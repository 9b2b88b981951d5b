"""What the app loads once per process: the graph store, the knowledge base and the SPARQL query service.

Resources are cached with ``st.cache_resource`` keyed by the home directory and the published snapshot's name, so a
rebuild (``failgraph build``) is picked up on the next page load without restarting the app; each cached store pins
its snapshot, so a rebuild never removes the files under a page that still uses it.
"""

from __future__ import annotations

import argparse
import os

import streamlit as st

from ...assistant.knowledge import KnowledgeBase
from ...kg.build import open_store
from ...kg.delta import delta_generation
from ...kg.home import HOME_ENV, GraphHome, NoGraphError
from ...kg.sparql_service import QueryLimits, QueryService
from ...kg.sparql_text import QueryPolicy
from ...kg.store import GraphStore

LOADING_MESSAGE = ("Loading the knowledge base: the first start embeds the past failures' texts (about a minute on a "
                   "laptop CPU); later starts read the saved index.")


def home_from_argv(argv: list[str]) -> str:
    """``--home DIR`` from the script's arguments (``streamlit run app.py -- --home DIR``), else
    ``$FAILGRAPH_HOME``, else the default home."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--home", default=None)
    args, _ = parser.parse_known_args(argv)
    return str(GraphHome(args.home or os.environ.get(HOME_ENV)).root)


def snapshot_of(home: str) -> str:
    """The published snapshot's name (raises NoGraphError when nothing is built)."""
    return GraphHome(home).current().name


@st.cache_resource(show_spinner=False, max_entries=2)
def _store(home: str, snapshot: str) -> GraphStore:
    # SERVICE endpoints: only those `failgraph ui --allow-service` / $FAILGRAPH_SPARQL_ALLOWED_SERVICES allow
    return open_store(GraphHome(home), snapshot, policy=QueryPolicy.from_settings())


@st.cache_resource(show_spinner=False, max_entries=2)
def _knowledge(home: str, snapshot: str, learned: int = 0) -> KnowledgeBase:
    """The snapshot's knowledge base with its first ``learned`` learned failures (a new one loads it again)."""
    return KnowledgeBase.from_home(GraphHome(home), snapshot=snapshot)


@st.cache_resource(show_spinner=False, max_entries=2)
def _queries(home: str, snapshot: str) -> QueryService:
    return QueryService(_store(home, snapshot), QueryLimits(timeout_s=20, max_rows=5_000))


def require_graph(home: str) -> str:
    """The snapshot name, or an error on the page and a stop when no graph is built."""
    try:
        return snapshot_of(home)
    except NoGraphError as e:
        st.error(f"No knowledge graph yet. {e}".replace("`", "'"))
        st.stop()
        raise  # unreachable: st.stop() raises


def store(home: str) -> GraphStore:
    return _store(home, require_graph(home))


def query_service(home: str) -> QueryService:
    return _queries(home, require_graph(home))


def knowledge_base(home: str) -> KnowledgeBase:
    """The knowledge base, with a spinner while it loads (the first time it embeds the case texts)."""
    snap = require_graph(home)
    learned = delta_generation(GraphHome(home).root / snap)  # past failures learned since: the next page load sees them
    with st.spinner(LOADING_MESSAGE, show_time=True):
        return _knowledge(home, snap, learned)


__all__ = ["LOADING_MESSAGE", "home_from_argv", "knowledge_base", "query_service", "require_graph", "snapshot_of",
           "store"]
