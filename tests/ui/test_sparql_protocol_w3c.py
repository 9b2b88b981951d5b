"""The W3C SPARQL 1.1 Protocol tests (w3c/rdf-tests, sparql/sparql11/protocol/manifest.ttl), query side, against
/sparql over an in-process app.

Each test sends the request its W3C namesake describes and checks the status, the content type and, where the test
gives one, the result. The data are our own tiny equivalents of the suite's data0.rdf … data3.rdf: graph
``…/dataN.rdf`` says that ``<…/dataN.rdf>`` is a foaf:Document. A named graph the requests never name is loaded too,
so an endpoint that ignored the requested dataset (and answered over the union) would fail the negative checks. The
update tests do not apply to a read-only endpoint: each is refused with 403 and the graph stays as it was. Runs over
Oxigraph in memory (queries in threads), Oxigraph on disk (queries in worker processes) and rdflib.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
import rdflib
from rdflib import Literal, URIRef

DATA = "http://kasei.us/2009/09/sparql/data/"
FOAF_DOC = URIRef("http://xmlns.com/foaf/0.1/Document")
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
TITLE = URIRef("http://purl.org/dc/terms/title")
OTHER = "http://example.org/not-in-any-request"
ENDPOINT = "http://sparql.test.example/sparql"
BOOLEAN_TYPES = ("application/sparql-results+json", "application/sparql-results+xml")
TABULAR_TYPES = (*BOOLEAN_TYPES, "text/csv", "text/tab-separated-values")
RDF_TYPES = ("text/turtle", "application/rdf+xml", "application/n-triples", "application/ld+json")


def d(n: int) -> str:
    return f"{DATA}data{n}.rdf"


def quads():
    for n in range(4):
        g = URIRef(d(n))
        yield URIRef(d(n)), RDF_TYPE, FOAF_DOC, g
        yield URIRef(d(n)), TITLE, Literal(f"data {n}"), g
    yield URIRef(OTHER), RDF_TYPE, FOAF_DOC, URIRef(OTHER)


@pytest.fixture(scope="module", params=["oxigraph-memory", "oxigraph-disk", "rdflib"])
def client(request, tmp_path_factory):
    from fastapi.testclient import TestClient

    from failgraph.kg.sparql_service import QueryLimits
    from failgraph.kg.store import OxigraphStore, RdflibStore
    from failgraph.ui.httpapi import EndpointSettings, create_app

    if request.param == "rdflib":
        store = RdflibStore()
        store.add_quads(quads())
    elif request.param == "oxigraph-memory":
        store = OxigraphStore()
        store.add_quads(quads())
    else:
        path = tmp_path_factory.mktemp("w3c") / "store"
        writer = OxigraphStore(path)
        writer.add_quads(quads())
        writer.close()
        store = OxigraphStore(path, read_only=True)
    app = create_app(None, store, sparql=QueryLimits(timeout_s=30, workers=1),
                     endpoint=EndpointSettings(url=ENDPOINT))
    with TestClient(app) as c:
        c.store = store
        yield c


def media(r) -> str:
    return r.headers.get("content-type", "").split(";")[0].strip()


def boolean(r) -> bool:
    """The boolean of an ASK answer (JSON or XML results), after checking the status and the content type."""
    assert r.status_code == 200, r.text
    assert media(r) in BOOLEAN_TYPES
    if media(r).endswith("json"):
        return json.loads(r.text)["boolean"]
    return ET.fromstring(r.content).find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"


def enc(s: str) -> str:
    return quote(s, safe="")


def direct(c, path_query: str, body: str, content_type: str = "application/sparql-query", **kw):
    return c.post(f"/sparql{path_query}", content=body.encode("utf-8"), headers={"content-type": content_type}, **kw)


def form(c, path_query: str, body: str):
    return direct(c, path_query, body, "application/x-www-form-urlencoded")


ASK_D1_D2 = f"ASK {{ <{d(1)}> a ?type . <{d(2)}> a ?type . }}"
ASK_NAMED = f"ASK {{ GRAPH ?g1 {{ <{d(1)}> a ?type }} GRAPH ?g2 {{ <{d(2)}> a ?type }} }}"


# ---------------------------------------------------------------------------------------------- query tests
def test_query_post_form(client):
    assert boolean(form(client, f"?default-graph-uri={enc(d(0))}", "query=ASK%20%7B%7D")) is True


def test_query_post_form_urlencoded_with_charset(client):
    r = direct(client, "", "query=ASK%20%7B%7D", "application/x-www-form-urlencoded; charset=UTF-8")
    assert boolean(r) is True


def test_query_dataset_default_graphs_get(client):
    r = client.get(f"/sparql?query={enc(ASK_D1_D2)}&default-graph-uri={enc(d(1))}&default-graph-uri={enc(d(2))}")
    assert boolean(r) is True
    # the default graph is exactly the listed graphs: data2 alone does not hold data1's triple
    assert boolean(client.get("/sparql", params={"query": ASK_D1_D2, "default-graph-uri": d(2)})) is False


def test_query_dataset_default_graphs_post(client):
    r = direct(client, f"?default-graph-uri={enc(d(1))}&default-graph-uri={enc(d(2))}", ASK_D1_D2)
    assert boolean(r) is True
    r = form(client, "", f"query={enc(ASK_D1_D2)}&default-graph-uri={enc(d(1))}&default-graph-uri={enc(d(2))}")
    assert boolean(r) is True


def test_query_dataset_named_graphs_post(client):
    assert boolean(direct(client, f"?named-graph-uri={enc(d(1))}&named-graph-uri={enc(d(2))}", ASK_NAMED)) is True
    assert boolean(direct(client, f"?named-graph-uri={enc(d(1))}", ASK_NAMED)) is False


def test_query_dataset_named_graphs_get(client):
    r = client.get(f"/sparql?query={enc(ASK_NAMED)}&named-graph-uri={enc(d(1))}&named-graph-uri={enc(d(2))}")
    assert boolean(r) is True
    # named graphs given and no default graph: the default graph is empty
    r = client.get("/sparql", params={"query": f"ASK {{ <{d(1)}> ?p ?o }}", "named-graph-uri": d(1)})
    assert boolean(r) is False


def test_query_dataset_full(client):
    query = (f"ASK {{\n  <{d(3)}> a ?type\n  GRAPH ?g1 {{ <{d(1)}> a ?type }}\n"
             f"  GRAPH ?g2 {{ <{d(2)}> a ?type }}\n}}")
    r = direct(client, f"?default-graph-uri={enc(d(3))}&named-graph-uri={enc(d(1))}&named-graph-uri={enc(d(2))}",
               query)
    assert boolean(r) is True
    r = client.get("/sparql", params={"query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                      "default-graph-uri": d(3), "named-graph-uri": [d(1), d(2)]})
    assert {b["g"]["value"] for b in r.json()["results"]["bindings"]} == {d(1), d(2)}


def test_query_multiple_dataset(client):
    """The protocol's dataset replaces the query's FROM. (The manifest percent-encodes the `&` between its two
    named-graph-uri parameters, which makes them one IRI; the test's intent, two parameters, is sent here.)"""
    query = f"ASK FROM <{d(3)}> {{ GRAPH ?g1 {{ <{d(1)}> a ?type }} GRAPH ?g2 {{ <{d(2)}> a ?type }} }}"
    assert boolean(direct(client, f"?named-graph-uri={enc(d(1))}&named-graph-uri={enc(d(2))}", query)) is True
    # and the other way round: default-graph-uri overrides FROM
    query = f"ASK FROM <{d(3)}> {{ <{d(3)}> a ?type }}"
    assert boolean(direct(client, "", query)) is True
    assert boolean(direct(client, f"?default-graph-uri={enc(d(1))}", query)) is False


def test_query_get(client):
    assert boolean(client.get(f"/sparql?query=ASK%20%7B%7D&default-graph-uri={enc(d(0))}")) is True


def test_the_w3c_path_with_a_trailing_slash_answers_without_a_redirect(client):
    """The suite's requests go to /sparql/; a redirect would take its Location from the request's Host header."""
    r = client.get(f"/sparql/?query=ASK%20%7B%7D&default-graph-uri={enc(d(0))}", headers={"host": "attacker.example"},
                   follow_redirects=False)
    assert boolean(r) is True
    r = client.post("/sparql/", content=b"ASK {}", headers={"content-type": "application/sparql-query"},
                    follow_redirects=False)
    assert boolean(r) is True


def test_query_content_type_select(client):
    r = direct(client, f"?default-graph-uri={enc(d(0))}", "SELECT (1 AS ?value) {}")
    assert r.status_code == 200 and media(r) in TABULAR_TYPES
    assert r.json()["results"]["bindings"][0]["value"]["value"] == "1"


def test_query_content_type_ask(client):
    r = direct(client, f"?default-graph-uri={enc(d(0))}", "ASK {}")
    assert r.status_code == 200 and media(r) in BOOLEAN_TYPES


def test_query_content_type_describe(client):
    r = direct(client, f"?default-graph-uri={enc(d(0))}", "DESCRIBE <http://example.org/>")
    assert r.status_code == 200 and media(r) in RDF_TYPES
    rdflib.Graph().parse(data=r.text, format="turtle")


def test_query_content_type_construct(client):
    r = direct(client, f"?default-graph-uri={enc(d(0))}", "CONSTRUCT { <s> <p> 1 } WHERE {}")
    assert r.status_code == 200 and media(r) in RDF_TYPES
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    # relative IRIs resolve against the endpoint's configured URL
    assert set(g) == {(URIRef("http://sparql.test.example/s"), URIRef("http://sparql.test.example/p"), Literal(1))}


def test_query_post_direct(client):
    assert boolean(direct(client, "", "ASK {}")) is True


# ---------------------------------------------------------------------------------------------- bad requests
def test_bad_query_method(client):
    r = client.put(f"/sparql?query=ASK%20%7B%7D&default-graph-uri={enc(d(0))}",
                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert 400 <= r.status_code < 500


def test_bad_multiple_queries(client):
    r = client.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D")
    assert 400 <= r.status_code < 500


def test_bad_query_wrong_media_type(client):
    assert 400 <= direct(client, "", "ASK {}", "text/plain").status_code < 500


def test_bad_query_missing_form_type(client):
    assert 400 <= client.post("/sparql", content=b"query=ASK%20%7B%7D").status_code < 500


def test_bad_query_missing_direct_type(client):
    assert 400 <= client.post("/sparql", content=b"ASK {}").status_code < 500


def test_bad_query_non_utf8(client):
    r = client.post("/sparql", content="ASK {}".encode("utf-16"),
                    headers={"content-type": "application/sparql-query; charset=UTF-16"})
    assert 400 <= r.status_code < 500 and "UTF-8" in r.json()["detail"]


def test_bad_query_syntax(client):
    r = client.get("/sparql?query=ASK%20%7B")
    assert 400 <= r.status_code < 500 and r.json()["detail"]


# ---------------------------------------------------------------------------------------------- updates: refused
UPDATE = (f"PREFIX dc: <http://purl.org/dc/terms/>\nPREFIX foaf: <http://xmlns.com/foaf/0.1/>\nCLEAR ALL ;\n"
          f"INSERT DATA {{ GRAPH <{d(1)}> {{ <{d(1)}> a foaf:Document }} }} ;\n"
          "INSERT { GRAPH <http://example.org/protocol-update-dataset-test/> { ?s a dc:BibliographicResource } }\n"
          "WHERE { ?s a foaf:Document }")
UPDATE_REQUESTS = {
    "update_dataset_default_graph": (f"?using-graph-uri={enc(d(1))}", UPDATE, "application/sparql-update"),
    "update_dataset_default_graphs": (f"?using-graph-uri={enc(d(1))}&using-graph-uri={enc(d(2))}",
                                      UPDATE.replace("CLEAR ALL", "DROP ALL"), "application/sparql-update"),
    "update_dataset_named_graphs": (f"?using-named-graph-uri={enc(d(1))}&using-named-graph-uri={enc(d(2))}",
                                    UPDATE.replace("CLEAR ALL", "DROP ALL"), "application/sparql-update"),
    "update_dataset_full": (f"?using-graph-uri={enc(d(1))}&using-named-graph-uri={enc(d(2))}",
                            UPDATE.replace("CLEAR ALL", "DROP ALL"), "application/sparql-update"),
    "update_post_form": ("", "update=CLEAR+ALL", "application/x-www-form-urlencoded"),
    "update_post_direct": ("", "CLEAR ALL", "application/sparql-update"),
    "update_base_uri": ("", "CLEAR GRAPH <http://example.org/protocol-base-test/> ;\nINSERT DATA { GRAPH "
                            "<http://example.org/protocol-base-test/> { <http://example.org/s> <http://example.org/p> "
                            "<test> } }", "application/sparql-update"),
    "bad_multiple_updates": ("", "update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", "application/x-www-form-urlencoded"),
    "bad_update_wrong_media_type": ("", "CLEAR NAMED", "text/plain"),
    "bad_update_missing_form_type": ("", "update=CLEAR%20NAMED", None),
    "bad_update_syntax": ("", "update=CLEAR%20XYZ", "application/x-www-form-urlencoded"),
    "bad_update_dataset_conflict": ("?using-named-graph-uri=http%3A%2F%2Fexample%2Fpeople",
                                    "PREFIX foaf:  <http://xmlns.com/foaf/0.1/>\nWITH <http://example/addresses>\n"
                                    "DELETE { ?person foaf:givenName 'Bill' }\nINSERT { ?person foaf:givenName "
                                    "'William' }\nWHERE {\n    ?person foaf:givenName 'Bill'\n}",
                                    "application/sparql-update"),
}


@pytest.mark.parametrize("name", sorted(UPDATE_REQUESTS))
def test_update_requests_are_refused(client, name):
    path_query, body, ctype = UPDATE_REQUESTS[name]
    before = len(client.store)
    headers = {"content-type": ctype} if ctype else {}
    r = client.post(f"/sparql{path_query}", content=body.encode("utf-8"), headers=headers)
    if name.startswith("bad_") and ctype in (None, "text/plain"):
        assert 400 <= r.status_code < 500, r.text  # not a query request at all: 415
    else:
        assert r.status_code == 403 and "read-only" in r.json()["detail"], r.text
    assert len(client.store) == before
    # the follow-up query of the update tests finds nothing: the update did not run
    r = direct(client, "", "ASK { GRAPH <http://example.org/protocol-update-dataset-test/> { ?s ?p ?o } }")
    assert boolean(r) is False


def test_bad_update_get(client):
    r = client.get("/sparql?update=CLEAR%20ALL")
    assert r.status_code == 403


def test_bad_update_non_utf8(client):
    r = client.post("/sparql", content="CLEAR NAMED".encode("utf-16"),
                    headers={"content-type": "application/sparql-update; charset=UTF-16"})
    assert r.status_code == 403
