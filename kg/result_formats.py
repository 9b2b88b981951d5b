"""SPARQL result formats: the media types offered, and query results serialised in each.

SELECT/ASK results as SPARQL JSON, XML, CSV or TSV; CONSTRUCT/DESCRIBE graphs as Turtle, N-Triples, JSON-LD or
RDF/XML. The offers list (media type, format) pairs in the server's order of preference; the first is the default.
"""

from __future__ import annotations

import json

import pyoxigraph as ox

from ..ontology.namespaces import PREFIXES
from .results import AskResult, GraphResult, QueryResult, RDFTerm

#: (media type offered, format) for SELECT/ASK results, in the server's order of preference.
RESULT_TYPES: list[tuple[str, str]] = [
    ("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml"), ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"), ("application/json", "json"), ("application/xml", "xml"),
    ("text/xml", "xml")]
#: (media type offered, format) for CONSTRUCT/DESCRIBE graphs, in the server's order of preference.
GRAPH_TYPES: list[tuple[str, str]] = [
    ("text/turtle", "turtle"), ("application/n-triples", "ntriples"), ("application/ld+json", "jsonld"),
    ("application/rdf+xml", "rdfxml"), ("application/x-turtle", "turtle"), ("application/turtle", "turtle"),
    ("text/plain", "ntriples"), ("application/x-json+ld", "jsonld"), ("application/json", "jsonld")]
#: The media type each format is answered with.
MEDIA = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
         "tsv": "text/tab-separated-values", "turtle": "text/turtle", "ntriples": "application/n-triples",
         "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml"}
#: pyoxigraph's serialiser of each graph format.
OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
              "rdfxml": ox.RdfFormat.RDF_XML}
#: Each format's local name in the W3C formats vocabulary (http://www.w3.org/ns/formats/).
FORMAT_IRIS = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
               "tsv": "SPARQL_Results_TSV", "turtle": "Turtle", "ntriples": "N-Triples", "jsonld": "JSON-LD",
               "rdfxml": "RDF_XML"}


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
    """A graph result in a graph format (``turtle``, ``ntriples``, ``jsonld``, ``rdfxml``)."""
    if fmt == "ntriples":
        return result.to_ntriples().encode("utf-8")
    triples = [ox.Triple(_ox_term(s), _ox_term(p), _ox_term(o)) for s, p, o in result.triples
               if s.type != "triple" and o.type != "triple"]
    return ox.serialize(triples, format=OX_FORMATS[fmt], prefixes=PREFIXES if fmt in ("turtle", "rdfxml") else None)


def serialize_result(result: QueryResult, fmt: str) -> bytes:
    """Any query result in ``fmt`` (a result format for SELECT/ASK, a graph format for CONSTRUCT/DESCRIBE)."""
    if isinstance(result, GraphResult):
        return serialize_graph(result, fmt)
    if isinstance(result, AskResult):
        value = "true" if result.value else "false"
        if fmt == "json":
            return json.dumps(result.to_json()).encode("utf-8")
        if fmt == "xml":
            return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                    f"<head/><boolean>{value}</boolean></sparql>\n").encode()
        if fmt == "csv":
            return f"_askResult\r\n{value}\r\n".encode()
        return f"?_askResult\n{value}\n".encode()
    if fmt == "json":
        return json.dumps(result.to_json(), ensure_ascii=False).encode("utf-8")
    if fmt == "xml":
        return result.to_xml().encode("utf-8")
    if fmt == "csv":
        return result.to_csv().encode("utf-8")
    return result.to_tsv().encode("utf-8")


def content_type(fmt: str) -> str:
    """The Content-Type header of ``fmt`` (with ``charset=utf-8`` for the text formats).

    >>> content_type("csv"), content_type("json")
    ('text/csv; charset=utf-8', 'application/sparql-results+json')
    """
    media = MEDIA[fmt]
    return media if fmt == "jsonld" or media.endswith("json") else f"{media}; charset=utf-8"


__all__ = ["FORMAT_IRIS", "GRAPH_TYPES", "MEDIA", "OX_FORMATS", "RESULT_TYPES", "content_type", "serialize_graph",
           "serialize_result"]
