"""Serving while the graph is rebuilt: the served snapshot stays pinned, /healthz says which one it is and whether
the store answers, and no error shown to a client carries a filesystem path."""

import pytest
from fastapi.testclient import TestClient

from failgraph.ingest.dataset import load_dataset
from failgraph.kg.build import build_graph, open_store
from failgraph.kg.home import GraphHome
from failgraph.kg.remote import ProcessQueryPool, WorkerUnavailable
from failgraph.kg.sparql_service import QueryLimits
from failgraph.ui.httpapi import create_app

COUNT = ("PREFIX fg: <https://w3id.org/failgraph/ontology#> "
         "SELECT (COUNT(?r) AS ?n) WHERE { ?r a fg:FailureRecord }")


def count(client) -> int:
    r = client.get("/sparql", params={"query": COUNT}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_a_rebuild_while_serving_fails_no_request(tmp_path, dataset_slice):
    records = load_dataset(dataset_slice).records
    home = GraphHome(tmp_path / "home")
    build_graph(home, records)
    served = home.current().name
    app = create_app(None, open_store(home), sparql=QueryLimits(timeout_s=30, workers=1))
    with TestClient(app) as client:
        assert count(client) == len(records)
        h = client.get("/healthz")
        assert h.status_code == 200 and h.json()["status"] == "ok"
        assert h.json()["snapshot"]["name"] == served and h.json()["snapshot"]["created"]
        build_graph(home, records[:4])  # `failgraph build` while `failgraph serve` runs
        pool = app.state.query_service._pool
        for w in list(pool._all):
            pool._discard(w)  # as a query past its time limit does: the next query starts a fresh worker
        assert count(client) == len(records)  # the old snapshot, still pinned, still answers
        h = client.get("/healthz")
        assert h.status_code == 200 and h.json()["snapshot"]["name"] == served
    assert (home.root / served).is_dir()


def test_healthz_is_503_when_the_store_cannot_answer(tmp_path):
    from failgraph.kg.store import OxigraphStore

    class BrokenStore(OxigraphStore):
        def query(self, sparql, *, max_rows=None):
            raise OSError(f"IO error: {tmp_path}/snapshot-x/oxigraph/CURRENT: No such file or directory")

    app = create_app(None, BrokenStore(), sparql=QueryLimits(timeout_s=5))
    with TestClient(app) as client:
        h = client.get("/healthz")
        assert h.status_code == 503 and h.json()["status"] == "unavailable"
        assert h.json()["detail"] and str(tmp_path) not in h.text


def test_query_workers_that_cannot_open_the_store_say_so_without_paths(tmp_path, dataset_slice):
    import shutil

    missing = tmp_path / "snapshot-gone" / "oxigraph"
    pool = ProcessQueryPool(missing, workers=1, timeout=30)
    try:
        with pytest.raises(WorkerUnavailable) as e:
            pool.query("ASK {}")
        assert str(tmp_path) not in str(e.value) and "cannot open the graph store" in str(e.value)
    finally:
        pool.close()
    home = GraphHome(tmp_path / "home")
    build_graph(home, load_dataset(dataset_slice).records[:2], validate=False)
    store = open_store(home)
    store.pin.release()
    shutil.rmtree(store.snapshot_dir)  # the files vanish under the server (as unpinned snapshots did on a rebuild)
    app = create_app(None, store, sparql=QueryLimits(timeout_s=30, workers=1))
    with TestClient(app) as client:
        r = client.get("/sparql", params={"query": "ASK {}"})
        assert r.status_code == 503 and str(tmp_path) not in r.text
        assert client.get("/healthz").status_code == 503


def test_the_knowledge_base_error_names_no_path(tmp_path):
    app = create_app(lambda: GraphHome(tmp_path / "nothing-here").current(), None)
    with TestClient(app) as client:
        r = client.post("/v1/similar", json={"text": "CUDA out of memory"})
        assert r.status_code == 503 and "failgraph build" in r.json()["detail"] and str(tmp_path) not in r.text


def test_the_ui_keeps_the_snapshot_it_cached_across_rebuilds(tmp_path, dataset_slice):
    """The Streamlit page's SPARQL service (worker processes that reopen the snapshot) survives rebuilds."""
    from failgraph.ui.views import state

    records = load_dataset(dataset_slice).records
    home = GraphHome(tmp_path / "home")
    build_graph(home, records)
    name = state.snapshot_of(str(home.root))
    service = state._queries(str(home.root), name)
    try:
        assert int(service.run(COUNT).result.rows[0]["n"].value) == len(records)
        build_graph(home, records[:3])
        build_graph(home, records[:4])
        assert state.snapshot_of(str(home.root)) != name  # the next page load gets the new graph ...
        for w in list(service._pool._all):
            service._pool._discard(w)  # a query timeout replaces the worker: it reopens the cached snapshot
        assert int(service.run(COUNT).result.rows[0]["n"].value) == len(records)  # ... the cached one still answers
    finally:
        service.close()
        state._queries.clear()
        state._store.clear()
