"""One small interface over the graph back ends: embedded Oxigraph (on disk or in memory) and rdflib in memory.

Every store answers SPARQL with the default graph as the union of all named graphs (each source lives in its own
named graph, so provenance stays queryable with ``GRAPH``), unless the query names its dataset (``FROM`` /
``FROM NAMED``) or the caller gives one (:class:`QueryDataset`, the Protocol's ``default-graph-uri`` /
``named-graph-uri``): then exactly that dataset, as SPARQL 1.1 defines it. No store follows ``SERVICE`` to an
endpoint its :class:`~failgraph.kg.sparql_text.QueryPolicy` does not allow (the default allows none), and none
dereferences ``FROM`` IRIs: queries read the local graph only.
"""

from __future__ import annotations

import os
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pydantic import BaseModel, ConfigDict, Field
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import BNode, Literal, URIRef

from .formats import EXPORT_FORMATS
from .results import (
    AskResult,
    GraphResult,
    QueryResult,
    RDFTerm,
    SelectResult,
    literal_python,
)
from .sparql_text import QueryPolicy, has_dataset_clause, service_violation

#: A quad of rdflib terms: subject, predicate, object, named graph.
Quad = tuple[URIRef | BNode, URIRef, URIRef | BNode | Literal, URIRef]



class StoreError(Exception):
    """A query or load the store refused."""


class ServiceRefused(StoreError):
    """A query that would call a SPARQL SERVICE the policy does not allow (refused before any connection)."""


class QueryDataset(BaseModel):
    """An RDF dataset given with a query (the Protocol's ``default-graph-uri`` / ``named-graph-uri``): it replaces
    any ``FROM`` / ``FROM NAMED`` of the query; graphs not listed are out of the query's reach."""

    model_config = ConfigDict(frozen=True)

    default_graphs: tuple[str, ...] = Field(default=(), description="Graphs merged into the default graph")
    named_graphs: tuple[str, ...] = Field(default=(), description="The graphs GRAPH can reach")


def check_query(sparql: str, policy: QueryPolicy | None) -> None:
    """Raise :class:`ServiceRefused` when the query calls a SERVICE the policy does not allow."""
    why = service_violation(sparql, policy)
    if why:
        raise ServiceRefused(why)


class GraphStore(ABC):
    """What failgraph needs from a graph store."""

    @abstractmethod
    def add_quads(self, quads: Iterable[Quad]) -> int:
        """Add quads; returns how many were given."""

    #: What queries may do beyond reading this store (SERVICE endpoints allowed); stores refuse SERVICE by default.
    policy: QueryPolicy = QueryPolicy()

    @abstractmethod
    def query(self, sparql: str, *, max_rows: int | None = None, dataset: QueryDataset | None = None,
              base_iri: str | None = None) -> QueryResult:
        """Run a SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE) over the union of all graphs, or over the
        query's own dataset (FROM / FROM NAMED), or over ``dataset`` when given; relative IRIs resolve against
        ``base_iri`` (refused without one). Raises :class:`ServiceRefused` for a SERVICE the policy does not allow."""

    def select_rows(self, sparql: str) -> Iterator[dict]:
        """The rows of a SELECT query as dicts of plain Python values (``None`` when unbound), like
        :meth:`~failgraph.kg.results.SelectResult.records`; stores that can stream them without building a result
        object do so (large corpora)."""
        res = self.query(sparql)
        if not isinstance(res, SelectResult):
            raise StoreError("select_rows needs a SELECT query")
        yield from res.records()

    def subject_objects(self, predicate: str, obj: str | None = None) -> Iterator[tuple]:
        """(subject, object) pairs of one predicate over the union of the graphs, as plain Python values (IRIs as
        strings, literals as :meth:`~failgraph.kg.results.RDFTerm.python` gives them); with ``obj`` (an IRI), only
        the pairs with that object. Pairs repeated in several graphs may repeat. One index scan: the fast way to read
        a property of many nodes."""
        where = f"?s <{predicate}> <{obj}>" if obj else f"?s <{predicate}> ?o"
        query = f"SELECT ?s ?o WHERE {{ {where} }}" if not obj else f"SELECT ?s WHERE {{ {where} }}"
        for row in self.select_rows(query):
            yield row["s"], (obj if obj else row["o"])

    @abstractmethod
    def __len__(self) -> int:
        """Number of quads."""

    @abstractmethod
    def export(self, path: Path, fmt: str) -> None:
        """Write the whole store in one of :data:`EXPORT_FORMATS` (graph-only formats merge the named graphs)."""

    def close(self) -> None:  # noqa: B027 - an optional hook: stores without resources keep this no-op
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------- Oxigraph
def _ox_term(t):
    if isinstance(t, URIRef):
        return ox.NamedNode(str(t))
    if isinstance(t, BNode):
        return ox.BlankNode(str(t))
    if isinstance(t, Literal):
        if t.language:
            return ox.Literal(str(t), language=t.language)
        if t.datatype:
            return ox.Literal(str(t), datatype=ox.NamedNode(str(t.datatype)))
        return ox.Literal(str(t))
    raise TypeError(f"not an RDF term: {t!r}")


def term_from_ox(t) -> RDFTerm:
    if isinstance(t, ox.NamedNode):
        return RDFTerm(type="uri", value=t.value)
    if isinstance(t, ox.BlankNode):
        return RDFTerm(type="bnode", value=t.value)
    if isinstance(t, ox.Literal):
        return RDFTerm(type="literal", value=t.value, lang=t.language or None,
                       datatype=None if t.language else t.datatype.value)
    return RDFTerm(type="triple", value=str(t))


_NT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def nt_literal(lexical: str, datatype: str | None = None, language: str | None = None) -> str:
    """A literal in N-Triples/N-Quads syntax (xsd:string written plain)."""
    lex = lexical.translate(_NT_ESCAPES)
    if language:
        return f'"{lex}"@{language}'
    if datatype and datatype != _XSD_STRING:
        return f'"{lex}"^^<{datatype}>'
    return f'"{lex}"'


def nt_term(t) -> str:
    """A term in N-Triples/N-Quads syntax (rdflib's ``n3()`` may emit Turtle-only long strings)."""
    if isinstance(t, URIRef):
        return f"<{t}>"
    if isinstance(t, BNode):
        return f"_:{t}"
    if isinstance(t, Literal):
        return nt_literal(str(t), str(t.datatype) if t.datatype else None, t.language)
    raise TypeError(f"not an RDF term: {t!r}")


def nquad_line(q: Quad) -> str:
    s, p, o, g = q
    return f"{nt_term(s)} {nt_term(p)} {nt_term(o)} {nt_term(g)} .\n"


def _ox_python(t):
    """The plain Python value of an Oxigraph term, as :meth:`~failgraph.kg.results.RDFTerm.python` gives it."""
    if t is None:
        return None
    if isinstance(t, ox.Literal) and not t.language:
        return literal_python(t.value, t.datatype.value)
    return t.value if not isinstance(t, ox.Triple) else str(t)


class OxigraphStore(GraphStore):
    """Embedded Oxigraph: persistent when given a directory, in memory otherwise."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False, policy: QueryPolicy | None = None):
        self.path = Path(path) if path else None
        self.read_only = read_only
        self.policy = policy or QueryPolicy()
        if self.path is None:
            self._store = ox.Store()
        elif read_only:
            self._store = ox.Store.read_only(str(self.path))
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            self._store = ox.Store(str(self.path))

    def add_quads(self, quads: Iterable[Quad]) -> int:
        n = 0
        batch: list[str] = []
        for q in quads:
            batch.append(nquad_line(q))
            n += 1
            if len(batch) >= 100_000:
                self._load_lines(batch)
                batch = []
        if batch:
            self._load_lines(batch)
        return n

    def replace_graph(self, graph: URIRef, quads: Iterable[Quad]) -> int:
        """Replace the named graph ``graph`` by ``quads`` (rdflib terms; the graph of each is ``graph``): the terms go
        to the store as terms, never through a query string. The new quads are added in one transaction."""
        g = _ox_term(graph)
        if self._store.contains_named_graph(g):
            self._store.remove_graph(g)
        batch = [ox.Quad(_ox_term(s), _ox_term(p), _ox_term(o), g) for s, p, o, _ in quads]
        self._store.extend(batch)
        return len(batch)

    def _load_lines(self, lines: list[str]) -> None:
        self._store.bulk_load("".join(lines).encode("utf-8"), format=ox.RdfFormat.N_QUADS)

    def load_nquads_file(self, path: Path, *, lenient: bool = False) -> None:
        """Bulk-load an N-Quads file (``lenient`` skips IRI validation: for files failgraph wrote itself)."""
        self._store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS, lenient=lenient)

    def _query(self, sparql: str, dataset: QueryDataset | None = None, base_iri: str | None = None):
        check_query(sparql, self.policy)
        kw: dict = {}
        if dataset is not None:
            kw["default_graph"] = [ox.NamedNode(g) for g in dataset.default_graphs]
            kw["named_graphs"] = [ox.NamedNode(g) for g in dataset.named_graphs]
        elif not has_dataset_clause(sparql):  # FROM / FROM NAMED: Oxigraph builds the query's own dataset
            kw["use_default_graph_as_union"] = True
        if base_iri:
            kw["base_iri"] = base_iri
        try:
            return self._store.query(sparql, **kw)
        except SyntaxError as e:
            raise StoreError(f"SPARQL syntax error: {e}") from e
        except ValueError as e:  # a malformed graph or base IRI
            raise StoreError(f"SPARQL error: {e}") from e

    def query(self, sparql: str, *, max_rows: int | None = None, dataset: QueryDataset | None = None,
              base_iri: str | None = None) -> QueryResult:
        res = self._query(sparql, dataset, base_iri)
        if isinstance(res, ox.QueryBoolean):
            return AskResult(value=bool(res))
        if isinstance(res, ox.QuerySolutions):
            variables = [v.value for v in res.variables]
            rows = []
            truncated = False
            for sol in res:
                if max_rows is not None and len(rows) >= max_rows:
                    truncated = True
                    break
                rows.append({v: term_from_ox(sol[v]) for v in variables if sol[v] is not None})
            return SelectResult(variables=variables, rows=rows, truncated=truncated)
        triples = []
        for t in res:
            if max_rows is not None and len(triples) >= max_rows:
                break
            triples.append((term_from_ox(t.subject), term_from_ox(t.predicate), term_from_ox(t.object)))
        return GraphResult(triples=triples)

    def select_rows(self, sparql: str) -> Iterator[dict]:
        res = self._query(sparql)
        if not isinstance(res, ox.QuerySolutions):
            raise StoreError("select_rows needs a SELECT query")
        variables = [v.value for v in res.variables]
        for sol in res:
            yield {v: _ox_python(sol[v]) for v in variables}

    def subject_objects(self, predicate: str, obj: str | None = None) -> Iterator[tuple]:
        o = ox.NamedNode(obj) if obj else None
        for q in self._store.quads_for_pattern(None, ox.NamedNode(predicate), o, None):
            yield q.subject.value, (obj if obj else _ox_python(q.object))

    def __len__(self) -> int:
        return len(self._store)

    def export(self, path: Path, fmt: str) -> None:
        export_via_rdflib_or_ox(self, path, fmt)

    def dump_quads(self, path: Path) -> None:
        self._store.dump(str(path), format=ox.RdfFormat.N_QUADS)

    def flush(self) -> None:
        if self.path is not None and not self.read_only:
            self._store.flush()

    def optimize(self) -> None:
        if self.path is not None:
            self._store.optimize()

    def close(self) -> None:
        self.flush()
        self._store = None  # type: ignore[assignment]  # release the RocksDB handle


def export_via_rdflib_or_ox(store: OxigraphStore, path: Path, fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise StoreError(f"unknown export format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    target = {"turtle": ox.RdfFormat.TURTLE, "trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS,
              "ntriples": ox.RdfFormat.N_TRIPLES, "json-ld": ox.RdfFormat.JSON_LD}[fmt]
    if target.supports_datasets:
        store._store.dump(str(tmp), format=target)
    else:  # merge the named graphs into one graph for graph-only formats
        merged = ox.Store()
        merged.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
                           for q in store._store.quads_for_pattern(None, None, None, None))
        merged.dump(str(tmp), format=target, from_graph=ox.DefaultGraph(),
                    prefixes={"fg": "https://w3id.org/failgraph/ontology#",
                              "skos": "http://www.w3.org/2004/02/skos/core#",
                              "prov": "http://www.w3.org/ns/prov#"} if fmt == "turtle" else None)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------- rdflib
def _from_rdflib(t) -> RDFTerm:
    if isinstance(t, URIRef):
        return RDFTerm(type="uri", value=str(t))
    if isinstance(t, BNode):
        return RDFTerm(type="bnode", value=str(t))
    if isinstance(t, Literal):
        dt = t.datatype
        if dt is None and not t.language:
            dt = URIRef("http://www.w3.org/2001/XMLSchema#string")
        return RDFTerm(type="literal", value=str(t), lang=t.language or None, datatype=str(dt) if dt else None)
    raise TypeError(f"not an RDF term: {t!r}")


def _check_rdflib_services(node, policy: QueryPolicy) -> None:
    """Refuse a SERVICE in rdflib's parsed algebra that the policy does not allow (a second check on what rdflib
    itself will run)."""
    if isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            term = node.get("term")
            if not isinstance(term, URIRef) or str(term) not in policy.allowed_services:
                raise ServiceRefused("SPARQL SERVICE is refused for an endpoint the operator did not allow")
        for v in node.values():
            _check_rdflib_services(v, policy)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _check_rdflib_services(v, policy)


class RdflibStore(GraphStore):
    """rdflib's default in-memory store (a Dataset whose default graph is the union): tests and comparisons."""

    def __init__(self, *, policy: QueryPolicy | None = None):
        self.dataset = rdflib.Dataset(default_union=True)
        self.policy = policy or QueryPolicy()

    def add_quads(self, quads: Iterable[Quad]) -> int:
        n = 0
        graphs: dict = {}
        for s, p, o, g in quads:
            graph = graphs.get(g)
            if graph is None:
                graph = graphs[g] = self.dataset.graph(g)
            graph.add((s, p, o))
            n += 1
        return n

    def query(self, sparql: str, *, max_rows: int | None = None, dataset: QueryDataset | None = None,
              base_iri: str | None = None) -> QueryResult:
        check_query(sparql, self.policy)
        try:
            with warnings.catch_warnings():  # rdflib 7 warns on every union-graph lookup inside its engine
                warnings.simplefilter("ignore", DeprecationWarning)
                prepared = translateQuery(parseQuery(sparql), base=base_iri)
                _check_rdflib_services(prepared.algebra, self.policy)  # rdflib decodes \u escapes everywhere
                clause = prepared.algebra.get("datasetClause") or []
                if dataset is None and clause:
                    dataset = QueryDataset(
                        default_graphs=tuple(str(d.default) for d in clause if d.get("default") is not None),
                        named_graphs=tuple(str(d.named) for d in clause if d.get("named") is not None))
                prepared.algebra["datasetClause"] = None  # rdflib would fetch FROM IRIs it does not hold
                res = (self.dataset if dataset is None else self._dataset_of(dataset)).query(prepared)
                if res.type == "SELECT":
                    res.bindings  # noqa: B018 - evaluates the solutions here, inside the warnings filter
        except StoreError:
            raise
        except Exception as e:  # rdflib raises pyparsing errors for syntax problems
            raise StoreError(f"SPARQL error: {e}") from e
        if res.type == "ASK":
            return AskResult(value=bool(res.askAnswer))
        if res.type == "SELECT":
            variables = [str(v) for v in res.vars]
            rows = []
            truncated = False
            for b in res.bindings:
                if max_rows is not None and len(rows) >= max_rows:
                    truncated = True
                    break
                rows.append({str(k): _from_rdflib(v) for k, v in b.items() if v is not None})
            return SelectResult(variables=variables, rows=rows, truncated=truncated)
        return GraphResult(triples=[tuple(_from_rdflib(x) for x in t) for t in res.graph][: max_rows or None])

    def _dataset_of(self, dataset: QueryDataset) -> rdflib.Dataset:
        """A copy of the listed graphs: the default graph their merge, the named graphs only those listed."""
        out = rdflib.Dataset(default_union=False)
        for g in dataset.default_graphs:
            for t in self.dataset.get_context(URIRef(g)).triples((None, None, None)):
                out.default_context.add(t)
        for g in dataset.named_graphs:
            named = out.graph(URIRef(g))
            for t in self.dataset.get_context(URIRef(g)).triples((None, None, None)):
                named.add(t)
        return out

    def __len__(self) -> int:
        return sum(1 for _ in self.dataset.quads((None, None, None, None)))

    def export(self, path: Path, fmt: str) -> None:
        if fmt not in EXPORT_FORMATS:
            raise StoreError(f"unknown export format {fmt!r}")
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        rdflib_fmt = {"nquads": "nquads", "trig": "trig", "turtle": "turtle", "ntriples": "nt",
                      "json-ld": "json-ld"}[fmt]
        if fmt in ("turtle", "ntriples"):
            g = rdflib.Graph()
            for s, p, o, _ in self.dataset.quads((None, None, None, None)):
                g.add((s, p, o))
            g.serialize(tmp, format=rdflib_fmt)
        else:
            self.dataset.serialize(tmp, format=rdflib_fmt)
        os.replace(tmp, path)


__all__ = ["EXPORT_FORMATS", "GraphStore", "OxigraphStore", "Quad", "QueryDataset", "RdflibStore", "ServiceRefused",
           "StoreError", "check_query", "nquad_line", "nt_literal", "nt_term", "term_from_ox"]
