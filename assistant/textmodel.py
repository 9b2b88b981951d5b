"""A multinomial naive-Bayes text model over the labeled past failures: which words point to which label.

It complements nearest-neighbour voting (which only sees the closest texts) with evidence pooled over every
failure of a label. Leaving issues out (a bot triaging issue N, leave-one-out evaluation) subtracts their counts,
so excluded issues never inform the answer.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

_TOKEN = re.compile(r"[a-z][a-z0-9_]+(?:\.[a-z0-9_]+)*|\d+(?:\.\d+)+")
STOP = frozenset(["the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "is", "are", "was", "were",
                  "be", "been", "it", "this", "that", "i", "my", "we", "our", "you", "your", "have", "has", "had",
                  "not", "no", "but", "when", "while", "from", "as", "at", "by", "after", "before", "then", "than",
                  "so", "if", "into", "out", "up", "can", "could", "would", "should", "using", "use", "used", "model",
                  "models"])


def tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOP and len(t) < 40]


class TextModel:
    def __init__(self, docs: list[tuple[str, str, list[str]]], alpha: float = 0.5, min_df: int = 2):
        """``docs``: (issue key, text, labels) triples."""
        df = Counter()
        toks = []
        for _, text, _ in docs:
            t = Counter(tokens(text))
            toks.append(t)
            df.update(t.keys())
        self.vocab = {w: i for i, w in enumerate(sorted(w for w, n in df.items() if n >= min_df))}
        self.labels = sorted({lab for _, _, labs in docs for lab in labs})
        self._li = {lab: i for i, lab in enumerate(self.labels)}
        self.alpha = alpha
        self.counts = np.zeros((len(self.labels), len(self.vocab)), dtype=np.float64)
        self.docs_per_label = np.zeros(len(self.labels))
        self.by_key: dict[str, list[tuple[list[int], Counter]]] = {}
        for (key, _, labs), t in zip(docs, toks, strict=True):
            vec = Counter({self.vocab[w]: n for w, n in t.items() if w in self.vocab})
            li = [self._li[lab] for lab in labs]
            for i in li:
                for j, n in vec.items():
                    self.counts[i, j] += n / len(li)
                self.docs_per_label[i] += 1 / len(li)
            self.by_key.setdefault(key, []).append((li, vec))

    def posterior(self, text: str, exclude: frozenset[str] = frozenset(), temperature: float = 1.0) -> dict[str, float]:
        q = Counter(self.vocab[w] for w in tokens(text) if w in self.vocab)
        if not q or not self.labels:
            return {}
        idx = np.fromiter(q.keys(), dtype=np.int64)
        cnt = np.fromiter(q.values(), dtype=np.float64)
        counts = self.counts[:, idx].copy()
        totals = self.counts.sum(axis=1)
        docs = self.docs_per_label.copy()
        pos = {int(j): k for k, j in enumerate(idx)}
        for key in exclude:
            for li, vec in self.by_key.get(key, []):
                for i in li:
                    docs[i] -= 1 / len(li)
                    for n in vec.values():
                        totals[i] -= n / len(li)
                    for j, n in vec.items():
                        if j in pos:
                            counts[i, pos[j]] -= n / len(li)
        v = len(self.vocab)
        logp = np.log((counts + self.alpha) / (totals[:, None] + self.alpha * v)) @ cnt
        logp += np.log((docs + 1) / (docs.sum() + len(docs)))
        logp = logp / (temperature * max(1.0, math.sqrt(cnt.sum())))
        p = np.exp(logp - logp.max())
        p /= p.sum()
        return dict(zip(self.labels, p.tolist(), strict=True))


__all__ = ["TextModel", "tokens"]
