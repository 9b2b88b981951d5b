"""What failgraph reads in SPARQL text before a store runs it: keywords outside strings, IRIs and comments.

One tokenizer serves every surface (the embedded and remote stores, the ``/sparql`` endpoint, the CLI and the UI):

- :func:`service_violation`: a ``SERVICE`` call is refused unless it names, as an absolute IRI, an endpoint that the
  operator allow-listed (:class:`QueryPolicy`), so no query makes failgraph open a connection it did not choose;
- :func:`update_keyword`: the read-only guard (SPARQL Update keywords);
- :func:`has_dataset_clause`: whether the query names its own dataset (``FROM`` / ``FROM NAMED``).

The tokenizer follows the SPARQL 1.1 grammar's terminals (strings with escapes, IRIs with ``\\uXXXX`` escapes,
prefixed names with ``\\'``-style escapes, variables, comments). Keywords are case-insensitive and Oxigraph accepts
them glued to the next token (``SERVICESILENT<…>``, ``SERVICE:x``), so a word or a prefixed name that *starts* with
``SERVICE`` counts (a prefix named ``service…`` is refused with it). A ``<`` is
either an IRI or the less-than operator; where reading it as an operator would turn a ``'`` or ``#`` inside the
would-be IRI into a string or a comment, both readings are followed, so no reading can hide a ``SERVICE``.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Environment variable with the SERVICE endpoints an operator allows (IRIs separated by spaces or commas).
ALLOWED_SERVICES_ENV = "FAILGRAPH_SPARQL_ALLOWED_SERVICES"

_NAME = r"[\w\u00B7\u0300-\u036F\u203F\u2040]"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_LOCAL_CHAR = rf"(?:[\w:\-\u00B7\u0300-\u036F\u203F\u2040]|{_PLX})"
_TOKEN = re.compile(
    r"(?P<ws>[\x20\t\r\n]+)"
    r"|(?P<comment>#[^\r\n]*)"
    r"|(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*\"\"\""
    r"|'(?:[^'\\\r\n]|\\.)*'|\"(?:[^\"\\\r\n]|\\.)*\")"
    rf"|(?P<var>[?$]{_NAME}+)"
    rf"|(?P<bnode>_:(?:{_NAME}|[.\-])*{_NAME})"
    rf"|(?P<pname>(?:[^\W\d_](?:(?:{_NAME}|[.\-])*(?:{_NAME}|-))?)?:"
    rf"(?:(?:[\w:\u00B7\u0300-\u036F\u203F\u2040]|{_PLX})(?:(?:{_LOCAL_CHAR}|\.)*{_LOCAL_CHAR})?)?)"
    r"|(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)"
    r"|(?P<number>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<word>[^\W\d_]\w*)"
    r"|(?P<punct>.)",
    re.DOTALL)
_IRI = re.compile(r"<(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
#: Inside a would-be IRI read as code, a SERVICE right after one of these is part of a host or path, not a keyword.
_NOT_BEFORE_PATTERN = set("-/=&%~:@,;!^|$*+?<>")
_UPDATE_WORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
_GLUE = re.compile(r"(?:TRUE|FALSE)?")  # literals a keyword may be glued to: `?s ?p trueSERVICE <…> {}`


class Token(NamedTuple):
    kind: str  # comment, string, var, bnode, pname, lang, number, word, punct, iri, lt
    start: int
    end: int
    text: str
    #: False for a token read inside a would-be IRI whose neighbours show it is part of a host or path.
    keyword_position: bool = True


class QueryPolicy(BaseModel):
    """What a SPARQL query may make failgraph do beyond reading its own graph (operator configuration)."""

    model_config = ConfigDict(frozen=True)

    allowed_services: frozenset[str] = Field(
        default=frozenset(), description="Absolute endpoint IRIs that SERVICE may call; empty: SERVICE is refused")

    @field_validator("allowed_services")
    @classmethod
    def _absolute(cls, v: frozenset[str]) -> frozenset[str]:
        for iri in v:
            if not _SCHEME.match(iri) or any(c in iri for c in '<>"{}|^`\\ \t\r\n'):
                raise ValueError(f"not an absolute IRI: {iri!r}")
        return v

    @classmethod
    def from_settings(cls, allow: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> QueryPolicy:
        """The IRIs in ``$FAILGRAPH_SPARQL_ALLOWED_SERVICES`` (spaces or commas between) plus ``allow``."""
        env = os.environ if environ is None else environ
        found = [x for x in re.split(r"[\s,]+", env.get(ALLOWED_SERVICES_ENV, "")) if x]
        return cls(allowed_services=frozenset([*found, *allow]))


# ---------------------------------------------------------------------------------------------- tokenizer
def _lex_one(text: str, pos: int) -> Token:
    m = _TOKEN.match(text, pos)
    assert m is not None  # `punct` matches any character
    return Token(m.lastgroup or "punct", pos, m.end(), m.group())


def tokens(text: str) -> Iterator[Token]:
    """The tokens of ``text`` in the usual reading: every ``<`` that starts a well-formed IRI is an IRI."""
    pos = 0
    while pos < len(text):
        if text[pos] == "<" and (m := _IRI.match(text, pos)):
            tok = Token("iri", pos, m.end(), m.group())
        else:
            tok = _lex_one(text, pos)
        pos = tok.end
        if tok.kind != "ws":
            yield tok


def all_readings(text: str) -> Iterator[Token]:
    """The tokens of every reading of ``text``: the usual one, and where a would-be IRI holds a ``'`` or ``#``,
    also the reading with ``<`` as the less-than operator (states deduplicated, so the work stays linear)."""
    seen: set[tuple[int, int, str, str]] = set()
    line_ends = [m.start() for m in re.finditer(r"[\r\n]", text)] + [len(text)]
    # (position, end of the would-be IRI read as code or -1, the two previous tokens while inside it)
    todo: list[tuple[int, int, str, str]] = [(0, -1, "", "")]
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        pos, span_end, prev, prev2 = state
        if pos >= len(text):
            continue
        if span_end != -1 and pos >= span_end:
            todo.append((pos, -1, "", ""))
            continue
        if text[pos] == "<" and (m := _IRI.match(text, pos)):
            yield Token("iri", pos, m.end(), m.group())
            todo.append((m.end(), span_end, "iri", prev) if span_end != -1 else (m.end(), -1, "", ""))
            if span_end == -1 and ("'" in m.group() or "#" in m.group()):
                yield Token("lt", pos, pos + 1, "<")
                todo.append((pos + 1, m.end(), "<", ""))
            continue
        if text[pos] == "#":  # a comment runs to the end of the line: found without reading it
            end = line_ends[bisect.bisect_left(line_ends, pos)]
            yield Token("comment", pos, end, "")
            todo.append((end, span_end, prev, prev2))
            continue
        tok = _lex_one(text, pos)
        if tok.kind == "ws":
            todo.append((tok.end, span_end, prev, prev2))
            continue
        if span_end != -1:
            host_like = prev in _NOT_BEFORE_PATTERN or (prev == "." and prev2 == "word")
            tok = tok._replace(keyword_position=not host_like)
        yield tok
        if span_end != -1:
            todo.append((tok.end, span_end, tok.text if tok.kind == "punct" else tok.kind, prev))
        else:
            todo.append((tok.end, -1, "", ""))


# ---------------------------------------------------------------------------------------------- SERVICE
def _keyword_at(tok: Token, keyword: str) -> int | None:
    """Where ``keyword`` ends inside a word or prefixed-name token that starts with it (after a glued true/false)."""
    if tok.kind not in ("word", "pname") or not tok.keyword_position:
        return None
    upper = _upper(tok.text)
    skip = _GLUE.match(upper).end()
    return tok.start + skip + len(keyword) if upper.startswith(keyword, skip) else None


def _upper(s: str) -> str:
    """Upper case, one character for one (so positions stay put)."""
    return "".join(u if len(u := c.upper()) == 1 else c for c in s)


def _next_token(text: str, pos: int) -> Token | None:
    for tok in tokens(text[pos:]):
        if tok.kind != "comment":
            return tok._replace(start=tok.start + pos, end=tok.end + pos)
    return None


def decode_iri(iri_token: str) -> str:
    """The IRI of an ``<…>`` token with its ``\\uXXXX`` / ``\\UXXXXXXXX`` escapes decoded."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), iri_token[1:-1])


def _service_target(text: str, after: int) -> str | None:
    """The absolute IRI a SERVICE keyword ending at ``after`` calls, or None when it is anything else."""
    tok = _next_token(text, after)
    if tok is not None and (end := _keyword_at(tok, "SILENT")) is not None:
        tok = _next_token(text, end)
    if tok is None or not text.startswith("<", tok.start):
        return None
    m = _IRI.match(text, tok.start)
    if not m:
        return None
    try:
        iri = decode_iri(m.group())
    except (ValueError, OverflowError):
        return None
    return iri if _SCHEME.match(iri) else None


def service_violation(text: str, policy: QueryPolicy | None = None) -> str | None:
    """Why the query may not run because of a SERVICE call (None when it makes none, or only allowed ones).

    >>> service_violation("SELECT * WHERE { ?s ?p 'SERVICE' } # SERVICE <http://e/>") is None
    True
    >>> service_violation("SELECT * { SeRvIcE SILENT <http://e/sparql> { ?s ?p ?o } }") is not None
    True
    >>> service_violation("SELECT * { SERVICE <http://e/sparql> {} }",
    ...                   QueryPolicy(allowed_services={"http://e/sparql"})) is None
    True
    """
    return _service_violation(text, policy)


#: Every surface checks a query before it runs (endpoint, query service, worker pool, store): each check of the same
#: text in one process reads it once. Texts are at most the endpoint's 64 KiB, so the cache stays small.
_SCANS = 128


@lru_cache(maxsize=_SCANS)
def _service_violation(text: str, policy: QueryPolicy | None) -> str | None:
    allowed = policy.allowed_services if policy else frozenset()
    for tok in all_readings(text):
        end = _keyword_at(tok, "SERVICE")
        if end is None:
            continue
        target = _service_target(text, end)
        if target is None:
            return ("SPARQL SERVICE is refused: it would make this server send a request elsewhere; only SERVICE "
                    "<absolute IRI> of an endpoint the operator allowed can run")
        if target not in allowed:
            return ("SPARQL SERVICE is refused for an endpoint the operator did not allow (set "
                    f"{ALLOWED_SERVICES_ENV} or --allow-service to allow one)")
    return None


# ---------------------------------------------------------------------------------------------- other keywords
def update_keyword(text: str) -> str | None:
    """The first SPARQL Update keyword of ``text`` outside strings, IRIs and comments (None for a pure query).

    >>> update_keyword("SELECT * WHERE { ?s ?p 'DELETE' } # INSERT")
    >>> update_keyword("PREFIX x: <http://e/> INSERT DATA { x:a x:b x:c }")
    'INSERT'
    >>> update_keyword("SELECT ?load WHERE { ?s <http://e/drop> ?load ; ex:clear 1 }")
    """
    return _update_keyword(text)


@lru_cache(maxsize=_SCANS)
def _update_keyword(text: str) -> str | None:
    for tok in all_readings(text):
        if tok.kind == "word" and tok.keyword_position and _upper(tok.text) in _UPDATE_WORDS:
            return _upper(tok.text)
    return None


def has_dataset_clause(text: str) -> bool:
    """Whether the query names its dataset with ``FROM`` or ``FROM NAMED``.

    >>> has_dataset_clause("SELECT * FROM <http://e/g> { ?s ?p ?o }"), has_dataset_clause("SELECT ?from {}")
    (True, False)
    """
    return _has_dataset_clause(text)


@lru_cache(maxsize=_SCANS)
def _has_dataset_clause(text: str) -> bool:
    for tok in tokens(text):
        if (tok.kind == "word" and re.match(r"(?:ASK)?FROM", tok.text.upper())) or (
                tok.kind == "pname" and re.match(r"(?:ASK)?FROM(?:NAMED)?:", tok.text.upper())):
            return True
    return False


__all__ = ["ALLOWED_SERVICES_ENV", "QueryPolicy", "Token", "all_readings", "decode_iri", "has_dataset_clause",
           "service_violation", "tokens", "update_keyword"]
