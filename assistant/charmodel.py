"""A complement naive-Bayes model over character n-grams: which root-cause category a report's text resembles,
as a whole (the labels can be the concepts of any one taxonomy level).

Word tokens miss much of what error text carries (``CUDA_HOME``, ``cublasLt``, ``.so.12``, ``--tp 2``, versions glued
to names), and the leaf-level word model spreads thin over 27 leaves with a handful of cases each. Character 3–5-grams
(within word boundaries, TF-IDF weighted) pooled at a coarse level of the taxonomy see those fragments and have tens
to hundreds of cases per class. Complement NB (Rennie et al., 2003) estimates each class from the documents NOT in it,
which keeps the small classes from being swamped by the commonest one.

Leaving issues out subtracts their vectors from the class counts, so an excluded issue never informs the answer. (The
n-gram vocabulary and TF-IDF weights are fitted once on the texts, labels unseen, as BM25's are.) Memory stays bounded
on large corpora: the vocabulary is fitted on an even sample of documents, the counts are accumulated chunk by chunk,
and no per-document vectors are kept (an excluded issue's text is vectorised again when it is left out).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np

from .chargrams import CharTfidf
from .label_rows import register_labels
from .statistics import label_shares

#: Smoothing of the complement counts (chosen on a 20-fold split of the case base: 0.1–0.3 alike, 1.0 much worse).
ALPHA = 0.3
NGRAMS = (3, 5)
#: Vocabulary cap (the case base has about 34,000 n-grams seen in two documents or more).
MAX_FEATURES = 300_000
#: The vocabulary and IDF are fitted on at most this many documents (an even sample of larger corpora).
VOCABULARY_SAMPLE = 20_000
CHUNK = 5_000


class CharNGramModel:
    def __init__(self, docs: list[tuple[str, str, list[str]]], *, alpha: float = ALPHA, min_df: int = 2,
                 fit: list[bool] | None = None):
        """``docs``: (issue key, text, labels) triples; the labels are concepts of one taxonomy level; ``fit``: which of
        them fit the vocabulary and IDF (default all; the others are counted with them). Training fits the vocabulary
        with scikit-learn; answering uses only :class:`~failgraph.assistant.chargrams.CharTfidf`."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.alpha = alpha
        self.labels = sorted({lab for _, _, labs in docs for lab in labs})
        self._li = {lab: i for i, lab in enumerate(self.labels)}
        self.entry_keys: list[str | None] = []
        weights: list[np.ndarray] = []
        texts: list[str] = []
        fitting = docs if fit is None else [d for d, ok in zip(docs, fit, strict=True) if ok]
        fitter = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True, max_features=MAX_FEATURES,
                                 dtype=np.float32, min_df=max(1, min(min_df, len(fitting) // 2)))
        self.vectorizer = CharTfidf({}, np.zeros(0, dtype=np.float32), NGRAMS)
        self.counts = np.zeros((len(self.labels), 0))
        if fitting:
            step = max(1.0, len(fitting) / VOCABULARY_SAMPLE)
            sample = fitting if step == 1.0 else [fitting[int(i * step)] for i in range(VOCABULARY_SAMPLE)]
            fitted = fitter.fit_transform([t for _, t, _ in sample])
            self.vectorizer = CharTfidf.from_sklearn(fitter)
            self.counts = np.zeros((len(self.labels), fitted.shape[1]))
            if sample is docs:  # the sample is everything: its vectors are the counts' input
                self._add(docs, fitted, weights, texts)
            else:
                for at in range(0, len(docs), CHUNK):
                    chunk = docs[at:at + CHUNK]
                    self._add(chunk, fitter.transform([t for _, t, _ in chunk]), weights, texts)
        self.class_totals = self.counts.sum(axis=1)
        self.entry_weights = np.array(weights).reshape(len(weights), len(self.labels))
        self._text_of: Callable[[int], str] = texts.__getitem__
        self._added: dict[int, str] = {}

    def _add(self, docs: list[tuple[str, str, list[str]]], rows, weights: list, texts: list) -> None:
        w = np.array([label_shares(labs, self._li) for _, _, labs in docs])
        self.counts += np.asarray((rows.T @ w).T)
        for (key, text, _), wi in zip(docs, w, strict=True):
            self.entry_keys.append(key)
            weights.append(wi)
            texts.append(text)

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What the model persists: JSON-able parameters and arrays (no per-document text: an excluded issue's text
        comes back through ``text_of`` given to :meth:`from_state`)."""
        vocab = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.__getitem__)
        return ({"alpha": self.alpha, "labels": self.labels, "ngram_range": list(self.vectorizer.ngram_range),
                 "vocabulary": vocab, "entry_keys": self.entry_keys},
                {"idf": self.vectorizer.idf_, "counts": self.counts, "class_totals": self.class_totals,
                 "entry_weights": self.entry_weights})

    @classmethod
    def from_state(cls, params: dict, arrays: dict[str, np.ndarray], text_of: Callable[[str], str]) -> CharNGramModel:
        """The model :meth:`state` describes; ``text_of(key)``: the text an issue was trained on."""
        m = cls.__new__(cls)
        m.alpha = float(params["alpha"])
        m.labels = list(params["labels"])
        m._li = {lab: i for i, lab in enumerate(m.labels)}
        m.entry_keys = list(params["entry_keys"])
        m.vectorizer = CharTfidf({g: j for j, g in enumerate(params["vocabulary"])}, arrays["idf"],
                                 tuple(params["ngram_range"]))
        m.counts, m.class_totals, m.entry_weights = arrays["counts"], arrays["class_totals"], arrays["entry_weights"]
        if m.counts.shape != (len(m.labels), m.vectorizer.features) or m.class_totals.shape != (len(m.labels),) \
                or m.entry_weights.shape != (len(m.entry_keys), len(m.labels)):
            raise ValueError("the character model's arrays do not fit its labels and vocabulary")
        keys = list(m.entry_keys)
        m._text_of = lambda e: text_of(keys[e])
        m._added = {}
        return m

    def _entry_text(self, e: int) -> str:
        return self._added[e] if e in self._added else self._text_of(e)

    # -- learning without retraining: the vocabulary and IDF stay, counts move ----------------------------------
    def _writable(self) -> None:
        if not (self.counts.flags.writeable and self.class_totals.flags.writeable):
            self.counts, self.class_totals = np.array(self.counts), np.array(self.class_totals)
        if self.__dict__.get("_label_weight") is None:  # each label's documents, kept from the first change on
            self._label_weight = np.asarray(self.entry_weights, dtype=np.float64).sum(axis=0).reshape(len(self.labels))

    def add(self, key: str, text: str, labels: list[str]) -> None:
        """Count one more document (its TF-IDF vector under the fitted vocabulary and IDF)."""
        self._writable()
        new = len(set(labels) - self._li.keys())
        self.counts, (self.class_totals, self._label_weight) = register_labels(
            labels, self._li, self.labels, self.counts, [self.class_totals, self._label_weight])
        if new:
            self.entry_weights = np.hstack([self.entry_weights, np.zeros((len(self.entry_weights), new))])
        w = label_shares(labels, self._li)
        if self.features:
            idx, val = self.vectorizer.row(text)
            self.counts[:, idx] += w[:, None] * val.astype(np.float64)[None, :]
            self.class_totals += w * float(val.astype(np.float64).sum())
        e = len(self.entry_keys)
        self.entry_keys.append(key)
        self._added[e] = text
        self._label_weight += w
        self.entry_weights = np.vstack([self.entry_weights, w[None, :]])
        self.__dict__.pop("_entries", None)

    def remove(self, key: str) -> None:
        """Subtract every document of ``key``."""
        self._writable()
        for e in self._entries.get(key, ()):
            w = np.asarray(self.entry_weights[e], dtype=np.float64)
            if self.features:
                idx, val = self.vectorizer.row(self._entry_text(e))
                self.counts[:, idx] -= w[:, None] * val.astype(np.float64)[None, :]
                self.class_totals -= w * float(val.astype(np.float64).sum())
            self._label_weight -= w
            self.entry_keys[e] = None
            self._added.pop(e, None)
        self.__dict__.pop("_entries", None)

    @cached_property
    def _entries(self) -> dict[str, list[int]]:
        """Issue key → its entries (built on the first exclusion)."""
        out: dict[str, list[int]] = {}
        for e, key in enumerate(self.entry_keys):
            if key is not None:
                out.setdefault(key, []).append(e)
        return out

    @property
    def features(self) -> int:
        return self.counts.shape[1]

    def posterior(self, text: str, exclude: frozenset[str] = frozenset()) -> dict[str, float]:
        """P(label | text) over this model's labels; empty when the text has no known n-gram."""
        if len(self.labels) < 2 or not self.features:
            return {}
        idx, val32 = self.vectorizer.row(text)
        if not len(idx):
            return {}
        val = val32.astype(np.float64)
        counts = self.counts[:, idx]  # fancy indexing: a copy
        totals = np.array(self.class_totals, dtype=np.float64)
        for key in exclude:
            for e in self._entries.get(key, ()):
                w = self.entry_weights[e]
                row_idx, row_val = self.vectorizer.row(self._entry_text(e))
                dense = np.zeros(len(idx), dtype=np.float32)
                at = np.searchsorted(row_idx, idx)
                hit = (at < len(row_idx)) & (row_idx[np.minimum(at, len(row_idx) - 1)] == idx) if len(row_idx) \
                    else np.zeros(len(idx), dtype=bool)
                dense[hit] = row_val[at[hit]]
                counts -= w[:, None] * dense[None, :]
                totals -= w * row_val.sum()
        labels = self.labels
        live = self._live()
        if live is not None:  # labels every document of which was removed are no labels
            counts, totals = counts[live], totals[live]
            labels = [lab for lab, ok in zip(self.labels, live, strict=True) if ok]
            if len(labels) < 2:
                return {}
        complement = counts.sum(axis=0)[None, :] - counts + self.alpha
        complement_total = (totals.sum() - totals) + self.alpha * self.features
        jll = -(np.log(complement / complement_total[:, None]) @ val)
        p = np.exp(jll - jll.max())
        p /= p.sum()
        return dict(zip(labels, p.tolist(), strict=True))

    def _live(self) -> np.ndarray | None:
        """Which labels still have documents, when some lost all of theirs (None: all have)."""
        weight = self.__dict__.get("_label_weight")
        if weight is None:
            return None
        live = weight > 1e-9
        return None if live.all() else live


__all__ = ["ALPHA", "CharNGramModel"]
