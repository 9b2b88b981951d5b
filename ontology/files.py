"""Locations of the ontology's data files and a loader for them."""

from functools import cache
from importlib import resources
from pathlib import Path

from rdflib import Graph

ONTOLOGY_FILES = ("failgraph.ttl", "taxonomy.ttl", "fix_actions.ttl")
SHAPES_FILE = "shapes.ttl"


def data_path(name: str) -> Path:
    """Path of a data file shipped in the ``ontology`` package."""
    return Path(str(resources.files(__package__).joinpath(name)))


@cache
def _parsed(name: str) -> Graph:
    return Graph().parse(data_path(name), format="turtle")


def ontology_graph() -> Graph:
    """A fresh rdflib graph with the ontology and both taxonomies (a copy: callers may modify it)."""
    g = Graph()
    for name in ONTOLOGY_FILES:
        g += _parsed(name)
    return g


def shapes_graph() -> Graph:
    """A fresh rdflib graph with the SHACL shapes."""
    g = Graph()
    g += _parsed(SHAPES_FILE)
    return g
