"""failgraph's vocabulary: OWL classes, SKOS taxonomies and SHACL shapes, with typed accessors.

The Turtle files beside this module are the single source of truth for every name.
"""

from .files import data_path, ontology_graph, shapes_graph
from .namespaces import FG, FGID, FGR, FGS, ONTOLOGY_GRAPH, PREFIXES
from .taxonomy import Concept, Level, SchemeName, Taxonomy, UnknownLabel, load_taxonomy, normalise_label
from .vocabulary import CURATOR_LABELER, DATASET_LABELER, INGEST_AGENT, Term, UnknownTerm, Vocabulary, load_vocabulary

__all__ = [
    "FG", "FGID", "FGR", "FGS", "ONTOLOGY_GRAPH", "PREFIXES",
    "Concept", "Level", "SchemeName", "Taxonomy", "UnknownLabel", "load_taxonomy", "normalise_label",
    "Term", "UnknownTerm", "Vocabulary", "load_vocabulary", "DATASET_LABELER", "CURATOR_LABELER", "INGEST_AGENT",
    "data_path", "ontology_graph", "shapes_graph",
]
