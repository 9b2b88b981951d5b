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
- Each query runs under a time limit (503 when it is exceeded; on an on-disk snapshot the query runs in a worker
  process that is killed, elsewhere in a thread whose result is abandoned) and a row cap: a capped result carries the
  header ``X-Failgraph-Truncated: true``.
- The default graph is the union of all named graphs (``sd:UnionDefaultGraph``); ``default-graph-uri`` and
  ``named-graph-uri`` are not supported (use ``GRAPH`` in the query).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Literal
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ..kg.remote import ProcessQueryPool, QueryBusy, QueryTimeout
from ..kg.results import AskResult, GraphResult, QueryResult, RDFTerm, SelectResult
from ..kg.store import GraphStore, OxigraphStore, StoreError
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


class ReadOnlyViolation(StoreError):
    """An attempt to change the graph through the read-only endpoint."""


class QueryTooLarge(StoreError):
    """A query text over :attr:`QueryLimits.max_query_bytes`."""


# ---------------------------------------------------------------------------------------------- read-only guard
_NEUTRAL = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'  # long strings
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'  # short strings
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'  # IRIs
    r"|#[^\n\r]*",  # comments
    re.DOTALL)
_UPDATE_WORD = re.compile(r"(?<![\w?$:\-.])(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)(?![\w:\-])",
                          re.IGNORECASE)


def update_keyword(text: str) -> str | None:
    """The first SPARQL Update keyword of ``text`` outside strings, IRIs and comments (None for a pure query).

    >>> update_keyword("SELECT * WHERE { ?s ?p 'DELETE' } # INSERT")
    >>> update_keyword("PREFIX x: <http://e/> INSERT DATA { x:a x:b x:c }")
    'INSERT'
    >>> update_keyword("SELECT ?load WHERE { ?s <http://e/drop> ?load ; ex:clear 1 }")
    """
    m = _UPDATE_WORD.search(_NEUTRAL.sub(" ", text))
    return m.group(1).upper() if m else None


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

    def __init__(self, store: GraphStore, limits: QueryLimits | None = None):
        self.store = store
        self.limits = limits or QueryLimits()
        on_disk = isinstance(store, OxigraphStore) and store.path is not None
        mode = self.limits.isolation
        if mode == "process" and not on_disk:
            raise ValueError("process isolation needs an on-disk Oxigraph store")
        self.isolation = "process" if mode == "process" or (mode == "auto" and on_disk) else "thread"
        self._pool = (ProcessQueryPool(store.path, workers=self.limits.workers, timeout=self.limits.timeout_s)
                      if self.isolation == "process" else None)
        self._slots = threading.BoundedSemaphore(self.limits.workers)

    def run(self, text: str) -> QueryOutcome:
        """Raises ReadOnlyViolation, QueryTimeout, QueryBusy or StoreError (a bad query)."""
        if len(text.encode("utf-8")) > self.limits.max_query_bytes:
            raise QueryTooLarge(f"the query is longer than {self.limits.max_query_bytes:,} bytes")
        check_read_only(text)
        cap = self.limits.max_rows
        res = self._run(text, cap + 1)
        if isinstance(res, SelectResult):
            if len(res.rows) > cap:
                res = SelectResult(variables=res.variables, rows=res.rows[:cap], truncated=True)
            return QueryOutcome(result=res, truncated=res.truncated)
        if isinstance(res, GraphResult) and len(res.triples) > cap:
            return QueryOutcome(result=GraphResult(triples=res.triples[:cap]), truncated=True)
        return QueryOutcome(result=res)

    def _run(self, text: str, max_rows: int) -> QueryResult:
        if self._pool is not None:
            return self._pool.query(text, max_rows=max_rows)
        return self._run_in_thread(text, max_rows)

    def _run_in_thread(self, text: str, max_rows: int) -> QueryResult:
        timeout = self.limits.timeout_s
        if not self._slots.acquire(timeout=timeout):
            raise QueryBusy("every query slot is busy; try again shortly")
        box: dict = {}
        done = threading.Event()

        def work():
            try:
                box["result"] = self.store.query(text, max_rows=max_rows)
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
             f"(one per source). Queries stop after {limits.timeout_s:g} s (HTTP 503); results are capped at "
             f"{limits.max_rows:,} rows, flagged by the header {TRUNCATED_HEADER}: true. SPARQL Update is refused.")),
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
    400: {"model": ErrorResponse, "description": "Malformed request or query"},
    403: {"model": ErrorResponse, "description": "SPARQL Update refused (read-only endpoint)"},
    406: {"model": ErrorResponse, "description": "No acceptable result format"},
    413: {"model": ErrorResponse, "description": "Query too large"},
    415: {"model": ErrorResponse, "description": "Unsupported request content type"},
    503: {"model": ErrorResponse, "description": "Query timed out or the service is busy"},
}


def sparql_router(service: QueryService, path: str = "/sparql") -> APIRouter:
    """An APIRouter serving the SPARQL 1.1 Protocol at ``path`` through ``service``."""
    router = APIRouter(tags=["SPARQL"])

    async def answer(request: Request, queries: list[str], extra: dict[str, list[str]]) -> Response:
        if "update" in extra:
            return error(403, _READ_ONLY)
        if extra.get("default-graph-uri") or extra.get("named-graph-uri"):
            return error(400, "default-graph-uri and named-graph-uri are not supported: the default graph is the "
                              "union of all named graphs; use GRAPH (or FROM) in the query instead")
        if len(queries) > 1:
            return error(400, "give exactly one query parameter")
        text = queries[0]
        if not text.strip():
            return error(400, "the query is empty")
        try:
            check_read_only(text)
        except ReadOnlyViolation as e:
            return error(403, str(e))
        try:
            outcome = await run_in_threadpool(service.run, text)
        except ReadOnlyViolation as e:
            return error(403, str(e))
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
        endpoint = str(request.url.replace(query="", fragment=""))
        return Response(service_description(endpoint, service.limits, fmt), media_type=content_type(fmt),
                        headers={"Vary": "Accept"})

    @router.get(path, responses=_RESPONSES, summary="SPARQL query (GET); without a query: the service description")
    async def sparql_get(request: Request,
                         query: str | None = Query(None, description="SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, "
                                                                      "DESCRIBE)")):
        params = {k: request.query_params.getlist(k) for k in request.query_params.keys()}
        if "update" in params:
            return error(403, _READ_ONLY)
        queries = params.pop("query", [])
        if not queries:
            return describe(request)
        return await answer(request, queries, params)

    @router.post(path, responses=_RESPONSES, summary="SPARQL query (POST form-encoded or application/sparql-query)",
                 openapi_extra={"requestBody": {"content": {
                     "application/sparql-query": {"schema": {"type": "string"}},
                     "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                         "query": {"type": "string"}}, "required": ["query"]}}}}})
    async def sparql_post(request: Request):
        params = {k: request.query_params.getlist(k) for k in request.query_params.keys()}
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/sparql-update" or "update" in params:
            return error(403, _READ_ONLY)
        body = await request.body()
        if len(body) > service.limits.max_query_bytes:
            return error(413, f"the request body is larger than {service.limits.max_query_bytes:,} bytes")
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


__all__ = ["ErrorResponse", "QueryLimits", "QueryOutcome", "QueryService", "QueryTooLarge", "ReadOnlyViolation",
           "TRUNCATED_HEADER", "check_read_only", "negotiate", "parse_accept", "serialize_result", "service_description", "sparql_router",
           "update_keyword"]
