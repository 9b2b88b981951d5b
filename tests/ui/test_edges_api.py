"""Input decoding at the HTTP edge: lone surrogates, invalid UTF-8, unknown fields, HEAD, and one bad request never
harming another (the micro-batching embedder)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from api_helpers import OOM_REPORT, REPORT, UvicornThread, assert_error

BAD = '{"text": "RuntimeError \\ud800 CUDA out of memory while loading the model"}'  # a JSON-escaped lone surrogate


@pytest.fixture(scope="module")
def client(kb, home):
    from fastapi.testclient import TestClient

    from failgraph.kg.build import open_store
    from failgraph.ui.httpapi import create_app

    with TestClient(create_app(kb, open_store(home))) as c:
        yield c


def _no_tracebacks(records) -> None:
    for r in records:
        assert r.exc_info is None and "Traceback" not in r.getMessage(), r.getMessage()[:500]


@pytest.mark.parametrize("path", ["/v1/diagnose", "/v1/similar"])
@pytest.mark.parametrize("body,field", [
    (BAD, "text"),
    ('{"text": "OOM", "title": "bad \\udcff title"}', "title"),
    ('{"text": "OOM", "exclude_urls": ["https://github.com/a/b/issues/1\\udfff"]}', "exclude_urls"),
])
def test_lone_surrogates_are_422_naming_the_field(client, caplog, path, body, field):
    caplog.set_level(logging.INFO)
    r = client.post(path, content=body.encode(), headers={"content-type": "application/json"})
    detail = assert_error(r, 422, "lone surrogate", field)["detail"]
    assert "Value error" not in detail and len(detail.splitlines()) == 1
    _no_tracebacks(caplog.records)


@pytest.mark.parametrize("path", ["/v1/diagnose", "/v1/similar"])
def test_invalid_utf8_bodies_are_422(client, caplog, path):
    caplog.set_level(logging.INFO)
    for body in (b'{"text": "caf\xe9 CUDA out of memory"}', b'{"text": "\xed\xa0\x80 OOM"}', b"\xff\xfe{}"):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert_error(r, 422)
    _no_tracebacks(caplog.records)


def test_diagnose_refuses_unknown_fields_like_similar(client):
    body = assert_error(client.post("/v1/diagnose", json={"text": OOM_REPORT, "colour": "red"}), 422, "colour")
    assert body["errors"][0]["loc"] == ["body", "colour"]
    assert client.post("/v1/diagnose", json={"id": 7, "text": OOM_REPORT, "top_k": 1}).status_code == 200


def test_head_healthz_is_200_without_a_body(client):
    r = client.head("/healthz")
    assert r.status_code == 200 and r.content == b""
    assert client.get("/healthz").json()["status"] == "ok"


def test_a_bad_text_does_not_fail_its_batch_companions():
    """Defence in depth: a text the model cannot encode fails only its own request, not the shared batch."""
    from failgraph.kg.batching_embedder import BatchingEmbedder

    class Model:  # encodes like a tokenizer that raises on one text; the batch it is in fails as a whole
        calls = 0

        def encode(self, texts, *, show_progress=False):
            Model.calls += 1
            if any("POISON" in t for t in texts):
                raise TypeError("TextEncodeInput must be Union[TextInputSequence, ...]")
            return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    emb = BatchingEmbedder(Model(), max_batch=64, max_wait_s=0.05)
    texts = [f"text {i}" * (i + 1) for i in range(12)] + ["POISON"]
    with ThreadPoolExecutor(len(texts)) as pool:
        futures = {t: pool.submit(emb.encode, [t]) for t in texts}
    for t, f in futures.items():
        if t == "POISON":
            with pytest.raises(TypeError):
                f.result()
        else:
            assert f.result()[0, 0] == len(t)
    assert Model.calls < len(texts) + 3  # the companions still shared a call before the retry


def test_bad_clients_never_harm_good_concurrent_requests(kb, home, caplog):
    """Two clients send lone surrogates while good clients diagnose: every good request answers 200."""
    import httpx

    from failgraph.kg.build import open_store
    from failgraph.ui.httpapi import create_app

    caplog.set_level(logging.INFO)
    good = [REPORT, OOM_REPORT, "ValueError: Tokenizer class Qwen2Tokenizer does not exist or is not currently "
            "imported.", "NCCL error: unhandled system error while training with deepspeed zero3 on 8 GPUs"]
    results: dict[str, list[int]] = {"good": [], "bad": []}
    lock = threading.Lock()
    with UvicornThread(create_app(kb, open_store(home))) as server:
        def client(kind: str, n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                for i in range(n):
                    try:
                        if kind == "bad":
                            status = c.post("/v1/diagnose", content=BAD.encode(),
                                            headers={"content-type": "application/json"}).status_code
                        else:
                            status = c.post("/v1/diagnose", json={"text": good[i % len(good)] + f"\nrun {i}"}
                                            ).status_code
                    except httpx.HTTPError:  # a connection reset, a timeout: counted, the client goes on
                        status = 0
                    with lock:
                        results[kind].append(status)

        threads = [threading.Thread(target=client, args=("bad", 10)) for _ in range(2)]
        threads += [threading.Thread(target=client, args=("good", 10)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(240)
        assert not any(t.is_alive() for t in threads)
    assert results["good"] == [200] * 40, {k: {s: v.count(s) for s in set(v)} for k, v in results.items()}
    assert results["bad"] == [422] * 20, results
    _no_tracebacks(caplog.records)
