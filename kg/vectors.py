"""Vector and keyword indexes over issue texts: faiss (GPU when present, CPU otherwise) and BM25, fused.

Small stores use exact inner-product search; past :data:`APPROXIMATE_THRESHOLD` vectors an approximate index is
used: an inverted file over exact vectors (IVF-Flat: ``4·√n`` k-means lists, :data:`IVF_PROBE_FRACTION` of them
probed). It builds several times faster than HNSW at the same recall and latency (``failgraph bench vectors`` on two
cores: 100k vectors in 11 s against 65-70 s for HNSW M 32; 1M in 67-79 s, p50 4.1 ms, recall@10 1.0) and keeps
scores exact; below :data:`IVF_MIN_VECTORS` (too few vectors per list) an asked-for approximate index is HNSW.
With a recall target (``failgraph build --recall``) the IVF index's ``nprobe`` is chosen by measuring recall@10 on a
held-out sample (:mod:`failgraph.kg.recall`) and persisted with it; without one it is :func:`ivf_probes`.
The threshold is where exact search stops being cheap: at 20k-40k vectors a single exact query takes 5-12 ms on two
cores, IVF-Flat 0.1-0.3 ms with recall@10 >= 0.998 (``bench vectors --size 20000|40000 [--data cases-hard]``).
Indexes persist next to the graph and are rebuilt only when their inputs (texts and model) change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Literal

import faiss
import numpy as np
from pydantic import BaseModel

from ..ingest.files import atomic_directory
from .embed import DIM, MODEL_ID, TextEmbedder, embedder_dim, embedder_key
from .gpu import GpuBackend, TorchFlatIndex, faiss_gpu_count, gpu_backend
from .keyword import KeywordIndex
from .recall import ProbeChoice, choose_nprobe

log = logging.getLogger("failgraph.index")

APPROXIMATE_THRESHOLD = 20_000
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
#: On a GPU, exact search stays fast far past :data:`APPROXIMATE_THRESHOLD` (a million vectors in well under a
#: millisecond per query): the automatic choice there is exact search up to this many bytes of vectors.
GPU_EXACT_MAX_BYTES = 8 * 2**30


def ivf_lists(n: int) -> int:
    """Number of IVF lists for ``n`` vectors: about 4·√n, a multiple of 64."""
    return max(64, round(4 * n ** 0.5 / 64) * 64)


def ivf_probes(nlist: int) -> int:
    return min(nlist, max(IVF_MIN_PROBE, round(nlist * IVF_PROBE_FRACTION)))


class Hit(BaseModel):
    id: str
    score: float


def gpu_count() -> int:
    """GPUs faiss sees (whether it can use them is :func:`~failgraph.kg.gpu.faiss_gpu_usable`)."""
    return faiss_gpu_count()


def _resolve_gpu(use_gpu: bool | None) -> GpuBackend | None:
    """The GPU backend to use: ``use_gpu=None`` picks one when present, True insists on one, False means CPU."""
    if use_gpu is False:
        return None
    backend = gpu_backend()
    if use_gpu and backend is None:
        raise ValueError("a GPU index was asked for, but neither faiss nor torch can use a GPU here")
    return backend


def _to_gpu(index: faiss.Index, backend: GpuBackend):
    """An exact CPU index (flat) moved to the GPU by ``backend``."""
    if backend == "faiss":
        return faiss.index_cpu_to_all_gpus(index)
    return TorchFlatIndex(index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), "float32"))


class VectorIndex:
    """Inner-product search over normalised vectors (cosine similarity), with exclusion of ids."""

    def __init__(self, ids: list[str], index: faiss.Index, kind: Literal["flat", "hnsw", "ivf"], device: str,
                 backend: GpuBackend | None = None, probe: ProbeChoice | None = None):
        self.ids: list[str | None] = list(ids)
        self.index = index
        self.kind = kind
        self.device = device
        self.backend = backend
        self.probe = probe  # the nprobe a recall target chose (IVF only)
        self._pos = {d: i for i, d in enumerate(ids)}
        self.dead = 0  # rows removed since loading (their ids are None)

    def vector(self, id_: str) -> np.ndarray:
        """The stored (normalised) vector of ``id_`` (KeyError if it is not indexed)."""
        return self.index.reconstruct(self._pos[id_])

    def add(self, id_: str, vector: np.ndarray) -> None:
        """Index one more vector (an exact index and an IVF list alike take it as a build would: an IVF index puts it
        in the list of its nearest centroid)."""
        if id_ in self._pos:
            raise ValueError(f"{id_} is indexed already: remove it first")
        self.index.add(np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1))
        self._pos[id_] = len(self.ids)
        self.ids.append(id_)

    def remove(self, id_: str) -> None:
        """Leave ``id_`` out of every answer from now on (its row stays, unnamed)."""
        self.ids[self._pos.pop(id_)] = None
        self.dead += 1

    @classmethod
    def build(cls, ids: list[str], vectors: np.ndarray, *, approximate: bool | None = None,
              use_gpu: bool | None = None, recall: float | None = None, dim: int = DIM,
              fit: np.ndarray | None = None) -> VectorIndex:
        """The index for ``vectors``; ``recall``: the recall@10 target that chooses an IVF index's ``nprobe``
        (ignored by exact and HNSW indexes); ``dim``: the width of an empty index; ``fit``: which vectors choose the
        kind of index and train the IVF lists (default all; learned past failures are added to what the others
        fitted, see :attr:`failgraph.kg.corpus.PastFailure.fits`)."""
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        backend = _resolve_gpu(use_gpu)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors):
            dim = vectors.shape[1]
        fitting = vectors if fit is None else vectors[np.asarray(fit, dtype=bool)]
        if approximate is None:
            approximate = len(fitting) > APPROXIMATE_THRESHOLD and not (backend
                                                                         and fitting.nbytes <= GPU_EXACT_MAX_BYTES)
        if approximate and len(fitting) >= IVF_MIN_VECTORS:
            index = build_ivf(vectors, fitting)
            probe = choose_nprobe(index, fitting, recall) if recall is not None else None
            return cls(ids, index, "ivf", "cpu", probe=probe)
        if approximate:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
            index.add(vectors)
            return cls(ids, index, "hnsw", "cpu")  # HNSW has no GPU implementation in faiss
        if backend == "torch":
            return cls(ids, TorchFlatIndex(vectors if len(vectors) else np.zeros((0, dim), "float32")), "flat", "gpu",
                       backend)
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        if backend:
            return cls(ids, _to_gpu(index, backend), "flat", "gpu", backend)
        return cls(ids, index, "flat", "cpu")

    def __len__(self) -> int:
        return len(self._pos)

    def describe(self) -> str:
        """The index and its parameters, e.g. ``ivf (nlist 4096, nprobe 64) on cpu``."""
        if self.kind == "hnsw":
            h = self.index.hnsw
            return f"hnsw (M {HNSW_M}, efConstruction {h.efConstruction}, efSearch {h.efSearch}) on {self.device}"
        if self.kind == "ivf":
            ivf = faiss.extract_index_ivf(self.index)
            chosen = (f", recall@10 {self.probe.recall_at_10:.3f} for target {self.probe.target}" if self.probe
                      else "")
            return f"ivf-flat (nlist {ivf.nlist}, nprobe {ivf.nprobe}{chosen}) on {self.device}"
        return f"flat (exact) on {self.device}" + (f" via {self.backend}" if self.backend else "")

    def search(self, queries: np.ndarray, k: int, exclude: set[str] | frozenset[str] = frozenset()) -> list[list[Hit]]:
        """Top ``k`` hits per query row, skipping excluded ids."""
        if not self._pos or k <= 0:
            return [[] for _ in range(len(queries))]
        want = min(len(self.ids), k + len(exclude) + self.dead)
        scores, idx = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), want)
        out = []
        for srow, irow in zip(scores, idx, strict=True):
            hits = [Hit(id=self.ids[i], score=float(s)) for s, i in zip(srow, irow, strict=True) if i >= 0
                    and self.ids[i] is not None and self.ids[i] not in exclude]
            out.append(hits[:k])
        return out

    def save(self, directory: Path) -> None:
        index = self._cpu_index()
        faiss.write_index(index, str(directory / "vectors.faiss"))
        meta = {"kind": self.kind, "ids": self.ids}
        if self.probe is not None:
            meta["probe"] = self.probe.model_dump()
        (directory / "vector_ids.json").write_text(json.dumps(meta), encoding="utf-8")

    def _cpu_index(self) -> faiss.Index:
        if self.backend == "torch":
            return self.index.to_faiss()
        if self.backend == "faiss":
            return faiss.index_gpu_to_cpu(self.index)
        return self.index

    @classmethod
    def load(cls, directory: Path, use_gpu: bool | None = None) -> VectorIndex:
        meta = json.loads((directory / "vector_ids.json").read_text(encoding="utf-8"))
        index = faiss.read_index(str(directory / "vectors.faiss"))
        backend = _resolve_gpu(use_gpu)
        if backend and (meta["kind"] == "flat" or (meta["kind"] == "ivf"
                                                   and index.ntotal * index.d * 4 <= GPU_EXACT_MAX_BYTES)):
            if meta["kind"] == "ivf":  # built on a machine without a GPU: exact search on this one
                index = _flat_from(index)
            return cls(meta["ids"], _to_gpu(index, backend), "flat", "gpu", backend)
        if meta["kind"] == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH
        probe = ProbeChoice.model_validate(meta["probe"]) if meta.get("probe") else None
        if meta["kind"] == "ivf":
            ivf = faiss.extract_index_ivf(index)
            ivf.nprobe = probe.nprobe if probe else ivf_probes(ivf.nlist)
            ivf.make_direct_map()  # reconstruct() for the similarity of keyword-only hits
        return cls(meta["ids"], index, meta["kind"], "cpu", probe=probe)


def _flat_from(index: faiss.Index) -> faiss.IndexFlatIP:
    """An exact index holding the vectors of ``index`` (which keeps them: flat or IVF-Flat with a direct map)."""
    flat = faiss.IndexFlatIP(index.d)
    if index.ntotal:
        ivf = faiss.try_extract_index_ivf(index)
        if ivf is not None:
            ivf.make_direct_map()
        flat.add(index.reconstruct_n(0, index.ntotal))
    return flat


def build_ivf(vectors: np.ndarray, fitting: np.ndarray | None = None) -> faiss.Index:
    """An IVF-Flat index of ``vectors`` whose lists are trained on ``fitting`` (default: the vectors)."""
    train = vectors if fitting is None else fitting
    n, dim = train.shape
    nlist = ivf_lists(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = IVF_KMEANS_ITERATIONS
    sample = min(n, nlist * IVF_TRAIN_PER_LIST)
    rows = np.random.default_rng(0).choice(n, sample, replace=False) if sample < n else np.arange(n)
    index.train(train[np.sort(rows)])
    index.add(vectors)
    index.nprobe = ivf_probes(nlist)
    index.make_direct_map()  # reconstruct() for the similarity of keyword-only hits
    index.own_fields = True
    quantizer.this.disown()
    return index


def fuse(dense: list[Hit], keyword: list[Hit], *, k: int, rrf_k: int = 60, dense_weight: float = 1.0,
         keyword_weight: float = 1.0) -> list[Hit]:
    """Reciprocal-rank fusion of two ranked lists (scores of the result are the fused scores)."""
    scores: dict[str, float] = {}
    for w, hits in ((dense_weight, dense), (keyword_weight, keyword)):
        for rank, h in enumerate(hits):
            scores[h.id] = scores.get(h.id, 0.0) + w / (rrf_k + rank + 1)
    return [Hit(id=i, score=s) for i, s in sorted(scores.items(), key=lambda kv: -kv[1])[:k]]


#: The file of a persisted text index naming the embedding tier that built it.
EMBEDDER_FILE = "embedder"


def recorded_embedder(directory: Path) -> str | None:
    """The embedding tier recorded with the text index in ``directory`` (None: none recorded or no index)."""
    try:
        return (directory / EMBEDDER_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


class TextIndex:
    """The dense and keyword indexes over one set of documents, persisted together."""

    def __init__(self, ids: list[str], vectors: VectorIndex, keywords: KeywordIndex, fingerprint: str,
                 embedder: str | None = None):
        self.ids = list(ids)
        self.vectors = vectors
        self.keywords = keywords
        self.fingerprint = fingerprint
        self.embedder = embedder  # the tier whose vectors these are (None: not recorded, MiniLM)

    @staticmethod
    def fingerprint_of(ids: list[str], texts: list[str], model_key: str = MODEL_ID) -> str:
        """The inputs' digest: the embedding model's key and every (id, text)."""
        h = hashlib.sha256(model_key.encode())
        for i, t in zip(ids, texts, strict=True):
            h.update(i.encode("utf-8") + b"\x00" + t.encode("utf-8") + b"\x01")
        return h.hexdigest()

    @classmethod
    def build(cls, ids: list[str], texts: list[str], embedder: TextEmbedder, *, show_progress: bool = False,
              approximate: bool | None = None, use_gpu: bool | None = None,
              recall: float | None = None, fit: list[bool] | None = None) -> TextIndex:
        vecs = embedder.encode(texts, show_progress=show_progress)
        return cls(ids, VectorIndex.build(ids, vecs, approximate=approximate, use_gpu=use_gpu, recall=recall,
                                          dim=embedder_dim(embedder), fit=fit),
                   KeywordIndex.build(ids, texts), cls.fingerprint_of(ids, texts, embedder_key(embedder)),
                   getattr(embedder, "name", None))

    def add(self, id_: str, text: str, vector: np.ndarray) -> None:
        """Index one more past failure (its index text and vector)."""
        self.vectors.add(id_, vector)
        self.keywords.add(id_, text)
        self.ids.append(id_)

    def remove(self, id_: str, text: str) -> None:
        """Leave out the past failure ``id_`` (indexed with ``text``)."""
        self.vectors.remove(id_)
        self.keywords.remove(id_, text)
        self.ids.remove(id_)

    def save(self, directory: Path) -> None:
        """Write atomically: into a temporary sibling directory, then rename over the old one."""
        with atomic_directory(directory) as tmp:
            self.vectors.save(tmp)
            self.keywords.save(tmp)
            (tmp / "fingerprint").write_text(self.fingerprint, encoding="utf-8")
            if self.embedder:
                (tmp / EMBEDDER_FILE).write_text(self.embedder, encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, use_gpu: bool | None = None) -> TextIndex:
        vectors = VectorIndex.load(directory, use_gpu=use_gpu)
        return cls(vectors.ids, vectors, KeywordIndex.load(directory),
                   (directory / "fingerprint").read_text(encoding="utf-8"), recorded_embedder(directory))

    @classmethod
    def _with_new_keywords(cls, directory: Path, ids: list[str], texts: list[str], fingerprint: str,
                           use_gpu: bool | None) -> TextIndex:
        """An index whose keyword part is missing, e.g. saved before BM25 kept counts (``bm25/``): its vectors are
        current, its keyword index is built again from the texts (no embedding) and saved beside them when the
        directory can be written."""
        vectors = VectorIndex.load(directory, use_gpu=use_gpu)
        if vectors.ids != list(ids):
            raise ValueError("the saved vectors do not match the texts")
        index = cls(ids, vectors, KeywordIndex.build(ids, texts), fingerprint, recorded_embedder(directory))
        if os.access(directory, os.W_OK):
            try:
                index.keywords.save(directory)
            except OSError as e:
                log.warning("could not save the keyword index in %s (%s): it is rebuilt on the next start",
                            directory.parent, e)
        return index

    @classmethod
    def load_or_build(cls, directory: Path, ids: list[str], texts: list[str], embedder: TextEmbedder,
                      **kw) -> tuple[TextIndex, bool]:
        """The persisted index if its fingerprint matches the inputs and the embedder's model, else a fresh one
        (saved).

        Returns (index, built)."""
        fp = cls.fingerprint_of(ids, texts, embedder_key(embedder))
        try:
            if (directory / "fingerprint").read_text(encoding="utf-8") == fp:
                try:
                    return cls.load(directory, use_gpu=kw.get("use_gpu")), False
                except FileNotFoundError:
                    return cls._with_new_keywords(directory, ids, texts, fp, kw.get("use_gpu")), False
        except (FileNotFoundError, OSError, ValueError, RuntimeError):
            pass
        writable = os.access(directory if directory.is_dir() else directory.parent, os.W_OK)
        if writable:
            log.warning("the text index in %s is missing or stale: embedding %d texts (this takes a while, once)",
                        directory.parent, len(texts))
        else:
            log.warning("the text index in %s is missing or stale and the snapshot cannot be written (read-only): "
                        "embedding %d texts in memory, which takes a while and is repeated on every start; run "
                        "`failgraph build` where the home is writable to persist it", directory.parent, len(texts))
        index = cls.build(ids, texts, embedder, **kw)
        if writable:
            try:
                index.save(directory)
            except OSError as e:
                log.warning("could not save the text index in %s (%s): it is rebuilt on the next start",
                            directory.parent, e)
        return index, True


__all__ = [
    "APPROXIMATE_THRESHOLD",
    "EMBEDDER_FILE",
    "GPU_EXACT_MAX_BYTES",
    "IVF_MIN_VECTORS",
    "Hit",
    "KeywordIndex",
    "TextIndex",
    "VectorIndex",
    "build_ivf",
    "fuse",
    "gpu_count",
    "ivf_lists",
    "ivf_probes",
    "recorded_embedder",
]
