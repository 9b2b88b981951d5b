"""The SPARQL 1.1 Protocol endpoint at /sparql: methods, negotiated formats, the service description, the refused
updates, the time limit, the row cap, and a standard client (SPARQLWrapper) against uvicorn on loopback."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.error
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
import rdflib
from api_helpers import UvicornThread

from failgraph.kg.named_queries import get_query, list_queries

SELECT = "PREFIX fg: <https://w3id.org/failgraph/ontology#> SELECT ?url WHERE { ?i a fg:Issue ; fg:url ?url } " \
         "ORDER BY ?url LIMIT 7"
ASK = "PREFIX fg: <https://w3id.org/failgraph/ontology#> ASK { ?r a fg:FailureRecord }"
CONSTRUCT = ("PREFIX fg: <https://w3id.org/failgraph/ontology#> CONSTRUCT { ?i fg:url ?url } "
             "WHERE { ?i a fg:Issue ; fg:url ?url } LIMIT 5")
DESCRIBE = "DESCRIBE <https://w3id.org/failgraph/id/issue/openrlhf/openrlhf/424>"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # runs for hours
#: About a second of work: a thread that runs past the limit ends by itself soon after.
FINITE_SLOW = ("PREFIX fg: <https://w3id.org/failgraph/ontology#> SELECT (COUNT(*) AS ?n) "
               "WHERE { ?a a fg:FailureRecord . ?d a fg:FailureRecord . ?x a fg:Source }")
SR = "{http://www.w3.org/2005/sparql-results#}"


@pytest.fixture(scope="module")
def store(home):
    from failgraph.kg.build import open_store
    return open_store(home)


def make_client(store, **limits):
    from fastapi.testclient import TestClient

    from failgraph.kg.sparql_service import QueryLimits
    from failgraph.ui.httpapi import create_app
    return TestClient(create_app(None, store, sparql=QueryLimits(**limits)))


@pytest.fixture(scope="module")
def client(store):
    with make_client(store, timeout_s=20, max_rows=1000) as c:
        yield c


def q(client, query, accept=None, method="GET"):
    headers = {"accept": accept} if accept else {}
    if method == "GET":
        return client.get("/sparql", params={"query": query}, headers=headers)
    if method == "FORM":
        return client.post("/sparql", data={"query": query}, headers=headers)
    return client.post("/sparql", content=query.encode(), headers={**headers,
                                                                     "content-type": "application/sparql-query"})


# ---------------------------------------------------------------------------------------------- methods and formats
@pytest.mark.parametrize("method", ["GET", "FORM", "DIRECT"])
def test_select_by_every_method_defaults_to_json(client, store, method):
    r = q(client, SELECT, method=method)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/sparql-results+json"
    body = r.json()
    assert body["head"]["vars"] == ["url"]
    assert body == store.query(SELECT).to_json()
    assert len(body["results"]["bindings"]) == 7 and "x-failgraph-truncated" not in r.headers


def test_select_formats(client, store):
    expected = [r["url"] for r in store.query(SELECT).records()]
    r = q(client, SELECT, "application/sparql-results+xml")
    assert r.headers["content-type"].startswith("application/sparql-results+xml")
    root = ET.fromstring(r.content)
    assert [u.text for u in root.iter(f"{SR}uri")] == [] and \
        [lit.text for lit in root.iter(f"{SR}literal")] == expected
    r = q(client, SELECT, "text/csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert [row["url"] for row in csv.DictReader(io.StringIO(r.text))] == expected
    r = q(client, SELECT, "text/tab-separated-values")
    lines = r.text.splitlines()
    assert r.headers["content-type"].startswith("text/tab-separated-values") and lines[0] == "?url"
    assert [line.split('"')[1] for line in lines[1:]] == expected
    # q-values and wildcards
    assert q(client, SELECT, "text/csv;q=0.4, application/sparql-results+xml;q=0.9").headers[
        "content-type"].startswith("application/sparql-results+xml")
    assert q(client, SELECT, "text/*").headers["content-type"].startswith("text/csv")
    assert q(client, SELECT, "*/*").headers["content-type"] == "application/sparql-results+json"
    assert q(client, SELECT, "application/json").json()["head"]["vars"] == ["url"]


def test_ask_formats(client):
    assert q(client, ASK).json() == {"head": {}, "boolean": True}
    root = ET.fromstring(q(client, ASK, "application/sparql-results+xml").content)
    assert root.find(f"{SR}boolean").text == "true"
    assert q(client, ASK, "text/csv").text.splitlines()[-1] == "true"


def test_construct_and_describe_formats(client):
    r = q(client, CONSTRUCT)
    assert r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert len(g) == 5
    nt = q(client, CONSTRUCT, "application/n-triples")
    assert nt.headers["content-type"].startswith("application/n-triples")
    assert len(list(ox.parse(nt.content, format=ox.RdfFormat.N_TRIPLES))) == 5
    jl = q(client, CONSTRUCT, "application/ld+json")
    assert jl.headers["content-type"] == "application/ld+json"
    assert len(rdflib.Graph().parse(data=jl.text, format="json-ld")) == 5
    xml = q(client, CONSTRUCT, "application/rdf+xml")
    assert len(rdflib.Graph().parse(data=xml.text, format="xml")) == 5
    d = q(client, DESCRIBE, "application/n-triples")
    assert d.status_code == 200 and "OpenRLHF/OpenRLHF/issues/424" in d.text


def test_not_acceptable_and_bad_requests(client):
    r = q(client, SELECT, "image/png")
    assert r.status_code == 406 and "application/sparql-results+json" in r.json()["detail"]
    r = q(client, "SELECT WHERE {")
    assert r.status_code == 400 and "syntax" in r.json()["detail"].lower()
    r = client.post("/sparql", content=b"query=x", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    r = client.post("/sparql", data={"nothing": "here"})
    assert r.status_code == 400 and "query" in r.json()["detail"]
    r = client.get("/sparql", params=[("query", ASK), ("query", ASK)])
    assert r.status_code == 400
    r = client.get("/sparql", params={"query": ASK, "default-graph-uri": "not an iri"})
    assert r.status_code == 400 and "default-graph-uri" in r.json()["detail"]
    r = client.post("/sparql", content=b"\xff\xfe", headers={"content-type": "application/sparql-query"})
    assert r.status_code == 400 and "UTF-8" in r.json()["detail"]
    r = client.post("/sparql", content=("SELECT * WHERE { ?s ?p ?o } #" + "x" * 70_000).encode(),
                    headers={"content-type": "application/sparql-query"})
    assert r.status_code == 413
    for r in (q(client, "SELECT WHERE {"), q(client, SELECT, "image/png")):
        assert "Traceback" not in r.text


def test_service_description(client):
    r = client.get("/sparql")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    svc = g.value(predicate=rdflib.RDF.type, object=SD.Service)
    assert svc is not None
    assert str(g.value(svc, SD.endpoint)).endswith("/sparql")
    assert (svc, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (svc, SD.feature, SD.UnionDefaultGraph) in g
    assert (svc, SD.resultFormat, rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON")) in g
    nt = client.get("/sparql", headers={"accept": "application/n-triples"})
    assert nt.headers["content-type"].startswith("application/n-triples")


# ---------------------------------------------------------------------------------------------- read-only
UPDATES = ["INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }", "DELETE WHERE { ?s ?p ?o }",
           "LOAD <http://example.org/data.ttl>", "CLEAR ALL", "DROP ALL", "CREATE GRAPH <http://e/g>",
           "PREFIX x: <http://e/> WITH x:g DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
           "SELECT * WHERE { ?s ?p ?o } ; CLEAR DEFAULT", "ADD DEFAULT TO <http://e/g>",
           "copy default to <http://e/g>", "MOVE <http://e/g> TO DEFAULT"]


@pytest.mark.parametrize("text", UPDATES)
def test_updates_are_refused_in_any_form(client, store, text):
    before = len(store)
    for r in (q(client, text), q(client, text, method="FORM"), q(client, text, method="DIRECT")):
        assert r.status_code == 403, (text, r.text)
        assert "read-only" in r.json()["detail"]
    assert len(store) == before


def test_update_parameters_and_media_type_are_refused(client, store):
    before = len(store)
    upd = UPDATES[0]
    assert client.post("/sparql", data={"update": upd}).status_code == 403
    assert client.get("/sparql", params={"update": upd}).status_code == 403
    r = client.post("/sparql", content=upd.encode(), headers={"content-type": "application/sparql-update"})
    assert r.status_code == 403 and "read-only" in r.json()["detail"]
    assert client.post("/sparql", data={"query": ASK, "update": upd}).status_code == 403
    assert len(store) == before


def test_update_words_inside_strings_iris_and_comments_are_fine(client):
    text = ('PREFIX ex: <http://e/drop/> SELECT ?load WHERE { VALUES ?load { "DELETE everything" '
            "'''INSERT\nDATA''' ex:clear } } # LOAD <x>")
    r = q(client, text)
    assert r.status_code == 200, r.text
    assert len(r.json()["results"]["bindings"]) == 3


# ---------------------------------------------------------------------------------------------- limits
def test_row_cap_sets_the_truncated_header(store):
    with make_client(store, max_rows=5) as c:
        r = q(c, "SELECT ?s WHERE { ?s ?p ?o }")
        assert r.status_code == 200 and r.headers["x-failgraph-truncated"] == "true"
        assert len(r.json()["results"]["bindings"]) == 5
        r = q(c, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "application/n-triples")
        assert r.headers["x-failgraph-truncated"] == "true" and len(r.text.splitlines()) == 5
        r = q(c, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5")
        assert "x-failgraph-truncated" not in r.headers


def test_timeout_kills_the_query_process_and_recovers(store):
    with make_client(store, timeout_s=1.0, isolation="process", workers=1) as c:
        service = c.app.state.query_service
        assert service.isolation == "process"
        assert q(c, ASK).status_code == 200  # starts the worker
        r = q(c, SLOW)
        assert r.status_code == 503 and "longer than 1 s" in r.json()["detail"]
        assert q(c, ASK).json()["boolean"] is True  # a fresh worker took over


def test_timeout_in_thread_mode_on_an_in_memory_store(home):
    from failgraph.kg.build import open_store
    from failgraph.kg.store import OxigraphStore

    mem = OxigraphStore()
    mem._store.bulk_extend(open_store(home)._store.quads_for_pattern(None, None, None, None))
    with make_client(mem, timeout_s=0.2, workers=1) as c:
        assert c.app.state.query_service.isolation == "thread"
        r = q(c, FINITE_SLOW)
        assert r.status_code == 503 and "Retry-After" in r.headers and "abandoned" in r.json()["detail"]
        # the abandoned query keeps its slot until it ends, then the endpoint answers again
        deadline = time.monotonic() + 30
        while (r := q(c, ASK)).status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert r.json()["boolean"] is True


def test_a_worker_whose_pool_went_away_exits_quietly(store):
    """A server stopping while it starts a query worker closes the pipes first: the worker leaves without a
    traceback on the server's stderr."""
    import os
    import subprocess
    import sys

    from failgraph.kg.sparql_text import QueryPolicy

    p2c_r, p2c_w = os.pipe()
    c2p_r, c2p_w = os.pipe()
    os.close(c2p_r)  # nobody will read the worker's "ready"
    proc = subprocess.run(  # noqa: PLW1510 - the return code is asserted below
        [sys.executable, "-c", "from failgraph.kg.remote import _worker_entry; _worker_entry()", str(store.path),
         str(p2c_r), str(c2p_w), QueryPolicy().model_dump_json()],
        pass_fds=(p2c_r, c2p_w), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    for fd in (p2c_r, p2c_w, c2p_w):
        os.close(fd)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


# ---------------------------------------------------------------------------------------------- standard clients
@pytest.fixture(scope="module")
def served(store):
    from failgraph.kg.sparql_service import QueryLimits
    from failgraph.ui.httpapi import create_app
    with UvicornThread(create_app(None, store, sparql=QueryLimits(timeout_s=20))) as srv:
        yield srv


def test_sparqlwrapper_against_uvicorn(served, store):
    from SPARQLWrapper import CSV, JSON, POST, TURTLE, XML, SPARQLWrapper

    endpoint = served.url + "/sparql"
    w = SPARQLWrapper(endpoint)
    w.setQuery(SELECT)
    w.setReturnFormat(JSON)
    got = w.query().convert()
    assert got == store.query(SELECT).to_json()
    w.setMethod(POST)
    assert w.query().convert() == got
    w.setReturnFormat(XML)
    doc = w.query().convert()
    assert len(doc.getElementsByTagName("result")) == 7
    w.setReturnFormat(CSV)
    assert w.query().convert().decode().splitlines()[0] == "url"
    w = SPARQLWrapper(endpoint)
    w.setQuery(ASK)
    w.setReturnFormat(JSON)
    assert w.query().convert()["boolean"] is True
    w = SPARQLWrapper(endpoint)
    w.setQuery(CONSTRUCT)
    w.setReturnFormat(TURTLE)
    assert len(rdflib.Graph().parse(data=w.query().convert(), format="turtle")) == 5
    w.setReturnFormat(XML)  # CONSTRUCT as RDF/XML, SPARQLWrapper's default, parsed into an rdflib Graph
    assert len(w.query().convert()) == 5


def test_sparqlwrapper_update_is_refused(served, store):
    from SPARQLWrapper import POST, SPARQLWrapper

    before = len(store)
    w = SPARQLWrapper(served.url + "/sparql")
    w.setMethod(POST)
    w.setQuery("INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }")
    with pytest.raises(urllib.error.HTTPError) as e:
        w.query()
    assert e.value.code == 403 and b"read-only" in e.value.read()
    assert len(store) == before


def test_remote_store_over_our_endpoint_matches_the_embedded_store(served, store):
    from failgraph.kg.remote import connect

    remote = connect(f"sparql+{served.url}/sparql")
    try:
        for nq in list_queries():
            a, b = store.query(nq.text), remote.query(nq.text)
            assert a.variables == b.variables, nq.name
            key = lambda r: sorted((k, t.model_dump_json()) for k, t in r.items())  # noqa: E731
            assert sorted(map(key, a.rows)) == sorted(map(key, b.rows)), nq.name
        assert remote.query(ASK).value is True
        assert len(remote.query(CONSTRUCT).triples) == 5
    finally:
        remote.close()


def test_named_queries_over_http_match_the_cli_json(client, store):
    nq = get_query("symptom_cause_category")
    r = q(client, nq.text)
    assert r.json() == json.loads(json.dumps(store.query(nq.text).to_json()))


# ---------------------------------------------------------------------------------------------- dataset, base, Host
ONTOLOGY_GRAPH = "https://w3id.org/failgraph/id/graph/ontology"
COUNT_FROM = f"SELECT (COUNT(*) AS ?n) FROM <{ONTOLOGY_GRAPH}> WHERE {{ ?s ?p ?o }}"
COUNT_GRAPH = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?s ?p ?o }} }}"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def count(res) -> int:
    return int(res.records()[0]["n"])


def test_from_names_the_default_graph_in_every_store(store, served):
    from failgraph.kg.remote import connect
    from failgraph.kg.store import RdflibStore

    in_graph, total = count(store.query(COUNT_GRAPH)), count(store.query(COUNT_ALL))
    assert 0 < in_graph < total
    assert count(store.query(COUNT_FROM)) == in_graph
    assert count(store.query(COUNT_FROM.replace(ONTOLOGY_GRAPH, "http://example.org/no-such-graph"))) == 0
    named = f"SELECT DISTINCT ?g FROM NAMED <{ONTOLOGY_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert [r["g"] for r in store.query(named).records()] == [ONTOLOGY_GRAPH]
    rdf = RdflibStore()
    quads = _quads_of(store, ONTOLOGY_GRAPH)
    rdf.add_quads(quads)
    assert count(rdf.query(COUNT_FROM)) == len(quads) - 1 and count(rdf.query(COUNT_ALL)) == len(quads)
    remote = connect(f"sparql+{served.url}/sparql")
    try:
        assert count(remote.query(COUNT_FROM)) == in_graph
    finally:
        remote.close()


def _quads_of(store, graph):
    """The quads of one graph plus one of another graph, as rdflib terms."""
    from rdflib import Literal, URIRef
    rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").rows
    term = lambda t: URIRef(t.value) if t.type == "uri" else Literal(t.value, lang=t.lang, datatype=t.datatype)  # noqa: E731
    out = [(term(r["s"]), term(r["p"]), term(r["o"]), URIRef(graph)) for r in rows if r["s"].type == "uri"]
    return [*out, (URIRef("http://e/s"), URIRef("http://e/p"), Literal("o"), URIRef("http://e/other"))]


def test_from_and_dataset_parameters_over_http(client, store):
    in_graph = count(store.query(COUNT_GRAPH))
    r = q(client, COUNT_FROM)
    assert r.status_code == 200 and int(r.json()["results"]["bindings"][0]["n"]["value"]) == in_graph
    r = client.get("/sparql", params={"query": COUNT_ALL, "default-graph-uri": ONTOLOGY_GRAPH})
    assert r.status_code == 200, r.text
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) == in_graph
    r = client.post("/sparql", data={"query": COUNT_ALL, "default-graph-uri": "http://example.org/no-such-graph"})
    assert r.status_code == 200 and r.json()["results"]["bindings"][0]["n"]["value"] == "0"


def test_cli_sparql_honours_from(home):
    from typer.testing import CliRunner

    from failgraph.ui.cli import app

    runner = CliRunner()
    got = {}
    for name, text in (("from", COUNT_FROM), ("graph", COUNT_GRAPH), ("all", COUNT_ALL)):
        r = runner.invoke(app, ["sparql", text, "--home", str(home.root), "--format", "csv"])
        assert r.exit_code == 0, r.output
        got[name] = int(r.stdout.splitlines()[1])
    assert got["from"] == got["graph"] < got["all"]


def test_relative_iris_resolve_against_the_configured_url_not_the_host_header(store):
    from fastapi.testclient import TestClient

    from failgraph.ui.httpapi import create_app

    with TestClient(create_app(None, store)) as c:
        for headers in ({}, {"host": "attacker.example"}):
            r = c.get("/sparql", params={"query": "CONSTRUCT { <s> <p> 1 } WHERE {}"},
                      headers={**headers, "accept": "application/n-triples"})
            assert r.status_code == 200, r.text
            assert r.text.startswith("<http://127.0.0.1:8000/s> <http://127.0.0.1:8000/p> ")


def test_service_description_ignores_the_host_header(store):
    from fastapi.testclient import TestClient

    from failgraph.ui.httpapi import create_app

    SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    with TestClient(create_app(None, store)) as c:
        r = c.get("/sparql", headers={"host": "attacker.example"})
        assert r.status_code == 200 and "attacker" not in r.text
        g = rdflib.Graph().parse(data=r.text, format="turtle")
        assert {str(o) for o in g.objects(None, SD.endpoint)} == {"http://127.0.0.1:8000/sparql"}


def test_serve_builds_the_endpoint_url_from_its_own_configuration():
    from failgraph.ui.httpapi import EndpointSettings

    assert EndpointSettings.for_server("0.0.0.0", 8598).url == "http://0.0.0.0:8598/sparql"
    assert EndpointSettings.for_server("::1", 8598).url == "http://[::1]:8598/sparql"
    assert EndpointSettings.for_server("127.0.0.1", 8598, "https://kg.example.org/sparql").url == \
        "https://kg.example.org/sparql"
    with pytest.raises(ValueError):
        EndpointSettings.for_server("127.0.0.1", 8598, "kg.example.org/sparql")


def test_413_on_sparql_talks_about_the_query(client):
    body = ("SELECT * WHERE { ?s ?p ?o } #" + "x" * 70_000).encode()
    r = client.post("/sparql", content=body, headers={"content-type": "application/sparql-query"})
    assert r.status_code == 413
    detail = r.json()["detail"]
    assert "query" in detail and "report" not in detail
    r = client.post("/v1/similar", content=b"{" + b" " * 70_000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413 and "report" in r.json()["detail"]
