"""Stand-ins for MiniLM in tests that need vectors but not the model: deterministic, fast, no download."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from failgraph.kg.embed import DIM


class HashEmbedder:
    """Deterministic unit vectors from each text's hash (unrelated texts get unrelated vectors), counting the texts
    it encodes."""

    def __init__(self):
        self.encoded = 0

    def encode(self, texts, *, show_progress=False):
        self.encoded += len(texts)
        rows = [np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:8], 16)).standard_normal(DIM)
                for t in texts]
        v = np.asarray(rows, dtype=np.float32).reshape(len(texts), DIM)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


class BowEmbedder:
    """Deterministic bag-of-words vectors (words hashed into DIM buckets): similar texts get similar vectors."""

    def encode(self, texts, *, show_progress=False):
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for r, t in enumerate(texts):
            for w in re.findall(r"[a-z0-9_]{3,}", t.lower()):
                out[r, int(hashlib.sha1(w.encode()).hexdigest()[:6], 16) % DIM] += 1.0
            out[r, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)
