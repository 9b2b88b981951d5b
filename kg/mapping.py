"""Records → RDF quads. Each source document's statements go into a named graph of the source's IRI."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from ..ingest.cases import Case
from ..ingest.records import FailureRecord, IssueDocument, IssueRef, issue_key
from ..ontology import (CURATOR_LABELER, DATASET_LABELER, FG, FGID, INGEST_AGENT, ONTOLOGY_GRAPH, load_taxonomy,
                        load_vocabulary, ontology_graph)
from ..ontology.namespaces import DOAP
from .store import Quad


class Signature(Protocol):
    id: str
    signature: str
    exception_type: str | None


#: A function from an error line to its normalised signature (None when the line is no error).
SignatureFn = Callable[[str], Signature | None]

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
    yield g, PROV.wasAttributedTo, _LABELERS[labeler] if labeler else INGEST_AGENT, g


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


def library_iri(name: str) -> URIRef:
    return FGID[f"library/{slug(name)}"]


def library_version_iri(name: str, version: str) -> URIRef:
    return FGID[f"library/{slug(name)}/{slug(version)}"]


def error_signature_iri(signature_id: str) -> URIRef:
    return FGID[f"error/{signature_id}"]


def library_quads(issue: URIRef, name: str, version: str, g: URIRef) -> Iterator[Quad]:
    lib, lv = library_iri(name), library_version_iri(name, version)
    yield lib, RDF.type, FG.Library, g
    yield lib, DOAP.name, Literal(name), g
    yield lv, RDF.type, FG.LibraryVersion, g
    yield lv, FG.ofLibrary, lib, g
    yield lv, DOAP.revision, Literal(version), g
    yield lv, RDFS.label, Literal(f"{name} {version}"), g
    yield issue, FG.involvesLibraryVersion, lv, g


def error_quads(issue: URIRef, line: str, g: URIRef, signature_of: SignatureFn | None) -> Iterator[Quad]:
    yield issue, FG.errorLine, Literal(line), g
    sig = signature_of(line) if signature_of else None
    if sig is None:
        return
    e = error_signature_iri(sig.id)
    yield e, RDF.type, FG.ErrorSignature, g
    yield e, RDFS.label, Literal(sig.signature), g
    if sig.exception_type:
        yield e, FG.exceptionType, Literal(sig.exception_type), g
    yield issue, FG.hasErrorSignature, e, g


def case_quads(cases: Iterable[Case], source: str = "cases/cases.jsonl",
               signature_of: SignatureFn | None = None,
               quantization_of: Callable[[str], list[str]] | None = None) -> Iterator[Quad]:
    """Quads for curated cases: issue text, environment facts, error signatures, fixes; and a curator-labeled
    failure record for cases the dataset does not label."""
    tax, vocab = load_taxonomy(), load_vocabulary()
    g = source_iri(source)
    yield from source_quads(source, "failgraph-curator", f"failgraph curated case base {source}")
    for n, case in enumerate(cases):
        ref = case.issue
        i = issue_iri(ref.url)
        yield from issue_quads(ref, g)
        yield i, DCTERMS.title, Literal(case.title), g
        yield i, DCTERMS.abstract, Literal(case.summary), g
        yield i, FG.text, Literal(case.report), g
        yield i, FG.modelName, Literal(case.model), g
        env = case.environment
        for lib in env.libraries:
            yield from library_quads(i, lib.name, lib.version, g)
        if env.cuda:
            yield i, FG.cudaVersion, Literal(env.cuda), g
        if env.framework:
            yield i, FG.framework, Literal(env.framework), g
        if env.os:
            yield i, FG.operatingSystem, Literal(env.os), g
        if env.gpu:
            hw = FGID[f"hardware/{slug(env.gpu)}"]
            yield hw, RDF.type, FG.Hardware, g
            yield hw, RDFS.label, Literal(env.gpu), g
            yield i, FG.onHardware, hw, g
        for line in case.error_lines:
            yield from error_quads(i, line, g, signature_of)
        for fmt in quantization_of(case.report) if quantization_of else ():
            yield i, FG.quantization, Literal(fmt), g
        if case.fix:
            fx = FGID[f"fix/{slug(case.key)}"]
            yield fx, RDF.type, FG.Fix, g
            yield fx, RDFS.comment, Literal(case.fix), g
            yield fx, FG.confirmed, Literal(case.fix_confirmed), g
            yield i, FG.resolvedBy, fx, g
        if case.labeler == "failgraph-curator":
            r = FGID[f"record/{slug(source)}/{n}"]
            yield r, RDF.type, FG.FailureRecord, g
            yield r, FG.aboutIssue, i, g
            yield r, FG.hasSymptom, URIRef(tax.leaf("symptom", case.symptom).iri), g
            yield r, FG.hasRootCause, URIRef(tax.leaf("root_cause", case.root_cause).iri), g
            yield r, FG.stage, URIRef(vocab.stage(case.stage).iri), g
            yield r, FG.sourceIndex, Literal(n, datatype=XSD.integer), g
            yield r, PROV.wasDerivedFrom, g, g
            yield r, PROV.wasAttributedTo, CURATOR_LABELER, g
            series = vocab.series_for_model(case.model, case.repository)
            if series:
                m = model_iri(case.model)
                yield m, RDF.type, FG.Model, g
                yield m, RDFS.label, Literal(case.model), g
                yield m, FG.inSeries, URIRef(series.iri), g
                yield r, FG.model, m, g


def document_quads(docs: Iterable[IssueDocument]) -> Iterator[Quad]:
    """Quads for ingested, unlabeled issue threads (GitHub, JSONL exports): issue nodes with their text."""
    seen: set[str] = set()
    for d in docs:
        g = source_iri(d.provenance.source)
        if d.provenance.source not in seen:
            seen.add(d.provenance.source)
            yield from source_quads(d.provenance.source, None, f"{d.provenance.kind} source {d.provenance.source}")
        i = issue_iri(d.issue.url)
        yield from issue_quads(d.issue, g)
        if d.title:
            yield i, DCTERMS.title, Literal(d.title), g
        yield i, FG.text, Literal(d.text), g
        yield i, PROV.wasDerivedFrom, g, g


__all__ = ["case_quads", "document_quads", "error_quads", "error_signature_iri", "library_iri", "library_quads",
           "library_version_iri", "issue_iri", "model_iri", "ontology_quads", "issue_quads", "record_quads", "slug", "source_iri",
           "source_quads"]
