"""Records → RDF quads. Each source document's statements go into a named graph of the source's IRI.

Every mapping function is written once over a small *term factory* (:class:`Terms`): :data:`RDFLIB` yields rdflib
terms (the :data:`~failgraph.kg.store.Quad` tuples stores take), :data:`NTRIPLES` yields terms already in N-Triples
syntax, which :func:`nquad_lines` joins into N-Quads lines without building a single rdflib object — the path
:func:`~failgraph.kg.build.build_graph` takes (about ten times faster: a million records in about a minute).

Besides each record's own statements, every failure record points to its **label profile** (``fg:recordProfile``, in
the record's source graph): one node per combination of labeler, symptom leaf, root-cause leaf, stage, model and
architecture, described once in the named graph :data:`PROFILE_GRAPH` (``fg:profileLabeler``, ``fg:profileSymptom``,
``fg:profileRootCause``…, and the labels' broader chains materialised as ``fg:profileSymptomOrBroader`` /
``fg:profileRootCauseOrBroader``: the leaf and every concept ``skos:broader*`` reaches from it). After a call's records,
a **tally** per source graph and profile (``fg:ProfileTally``: ``fg:tallyOf`` the profile, ``fg:recordCount``) says
how many of that source's records carry it. The study's named queries join the few hundred profiles to the taxonomy
and sum the tallies instead of walking ``skos:broader*`` and five properties of every record: the same figures (each
record has exactly one profile), in tens of milliseconds at a million records. Tallies count what one call saw: a
source loaded in several calls must not repeat records across them (``failgraph build`` maps everything once).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from ..ingest.cases import Case
from ..ingest.records import FailureRecord, IssueDocument, IssueRef, issue_key
from ..ontology import (
    CURATOR_LABELER,
    DATASET_LABELER,
    FG,
    FGID,
    INGEST_AGENT,
    ONTOLOGY_GRAPH,
    load_taxonomy,
    load_vocabulary,
    ontology_graph,
)
from ..ontology.fixes import FixSpec, fix_action
from ..ontology.namespaces import DOAP
from ..ontology.rules import load_playbook
from .store import Quad, nquad_line, nt_literal


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


def _issue_path(url: str) -> str:
    repo, number = issue_key(url).split("#")
    return f"issue/{repo}/{number}"


def issue_path(url: str) -> str:
    """The path of an issue's IRI under the id namespace (``issue/owner/repo/number``)."""
    return _issue_path(url)


def issue_iri(url: str) -> URIRef:
    """One IRI per issue whatever the URL's case or the repository's later name."""
    return FGID[_issue_path(url)]


def source_iri(source: str) -> URIRef:
    return FGID[f"source/{slug(source)}"]


def model_iri(name: str) -> URIRef:
    return FGID[f"model/{slug(name)}"]


def library_iri(name: str) -> URIRef:
    return FGID[f"library/{slug(name)}"]


def version_slug(version: str) -> str:
    """The IRI segment of a version: the version itself when it is already IRI-safe, else its slug and a short digest,
    so that two spellings (``4.41.2`` and ``>4.41.2``, ``V0.6`` and ``v0.6``) never name one node with two revisions.

    >>> version_slug("4.41.2"), version_slug(">4.41.2") != version_slug("4.41.2")
    ('4.41.2', True)
    """
    plain = slug(version)
    if plain == version:
        return plain
    return f"{plain}-{hashlib.sha1(version.encode('utf-8')).hexdigest()[:8]}"


def library_version_path(name: str, version: str) -> str:
    return f"library/{slug(name)}/{version_slug(version)}"


def library_version_iri(name: str, version: str) -> URIRef:
    return FGID[library_version_path(name, version)]


def error_signature_iri(signature_id: str) -> URIRef:
    return FGID[f"error/{signature_id}"]


def profile_iri(labeler: str, symptom: str, root_cause: str, stage: str, model: str | None,
                architecture: str | None) -> URIRef:
    """The label profile shared by every record with these labels (see the module docstring)."""
    return FGID[_profile_path(labeler, symptom, root_cause, stage, model, architecture)]


#: Named graph of the label profiles (statements failgraph derives from the records' labels).
PROFILE_GRAPH = FGID["graph/profiles"]


def _profile_path(*parts: str | None) -> str:
    key = "\x1f".join("" if p is None else p for p in parts)
    return "profile/" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


# ------------------------------------------------------------------------------------------------ term factories
_XSD_BOOLEAN = str(XSD.boolean)

#: The fixed IRIs the mapping writes, by short name.
_CONSTANTS: dict[str, str] = {
    "type": str(RDF.type), "label": str(RDFS.label), "comment": str(RDFS.comment),
    "title": str(DCTERMS.title), "abstract": str(DCTERMS.abstract),
    "derived": str(PROV.wasDerivedFrom), "attributed": str(PROV.wasAttributedTo),
    "doap_name": str(DOAP.name), "doap_revision": str(DOAP.revision),
    "xsd_integer": str(XSD.integer), "xsd_anyURI": str(XSD.anyURI),
    **{name: str(FG[name]) for name in (
        "Issue", "FailureRecord", "Source", "Model", "Library", "LibraryVersion", "ErrorSignature", "Hardware", "Fix",
        "url", "repository", "issueNumber", "status", "sourceFile", "aboutIssue", "hasSymptom", "hasRootCause",
        "stage", "model", "architecture", "recordNumber", "sourceIndex", "inSeries", "text", "modelName",
        "involvesLibraryVersion", "ofLibrary", "cudaVersion", "framework", "operatingSystem", "onHardware",
        "errorLine", "exceptionType", "hasErrorSignature", "quantization", "resolvedBy", "confirmed",
        "recordProfile", "RecordProfile", "profileLabeler", "profileSymptom", "profileRootCause",
        "profileSymptomOrBroader", "profileRootCauseOrBroader", "ProfileTally", "tallyOf", "recordCount",
        "profileStage", "profileModel",
        "profileArchitecture", "remediedBy", "fixAction", "fixTarget", "fixTargetKind", "fixValue", "genericStep",
        "fixedIn", "appliesToSeries", "appliesToFramework", "appliesToStage", "appliesToHardware", "fixProvenance")},
    "labeler_dataset": str(DATASET_LABELER), "labeler_curator": str(CURATOR_LABELER),
    "labeler_ingest": str(INGEST_AGENT),
}


class Terms:
    """Makes RDF terms of one kind; the mapping functions are written once over it."""

    def __init__(self) -> None:
        self.c = type("Constants", (), {k: self.iri(v) for k, v in _CONSTANTS.items()})()
        self.id_base = str(FGID)

    def iri(self, value: str) -> Any:
        raise NotImplementedError

    def lit(self, value: str | int | bool, datatype: str | None = None) -> Any:
        raise NotImplementedError

    def fgid(self, path: str) -> Any:
        return self.iri(self.id_base + path)


class RdflibTerms(Terms):
    """rdflib ``URIRef``/``Literal`` terms (what :class:`~failgraph.kg.store.GraphStore.add_quads` takes)."""

    def iri(self, value: str) -> URIRef:
        return URIRef(value)

    def lit(self, value, datatype: str | None = None) -> Literal:
        return Literal(value, datatype=URIRef(datatype) if datatype else None)


class NTriplesTerms(Terms):
    """Terms as N-Triples strings, exactly as :func:`~failgraph.kg.store.nquad_line` writes rdflib terms."""

    def iri(self, value: str) -> str:
        return f"<{value}>"

    def lit(self, value, datatype: str | None = None) -> str:
        if isinstance(value, bool):
            return nt_literal("true" if value else "false", datatype or _XSD_BOOLEAN)
        return nt_literal(str(value), datatype)


RDFLIB = RdflibTerms()
NTRIPLES = NTriplesTerms()


def nquad_lines(quads: Iterable[tuple]) -> Iterator[str]:
    """N-Quads lines for quads of :data:`NTRIPLES` terms (or of rdflib terms)."""
    for q in quads:
        if isinstance(q[0], str) and not isinstance(q[0], URIRef):
            yield f"{q[0]} {q[1]} {q[2]} {q[3]} .\n"
        else:
            yield nquad_line(q)


class _Lookups:
    """Per-call caches of the IRIs that repeat across records (taxonomy leaves, stages, models, sources)."""

    def __init__(self, t: Terms):
        self.t = t
        self.tax, self.vocab = load_taxonomy(), load_vocabulary()
        self._leaf: dict[tuple[str, str], Any] = {}
        self._stage: dict[str, Any] = {}
        self._arch: dict[str, Any] = {}
        self._slug: dict[str, str] = {}
        self._series: dict[tuple, Any] = {}
        self._profile: dict[tuple, Any] = {}
        self.profile_graph = t.iri(str(PROFILE_GRAPH))
        self.tally: dict[tuple, int] = {}  # (profile, graph) -> records seen

    def leaf(self, scheme: str, label: str):
        k = (scheme, label)
        v = self._leaf.get(k)
        if v is None:
            v = self._leaf[k] = self.t.iri(self.tax.leaf(scheme, label).iri)
        return v

    def chain(self, scheme: str, label: str) -> list:
        """The leaf and every broader concept up to its category (what ``skos:broader*`` reaches from the leaf)."""
        k = ("chain", scheme, label)
        v = self._leaf.get(k)
        if v is None:
            tax = self.tax
            v = self._leaf[k] = [self.t.iri(c.iri) for c in tax.ancestors(tax.leaf(scheme, label))]
        return v

    def fix_action(self, name: str):
        k = ("action", name)
        v = self._leaf.get(k)
        if v is None:
            v = self._leaf[k] = self.t.iri(fix_action(name).iri)
        return v

    def series_by_label(self, label: str):
        k = ("series", label)
        if k not in self._series:
            match = [s for s in self.vocab.series_by_owner.values() if s.label == label]
            self._series[k] = self.t.iri(match[0].iri)
        return self._series[k]

    def stage(self, label: str):
        v = self._stage.get(label)
        if v is None:
            v = self._stage[label] = self.t.iri(self.vocab.stage(label).iri)
        return v

    def architecture(self, label: str):
        v = self._arch.get(label)
        if v is None:
            v = self._arch[label] = self.t.iri(self.vocab.architecture(label).iri)
        return v

    def slug(self, text: str) -> str:
        v = self._slug.get(text)
        if v is None:
            v = self._slug[text] = slug(text)
        return v

    def series_for_owner(self, owner: str):
        k = ("owner", owner)
        if k not in self._series:
            s = self.vocab.series_for_owner(owner)
            self._series[k] = self.t.iri(s.iri) if s else None
        return self._series[k]

    def series_for_model(self, model: str, repository: str):
        k = ("model", model, repository)
        if k not in self._series:
            s = self.vocab.series_for_model(model, repository)
            self._series[k] = self.t.iri(s.iri) if s else None
        return self._series[k]

    def profile(self, labeler: str, symptom: str, root_cause: str, stage: str, model: str | None,
                architecture: str | None) -> tuple[Any, bool]:
        """The profile IRI, and whether it is new for this call (its statements are then due)."""
        k = (labeler, symptom, root_cause, stage, model, architecture)
        v = self._profile.get(k)
        if v is not None:
            return v, False
        v = self._profile[k] = self.t.fgid(_profile_path(*k))
        return v, True


# ------------------------------------------------------------------------------------------------------- mapping
def ontology_quads() -> Iterator[Quad]:
    """The ontology and taxonomies, in their own named graph."""
    for s, p, o in ontology_graph():
        yield s, p, o, ONTOLOGY_GRAPH


def _issue(issue: IssueRef, g, t: Terms, i=None) -> Iterator[tuple]:
    c = t.c
    i = i if i is not None else t.fgid(_issue_path(issue.url))
    yield i, c.type, c.Issue, g
    yield i, c.url, t.lit(issue.url, _CONSTANTS["xsd_anyURI"]), g
    yield i, c.repository, t.lit(issue.repository), g
    yield i, c.issueNumber, t.lit(issue.number, _CONSTANTS["xsd_integer"]), g
    if issue.status:
        yield i, c.status, t.lit(issue.status), g


def issue_quads(issue: IssueRef, g, terms: Terms = RDFLIB) -> Iterator[Quad]:
    yield from _issue(issue, g, terms)


def _labeler_term(t: Terms, labeler: str | None):
    return {"dataset": t.c.labeler_dataset, "failgraph-curator": t.c.labeler_curator}.get(labeler, t.c.labeler_ingest)


def source_quads(source: str, labeler: str | None, title: str, terms: Terms = RDFLIB) -> Iterator[Quad]:
    t = terms
    g = t.fgid(f"source/{slug(source)}")
    yield g, t.c.type, t.c.Source, g
    yield g, t.c.sourceFile, t.lit(source), g
    yield g, t.c.title, t.lit(title), g
    yield g, t.c.attributed, _labeler_term(t, labeler), g


def _profile(lk: _Lookups, r, g, labeler: str, symptom: str, root_cause: str, stage: str, model: str | None,
             architecture: str | None) -> Iterator[tuple]:
    t, c = lk.t, lk.t.c
    p, new = lk.profile(labeler, symptom, root_cause, stage, model, architecture)
    yield r, c.recordProfile, p, g
    lk.tally[(p, g)] = lk.tally.get((p, g), 0) + 1
    if new:  # once, in the profiles' own graph: the union default graph then never repeats a profile's statements
        pg = lk.profile_graph
        yield p, c.type, c.RecordProfile, pg
        if labeler:
            yield p, c.profileLabeler, _labeler_term(t, labeler), pg
        yield p, c.profileSymptom, lk.leaf("symptom", symptom), pg
        yield p, c.profileRootCause, lk.leaf("root_cause", root_cause), pg
        for concept in lk.chain("symptom", symptom):
            yield p, c.profileSymptomOrBroader, concept, pg
        for concept in lk.chain("root_cause", root_cause):
            yield p, c.profileRootCauseOrBroader, concept, pg
        yield p, c.profileStage, lk.stage(stage), pg
        if model is not None:
            yield p, c.profileModel, t.fgid(f"model/{lk.slug(model)}"), pg
        if architecture:
            yield p, c.profileArchitecture, lk.architecture(architecture), pg


def _tallies(lk: _Lookups) -> Iterator[tuple]:
    """After the records: how many records of each source graph carry each profile (``fg:ProfileTally``, in that
    source's graph), so that the study's aggregates read a few hundred counts instead of scanning every record."""
    t, c = lk.t, lk.t.c
    xsd_int = _CONSTANTS["xsd_integer"]
    for (p, g), n in lk.tally.items():
        key = f"{str(g).strip('<>')}\x1f{str(p).strip('<>')}"
        tally = t.fgid("tally/" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:24])
        yield tally, c.type, c.ProfileTally, g
        yield tally, c.tallyOf, p, g
        yield tally, c.recordCount, t.lit(n, xsd_int), g


def _record_labels(t: Terms, lk: _Lookups, r, i, g, symptom: str, root_cause: str, stage: str) -> Iterator[Quad]:
    """What every failure record states: its type, its issue and its labels (symptom, root cause, stage)."""
    c = t.c
    yield r, c.type, c.FailureRecord, g
    yield r, c.aboutIssue, i, g
    yield r, c.hasSymptom, lk.leaf("symptom", symptom), g
    yield r, c.hasRootCause, lk.leaf("root_cause", root_cause), g
    yield r, c.stage, lk.stage(stage), g


def record_quads(records: Iterable[FailureRecord], terms: Terms = RDFLIB) -> Iterator[Quad]:
    """Quads for labeled failure records, grouped by source; each record is linked to taxonomy leaves and to its
    label profile."""
    t = terms
    c = t.c
    lk = _Lookups(t)
    seen_sources: dict[str, Any] = {}
    seen_models: set[tuple[str, str]] = set()
    xsd_int = _CONSTANTS["xsd_integer"]
    for rec in records:
        prov = rec.provenance
        g = seen_sources.get(prov.source)
        if g is None:
            g = seen_sources[prov.source] = t.fgid(f"source/{lk.slug(prov.source)}")
            yield from source_quads(prov.source, prov.labeler, f"{prov.kind} source {prov.source}", t)
        i = t.fgid(_issue_path(rec.issue.url))
        yield from _issue(rec.issue, g, t, i)
        r = t.fgid(f"record/{lk.slug(prov.source)}/{prov.index if prov.index is not None else rec.issue.number}")
        yield from _record_labels(t, lk, r, i, g, rec.symptom, rec.root_cause, rec.stage)
        m = t.fgid(f"model/{lk.slug(rec.model)}")
        yield r, c.model, m, g
        if rec.architecture:
            yield r, c.architecture, lk.architecture(rec.architecture), g
        if rec.record_number is not None:
            yield r, c.recordNumber, t.lit(rec.record_number, xsd_int), g
        if prov.index is not None:
            yield r, c.sourceIndex, t.lit(prov.index, xsd_int), g
        yield r, c.derived, g, g
        if prov.labeler:
            yield r, c.attributed, _labeler_term(t, prov.labeler), g
        yield from _profile(lk, r, g, prov.labeler or "", rec.symptom, rec.root_cause, rec.stage, rec.model,
                            rec.architecture)
        if (rec.model, prov.source) not in seen_models:
            seen_models.add((rec.model, prov.source))
            series = lk.series_for_owner(rec.issue.repository.split("/")[0])
            yield m, c.type, c.Model, g
            yield m, c.label, t.lit(rec.model), g
            if series is not None:
                yield m, c.inSeries, series, g
            if rec.architecture:
                yield m, c.architecture, lk.architecture(rec.architecture), g
    yield from _tallies(lk)


def library_quads(issue, name: str, version: str, g, terms: Terms = RDFLIB) -> Iterator[Quad]:
    lv = terms.fgid(library_version_path(name, version))
    yield from _library_version(lv, name, version, g, terms)
    yield issue, terms.c.involvesLibraryVersion, lv, g


def _library_version(lv, name: str, version: str, g, t: Terms) -> Iterator[Quad]:
    c = t.c
    lib = t.fgid(f"library/{slug(name)}")
    yield lib, c.type, c.Library, g
    yield lib, c.doap_name, t.lit(name), g
    yield lv, c.type, c.LibraryVersion, g
    yield lv, c.ofLibrary, lib, g
    yield lv, c.doap_revision, t.lit(version), g
    yield lv, c.label, t.lit(f"{name} {version}"), g


def fix_quads(fx, text: str, spec: FixSpec | None, g, t: Terms, lk: _Lookups, *, provenance: str,
              confirmed: bool | None = None, causes: Iterable = (), signatures: Iterable = ()) -> Iterator[Quad]:
    """A ``fg:Fix`` node: its text, its structured fix (action, target, value, where it applies, the version it
    shipped in) and the root-cause concepts and error signatures it remedies (``fg:remediedBy``)."""
    c = t.c
    yield fx, c.type, c.Fix, g
    yield fx, c.comment, t.lit(text), g
    yield fx, c.fixProvenance, t.lit(provenance), g
    if confirmed is not None:
        yield fx, c.confirmed, t.lit(confirmed), g
    for cause in causes:
        yield cause, c.remediedBy, fx, g
    for sig in signatures:
        yield sig, c.remediedBy, fx, g
    if spec is None:
        return
    yield fx, c.fixAction, lk.fix_action(spec.action), g
    if spec.target:
        yield fx, c.fixTarget, t.lit(spec.target), g
        yield fx, c.fixTargetKind, t.lit(spec.target_kind), g
    if spec.value is not None:
        yield fx, c.fixValue, t.lit(spec.value), g
    if spec.generic:
        yield fx, c.genericStep, t.lit(True), g
    where = spec.applies_to
    for family in where.model_families:
        yield fx, c.appliesToSeries, lk.series_by_label(family), g
    for fw in where.frameworks:
        yield fx, c.appliesToFramework, t.lit(fw), g
    if where.stage:
        yield fx, c.appliesToStage, lk.stage(where.stage), g
    if where.hardware:
        yield fx, c.appliesToHardware, t.lit(where.hardware), g
    version = spec.fixed_in() if spec.target_kind == "library" else None
    if version:
        lv = t.fgid(library_version_path(spec.target, version))
        yield from _library_version(lv, spec.target, version, g, t)
        yield fx, c.fixedIn, lv, g


#: Named graph of the fixes failgraph knows beside the cases: the playbook's steps per root cause.
KNOWLEDGE_GRAPH = FGID["graph/knowledge"]


def knowledge_quads(terms: Terms = RDFLIB) -> Iterator[Quad]:
    """Fix nodes of the playbook (one per step, remedying its root-cause leaf), in :data:`KNOWLEDGE_GRAPH`."""
    t = terms
    lk = _Lookups(t)
    g = t.iri(str(KNOWLEDGE_GRAPH))
    for leaf, steps in load_playbook().steps.items():
        for n, step in enumerate(steps):
            yield from fix_quads(t.fgid(f"fix/playbook/{lk.slug(leaf)}/{n}"), step.text, step.fix, g, t, lk,
                                 provenance="playbook", causes=[lk.leaf("root_cause", leaf)])


def error_quads(issue, line: str, g, signature_of: SignatureFn | None, terms: Terms = RDFLIB) -> Iterator[Quad]:
    t = terms
    c = t.c
    yield issue, c.errorLine, t.lit(line), g
    sig = signature_of(line) if signature_of else None
    if sig is None:
        return
    e = t.fgid(f"error/{sig.id}")
    yield e, c.type, c.ErrorSignature, g
    yield e, c.label, t.lit(sig.signature), g
    if sig.exception_type:
        yield e, c.exceptionType, t.lit(sig.exception_type), g
    yield issue, c.hasErrorSignature, e, g


def _memoised(fn: Callable, size: int = 65_536) -> Callable:
    """``fn`` with a bounded memo (error lines repeat across a large case base)."""
    memo: dict = {}

    def wrapped(x):
        try:
            return memo[x]
        except KeyError:
            if len(memo) >= size:
                memo.clear()
            v = memo[x] = fn(x)
            return v
    return wrapped


def case_quads(cases: Iterable[Case], source: str = "cases/cases.jsonl",
               signature_of: SignatureFn | None = None,
               quantization_of: Callable[[str], list[str]] | None = None,
               terms: Terms = RDFLIB) -> Iterator[Quad]:
    """Quads for curated cases: issue text, environment facts, error signatures, fixes; and a curator-labeled
    failure record for cases the dataset does not label."""
    t = terms
    c = t.c
    lk = _Lookups(t)
    g = t.fgid(f"source/{slug(source)}")
    xsd_int = _CONSTANTS["xsd_integer"]
    if signature_of is not None:
        signature_of = _memoised(signature_of)
    for n, case in enumerate(cases):
        if n == 0:  # the source is stated with its first case: no cases, no statements
            yield from source_quads(source, "failgraph-curator", f"failgraph curated case base {source}", t)
        ref = case.issue
        i = t.fgid(_issue_path(ref.url))
        yield from _issue(ref, g, t, i)
        yield i, c.title, t.lit(case.title), g
        yield i, c.abstract, t.lit(case.summary), g
        yield i, c.text, t.lit(case.report), g
        yield i, c.modelName, t.lit(case.model), g
        env = case.environment
        for lib in env.libraries:
            yield from library_quads(i, lib.name, lib.version, g, t)
        if env.cuda:
            yield i, c.cudaVersion, t.lit(env.cuda), g
        if env.framework:
            yield i, c.framework, t.lit(env.framework), g
        if env.os:
            yield i, c.operatingSystem, t.lit(env.os), g
        if env.gpu:
            hw = t.fgid(f"hardware/{lk.slug(env.gpu)}")
            yield hw, c.type, c.Hardware, g
            yield hw, c.label, t.lit(env.gpu), g
            yield i, c.onHardware, hw, g
        for line in case.error_lines:
            yield from error_quads(i, line, g, signature_of, t)
        for fmt in quantization_of(case.report) if quantization_of else ():
            yield i, c.quantization, t.lit(fmt), g
        if case.fix:
            fx = t.fgid(f"fix/{slug(case.key)}")
            sigs = {s.id for line in case.error_lines if (s := signature_of(line))} if signature_of else set()
            yield from fix_quads(fx, case.fix, case.fix_spec, g, t, lk, provenance="case",
                                 confirmed=case.fix_confirmed, causes=[lk.leaf("root_cause", case.root_cause)],
                                 signatures=[t.fgid(f"error/{sid}") for sid in sorted(sigs)])
            yield i, c.resolvedBy, fx, g
        if case.labeler == "failgraph-curator":
            r = t.fgid(f"record/{lk.slug(source)}/{n}")
            yield from _record_labels(t, lk, r, i, g, case.symptom, case.root_cause, case.stage)
            yield r, c.sourceIndex, t.lit(n, xsd_int), g
            yield r, c.derived, g, g
            yield r, c.attributed, c.labeler_curator, g
            series = lk.series_for_model(case.model, case.repository)
            if series is not None:
                m = t.fgid(f"model/{lk.slug(case.model)}")
                yield m, c.type, c.Model, g
                yield m, c.label, t.lit(case.model), g
                yield m, c.inSeries, series, g
                yield r, c.model, m, g
            yield from _profile(lk, r, g, "failgraph-curator", case.symptom, case.root_cause, case.stage,
                                case.model if series is not None else None, None)
    yield from _tallies(lk)


def document_quads(docs: Iterable[IssueDocument], terms: Terms = RDFLIB) -> Iterator[Quad]:
    """Quads for ingested, unlabeled issue threads (GitHub, JSONL exports): issue nodes with their text."""
    t = terms
    c = t.c
    seen: dict[str, Any] = {}
    for d in docs:
        g = seen.get(d.provenance.source)
        if g is None:
            g = seen[d.provenance.source] = t.fgid(f"source/{slug(d.provenance.source)}")
            yield from source_quads(d.provenance.source, None, f"{d.provenance.kind} source {d.provenance.source}", t)
        i = t.fgid(_issue_path(d.issue.url))
        yield from _issue(d.issue, g, t, i)
        if d.title:
            yield i, c.title, t.lit(d.title), g
        yield i, c.text, t.lit(d.text), g
        yield i, c.derived, g, g


__all__ = [
    "NTRIPLES",
    "PROFILE_GRAPH",
    "RDFLIB",
    "NTriplesTerms",
    "RdflibTerms",
    "Terms",
    "case_quads",
    "document_quads",
    "error_quads",
    "error_signature_iri",
    "issue_iri",
    "issue_path",
    "issue_quads",
    "library_iri",
    "library_quads",
    "library_version_iri",
    "library_version_path",
    "model_iri",
    "nquad_lines",
    "ontology_quads",
    "profile_iri",
    "record_quads",
    "slug",
    "source_iri",
    "source_quads",
    "version_slug",
]
