"""Typed, read-only access to the symptom and root-cause taxonomies in ``taxonomy.ttl``.

Nothing else in failgraph spells a category name: code asks this module.

>>> tax = load_taxonomy()
>>> leaf = tax.leaf("symptom", "Hang - Generation Process Stuck")
>>> tax.category_of(leaf).label
'Process Hang'
>>> tax.leaf("root_cause", "Environment Compatibility Issues -  Architecture Compatibility").label
'Environment Compatibility Issues - Architecture Compatibility'
"""

from __future__ import annotations

import re
from enum import Enum
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .files import ontology_view
from .namespaces import FG, SKOS

SchemeName = Literal["symptom", "root_cause"]

_SCHEMES: dict[str, SchemeName] = {str(FG.SymptomScheme): "symptom", str(FG.RootCauseScheme): "root_cause"}


class Level(str, Enum):  # noqa: UP042 - str() and format() of the members stay as they are
    """Levels of the taxonomies, from the paper's categories down to the released leaf labels."""

    category = "category"
    subcategory = "subcategory"
    group = "group"
    middle = "middle"
    leaf = "leaf"

    @property
    def iri(self) -> str:
        return str(FG[self.value.capitalize() + "Level"])


class Concept(BaseModel):
    """One SKOS concept of a failgraph taxonomy."""

    model_config = ConfigDict(frozen=True)

    iri: str
    label: str
    scheme: SchemeName
    levels: frozenset[Level]
    broader: str | None
    definition: str


class UnknownLabel(ValueError):
    """A label that names no concept of the taxonomy."""


def normalise_label(label: str) -> str:
    """Collapse runs of whitespace and trim, as failgraph does for every released label."""
    return re.sub(r"\s+", " ", label).strip()


class Taxonomy:
    """The two concept schemes, indexed by IRI and by label."""

    def __init__(self, concepts: list[Concept]):
        self._by_iri = {c.iri: c for c in concepts}
        self._by_label: dict[tuple[str, str], Concept] = {}
        for c in concepts:
            self._by_label[(c.scheme, c.label.casefold())] = c
        self._children: dict[str, list[Concept]] = {}
        for c in concepts:
            if c.broader:
                self._children.setdefault(c.broader, []).append(c)

    # -- lookup -------------------------------------------------------------------------------
    def concept(self, iri: str) -> Concept:
        return self._by_iri[str(iri)]

    def by_label(self, scheme: SchemeName, label: str) -> Concept:
        """The concept of ``scheme`` whose label matches (case- and whitespace-insensitive)."""
        try:
            return self._by_label[(scheme, normalise_label(label).casefold())]
        except KeyError:
            kind = scheme.replace("_", "-")
            raise UnknownLabel(f"{label!r} is not a {kind} label of the failgraph taxonomy") from None

    def leaf(self, scheme: SchemeName, label: str) -> Concept:
        """The leaf concept for a released label; raises :class:`UnknownLabel` otherwise."""
        c = self.by_label(scheme, label)
        if Level.leaf not in c.levels:
            raise UnknownLabel(f"{label!r} is a {scheme.replace('_', '-')} concept but not a leaf label")
        return c

    # -- structure ----------------------------------------------------------------------------
    def concepts(self, scheme: SchemeName, level: Level | None = None) -> list[Concept]:
        """Concepts of a scheme, optionally at one level, sorted by label."""
        out = [c for c in self._by_iri.values() if c.scheme == scheme and (level is None or level in c.levels)]
        return sorted(out, key=lambda c: c.label)

    def leaves(self, scheme: SchemeName) -> list[Concept]:
        return self.concepts(scheme, Level.leaf)

    def children(self, concept: Concept) -> list[Concept]:
        return sorted(self._children.get(concept.iri, []), key=lambda c: c.label)

    def ancestors(self, concept: Concept) -> list[Concept]:
        """The concept and its broader chain, up to the category (inclusive)."""
        chain = [concept]
        while chain[-1].broader:
            chain.append(self._by_iri[chain[-1].broader])
        return chain

    def at_level(self, concept: Concept, level: Level) -> Concept | None:
        """The concept on ``concept``'s broader chain that sits at ``level`` (None if the chain skips it)."""
        for c in self.ancestors(concept):
            if level in c.levels:
                return c
        return None

    def category_of(self, concept: Concept) -> Concept:
        return self.ancestors(concept)[-1]

    def label_at(self, scheme: SchemeName, leaf_label: str, level: Level) -> str | None:
        """The label of the concept at ``level`` above the leaf called ``leaf_label`` (None if the chain skips it).

        >>> load_taxonomy().label_at("symptom", "Hang - Generation Process Stuck", Level.category)
        'Process Hang'
        """
        node = self.at_level(self.leaf(scheme, leaf_label), level)
        return node.label if node is not None else None

    def levels(self, scheme: SchemeName) -> list[Level]:
        """Levels present in a scheme, from the top down."""
        present = {lv for c in self._by_iri.values() if c.scheme == scheme for lv in c.levels}
        return [lv for lv in Level if lv in present]


def _concepts_from_graph() -> list[Concept]:
    g = ontology_view()
    levels_by_iri: dict[str, set[Level]] = {}
    level_of = {lv.iri: lv for lv in Level}
    for s, o in g.subject_objects(FG.taxonomyLevel):
        levels_by_iri.setdefault(str(s), set()).add(level_of[str(o)])
    out = []
    for s in g.subjects(SKOS.inScheme, None):
        scheme = _SCHEMES.get(str(g.value(s, SKOS.inScheme)))
        if scheme is None:
            continue
        broader = g.value(s, SKOS.broader)
        out.append(Concept(
            iri=str(s), label=str(g.value(s, SKOS.prefLabel)), scheme=scheme,
            levels=frozenset(levels_by_iri.get(str(s), set())),
            broader=str(broader) if broader is not None else None,
            definition=str(g.value(s, SKOS.definition)),
        ))
    return out


@cache
def load_taxonomy() -> Taxonomy:
    """The taxonomy of the shipped ``taxonomy.ttl`` (parsed once; the result is read-only)."""
    return Taxonomy(_concepts_from_graph())


__all__ = ["Concept", "Level", "SchemeName", "Taxonomy", "UnknownLabel", "load_taxonomy", "normalise_label"]
