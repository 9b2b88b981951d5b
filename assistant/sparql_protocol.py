"""A read-only SPARQL 1.1 Protocol endpoint (``/sparql``) over any :class:`~failgraph.kg.store.GraphStore`.

- ``GET /sparql?query=…``, ``POST`` form-encoded (``query=…``) and ``POST`` with an ``application/sparql-query`` body;
  ``GET /sparql`` without a query returns a SPARQL service description (Turtle, ``sd:`` vocabulary).
- Results are negotiated through ``Accept``: SELECT/ASK as ``application/sparql-results+json`` (default),
  ``application/sparql-results+xml``, ``text/csv`` or ``text/tab-separated-values``; CONSTRUCT/DESCRIBE as
  ``text/turtle`` (default), ``application/n-triples``, ``application/ld+json`` or ``application/rdf+xml``.
  The ``format``/``output`` parameters that some clients add are ignored: ``Accept`` decides.
- Read-only: an ``update=`` parameter, an ``application/sparql-update`` body, and query text that is an update (any
  ``INSERT``, ``DELETE``, ``LOAD``, ``CLEAR``, ``DROP``, ``CREATE``, ``ADD``, ``MOVE``, ``COPY`` or ``WITH`` keyword
  outside strings, IRIs and comments) are refused with 403 before any store sees them.
- No outbound requests: a query with ``SERVICE`` is refused with 400 before any connection is made, unless it calls,
  by absolute IRI, an endpoint the operator allow-listed (:class:`~failgraph.kg.sparql_text.QueryPolicy`).
- Each query runs under a time limit (503 when it is exceeded; on an on-disk snapshot the query runs in a worker
  process that is killed, elsewhere in a thread whose result is abandoned) and a row cap: a capped result carries the
  header ``X-Failgraph-Truncated: true``.
- The default graph is the union of all named graphs (``sd:UnionDefaultGraph``) unless the query names its dataset
  (``FROM`` / ``FROM NAMED``) or the request does (``default-graph-uri`` / ``named-graph-uri``, several of each,
  overriding the query's): then exactly that dataset.
- Relative IRIs resolve against the endpoint's configured URL (:class:`EndpointSettings`), never the request's
  ``Host`` header; the service description names the same URL.
"""

from __future__ import annotations

import json
import threading
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ..kg.remote import ProcessQueryPool, QueryBusy, QueryTimeout
from ..kg.results import AskResult, GraphResult, QueryResult, RDFTerm, SelectResult
from ..kg.sparql_text import ALLOWED_SERVICES_ENV, update_keyword
from ..kg.store import (
    GraphStore,
    OxigraphStore,
    QueryDataset,
    ServiceRefused,
    StoreError,
    check_query,
)
from ..ontology.namespaces import PREFIXES

TRUNCATED_HEADER = "X-Failgraph-Truncated"
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"


class ErrorResponse(BaseModel):
    """Every error the service answers with: one clear sentence, never a stack trace."""

    detail: str = Field(description="What was wrong and how to fix it")


class QueryLimits(BaseModel):
    """Limits of the SPARQL endpoint."""

    model_config = ConfigDict(frozen=True)

    timeout_s: float = Field(default=10.0, gt=0, description="A query running longer is stopped (HTTP 503)")
    max_rows: int = Field(default=10_000, ge=1, description="Rows (or triples) returned at most; more are cut and "
                                                            "flagged with X-Failgraph-Truncated: true")
    max_query_bytes: int = Field(default=64 * 1024, ge=1, description="Largest accepted query text")
    isolation: Literal["auto", "process", "thread"] = Field(
        default="auto", description="process: run queries of an on-disk snapshot in killable worker processes; "
                                    "thread: in threads (any store); auto: process when the store is on disk")
    workers: int = Field(default=2, ge=1, description="Queries that may run at once")


class EndpointSettings(BaseModel):
    """Where the endpoint is published: the service description's ``sd:endpoint`` and the base IRI of queries."""

    model_config = ConfigDict(frozen=True)

    url: str = Field(default="http://127.0.0.1:8000/sparql",
                     description="The public URL of /sparql (`failgraph serve --public-url`, else the bound address)")

    @classmethod
    def for_server(cls, host: str, port: int, public_url: str | None = None, path: str = "/sparql") -> "EndpointSettings":
        """``public_url`` when given, else ``http://HOST:PORT/sparql`` from the server's own bind address."""
        if public_url:
            parts = urlsplit(public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"not an http(s) URL: {public_url!r}")
            return cls(url=public_url)
        netloc = f"[{host}]" if ":" in host else host
        return cls(url=f"http://{netloc}:{port}{path}")


class ReadOnlyViolation(StoreError):
    """An attempt to change the graph through the read-only endpoint."""


class QueryTooLarge(StoreError):
    """A query text over :attr:`QueryLimits.max_query_bytes`."""


# ---------------------------------------------------------------------------------------------- read-only guard
def check_read_only(text: str) -> None:
    word = update_keyword(text)
    if word:
        raise ReadOnlyViolation(f"this endpoint is read-only: SPARQL Update ({word}) is not accepted")


# ---------------------------------------------------------------------------------------------- running queries
class QueryOutcome(BaseModel):
    result: SelectResult | AskResult | GraphResult
    truncated: bool = False


class QueryService:
    """Runs read-only queries against a store under the time limit and row cap of :class:`QueryLimits`."""

    def __init__(self, store: GraphStore, limits: QueryLimits | None = None, *, base_iri: str | None = None):
        self.store = store
        self.limits = limits or QueryLimits()
        self.base_iri = base_iri
        on_disk = isinstance(store, OxigraphStore) and store.path is not None
        mode = self.limits.isolation
        if mode == "process" and not on_disk:
            raise ValueError("process isolation needs an on-disk Oxigraph store")
        self.isolation = "process" if mode == "process" or (mode == "auto" and on_disk) else "thread"
        self._pool = (ProcessQueryPool(store.path, workers=self.limits.workers, timeout=self.limits.timeout_s,
                                       policy=store.policy) if self.isolation == "process" else None)
        self._slots = threading.BoundedSemaphore(self.limits.workers)

    def run(self, text: str, dataset: QueryDataset | None = None) -> QueryOutcome:
        """Raises ReadOnlyViolation, ServiceRefused, QueryTimeout, QueryBusy or StoreError (a bad query)."""
        if len(text.encode("utf-8")) > self.limits.max_query_bytes:
            raise QueryTooLarge(f"the query is longer than {self.limits.max_query_bytes:,} bytes")
        check_read_only(text)
        check_query(text, self.store.policy)  # before any worker or thread: the store checks again itself
        cap = self.limits.max_rows
        res = self._run(text, cap + 1, dataset)
        if isinstance(res, SelectResult):
            if len(res.rows) > cap:
                res = SelectResult(variables=res.variables, rows=res.rows[:cap], truncated=True)
            return QueryOutcome(result=res, truncated=res.truncated)
        if isinstance(res, GraphResult) and len(res.triples) > cap:
            return QueryOutcome(result=GraphResult(triples=res.triples[:cap]), truncated=True)
        return QueryOutcome(result=res)

    def _run(self, text: str, max_rows: int, dataset: QueryDataset | None = None) -> QueryResult:
        if self._pool is not None:
            return self._pool.query(text, max_rows=max_rows, dataset=dataset, base_iri=self.base_iri)
        return self._run_in_thread(text, max_rows, dataset)

    def _run_in_thread(self, text: str, max_rows: int, dataset: QueryDataset | None = None) -> QueryResult:
        timeout = self.limits.timeout_s
        if not self._slots.acquire(timeout=timeout):
            raise QueryBusy("every query slot is busy; try again shortly")
        box: dict = {}
        done = threading.Event()

        def work():
            try:
                box["result"] = self.store.query(text, max_rows=max_rows, dataset=dataset, base_iri=self.base_iri)
            except BaseException as e:  # noqa: BLE001 - handed to the caller below
                box["error"] = e
            finally:
                self._slots.release()  # a query past its limit keeps its slot until it ends: concurrency stays bounded
                done.set()

        threading.Thread(target=work, name="failgraph-sparql", daemon=True).start()
        if not done.wait(timeout):
            raise QueryTimeout(f"the query ran longer than {timeout:g} s and was abandoned")
        if "error" in box:
            e = box["error"]
            if isinstance(e, StoreError):
                raise e
            raise StoreError(f"the query failed: {type(e).__name__}: {e}")
        return box["result"]

    def warm_up(self) -> None:
        if self._pool is not None:
            self._pool.warm_up()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


# ---------------------------------------------------------------------------------------------- formats
#: (media type offered, format) in the server's order of preference; the first is the default.
RESULT_TYPES: list[tuple[str, str]] = [
    ("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml"), ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"), ("application/json", "json"), ("application/xml", "xml"),
    ("text/xml", "xml")]
GRAPH_TYPES: list[tuple[str, str]] = [
    ("text/turtle", "turtle"), ("application/n-triples", "ntriples"), ("application/ld+json", "jsonld"),
    ("application/rdf+xml", "rdfxml"), ("application/x-turtle", "turtle"), ("application/turtle", "turtle"),
    ("text/plain", "ntriples"), ("application/x-json+ld", "jsonld"), ("application/json", "jsonld")]
MEDIA = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
         "tsv": "text/tab-separated-values", "turtle": "text/turtle", "ntriples": "application/n-triples",
         "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml"}
_OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
               "rdfxml": ox.RdfFormat.RDF_XML}
FORMAT_IRIS = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
               "tsv": "SPARQL_Results_TSV", "turtle": "Turtle", "ntriples": "N-Triples", "jsonld": "JSON-LD",
               "rdfxml": "RDF_XML"}


class NotAcceptable(Exception):
    pass


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header with their q-values.

    >>> parse_accept("text/csv;q=0.5, application/sparql-results+json")
    [('text/csv', 0.5), ('application/sparql-results+json', 1.0)]
    """
    out = []
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            k, _, v = f.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(v)))
                except ValueError:
                    q = 0.0
        out.append((fields[0].lower(), q))
    return out


def negotiate(header: str | None, offers: list[tuple[str, str]]) -> str:
    """The format to answer with: the offer whose best-matching range has the highest q (ties: server order).

    >>> negotiate(None, RESULT_TYPES), negotiate("text/csv", RESULT_TYPES), negotiate("text/*;q=0.9", RESULT_TYPES)
    ('json', 'csv', 'csv')
    """
    ranges = parse_accept(header)
    if not ranges:
        return offers[0][1]
    best, best_q = None, 0.0
    for media, fmt in offers:
        kind = media.split("/")[0]
        q, spec = None, -1
        for rng, rq in ranges:
            s = 2 if rng == media else 1 if rng == f"{kind}/*" else 0 if rng == "*/*" else -1
            if s > spec:
                q, spec = rq, s
        if q is not None and q > best_q:
            best, best_q = fmt, q
    if best is None:
        raise NotAcceptable
    return best


def _ox_term(t: RDFTerm):
    if t.type == "uri":
        return ox.NamedNode(t.value)
    if t.type == "bnode":
        return ox.BlankNode(t.value)
    if t.lang:
        return ox.Literal(t.value, language=t.lang)
    if t.datatype:
        return ox.Literal(t.value, datatype=ox.NamedNode(t.datatype))
    return ox.Literal(t.value)


def serialize_graph(result: GraphResult, fmt: str) -> bytes:
    if fmt == "ntriples":
        return result.to_ntriples().encode("utf-8")
    triples = [ox.Triple(_ox_term(s), _ox_term(p), _ox_term(o)) for s, p, o in result.triples
               if s.type != "triple" and o.type != "triple"]
    return ox.serialize(triples, format=_OX_FORMATS[fmt], prefixes=PREFIXES if fmt in ("turtle", "rdfxml") else None)


def serialize_result(result: QueryResult, fmt: str) -> bytes:
    if isinstance(result, GraphResult):
        return serialize_graph(result, fmt)
    if isinstance(result, AskResult):
        value = "true" if result.value else "false"
        if fmt == "json":
            return json.dumps(result.to_json()).encode("utf-8")
        if fmt == "xml":
            return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                    f"<head/><boolean>{value}</boolean></sparql>\n").encode("utf-8")
        if fmt == "csv":
            return f"_askResult\r\n{value}\r\n".encode("utf-8")
        return f"?_askResult\n{value}\n".encode("utf-8")
    if fmt == "json":
        return json.dumps(result.to_json(), ensure_ascii=False).encode("utf-8")
    if fmt == "xml":
        return result.to_xml().encode("utf-8")
    if fmt == "csv":
        return result.to_csv().encode("utf-8")
    return result.to_tsv().encode("utf-8")


def content_type(fmt: str) -> str:
    media = MEDIA[fmt]
    return media if fmt == "jsonld" or media.endswith("json") else f"{media}; charset=utf-8"


# ---------------------------------------------------------------------------------------------- service description
def service_description(endpoint: str, limits: QueryLimits, fmt: str = "turtle") -> bytes:
    """A SPARQL 1.1 service description of this endpoint (sd: vocabulary)."""
    sd = lambda local: ox.NamedNode(SD + local)  # noqa: E731
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    try:
        ep = ox.NamedNode(endpoint)
    except ValueError:
        ep = ox.NamedNode("http://localhost/sparql")
    svc, ds, dg = ox.BlankNode("service"), ox.BlankNode("dataset"), ox.BlankNode("defaultGraph")
    t = [ox.Triple(svc, rdf_type, sd("Service")), ox.Triple(svc, sd("endpoint"), ep),
         ox.Triple(svc, sd("supportedLanguage"), sd("SPARQL11Query")),
         ox.Triple(svc, sd("feature"), sd("UnionDefaultGraph")),
         ox.Triple(svc, sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
         ox.Triple(svc, ox.NamedNode("http://purl.org/dc/terms/description"), ox.Literal(
             f"failgraph's read-only SPARQL 1.1 Query endpoint. The default graph is the union of all named graphs "
             f"(one per source) unless FROM / FROM NAMED or default-graph-uri / named-graph-uri name the dataset. "
             f"Relative IRIs resolve against {ep.value}. Queries stop after {limits.timeout_s:g} s (HTTP 503); "
             f"results are capped at {limits.max_rows:,} rows, flagged by the header {TRUNCATED_HEADER}: true. "
             f"SPARQL Update is refused (403). SERVICE is refused (400): the endpoint makes no outbound requests, "
             f"except to endpoints its operator allow-listed ({ALLOWED_SERVICES_ENV}).")),
         ox.Triple(svc, sd("defaultDataset"), ds), ox.Triple(ds, rdf_type, sd("Dataset")),
         ox.Triple(ds, sd("defaultGraph"), dg), ox.Triple(dg, rdf_type, sd("Graph"))]
    t += [ox.Triple(svc, sd("resultFormat"), ox.NamedNode(FORMATS_NS + iri)) for iri in FORMAT_IRIS.values()]
    return ox.serialize(t, format=_OX_FORMATS[fmt], prefixes={"sd": SD, "fmt": FORMATS_NS,
                                                              "dcterms": "http://purl.org/dc/terms/"}
                        if fmt in ("turtle", "rdfxml") else None)


# ---------------------------------------------------------------------------------------------- the router
def error(status: int, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(ErrorResponse(detail=detail).model_dump(), status_code=status, headers=headers)


_READ_ONLY = "this endpoint is read-only: SPARQL Update is not accepted (use `failgraph build` to change the graph)"
_RESPONSES = {
    200: {"description": "Query results in the negotiated format", "content": {
        m: {} for m in ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                        "text/tab-separated-values", "text/turtle", "application/n-triples", "application/ld+json"]}},
    400: {"model": ErrorResponse, "description": "Malformed request or query, or a SERVICE call that is not allowed"},
    403: {"model": ErrorResponse, "description": "SPARQL Update refused (read-only endpoint)"},
    406: {"model": ErrorResponse, "description": "No acceptable result format"},
    413: {"model": ErrorResponse, "description": "Query too large"},
    415: {"model": ErrorResponse, "description": "Unsupported request content type"},
    503: {"model": ErrorResponse, "description": "Query timed out or the service is busy"},
}


_DATASET_PARAMS = ("default-graph-uri", "named-graph-uri")


def protocol_dataset(params: dict[str, list[str]]) -> QueryDataset | None:
    """The dataset a request names with ``default-graph-uri`` / ``named-graph-uri`` (None when it names none);
    raises ValueError for a value that is not an absolute IRI."""
    if not any(params.get(k) for k in _DATASET_PARAMS):
        return None
    for k in _DATASET_PARAMS:
        for iri in params.get(k, []):
            try:
                ox.NamedNode(iri)
            except ValueError:
                raise ValueError(f"{k} must be an absolute IRI") from None
    return QueryDataset(default_graphs=tuple(params.get("default-graph-uri", [])),
                        named_graphs=tuple(params.get("named-graph-uri", [])))


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        k, _, v = part.partition("=")
        if k.strip().lower() == "charset":
            return v.strip().strip('"').lower()
    return None


def sparql_router(service: QueryService, path: str = "/sparql", endpoint: EndpointSettings | None = None) -> APIRouter:
    """An APIRouter serving the SPARQL 1.1 Protocol at ``path`` through ``service``; ``endpoint`` is where it is
    published (the service description's ``sd:endpoint``; never taken from a request)."""
    router = APIRouter(tags=["SPARQL"])
    endpoint = endpoint or EndpointSettings()

    async def answer(request: Request, queries: list[str], extra: dict[str, list[str]]) -> Response:
        if "update" in extra:
            return error(403, _READ_ONLY)
        if len(queries) > 1:
            return error(400, "give exactly one query parameter")
        text = queries[0]
        if not text.strip():
            return error(400, "the query is empty")
        try:
            dataset = protocol_dataset(extra)
        except ValueError as e:
            return error(400, str(e))
        try:
            check_read_only(text)
        except ReadOnlyViolation as e:
            return error(403, str(e))
        try:
            outcome = await run_in_threadpool(service.run, text, dataset)
        except ReadOnlyViolation as e:
            return error(403, str(e))
        except ServiceRefused as e:
            return error(400, str(e))
        except QueryTimeout as e:
            return error(503, f"{e}; narrow the query or add a LIMIT", {"Retry-After": "5"})
        except QueryBusy as e:
            return error(503, str(e), {"Retry-After": "2"})
        except QueryTooLarge as e:
            return error(413, str(e))
        except StoreError as e:
            return error(400, str(e))
        res = outcome.result
        offers = GRAPH_TYPES if isinstance(res, GraphResult) else RESULT_TYPES
        try:
            fmt = negotiate(request.headers.get("accept"), offers)
        except NotAcceptable:
            return error(406, "none of the accepted media types is available for this query; use one of: "
                              + ", ".join(dict.fromkeys(m for m, _ in offers)))
        headers = {"Vary": "Accept"}
        if outcome.truncated:
            headers[TRUNCATED_HEADER] = "true"
            headers["X-Failgraph-Row-Limit"] = str(service.limits.max_rows)
        return Response(serialize_result(res, fmt), media_type=content_type(fmt), headers=headers)

    def describe(request: Request) -> Response:
        try:
            fmt = negotiate(request.headers.get("accept"), GRAPH_TYPES)
        except NotAcceptable:
            fmt = "turtle"
        return Response(service_description(endpoint.url, service.limits, fmt), media_type=content_type(fmt),
                        headers={"Vary": "Accept"})

    # `/sparql/` is served too (the W3C tests' path): no redirect, whose Location would come from the Host header
    @router.get(path + "/", include_in_schema=False)
    @router.get(path, responses=_RESPONSES, summary="SPARQL query (GET); without a query: the service description")
    async def sparql_get(request: Request,
                         query: str | None = Query(None, description="SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, "
                                                                      "DESCRIBE)"),
                         default_graph_uri: list[str] = Query([], alias="default-graph-uri",
                                                              description="Graphs merged into the default graph"),
                         named_graph_uri: list[str] = Query([], alias="named-graph-uri",
                                                            description="The named graphs GRAPH can reach")):
        params = {k: request.query_params.getlist(k) for k in request.query_params.keys()}
        if "update" in params:
            return error(403, _READ_ONLY)
        queries = params.pop("query", [])
        if not queries:
            return describe(request)
        return await answer(request, queries, params)

    @router.post(path + "/", include_in_schema=False)
    @router.post(path, responses=_RESPONSES, summary="SPARQL query (POST form-encoded or application/sparql-query)",
                 openapi_extra={"requestBody": {"content": {
                     "application/sparql-query": {"schema": {"type": "string"}},
                     "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                         "query": {"type": "string"},
                         "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                         "named-graph-uri": {"type": "array", "items": {"type": "string"}}},
                         "required": ["query"]}}}}})
    async def sparql_post(request: Request):
        params = {k: request.query_params.getlist(k) for k in request.query_params.keys()}
        raw_type = request.headers.get("content-type", "")
        ctype = raw_type.split(";")[0].strip().lower()
        if ctype == "application/sparql-update" or "update" in params:
            return error(403, _READ_ONLY)
        body = await request.body()
        if len(body) > service.limits.max_query_bytes:
            return error(413, f"the query is larger than {service.limits.max_query_bytes:,} bytes; shorten it")
        charset = _charset(raw_type)
        if charset not in (None, "utf-8", "utf8") or body.startswith((b"\xff\xfe", b"\xfe\xff")):
            return error(400, "the request body must be UTF-8 text")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return error(400, "the request body is not UTF-8 text")
        if ctype == "application/sparql-query":
            queries = [text] + params.pop("query", [])
        elif ctype == "application/x-www-form-urlencoded":
            form = parse_qs(text, keep_blank_values=True)
            if "update" in form:
                return error(403, _READ_ONLY)
            queries = form.pop("query", []) + params.pop("query", [])
            for k, v in form.items():
                params.setdefault(k, []).extend(v)
            if not queries:
                return error(400, "the form has no query field")
        else:
            return error(415, "send the query as application/sparql-query or as a form (application/"
                              "x-www-form-urlencoded) with a query field")
        return await answer(request, queries, params)

    return router


__all__ = ["EndpointSettings", "ErrorResponse", "QueryLimits", "QueryOutcome", "QueryService", "QueryTooLarge", "ReadOnlyViolation",
           "TRUNCATED_HEADER", "check_read_only", "negotiate", "parse_accept", "serialize_result", "service_description", "sparql_router",
           "protocol_dataset", "update_keyword"]
