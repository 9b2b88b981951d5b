"""Co-occurrence statistics of the labeled records, with leave-out of given issues and hierarchical smoothing.

P(cause | symptom) is estimated at the symptom leaf and backed off along the symptom's broader chain to the paper
category and finally to the overall cause distribution, so rare leaves borrow strength from their parents.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from ..kg.corpus import LabeledRecord
from ..ontology import load_taxonomy

SMOOTHING = 3.0


def label_shares(labels: list[str], index: dict[str, int]) -> np.ndarray:
    """A document's share of each label (``index``: label → position): its labels split one unit evenly."""
    w = np.zeros(len(index))
    for lab in labels:
        w[index[lab]] += 1.0 / len(labels)
    return w


class LabelStatistics:
    def __init__(self, records: list[LabeledRecord]):
        tax = load_taxonomy()
        self._tax = tax
        self.symptom_leaves = [c.label for c in tax.leaves("symptom")]
        self.cause_leaves = [c.label for c in tax.leaves("root_cause")]
        # every ancestor (leaf included) of each symptom leaf, bottom-up
        self._chain = {s: [c.label for c in tax.ancestors(tax.leaf("symptom", s))] for s in self.symptom_leaves}
        self.pairs: Counter = Counter()
        self.by_key: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for r in records:
            for node in self._chain[r.symptom]:
                self.pairs[(node, r.root_cause)] += 1
            self.by_key[r.key].append((r.symptom, r.root_cause))
        self.causes = Counter(r.root_cause for r in records)
        self.symptoms = Counter()
        for r in records:
            for node in self._chain[r.symptom]:
                self.symptoms[node] += 1
        self.total = len(records)

    def _excluded(self, exclude: frozenset[str]) -> tuple[Counter, Counter, Counter, int]:
        pairs, causes, symptoms, total = Counter(), Counter(), Counter(), 0
        for key in exclude:
            for s, c in self.by_key.get(key, []):
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
