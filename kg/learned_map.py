"""Learned failures → RDF quads: one ``fg:LearnedFailure`` node per issue, in a named graph of its own (so that
learning the issue again replaces the graph as a whole), beside the issue node the build may already hold.

The node keeps the thread, its labels and its fix under ``fg:learned*`` properties, apart from the issue's own
``fg:text``, ``fg:url`` and ``dcterms:title``: what the build's inputs say of an issue is never changed by learning
(:func:`failgraph.kg.learned_merge.merge_learned` decides how the two combine). Every value from the issue is a
literal term, added through the store API: untrusted text never reaches a SPARQL UPDATE string.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..ingest.learned import LearnedFailure
from ..ontology import FG, load_taxonomy
from .mapping import RDFLIB, Terms, issue_path

_XSD_ANYURI = "http://www.w3.org/2001/XMLSchema#anyURI"


def learned_path(url: str) -> str:
    """The IRI path of an issue's learned node (also its named graph)."""
    return "learned/" + issue_path(url).removeprefix("issue/")


def learned_graph(url: str, terms: Terms = RDFLIB):
    return terms.fgid(learned_path(url))


def learned_quads(items: Iterable[LearnedFailure], terms: Terms = RDFLIB) -> Iterator[tuple]:
    """The quads of each learned failure (linked to its issue's node, which they leave as the build made it)."""
    t = terms
    tax = load_taxonomy()
    p = {name: t.iri(str(FG[name])) for name in (
        "LearnedFailure", "learnedAbout", "learnedUrl", "learnedText", "learnedTitle", "learnedRootCause",
        "learnedSymptom", "learnedFix", "learnedBy", "learnedSource")}
    rdf_type = t.c.type
    for it in items:
        node = g = learned_graph(it.url, t)
        issue = t.fgid(issue_path(it.url))
        yield node, rdf_type, p["LearnedFailure"], g
        yield node, p["learnedAbout"], issue, g
        yield node, p["learnedUrl"], t.lit(it.url, _XSD_ANYURI), g
        yield node, p["learnedText"], t.lit(it.text), g
        if it.title:
            yield node, p["learnedTitle"], t.lit(it.title), g
        if it.root_cause:
            yield node, p["learnedRootCause"], t.iri(tax.leaf("root_cause", it.root_cause).iri), g
        if it.symptom:
            yield node, p["learnedSymptom"], t.iri(tax.leaf("symptom", it.symptom).iri), g
        if it.fix:
            yield node, p["learnedFix"], t.lit(it.fix), g
        if it.labeler:
            yield node, p["learnedBy"], t.lit(it.labeler), g
        yield node, p["learnedSource"], t.lit(it.source), g


__all__ = ["learned_graph", "learned_path", "learned_quads"]
