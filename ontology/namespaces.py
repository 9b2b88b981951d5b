"""RDF namespaces of failgraph and the vocabularies it reuses."""

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

FG = Namespace("https://w3id.org/failgraph/ontology#")
FGS = Namespace("https://w3id.org/failgraph/taxonomy/symptom/")
FGR = Namespace("https://w3id.org/failgraph/taxonomy/root-cause/")
FGID = Namespace("https://w3id.org/failgraph/id/")
DOAP = Namespace("http://usefulinc.com/ns/doap#")
SCHEMA = Namespace("https://schema.org/")

#: Named graph holding the ontology, taxonomy and vocabulary individuals.
ONTOLOGY_GRAPH = FGID["graph/ontology"]

PREFIXES: dict[str, str] = {
    "fg": str(FG),
    "fgs": str(FGS),
    "fgr": str(FGR),
    "fgid": str(FGID),
    "skos": str(SKOS),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "dcterms": str(DCTERMS),
    "doap": str(DOAP),
    "schema": str(SCHEMA),
}

__all__ = [
    "DCTERMS",
    "DOAP",
    "FG",
    "FGID",
    "FGR",
    "FGS",
    "ONTOLOGY_GRAPH",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SKOS",
    "XSD",
]
