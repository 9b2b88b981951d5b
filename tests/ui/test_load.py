"""A bounded load test of /v1/similar: 2,000 requests from 16 concurrent clients against uvicorn on 127.0.0.1.

Opt-in (``-m slow`` or by path): ``python -m pytest -q tests/test_load.py -s`` prints the latency percentiles.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import httpx
import pytest
from api_helpers import UvicornThread, small_home, small_kb

REQUESTS = int(os.environ.get("FAILGRAPH_LOAD_REQUESTS", "2000"))  # 2,000 unless told otherwise
CLIENTS = 16
DEADLINE_S = 600  # the whole run stops by itself after this, whatever happens

TEXTS = [
    "RuntimeError: CUDA out of memory. Tried to allocate {n} MiB while fine-tuning Qwen2-7B with LoRA",
    "KeyError: 'qwen2' when loading the model with transformers 4.{n}.0",
    "vllm serve hangs at startup with --tensor-parallel-size {n}; NCCL timeout in all_reduce",
    "ValueError: Tokenizer class QWenTokenizer does not exist (request {n})",
    "DeepSpeed ZeRO-3 training loss is nan after step {n} with fp16",
    "AWQ quantized model outputs gibberish, repeated tokens, batch {n}",
    "ImportError: cannot import name 'is_flash_attn_2_available' (try {n})",
    "Llama 3 generation never stops, eos_token_id ignored, run {n}",
]


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s)) - 1))]


@pytest.mark.slow
def test_similar_under_concurrent_load(tmp_path_factory, dataset_dir):
    from failgraph.kg.build import open_store
    from failgraph.ui.httpapi import create_app

    home = small_home(tmp_path_factory, dataset_dir)
    kb = small_kb(tmp_path_factory, dataset_dir)
    app = create_app(kb, open_store(home))
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(REQUESTS))
    lock = threading.Lock()
    stop_at = time.monotonic() + DEADLINE_S

    def client(url: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            while time.monotonic() < stop_at:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                body = {"text": TEXTS[i % len(TEXTS)].format(n=i), "k": 5}
                t0 = time.perf_counter()
                try:
                    r = c.post("/v1/similar", json=body)
                    ok = r.status_code == 200 and len(r.json()["results"]) == 5
                    err = None if ok else f"HTTP {r.status_code}: {r.text[:200]}"
                except httpx.HTTPError as e:
                    err = f"{type(e).__name__}: {e}"
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if err:
                        errors.append(err)

    with UvicornThread(app) as srv:
        httpx.post(f"{srv.url}/v1/similar", json={"text": "warm up"}, timeout=60).raise_for_status()
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(srv.url,)) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started

    assert not errors, errors[:5]
    assert len(latencies) == REQUESTS, "the run hit its deadline"
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(f"\n/v1/similar: {REQUESTS} requests, {CLIENTS} clients, {wall:.1f} s, {REQUESTS / wall:.0f} req/s, "
          f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms, 0 errors")
