"""SHACL validation of a built graph against ``ontology/shapes.ttl``."""

from __future__ import annotations

from collections.abc import Iterable

import rdflib
from pydantic import BaseModel
from pyshacl import validate as shacl_validate

from ..ontology import shapes_graph
from .store import Quad


class ShaclViolation(BaseModel):
    focus: str
    path: str | None
    message: str


class ShaclReport(BaseModel):
    conforms: bool
    violations: list[ShaclViolation]
    sample: str | None = None  # set when only a sample of the inputs was validated (large builds)


SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def validate_quads(quads: Iterable[Quad]) -> ShaclReport:
    """Validate the union of the quads' graphs against the shapes."""
    g = rdflib.Graph()
    for s, p, o, _ in quads:
        g.add((s, p, o))
    return validate_graph(g)


def validate_graph(g: rdflib.Graph) -> ShaclReport:
    conforms, report, _ = shacl_validate(g, shacl_graph=shapes_graph(), inference="none", advanced=True)
    violations = []
    for res in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        path = report.value(res, SH.resultPath)
        violations.append(ShaclViolation(focus=str(report.value(res, SH.focusNode)),
                                         path=str(path) if path is not None else None,
                                         message=str(report.value(res, SH.resultMessage))))
    return ShaclReport(conforms=bool(conforms), violations=violations)


__all__ = ["ShaclReport", "ShaclViolation", "validate_graph", "validate_quads"]
