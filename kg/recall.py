"""The recall knob of the IVF index: choose ``nprobe`` by measuring recall@10 on a held-out sample at build time.

A sample of the corpus' own vectors is held out: each is used as a query against the rest (the held-out rows are
excluded from both the exact answer and the IVF answer, so a query never finds itself). ``nprobe`` climbs a ladder
(1, 2, 4, ... lists) and the first rung whose recall@10 reaches the target is kept.
"""

from __future__ import annotations

import time

import faiss
import numpy as np
from pydantic import BaseModel, Field

#: Held-out queries measured at build time (recall is a mean over them: 256 queries x 10 neighbours).
RECALL_SAMPLE = 256
RECALL_K = 10
RECALL_ENV = "FAILGRAPH_RECALL"


class ProbePoint(BaseModel):
    nprobe: int
    recall_at_10: float
    p50_ms: float = Field(description="median single-query latency over the held-out sample")


class ProbeChoice(BaseModel):
    """The ``nprobe`` chosen for a recall target, and the curve it was read from (persisted with the index)."""

    target: float
    nprobe: int
    recall_at_10: float
    sample: int
    curve: list[ProbePoint]


def check_target(target: float) -> float:
    if not 0.0 < target <= 1.0:
        raise ValueError(f"a recall target is a share in (0, 1], not {target}")
    return target


def probe_ladder(nlist: int) -> list[int]:
    """1, 2, 4, ... up to ``nlist`` (which is always the last rung: exhaustive, recall 1)."""
    ladder, p = [], 1
    while p < nlist:
        ladder.append(p)
        p *= 2
    return [*ladder, nlist]


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f[f >= 0]) & set(t)) / k for f, t in zip(found, truth, strict=True)]))


def held_out_truth(vectors: np.ndarray, held: np.ndarray, k: int = RECALL_K) -> np.ndarray:
    """The exact top ``k`` of each held-out row among the other rows (held-out rows excluded)."""
    _, idx = faiss.knn(vectors[held], vectors, k + len(held), metric=faiss.METRIC_INNER_PRODUCT)
    drop = set(held.tolist())
    return np.asarray([[i for i in row if i not in drop][:k] for row in idx], dtype=np.int64)


def measure_curve(index: faiss.Index, queries: np.ndarray, truth: np.ndarray, ladder: list[int],
                  exclude: np.ndarray | None = None, *, stop_at: float | None = None) -> list[ProbePoint]:
    """Recall@k and median single-query latency of ``index`` (IVF) at each ``nprobe`` of ``ladder``; with
    ``stop_at``, the climb stops at the first rung reaching that recall."""
    k = truth.shape[1]
    sel = None
    if exclude is not None and len(exclude):
        ex = np.ascontiguousarray(exclude, dtype=np.int64)
        sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(len(ex), faiss.swig_ptr(ex)))
    points = []
    for p in ladder:
        params = faiss.SearchParametersIVF(nprobe=p, sel=sel) if sel is not None else \
            faiss.SearchParametersIVF(nprobe=p)
        found = np.empty((len(queries), k), dtype=np.int64)
        lat = []
        for i, q in enumerate(queries):
            t = time.perf_counter()
            _, idx = index.search(q[None, :], k, params=params)
            lat.append(time.perf_counter() - t)
            found[i] = idx[0]
        points.append(ProbePoint(nprobe=p, recall_at_10=round(recall_at_k(found, truth), 4),
                                 p50_ms=round(float(np.median(lat)) * 1000, 4)))
        if stop_at is not None and points[-1].recall_at_10 >= stop_at:
            break
    return points


def choose_nprobe(index: faiss.Index, vectors: np.ndarray, target: float, *, sample: int = RECALL_SAMPLE,
                  seed: int = 0) -> ProbeChoice:
    """The smallest ``nprobe`` of :func:`probe_ladder` whose recall@10 on a held-out sample of ``vectors`` reaches
    ``target`` (the index holds ``vectors`` in order); sets it on the index."""
    check_target(target)
    ivf = faiss.extract_index_ivf(index)
    n = len(vectors)
    held = np.sort(np.random.default_rng(seed).choice(n, min(sample, max(1, n // 10)), replace=False))
    truth = held_out_truth(vectors, held)
    curve = measure_curve(index, vectors[held], truth, probe_ladder(ivf.nlist), held, stop_at=target)
    best = curve[-1]
    ivf.nprobe = best.nprobe
    return ProbeChoice(target=target, nprobe=best.nprobe, recall_at_10=best.recall_at_10, sample=len(held),
                       curve=curve)


__all__ = ["RECALL_ENV", "RECALL_K", "RECALL_SAMPLE", "ProbeChoice", "ProbePoint", "check_target", "choose_nprobe",
           "held_out_truth", "measure_curve", "probe_ladder", "recall_at_k"]
