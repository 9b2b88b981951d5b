"""Build the knowledge graph from ingested records into a fresh snapshot, then publish it atomically."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version

from pydantic import BaseModel

from ..ingest.cases import Case
from ..ingest.records import FailureRecord, IssueDocument
from .home import GraphHome, Manifest, now_iso
from .mapping import SignatureFn, case_quads, document_quads, ontology_quads, record_quads
from .store import GraphStore, OxigraphStore, Quad, nquad_line
from .validate import ShaclReport, validate_quads

STORE_DIR = "oxigraph"
#: Above this many records, SHACL validation is skipped unless asked for (pyshacl is in-memory and slow).
VALIDATE_MAX_RECORDS = 20_000


class BuildError(Exception):
    """The build was refused; the previously published graph is untouched."""


class GraphInputs(BaseModel):
    """Everything a build turns into the graph."""

    records: list[FailureRecord]
    cases: list[Case] = []
    documents: list[IssueDocument] = []

    @property
    def issue_keys(self) -> set[str]:
        return ({r.issue.key for r in self.records} | {c.key for c in self.cases}
                | {d.issue.key for d in self.documents})


class BuildReport(BaseModel):
    snapshot: str
    manifest: Manifest
    shacl: ShaclReport | None


def failgraph_version() -> str:
    try:
        return version("failgraph")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled checkout
        return "0+unknown"


def fingerprint(inputs: GraphInputs) -> str:
    h = hashlib.sha256()
    for group in (inputs.records, inputs.cases, inputs.documents):
        for r in group:
            h.update(r.model_dump_json().encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def as_inputs(data: GraphInputs | list[FailureRecord]) -> GraphInputs:
    return data if isinstance(data, GraphInputs) else GraphInputs(records=data)


def all_quads(data: GraphInputs | list[FailureRecord], progress: Callable[[int], None] | None = None,
              signature_of: SignatureFn | None = None,
              quantization_of: Callable[[str], list[str]] | None = None) -> Iterator[Quad]:
    """The ontology's quads, then the records', cases' and documents' (progress is reported once per item)."""
    inputs = as_inputs(data)
    yield from ontology_quads()
    yield from record_quads(_counting(inputs.records, progress))
    if inputs.cases:
        yield from case_quads(_counting(inputs.cases, progress), signature_of=signature_of,
                              quantization_of=quantization_of)
    if inputs.documents:
        yield from document_quads(_counting(inputs.documents, progress))


def _counting(items, progress: Callable[[int], None] | None):
    for r in items:
        yield r
        if progress:
            progress(1)


def populate(store: GraphStore, data: GraphInputs | list[FailureRecord],
             progress: Callable[[int], None] | None = None, signature_of: SignatureFn | None = None) -> int:
    """Fill any store (e.g. an in-memory one for tests) with the ontology and the inputs; returns the quad count."""
    return store.add_quads(all_quads(data, progress, signature_of))


def build_graph(home: GraphHome, data: GraphInputs | list[FailureRecord], *, validate: bool | None = None,
                progress: Callable[[int], None] | None = None, problems: int = 0,
                signature_of: SignatureFn | None = None,
                quantization_of: Callable[[str], list[str]] | None = None) -> BuildReport:
    """Write records into a new Oxigraph snapshot under ``home`` and publish it.

    SHACL validation runs by default for graphs of up to :data:`VALIDATE_MAX_RECORDS` records; a graph that does not
    conform is not published. Any failure leaves the previous snapshot current.
    """
    inputs = as_inputs(data)
    records = inputs.records
    if not records and not inputs.cases and not inputs.documents:
        raise BuildError("nothing to build a graph from")
    size = len(records) + len(inputs.cases) + len(inputs.documents)
    validate = size <= VALIDATE_MAX_RECORDS if validate is None else validate
    snap = home.new_snapshot()
    try:
        nq = snap / "graph.nq.tmp"
        quads = 0
        with open(nq, "w", encoding="utf-8") as f:
            for q in all_quads(inputs, progress, signature_of, quantization_of):
                f.write(nquad_line(q))
                quads += 1
        shacl = None
        if validate:
            shacl = validate_quads(all_quads(inputs, signature_of=signature_of, quantization_of=quantization_of))
            if not shacl.conforms:
                first = "; ".join(f"{v.focus} {v.path or ''}: {v.message}" for v in shacl.violations[:5])
                raise BuildError(f"the graph does not conform to the SHACL shapes ({len(shacl.violations)} "
                                 f"violations): {first}")
        store = OxigraphStore(snap / STORE_DIR)
        store.load_nquads_file(nq)
        store.close()
        nq.unlink()
        manifest = Manifest(created=now_iso(), failgraph_version=failgraph_version(), quads=quads,
                            records=len(records), cases=len(inputs.cases), documents=len(inputs.documents),
                            issues=len(inputs.issue_keys),
                            sources=sorted({r.provenance.source for r in records}
                                           | {d.provenance.source for d in inputs.documents}
                                           | ({"cases/cases.jsonl"} if inputs.cases else set())),
                            inputs_fingerprint=fingerprint(inputs), problems=problems)
        home.publish(snap, manifest)
        return BuildReport(snapshot=str(snap), manifest=manifest, shacl=shacl)
    except BaseException:
        home.discard(snap)
        raise


def open_store(home: GraphHome) -> OxigraphStore:
    """The published graph of ``home``, opened read-only."""
    return OxigraphStore(home.current() / STORE_DIR, read_only=True)


__all__ = ["BuildError", "BuildReport", "GraphInputs", "STORE_DIR", "build_graph", "open_store", "populate", "all_quads"]
