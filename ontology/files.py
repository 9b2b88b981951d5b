"""Locations of the ontology's data files and a loader for them."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rdflib import Graph

ONTOLOGY_FILES = ("failgraph.ttl", "taxonomy.ttl", "fix_actions.ttl")
SHAPES_FILE = "shapes.ttl"


def data_path(name: str) -> Path:
    """Path of a data file shipped in the ``ontology`` package."""
    return Path(str(resources.files(__package__).joinpath(name)))


def read_yaml(path: str | Path) -> Any:
    """The YAML document at ``path`` (a path, or the name of a data file of the ``ontology`` package), parsed safely
    with libyaml's C parser when PyYAML has it (five times faster than the pure-Python one on the rule files, which
    a one-shot ``failgraph diagnose`` reads)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    p = Path(path) if isinstance(path, Path) or "/" in str(path) else data_path(str(path))
    return yaml.load(p.read_text(encoding="utf-8"), Loader=loader)


@cache
def _parsed(name: str) -> Graph:
    from rdflib import Graph

    return Graph().parse(data_path(name), format="turtle")


@cache
def ontology_view() -> Graph:
    """The ontology and both taxonomies as one shared, parsed-once graph: for readers only (never modify it)."""
    return ontology_graph()


def ontology_graph() -> Graph:
    """A fresh rdflib graph with the ontology and both taxonomies (a copy: callers may modify it)."""
    from rdflib import Graph

    g = Graph()
    for name in ONTOLOGY_FILES:
        g += _parsed(name)
    return g


def shapes_graph() -> Graph:
    """A fresh rdflib graph with the SHACL shapes."""
    from rdflib import Graph

    g = Graph()
    g += _parsed(SHAPES_FILE)
    return g
