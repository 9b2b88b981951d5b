"""Embedding throughput and single-report latency of the MiniLM model per device (fp32, and fp16 on CUDA), and of
the static tier (CPU)."""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, Field

from .measure import Machine, gpu_name, percentile, single_query_latencies, timed


# ---------------------------------------------------------------------------------------------------- embeddings
class EmbedRow(BaseModel):
    tier: str = "minilm"
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
                single: int = 50, seed: int = 0, progress: Callable[[str], None] | None = None,
                static_home=None, onnx: bool = True) -> EmbedBench:
    """MiniLM embedding throughput (texts/s, batched) and single-report latency on each device, over the same
    synthetic case-like documents (title + report, as the index embeds them), run by torch on each device and (with
    ``onnx``) by ONNX Runtime on the CPU; with ``static_home`` (a graph home,
    where the static model is cached or distilled) the static tier on the CPU too."""
    from ..kg.embed import MODEL_ID, Embedder
    from .synthetic import synthetic_cases

    say = progress or (lambda _m: None)
    docs = [f"{c.title}\n{c.report}" for c in synthetic_cases(texts, seed)]
    rows: list[EmbedRow] = []

    def measure(emb, digits: int = 2, **row) -> None:
        emb.encode(docs[:batch_size])  # load and warm up outside the timing
        secs, _ = timed(emb.encode, docs)
        lat, _ = single_query_latencies(lambda t: emb.encode([t]), docs[:single])
        rows.append(EmbedRow(**row, texts=len(docs), seconds=round(secs, 3), texts_per_s=round(len(docs) / secs, 1),
                             single_p50_ms=round(statistics.median(lat), digits),
                             single_p99_ms=round(percentile(lat, 0.99), digits)))

    for device, half in embed_devices() if devices is None else devices:
        precision = "fp16" if half else "fp32"
        say(f"MiniLM on {device} ({precision}, torch): {len(docs):,} texts in batches of {batch_size}")
        measure(Embedder(device=device, batch_size=batch_size, half=half), device=device, precision=precision,
                batch_size=batch_size)
        gc.collect()
    if onnx:
        from ..kg.onnx_embed import OnnxEmbedder

        for int8 in (False, True):
            precision = "int8 onnxruntime" if int8 else "fp32 onnxruntime"
            say(f"MiniLM on cpu ({precision}): {len(docs):,} texts in batches of 32")
            measure(OnnxEmbedder(int8=int8, batch_size=32), tier="minilm-int8" if int8 else "minilm", device="cpu",
                    precision=precision, batch_size=32)
            gc.collect()
    if static_home is not None:
        from ..kg.static_embed import StaticEmbedder

        say(f"static tier on cpu: {len(docs):,} texts")
        emb = StaticEmbedder(static_home)
        measure(emb, 3, tier="static", device="cpu", precision=f"fp16 table, {emb.dim} wide", batch_size=0)
    cpu = [r.texts_per_s for r in rows if r.device == "cpu" and r.tier == "minilm" and r.precision == "fp32"]
    gpu = [r.texts_per_s for r in rows if r.device != "cpu"]
    return EmbedBench(model=MODEL_ID, texts=len(docs), mean_chars=round(float(np.mean([len(d) for d in docs])), 1),
                      gpu_name=gpu_name() if gpu else None,
                      speedup_gpu_vs_cpu=round(max(gpu) / cpu[0], 1) if gpu and cpu else None, rows=rows,
                      machine=Machine.now())
