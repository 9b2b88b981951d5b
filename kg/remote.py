"""Graph stores reached outside this process: a SPARQL 1.1 endpoint over HTTP, and an embedded snapshot queried in
killable worker processes.

``SparqlEndpointStore`` speaks the SPARQL 1.1 Protocol for queries and the Graph Store HTTP Protocol for loading, and
returns the same :class:`~failgraph.kg.results.SelectResult` / ``AskResult`` / ``GraphResult`` as the embedded store,
so everything above :mod:`failgraph.kg.store` works unchanged against a server. It never sends SPARQL Update: quads
are loaded as N-Triples documents (one ``POST ?graph=<iri>`` per named graph), so no text, ours or a user's, is ever
spliced into an update.

**The union default graph.** failgraph's queries assume that the default graph is the union of all named graphs (each
source lives in its own graph). A plain SPARQL endpoint's default graph is usually its own, separate graph; with the
Oxigraph server (``pip install oxigraph``, command ``oxigraph``) either start it with::

    oxigraph serve --location DIR --bind 127.0.0.1:7878 --union-default-graph

or keep a plain server and put Oxigraph's per-request switch in the URL, which this store sends on every query::

    connect("sparql+http://127.0.0.1:7878/query?union-default-graph")

(Fuseki's equivalent is the ``tdb2:unionDefaultGraph true`` dataset setting.)

>>> store = connect("sparql+http://127.0.0.1:7878/query")
>>> (store.query_url, store.graph_store_url)
('http://127.0.0.1:7878/query', 'http://127.0.0.1:7878/store')
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from .home import GraphHome
from .results import AskResult, GraphResult, QueryResult, RDFTerm, SelectResult
from .sparql_text import QueryPolicy, has_dataset_clause
from .store import (
    EXPORT_FORMATS,
    GraphStore,
    OxigraphStore,
    Quad,
    QueryDataset,
    StoreError,
    check_query,
    export_via_rdflib_or_ox,
    nt_term,
    term_from_ox,
)

SCHEMES = ("sparql+http://", "sparql+https://")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
#: What the store asks for: JSON results for SELECT/ASK, N-Triples for CONSTRUCT/DESCRIBE.
QUERY_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8"
#: Triples per Graph Store Protocol request when loading.
LOAD_BATCH = 50_000


# ---------------------------------------------------------------------------------------------- parsing results
def term_from_json(t: dict) -> RDFTerm:
    """A term of the SPARQL 1.1 JSON results format (also the legacy ``typed-literal``) as an :class:`RDFTerm`.

    Simple literals get the datatype ``xsd:string``, as the embedded store reports them.

    >>> term_from_json({"type": "literal", "value": "x"}).datatype
    'http://www.w3.org/2001/XMLSchema#string'
    >>> term_from_json({"type": "literal", "value": "x", "xml:lang": "en"}).lang
    'en'
    """
    kind = t.get("type")
    value = t.get("value", "")
    if kind == "uri":
        return RDFTerm(type="uri", value=value)
    if kind == "bnode":
        return RDFTerm(type="bnode", value=value)
    if kind in ("literal", "typed-literal"):
        lang = t.get("xml:lang") or t.get("lang")
        if lang:
            return RDFTerm(type="literal", value=value, lang=lang)
        return RDFTerm(type="literal", value=value, datatype=t.get("datatype") or XSD_STRING)
    if kind == "triple":
        return RDFTerm(type="triple", value=json.dumps(value) if not isinstance(value, str) else value)
    raise StoreError(f"the endpoint returned an unknown term type {kind!r}")




def parse_results_json(data: bytes | str, max_rows: int | None = None) -> SelectResult | AskResult:
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise StoreError(f"the endpoint returned malformed SPARQL JSON results: {e}") from None
    if "boolean" in doc:
        return AskResult(value=bool(doc["boolean"]))
    try:
        variables = list(doc["head"].get("vars", []))
        bindings = doc["results"]["bindings"]
    except (KeyError, TypeError, AttributeError):
        raise StoreError("the endpoint returned JSON that is not SPARQL results") from None
    truncated = max_rows is not None and len(bindings) > max_rows
    if truncated:
        bindings = bindings[:max_rows]
    rows = [{k: term_from_json(v) for k, v in b.items()} for b in bindings]
    return SelectResult(variables=variables, rows=rows, truncated=truncated)


def parse_graph(data: bytes, fmt: ox.RdfFormat, max_rows: int | None = None) -> GraphResult:
    triples = []
    try:
        for t in ox.parse(data, format=fmt):
            if max_rows is not None and len(triples) >= max_rows:
                break
            triples.append((term_from_ox(t.subject), term_from_ox(t.predicate), term_from_ox(t.object)))
    except SyntaxError as e:
        raise StoreError(f"the endpoint returned malformed RDF: {e}") from None
    return GraphResult(triples=triples)


_GRAPH_TYPES = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
                "text/turtle": ox.RdfFormat.TURTLE, "application/x-turtle": ox.RdfFormat.TURTLE,
                "application/turtle": ox.RdfFormat.TURTLE, "application/rdf+xml": ox.RdfFormat.RDF_XML}


# ---------------------------------------------------------------------------------------------- the HTTP store
def _endpoint_message(r: httpx.Response) -> str:
    text = r.text.strip()
    try:
        detail = r.json().get("detail")
        if isinstance(detail, str):
            text = detail
    except (ValueError, AttributeError):
        pass
    return " ".join(text.split())[:500]


def graph_store_url_for(query_url: str) -> str | None:
    """The Graph Store Protocol endpoint beside a query endpoint, for the layouts we know (None otherwise).

    Oxigraph serves ``/query`` and ``/store``; Fuseki serves ``/DATASET/sparql`` (or ``/query``) and ``/DATASET/data``.

    >>> graph_store_url_for("http://h:7878/query?union-default-graph")
    'http://h:7878/store'
    >>> graph_store_url_for("http://h:3030/ds/sparql")
    'http://h:3030/ds/data'
    """
    parts = urlsplit(query_url)
    path = parts.path.rstrip("/")
    if path.endswith("/query") and path.count("/") == 1:
        new = path[: -len("query")] + "store"
    elif path.endswith("/sparql"):
        new = path[: -len("sparql")] + "data"
    elif path.endswith("/query"):
        new = path[: -len("query")] + "data"
    else:
        return None
    return urlunsplit((parts.scheme, parts.netloc, new, "", ""))


class SparqlEndpointStore(GraphStore):
    """A graph behind a SPARQL 1.1 Protocol endpoint (queries) and, optionally, a Graph Store Protocol endpoint
    (loading). Queries are POSTed as ``application/sparql-query`` with the URL's own query string kept, so
    endpoint-specific switches such as Oxigraph's ``union-default-graph`` travel with every request."""

    def __init__(self, query_url: str, *, graph_store_url: str | None = None, timeout: float = 60.0,
                 headers: dict[str, str] | None = None, client: httpx.Client | None = None,
                 policy: QueryPolicy | None = None):
        if not query_url.startswith(("http://", "https://")):
            raise StoreError(f"not an http(s) SPARQL endpoint URL: {query_url!r}")
        self.query_url = query_url
        self.policy = policy or QueryPolicy()
        self.graph_store_url = graph_store_url
        self._client = client or httpx.Client(timeout=timeout, headers=headers or {}, follow_redirects=True)
        self._own_client = client is None

    # -- queries
    def _url_for(self, sparql: str, dataset: QueryDataset | None) -> str:
        """The query URL; a query with its own dataset (FROM, or ``dataset``) goes without Oxigraph's
        ``union-default-graph`` switch, which would override it, and ``dataset`` travels as Protocol parameters."""
        if dataset is None and not has_dataset_clause(sparql):
            return self.query_url
        parts = urlsplit(self.query_url)
        params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "union-default-graph"]
        if dataset is not None:
            params += [("default-graph-uri", g) for g in dataset.default_graphs]
            params += [("named-graph-uri", g) for g in dataset.named_graphs]
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), parts.fragment))

    def query(self, sparql: str, *, max_rows: int | None = None, dataset: QueryDataset | None = None,
              base_iri: str | None = None) -> QueryResult:
        """``base_iri`` is not sent: the endpoint resolves relative IRIs against its own base."""
        check_query(sparql, self.policy)  # the endpoint would follow SERVICE from its own network
        try:
            r = self._client.post(self._url_for(sparql, dataset), content=sparql.encode("utf-8"),
                                  headers={"Content-Type": "application/sparql-query; charset=utf-8",
                                           "Accept": QUERY_ACCEPT})
        except httpx.HTTPError as e:
            raise StoreError(f"cannot reach the SPARQL endpoint {self.query_url}: {e}") from None
        if r.status_code >= 400:
            raise StoreError(f"the SPARQL endpoint refused the query (HTTP {r.status_code}): {_endpoint_message(r)}")
        ctype = r.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype in ("application/sparql-results+json", "application/json"):
            return parse_results_json(r.content, max_rows)
        if ctype in _GRAPH_TYPES:
            return parse_graph(r.content, _GRAPH_TYPES[ctype], max_rows)
        raise StoreError(f"the SPARQL endpoint answered with an unexpected content type {ctype or 'none'!r}")

    def __len__(self) -> int:
        """Quads in the endpoint's named graphs (failgraph writes nothing to the default graph)."""
        res = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(res, SelectResult)
        return int(res.records()[0]["n"]) if res.rows else 0

    # -- loading (Graph Store HTTP Protocol, never SPARQL Update)
    def add_quads(self, quads: Iterable[Quad]) -> int:
        if not self.graph_store_url:
            raise StoreError(f"no Graph Store Protocol endpoint is known for {self.query_url}; "
                             "pass graph_store_url= to load data")
        n = 0
        pending: dict[str, list[str]] = defaultdict(list)
        size = 0
        for s, p, o, g in quads:
            pending[str(g)].append(f"{nt_term(s)} {nt_term(p)} {nt_term(o)} .\n")
            n += 1
            size += 1
            if size >= LOAD_BATCH:
                self._flush(pending)
                pending, size = defaultdict(list), 0
        self._flush(pending)
        return n

    def _flush(self, pending: dict[str, list[str]]) -> None:
        for graph, lines in pending.items():
            try:
                r = self._client.post(self.graph_store_url, params={"graph": graph},
                                      content="".join(lines).encode("utf-8"),
                                      headers={"Content-Type": "application/n-triples"})
            except httpx.HTTPError as e:
                raise StoreError(f"cannot reach the graph store {self.graph_store_url}: {e}") from None
            if r.status_code >= 400:
                raise StoreError(f"the graph store refused the data for <{graph}> (HTTP {r.status_code}): "
                                 f"{_endpoint_message(r)}")

    # -- export
    def export(self, path: Path, fmt: str) -> None:
        """Fetch every quad (one SELECT over ``GRAPH ?g``) and write it like the embedded store does."""
        if fmt not in EXPORT_FORMATS:
            raise StoreError(f"unknown export format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})")
        res = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(res, SelectResult)
        local = OxigraphStore()
        lines = [f"{r['s'].to_ntriples()} {r['p'].to_ntriples()} {r['o'].to_ntriples()} {r['g'].to_ntriples()} .\n"
                 for r in res.rows]
        if lines:
            local._load_lines(lines)
        export_via_rdflib_or_ox(local, Path(path), fmt)

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def __repr__(self) -> str:
        return f"SparqlEndpointStore({self.query_url!r})"


def connect(store_url_or_home: str | Path | None = None, *, policy: QueryPolicy | None = None, **kw) -> GraphStore:
    """A store from a URL or a graph home.

    ``sparql+http://host:port/path[?params]`` or ``sparql+https://…`` gives a :class:`SparqlEndpointStore` for
    ``http(s)://host:port/path[?params]`` (with the Graph Store endpoint guessed by :func:`graph_store_url_for`);
    anything else is a graph home directory (None: ``$FAILGRAPH_HOME`` or the user data dir), whose published
    snapshot is opened read-only.
    """
    if isinstance(store_url_or_home, str) and store_url_or_home.startswith(SCHEMES):
        url = store_url_or_home[len("sparql+"):]
        kw.setdefault("graph_store_url", graph_store_url_for(url))
        return SparqlEndpointStore(url, policy=policy, **kw)
    if isinstance(store_url_or_home, str) and store_url_or_home.startswith(("http://", "https://")):
        raise StoreError(f"{store_url_or_home!r} is a web address, not a graph home: write a SPARQL endpoint as "
                         f"sparql+{store_url_or_home}")
    from .build import (
        open_store,  # late: build pulls in the mapping and validation modules
    )

    return open_store(GraphHome(store_url_or_home), policy=policy)


# ---------------------------------------------------------------------------------------------- worker processes
class QueryTimeout(StoreError):
    """The query ran past its time limit and was stopped."""


class QueryBusy(StoreError):
    """Every query worker stayed busy for longer than the wait allowed."""


class WorkerUnavailable(QueryBusy):
    """No query worker could be started (e.g. the store cannot be opened): the service cannot answer now."""


def _worker_main(path: str, conn_in: Connection, conn_out: Connection,
                 policy: QueryPolicy | None = None) -> None:  # pragma: no cover - child
    try:
        store = OxigraphStore(path, read_only=True, policy=policy)
    except Exception as e:
        print(f"failgraph query worker: cannot open the graph store {path}: {e}", file=sys.stderr, flush=True)
        conn_out.send(("error", "cannot open the graph store"))
        return
    conn_out.send(("ready", None))
    while True:
        try:
            msg = conn_in.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        text, max_rows, dataset, base_iri = msg
        try:
            conn_out.send(("ok", store.query(text, max_rows=max_rows, dataset=dataset, base_iri=base_iri)))
        except StoreError as e:
            conn_out.send(("error", str(e)))
        except Exception as e:
            print(f"failgraph query worker: the store failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            conn_out.send(("fault", f"the graph store failed to answer ({type(e).__name__})"))


def _worker_entry() -> None:  # pragma: no cover - runs in the child process
    path, fd_in, fd_out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    policy = QueryPolicy.model_validate_json(sys.argv[4])
    # the pool may go away (e.g. the server stopped while starting it)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        _worker_main(path, Connection(fd_in, writable=False), Connection(fd_out, readable=False), policy)


#: How long a new worker may take to import and open the store.
WORKER_START_S = 60.0


class _Worker:
    """A child interpreter (``python -c``, not multiprocessing: nothing of the parent's ``__main__`` is re-run)
    talking over two pipes."""

    def __init__(self, path: str, policy: QueryPolicy):
        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from failgraph.kg.remote import _worker_entry; _worker_entry()",
                 path, str(p2c_r), str(c2p_w), policy.model_dump_json()],
                pass_fds=(p2c_r, c2p_w), stdin=subprocess.DEVNULL, close_fds=True)
        except OSError:
            for fd in (p2c_r, p2c_w, c2p_r, c2p_w):
                os.close(fd)
            raise
        os.close(p2c_r)
        os.close(c2p_w)
        self.to_child = Connection(p2c_w, readable=False)
        self.from_child = Connection(c2p_r, writable=False)
        try:
            ready = self.from_child.poll(WORKER_START_S) and self.from_child.recv()
        except (EOFError, OSError):
            ready = None
        if not ready or ready[0] != "ready":
            self.kill()
            why = ready[1] if ready and ready[0] == "error" else "it did not start"
            raise WorkerUnavailable(f"cannot start a query worker: {why}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            self.to_child.close()
            self.from_child.close()


class ProcessQueryPool:
    """Run read-only queries on an on-disk Oxigraph snapshot in worker processes, so that a query past its time
    limit is really stopped (the worker is killed and replaced) instead of running on in a thread.

    Workers are fresh interpreters started on first use (safe in a process that holds threads and torch); POSIX only.
    """

    def __init__(self, path: str | Path, *, workers: int = 2, timeout: float = 10.0,
                 policy: QueryPolicy | None = None):
        self.path = str(path)
        self.policy = policy or QueryPolicy()
        self.timeout = timeout
        self.workers = workers
        self._idle: queue.Queue[_Worker | None] = queue.Queue()  # FIFO: warm_up and queries rotate through slots
        for _ in range(workers):
            self._idle.put(None)  # a slot; the process starts when a query first needs it
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    def query(self, text: str, *, max_rows: int | None = None, timeout: float | None = None,
              dataset: QueryDataset | None = None, base_iri: str | None = None) -> QueryResult:
        timeout = self.timeout if timeout is None else timeout
        check_query(text, self.policy)  # refused here already, and again by the worker's store
        try:
            w = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise QueryBusy("every query worker is busy; try again shortly") from None
        try:
            if w is None or not w.alive():
                w = self._start()
            w.to_child.send((text, max_rows, dataset, base_iri))
            if not w.from_child.poll(timeout):
                self._discard(w)
                w = None
                raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped")
            status, payload = w.from_child.recv()
        except (EOFError, OSError, BrokenPipeError):
            if w is not None:
                self._discard(w)
            w = None
            raise StoreError("the query worker stopped unexpectedly") from None
        finally:
            self._idle.put(w)
        if status == "error":
            raise StoreError(payload)
        if status == "fault":
            raise WorkerUnavailable(payload)
        return payload

    def warm_up(self) -> None:
        """Start the worker processes now rather than on the first query (one slot at a time, so queries arriving
        meanwhile wait for one start at most)."""
        for _ in range(self.workers):
            try:
                w = self._idle.get(timeout=self.timeout)
            except queue.Empty:
                return
            try:
                if w is None or not w.alive():
                    w = self._start()
            finally:
                self._idle.put(w)

    def _start(self) -> _Worker:
        if self._closed:
            raise StoreError("the query pool is closed")
        w = _Worker(self.path, self.policy)
        with self._lock:
            self._all.add(w)
        return w

    def _discard(self, w: _Worker) -> None:
        with self._lock:
            self._all.discard(w)
        w.kill()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all = list(self._all), set()
        for w in workers:
            w.kill()


__all__ = [
    "SCHEMES",
    "ProcessQueryPool",
    "QueryBusy",
    "QueryTimeout",
    "SparqlEndpointStore",
    "WorkerUnavailable",
    "connect",
    "graph_store_url_for",
    "parse_results_json",
    "term_from_json",
]
