"""Latency of the diagnosis pipeline on real reports (a benchmark, never a pass/fail test)."""

from __future__ import annotations

import statistics
import time

from pydantic import BaseModel

from ..assistant.diagnose import diagnose
from ..assistant.knowledge import KnowledgeBase
from ..assistant.models import ReportRequest
from .measure import percentile


class LatencyReport(BaseModel):
    reports: int
    warmup: int
    median_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    throughput_per_s: float
    corpus: int
    index: str
    embedder: str = "minilm"


def diagnose_latency(kb: KnowledgeBase, texts: list[str], warmup: int = 5) -> LatencyReport:
    for t in texts[:warmup]:
        diagnose(kb, ReportRequest(text=t))
    times = []
    start = time.perf_counter()
    for t in texts:
        t0 = time.perf_counter()
        diagnose(kb, ReportRequest(text=t))
        times.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - start
    return LatencyReport(reports=len(texts), warmup=warmup, median_ms=statistics.median(times),
                         p90_ms=percentile(times, 0.9), p99_ms=percentile(times, 0.99), mean_ms=statistics.fmean(times),
                         throughput_per_s=len(texts) / wall, corpus=len(kb.corpus.failures),
                         index=f"{kb.index.vectors.kind} on {kb.index.vectors.device}",
                         embedder=getattr(kb.embedder, "name", "minilm"))


__all__ = ["LatencyReport", "diagnose_latency"]
