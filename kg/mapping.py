"""Records → RDF quads. Each source document's statements go into a named graph of the source's IRI."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from ..ingest.records import FailureRecord, IssueRef, issue_key
from ..ontology import (CURATOR_LABELER, DATASET_LABELER, FG, FGID, ONTOLOGY_GRAPH, load_taxonomy,
                        load_vocabulary, ontology_graph)
from .store import Quad

_LABELERS = {"dataset": DATASET_LABELER, "failgraph-curator": CURATOR_LABELER}


def slug(text: str) -> str:
    """A lower-case IRI-safe slug (keeps dots so versions stay readable).

    >>> slug("QwenLM/Qwen2.5 Coder")
    'qwenlm-qwen2.5-coder'
    """
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-") or "x"


def issue_iri(url: str) -> URIRef:
    """One IRI per issue whatever the URL's case or the repository's later name."""
    repo, number = issue_key(url).split("#")
    return FGID[f"issue/{repo}/{number}"]


def source_iri(source: str) -> URIRef:
    return FGID[f"source/{slug(source)}"]


def model_iri(name: str) -> URIRef:
    return FGID[f"model/{slug(name)}"]


def ontology_quads() -> Iterator[Quad]:
    """The ontology and taxonomies, in their own named graph."""
    for s, p, o in ontology_graph():
        yield s, p, o, ONTOLOGY_GRAPH


def issue_quads(issue: IssueRef, g: URIRef) -> Iterator[Quad]:
    i = issue_iri(issue.url)
    yield i, RDF.type, FG.Issue, g
    yield i, FG.url, Literal(issue.url, datatype=XSD.anyURI), g
    yield i, FG.repository, Literal(issue.repository), g
    yield i, FG.issueNumber, Literal(issue.number, datatype=XSD.integer), g
    if issue.status:
        yield i, FG.status, Literal(issue.status), g


def source_quads(source: str, labeler: str | None, title: str) -> Iterator[Quad]:
    g = source_iri(source)
    yield g, RDF.type, FG.Source, g
    yield g, FG.sourceFile, Literal(source), g
    yield g, DCTERMS.title, Literal(title), g
    if labeler:
        yield g, PROV.wasAttributedTo, _LABELERS[labeler], g


def record_quads(records: Iterable[FailureRecord]) -> Iterator[Quad]:
    """Quads for labeled failure records, grouped by source; each record is linked to taxonomy leaves."""
    tax, vocab = load_taxonomy(), load_vocabulary()
    seen_sources: set[str] = set()
    seen_models: set[tuple[str, URIRef]] = set()
    for rec in records:
        prov = rec.provenance
        g = source_iri(prov.source)
        if prov.source not in seen_sources:
            seen_sources.add(prov.source)
            yield from source_quads(prov.source, prov.labeler, f"{prov.kind} source {prov.source}")
        yield from issue_quads(rec.issue, g)
        r = FGID[f"record/{slug(prov.source)}/{prov.index if prov.index is not None else rec.issue.number}"]
        yield r, RDF.type, FG.FailureRecord, g
        yield r, FG.aboutIssue, issue_iri(rec.issue.url), g
        yield r, FG.hasSymptom, URIRef(tax.leaf("symptom", rec.symptom).iri), g
        yield r, FG.hasRootCause, URIRef(tax.leaf("root_cause", rec.root_cause).iri), g
        yield r, FG.stage, URIRef(vocab.stage(rec.stage).iri), g
        m = model_iri(rec.model)
        yield r, FG.model, m, g
        if rec.architecture:
            yield r, FG.architecture, URIRef(vocab.architecture(rec.architecture).iri), g
        if rec.record_number is not None:
            yield r, FG.recordNumber, Literal(rec.record_number, datatype=XSD.integer), g
        if prov.index is not None:
            yield r, FG.sourceIndex, Literal(prov.index, datatype=XSD.integer), g
        yield r, PROV.wasDerivedFrom, g, g
        if prov.labeler:
            yield r, PROV.wasAttributedTo, _LABELERS[prov.labeler], g
        if (rec.model, g) not in seen_models:
            seen_models.add((rec.model, g))
            series = vocab.series_for_owner(rec.issue.repository.split("/")[0])
            yield m, RDF.type, FG.Model, g
            yield m, RDFS.label, Literal(rec.model), g
            if series:
                yield m, FG.inSeries, URIRef(series.iri), g
            if rec.architecture:
                yield m, FG.architecture, URIRef(vocab.architecture(rec.architecture).iri), g


__all__ = ["issue_iri", "model_iri", "ontology_quads", "issue_quads", "record_quads", "slug", "source_iri",
           "source_quads"]
