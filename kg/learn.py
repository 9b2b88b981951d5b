"""Learning without a rebuild: add labeled past failures to a home's published graph at once.

Under the home's build lock (so never beside a build or another learner), for the given learned failures:

1. append them to the home's learned log (what every full build reads: nothing learned is lost by a rebuild);
2. embed each thread with the tier the snapshot's text index was built with;
3. put each one's quads into the published graph store (its own named graph, replaced whole: terms through the store
   API, no SPARQL UPDATE);
4. append them to the snapshot's delta and publish it (:mod:`failgraph.kg.delta`: a manifest replaced atomically).

The next knowledge base opened on the home applies the delta (:meth:`failgraph.assistant.knowledge.KnowledgeBase.
from_home`). A failure at any step leaves the published graph usable: the delta is published last, and the log and
the graph's quads are idempotent per issue.
"""

from __future__ import annotations

from pydantic import BaseModel

from ..ingest.extract.narrative import matching_text, with_title
from ..ingest.learned import LearnedFailure, append_learned
from .delta import DeltaEntry, append_delta
from .embed import TextEmbedder, embedder_key, make_embedder
from .home import GraphHome, NoGraphError
from .learned_map import learned_graph, learned_quads
from .snapshot_index import INDEX_DIR
from .snapshot_pin import STORE_DIR
from .vectors import recorded_embedder


class LearnReport(BaseModel):
    """What :func:`learn` did."""

    stored: int  # learned failures appended to the home's log
    applied: int  # of which added to the published graph (0 when the home has none yet)
    snapshot: str | None = None
    delta_entries: int = 0  # the snapshot's delta after this


def index_text(item: LearnedFailure) -> str:
    """What the text index and the models read of a learned thread (as :attr:`PastFailure.index_text`)."""
    return with_title(item.title, matching_text(item.text).text)


def learn(home: GraphHome, items: list[LearnedFailure], *, embedder: TextEmbedder | None = None,
          wait: bool | float = True) -> LearnReport:
    """Store ``items`` in the home and add them to its published graph (see the module's description)."""
    if not items:
        return LearnReport(stored=0, applied=0)
    with home.build_lock(wait=wait):
        append_learned(home.root, items)
        if home.current_name() is None:
            return LearnReport(stored=len(items), applied=0)
        snap = home.current()
        home.manifest(snap)  # refuses a graph of an older layout (NoGraphError)
        entries = [DeltaEntry(item=it) for it in items]
        if (snap / INDEX_DIR / "fingerprint").is_file():
            embedder = embedder or make_embedder(recorded_embedder(snap / INDEX_DIR), home.root)
            vectors = embedder.encode([index_text(it) for it in items])
            key = embedder_key(embedder)
            entries = [DeltaEntry(item=it, vector=[float(x) for x in v], embedder=key)
                       for it, v in zip(items, vectors, strict=True)]
        from .store import OxigraphStore  # late: the store's libraries load only where the graph is written

        with OxigraphStore(snap / STORE_DIR) as store:
            for it in items:
                store.replace_graph(learned_graph(it.url), learned_quads([it]))
        manifest = append_delta(snap, entries)
        return LearnReport(stored=len(items), applied=len(items), snapshot=snap.name, delta_entries=manifest.entries)


__all__ = ["LearnReport", "NoGraphError", "index_text", "learn"]
