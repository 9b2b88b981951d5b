"""A networkx projection of the knowledge graph for walks and weights.

Nodes carry a ``kind`` (``issue``, ``symptom``, ``root_cause``, ``model``, ``series``, ``library``, ``version``) and a
``label``. Edges: ``issue→symptom`` and ``issue→root_cause`` (``rel`` = has_symptom / has_root_cause), ``issue→model``,
``model→series``, taxonomy ``broader`` edges, and weighted ``symptom→root_cause`` edges with ``count`` (co-occurring
records) and ``p`` = P(cause | symptom) at the leaf level.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx

from ..ontology import load_taxonomy
from .store import GraphStore

_RECORDS = """
PREFIX fg: <https://w3id.org/failgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?record ?issue ?url ?symptom ?cause ?model ?model_label ?series WHERE {
  ?record a fg:FailureRecord ; fg:aboutIssue ?issue ; fg:hasSymptom ?symptom ; fg:hasRootCause ?cause .
  ?issue fg:url ?url .
  OPTIONAL { ?record fg:model ?model . ?model rdfs:label ?model_label . OPTIONAL { ?model fg:inSeries ?series } }
}
"""


def project(store: GraphStore) -> nx.DiGraph:
    """Build the projection from any store (all records, every source)."""
    tax = load_taxonomy()
    g = nx.DiGraph()
    for scheme in ("symptom", "root_cause"):
        for c in tax.concepts(scheme):
            g.add_node(c.iri, kind=scheme, label=c.label, levels=sorted(lv.value for lv in c.levels))
            if c.broader:
                g.add_edge(c.iri, c.broader, rel="broader")
    pair = Counter()
    per_symptom = Counter()
    for row in store.query(_RECORDS).records():
        issue, s, r = row["issue"], row["symptom"], row["cause"]
        g.add_node(issue, kind="issue", label=row["url"])
        g.add_edge(issue, s, rel="has_symptom")
        g.add_edge(issue, r, rel="has_root_cause")
        if row.get("model"):
            g.add_node(row["model"], kind="model", label=row["model_label"])
            g.add_edge(issue, row["model"], rel="model")
            if row.get("series"):
                g.add_node(row["series"], kind="series", label=row["series"].rsplit("#", 1)[-1])
                g.add_edge(row["model"], row["series"], rel="in_series")
        pair[(s, r)] += 1
        per_symptom[s] += 1
    for (s, r), n in pair.items():
        g.add_edge(s, r, rel="indicates", count=n, p=n / per_symptom[s])
    return g


def cause_distribution(g: nx.DiGraph, symptom_iri: str) -> dict[str, float]:
    """P(cause | symptom) from the projection's weighted edges (empty for a symptom never seen)."""
    return {v: d["p"] for _, v, d in g.out_edges(symptom_iri, data=True) if d.get("rel") == "indicates"}


__all__ = ["cause_distribution", "project"]
