"""Step 3 — retrieve similar past failures: dense (faiss) and keyword (BM25) search, fused by reciprocal rank."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from ..kg.corpus import PastFailure
from ..kg.vectors import fuse
from .knowledge import KnowledgeBase

CANDIDATES = 30


class Neighbour(BaseModel):
    failure: PastFailure
    similarity: float  # cosine similarity of the dense embeddings, the score users see
    fused: float  # reciprocal-rank fusion score used for ranking


def retrieve(kb: KnowledgeBase, text: str, query_vector: np.ndarray, *, k: int = 10,
             exclude: frozenset[str] = frozenset(), mode: str = "hybrid") -> list[Neighbour]:
    """The ``k`` most similar past failures, never one of ``exclude`` (issue keys)."""
    dense = kb.index.vectors.search(query_vector[None, :], CANDIDATES, exclude)[0] if mode != "keyword" else []
    keyword = kb.index.keywords.search(text, CANDIDATES, exclude) if mode != "dense" else []
    fused = fuse(dense, keyword, k=k)
    sims = {h.id: h.score for h in dense}
    out = []
    for h in fused:
        sim = sims.get(h.id)
        if sim is None:
            sim = float(np.dot(kb.vector_of(h.id), query_vector))
        out.append(Neighbour(failure=kb.failures[h.id], similarity=sim, fused=h.score))
    return out


__all__ = ["CANDIDATES", "Neighbour", "retrieve"]
