"""Fuzzing the edges (slow set): the HTTP API from its OpenAPI schema (schemathesis) and from Hypothesis strategies
(raw bytes, JSON with lone surrogates, SPARQL queries and bodies, issue ids), and the CLI (arguments, standard input,
batch files). Never a 500, a crash or a traceback, in the response or in the log. In process only (no sockets).

Budget (2 cores): the examples that reach the embedding model cost ~50-100 ms each, so they are a few hundred of the
few thousand cases; everything else is refused or answered in a few milliseconds.
"""

from __future__ import annotations

import json
import logging
import os
import string

import pytest
import schemathesis
from api_helpers import OOM_REPORT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

# derandomize: the same generated cases on every run, so a CI failure reproduces on any machine
FAST = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)


# ---------------------------------------------------------------------------------------------- fixtures
class LogTrap(logging.Handler):
    """Every log record at WARNING or above, from every logger (attached to the root logger)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def assert_clean(self):
        bad = [r for r in self.records if r.exc_info or "Traceback" in r.getMessage() or r.levelno >= logging.ERROR]
        assert not bad, [r.getMessage()[:300] for r in bad[:3]]


@pytest.fixture(scope="module")
def log_trap():
    trap = LogTrap()
    root = logging.getLogger()
    root.addHandler(trap)
    yield trap
    root.removeHandler(trap)


@pytest.fixture(scope="module")
def api(kb, home):
    from failgraph.kg.build import open_store
    from failgraph.kg.sparql_service import QueryLimits
    from failgraph.ui.httpapi import create_app

    return create_app(kb, open_store(home), sparql=QueryLimits(timeout_s=5, max_rows=200))


@pytest.fixture(scope="module")
def client(api):
    from fastapi.testclient import TestClient

    with TestClient(api, raise_server_exceptions=False) as c:
        yield c


def check(r, log_trap=None) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:500])
    assert "Traceback" not in r.text and 'File "' not in r.text
    ctype = r.headers.get("content-type", "")
    ctype = ctype[0] if isinstance(ctype, list) else ctype  # schemathesis' responses list header values
    if r.status_code >= 400 and ctype.startswith("application/json"):
        assert isinstance(r.json()["detail"], str)
    if log_trap is not None:
        log_trap.assert_clean()


# ---------------------------------------------------------------------------------------------- schemathesis
@pytest.fixture(scope="module")
def openapi_schema(api):
    return schemathesis.openapi.from_asgi("/openapi.json", api)


def test_every_operation_of_the_openapi_schema(openapi_schema, log_trap):
    """Cases that schemathesis draws from each operation of /openapi.json, sent through the in-process ASGI app."""
    operations = [result.ok() for result in openapi_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/similar", "/v1/diagnose", "/v1/issues/{issue_id}", "/sparql"}
    for op in operations:
        @given(case=op.as_strategy())
        @settings(FAST, max_examples=60)
        def call(case):
            check(case.call(), log_trap)

        call()


# ---------------------------------------------------------------------------------------------- Hypothesis: HTTP
#: Any code point, lone surrogates included (Hypothesis leaves them out of text() by default).
ANY_CHAR = st.characters(codec=None, exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=80)
WORDS = st.sampled_from(["CUDA out of memory", "KeyError: 'qwen2'", "vllm 0.4.2", "torch==2.1.0", "\ud800", "\udcff",
                         "NCCL timeout", "\x00", "https://github.com/a/b/issues/1", "模型", "\u2028", "", " "])
BASES = st.sampled_from(["", OOM_REPORT, "Loading Qwen2-7B-Instruct with transformers 4.36.2 fails: KeyError: 'qwen2'",
                         "训练时显存不足 torch.OutOfMemoryError: CUDA out of memory on 8 x A100"])
#: A report: often a real one with odd pieces put in (which the binary check alone would not refuse), sometimes
#: nothing but odd pieces.
REPORT_TEXT = st.tuples(BASES, st.lists(st.one_of(WORDS, ANY_TEXT), max_size=5)).map(
    lambda t: " ".join([t[0], *t[1]]) if t[0] else " ".join(t[1]))
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), ANY_TEXT)
JSON_ANY = st.recursive(JSON_SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner,
                                                                                                  max_size=3),
                        max_leaves=8)
FIELDS = {"id": JSON_SCALAR, "text": st.one_of(REPORT_TEXT, JSON_ANY), "title": st.one_of(st.none(), REPORT_TEXT),
          "top_k": st.one_of(st.integers(-2, 30), JSON_SCALAR), "k": st.one_of(st.integers(-2, 60), JSON_SCALAR),
          "exclude_urls": st.one_of(st.lists(ANY_TEXT, max_size=3), JSON_ANY), "extra": JSON_ANY}


@st.composite
def request_bodies(draw) -> bytes:
    """JSON objects with some of the request fields (often wrong), or no object at all; JSON escapes carry any
    lone surrogate."""
    shape = draw(st.integers(0, 9))
    if shape < 4:  # well formed but for what the text holds (lone surrogates, NUL, any script): it reaches the model
        body = {"text": draw(REPORT_TEXT), **draw(st.fixed_dictionaries({}, optional={
            "title": st.one_of(st.none(), REPORT_TEXT), "id": st.one_of(st.integers(), ANY_TEXT)}))}
    elif shape < 9:
        keys = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=4))
        body = {k: draw(FIELDS[k]) for k in keys}
    else:
        body = draw(JSON_ANY)
    return json.dumps(body).encode()


@given(path=st.sampled_from(["/v1/diagnose", "/v1/similar"]), body=request_bodies())
@settings(FAST, max_examples=400)
def test_request_models_fuzz(client, log_trap, path, body):
    check(client.post(path, content=body, headers={"content-type": "application/json"}), log_trap)


@given(path=st.sampled_from(["/v1/diagnose", "/v1/similar", "/sparql", "/healthz", "/v1/issues/a/b/1"]),
       body=st.one_of(st.binary(max_size=300), st.text(ANY_CHAR, max_size=100).map(
           lambda t: t.encode("utf-8", "surrogatepass"))),
       ctype=st.sampled_from(["application/json", "application/sparql-query", "application/x-www-form-urlencoded",
                              "text/plain", "application/json; charset=latin-1", ""]))
@settings(FAST, max_examples=1200)
def test_raw_bodies_fuzz(client, log_trap, path, body, ctype):
    headers = {"content-type": ctype} if ctype else {}
    check(client.post(path, content=body, headers=headers), log_trap)


SPARQL_WORDS = st.sampled_from(["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "?s", "?p", "?o", "<x>",
                                "LIMIT 3", "GRAPH ?g", "FILTER(", ")", "\"", "PREFIX fg: <https://w3id.org/failgraph/"
                                "ontology#>", "fg:url", "a", ".", "INSERT DATA", "DELETE", "LOAD", "SERVICE",
                                "\ud800", "*", "COUNT(", "OPTIONAL", "UNION", "BIND(", "AS", "VALUES", "#"])
SPARQL = st.one_of(st.lists(SPARQL_WORDS, max_size=12).map(" ".join), st.text(ANY_CHAR, max_size=60))
ACCEPT = st.sampled_from([None, "*/*", "text/csv", "application/sparql-results+json", "text/turtle", "image/png",
                          "application/json;q=0", "text/*;q=abc", ";;;,,,", "\x7f"])


@given(query=SPARQL, accept=ACCEPT, how=st.sampled_from(["get", "form", "direct", "update"]),
       extra=st.dictionaries(st.sampled_from(["default-graph-uri", "named-graph-uri", "query", "x"]), ANY_TEXT,
                             max_size=2))
@settings(FAST, max_examples=800)
def test_sparql_endpoint_fuzz(client, log_trap, query, accept, how, extra):
    q = query.encode("utf-8", "surrogatepass").decode("utf-8", "replace")  # what an HTTP client can send
    extra = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in extra.items()}
    headers = {"accept": accept} if accept else {}
    if how == "get":
        r = client.get("/sparql", params={"query": q, **extra}, headers=headers)
    elif how == "form":
        r = client.post("/sparql", data={"query": q, **extra}, headers=headers)
    elif how == "update":
        r = client.post("/sparql", data={"update": q}, headers=headers)
        assert r.status_code == 403
    else:
        r = client.post("/sparql", content=query.encode("utf-8", "surrogatepass"), params=extra,
                        headers={**headers, "content-type": "application/sparql-query"})
    check(r, log_trap)


@given(issue=st.one_of(st.text(ANY_CHAR, max_size=40), st.from_regex(r"[A-Za-z0-9_.%#/-]{0,30}", fullmatch=True)))
@settings(FAST, max_examples=400)
def test_issue_ids_fuzz(client, log_trap, issue):
    from urllib.parse import quote

    path = quote(issue.encode("utf-8", "surrogatepass"), safe="/%")
    check(client.get(f"/v1/issues/{path}"), log_trap)
    check(client.get(f"/sparql?query={path}"), log_trap)


# ---------------------------------------------------------------------------------------------- Hypothesis: CLI
@pytest.fixture(scope="module")
def cli_app(kb):
    from failgraph.ui import cli

    real = cli._load_kb
    cli._load_kb = lambda home, embedder=None: kb  # the knowledge base of this module, loaded once
    yield cli.app
    cli._load_kb = real


def _cli_ok(r) -> None:
    assert r.exit_code in (0, 2), (r.exit_code, r.output[-1000:], r.exception)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    if r.exit_code == 2:
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr


TEXT_BYTES = st.one_of(st.binary(max_size=200), REPORT_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
                       st.sampled_from(["gbk", "latin-1", "utf-16", "shift_jis"]).flatmap(
                           lambda enc: st.text(st.sampled_from("模型错误显存不足éàüß" + string.ascii_letters + " \n:"),
                                               min_size=1, max_size=60).map(
                               lambda t: t.encode(enc, "replace"))))


@given(data=TEXT_BYTES, as_json=st.booleans())
@settings(FAST, max_examples=150)
def test_cli_stdin_and_arguments_fuzz(cli_app, log_trap, data, as_json):
    from typer.testing import CliRunner

    flags = ["--json"] if as_json else []
    _cli_ok(CliRunner().invoke(cli_app, ["diagnose", "-", *flags], input=data))
    # "--" ends the options, as a user passing a report that starts with "-" writes it
    _cli_ok(CliRunner().invoke(cli_app, ["diagnose", *flags, "--", os.fsdecode(data.replace(b"\x00", b"")) or "x"]))
    log_trap.assert_clean()


BATCH_LINE = st.one_of(request_bodies(), TEXT_BYTES, st.just(json.dumps({"id": "ok", "text": OOM_REPORT}).encode()))


@given(lines=st.lists(BATCH_LINE, max_size=4))
@settings(FAST, max_examples=100)
def test_cli_batch_fuzz(cli_app, log_trap, tmp_path_factory, lines):
    from typer.testing import CliRunner

    from failgraph.ingest.decode import byte_lines, decode_lines

    path = tmp_path_factory.mktemp("batch") / "in.jsonl"
    data = b"\n".join(lines)
    path.write_bytes(data)
    r = CliRunner().invoke(cli_app, ["diagnose", "--batch", str(path), "--json"])
    _cli_ok(r)
    if r.exit_code == 0:
        # JSON Lines end at "\n" only (an answer may hold U+2028 or U+0085, which str.splitlines() would split at);
        # a line is blank when its decoded text is (Unicode white space such as U+3000 included)
        answers = [json.loads(x) for x in r.stdout.split("\n") if x]
        assert len(answers) == sum(1 for x in decode_lines(byte_lines(data)) if not isinstance(x, str) or x.strip())
        assert all(("error" in a) != ("root_causes" in a) for a in answers)
    log_trap.assert_clean()
