"""What every benchmark shares: timing, memory, percentiles, the machine it ran on, and the targets reported
beside the figures (the benchmarks never fail on them)."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydantic import BaseModel

#: Targets of issue #7, reported next to the figures (the benchmark never fails on them).
TARGETS = {
    "vectors_p50_ms_at_1m": 10.0, "vectors_recall_at_10": 0.95, "vectors_speedup_vs_bruteforce": 20.0,
    "sparql_query_s_at_1m": 1.0, "sparql_speedup_vs_rdflib_at_100k": 10.0,
    "diagnose_p50_ms_at_1m": 150.0, "build_peak_gib_at_1m": 24.0,
}
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
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


class Machine(BaseModel):
    cpus: int
    load_average: list[float]
    python: str
    platform: str

    @classmethod
    def now(cls) -> Machine:
        try:
            load = [round(x, 2) for x in os.getloadavg()]
        except OSError:  # pragma: no cover
            load = []
        return cls(cpus=os.cpu_count() or 0, load_average=load, python=platform.python_version(),
                   platform=platform.platform(terse=True))


@contextmanager
def scratch_dir(parent: Path | None, keep: bool = False) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="failgraph-bench-", dir=parent))
    try:
        yield d
    finally:
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


def timed(fn: Callable, *a, **kw) -> tuple[float, object]:
    t = time.perf_counter()
    v = fn(*a, **kw)
    return time.perf_counter() - t, v


def single_query_latencies(search: Callable[[np.ndarray], list[list[str] | np.ndarray]], queries: np.ndarray,
                            ) -> tuple[list[float], list]:
    lat, results = [], []
    for q in queries:
        t = time.perf_counter()
        r = search(q)
        lat.append((time.perf_counter() - t) * 1000)
        results.append(r)
    return lat, results


def recall_at_k(found: list, truth: np.ndarray, k: int = 10) -> float:
    # ``found`` may cover only the first queries (brute force runs on a subset): truth is cut to match
    hits = [len(set(map(int, f[:k])) & set(map(int, t[:k]))) / k for f, t in zip(found, truth, strict=False)]
    return float(np.mean(hits))


def gpu_name() -> str | None:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # torch without CUDA, or no torch
        return None
