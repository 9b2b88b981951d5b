"""The knowledge graph's networkx projection: the graph the assistant walks.

Nodes are ``(kind, name)`` pairs with a ``kind`` attribute:

- ``("symptom", label)`` and ``("root_cause", label)``: every concept of the two taxonomies, linked child → parent by
  ``broader`` edges; each carries ``records``, the labeled records under it;
- ``("failure", key)``: a past failure (an issue with text or labels), ``label`` its URL;
- ``("record", key, n)``: one labeled record about that failure (``has_record``), with ``has_symptom`` and
  ``has_root_cause`` edges to its leaves;
- ``("fix", key)``: the failure's fix (``resolved_by``), with its text, whether the thread confirmed it and its
  structured fix (``spec``);
- ``("remedy", action, target)``: one remedy (fix action and normalised target) that fixes share
  (``instance_of``); each root-cause leaf has a ``remedied_by`` edge to the remedies of the failures with that cause,
  carrying ``failures``, the keys of those failures (so statistics can leave some out).

Weighted ``indicates`` edges run from every symptom concept (leaf or broader) to each root-cause leaf, weighted by
``records``: the labeled records whose symptom is that concept or below it and whose root cause is that leaf. The
statistics of the diagnosis (:class:`failgraph.assistant.statistics.LabelStatistics`) are read off these edges, and
the explanation paths of its answers are paths in this graph.

>>> from failgraph.kg.corpus import Corpus, LabeledRecord
>>> oom = "Crash - CUDA Error - Out of Memory"
>>> gpu = "Hardware and Resource Limitations - GPU Memory Insufficiency"
>>> g = project(Corpus(failures=[], records=[LabeledRecord(key="a/b#1", symptom=oom, root_cause=gpu)]))
>>> g.edges[("symptom", oom), ("root_cause", gpu)]["records"], broader_chain(g, ("symptom", oom))[-1]
(1, ('symptom', 'Runtime Crash'))
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from ..ontology import load_taxonomy
from .corpus import Corpus

SYMPTOM, ROOT_CAUSE, FAILURE, RECORD, FIX, REMEDY = "symptom", "root_cause", "failure", "record", "fix", "remedy"
BROADER, INDICATES, HAS_RECORD, HAS_SYMPTOM, HAS_ROOT_CAUSE, RESOLVED_BY, INSTANCE_OF, REMEDIED_BY = (
    "broader", "indicates", "has_record", "has_symptom", "has_root_cause", "resolved_by", "instance_of", "remedied_by")


def project(corpus: Corpus) -> nx.DiGraph:
    """The projection of a corpus (past failures and labeled records) onto the two taxonomies."""
    tax = load_taxonomy()
    g = nx.DiGraph(records=0)
    for scheme in (SYMPTOM, ROOT_CAUSE):
        for c in tax.concepts(scheme):
            g.add_node((scheme, c.label), kind=scheme, label=c.label, records=0)
        for c in tax.concepts(scheme):
            if c.broader:
                g.add_edge((scheme, c.label), (scheme, tax.concept(c.broader).label), rel=BROADER)
    for f in corpus.failures:
        g.add_node((FAILURE, f.key), kind=FAILURE, label=f.url)
        if f.fix:
            g.add_node((FIX, f.key), kind=FIX, label=f.fix, confirmed=f.fix_confirmed, spec=f.fix_spec)
            g.add_edge((FAILURE, f.key), (FIX, f.key), rel=RESOLVED_BY)
            if f.fix_spec is not None and not f.fix_spec.generic:
                remedy = (REMEDY, *f.fix_spec.key)
                g.add_node(remedy, kind=REMEDY, label=" ".join(x for x in f.fix_spec.key if x))
                g.add_edge((FIX, f.key), remedy, rel=INSTANCE_OF)
                for cause in f.root_causes:
                    if (ROOT_CAUSE, cause) in g:
                        edge = g.get_edge_data((ROOT_CAUSE, cause), remedy)
                        if edge is None:
                            g.add_edge((ROOT_CAUSE, cause), remedy, rel=REMEDIED_BY, failures=[f.key])
                        else:
                            edge["failures"].append(f.key)
    for n, r in enumerate(corpus.records):
        failure, record, cause = (FAILURE, r.key), (RECORD, r.key, n), (ROOT_CAUSE, r.root_cause)
        if failure not in g:
            g.add_node(failure, kind=FAILURE, label=r.key)
        g.add_node(record, kind=RECORD)
        g.add_edge(failure, record, rel=HAS_RECORD)
        g.add_edge(record, (SYMPTOM, r.symptom), rel=HAS_SYMPTOM)
        g.add_edge(record, cause, rel=HAS_ROOT_CAUSE)
        g.nodes[cause]["records"] += 1
        for concept in broader_chain(g, (SYMPTOM, r.symptom)):
            g.nodes[concept]["records"] += 1
            if g.has_edge(concept, cause):
                g.edges[concept, cause]["records"] += 1
            else:
                g.add_edge(concept, cause, rel=INDICATES, records=1)
        g.graph["records"] += 1
    return g


def broader_chain(g: nx.DiGraph, concept: tuple) -> list[tuple]:
    """The concept and its broader concepts up to the category, walking ``broader`` edges."""
    chain = [concept]
    while True:
        up = [v for _, v, rel in g.out_edges(chain[-1], data="rel") if rel == BROADER]
        if not up:
            return chain
        chain.append(up[0])


def out_by(g: nx.DiGraph, node: tuple, rel: str) -> Iterator[tuple]:
    """The targets of ``node``'s out-edges of relation ``rel``."""
    return (v for _, v, r in g.out_edges(node, data="rel") if r == rel)


def records_of(g: nx.DiGraph, key: str) -> list[tuple[str, str]]:
    """(symptom, root cause) leaf labels of each labeled record about the failure ``key`` (empty if none)."""
    failure = (FAILURE, key)
    if failure not in g:
        return []
    pairs = []
    for record in out_by(g, failure, HAS_RECORD):
        symptom = next(out_by(g, record, HAS_SYMPTOM))
        cause = next(out_by(g, record, HAS_ROOT_CAUSE))
        pairs.append((symptom[1], cause[1]))
    return pairs


def remedies_of(g: nx.DiGraph, cause: str, exclude: frozenset[str] = frozenset()) -> dict[tuple[str, str], int]:
    """Remedy (action, target) → how many past failures with root cause ``cause`` it resolved, leaving out the
    failures ``exclude``."""
    node = (ROOT_CAUSE, cause)
    if node not in g:
        return {}
    out = {}
    for _, remedy, data in g.out_edges(node, data=True):
        if data.get("rel") == REMEDIED_BY:
            n = sum(1 for k in data["failures"] if k not in exclude)
            if n:
                out[remedy[1:]] = n
    return out


def failure_has_cause(g: nx.DiGraph, key: str, cause: str) -> bool:
    """Whether a path failure → record → root-cause leaf ``cause`` exists."""
    failure = (FAILURE, key)
    return failure in g and any(g.has_edge(record, (ROOT_CAUSE, cause))
                                for record in out_by(g, failure, HAS_RECORD))


__all__ = ["BROADER", "FAILURE", "FIX", "HAS_RECORD", "HAS_ROOT_CAUSE", "HAS_SYMPTOM", "INDICATES", "INSTANCE_OF",
           "RECORD", "REMEDIED_BY", "REMEDY", "RESOLVED_BY", "ROOT_CAUSE", "SYMPTOM", "broader_chain",
           "failure_has_cause", "out_by", "project", "records_of", "remedies_of"]
