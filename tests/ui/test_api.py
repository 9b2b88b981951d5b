"""The HTTP API (/v1/*, /healthz, /docs): every route, validation, size limits and error shapes."""

from __future__ import annotations

import json
import threading
import time

import pytest
from api_helpers import KEEP_CASES, OOM_REPORT, REPORT, assert_error, free_port


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def client(kb, home):
    from fastapi.testclient import TestClient

    from failgraph.kg.build import open_store
    from failgraph.ui.httpapi import create_app

    store = open_store(home)
    with TestClient(create_app(kb, store)) as c:
        yield c


# ---------------------------------------------------------------------------------------------- /v1/similar
def test_similar_returns_scored_labeled_failures(client):
    r = client.post("/v1/similar", json={"text": OOM_REPORT, "k": 3})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert 1 <= len(results) <= 3
    for s in results:
        assert s["url"].startswith("https://github.com/") and isinstance(s["score"], float) and s["labels"]
    assert results[0]["url"] == "https://github.com/meta-llama/llama/issues/136"
    assert any("Out of Memory" in lab for lab in results[0]["labels"])


def test_similar_excludes_urls(client):
    url = "https://github.com/meta-llama/llama/issues/136"
    r = client.post("/v1/similar", json={"text": OOM_REPORT, "k": 5, "exclude_urls": [url]})
    assert r.status_code == 200 and url not in {s["url"] for s in r.json()["results"]}


def test_similar_reads_the_title_as_the_first_line(client):
    title, body = OOM_REPORT.split(" ", 6)[:6], OOM_REPORT.split(" ", 6)[6]
    titled = client.post("/v1/similar", json={"title": " ".join(title), "text": body, "k": 3})
    joined = client.post("/v1/similar", json={"text": " ".join(title) + "\n" + body, "k": 3})
    assert titled.status_code == 200 and titled.json() == joined.json()
    assert client.post("/v1/similar", json={"title": "x" * 1001, "text": body}).status_code == 422


@pytest.mark.parametrize("body,where", [
    ({"text": "x", "k": 0}, "k"), ({"text": "x", "k": 51}, "k"), ({"k": 3}, "text"), ({"text": ""}, "text"),
    ({"text": "x", "colour": "red"}, "colour"), ({"text": 5}, "text"), ([1, 2], "body"),
])
def test_similar_validation_errors_are_422_with_a_clear_message(client, body, where):
    body = assert_error(client.post("/v1/similar", json=body), 422, "invalid request")
    assert where in body["detail"] and body["errors"]


def test_malformed_json_is_422(client):
    r = client.post("/v1/similar", content=b'{"text": "oops', headers={"content-type": "application/json"})
    assert_error(r, 422, "not valid JSON")


@pytest.mark.parametrize("text,word", [("   \n ", "empty"), ("\x00\x01\x02 binary", "binary")])
def test_unreadable_reports_are_422(client, text, word):
    assert_error(client.post("/v1/similar", json={"text": text}), 422, word)
    assert_error(client.post("/v1/diagnose", json={"text": text}), 422, word)


def test_oversized_bodies_are_413(client):
    big = {"text": "CUDA out of memory " * 4000}  # ~76 KB of JSON
    assert_error(client.post("/v1/diagnose", json=big), 413, "larger than 65,536 bytes")

    def chunks():  # no Content-Length: the limit applies while reading
        for _ in range(20):
            yield b"x" * 8192

    r = client.post("/v1/similar", content=chunks(), headers={"content-type": "application/json"})
    assert_error(r, 413, "larger than")


# ---------------------------------------------------------------------------------------------- /v1/diagnose
def test_diagnose_gives_the_same_json_as_the_engine(client, kb):
    from failgraph.assistant.diagnose import diagnose
    from failgraph.assistant.models import Diagnosis, ReportRequest

    req = {"id": "r1", "text": REPORT, "top_k": 2}
    r = client.post("/v1/diagnose", json=req)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got == json.loads(diagnose(kb, ReportRequest(**req)).model_dump_json())
    d = Diagnosis.model_validate(got)
    assert d.id == "r1" and len(d.root_causes) == 2 and d.root_causes[0].fixes and d.root_causes[0].path
    assert "Dependency" in d.root_causes[0].label or "Compatibility" in d.root_causes[0].label
    assert d.facts.libraries.get("transformers") == "4.36.2"


def test_diagnose_validation(client):
    assert_error(client.post("/v1/diagnose", json={"text": "x", "top_k": 0}), 422, "top_k")
    assert_error(client.post("/v1/diagnose", json={"report": "x"}), 422, "text")


# ---------------------------------------------------------------------------------------------- /v1/issues
def test_issue_facts_by_encoded_and_slash_ids(client):
    a = client.get("/v1/issues/OpenRLHF%2FOpenRLHF%23424")
    b = client.get("/v1/issues/OpenRLHF/OpenRLHF/424")
    assert a.status_code == b.status_code == 200, a.text
    assert a.json() == b.json()
    f = a.json()
    assert f["id"] == "openrlhf/openrlhf#424" and f["url"] == "https://github.com/OpenRLHF/OpenRLHF/issues/424"
    assert f["title"] and f["text"] and f["fix"]["text"] and f["fix"]["confirmed"] is True
    assert f["labels"] and f["labels"][0]["root_cause"] and f["labels"][0]["symptom"]
    assert f["sources"]


def test_issue_facts_of_a_dataset_issue_and_library_versions(client):
    f = client.get("/v1/issues/QwenLM%2FQwen%2315").json()
    assert f["status"] and len(f["labels"]) == 2  # QwenLM/Qwen#15 carries two records
    assert {lab["labeler"] for lab in f["labels"]} == {"OpenLLMFailuresStudy"}
    with_libs = [c for c in _cases_with_libraries(client)]
    assert with_libs, "the small home has a case with library versions"
    key, libs = with_libs[0]
    owner_repo, number = key.split("#")
    got = client.get(f"/v1/issues/{owner_repo}/{number}").json()
    assert {(x["name"], x["version"]) for x in got["libraries"]} == libs


def _cases_with_libraries(client):
    from failgraph.ingest.cases import load_cases
    for i, c in enumerate(load_cases(None).cases):
        if (i % 5 == 0 or c.key in KEEP_CASES) and c.environment.libraries:
            yield c.key, {(lib.name, lib.version) for lib in c.environment.libraries}


def test_issue_not_found_and_bad_ids(client):
    assert_error(client.get("/v1/issues/nobody/nothing%2399999"), 404, "nobody/nothing#99999")
    assert_error(client.get("/v1/issues/not-an-id"), 422, "owner/repo#number")
    assert_error(client.get("/v1/issues/a/b/c/d"), 422)
    assert_error(client.get("/v1/issues/a%3E%20%7D/b%231"), 422)  # nothing odd reaches a query


# ---------------------------------------------------------------------------------------------- service routes
def test_healthz_docs_and_unknown_routes(client):
    h = client.get("/healthz").json()
    assert h["status"] == "ok" and h["knowledge_base"] == "loaded" and h["store"] == "OxigraphStore"
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/v1/similar", "/v1/diagnose", "/v1/issues/{issue_id}", "/healthz", "/sparql"} <= set(spec["paths"])
    assert_error(client.get("/v2/nothing"), 404)
    assert_error(client.get("/v1/similar"), 405)


def test_knowledge_base_loads_lazily_once_across_threads(kb):
    from failgraph.ui.httpapi.knowledge import LazyKnowledgeBase

    calls = []

    def factory():
        calls.append(1)
        time.sleep(0.2)
        return kb

    lazy = LazyKnowledgeBase(factory)
    assert lazy.state == "not loaded"
    got = []
    threads = [threading.Thread(target=lambda: got.append(lazy.get())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and all(g is kb for g in got) and lazy.state == "loaded"


def test_failures_never_leak_stack_traces(home):
    from fastapi.testclient import TestClient

    from failgraph.kg.home import GraphHome, NoGraphError
    from failgraph.kg.store import GraphStore
    from failgraph.ui.httpapi import create_app

    def broken_factory():
        raise RuntimeError("secret internals /etc/passwd")

    class BrokenStore(GraphStore):
        def add_quads(self, quads):
            return 0

        def query(self, sparql, *, max_rows=None):
            raise RuntimeError("secret internals")

        def __len__(self):
            return 0

        def export(self, path, fmt):
            pass

    app = create_app(broken_factory, BrokenStore(), sparql=None)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v1/similar", json={"text": "x"})
        assert_error(r, 503, "could not be loaded")
        assert "secret" not in r.text
        assert c.get("/healthz").json()["knowledge_base"] == "failed"
        r = c.get("/v1/issues/a/b/1")
        assert_error(r, 500, "internal error")
        assert "secret" not in r.text

    def no_graph():
        return GraphHome("/nonexistent/failgraph-home").current()

    with TestClient(create_app(no_graph, None)) as c:
        assert_error(c.post("/v1/diagnose", json={"text": "x"}), 503, "failgraph build")
        assert_error(c.get("/v1/issues/a/b/1"), 503, "no graph store")
        assert_error(c.get("/sparql?query=ASK{}"), 503)
    assert NoGraphError  # the factory's error type is the one the API reports as 'not available'


# ---------------------------------------------------------------------------------------------- the serve command
def test_serve_command_starts_the_api_on_loopback(home, tmp_path):
    import subprocess
    import sys

    import httpx

    port = free_port()
    log = tmp_path / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "failgraph.ui.cli_serve", "serve", "--port", str(port),
                             "--home", str(home.root), "--sparql-max-rows", "3"],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                h = httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"failgraph serve did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.2)
        assert h.json()["status"] == "ok" and h.json()["knowledge_base"] in {"loading", "loaded", "not loaded"}
        r = httpx.get(f"{url}/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o }"})
        assert r.status_code == 200 and r.headers["x-failgraph-truncated"] == "true"
        assert httpx.get(f"{url}/v1/issues/QwenLM/Qwen/15").json()["id"] == "qwenlm/qwen#15"
    finally:
        proc.terminate()
        proc.wait(20)
    r = subprocess.run([sys.executable, "-m", "failgraph.ui.cli_serve", "serve", "--home", str(tmp_path / "none")],
                       check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "failgraph build" in r.stderr and "Traceback" not in r.stderr


