"""Vector search at scale: faiss exact search, the index failgraph picks
(:class:`~failgraph.kg.vectors.VectorIndex`) and numpy brute force over the same synthetic vectors, side by side:
build time, single-query latency, recall@10, memory."""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, Field

from ..kg.recall import ProbePoint, check_target, measure_curve, probe_ladder
from ..kg.vectors import APPROXIMATE_THRESHOLD, VectorIndex, build_ivf
from .measure import (
    TARGETS,
    Machine,
    gpu_name,
    percentile,
    recall_at_k,
    single_query_latencies,
    timed,
)
from .synthetic import (
    CasePool,
    VectorModel,
    case_base_vectors,
    seeded_rng,
    vector_matrix,
)

#: Synthetic vector sets: ``cases`` is calibrated on MiniLM (real embeddings of generated documents lie at cosine
#: 0.93 from their primary case; these at about 0.91), ``cases-hard`` spreads them much wider (about 0.72, like
#: distinct reports of one cause), ``gaussian`` needs no model (random centres).
VECTOR_DATA = {"cases": {}, "cases-hard": {"spread": 1.0, "rank": 32, "isotropic": 0.3}, "gaussian": {}}


def vector_model(kind: str = "cases", seed: int = 0, pool: CasePool | None = None) -> VectorModel:
    """The recipe of one of :data:`VECTOR_DATA` (``cases*`` embed the case base with MiniLM once, cached)."""
    if kind not in VECTOR_DATA:
        raise ValueError(f"unknown vector data {kind!r} (choose from {', '.join(VECTOR_DATA)})")
    if kind == "gaussian":
        return VectorModel.gaussian(clusters=len(pool.cases) if pool else 640, seed=seed)
    pool = pool or CasePool.default()
    m = VectorModel.from_cases(case_base_vectors(pool), pool, seed=seed, **VECTOR_DATA[kind])
    m.name = kind
    return m


# ------------------------------------------------------------------------------------------------------ vectors
class VectorRow(BaseModel):
    method: str
    device: str = "cpu"
    build_s: float
    p50_ms: float
    p99_ms: float
    recall_at_10: float
    memory_mib: float
    queries: int
    batch_queries_per_s: float | None = Field(
        default=None, description="throughput when all the queries are searched in one call (batch)")


class VectorBench(BaseModel):
    bench: str = "vectors"
    size: int
    dim: int
    data: str
    index: str = Field(description="the index failgraph picks at this size, with its parameters")
    neighbour_cosine: dict[str, float] = Field(description="how close the exact neighbours of the queries are")
    recall_at_10: float = Field(description="recall@10 of failgraph's pick against exact search")
    speedup_vs_bruteforce: float = Field(description="numpy brute-force p50 / failgraph's pick p50, same queries")
    p50_ms: float
    p99_ms: float
    recall_target: float | None = Field(default=None, description="--recall: the target that chose nprobe at build "
                                                                   "time (on a held-out sample of the corpus)")
    nprobe: int | None = Field(default=None, description="the IVF index's nprobe (None: not an IVF index)")
    curve: list[ProbePoint] = Field(default_factory=list, description="recall@10 and p50 of the IVF index at each "
                                                                      "nprobe, on the benchmark's queries")
    gpu_backend: str | None = Field(default=None, description="faiss or torch: how failgraph's pick used the GPU")
    faiss_gpu: str = Field(default="no GPU", description="whether faiss could search on the GPU here")
    gpu_name: str | None = None
    rows: list[VectorRow]
    machine: Machine
    targets: dict[str, float] = TARGETS


def _batch_rate(search_all: Callable[[np.ndarray], object], queries: np.ndarray) -> float:
    """Queries per second when ``queries`` are searched in one call (best of two; the first also warms up)."""
    best = min(timed(search_all, queries)[0] for _ in range(2))
    return round(len(queries) / best, 1) if best > 0 else float("inf")


def bench_vectors(size: int, *, queries: int = 200, brute_queries: int | None = None, seed: int = 0,
                  data: str = "cases", model: VectorModel | None = None, k: int = 10, gpu: bool | None = None,
                  recall: float | None = None, progress: Callable[[str], None] | None = None) -> VectorBench:
    """Exact faiss, failgraph's pick and numpy brute force over ``size`` synthetic vectors, measured side by side.

    With a GPU (``gpu=None``: when faiss sees one) the same queries also run on faiss' GPU exact index and on the
    IVF-Flat index moved to the GPU, and failgraph's pick is the one it makes on a GPU machine; the CPU pick is
    measured beside it. With ``recall`` (a recall@10 target) failgraph's IVF index chooses its ``nprobe`` as
    ``failgraph build --recall`` does; an IVF pick also gets its recall/latency curve over ``nprobe``."""
    import faiss

    from ..kg.gpu import (
        TorchFlatIndex,
        faiss_gpu_count,
        faiss_gpu_usable,
        gpu_backend,
        torch_cuda_available,
    )

    say = progress or (lambda _m: None)
    if recall is not None:
        check_target(recall)
    backend = gpu_backend() if gpu is not False else None
    if gpu and backend is None:
        raise ValueError("--gpu asked for, but neither faiss nor torch can use a GPU here")
    gpu = backend is not None
    faiss_gpus = faiss_gpu_count()
    faiss_state = ("usable" if faiss_gpu_usable() else f"sees {faiss_gpus} GPU(s) but cannot search on them "
                   "(no kernels for this GPU in this faiss build)") if faiss_gpus else "no GPU in this faiss build"
    model = model or vector_model(data, seed)
    say(f"generating {size:,} vectors ({model.name})")
    X = vector_matrix(size, seed, model)
    Q = model.sample(seeded_rng(seed + 1_000_003, "queries", 0), queries)
    brute_n = min(queries, brute_queries or (200 if size <= 100_000 else 40))
    rows: list[VectorRow] = []
    x_mib = X.nbytes / 2**20

    say("exact ground truth")
    flat = faiss.IndexFlatIP(X.shape[1])
    build_flat, _ = timed(flat.add, X)
    sims, truth = flat.search(Q, k)

    say("numpy brute force")

    def brute(q):
        s = X @ q
        top = np.argpartition(-s, k)[:k]
        return top[np.argsort(-s[top])]

    def brute_all(qs):
        s = X @ qs.T
        return np.argpartition(-s, k, axis=0)[:k]

    lat, found = single_query_latencies(brute, Q[:brute_n])
    rows.append(VectorRow(method="numpy brute force", build_s=0.0, p50_ms=statistics.median(lat),
                          p99_ms=percentile(lat, 0.99), recall_at_10=recall_at_k(found, truth), memory_mib=x_mib,
                          queries=brute_n, batch_queries_per_s=_batch_rate(brute_all, Q[:brute_n])))
    brute_p50 = rows[-1].p50_ms

    def measure(method: str, index, build_s: float, device: str = "cpu", memory: float | None = None,
                search_one: Callable | None = None, search_all: Callable | None = None) -> VectorRow:
        """Single-query latency and batch throughput of a raw faiss index (or of the given search functions)."""
        lat, found = single_query_latencies(search_one or (lambda q: index.search(q[None, :], k)[1][0]), Q)
        row = VectorRow(method=method, device=device, build_s=build_s, p50_ms=statistics.median(lat),
                        p99_ms=percentile(lat, 0.99), recall_at_10=recall_at_k(found, truth),
                        memory_mib=_index_mib(index) if memory is None else memory, queries=len(Q),
                        batch_queries_per_s=_batch_rate(search_all or (lambda qs: index.search(qs, k)), Q))
        rows.append(row)
        return row

    say("faiss exact (IndexFlatIP)")
    measure("faiss exact IndexFlatIP", flat, build_flat, memory=x_mib)
    flat = None
    gc.collect()

    if gpu and faiss_gpu_usable():
        res = faiss.StandardGpuResources()
        say("faiss GPU exact (GpuIndexFlatIP)")
        secs, g = timed(lambda: faiss.index_cpu_to_gpu(res, 0, _flat_index(X)))
        measure("faiss GPU exact GpuIndexFlatIP", g, secs, "gpu", x_mib)
        g = None
        if size >= 20_000:
            say("faiss GPU IVF-Flat (failgraph's CPU lists, moved to the GPU)")
            secs, g = timed(lambda: faiss.index_cpu_to_gpu(res, 0, build_ivf(X)))
            ivf = faiss.extract_index_ivf(faiss.index_gpu_to_cpu(g))
            measure(f"faiss GPU IVF-Flat (nlist {ivf.nlist}, nprobe {g.nprobe})", g, secs, "gpu", x_mib)
            g = ivf = None
        gc.collect()
    if backend == "faiss" and torch_cuda_available():
        say("torch GPU exact (matrix product + top-k)")
        secs, g = timed(TorchFlatIndex, X)
        measure("torch GPU exact (matmul + top-k)", g, secs, "gpu", x_mib)
        g = None
        gc.collect()

    ids = [str(i) for i in range(size)]
    picks: list[tuple[str, bool | None, bool]] = [("failgraph", None, gpu)]
    if gpu:
        picks.append(("failgraph without a GPU", None, False))
    elif size <= APPROXIMATE_THRESHOLD:
        picks.append(("forced approximate", True, False))
    pick_row = None
    index_desc = ""
    nprobe = None
    curve: list[ProbePoint] = []
    for label, approximate, on_gpu in picks:
        say(f"{label} index" + (f" (nprobe for recall@10 {recall})" if recall is not None else ""))
        build_s, vi = timed(VectorIndex.build, ids, X, approximate=approximate, use_gpu=on_gpu, recall=recall)
        desc = vi.describe()
        if pick_row is None and vi.kind == "ivf":
            ivf = faiss.extract_index_ivf(vi.index)
            nprobe = ivf.nprobe
            say(f"recall/latency curve over nprobe (nlist {ivf.nlist})")
            curve = measure_curve(vi.index, Q, truth, probe_ladder(ivf.nlist))
            ivf.nprobe = nprobe
        # through VectorIndex.search, as failgraph calls it (ids, scores and exclusion included)
        row = measure(f"{label}: {desc}", vi.index, build_s, vi.device, x_mib if vi.device == "gpu" else None,
                      search_one=lambda q, vi=vi: [int(h.id) for h in vi.search(q[None, :], k)[0]],
                      search_all=lambda qs, vi=vi: vi.search(qs, k))
        if pick_row is None:
            pick_row, index_desc = row, desc
        vi = None
        gc.collect()
    assert pick_row is not None
    return VectorBench(size=size, dim=X.shape[1], data=_describe_model(model), index=index_desc,
                       neighbour_cosine={"top1_median": round(float(np.median(sims[:, 0])), 3),
                                         f"top{k}_median": round(float(np.median(sims[:, k - 1])), 3)},
                       recall_at_10=round(pick_row.recall_at_10, 4),
                       speedup_vs_bruteforce=round(brute_p50 / pick_row.p50_ms, 2), p50_ms=pick_row.p50_ms,
                       p99_ms=pick_row.p99_ms, recall_target=recall, nprobe=nprobe, curve=curve,
                       gpu_backend=backend, faiss_gpu=faiss_state,
                       gpu_name=gpu_name() if gpu else None,
                       rows=rows, machine=Machine.now())


def _flat_index(X: np.ndarray):
    import faiss

    flat = faiss.IndexFlatIP(X.shape[1])
    flat.add(X)
    return flat


def _index_mib(index) -> float:
    import faiss

    try:
        return faiss.serialize_index(index).nbytes / 2**20
    except Exception:  # a GPU index
        return float("nan")


def _describe_model(m: VectorModel) -> str:
    return (f"{m.name}: {len(m.centres)} centres, low-rank spread {m.spread} over {m.directions.shape[1]} "
            f"directions, isotropic {m.isotropic}, unit vectors")
