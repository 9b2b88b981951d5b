"""Character n-gram TF-IDF vectors of one text, computed as scikit-learn's fitted ``TfidfVectorizer(analyzer="char_wb",
sublinear_tf=True, norm="l2", dtype=float32)`` computes them, bit for bit, from its vocabulary and IDF weights alone.

The character model fits its vocabulary with scikit-learn when it is trained (at build time); answering a report
needs only this transform, so the one-shot CLI and the server's start do not import scikit-learn and SciPy's stack
(over a second on two cores). ``tests/assistant/test_chargrams.py`` checks the equality against scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's VectorizerMixin._white_spaces


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """scikit-learn's ``char_wb`` analyzer: lower-cased, n-grams inside word boundaries, words padded with a space."""
    text = _WHITE_SPACES.sub(" ", text.lower())
    lo, hi = ngram_range
    grams: list[str] = []
    add = grams.append
    for word in text.split():
        w = " " + word + " "
        w_len = len(w)
        for n in range(lo, hi + 1):
            offset = 0
            add(w[offset:offset + n])
            while offset + n < w_len:
                offset += 1
                add(w[offset:offset + n])
            if offset == 0:  # a short word (w_len < n) counts once
                break
    return grams


class CharTfidf:
    """The transform of a fitted character TF-IDF vectorizer: ``vocabulary_`` (n-gram → column) and ``idf_``."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, ngram_range: tuple[int, int]):
        self.vocabulary_ = vocabulary
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))

    @classmethod
    def from_sklearn(cls, vectorizer) -> CharTfidf:
        """The transform of a fitted ``TfidfVectorizer`` (char_wb, sublinear TF, l2 norm, float32)."""
        return cls(dict(vectorizer.vocabulary_), vectorizer.idf_, vectorizer.ngram_range)

    @property
    def features(self) -> int:
        return len(self.idf_)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's vector as (column indices ascending, float32 values); both empty without a known n-gram."""
        counts: dict[int, int] = {}
        vocab = self.vocabulary_
        for gram in char_wb_ngrams(text, self.ngram_range):
            j = vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        val = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        order = np.argsort(idx, kind="stable")
        idx, val = idx[order], val[order]
        np.log(val, val)  # sublinear TF: 1 + log(tf), in float32 as scikit-learn
        val += 1.0
        val *= self.idf_[idx]
        # l2 norm as sklearn.utils.sparsefuncs_fast: float32 squares summed in order in double, divided in double
        total = float(np.cumsum((val * val).astype(np.float64))[-1])
        if total != 0.0:
            val = (val.astype(np.float64) / math.sqrt(total)).astype(np.float32)
        return idx, val

    def transform(self, texts: Sequence[str]):
        """The texts' vectors as a SciPy CSR matrix (as scikit-learn's ``transform`` returns them)."""
        import scipy.sparse as sp

        rows = [self.row(t) for t in texts]
        indptr = np.cumsum([0] + [len(i) for i, _ in rows])
        indices = np.concatenate([i for i, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
        data = np.concatenate([v for _, v in rows]) if rows else np.zeros(0, dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(rows), self.features), dtype=np.float32)


__all__ = ["CharTfidf", "char_wb_ngrams"]
