"""Co-occurrence statistics of the labeled records, with leave-out of given issues and hierarchical smoothing.

P(cause | symptom) is estimated at the symptom leaf and backed off along the symptom's broader chain to the paper
category and finally to the overall cause distribution, so rare leaves borrow strength from their parents.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np

from ..kg.corpus import Corpus, LabeledRecord
from ..kg.project import FAILURE, INDICATES, ROOT_CAUSE, SYMPTOM, broader_chain, project, records_of
from ..ontology import load_taxonomy

SMOOTHING = 3.0


def label_shares(labels: list[str], index: dict[str, int]) -> np.ndarray:
    """A document's share of each label (``index``: label → position): its labels split one unit evenly."""
    w = np.zeros(len(index))
    for lab in labels:
        w[index[lab]] += 1.0 / len(labels)
    return w


class LabelStatistics:
    """Counts read off the projection's edges (:mod:`failgraph.kg.project`): ``indicates`` edges give how many records
    of each symptom concept (or below it) have each root cause, concept nodes their record totals, and each failure's
    records the pairs that leaving it out subtracts. The symptom's broader chain is walked along ``broader`` edges."""

    def __init__(self, graph: nx.DiGraph):
        tax = load_taxonomy()
        self.graph = graph
        self.symptom_leaves = [c.label for c in tax.leaves("symptom")]
        self.cause_leaves = [c.label for c in tax.leaves("root_cause")]
        # every ancestor (leaf included) of each symptom leaf, bottom-up
        self._chain = {s: [label for _, label in broader_chain(graph, (SYMPTOM, s))] for s in self.symptom_leaves}
        self.pairs: Counter = Counter()
        for u, v, d in graph.edges(data=True):
            if d.get("rel") == INDICATES:
                self.pairs[(u[1], v[1])] = d["records"]
        self.causes = Counter({n[1]: d["records"] for n, d in graph.nodes(data=True)
                               if d["kind"] == ROOT_CAUSE and d["records"]})
        self.symptoms = Counter({n[1]: d["records"] for n, d in graph.nodes(data=True)
                                 if d["kind"] == SYMPTOM and d["records"]})
        self.total = graph.graph["records"]
        self._graph_keys = {n[1] for n, d in graph.nodes(data=True) if d["kind"] == FAILURE}

    @classmethod
    def from_records(cls, records: list[LabeledRecord]) -> LabelStatistics:
        """Statistics of labeled records alone (no texts)."""
        return cls(project(Corpus(failures=[], records=records)))

    @property
    def by_key(self) -> dict[str, list[tuple[str, str]]]:
        """Failure key → the (symptom, root cause) pairs of its records."""
        return {k: records_of(self.graph, k) for k in self._graph_keys}

    def _excluded(self, exclude: frozenset[str]) -> tuple[Counter, Counter, Counter, int]:
        pairs, causes, symptoms, total = Counter(), Counter(), Counter(), 0
        for key in exclude:
            for s, c in records_of(self.graph, key):
                causes[c] += 1
                total += 1
                for node in self._chain[s]:
                    pairs[(node, c)] += 1
                    symptoms[node] += 1
        return pairs, causes, symptoms, total

    def cause_prior(self, exclude: frozenset[str] = frozenset()) -> dict[str, float]:
        _, xc, _, xt = self._excluded(exclude)
        n = self.total - xt
        k = len(self.cause_leaves)
        return {c: (self.causes[c] - xc[c] + 1) / (n + k) for c in self.cause_leaves}

    def symptom_prior(self, exclude: frozenset[str] = frozenset()) -> dict[str, float]:
        _, _, xs, xt = self._excluded(exclude)
        n = self.total - xt
        k = len(self.symptom_leaves)
        return {s: (self.symptoms[s] - xs[s] + 1) / (n + k) for s in self.symptom_leaves}

    def cause_given_symptom(self, symptom: str, exclude: frozenset[str] = frozenset()) -> dict[str, float]:
        """Smoothed P(cause | symptom leaf) with the excluded issues' records removed."""
        xp, _xc, xs, _xt = self._excluded(exclude)
        dist = self.cause_prior(exclude)
        for node in reversed(self._chain[symptom]):  # category first, leaf last
            n = self.symptoms[node] - xs[node]
            dist = {c: (self.pairs[(node, c)] - xp[(node, c)] + SMOOTHING * dist[c]) / (n + SMOOTHING)
                    for c in self.cause_leaves}
        return dist

    def count(self, symptom: str, cause: str, exclude: frozenset[str] = frozenset()) -> int:
        xp = self._excluded(exclude)[0]
        return self.pairs[(symptom, cause)] - xp[(symptom, cause)]


__all__ = ["SMOOTHING", "LabelStatistics", "label_shares"]
