"""Vocabulary individuals of ``failgraph.ttl``: stages, architectures, model series and labelers."""

from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel, ConfigDict
from rdflib import URIRef
from rdflib.namespace import PROV, RDF, RDFS

from .files import ontology_view
from .namespaces import FG


class Term(BaseModel):
    """A named individual of the ontology."""

    model_config = ConfigDict(frozen=True)

    iri: str
    label: str


class UnknownTerm(ValueError):
    """A name that matches no individual of the ontology."""


class Vocabulary:
    """Stages, architectures, model series (with their GitHub owners) and labeling agents."""

    def __init__(self, stages: list[Term], architectures: list[Term], series: dict[str, Term], agents: list[Term],
                 series_patterns: list[tuple[re.Pattern, Term]] | None = None):
        self.series_patterns = series_patterns or []
        self.stages = stages
        self.architectures = architectures
        self.series_by_owner = series
        self.agents = agents

    @staticmethod
    def _find(terms: list[Term], name: str, kind: str) -> Term:
        key = name.strip().casefold()
        for t in terms:
            if t.label.casefold() == key:
                return t
        raise UnknownTerm(f"{name!r} is not a known {kind} (known: {', '.join(t.label for t in terms)})")

    def stage(self, name: str) -> Term:
        return self._find(self.stages, name, "stage")

    def architecture(self, name: str) -> Term:
        return self._find(self.architectures, name, "architecture")

    def series_for_owner(self, owner: str) -> Term | None:
        """The model series published by a GitHub owner (case-insensitive), or None."""
        return self.series_by_owner.get(owner.casefold())

    def series_for_model(self, model: str, repository: str | None = None) -> Term | None:
        """The series of a model name (first pattern that matches; DeepSeek before Qwen for distills such as
        DeepSeek-R1-Distill-Qwen), else the series of the repository owner."""
        for pattern, term in self.series_patterns:
            if pattern.search(model):
                return term
        return self.series_for_owner(repository.split("/")[0]) if repository else None

    def series(self) -> list[Term]:
        return sorted(self.series_by_owner.values(), key=lambda t: t.label)


def _terms_of(g, cls) -> list[Term]:
    return sorted((Term(iri=str(s), label=str(g.value(s, RDFS.label))) for s in g.subjects(RDF.type, cls)),
                  key=lambda t: t.label)


@cache
def load_vocabulary() -> Vocabulary:
    g = ontology_view()
    series = {str(g.value(s, FG.githubOwner)).casefold(): Term(iri=str(s), label=str(g.value(s, RDFS.label)))
              for s in g.subjects(RDF.type, FG.ModelSeries)}
    patterns = sorted(((re.compile(str(p), re.IGNORECASE), Term(iri=str(s), label=str(g.value(s, RDFS.label))))
                       for s, p in g.subject_objects(FG.modelNamePattern)), key=lambda t: t[1].label)
    return Vocabulary(_terms_of(g, FG.Stage), _terms_of(g, FG.Architecture), series, _terms_of(g, PROV.Agent),
                      patterns)


#: IRIs of the two labelers failgraph knows.
DATASET_LABELER = URIRef(FG.OpenLLMFailuresStudy)
CURATOR_LABELER = URIRef(FG.FailgraphCurator)
INGEST_AGENT = URIRef(FG.FailgraphIngest)

__all__ = ["CURATOR_LABELER", "DATASET_LABELER", "INGEST_AGENT", "Term", "UnknownTerm", "Vocabulary", "load_vocabulary"]
