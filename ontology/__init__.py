"""failgraph's vocabulary: OWL classes, SKOS taxonomies and SHACL shapes, with typed accessors.

The Turtle files beside this module are the single source of truth for every name.
"""

from .error_knowledge import ErrorEntry, error_knowledge, matching_errors
from .files import data_path, ontology_graph, shapes_graph
from .namespaces import FG, FGID, FGR, FGS, ONTOLOGY_GRAPH, PREFIXES
from .taxonomy import Concept, Level, SchemeName, Taxonomy, UnknownLabel, load_taxonomy, normalise_label
from .vocabulary import CURATOR_LABELER, DATASET_LABELER, INGEST_AGENT, Term, UnknownTerm, Vocabulary, load_vocabulary

__all__ = [
    "CURATOR_LABELER",
    "DATASET_LABELER",
    "FG",
    "FGID",
    "FGR",
    "FGS",
    "INGEST_AGENT",
    "ONTOLOGY_GRAPH",
    "PREFIXES",
    "Concept",
    "ErrorEntry",
    "Level",
    "SchemeName",
    "Taxonomy",
    "Term",
    "UnknownLabel",
    "UnknownTerm",
    "Vocabulary",
    "data_path",
    "error_knowledge",
    "load_taxonomy",
    "load_vocabulary",
    "matching_errors",
    "normalise_label",
    "ontology_graph",
    "shapes_graph",
]
