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

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

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
    def __init__(self, docs: list[tuple[str, str, list[str]]], *, alpha: float = ALPHA, min_df: int = 2):
        """``docs``: (issue key, text, labels) triples; the labels are concepts of one taxonomy level."""
        self.alpha = alpha
        self.labels = sorted({lab for _, _, labs in docs for lab in labs})
        self._li = {lab: i for i, lab in enumerate(self.labels)}
        self._by_key: dict[str, list[tuple[str, np.ndarray]]] = {}
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True,
                                          max_features=MAX_FEATURES, dtype=np.float32,
                                          min_df=max(1, min(min_df, len(docs) // 2)))
        self.counts = np.zeros((len(self.labels), 0))
        if docs:
            step = max(1.0, len(docs) / VOCABULARY_SAMPLE)
            sample = docs if step == 1.0 else [docs[int(i * step)] for i in range(VOCABULARY_SAMPLE)]
            fitted = self.vectorizer.fit_transform([t for _, t, _ in sample])
            self.counts = np.zeros((len(self.labels), fitted.shape[1]))
            if sample is docs:  # the sample is everything: its vectors are the counts' input
                self._add(docs, fitted)
            else:
                for at in range(0, len(docs), CHUNK):
                    chunk = docs[at:at + CHUNK]
                    self._add(chunk, self.vectorizer.transform([t for _, t, _ in chunk]))
        self.class_totals = self.counts.sum(axis=1)

    def _add(self, docs: list[tuple[str, str, list[str]]], rows) -> None:
        weights = np.array([label_shares(labs, self._li) for _, _, labs in docs])
        self.counts += np.asarray((rows.T @ weights).T)
        for (key, text, _), w in zip(docs, weights, strict=True):
            self._by_key.setdefault(key, []).append((text, w))

    @property
    def features(self) -> int:
        return self.counts.shape[1]

    def posterior(self, text: str, exclude: frozenset[str] = frozenset()) -> dict[str, float]:
        """P(label | text) over this model's labels; empty when the text has no known n-gram."""
        if len(self.labels) < 2 or not self.features:
            return {}
        q = self.vectorizer.transform([text])
        if q.nnz == 0:
            return {}
        idx, val = q.indices, q.data.astype(np.float64)
        counts = self.counts[:, idx]  # fancy indexing: a copy
        totals = self.class_totals.copy()
        for key in exclude:
            for doc_text, w in self._by_key.get(key, ()):
                row = self.vectorizer.transform([doc_text])
                counts -= w[:, None] * row[:, idx].toarray()
                totals -= w * row.sum()
        complement = counts.sum(axis=0)[None, :] - counts + self.alpha
        complement_total = (totals.sum() - totals) + self.alpha * self.features
        jll = -(np.log(complement / complement_total[:, None]) @ val)
        p = np.exp(jll - jll.max())
        p /= p.sum()
        return dict(zip(self.labels, p.tolist(), strict=True))


__all__ = ["ALPHA", "CharNGramModel"]
