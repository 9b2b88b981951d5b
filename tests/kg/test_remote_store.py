"""SparqlEndpointStore against a real Oxigraph server (the ``oxigraph`` command of the PyPI package ``oxigraph``),
started on loopback by the test: load a small built graph through the Graph Store Protocol and check that every
named query gives the same rows as the embedded store.

The union default graph: failgraph's queries read the default graph as the union of the named graphs. The Oxigraph
server does that when started with ``--union-default-graph``, or per request with the URL parameter
``union-default-graph`` (``sparql+http://HOST:PORT/query?union-default-graph``); both are checked here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_helpers import free_port
from rdflib import Literal, URIRef

from failgraph.kg.named_queries import list_queries
from failgraph.kg.store import OxigraphStore, StoreError

FG = "https://w3id.org/failgraph/ontology#"


def oxigraph_cli() -> str | None:
    beside = Path(sys.executable).with_name("oxigraph")
    return str(beside) if beside.exists() else shutil.which("oxigraph")


class OxigraphServer:
    def __init__(self, tmp: Path, *args: str):
        exe = oxigraph_cli()
        if exe is None:
            pytest.fail("the oxigraph server is missing: pip install oxigraph (it ships the `oxigraph` command)")
        self.port = free_port()
        self.log = tmp / f"oxigraph-{self.port}.log"
        self.proc = subprocess.Popen([exe, "serve", "--location", str(tmp / f"db-{self.port}"),
                                      "--bind", f"127.0.0.1:{self.port}", *args],
                                     stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/query", params={"query": "ASK {}"}, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the oxigraph server did not start: {self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="module")
def inputs(dataset_slice_module):
    from failgraph.ingest.cases import load_cases
    from failgraph.ingest.dataset import load_dataset
    from failgraph.kg.build import GraphInputs
    return GraphInputs(records=load_dataset(dataset_slice_module).records, cases=load_cases(None).cases[::10])


@pytest.fixture(scope="module")
def dataset_slice_module(tmp_path_factory, dataset_dir):
    """The dataset files of three repositories (as tests/conftest.py's dataset_slice, module-scoped)."""
    root = tmp_path_factory.mktemp("slice")
    for rel in ["DeepSeek/V2/DeepSeek-V2.json", "DeepSeek/MoE/DeepSeek-MoE.json",
                "QwenLM/Qwen2.5-Math/Qwen2dot5-Math.json", "meta-llama/llama/meta-llama.json"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(dataset_dir / rel, root / rel)
    return root


@pytest.fixture(scope="module")
def embedded(inputs):
    from failgraph.ingest.extract import error_signature
    from failgraph.kg.build import populate
    store = OxigraphStore()
    populate(store, inputs, signature_of=error_signature)
    return store


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = OxigraphServer(tmp_path_factory.mktemp("oxigraph"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def remote(server, inputs, embedded):
    from failgraph.ingest.extract import error_signature
    from failgraph.kg.build import populate
    from failgraph.kg.remote import SparqlEndpointStore, connect

    store = connect(f"sparql+{server.url}/query?union-default-graph")
    assert isinstance(store, SparqlEndpointStore) and store.graph_store_url == f"{server.url}/store"
    n = populate(store, inputs, signature_of=error_signature)
    assert n >= len(store) == len(embedded)  # the same distinct quads (the mapping repeats a few, e.g. sources)
    yield store
    store.close()


def rows_of(res):
    """Rows as a sorted multiset; GROUP_CONCAT lists (joined by U+001F) compared as sets, since SPARQL leaves their
    order to the store."""
    def norm(t):
        if t.type == "literal" and "\x1f" in t.value:
            t = t.model_copy(update={"value": "\x1f".join(sorted(t.value.split("\x1f")))})
        return t.model_dump_json()
    return sorted(tuple(sorted((k, norm(t)) for k, t in r.items())) for r in res.rows)


@pytest.mark.parametrize("name", [q.name for q in list_queries()])
def test_named_queries_match_the_embedded_store(remote, embedded, name):
    from failgraph.kg.named_queries import get_query
    text = get_query(name).text
    a, b = embedded.query(text), remote.query(text)
    assert a.variables == b.variables
    assert rows_of(a) == rows_of(b)  # as multisets: ORDER BY leaves ties (e.g. equal counts) in any order


def test_counts_ask_construct_and_the_study_matrix(remote, embedded, inputs):
    from failgraph.kg.stats import category_table
    assert len(remote) == len(embedded)
    assert category_table(remote) == category_table(embedded)
    assert category_table(remote).total == len(inputs.records)
    assert remote.query(f"ASK {{ ?r a <{FG}FailureRecord> }}").value is True
    g = remote.query(f"CONSTRUCT {{ ?i <{FG}url> ?u }} WHERE {{ ?i a <{FG}Issue> ; <{FG}url> ?u }}")
    assert len(g.triples) == len(embedded.query(f"SELECT DISTINCT ?i WHERE {{ ?i a <{FG}Issue> }}").rows)
    capped = remote.query("SELECT ?s WHERE { ?s ?p ?o }", max_rows=10)
    assert len(capped.rows) == 10 and capped.truncated


def test_without_the_union_default_graph_the_default_graph_is_empty(server, remote):
    """Oxigraph's default graph is its own graph: without the switch, failgraph's queries find nothing."""
    from failgraph.kg.remote import connect
    plain = connect(f"sparql+{server.url}/query")
    try:
        assert plain.query(f"ASK {{ ?r a <{FG}FailureRecord> }}").value is False
        assert plain.query(f"ASK {{ GRAPH ?g {{ ?r a <{FG}FailureRecord> }} }}").value is True
    finally:
        plain.close()


def test_from_and_a_given_dataset_reach_the_server(remote, embedded):
    """The per-request union switch would override FROM: a query with its own dataset goes without it, and a
    dataset given to the store travels as default-graph-uri / named-graph-uri."""
    from failgraph.kg.store import QueryDataset

    graph = "https://w3id.org/failgraph/id/graph/ontology"
    from_q = f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}"
    n = int(embedded.query(from_q).records()[0]["n"])
    assert 0 < n < int(embedded.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").records()[0]["n"])
    assert int(remote.query(from_q).records()[0]["n"]) == n
    given = QueryDataset(default_graphs=(graph,))
    assert int(remote.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", dataset=given).records()[0]["n"]) == n
    assert remote.query("ASK FROM <http://example.org/none> { ?s ?p ?o }").value is False


def test_a_server_started_with_union_default_graph(tmp_path, inputs, embedded):
    from failgraph.ingest.extract import error_signature
    from failgraph.kg.build import populate
    from failgraph.kg.named_queries import get_query
    from failgraph.kg.remote import connect

    srv = OxigraphServer(tmp_path, "--union-default-graph")
    try:
        store = connect(f"sparql+{srv.url}/query")
        populate(store, inputs, signature_of=error_signature)
        text = get_query("symptom_cause_leaf").text
        assert store.query(text).rows == embedded.query(text).rows
        store.close()
    finally:
        srv.stop()


def test_loading_sends_data_never_update_text(remote):
    """Literals with SPARQL syntax in them arrive as data (Graph Store Protocol), not as commands."""
    nasty = '"} ; DROP ALL ; INSERT DATA { <http://e/x> <http://e/y> "z" } #\n\\ \' """'
    g = URIRef("https://w3id.org/failgraph/id/source/test-nasty")
    s = URIRef("https://w3id.org/failgraph/id/issue/test/nasty/1")
    before = len(remote)
    assert remote.add_quads([(s, URIRef(f"{FG}text"), Literal(nasty), g)]) == 1
    assert len(remote) == before + 1
    got = remote.query(f"SELECT ?t WHERE {{ <{s}> <{FG}text> ?t }}").records()
    assert got == [{"t": nasty}]
    assert remote.query("ASK { <http://e/x> ?p ?o }").value is False


def test_export_round_trips(remote, tmp_path):
    import pyoxigraph as ox
    remote.export(tmp_path / "g.nq", "nquads")
    quads = list(ox.parse(path=str(tmp_path / "g.nq"), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == len(remote)
    remote.export(tmp_path / "g.ttl", "turtle")
    assert (tmp_path / "g.ttl").stat().st_size > 1000


def test_errors_are_store_errors(server, tmp_path):
    from failgraph.kg.remote import SparqlEndpointStore, connect

    store = connect(f"sparql+{server.url}/query")
    with pytest.raises(StoreError, match="refused the query"):
        store.query("SELECT WHERE {")
    store.close()
    dead = SparqlEndpointStore(f"http://127.0.0.1:{free_port()}/query", timeout=2)
    with pytest.raises(StoreError, match="cannot reach"):
        dead.query("ASK {}")
    with pytest.raises(StoreError, match="Graph Store"):
        SparqlEndpointStore(f"{server.url}/custom-path").add_quads([])
    with pytest.raises(StoreError, match="sparql\\+http://"):
        connect("http://127.0.0.1:7878/query")


def test_connect_opens_a_home(tmp_path, dataset_slice_module):
    from failgraph.ingest.dataset import load_dataset
    from failgraph.kg.build import build_graph
    from failgraph.kg.home import GraphHome
    from failgraph.kg.remote import connect

    build_graph(GraphHome(tmp_path / "h"), load_dataset(dataset_slice_module).records, validate=False)
    store = connect(str(tmp_path / "h"))
    assert isinstance(store, OxigraphStore) and len(store) > 0
    assert connect("sparql+https://example.org/ds/sparql").graph_store_url == "https://example.org/ds/data"
