"""Benchmarks at scale (10k … 1M synthetic issues): vector search, SPARQL and the whole diagnosis, each measured
against its baseline in the same run (figures, never pass/fail).

* :func:`bench_vectors` — faiss exact search, the index failgraph picks (:class:`~failgraph.kg.vectors.VectorIndex`)
  and numpy brute force over the same synthetic vectors: build time, single-query latency, recall@10, memory;
* :func:`bench_sparql` — the study's named queries on Oxigraph (on disk, as ``failgraph build`` publishes it) and
  on rdflib's in-memory store, over the same synthetic graph: load time and per-query time, with a check that both
  stores return the same rows;
* :func:`bench_e2e` — generation, graph build, corpus and index loading and ``diagnose`` latency and throughput over
  a synthetic corpus, with peak memory.

Every figure comes from a real measurement taken in the same process, so ratios (speed-ups, recall) compare like
with like on the same machine under the same load. Timings on a shared machine are noisy: latencies are medians
of many single queries, query times medians of repeats.
"""

from __future__ import annotations

import gc
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from .synthetic import (CasePool, SyntheticDocument, VectorModel, case_base_vectors,
                        default_distribution, document_vectors, synthetic_documents, synthetic_records, vector_matrix,
                        _rng)

#: Targets of issue #7, reported next to the figures (the benchmark never fails on them).
TARGETS = {
    "vectors_p50_ms_at_1m": 10.0, "vectors_recall_at_10": 0.95, "vectors_speedup_vs_bruteforce": 20.0,
    "sparql_query_s_at_1m": 1.0, "sparql_speedup_vs_rdflib_at_100k": 10.0,
    "diagnose_p50_ms_at_1m": 150.0, "build_peak_gib_at_1m": 24.0,
}
TABLE2_QUERY = "symptom_cause_category"

#: The Table-2 query as it stood before issue #7 (skos:broader* and four record properties per record); kept to
#: show what the label-profile shape buys (``bench sparql --legacy``).
LEGACY_TABLE2 = """PREFIX fg: <https://w3id.org/failgraph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?root_cause_category ?symptom_category (COUNT(DISTINCT ?record) AS ?records)
WHERE {
  ?record a fg:FailureRecord ; prov:wasAttributedTo fg:OpenLLMFailuresStudy ;
          fg:hasSymptom ?s ; fg:hasRootCause ?r .
  ?s skos:broader* ?sc . ?sc fg:taxonomyLevel fg:CategoryLevel ; skos:prefLabel ?symptom_category .
  ?r skos:broader* ?rc . ?rc fg:taxonomyLevel fg:CategoryLevel ; skos:prefLabel ?root_cause_category .
}
GROUP BY ?root_cause_category ?symptom_category
"""


# ------------------------------------------------------------------------------------------------------ helpers
def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # pragma: no cover - not Linux
        return peak_rss_mib()


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


class Machine(BaseModel):
    cpus: int
    load_average: list[float]
    python: str
    platform: str

    @classmethod
    def now(cls) -> "Machine":
        try:
            load = [round(x, 2) for x in os.getloadavg()]
        except OSError:  # pragma: no cover
            load = []
        return cls(cpus=os.cpu_count() or 0, load_average=load, python=platform.python_version(),
                   platform=platform.platform(terse=True))


@contextmanager
def _workdir(workdir: Path | None, keep: bool = False) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="failgraph-bench-", dir=workdir))
    try:
        yield d
    finally:
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


def _timed(fn: Callable, *a, **kw) -> tuple[float, object]:
    t = time.perf_counter()
    v = fn(*a, **kw)
    return time.perf_counter() - t, v


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
    gpu_backend: str | None = Field(default=None, description="faiss or torch: how failgraph's pick used the GPU")
    faiss_gpu: str = Field(default="no GPU", description="whether faiss could search on the GPU here")
    gpu_name: str | None = None
    rows: list[VectorRow]
    machine: Machine
    targets: dict[str, float] = TARGETS


def _single_query_latencies(search: Callable[[np.ndarray], list[list[str] | np.ndarray]], queries: np.ndarray,
                            ) -> tuple[list[float], list]:
    lat, results = [], []
    for q in queries:
        t = time.perf_counter()
        r = search(q)
        lat.append((time.perf_counter() - t) * 1000)
        results.append(r)
    return lat, results


def _batch_rate(search_all: Callable[[np.ndarray], object], queries: np.ndarray) -> float:
    """Queries per second when ``queries`` are searched in one call (best of two; the first also warms up)."""
    best = min(_timed(search_all, queries)[0] for _ in range(2))
    return round(len(queries) / best, 1) if best > 0 else float("inf")


def _recall(found: list, truth: np.ndarray, k: int = 10) -> float:
    return float(np.mean([len(set(map(int, f[:k])) & set(map(int, t[:k]))) / k for f, t in zip(found, truth)]))


def _gpu_name() -> str | None:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # torch without CUDA, or no torch
        return None


def bench_vectors(size: int, *, queries: int = 200, brute_queries: int | None = None, seed: int = 0,
                  data: str = "cases", model: VectorModel | None = None, k: int = 10, gpu: bool | None = None,
                  progress: Callable[[str], None] | None = None) -> VectorBench:
    """Exact faiss, failgraph's pick and numpy brute force over ``size`` synthetic vectors, measured side by side.

    With a GPU (``gpu=None``: when faiss sees one) the same queries also run on faiss' GPU exact index and on the
    IVF-Flat index moved to the GPU, and failgraph's pick is the one it makes on a GPU machine; the CPU pick is
    measured beside it."""
    import faiss

    from .gpu import TorchFlatIndex, faiss_gpu_count, faiss_gpu_usable, gpu_backend, torch_cuda_available
    from .vectors import APPROXIMATE_THRESHOLD, VectorIndex, _build_ivf

    say = progress or (lambda _m: None)
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
    Q = model.sample(_rng(seed + 1_000_003, "queries", 0), queries)
    brute_n = min(queries, brute_queries or (200 if size <= 100_000 else 40))
    rows: list[VectorRow] = []
    x_mib = X.nbytes / 2**20

    say("exact ground truth")
    flat = faiss.IndexFlatIP(X.shape[1])
    build_flat, _ = _timed(flat.add, X)
    sims, truth = flat.search(Q, k)

    say("numpy brute force")

    def brute(q):
        s = X @ q
        top = np.argpartition(-s, k)[:k]
        return top[np.argsort(-s[top])]

    def brute_all(qs):
        s = X @ qs.T
        return np.argpartition(-s, k, axis=0)[:k]

    lat, found = _single_query_latencies(brute, Q[:brute_n])
    rows.append(VectorRow(method="numpy brute force", build_s=0.0, p50_ms=statistics.median(lat),
                          p99_ms=percentile(lat, 0.99), recall_at_10=_recall(found, truth), memory_mib=x_mib,
                          queries=brute_n, batch_queries_per_s=_batch_rate(brute_all, Q[:brute_n])))
    brute_p50 = rows[-1].p50_ms

    def measure(method: str, index, build_s: float, device: str = "cpu", memory: float | None = None,
                search_one: Callable | None = None, search_all: Callable | None = None) -> VectorRow:
        """Single-query latency and batch throughput of a raw faiss index (or of the given search functions)."""
        lat, found = _single_query_latencies(search_one or (lambda q: index.search(q[None, :], k)[1][0]), Q)
        row = VectorRow(method=method, device=device, build_s=build_s, p50_ms=statistics.median(lat),
                        p99_ms=percentile(lat, 0.99), recall_at_10=_recall(found, truth),
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
        secs, g = _timed(lambda: faiss.index_cpu_to_gpu(res, 0, _flat_index(X)))
        measure("faiss GPU exact GpuIndexFlatIP", g, secs, "gpu", x_mib)
        g = None
        if size >= 20_000:
            say("faiss GPU IVF-Flat (failgraph's CPU lists, moved to the GPU)")
            secs, g = _timed(lambda: faiss.index_cpu_to_gpu(res, 0, _build_ivf(X)))
            ivf = faiss.extract_index_ivf(faiss.index_gpu_to_cpu(g))
            measure(f"faiss GPU IVF-Flat (nlist {ivf.nlist}, nprobe {g.nprobe})", g, secs, "gpu", x_mib)
            g = ivf = None
        gc.collect()
    if backend == "faiss" and torch_cuda_available():
        say("torch GPU exact (matrix product + top-k)")
        secs, g = _timed(TorchFlatIndex, X)
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
    for label, approximate, on_gpu in picks:
        say(f"{label} index")
        build_s, vi = _timed(VectorIndex.build, ids, X, approximate=approximate, use_gpu=on_gpu)
        desc = vi.describe()
        # through VectorIndex.search, as failgraph calls it (ids, scores and exclusion included)
        row = measure(f"{label}: {desc}", vi.index, build_s, vi.device, x_mib if vi.device == "gpu" else None,
                      search_one=lambda q: [int(h.id) for h in vi.search(q[None, :], k)[0]],
                      search_all=lambda qs: vi.search(qs, k))
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
                       p99_ms=pick_row.p99_ms, gpu_backend=backend, faiss_gpu=faiss_state,
                       gpu_name=_gpu_name() if gpu else None,
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


# ---------------------------------------------------------------------------------------------------- embeddings
class EmbedRow(BaseModel):
    device: str
    precision: str
    batch_size: int
    texts: int
    seconds: float
    texts_per_s: float
    single_p50_ms: float = Field(description="one report at a time, as diagnose embeds it")
    single_p99_ms: float


class EmbedBench(BaseModel):
    bench: str = "embed"
    model: str
    texts: int
    mean_chars: float
    gpu_name: str | None
    speedup_gpu_vs_cpu: float | None = Field(description="best GPU texts/s over CPU texts/s, same texts")
    rows: list[EmbedRow]
    machine: Machine


def embed_devices() -> list[tuple[str, bool]]:
    """(device, half precision) pairs this machine can run: CPU in float32, and CUDA in float32 and float16."""
    pairs = [("cpu", False)]
    try:
        import torch

        if torch.cuda.is_available():
            pairs += [("cuda", False), ("cuda", True)]
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return pairs


def bench_embed(texts: int = 2000, *, devices: list[tuple[str, bool]] | None = None, batch_size: int = 64,
                single: int = 50, seed: int = 0, progress: Callable[[str], None] | None = None) -> EmbedBench:
    """MiniLM embedding throughput (texts/s, batched) and single-report latency on each device, over the same
    synthetic case-like documents (title + report, as the index embeds them)."""
    from .embed import MODEL_ID, Embedder
    from .synthetic import synthetic_cases

    say = progress or (lambda _m: None)
    docs = [f"{c.title}\n{c.report}" for c in synthetic_cases(texts, seed)]
    rows: list[EmbedRow] = []
    for device, half in devices or embed_devices():
        precision = "fp16" if half else "fp32"
        say(f"MiniLM on {device} ({precision}): {len(docs):,} texts in batches of {batch_size}")
        emb = Embedder(device=device, batch_size=batch_size, half=half)
        emb.encode(docs[:batch_size])  # load and warm up outside the timing
        secs, _ = _timed(emb.encode, docs)
        lat, _ = _single_query_latencies(lambda t: emb.encode([t]), docs[:single])  # type: ignore[arg-type]
        rows.append(EmbedRow(device=device, precision=precision, batch_size=batch_size, texts=len(docs),
                             seconds=round(secs, 3), texts_per_s=round(len(docs) / secs, 1),
                             single_p50_ms=round(statistics.median(lat), 2), single_p99_ms=round(percentile(lat, 0.99), 2)))
        emb = None
        gc.collect()
    cpu = [r.texts_per_s for r in rows if r.device == "cpu"]
    gpu = [r.texts_per_s for r in rows if r.device != "cpu"]
    return EmbedBench(model=MODEL_ID, texts=len(docs), mean_chars=round(float(np.mean([len(d) for d in docs])), 1),
                      gpu_name=_gpu_name() if gpu else None,
                      speedup_gpu_vs_cpu=round(max(gpu) / cpu[0], 1) if gpu and cpu else None, rows=rows,
                      machine=Machine.now())


# -------------------------------------------------------------------------------------------------------- SPARQL
class QueryTiming(BaseModel):
    name: str
    rows: int
    oxigraph_s: float
    oxigraph_cold_s: float
    rdflib_s: float | None = None
    speedup_vs_rdflib: float | None = None
    same_rows: bool | None = None


class SparqlBench(BaseModel):
    bench: str = "sparql"
    size: int
    quads: int
    distribution: str
    write_nquads_s: float
    oxigraph_load_s: float
    rdflib_load_s: float | None
    rdflib: str = Field(description="'measured', or why rdflib was skipped")
    speedup_vs_rdflib: float | None = Field(description=f"rdflib / Oxigraph time of {TABLE2_QUERY} (Table 2)")
    max_query_s: float
    queries: list[QueryTiming]
    legacy_table2_s: float | None = None
    peak_rss_mib: float
    machine: Machine
    targets: dict[str, float] = TARGETS


def _rows_key(rows: list[dict]) -> list[tuple]:
    return sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows)


def bench_sparql(size: int, *, seed: int = 0, repeats: int = 3, rdflib_max: int = 100_000,
                 rdflib_queries: str = "all", legacy: bool = False, dataset: Path | None = None,
                 workdir: Path | None = None, keep: bool = False,
                 progress: Callable[[str], None] | None = None) -> SparqlBench:
    """The study's named queries on Oxigraph and rdflib over ``size`` synthetic labeled records."""
    import rdflib as _rdflib

    from .build import load_store, write_nquads
    from .named_queries import get_query, list_queries
    from .store import OxigraphStore, RdflibStore

    say = progress or (lambda _m: None)
    dist = default_distribution(dataset)
    study = [q for q in list_queries() if q.kind == "study"]
    with _workdir(workdir, keep) as d:
        nq = d / "graph.nq"
        say(f"writing {size:,} synthetic records as N-Quads")
        write_s, quads = _timed(write_nquads, nq, synthetic_records(size, seed, dist))
        say("bulk-loading into Oxigraph (on disk) and compacting it, as failgraph build does")
        load_s, _ = _timed(load_store, d / "oxigraph", nq)
        ox = OxigraphStore(d / "oxigraph", read_only=True)
        timings: dict[str, QueryTiming] = {}
        ox_rows: dict[str, list[dict]] = {}
        for q in study:
            say(f"Oxigraph: {q.name}")
            cold, rows = _timed(lambda: list(ox.select_rows(q.text)))
            ts = [_timed(lambda: list(ox.select_rows(q.text)))[0] for _ in range(repeats)]
            ox_rows[q.name] = rows
            timings[q.name] = QueryTiming(name=q.name, rows=len(rows), oxigraph_s=statistics.median(ts),
                                          oxigraph_cold_s=cold)
        legacy_s = None
        if legacy:
            say("Oxigraph: legacy Table-2 shape")
            legacy_s, legacy_rows = _timed(lambda: list(ox.select_rows(LEGACY_TABLE2)))
            if _rows_key(legacy_rows) != _rows_key(ox_rows[TABLE2_QUERY]):
                raise AssertionError("the legacy and the current Table-2 queries disagree")
        ox = None
        rd_load = None
        if size > rdflib_max:
            rdflib_note = f"skipped: {size:,} records is over --rdflib-max {rdflib_max:,} (too slow to load and query)"
        else:
            say("loading the same N-Quads into rdflib")
            t = time.perf_counter()
            rd = RdflibStore()
            rd.dataset.parse(str(nq), format="nquads")
            rd_load = time.perf_counter() - t
            chosen = study if rdflib_queries == "all" else [get_query(TABLE2_QUERY)]
            for q in chosen:
                say(f"rdflib: {q.name}")
                secs, rows = _timed(lambda: list(rd.select_rows(q.text)))
                tm = timings[q.name]
                tm.rdflib_s = secs
                tm.speedup_vs_rdflib = round(secs / tm.oxigraph_s, 2) if tm.oxigraph_s > 0 else None
                tm.same_rows = _rows_key(rows) == _rows_key(ox_rows[q.name])
            rdflib_note = "measured" if rdflib_queries == "all" else f"measured ({TABLE2_QUERY} only)"
            del rd
            gc.collect()
        _ = _rdflib
    t2 = timings[TABLE2_QUERY]
    return SparqlBench(size=size, quads=quads, distribution=dist.source, write_nquads_s=write_s,
                       oxigraph_load_s=load_s, rdflib_load_s=rd_load, rdflib=rdflib_note,
                       speedup_vs_rdflib=t2.speedup_vs_rdflib, max_query_s=max(t.oxigraph_s for t in timings.values()),
                       queries=list(timings.values()), legacy_table2_s=legacy_s, peak_rss_mib=peak_rss_mib(),
                       machine=Machine.now())


# ------------------------------------------------------------------------------------------------------------ e2e
class Phase(BaseModel):
    name: str
    seconds: float
    items: int
    per_s: float
    rss_mib: float
    peak_rss_mib: float
    note: str = ""


class E2EBench(BaseModel):
    bench: str = "e2e"
    size: int
    distribution: str
    index: str
    recall_at_10: float = Field(description="recall@10 of the corpus index against exact search (sampled queries)")
    speedup_vs_bruteforce: float = Field(description="numpy brute-force p50 / the corpus index's p50")
    diagnose_p50_ms: float
    diagnose_p99_ms: float
    diagnose_mean_ms: float
    query_embedding_p50_ms: float = Field(description="of which: MiniLM embedding of the report (p50)")
    diagnose_without_embedding_p50_ms: float = Field(
        description="p50 of diagnose less p50 of the report's embedding: the graph, index and ranking work")
    batch_reports_per_s: float
    reports: int
    graph: bool = Field(description="whether the graph was built and the corpus read from it (else made in memory, "
                                    "and the build figures cover the indexes only)")
    build_issues_per_s: float = Field(description="records + documents per second: generate, map, N-Quads, load")
    build_with_embeddings_issues_per_s: float = Field(
        description="the same plus MiniLM embeddings of every document (embedding rate measured on a sample)")
    embed_texts_per_s: float
    peak_rss_mib: float
    phases: list[Phase]
    machine: Machine
    targets: dict[str, float] = TARGETS


def _phase(name: str, seconds: float, items: int, note: str = "") -> Phase:
    return Phase(name=name, seconds=round(seconds, 3), items=items, per_s=round(items / seconds, 1) if seconds else 0,
                 rss_mib=round(rss_mib(), 1), peak_rss_mib=round(peak_rss_mib(), 1), note=note)


class TimingEmbedder:
    """Wraps an embedder and records how long each ``encode`` call takes (the query embedding inside diagnose)."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.times_ms: list[float] = []

    def encode(self, texts, **kw):
        t = time.perf_counter()
        v = self.embedder.encode(texts, **kw)
        self.times_ms.append((time.perf_counter() - t) * 1000)
        return v

    def __getattr__(self, name):
        return getattr(self.embedder, name)


def _add(phases: list[Phase], say: Callable[[str], None], p: Phase) -> None:
    phases.append(p)
    say(f"  {p.name}: {p.seconds:,.1f} s, {p.per_s:,.0f}/s, RSS {p.rss_mib:,.0f} MiB (peak {p.peak_rss_mib:,.0f}) "
        f"{p.note}")


def _memory_corpus(size: int, seed: int, dist, pool: CasePool, meta: list):
    """What :func:`~failgraph.kg.corpus.load_corpus` reads back from a graph of these inputs, made directly."""
    from ..ingest.records import issue_key
    from .corpus import Corpus, LabeledRecord, PastFailure

    records = [LabeledRecord(key=issue_key(r.issue.url), symptom=r.symptom, root_cause=r.root_cause)
               for r in synthetic_records(size, seed, dist)]
    failures = []
    for c in _tap_documents(synthetic_documents(size, seed, pool), meta):
        records.append(LabeledRecord(key=c.key, symptom=c.symptom, root_cause=c.root_cause))
        failures.append(PastFailure(key=c.key, url=c.source_url, title=c.title, text=c.report, model=c.model,
                                    fix=c.fix, fix_confirmed=c.fix_confirmed, symptoms=[c.symptom],
                                    root_causes=[c.root_cause]))
    failures.sort(key=lambda f: f.key)
    return Corpus(failures=failures, records=records)


def _tap_documents(docs: Iterable[SyntheticDocument], meta: list) -> Iterator:
    for d in docs:
        meta.append((d.case.key, d.primary, d.donor, d.mix))
        yield d.case


def bench_e2e(size: int, *, seed: int = 0, reports: int = 100, warmup: int = 5, embed_sample: int = 256,
              dataset: Path | None = None, workdir: Path | None = None, keep: bool = False, data: str = "cases",
              embedder=None, text_model_sample: int | None = None, graph: bool = True,
              progress: Callable[[str], None] | None = None) -> E2EBench:
    """Build a graph of ``size`` synthetic records and ``size`` case-like documents, load the knowledge base over it
    (document vectors precomputed consistently with their text, MiniLM for the reports) and time ``diagnose`` on
    real case reports, with each phase's throughput and memory.

    With ``graph=False`` the corpus is made in memory straight from the generators (what :func:`load_corpus` would
    read back from the graph) and the graph phases are skipped: for diagnose at sizes whose graph build takes too
    long for one sitting (``bench sparql`` measures the graph at that size)."""
    from ..assistant.benchmark import diagnose_latency
    from ..assistant.knowledge import KnowledgeBase
    from ..ingest.cases import load_cases
    from ..ingest.extract import error_signature
    from ..ingest.extract.environment import extract_quantization
    from .build import load_store, write_nquads
    from .corpus import Corpus, load_corpus
    from .embed import Embedder
    from .store import OxigraphStore
    from .vectors import KeywordIndex, TextIndex, VectorIndex

    say = progress or (lambda _m: None)
    dist = default_distribution(dataset)
    pool = CasePool(load_cases().cases, dist)
    phases: list[Phase] = []
    embedder = embedder or Embedder()
    model = vector_model(data, seed, pool)
    with _workdir(workdir, keep) as d:
        meta: list[tuple[str, int, int, float]] = []
        store = None
        if graph:
            nq = d / "graph.nq"
            say(f"generating and writing {size:,} records + {size:,} documents as N-Quads (with error-signature and "
                "quantization extraction)")
            secs, quads = _timed(write_nquads, nq, synthetic_records(size, seed, dist),
                                 _tap_documents(synthetic_documents(size, seed, pool), meta),
                                 signature_of=error_signature, quantization_of=extract_quantization)
            _add(phases, say, _phase("generate + map + write N-Quads", secs, 2 * size, f"{quads:,} quads"))
            say("bulk-loading into Oxigraph (on disk) and compacting it, as failgraph build does")
            secs, _ = _timed(load_store, d / "oxigraph", nq)
            _add(phases, say, _phase("Oxigraph bulk load + compaction", secs, 2 * size))
            nq.unlink()
            build_s = phases[0].seconds + phases[1].seconds
            store = OxigraphStore(d / "oxigraph", read_only=True)
            say("loading the corpus from the graph")
            secs, corpus = _timed(load_corpus, store)
            _add(phases, say, _phase("load corpus (SPARQL)", secs, len(corpus.failures)))
        else:
            say(f"generating {size:,} records + {size:,} documents straight into a corpus (no graph)")
            secs, corpus = _timed(_memory_corpus, size, seed, dist, pool, meta)
            _add(phases, say, _phase("generate corpus in memory (no graph)", secs, 2 * size))
            build_s = 0.0
        meta_by_key = {k: (p, dn, m) for k, p, dn, m in meta}
        del meta
        order = [meta_by_key[f.key] for f in corpus.failures]
        del meta_by_key
        say("document vectors (synthetic, consistent with the text)")
        docs = [SyntheticDocument(case=None, primary=p, donor=dn, mix=m)  # type: ignore[arg-type]
                for p, dn, m in order]
        secs, vecs = _timed(lambda: np.concatenate([document_vectors(docs[i:i + 50_000], model, seed, i)
                                                    for i in range(0, len(docs), 50_000)]))
        docs = order = None
        _add(phases, say, _phase("synthetic document vectors", secs, len(vecs)))
        texts = [f.index_text for f in corpus.failures]
        say("MiniLM embedding rate on a sample")
        sample = texts[: min(len(texts), embed_sample)]
        embedder.encode(sample[:8])  # load the model outside the timing
        secs, _ = _timed(embedder.encode, sample)
        embed_rate = len(sample) / secs
        _add(phases, say, _phase("MiniLM embeddings (sample)", secs, len(sample),
                             f"{len(texts):,} texts would take {len(texts) / embed_rate:,.0f} s"))
        ids = [f.key for f in corpus.failures]
        say("vector index")
        secs, vindex = _timed(VectorIndex.build, ids, vecs, use_gpu=False)
        _add(phases, say, _phase(f"vector index ({vindex.kind})", secs, len(ids)))
        say("BM25 index")
        secs, kindex = _timed(KeywordIndex.build, ids, texts)
        _add(phases, say, _phase("BM25 index", secs, len(ids)))
        index = TextIndex(ids, vindex, kindex, TextIndex.fingerprint_of(ids, texts))
        del texts
        say("knowledge base (label statistics, text models)")
        note = ""
        if text_model_sample and text_model_sample < len(corpus.failures):
            # the naive-Bayes text models keep per-document token counts in Python dicts (about 8 KB a document
            # for the two of them): past a few hundred thousand documents they are trained on an even sample, while
            # retrieval, statistics and everything else use the whole corpus
            step = len(corpus.failures) / text_model_sample
            sample = [corpus.failures[int(i * step)] for i in range(text_model_sample)]
            secs, kb = _timed(KnowledgeBase, Corpus(failures=sample, records=corpus.records), index, embedder)
            kb.corpus, kb.failures = corpus, corpus.by_key()
            note = f"text models trained on {text_model_sample:,} of {len(corpus.failures):,} documents"
        else:
            secs, kb = _timed(KnowledgeBase, corpus, index, embedder)
        _add(phases, say, _phase("knowledge base", secs, len(corpus.failures), note))
        index_s = sum(p.seconds for p in phases
                      if p.name.startswith(("load corpus", "vector index", "BM25 index", "knowledge base")))

        say("recall of the corpus index")
        qv = model.sample(_rng(seed + 7, "e2e-queries", 0), 50)
        exact = vecs @ qv.T
        truth = np.argsort(-exact, axis=0)[:10].T
        pos = {k: i for i, k in enumerate(ids)}
        lat_pick, found = _single_query_latencies(lambda q: [pos[h.id] for h in vindex.search(q[None, :], 10)[0]], qv)
        lat_brute, _ = _single_query_latencies(lambda q: np.argpartition(-(vecs @ q), 10)[:10], qv[:20])
        recall = _recall(found, truth)

        say("diagnose latency on real case reports")
        case_texts = [c.report for c in pool.cases][: reports]
        timing = TimingEmbedder(embedder)
        kb.embedder = timing
        rep = diagnose_latency(kb, case_texts, warmup=warmup)
        kb.embedder = embedder
        embed_ms = timing.times_ms[-len(case_texts):]
        _add(phases, say, _phase("diagnose", rep.reports / rep.throughput_per_s, rep.reports))
        if store is not None:
            store.close()
    embed_all = (2 * size) / (size / embed_rate + build_s + index_s) if embed_rate else 0.0
    return E2EBench(size=size, distribution=dist.source, graph=graph, index=vindex.describe() if hasattr(vindex, "describe")
                    else vindex.kind, recall_at_10=round(recall, 4),
                    speedup_vs_bruteforce=round(statistics.median(lat_brute) / statistics.median(lat_pick), 2),
                    diagnose_p50_ms=rep.median_ms, diagnose_p99_ms=rep.p99_ms, diagnose_mean_ms=rep.mean_ms,
                    query_embedding_p50_ms=round(statistics.median(embed_ms), 2),
                    diagnose_without_embedding_p50_ms=round(rep.median_ms - statistics.median(embed_ms), 2),
                    batch_reports_per_s=rep.throughput_per_s, reports=rep.reports,
                    build_issues_per_s=round(2 * size / (build_s + index_s), 1),
                    build_with_embeddings_issues_per_s=round(embed_all, 1), embed_texts_per_s=round(embed_rate, 1),
                    peak_rss_mib=round(peak_rss_mib(), 1), phases=phases, machine=Machine.now())


__all__ = ["E2EBench", "EmbedBench", "EmbedRow", "bench_embed", "embed_devices", "LEGACY_TABLE2", "Machine", "Phase", "QueryTiming", "SparqlBench", "TABLE2_QUERY", "TARGETS",
           "VectorBench", "VectorRow", "bench_e2e", "bench_sparql", "bench_vectors", "peak_rss_mib",
           "percentile", "vector_model"]
