"""BM25 over texts, kept as counts and weighted when a query is scored, so that documents can be added and replaced
without re-indexing and the scores equal those of an index built over the same documents at once.

Tokens, stop words and scoring are those of ``bm25s`` (lower case, ``\\b\\w\\w+\\b`` tokens, its English stop words,
Lucene's BM25 with k1 1.5 and b 0.75, a query token counted as often as it occurs), with CJK runs split into
character bigrams (:mod:`failgraph.kg.cjk`). The index keeps each token's postings (document, term frequency) and
each document's length; IDF and the average length are computed from the live documents at query time. Documents
added after the index was saved sit in an in-memory tail of postings; a replaced document is marked dead.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np

from .cjk import cjk_bigrams

K1, B = 1.5, 0.75
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
#: Lucene's English stop words, as ``bm25s.stopwords.STOPWORDS_EN`` has them (a test keeps the two equal); written out
#: here because importing bm25s for them cost a one-shot ``failgraph diagnose`` about 0.15 s.
STOPWORDS_EN = ("a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no",
                "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this",
                "to", "was", "will", "with")
_STOP = frozenset(STOPWORDS_EN)
FILES = ("keyword_vocab.json", "keyword_indptr.npy", "keyword_docs.npy", "keyword_tf.npy", "keyword_doclen.npy")


def keyword_tokens(text: str) -> list[str]:
    """The text's BM25 tokens, in order (an empty text is one empty token, as ``bm25s`` makes it)."""
    toks = [t for t in _TOKEN.findall(cjk_bigrams(text).lower()) if t not in _STOP]
    return toks or [""]


class KeywordIndex:
    """BM25 over documents (error strings match better by tokens than by meaning)."""

    def __init__(self, ids: list[str], vocab: list[str], indptr: np.ndarray, docs: np.ndarray, tf: np.ndarray,
                 doc_len: np.ndarray):
        self.ids: list[str | None] = list(ids)
        self.vocab = {t: i for i, t in enumerate(vocab)}
        self.tokens = list(vocab)
        self.indptr, self.docs, self.tf = indptr, docs, tf
        self.doc_len = np.array(doc_len, dtype=np.float64)
        self.df = np.diff(indptr).astype(np.int64)
        self.alive = np.ones(len(ids), dtype=bool)
        self._pos = {d: i for i, d in enumerate(ids)}
        self._tail: dict[int, list[tuple[int, float]]] = {}  # token → postings of documents added since loading
        self._weights: tuple[float, np.ndarray] | None = None  # (average length, each saved posting's TF part)

    # -- building ------------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, ids: list[str], texts: list[str], chunk: int = 4096) -> KeywordIndex:
        """The index of ``texts`` (postings gathered chunk by chunk as arrays: memory stays near the postings')."""
        n = len(texts)
        vocab: dict[str, int] = {}
        get = vocab.setdefault
        doc_len = np.zeros(n, dtype=np.float64)
        toks, docs, tfs = [], [], []
        for at in range(0, n, chunk):
            tok_ids: list[int] = []
            doc_ids: list[int] = []
            for d in range(at, min(n, at + chunk)):
                ts = keyword_tokens(texts[d])
                doc_len[d] = len(ts)
                tok_ids.extend([get(t, len(vocab)) for t in ts])
                doc_ids.extend([d] * len(ts))
            pairs, counts = np.unique(np.array(tok_ids, dtype=np.int64) * max(n, 1) + np.array(doc_ids, np.int64),
                                      return_counts=True)
            toks.append((pairs // max(n, 1)).astype(np.int32))
            docs.append((pairs % max(n, 1)).astype(np.int32))
            tfs.append(counts.astype(np.float32))
        tok = np.concatenate(toks) if toks else np.zeros(0, np.int32)
        order = np.argsort(tok, kind="stable")  # by token, then (chunks in order, pairs sorted) by document
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(tok, minlength=len(vocab)))
        doc_arr = np.concatenate(docs)[order] if docs else np.zeros(0, np.int32)
        tf_arr = np.concatenate(tfs)[order] if tfs else np.zeros(0, np.float32)
        return cls(ids, list(vocab), indptr, doc_arr, tf_arr, doc_len)

    def add(self, id_: str, text: str) -> None:
        """Index one more document (replacing the live one of that id, if any)."""
        if id_ in self._pos and self.alive[self._pos[id_]]:
            raise ValueError(f"{id_} is indexed already: remove it first")
        d = len(self.ids)
        c = Counter(keyword_tokens(text))
        for t, n in c.items():
            j = self.vocab.get(t)
            if j is None:
                j = self.vocab[t] = len(self.tokens)
                self.tokens.append(t)
                self.df = np.append(self.df, 0)
            self._tail.setdefault(j, []).append((d, float(n)))
            self.df[j] += 1
        self.ids.append(id_)
        self._pos[id_] = d
        self.doc_len = np.append(self.doc_len, float(sum(c.values())))
        self.alive = np.append(self.alive, True)

    def remove(self, id_: str, text: str) -> None:
        """Mark the document of ``id_`` (indexed with ``text``) dead."""
        d = self._pos.pop(id_)
        self.alive[d] = False
        self.ids[d] = None
        for t in set(keyword_tokens(text)):
            self.df[self.vocab[t]] -= 1

    # -- answering ----------------------------------------------------------------------------------------------
    def _postings(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = (int(self.indptr[j]), int(self.indptr[j + 1])) if j + 1 < len(self.indptr) else (0, 0)
        docs, tf = self.docs[lo:hi], self.tf[lo:hi]
        tail = self._tail.get(j)
        if tail:
            docs = np.concatenate([docs, np.array([d for d, _ in tail], dtype=np.int32)])
            tf = np.concatenate([tf, np.array([n for _, n in tail], dtype=np.float32)])
        return docs, tf

    def _tf_part(self, tf: np.ndarray, docs: np.ndarray, avg: float, step: int = 1 << 22) -> np.ndarray:
        """BM25's term-frequency part of postings (computed in slices: the temporaries stay small)."""
        out = np.empty(len(tf), dtype=np.float32)
        for at in range(0, len(tf), step):
            t = tf[at:at + step].astype(np.float64)
            out[at:at + step] = t / (t + K1 * (1 - B + B * self.doc_len[docs[at:at + step]] / avg))
        return out

    def _saved_weights(self, avg: float) -> np.ndarray:
        """The TF part of every saved posting for this average length (computed once per set of documents)."""
        if self._weights is None or self._weights[0] != avg:
            self._weights = (avg, self._tf_part(self.tf, self.docs, avg))
        return self._weights[1]

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every document (dead ones 0) for ``query``."""
        scores = np.zeros(len(self.ids), dtype=np.float64)
        q = Counter(self.vocab[t] for t in keyword_tokens(query) if t and t in self.vocab)
        n = int(self.alive.sum())
        if not q or not n:
            return scores
        avg = float(self.doc_len[self.alive].sum()) / n
        saved = self._saved_weights(avg)
        for j, mult in q.items():
            df = int(self.df[j])
            if df <= 0:
                continue
            idf = mult * math.log(1 + (n - df + 0.5) / (df + 0.5))
            if j + 1 < len(self.indptr):
                lo, hi = int(self.indptr[j]), int(self.indptr[j + 1])
                scores[self.docs[lo:hi]] += idf * saved[lo:hi]
            tail = self._tail.get(j)
            if tail:
                docs = np.array([d for d, _ in tail], dtype=np.int64)
                tf = np.array([t for _, t in tail], dtype=np.float32)
                scores[docs] += idf * self._tf_part(tf, docs, avg)
        scores[~self.alive] = 0.0
        return scores

    def search(self, query: str, k: int, exclude: set[str] | frozenset[str] = frozenset()) -> list:
        from .vectors import Hit

        if not self._pos or k <= 0:
            return []
        s = self.scores(query)
        hits = np.flatnonzero(s > 0)
        if not len(hits):
            return []
        want = min(len(hits), k + len(exclude))
        top = hits[np.argpartition(-s[hits], want - 1)[:want]] if want < len(hits) else hits
        top = top[np.lexsort((top, -s[top]))]  # best first; ties by document position
        out = [Hit(id=self.ids[int(d)], score=float(s[d])) for d in top if self.ids[int(d)] not in exclude]
        return out[:k]

    # -- persistence --------------------------------------------------------------------------------------------
    def _compact(self) -> KeywordIndex:
        """The same live documents as a freshly built index (what is saved)."""
        if not self._tail and self.alive.all():
            return self
        live = np.flatnonzero(self.alive)
        remap = np.full(len(self.ids), -1, dtype=np.int64)
        remap[live] = np.arange(len(live))
        per_token = []
        for j in range(len(self.tokens)):
            docs, tf = self._postings(j)
            keep = self.alive[docs]
            per_token.append((remap[docs[keep]].astype(np.int32), tf[keep]))
        indptr = np.zeros(len(self.tokens) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(d) for d, _ in per_token])
        docs = np.concatenate([d for d, _ in per_token]) if per_token else np.zeros(0, np.int32)
        tf = np.concatenate([t for _, t in per_token]) if per_token else np.zeros(0, np.float32)
        return KeywordIndex([self.ids[i] for i in live], self.tokens, indptr, docs, tf, self.doc_len[live])

    def save(self, directory: Path) -> None:
        idx = self._compact()
        (directory / FILES[0]).write_text(json.dumps({"ids": idx.ids, "vocab": idx.tokens}), encoding="utf-8")
        for name, arr in zip(FILES[1:], (idx.indptr, idx.docs, idx.tf, idx.doc_len), strict=True):
            np.save(directory / name, np.ascontiguousarray(arr), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        meta = json.loads((directory / FILES[0]).read_text(encoding="utf-8"))
        indptr, docs, tf, doc_len = (np.load(directory / name, mmap_mode="r", allow_pickle=False)
                                     for name in FILES[1:])
        if len(indptr) != len(meta["vocab"]) + 1 or len(doc_len) != len(meta["ids"]) or len(docs) != len(tf):
            raise ValueError("the keyword index's arrays do not fit its vocabulary and documents")
        return cls(meta["ids"], meta["vocab"], indptr, docs, tf, doc_len)


__all__ = ["K1", "B", "KeywordIndex", "keyword_tokens"]
