"""Vector and keyword indexes over issue texts: faiss (GPU when present, CPU otherwise) and BM25, fused.

Small stores use exact inner-product search; past :data:`APPROXIMATE_THRESHOLD` vectors an approximate index is
used: an inverted file over exact vectors (IVF-Flat: ``4·√n`` k-means lists, :data:`IVF_PROBE_FRACTION` of them
probed). It builds several times faster than HNSW at the same recall and latency (``failgraph bench vectors`` on two
cores: 100k vectors in 15-20 s against 65-70 s for HNSW M 32; 1M in under two minutes, p50 5 ms, recall@10 1.0) and
keeps scores exact; below :data:`IVF_MIN_VECTORS` (too few vectors per list) an asked-for approximate index is HNSW.
Indexes persist next to the graph and are rebuilt only when their inputs (texts and model) change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

import bm25s
import faiss
import numpy as np
from pydantic import BaseModel

from .embed import DIM, MODEL_ID, Embedder

APPROXIMATE_THRESHOLD = 50_000
HNSW_M = 32
HNSW_EF_SEARCH = 128
HNSW_EF_CONSTRUCTION = 80
#: Below this many vectors an approximate index is HNSW, at or above it IVF-Flat.
IVF_MIN_VECTORS = 20_000
#: Share of the IVF lists probed per query (at least :data:`IVF_MIN_PROBE`).
IVF_PROBE_FRACTION = 1 / 64
IVF_MIN_PROBE = 8
#: Training points per IVF list (k-means on a sample) and k-means iterations: enough for the lists' purpose (routing
#: a query to the few lists holding its neighbours), far cheaper than faiss' defaults at a million vectors.
IVF_TRAIN_PER_LIST = 32
IVF_KMEANS_ITERATIONS = 10


def ivf_lists(n: int) -> int:
    """Number of IVF lists for ``n`` vectors: about 4·√n, a multiple of 64."""
    return max(64, int(round(4 * n ** 0.5 / 64)) * 64)


def ivf_probes(nlist: int) -> int:
    return min(nlist, max(IVF_MIN_PROBE, int(round(nlist * IVF_PROBE_FRACTION))))


class Hit(BaseModel):
    id: str
    score: float


def gpu_count() -> int:
    try:
        return faiss.get_num_gpus()
    except AttributeError:  # a CPU-only faiss build
        return 0


class VectorIndex:
    """Inner-product search over normalised vectors (cosine similarity), with exclusion of ids."""

    def __init__(self, ids: list[str], index: faiss.Index, kind: Literal["flat", "hnsw", "ivf"], device: str):
        self.ids = ids
        self.index = index
        self.kind = kind
        self.device = device
        self._pos = {d: i for i, d in enumerate(ids)}

    @classmethod
    def build(cls, ids: list[str], vectors: np.ndarray, *, approximate: bool | None = None,
              use_gpu: bool | None = None) -> "VectorIndex":
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        approximate = len(ids) > APPROXIMATE_THRESHOLD if approximate is None else approximate
        use_gpu = gpu_count() > 0 if use_gpu is None else use_gpu
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if approximate and len(vectors) >= IVF_MIN_VECTORS:
            return cls(ids, _build_ivf(vectors), "ivf", "cpu")
        if approximate:
            index = faiss.IndexHNSWFlat(vectors.shape[1] if len(vectors) else DIM, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
            index.add(vectors)
            return cls(ids, index, "hnsw", "cpu")  # HNSW has no GPU implementation in faiss
        index = faiss.IndexFlatIP(vectors.shape[1] if len(vectors) else DIM)
        index.add(vectors)
        if use_gpu:
            return cls(ids, faiss.index_cpu_to_all_gpus(index), "flat", "gpu")
        return cls(ids, index, "flat", "cpu")

    def __len__(self) -> int:
        return len(self.ids)

    def describe(self) -> str:
        """The index and its parameters, e.g. ``ivf (nlist 4096, nprobe 64) on cpu``."""
        if self.kind == "hnsw":
            h = self.index.hnsw
            return f"hnsw (M {HNSW_M}, efConstruction {h.efConstruction}, efSearch {h.efSearch}) on {self.device}"
        if self.kind == "ivf":
            ivf = faiss.extract_index_ivf(self.index)
            return f"ivf-flat (nlist {ivf.nlist}, nprobe {ivf.nprobe}) on {self.device}"
        return f"flat (exact) on {self.device}"

    def search(self, queries: np.ndarray, k: int, exclude: set[str] | frozenset[str] = frozenset()) -> list[list[Hit]]:
        """Top ``k`` hits per query row, skipping excluded ids."""
        if not len(self.ids) or k <= 0:
            return [[] for _ in range(len(queries))]
        want = min(len(self.ids), k + len(exclude))
        scores, idx = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), want)
        out = []
        for srow, irow in zip(scores, idx):
            hits = [Hit(id=self.ids[i], score=float(s)) for s, i in zip(srow, irow) if i >= 0
                    and self.ids[i] not in exclude]
            out.append(hits[:k])
        return out

    def save(self, directory: Path) -> None:
        index = faiss.index_gpu_to_cpu(self.index) if self.device == "gpu" else self.index
        faiss.write_index(index, str(directory / "vectors.faiss"))
        (directory / "vector_ids.json").write_text(json.dumps({"kind": self.kind, "ids": self.ids}), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, use_gpu: bool | None = None) -> "VectorIndex":
        meta = json.loads((directory / "vector_ids.json").read_text(encoding="utf-8"))
        index = faiss.read_index(str(directory / "vectors.faiss"))
        use_gpu = gpu_count() > 0 if use_gpu is None else use_gpu
        if meta["kind"] == "flat" and use_gpu:
            return cls(meta["ids"], faiss.index_cpu_to_all_gpus(index), "flat", "gpu")
        if meta["kind"] == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH
        if meta["kind"] == "ivf":
            ivf = faiss.extract_index_ivf(index)
            ivf.nprobe = ivf_probes(ivf.nlist)
            ivf.make_direct_map()  # reconstruct() for the similarity of keyword-only hits
        return cls(meta["ids"], index, meta["kind"], "cpu")


def _build_ivf(vectors: np.ndarray) -> faiss.Index:
    n, dim = vectors.shape
    nlist = ivf_lists(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = IVF_KMEANS_ITERATIONS
    sample = min(n, nlist * IVF_TRAIN_PER_LIST)
    rows = np.random.default_rng(0).choice(n, sample, replace=False) if sample < n else np.arange(n)
    index.train(vectors[np.sort(rows)])
    index.add(vectors)
    index.nprobe = ivf_probes(nlist)
    index.make_direct_map()  # reconstruct() for the similarity of keyword-only hits
    index.own_fields = True
    quantizer.this.disown()
    return index


class KeywordIndex:
    """BM25 over texts (error strings match better by tokens than by meaning)."""

    def __init__(self, ids: list[str], retriever: bm25s.BM25):
        self.ids = ids
        self.retriever = retriever

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> "KeywordIndex":
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        return cls(ids, retriever)

    def search(self, query: str, k: int, exclude: set[str] | frozenset[str] = frozenset()) -> list[Hit]:
        if not self.ids or k <= 0:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        want = min(len(self.ids), k + len(exclude))
        docs, scores = self.retriever.retrieve(tokens, k=want, show_progress=False, n_threads=1)
        hits = [Hit(id=self.ids[int(d)], score=float(s)) for d, s in zip(docs[0], scores[0])
                if s > 0 and self.ids[int(d)] not in exclude]
        return hits[:k]

    def save(self, directory: Path) -> None:
        self.retriever.save(str(directory / "bm25"))
        (directory / "bm25_ids.json").write_text(json.dumps(self.ids), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "KeywordIndex":
        return cls(json.loads((directory / "bm25_ids.json").read_text(encoding="utf-8")),
                   bm25s.BM25.load(str(directory / "bm25")))


def fuse(dense: list[Hit], keyword: list[Hit], *, k: int, rrf_k: int = 60, dense_weight: float = 1.0,
         keyword_weight: float = 1.0) -> list[Hit]:
    """Reciprocal-rank fusion of two ranked lists (scores of the result are the fused scores)."""
    scores: dict[str, float] = {}
    for w, hits in ((dense_weight, dense), (keyword_weight, keyword)):
        for rank, h in enumerate(hits):
            scores[h.id] = scores.get(h.id, 0.0) + w / (rrf_k + rank + 1)
    return [Hit(id=i, score=s) for i, s in sorted(scores.items(), key=lambda kv: -kv[1])[:k]]


class TextIndex:
    """The dense and keyword indexes over one set of documents, persisted together."""

    def __init__(self, ids: list[str], vectors: VectorIndex, keywords: KeywordIndex, fingerprint: str):
        self.ids = ids
        self.vectors = vectors
        self.keywords = keywords
        self.fingerprint = fingerprint

    @staticmethod
    def fingerprint_of(ids: list[str], texts: list[str]) -> str:
        h = hashlib.sha256(MODEL_ID.encode())
        for i, t in zip(ids, texts):
            h.update(i.encode("utf-8") + b"\x00" + t.encode("utf-8") + b"\x01")
        return h.hexdigest()

    @classmethod
    def build(cls, ids: list[str], texts: list[str], embedder: Embedder, *, show_progress: bool = False,
              approximate: bool | None = None, use_gpu: bool | None = None) -> "TextIndex":
        vecs = embedder.encode(texts, show_progress=show_progress)
        return cls(ids, VectorIndex.build(ids, vecs, approximate=approximate, use_gpu=use_gpu),
                   KeywordIndex.build(ids, texts), cls.fingerprint_of(ids, texts))

    def save(self, directory: Path) -> None:
        """Write atomically: into a temporary sibling directory, then rename over the old one."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            self.vectors.save(tmp)
            self.keywords.save(tmp)
            (tmp / "fingerprint").write_text(self.fingerprint, encoding="utf-8")
            old = None
            if directory.exists():
                old = directory.with_name(f".{directory.name}.old-{os.getpid()}")
                os.replace(directory, old)
            os.replace(tmp, directory)
            if old:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path, use_gpu: bool | None = None) -> "TextIndex":
        vectors = VectorIndex.load(directory, use_gpu=use_gpu)
        return cls(vectors.ids, vectors, KeywordIndex.load(directory),
                   (directory / "fingerprint").read_text(encoding="utf-8"))

    @classmethod
    def load_or_build(cls, directory: Path, ids: list[str], texts: list[str], embedder: Embedder,
                      **kw) -> tuple["TextIndex", bool]:
        """The persisted index if its fingerprint matches the inputs, else a fresh one (saved). Returns (index, built)."""
        fp = cls.fingerprint_of(ids, texts)
        try:
            if (directory / "fingerprint").read_text(encoding="utf-8") == fp:
                return cls.load(directory, use_gpu=kw.get("use_gpu")), False
        except (FileNotFoundError, OSError, ValueError, RuntimeError):
            pass
        index = cls.build(ids, texts, embedder, **kw)
        try:
            index.save(directory)
        except OSError:
            pass  # a read-only home still gets a working in-memory index
        return index, True


__all__ = ["APPROXIMATE_THRESHOLD", "IVF_MIN_VECTORS", "Hit", "KeywordIndex", "TextIndex", "VectorIndex", "fuse",
           "gpu_count", "ivf_lists", "ivf_probes"]
