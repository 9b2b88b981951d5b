"""The HTTP API: ``/v1/similar``, ``/v1/diagnose``, ``/v1/issues/{id}``, ``/healthz`` and the SPARQL endpoint.

Build it with objects (no globals)::

    app = create_app(lambda: KnowledgeBase.from_home(home), open_store(home))

The knowledge base is loaded lazily, once per app, on the first request that needs it (or at start-up with
``preload=True``); loading is serialised by a lock, so concurrent first requests wait for one load. Every request and
response body is a pydantic model; every error is ``{"detail": "…"}`` (validation errors add ``errors``), never a
stack trace. OpenAPI documentation is served at ``/docs``.
"""

from __future__ import annotations

import copy
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..ingest.decode import UnicodeText
from ..ingest.extract.narrative import with_title
from ..ingest.records import issue_key
from ..kg.build import SnapshotStore
from ..kg.home import NoGraphError, SnapshotInfo
from ..kg.store import GraphStore, StoreError
from .diagnose import diagnose, similar
from .knowledge import KnowledgeBase
from .models import Diagnosis, ReportRequest, SimilarFailure
from .report import ReportError
from .sparql_protocol import (
    EndpointSettings,
    ErrorResponse,
    QueryLimits,
    QueryService,
    sparql_router,
)

log = logging.getLogger("failgraph.api")

FG = "https://w3id.org/failgraph/ontology#"
FGID = "https://w3id.org/failgraph/id/"
MAX_SIMILAR = 50


# ---------------------------------------------------------------------------------------------- wire models
class SimilarRequest(BaseModel):
    """A report to match against past failures."""

    model_config = ConfigDict(extra="forbid")

    text: UnicodeText = Field(min_length=1, description="The report: error output, logs, versions")
    title: UnicodeText | None = Field(None, max_length=1_000, description="The issue's title, where there is one")
    k: int = Field(default=5, ge=1, le=MAX_SIMILAR, description="How many similar failures to return")
    exclude_urls: list[UnicodeText] = Field(default_factory=list, max_length=1000,
                                    description="Issue URLs to leave out (e.g. the report's own issue)")


class DiagnoseRequest(ReportRequest):
    """A report to diagnose over HTTP: the batch line's fields, and no others (unknown fields are refused with 422,
    as by /v1/similar; batch files stay lenient)."""

    model_config = ConfigDict(extra="forbid")


class SimilarResponse(BaseModel):
    results: list[SimilarFailure]


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str


class ValidationErrorResponse(ErrorResponse):
    errors: list[FieldError] = Field(default_factory=list)


class Health(BaseModel):
    status: Literal["ok", "unavailable"] = "ok"
    knowledge_base: Literal["loaded", "loading", "not loaded", "failed", "none"]
    store: str
    snapshot: SnapshotInfo | None = Field(default=None, description="The graph snapshot the store serves (its name "
                                                                     "and when it was built)")
    detail: str | None = Field(default=None, description="Why the service is unavailable")
    version: str


class IssueLabel(BaseModel):
    """One labeled failure record about the issue."""

    symptom: str
    root_cause: str
    stage: str | None = None
    model: str | None = None
    labeler: str | None = Field(default=None, description="Who labeled it: OpenLLMFailuresStudy or FailgraphCurator")
    source: str | None = Field(default=None, description="Source document of the record")


class LibraryVersionFact(BaseModel):
    name: str
    version: str


class IssueFix(BaseModel):
    text: str
    confirmed: bool = False


class IssueFacts(BaseModel):
    """What the graph knows about one GitHub issue."""

    id: str = Field(description="Canonical owner/repo#number (lower case)")
    url: str
    repository: str | None = None
    number: int | None = None
    status: str | None = None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    model: str | None = None
    labels: list[IssueLabel] = Field(default_factory=list)
    fix: IssueFix | None = None
    libraries: list[LibraryVersionFact] = Field(default_factory=list)
    cuda: str | None = None
    framework: str | None = None
    os: str | None = None
    hardware: list[str] = Field(default_factory=list)
    error_lines: list[str] = Field(default_factory=list)
    error_signatures: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="Named graphs (sources) that state facts about it")


class ApiLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_body_bytes: int = Field(default=64 * 1024, ge=1, description="Larger request bodies get HTTP 413")
    batch_inference: bool = Field(default=True, description="Encode concurrent requests' texts in shared model "
                                                            "calls (micro-batching)")


# ---------------------------------------------------------------------------------------------- issue facts
_ISSUE_ID = re.compile(r"^(?P<owner>[A-Za-z0-9][A-Za-z0-9_.-]{0,99})/(?P<repo>[A-Za-z0-9_.-]{1,100})"
                       r"(?:#|/(?:issues/|pull/)?)(?P<number>[0-9]{1,9})/?$")


def issue_url_of(issue_id: str) -> str:
    """The GitHub URL of ``owner/repo#number`` or ``owner/repo/number`` (ValueError otherwise).

    >>> issue_url_of("QwenLM/Qwen#15"), issue_url_of("meta-llama/llama/834")
    ('https://github.com/QwenLM/Qwen/issues/15', 'https://github.com/meta-llama/llama/issues/834')
    """
    m = _ISSUE_ID.match(issue_id.strip())
    if not m:
        raise ValueError(f"not an issue id: {issue_id[:120]!r}; write owner/repo#number (URL-encoded: "
                         "owner%2Frepo%23number) or owner/repo/number")
    return f"https://github.com/{m['owner']}/{m['repo']}/issues/{int(m['number'])}"


def _issue_iri(key: str) -> str:
    repo, number = key.split("#")
    iri = f"{FGID}issue/{repo}/{number}"
    if not re.fullmatch(r"[A-Za-z0-9_.:/#-]+", iri):  # the key comes from a validated id; never splice anything else
        raise ValueError("not an issue id")
    return iri


_PREFIXES = f"""PREFIX fg: <{FG}>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX doap: <http://usefulinc.com/ns/doap#>
"""


def issue_facts(store: GraphStore, issue_id: str) -> IssueFacts | None:
    """The issue's facts from the graph, or None when the graph does not know it (ValueError for a bad id)."""
    url = issue_url_of(issue_id)
    key = issue_key(url)
    iri = _issue_iri(key)
    props: dict[str, list[str]] = {}
    sources: list[str] = []
    res = store.query(f"SELECT DISTINCT ?p ?o ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}")
    for row in res.records():
        props.setdefault(row["p"], [])
        if row["o"] not in props[row["p"]]:
            props[row["p"]].append(row["o"])
        if row["g"] not in sources:
            sources.append(row["g"])
    if f"{FG}url" not in props:
        return None

    def one(p: str):
        v = props.get(p)
        return v[0] if v else None

    labels = []
    for r in store.query(_PREFIXES + f"""
SELECT DISTINCT ?record ?symptom ?cause ?stage ?model ?labeler ?source WHERE {{
  ?record fg:aboutIssue <{iri}> ; fg:hasSymptom ?s ; fg:hasRootCause ?r .
  ?s skos:prefLabel ?symptom . ?r skos:prefLabel ?cause .
  OPTIONAL {{ ?record fg:stage ?st . ?st rdfs:label ?stage }}
  OPTIONAL {{ ?record fg:model ?m . ?m rdfs:label ?model }}
  OPTIONAL {{ ?record prov:wasAttributedTo ?labeler }}
  OPTIONAL {{ ?record prov:wasDerivedFrom ?src . ?src fg:sourceFile ?source }}
}} ORDER BY ?record""").records():
        lab = r["labeler"].rsplit("#", 1)[-1] if r["labeler"] else None
        item = IssueLabel(symptom=r["symptom"], root_cause=r["cause"], stage=r["stage"], model=r["model"],
                          labeler=lab, source=r["source"])
        if item not in labels:
            labels.append(item)
    fix = None
    for r in store.query(_PREFIXES + f"""
SELECT ?fix ?confirmed WHERE {{
  <{iri}> fg:resolvedBy ?f . ?f rdfs:comment ?fix . OPTIONAL {{ ?f fg:confirmed ?confirmed }} }}
LIMIT 1""").records():
        fix = IssueFix(text=r["fix"], confirmed=bool(r["confirmed"]))
    libraries = [LibraryVersionFact(name=r["name"], version=r["version"]) for r in store.query(_PREFIXES + f"""
SELECT DISTINCT ?name ?version WHERE {{
  <{iri}> fg:involvesLibraryVersion ?lv . ?lv fg:ofLibrary ?l ; doap:revision ?version . ?l doap:name ?name }}
ORDER BY ?name ?version""").records()]
    linked: dict[str, list[str]] = {}
    for r in store.query(_PREFIXES + f"""
SELECT DISTINCT ?p ?label WHERE {{
  VALUES ?p {{ fg:onHardware fg:hasErrorSignature }} <{iri}> ?p ?x . ?x rdfs:label ?label }}
ORDER BY ?label""").records():
        linked.setdefault(r["p"], []).append(r["label"])
    number = one(f"{FG}issueNumber")
    return IssueFacts(
        id=key, url=one(f"{FG}url"), repository=one(f"{FG}repository"),
        number=int(number) if number is not None else None, status=one(f"{FG}status"),
        title=one("http://purl.org/dc/terms/title"), summary=one("http://purl.org/dc/terms/abstract"),
        text=one(f"{FG}text"), model=one(f"{FG}modelName"), labels=labels, fix=fix, libraries=libraries,
        cuda=one(f"{FG}cudaVersion"), framework=one(f"{FG}framework"), os=one(f"{FG}operatingSystem"),
        hardware=linked.get(f"{FG}onHardware", []), error_lines=props.get(f"{FG}errorLine", []),
        error_signatures=linked.get(f"{FG}hasErrorSignature", []), sources=sources)


# ---------------------------------------------------------------------------------------------- the knowledge base
class KnowledgeUnavailable(Exception):
    pass


class BatchingEmbedder:
    """Encodes the single texts of concurrent requests together in one model call (micro-batching).

    A transformer encodes a batch of texts for little more than the cost of one (on the 2-core CI machine one
    MiniLM call takes ~50 ms for one text and ~600 ms for 64), so under load requests wait at most ``max_wait_s``
    for companions and share a forward pass. Bulk calls (several texts) pass straight through. When a shared call
    fails, its texts are encoded one by one, so a text the model cannot take fails only its own request.
    """

    def __init__(self, inner, *, max_batch: int = 32, max_wait_s: float = 0.003):
        self.inner = inner
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def __getattr__(self, name):  # device_name, model, batch_size, ...
        return getattr(self.inner, name)

    def encode(self, texts: list[str], *, show_progress: bool = False):
        if len(texts) != 1:
            return self.inner.encode(texts, show_progress=show_progress)
        if self._worker is None:
            with self._start_lock:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._run, name="failgraph-encoder", daemon=True)
                    self._worker.start()
        fut: Future = Future()
        self._queue.put((texts[0], fut))
        return fut.result()[None, :]

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                vecs = self.inner.encode([t for t, _ in batch])
            except Exception as e:  # noqa: BLE001 - one bad text must not fail its companions
                if len(batch) == 1:
                    batch[0][1].set_exception(e)
                else:
                    log.warning("encoding a batch of %d texts failed (%s); encoding them one by one", len(batch),
                                type(e).__name__)
                    self._encode_singly(batch)
                continue
            except BaseException as e:  # noqa: BLE001 - every waiting request gets the error, none waits forever
                for _, fut in batch:
                    fut.set_exception(e)
                continue
            for (_, fut), v in zip(batch, vecs, strict=True):
                fut.set_result(v)

    def _encode_singly(self, batch: list[tuple[str, Future]]) -> None:
        for text, fut in batch:
            try:
                fut.set_result(self.inner.encode([text])[0])
            except Exception as e:  # noqa: BLE001 - reported on that text's own request
                fut.set_exception(e)


def with_batching(kb: KnowledgeBase) -> KnowledgeBase:
    """A shallow copy of ``kb`` (sharing its corpus and indexes) whose embedder micro-batches concurrent requests."""
    if isinstance(kb.embedder, BatchingEmbedder):
        return kb
    twin = copy.copy(kb)
    twin.embedder = BatchingEmbedder(kb.embedder)
    return twin


class LazyKnowledgeBase:
    """Loads the knowledge base once, on first use, however many threads ask at the same time."""

    def __init__(self, source: KnowledgeBase | Callable[[], KnowledgeBase] | None,
                 wrap: Callable[[KnowledgeBase], KnowledgeBase] = lambda kb: kb):
        self._factory = None if isinstance(source, KnowledgeBase) or source is None else source
        self._wrap = wrap
        self._kb = wrap(source) if isinstance(source, KnowledgeBase) else None
        self._lock = threading.Lock()
        self._loading = False
        self._failed: str | None = None

    @property
    def state(self) -> str:
        if self._kb is not None:
            return "loaded"
        if self._factory is None:
            return "none"
        if self._loading:
            return "loading"
        return "failed" if self._failed else "not loaded"

    def get(self) -> KnowledgeBase:
        kb = self._kb
        if kb is not None:
            return kb
        if self._factory is None:
            raise KnowledgeUnavailable("this server has no knowledge base configured")
        with self._lock:
            if self._kb is None:
                self._loading = True
                try:
                    self._kb = self._wrap(self._factory())
                    self._failed = None
                except NoGraphError as e:
                    log.warning("the knowledge base is not available: %s", e)
                    self._failed = "no graph"
                    raise KnowledgeUnavailable("the knowledge base is not available: the graph home holds no usable "
                                               "graph (run `failgraph build`; details in the server log)") from None
                except (StoreError, OSError, ValueError) as e:  # their text may name files: the log gets it
                    log.warning("the knowledge base is not available: %s", e)
                    self._failed = type(e).__name__
                    raise KnowledgeUnavailable("the knowledge base is not available: the graph could not be read "
                                               "(details in the server log)") from None
                except Exception as e:
                    log.exception("loading the knowledge base failed")
                    self._failed = type(e).__name__
                    raise KnowledgeUnavailable("the knowledge base could not be loaded (see the server log)") from None
                finally:
                    self._loading = False
            return self._kb


# ---------------------------------------------------------------------------------------------- body size limit
def too_large_detail(path: str, limit: int, sparql_path: str = "/sparql") -> str:
    """The 413 message for a request to ``path``: about the query on the SPARQL endpoint, about the report elsewhere."""
    if path == sparql_path or path.startswith(sparql_path + "/"):
        return f"the request body is larger than {limit:,} bytes; shorten the SPARQL query"
    return (f"the request body is larger than {limit:,} bytes; send a shorter report "
            f"(the head and the tail of a long log are what matter)")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int, path: str = ""):
        super().__init__(413, too_large_detail(path, limit))


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413: by Content-Length up front, else while reading."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    return await _send_json(send, 400, ErrorResponse(detail="invalid Content-Length header"))
                if too_big:
                    detail = BodyTooLarge(self.max_bytes, scope.get("path", "")).detail
                    return await _send_json(send, 413, ErrorResponse(detail=detail))
        seen = 0

        async def limited_receive():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes, scope.get("path", ""))
            return msg

        await self.app(scope, limited_receive, send)


async def _send_json(send, status: int, body: BaseModel) -> None:
    data = body.model_dump_json().encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


# ---------------------------------------------------------------------------------------------- the app
def _version() -> str:
    try:
        return version("failgraph")
    except PackageNotFoundError:  # pragma: no cover
        return "0+unknown"


def _loc(loc) -> list[str | int]:
    return [x if isinstance(x, int) else str(x) for x in loc]


def create_app(kb: KnowledgeBase | Callable[[], KnowledgeBase] | None = None, store: GraphStore | None = None, *,
               limits: ApiLimits | None = None, sparql: QueryLimits | None = None,
               endpoint: EndpointSettings | None = None, preload: bool = False) -> FastAPI:
    """The failgraph HTTP API over a knowledge base (or a factory that loads one) and a graph store.

    ``preload`` starts loading the knowledge base (and the SPARQL workers) when the server starts instead of on the
    first request. Without a store, ``/v1/issues`` and ``/sparql`` answer 503. ``endpoint`` is where ``/sparql`` is
    published (its service description and the base IRI of queries); SPARQL SERVICE calls follow the store's policy.
    """
    limits = limits or ApiLimits()
    endpoint = endpoint or EndpointSettings()
    knowledge = LazyKnowledgeBase(kb, with_batching if limits.batch_inference else (lambda k: k))
    service = QueryService(store, sparql, base_iri=endpoint.url) if store is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if preload:
            def warm():
                try:
                    if service is not None:
                        service.warm_up()
                    knowledge.get()
                except Exception:  # noqa: BLE001 - reported on the requests that need it
                    log.warning("preloading failed", exc_info=True)

            threading.Thread(target=warm, name="failgraph-preload", daemon=True).start()
        try:
            yield
        finally:
            if service is not None:
                service.close()

    errors = {413: {"model": ErrorResponse, "description": "Request body too large"},
              422: {"model": ValidationErrorResponse, "description": "Invalid request or unreadable report"},
              503: {"model": ErrorResponse, "description": "Knowledge base not available"}}
    app = FastAPI(title="failgraph", version=_version(), lifespan=lifespan,
                  description="Troubleshooting open-source LLM fine-tuning and serving failures with a knowledge "
                              "graph: similar past failures, ranked root causes with fixes, and a read-only SPARQL "
                              "1.1 endpoint over the graph.")
    app.state.knowledge = knowledge
    app.state.query_service = service
    app.add_middleware(BodyLimitMiddleware, max_bytes=limits.max_body_bytes)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's 400 for a JSON body that is not UTF-8
            bad = exc.__cause__
            detail = (f"the request body is not valid UTF-8 (byte 0x{bad.object[bad.start]:02X} at offset "
                      f"{bad.start}); send JSON encoded as UTF-8")
            return JSONResponse(ValidationErrorResponse(detail=detail, errors=[
                FieldError(loc=["body"], msg=detail)]).model_dump(), status_code=422)
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        return JSONResponse(ErrorResponse(detail=detail).model_dump(), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errs = [FieldError(loc=_loc(e.get("loc", ())), msg=str(e.get("msg", "invalid")).removeprefix("Value error, "))
                for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            detail = "the request body is not valid JSON"
        else:
            detail = "invalid request: " + "; ".join(
                f"{'.'.join(str(x) for x in f.loc if x != 'body') or 'body'}: {f.msg}" for f in errs[:5])
        return JSONResponse(ValidationErrorResponse(detail=detail, errors=errs).model_dump(), status_code=422)

    @app.exception_handler(ReportError)
    async def report_error(request: Request, exc: ReportError):
        return JSONResponse(ValidationErrorResponse(detail=str(exc), errors=[
            FieldError(loc=["body", "text"], msg=str(exc))]).model_dump(), status_code=422)

    @app.exception_handler(KnowledgeUnavailable)
    async def kb_unavailable(request: Request, exc: KnowledgeUnavailable):
        return JSONResponse(ErrorResponse(detail=str(exc)).model_dump(), status_code=503,
                            headers={"Retry-After": "30"})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(ErrorResponse(detail="internal error: the request could not be completed").model_dump(),
                            status_code=500)

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/docs")

    @app.get("/healthz", response_model=Health, tags=["service"], summary="Liveness, what is loaded and served",
             responses={503: {"model": Health, "description": "The graph store cannot answer a query"}})
    def healthz():
        pinned = isinstance(store, SnapshotStore)  # an OxigraphStore on a pinned snapshot: reported as such
        health = Health(knowledge_base=knowledge.state, snapshot=store.snapshot if pinned else None,
                        store="OxigraphStore" if pinned else type(store).__name__ if store is not None else "none",
                        version=_version())
        if service is not None:
            try:
                service.run("ASK {}")  # the same path as /sparql (worker processes on a snapshot)
            except StoreError as e:
                log.warning("health check: the graph store cannot answer: %s", e)
                health.status, health.detail = "unavailable", "the graph store cannot answer queries"
                return JSONResponse(health.model_dump(), status_code=503)
        return health

    @app.head("/healthz", include_in_schema=False)
    def healthz_head() -> Response:  # liveness for probes that send HEAD: 200, no body
        return Response(status_code=200)

    @app.post("/v1/similar", response_model=SimilarResponse, responses=errors, tags=["assistant"],
              summary="Past failures similar to a report, with cosine-similarity scores")
    def similar_failures(req: SimilarRequest) -> SimilarResponse:
        return SimilarResponse(results=similar(knowledge.get(), with_title(req.title, req.text), k=req.k,
                                               exclude_urls=req.exclude_urls))

    @app.post("/v1/diagnose", response_model=Diagnosis, responses=errors, tags=["assistant"],
              summary="Ranked root causes, fixes, explanation paths and similar failures for a report")
    def diagnose_report(req: DiagnoseRequest) -> Diagnosis:
        return diagnose(knowledge.get(), req)

    @app.get("/v1/issues/{issue_id:path}", response_model=IssueFacts, tags=["graph"],
             responses={404: {"model": ErrorResponse, "description": "The graph does not know this issue"},
                        422: {"model": ErrorResponse, "description": "Not an issue id"},
                        503: {"model": ErrorResponse, "description": "No graph store"}},
             summary="An issue's facts from the graph: owner/repo#number (URL-encoded) or owner/repo/number")
    def get_issue(issue_id: str) -> IssueFacts:
        if store is None:
            raise HTTPException(503, "this server has no graph store configured")
        try:
            facts = issue_facts(store, issue_id)
        except ValueError as e:
            return JSONResponse(ErrorResponse(detail=str(e)).model_dump(), status_code=422)
        except StoreError as e:
            log.error("issue lookup failed: %s", e)
            raise HTTPException(503, "the graph store could not answer") from None
        if facts is None:
            raise HTTPException(404, f"the graph has no issue {issue_key(issue_url_of(issue_id))}")
        return facts

    if service is not None:
        app.include_router(sparql_router(service, endpoint=endpoint))
    else:
        @app.api_route("/sparql", methods=["GET", "POST"], include_in_schema=False)
        def no_sparql():
            raise HTTPException(503, "this server has no graph store configured")

    return app


__all__ = ["ApiLimits", "BatchingEmbedder", "DiagnoseRequest", "Health", "IssueFacts", "IssueFix", "IssueLabel",
           "LazyKnowledgeBase", "LibraryVersionFact", "SimilarRequest", "SimilarResponse", "ValidationErrorResponse",
           "create_app", "issue_facts", "issue_url_of", "with_batching"]
