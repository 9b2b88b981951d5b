"""No SPARQL surface makes an outbound request: a query using SERVICE is refused before any connection is made (the
endpoint, the CLI, the stores themselves), unless the operator allow-listed the endpoint's absolute IRI.

Each test starts a tiny HTTP server on 127.0.0.1 that records every request, sends SERVICE queries aimed at it, and
checks that the server saw nothing and the answer is the refusal. The allow-listed case proves the server does get
requests when failgraph is allowed to call it, so the zero counts mean something.
"""

from __future__ import annotations

import http.server
import threading

import pytest
from typer.testing import CliRunner

from failgraph.kg.sparql_text import QueryPolicy, service_violation, update_keyword

SECRET = "SECRET-FROM-THE-INTERNAL-SERVICE"


class Recorder:
    """An HTTP server on a free loopback port that answers every request with SPARQL JSON results and counts them."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                hits.append((self.command, self.path, self.rfile.read(n) if n else b""))
                data = (f'{{"head":{{"vars":["s"]}},"results":{{"bindings":[{{"s":{{"type":"literal","value":"{SECRET}"}}}}]}}}}').encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, name="recorder", daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


def attacks(url: str) -> list[str]:
    """SERVICE calls to ``url`` in the spellings a guard must not miss."""
    host = url.rsplit("/", 1)[0]
    escaped = "".join(f"\\u{ord(c):04X}" for c in url)
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SeRvIcE\t<{url}>{{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICESILENT<{url}> {{ ?s ?p ?o }} }}",  # Oxigraph accepts glued keywords
        f"SELECT * WHERE {{ SERVICE # a comment\n <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <{escaped}> {{ ?s ?p ?o }} }}",
        f"BASE <{host}/> SELECT * WHERE {{ SERVICE <secret> {{ ?s ?p ?o }} }}",
        f"PREFIX x: <{host}/> SELECT * WHERE {{ SERVICE x:secret {{ ?s ?p ?o }} }}",
        f"PREFIX : <{host}/> SELECT * WHERE {{ SERVICE:secret {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{url}> AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}",
        # `<'~>` would be an IRI, but here `<` is less-than: the quote after it opens a string in Oxigraph
        f"SELECT * WHERE {{ {{ VALUES ?o {{ 'a' }} FILTER(?o<'~>') }} SERVICE <{url}> {{ ?s ?p ?x }} "
        f"FILTER(?o != 'x') }}",
        # an escaped quote inside a prefixed name is not the start of a string
        f"PREFIX ex: <http://e/> SELECT * WHERE {{ OPTIONAL {{ ?a ex:p\\' ?o }} SERVICE <{url}> {{ ?s ?p ?x }} "
        f"FILTER(?o != \"x'\") }}",
        "SELECT * WHERE { ?a ?b ?c FILTER(?a<?b)SERVICE?x#>\n{ ?s ?p ?o } }",
    ]


# ---------------------------------------------------------------------------------------------- the guard itself
def test_every_spelling_is_refused_and_harmless_mentions_are_not():
    url = "http://127.0.0.1:9/secret"
    for q in attacks(url):
        assert service_violation(q), q
    harmless = [
        "SELECT * WHERE { ?s ?p 'SERVICE <http://127.0.0.1:9/> { }' } # SERVICE <http://127.0.0.1:9/>",
        "PREFIX sd: <http://www.w3.org/ns/sparql-service-description#> SELECT ?s WHERE { ?s a sd:Service }",
        "SELECT ?service WHERE { ?service <http://api.service.example/x#it's> ?o }",
        "PREFIX ex: <http://e/> SELECT * WHERE { ?s ex:service ?o ; ex:a.SERVICE ?x }",
    ]
    for q in harmless:
        assert service_violation(q) is None, q


def test_the_allow_list_takes_exact_absolute_iris_only():
    url = "http://127.0.0.1:9/secret"
    policy = QueryPolicy(allowed_services={url})
    plain, silent, _, glued, comment, escaped, relative, prefixed, colon, variable = attacks(url)[:10]
    for q in (plain, silent, glued, comment, escaped):
        assert service_violation(q, policy) is None, q
    for q in (relative, prefixed, colon, variable):  # not `SERVICE <absolute IRI>`: refused even when allowed
        assert service_violation(q, policy), q
    assert service_violation(plain, QueryPolicy(allowed_services={url + "/other"}))
    assert QueryPolicy.from_settings(["http://a/s"], {"FAILGRAPH_SPARQL_ALLOWED_SERVICES": "http://b/s, http://c/s"}
                                     ).allowed_services == {"http://a/s", "http://b/s", "http://c/s"}
    with pytest.raises(ValueError):
        QueryPolicy(allowed_services={"relative/iri"})


def test_the_read_only_guard_reads_the_same_tokens():
    assert update_keyword("PREFIX ex: <http://e/> SELECT * { ?s ex:p\\' ?o } ; CLEAR ALL") == "CLEAR"
    assert update_keyword("SELECT * { ?s <http://e/x#drop> 'INSERT' }") is None


# ---------------------------------------------------------------------------------------------- every surface
def test_stores_refuse_service_without_connecting(recorder):
    from rdflib import Literal, URIRef

    from failgraph.kg.remote import SparqlEndpointStore
    from failgraph.kg.store import OxigraphStore, RdflibStore, ServiceRefused

    quad = (URIRef("http://e/s"), URIRef("http://e/p"), Literal("o"), URIRef("http://e/g"))
    oxi, rdf = OxigraphStore(), RdflibStore()
    oxi.add_quads([quad])
    rdf.add_quads([quad])
    remote = SparqlEndpointStore(recorder.url)  # its own endpoint is the recorder: nothing may reach it either
    for store in (oxi, rdf, remote):
        for q in attacks(recorder.url):
            with pytest.raises(ServiceRefused, match="SERVICE"):
                store.query(q)
    assert recorder.hits == []
    # rdflib decodes \u escapes anywhere in the text: its parsed query is checked as well
    with pytest.raises(ServiceRefused):
        rdf.query(f"SELECT * WHERE {{ \\u0053ERVICE <{recorder.url}> {{ ?s ?p ?o }} }}")
    assert recorder.hits == []


def test_an_allow_listed_service_is_called(recorder):
    from failgraph.kg.store import OxigraphStore

    store = OxigraphStore(policy=QueryPolicy(allowed_services={recorder.url}))
    res = store.query(attacks(recorder.url)[0])
    assert [r["s"] for r in res.records()] == [SECRET] and len(recorder.hits) == 1


@pytest.mark.parametrize("isolation", ["process", "thread"])
def test_endpoint_answers_400_without_connecting(recorder, home, isolation):
    from fastapi.testclient import TestClient

    from failgraph.kg.build import open_store
    from failgraph.kg.sparql_service import QueryLimits
    from failgraph.ui.httpapi import create_app

    app = create_app(None, open_store(home), sparql=QueryLimits(timeout_s=20, isolation=isolation, workers=1))
    with TestClient(app) as c:
        for q in attacks(recorder.url):
            for r in (c.get("/sparql", params={"query": q}), c.post("/sparql", data={"query": q}),
                      c.post("/sparql", content=q.encode(), headers={"content-type": "application/sparql-query"})):
                assert r.status_code == 400, (q, r.text)
                assert "SERVICE" in r.json()["detail"] and SECRET not in r.text
        assert "SERVICE is refused" in c.get("/sparql").text  # the service description says so
    assert recorder.hits == []


def test_cli_refuses_service_without_connecting(recorder, home):
    from failgraph.ui.cli import app

    runner = CliRunner()
    for q in attacks(recorder.url)[:4]:
        r = runner.invoke(app, ["sparql", q, "--home", str(home.root)])
        assert r.exit_code == 2, r.output
        assert r.stderr.startswith("error: ") and "SERVICE" in r.stderr and "Traceback" not in r.output
    assert recorder.hits == []
    r = runner.invoke(app, ["sparql", attacks(recorder.url)[0], "--home", str(home.root),
                            "--allow-service", recorder.url, "--format", "csv"])
    assert r.exit_code == 0 and SECRET in r.stdout and len(recorder.hits) == 1
