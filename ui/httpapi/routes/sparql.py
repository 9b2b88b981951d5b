"""A read-only SPARQL 1.1 Protocol endpoint (``/sparql``) over a :class:`~failgraph.kg.sparql_service.QueryService`.

- ``GET /sparql?query=…``, ``POST`` form-encoded (``query=…``) and ``POST`` with an ``application/sparql-query`` body;
  ``GET /sparql`` without a query returns a SPARQL service description (Turtle, ``sd:`` vocabulary).
- Results are negotiated through ``Accept`` (:mod:`failgraph.kg.result_formats`): SELECT/ASK as
  ``application/sparql-results+json`` (default), ``application/sparql-results+xml``, ``text/csv`` or
  ``text/tab-separated-values``; CONSTRUCT/DESCRIBE as ``text/turtle`` (default), ``application/n-triples``,
  ``application/ld+json`` or ``application/rdf+xml``. The ``format``/``output`` parameters are ignored.
- Read-only: an ``update=`` parameter, an ``application/sparql-update`` body and update query text get 403.
- No outbound requests: ``SERVICE`` gets 400 unless it calls an endpoint the operator allow-listed.
- Each query runs under the service's time limit (503) and row cap (header ``X-Failgraph-Truncated: true``).
- The default graph is the union of all named graphs unless the query (``FROM`` / ``FROM NAMED``) or the request
  (``default-graph-uri`` / ``named-graph-uri``) names the dataset.
- Relative IRIs resolve against the endpoint's configured URL (:class:`EndpointSettings`), never the request's
  ``Host`` header; the service description names the same URL.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ....kg.remote import QueryBusy, QueryTimeout
from ....kg.result_formats import FORMAT_IRIS, GRAPH_TYPES, OX_FORMATS, RESULT_TYPES, content_type, serialize_result
from ....kg.results import GraphResult
from ....kg.sparql_service import QueryLimits, QueryService, QueryTooLarge, ReadOnlyViolation, check_read_only
from ....kg.sparql_text import ALLOWED_SERVICES_ENV
from ....kg.store import QueryDataset, ServiceRefused, StoreError
from ..negotiation import NotAcceptable, negotiate
from ..schemas import ErrorResponse

TRUNCATED_HEADER = "X-Failgraph-Truncated"
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"


class EndpointSettings(BaseModel):
    """Where the endpoint is published: the service description's ``sd:endpoint`` and the base IRI of queries."""

    model_config = ConfigDict(frozen=True)

    url: str = Field(default="http://127.0.0.1:8000/sparql",
                     description="The public URL of /sparql (`failgraph serve --public-url`, else the bound address)")

    @classmethod
    def for_server(cls, host: str, port: int, public_url: str | None = None, path: str = "/sparql") -> EndpointSettings:
        """``public_url`` when given, else ``http://HOST:PORT/sparql`` from the server's own bind address."""
        if public_url:
            parts = urlsplit(public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"not an http(s) URL: {public_url!r}")
            return cls(url=public_url)
        netloc = f"[{host}]" if ":" in host else host
        return cls(url=f"http://{netloc}:{port}{path}")


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
    return ox.serialize(t, format=OX_FORMATS[fmt], prefixes={"sd": SD, "fmt": FORMATS_NS,
                                                             "dcterms": "http://purl.org/dc/terms/"}
                        if fmt in ("turtle", "rdfxml") else None)


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


def _error(status: int, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(ErrorResponse(detail=detail).model_dump(), status_code=status, headers=headers)


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        k, _, v = part.partition("=")
        if k.strip().lower() == "charset":
            return v.strip().strip('"').lower()
    return None


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


def sparql_router(service: QueryService, path: str = "/sparql", endpoint: EndpointSettings | None = None) -> APIRouter:
    """An APIRouter serving the SPARQL 1.1 Protocol at ``path`` through ``service``; ``endpoint`` is where it is
    published (the service description's ``sd:endpoint``; never taken from a request)."""
    router = APIRouter(tags=["SPARQL"])
    endpoint = endpoint or EndpointSettings()

    async def answer(request: Request, queries: list[str], extra: dict[str, list[str]]) -> Response:
        if "update" in extra:
            return _error(403, _READ_ONLY)
        if len(queries) > 1:
            return _error(400, "give exactly one query parameter")
        text = queries[0]
        if not text.strip():
            return _error(400, "the query is empty")
        try:
            dataset = protocol_dataset(extra)
        except ValueError as e:
            return _error(400, str(e))
        try:
            check_read_only(text)
        except ReadOnlyViolation as e:
            return _error(403, str(e))
        try:
            outcome = await run_in_threadpool(service.run, text, dataset)
        except ReadOnlyViolation as e:
            return _error(403, str(e))
        except ServiceRefused as e:
            return _error(400, str(e))
        except QueryTimeout as e:
            return _error(503, f"{e}; narrow the query or add a LIMIT", {"Retry-After": "5"})
        except QueryBusy as e:
            return _error(503, str(e), {"Retry-After": "2"})
        except QueryTooLarge as e:
            return _error(413, str(e))
        except StoreError as e:
            return _error(400, str(e))
        res = outcome.result
        offers = GRAPH_TYPES if isinstance(res, GraphResult) else RESULT_TYPES
        try:
            fmt = negotiate(request.headers.get("accept"), offers)
        except NotAcceptable:
            return _error(406, "none of the accepted media types is available for this query; use one of: "
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
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        if "update" in params:
            return _error(403, _READ_ONLY)
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
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        raw_type = request.headers.get("content-type", "")
        ctype = raw_type.split(";")[0].strip().lower()
        if ctype == "application/sparql-update" or "update" in params:
            return _error(403, _READ_ONLY)
        body = await request.body()
        if len(body) > service.limits.max_query_bytes:
            return _error(413, f"the query is larger than {service.limits.max_query_bytes:,} bytes; shorten it")
        charset = _charset(raw_type)
        if charset not in (None, "utf-8", "utf8") or body.startswith((b"\xff\xfe", b"\xfe\xff")):
            return _error(400, "the request body must be UTF-8 text")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "the request body is not UTF-8 text")
        if ctype == "application/sparql-query":
            queries = [text, *params.pop("query", [])]
        elif ctype == "application/x-www-form-urlencoded":
            form = parse_qs(text, keep_blank_values=True)
            if "update" in form:
                return _error(403, _READ_ONLY)
            queries = form.pop("query", []) + params.pop("query", [])
            for k, v in form.items():
                params.setdefault(k, []).extend(v)
            if not queries:
                return _error(400, "the form has no query field")
        else:
            return _error(415, "send the query as application/sparql-query or as a form (application/"
                               "x-www-form-urlencoded) with a query field")
        return await answer(request, queries, params)

    return router


def unavailable_sparql_router(path: str = "/sparql") -> APIRouter:
    """``path`` answering 503 (GET and POST), for a server without a graph store."""
    router = APIRouter()

    @router.api_route(path, methods=["GET", "POST"], include_in_schema=False)
    def no_sparql():
        raise HTTPException(503, "this server has no graph store configured")

    return router


__all__ = ["TRUNCATED_HEADER", "EndpointSettings", "protocol_dataset", "service_description", "sparql_router",
           "unavailable_sparql_router"]
