"""A multinomial naive-Bayes text model over the labeled past failures: which words point to which label.

It complements nearest-neighbour voting (which only sees the closest texts) with evidence pooled over every
failure of a label. Leaving issues out (a bot triaging issue N, leave-one-out evaluation) subtracts their counts,
so excluded issues never inform the answer.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from functools import cached_property

import numpy as np

from .label_rows import register_labels

_TOKEN = re.compile(r"[a-z][a-z0-9_]+(?:\.[a-z0-9_]+)*|\d+(?:\.\d+)+")
STOP = frozenset(["the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "is", "are", "was", "were",
                  "be", "been", "it", "this", "that", "i", "my", "we", "our", "you", "your", "have", "has", "had",
                  "not", "no", "but", "when", "while", "from", "as", "at", "by", "after", "before", "then", "than",
                  "so", "if", "into", "out", "up", "can", "could", "would", "should", "using", "use", "used", "model",
                  "models"])


def tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOP and len(t) < 40]


class TextModel:
    def __init__(self, docs: list[tuple[str, str, list[str]]], alpha: float = 0.5, min_df: int = 2,
                 fit: list[bool] | None = None):
        """``docs``: (issue key, text, labels) triples; ``fit``: which of them choose the vocabulary (default all; the
        others are counted with it)."""
        df = Counter()
        toks = []
        for n, (_, text, _) in enumerate(docs):
            t = Counter(tokens(text))
            toks.append(t)
            if fit is None or fit[n]:
                df.update(t.keys())
        self.vocab = {w: i for i, w in enumerate(sorted(w for w, n in df.items() if n >= min_df))}
        self.labels = sorted({lab for _, _, labs in docs for lab in labs})
        self._li = {lab: i for i, lab in enumerate(self.labels)}
        self.alpha = alpha
        self.counts = np.zeros((len(self.labels), len(self.vocab)), dtype=np.float64)
        self.docs_per_label = np.zeros(len(self.labels))
        # per entry (document): its key (None once removed), its labels (label_idx[label_ptr[e]:...])
        self.entry_keys: list[str | None] = []
        label_idx: list[int] = []
        label_ptr = [0]
        for (key, _, labs), t in zip(docs, toks, strict=True):
            vec = self._vector(t)
            li = [self._li[lab] for lab in labs]
            for i in li:
                for j, n in vec.items():
                    self.counts[i, j] += n / len(li)
                self.docs_per_label[i] += 1 / len(li)
            self.entry_keys.append(key)
            label_idx += li
            label_ptr.append(len(label_idx))
        self.label_idx = np.array(label_idx, dtype=np.int64)
        self.label_ptr = np.array(label_ptr, dtype=np.int64)
        texts = [text for _, text, _ in docs]
        self._text_of: Callable[[int], str] = texts.__getitem__
        self._added: dict[int, str] = {}  # entry → text, for entries added after training or loading

    def _vector(self, term_counts: Counter) -> Counter:
        """Column → count of a text's known terms, in the order the text first uses them."""
        return Counter({self.vocab[w]: n for w, n in term_counts.items() if w in self.vocab})

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What the model persists: JSON-able parameters and arrays (no per-document text: an excluded issue's text
        comes back through ``text_of`` given to :meth:`from_state`)."""
        return ({"alpha": self.alpha, "labels": self.labels, "vocabulary": list(self.vocab),
                 "entry_keys": self.entry_keys},
                {"counts": self.counts, "docs_per_label": self.docs_per_label, "label_idx": self.label_idx,
                 "label_ptr": self.label_ptr})

    @classmethod
    def from_state(cls, params: dict, arrays: dict[str, np.ndarray], text_of: Callable[[str], str]) -> TextModel:
        """The model :meth:`state` describes; ``text_of(key)``: the text an issue was trained on."""
        m = cls.__new__(cls)
        m.alpha = float(params["alpha"])
        m.labels = list(params["labels"])
        m._li = {lab: i for i, lab in enumerate(m.labels)}
        m.vocab = {w: i for i, w in enumerate(params["vocabulary"])}
        m.entry_keys = list(params["entry_keys"])
        m.counts, m.docs_per_label = arrays["counts"], arrays["docs_per_label"]
        m.label_idx, m.label_ptr = arrays["label_idx"], arrays["label_ptr"]
        if m.counts.shape != (len(m.labels), len(m.vocab)) or m.docs_per_label.shape != (len(m.labels),) \
                or m.label_ptr.shape != (len(m.entry_keys) + 1,) or int(m.label_ptr[-1]) != len(m.label_idx):
            raise ValueError("the text model's arrays do not fit its labels, vocabulary and entries")
        keys = list(m.entry_keys)
        m._text_of = lambda e: text_of(keys[e])
        m._added = {}
        return m

    def _entry_text(self, e: int) -> str:
        return self._added[e] if e in self._added else self._text_of(e)

    # -- learning without retraining: adding is counting, removing subtracting ----------------------------------
    def _writable(self) -> None:
        """Own the arrays (loaded ones are read-only memory maps)."""
        if not self.counts.flags.writeable or not self.docs_per_label.flags.writeable:
            self.counts, self.docs_per_label = np.array(self.counts), np.array(self.docs_per_label)

    def add(self, key: str, text: str, labels: list[str]) -> None:
        """Count one more document with the vocabulary as it is (its words outside it are not counted, as for any
        document that did not choose the vocabulary)."""
        self._writable()
        self.counts, (self.docs_per_label,) = register_labels(labels, self._li, self.labels, self.counts,
                                                             [self.docs_per_label])
        vec = self._vector(Counter(tokens(text)))
        li = [self._li[lab] for lab in labels]
        for i in li:
            for j, n in vec.items():
                self.counts[i, j] += n / len(li)
            self.docs_per_label[i] += 1 / len(li)
        e = len(self.entry_keys)
        self.entry_keys.append(key)
        self._added[e] = text
        self.label_idx = np.concatenate([self.label_idx, np.array(li, dtype=np.int64)])
        self.label_ptr = np.append(self.label_ptr, len(self.label_idx))
        self.__dict__.pop("_by_key", None)

    def remove(self, key: str) -> None:
        """Subtract every document of ``key``."""
        self._writable()
        for e in self._by_key.get(key, ()):
            li = self.label_idx[self.label_ptr[e]:self.label_ptr[e + 1]].tolist()
            vec = self._vector(Counter(tokens(self._entry_text(e))))
            for i in li:
                for j, n in vec.items():
                    self.counts[i, j] -= n / len(li)
                self.docs_per_label[i] -= 1 / len(li)
            self.entry_keys[e] = None
            self._added.pop(e, None)
        self.__dict__.pop("_by_key", None)

    @cached_property
    def _by_key(self) -> dict[str, list[int]]:
        """Issue key → its entries (built on the first exclusion)."""
        out: dict[str, list[int]] = {}
        for e, key in enumerate(self.entry_keys):
            if key is not None:
                out.setdefault(key, []).append(e)
        return out

    def posterior(self, text: str, exclude: frozenset[str] = frozenset(), temperature: float = 1.0) -> dict[str, float]:
        q = Counter(self.vocab[w] for w in tokens(text) if w in self.vocab)
        if not q or not self.labels:
            return {}
        idx = np.fromiter(q.keys(), dtype=np.int64)
        cnt = np.fromiter(q.values(), dtype=np.float64)
        counts = self.counts[:, idx].copy()
        totals = self.counts.sum(axis=1)
        docs = np.array(self.docs_per_label, dtype=np.float64)
        pos = {int(j): k for k, j in enumerate(idx)}
        for key in exclude:
            for e in self._by_key.get(key, ()):
                li = self.label_idx[self.label_ptr[e]:self.label_ptr[e + 1]].tolist()
                vec = self._vector(Counter(tokens(self._entry_text(e))))
                for i in li:
                    docs[i] -= 1 / len(li)
                    for n in vec.values():
                        totals[i] -= n / len(li)
                    for j, n in vec.items():
                        if j in pos:
                            counts[i, pos[j]] -= n / len(li)
        live = self.docs_per_label > 1e-9  # a label every document of which was removed is no label
        if not live.all():
            counts, totals, docs = counts[live], totals[live], docs[live]
        labels = [lab for lab, ok in zip(self.labels, live, strict=True) if ok]
        if not labels:
            return {}
        v = len(self.vocab)
        logp = np.log((counts + self.alpha) / (totals[:, None] + self.alpha * v)) @ cnt
        logp += np.log((docs + 1) / (docs.sum() + len(docs)))
        logp = logp / (temperature * max(1.0, math.sqrt(cnt.sum())))
        p = np.exp(logp - logp.max())
        p /= p.sum()
        return dict(zip(labels, p.tolist(), strict=True))


__all__ = ["TextModel", "tokens"]
