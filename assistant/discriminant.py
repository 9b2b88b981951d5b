"""A linear discriminant over the MiniLM vectors of past failures: which root-cause group a report's meaning
resembles, as a whole (the labels can be the concepts of any one taxonomy level).

Retrieval uses the vectors only through the ten nearest neighbours; a discriminant uses all of them, class by class,
and weighs the directions along which groups differ against those along which any one group spreads. It is the
shrinkage LDA of scikit-learn's ``LinearDiscriminantAnalysis(solver="lsqr", shrinkage=λ)`` (the pooled within-class
covariance, divided by the number of documents, shrunk towards a multiple of the identity; priors = class shares),
computed from sufficient statistics — per-class weights and vector sums, and the total second moment — so that
leaving issues out subtracts their vectors exactly: an excluded issue never informs the answer. Nothing per document
is kept but its label weights; an excluded issue's vector is read back from the vector index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property

import numpy as np

from .statistics import label_shares

#: Shrinkage towards the identity (10-fold over the case base with scikit-learn's LDA: 0.3 and 0.5 alike and
#: better than 0.1; Ledoit–Wolf's automatic value was no better).
SHRINKAGE = 0.3
CHUNK = 4096


class DiscriminantModel:
    def __init__(self, docs: Iterable[tuple[str, list[str]]], vector_of: Callable[[str], np.ndarray], dim: int, *,
                 shrinkage: float = SHRINKAGE):
        """``docs``: (issue key, labels) pairs; ``vector_of(key)`` gives the issue's (unit) vector of ``dim``."""
        if not 0.0 < shrinkage <= 1.0:
            raise ValueError(f"shrinkage must be in (0, 1], not {shrinkage}: without it the covariance can be "
                             "singular")
        docs = list(docs)
        self.shrinkage = shrinkage
        self.vector_of = vector_of
        self.labels = sorted({lab for _, labs in docs for lab in labs})
        self._li = {lab: i for i, lab in enumerate(self.labels)}
        self.entry_keys: list[str] = []
        weights: list[np.ndarray] = []
        self.class_weight = np.zeros(len(self.labels))
        self.class_sum = np.zeros((len(self.labels), dim))
        self.second_moment = np.zeros((dim, dim))
        self.documents = 0.0
        for at in range(0, len(docs), CHUNK):
            chunk = docs[at:at + CHUNK]
            x = np.array([vector_of(key) for key, _ in chunk], dtype=np.float64).reshape(len(chunk), dim)
            w = np.array([label_shares(labs, self._li) for _, labs in chunk]).reshape(len(chunk), len(self.labels))
            self.class_weight += w.sum(axis=0)
            self.class_sum += w.T @ x
            self.second_moment += x.T @ x
            self.documents += len(chunk)
            for (key, _), wi in zip(chunk, w, strict=True):
                self.entry_keys.append(key)
                weights.append(wi)
        self.entry_weights = np.array(weights).reshape(len(weights), len(self.labels))
        self._coef = self._solve(self.class_weight, self.class_sum, self.second_moment, self.documents)

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What the model persists: JSON-able parameters and arrays (the solved discriminant included)."""
        arrays = {"class_weight": self.class_weight, "class_sum": self.class_sum, "second_moment": self.second_moment,
                  "entry_weights": self.entry_weights}
        if self._solved() is not None:
            coef, intercept, present = self._coef
            arrays |= {"coef": coef, "intercept": intercept, "present": present}
        return ({"shrinkage": self.shrinkage, "labels": self.labels, "documents": self.documents,
                 "entry_keys": self.entry_keys}, arrays)

    @classmethod
    def from_state(cls, params: dict, arrays: dict[str, np.ndarray],
                   vector_of: Callable[[str], np.ndarray]) -> DiscriminantModel:
        """The model :meth:`state` describes; ``vector_of(key)`` as for the constructor."""
        m = cls.__new__(cls)
        m.shrinkage = float(params["shrinkage"])
        m.vector_of = vector_of
        m.labels = list(params["labels"])
        m._li = {lab: i for i, lab in enumerate(m.labels)}
        m.documents = float(params["documents"])
        m.entry_keys = list(params["entry_keys"])
        m.class_weight, m.class_sum = arrays["class_weight"], arrays["class_sum"]
        m.second_moment, m.entry_weights = arrays["second_moment"], arrays["entry_weights"]
        k, dim = m.class_sum.shape if m.class_sum.ndim == 2 else (-1, -1)
        if k != len(m.labels) or m.class_weight.shape != (k,) or m.second_moment.shape != (dim, dim) \
                or m.entry_weights.shape != (len(m.entry_keys), k):
            raise ValueError("the discriminant's arrays do not fit its labels")
        m._coef = (arrays["coef"], arrays["intercept"], arrays["present"]) if "coef" in arrays else None
        return m

    @cached_property
    def _weights(self) -> dict[str, list[np.ndarray]]:
        """Issue key → the label weights of its entries (built on the first exclusion)."""
        out: dict[str, list[np.ndarray]] = {}
        for key, w in zip(self.entry_keys, self.entry_weights, strict=True):
            if key is not None:
                out.setdefault(key, []).append(w)
        return out

    # -- learning without retraining: the sufficient statistics move, the discriminant is solved again ----------
    def _writable(self) -> None:
        self.class_weight, self.class_sum = np.array(self.class_weight), np.array(self.class_sum)
        self.second_moment = np.array(self.second_moment)

    def add(self, key: str, labels: list[str], vector: np.ndarray) -> None:
        """One more document (``vector``: its unit vector) with these labels."""
        self._writable()
        for lab in labels:
            if lab not in self._li:
                self._li[lab] = len(self.labels)
                self.labels.append(lab)
                self.class_weight = np.append(self.class_weight, 0.0)
                self.class_sum = np.vstack([self.class_sum, np.zeros((1, self.class_sum.shape[1]))])
                self.entry_weights = np.hstack([self.entry_weights, np.zeros((len(self.entry_weights), 1))])
        x = np.asarray(vector, dtype=np.float64)
        w = label_shares(labels, self._li)
        self.class_weight += w
        self.class_sum += np.outer(w, x)
        self.second_moment += np.outer(x, x)
        self.documents += 1
        self.entry_keys.append(key)
        self.entry_weights = np.vstack([self.entry_weights, w[None, :]])
        self.__dict__.pop("_weights", None)
        self._stale = True  # solved again when next asked (one solve for many changes)

    def remove(self, key: str, vector: np.ndarray) -> None:
        """Subtract every document of ``key`` (``vector``: the vector it was added with)."""
        entries = [e for e, k in enumerate(self.entry_keys) if k == key]
        if not entries:
            return
        self._writable()
        x = np.asarray(vector, dtype=np.float64)
        for e in entries:
            w = self.entry_weights[e]
            self.class_weight -= w
            self.class_sum -= np.outer(w, x)
            self.second_moment -= np.outer(x, x)
            self.documents -= 1
            self.entry_keys[e] = None
        self.__dict__.pop("_weights", None)
        self._stale = True  # solved again when next asked (one solve for many changes)

    def _solve(self, weight: np.ndarray, sums: np.ndarray, moment: np.ndarray, n: float):
        """(coefficients, intercepts, the labels that have documents) or None when fewer than two labels do."""
        present = weight > 1e-9
        if present.sum() < 2 or n <= 0:
            return None
        means = sums[present] / weight[present, None]
        within = moment - (sums[present].T / weight[present]) @ sums[present]  # Σx xᵀ − Σ_k s_k s_kᵀ / w_k
        cov = within / n
        dim = cov.shape[0]
        scale = np.trace(cov) / dim
        if scale <= 1e-12:  # every document sits on its class mean: no spread to scale the identity by
            scale = 1.0
        cov = (1.0 - self.shrinkage) * cov + self.shrinkage * scale * np.eye(dim)
        coef = np.linalg.solve(cov, means.T).T
        intercept = -0.5 * np.einsum("kd,kd->k", means, coef) + np.log(weight[present] / weight[present].sum())
        return coef, intercept, np.flatnonzero(present)

    def _solved(self):
        if self.__dict__.get("_stale"):
            self._coef = self._solve(self.class_weight, self.class_sum, self.second_moment, self.documents)
            self._stale = False
        return self._coef

    def posterior(self, vector: np.ndarray, exclude: frozenset[str] = frozenset()) -> dict[str, float]:
        """P(label | vector) over this model's labels; empty when fewer than two labels have documents left."""
        solved = self._solved()
        left_out = [(key, w) for key in exclude for w in self._weights.get(key, ())]
        if left_out:
            weight, sums, moment = self.class_weight.copy(), self.class_sum.copy(), self.second_moment.copy()
            for key, w in left_out:
                x = np.asarray(self.vector_of(key), dtype=np.float64)
                weight -= w
                sums -= np.outer(w, x)
                moment -= np.outer(x, x)
            solved = self._solve(weight, sums, moment, self.documents - len(left_out))
        if solved is None:
            return {}
        coef, intercept, present = solved
        score = coef @ np.asarray(vector, dtype=np.float64) + intercept
        p = np.exp(score - score.max())
        p /= p.sum()
        return {self.labels[i]: float(v) for i, v in zip(present, p, strict=True)}


__all__ = ["SHRINKAGE", "DiscriminantModel"]
