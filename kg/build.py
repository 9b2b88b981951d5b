"""Build the knowledge graph from ingested records into a fresh snapshot, then publish it atomically."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import BaseModel

from ..ingest.cases import Case
from ..ingest.extract import error_signature
from ..ingest.extract.environment import extract_quantization
from ..ingest.learned import LearnedFailure, load_learned
from ..ingest.records import FailureRecord, IssueDocument
from .embed import TextEmbedder
from .home import GRAPH_LAYOUT, GraphHome, Manifest, now_iso
from .learned_map import learned_quads
from .mapping import (
    NTRIPLES,
    SignatureFn,
    case_quads,
    document_quads,
    knowledge_quads,
    nquad_lines,
    ontology_quads,
    record_quads,
)
from .snapshot_store import STORE_DIR, SnapshotStore, open_store
from .store import GraphStore, OxigraphStore, Quad, nquad_line
from .validate import ShaclReport, validate_quads

#: Above this many inputs (records + cases + documents) SHACL validation, which is in-memory and slow, checks an
#: even sample of this many instead of all (unless asked to validate all, or none).
VALIDATE_MAX_RECORDS = 20_000


class Phase:
    """The labelled steps of a build, in order, as reported to ``build_graph(on_phase=...)``."""

    WRITING = "writing"  # the inputs to N-Quads (progress is reported per input)
    VALIDATING = "validating"  # SHACL
    LOADING = "loading"  # bulk load and compaction of the Oxigraph store
    INDEXING = "indexing"  # embedding the past failures' texts into the snapshot's text index
    PUBLISHING = "publishing"


class BuildError(Exception):
    """The build was refused; the previously published graph is untouched."""


class GraphInputs(BaseModel):
    """Everything a build turns into the graph."""

    records: list[FailureRecord]
    cases: list[Case] = []
    documents: list[IssueDocument] = []
    learned: list[LearnedFailure] = []  # a build adds the home's learned log (the last of an issue wins)

    @property
    def issue_keys(self) -> set[str]:
        return ({r.issue.key for r in self.records} | {c.key for c in self.cases}
                | {d.issue.key for d in self.documents} | {it.key for it in self.learned})


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
    for group in (inputs.records, inputs.cases, inputs.documents, inputs.learned):
        for r in group:
            h.update(r.model_dump_json().encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def as_inputs(data: GraphInputs | list[FailureRecord]) -> GraphInputs:
    return data if isinstance(data, GraphInputs) else GraphInputs(records=data)


def all_quads(data: GraphInputs | list[FailureRecord], progress: Callable[[int], None] | None = None,
              signature_of: SignatureFn | None = error_signature,
              quantization_of: Callable[[str], list[str]] | None = extract_quantization) -> Iterator[Quad]:
    """The ontology's quads, then the records', cases' and documents' (progress is reported once per item)."""
    inputs = as_inputs(data)
    yield from ontology_quads()
    yield from knowledge_quads()
    yield from record_quads(_counting(inputs.records, progress))
    yield from case_quads(_counting(inputs.cases, progress), signature_of=signature_of, quantization_of=quantization_of)
    yield from document_quads(_counting(inputs.documents, progress))
    yield from learned_quads(inputs.learned)


def all_nquad_lines(records: Iterable[FailureRecord] = (), cases: Iterable[Case] = (),
                    documents: Iterable[IssueDocument] = (), progress: Callable[[int], None] | None = None,
                    signature_of: SignatureFn | None = error_signature,
                    quantization_of: Callable[[str], list[str]] | None = extract_quantization,
                    learned: Iterable[LearnedFailure] = ()) -> Iterator[str]:
    """The same statements as :func:`all_quads`, in the same order, as N-Quads lines: written straight from the
    records without building rdflib terms, and streamed, so any number of records (e.g. a generator) fits in
    constant memory."""
    yield from _ontology_lines()
    yield from nquad_lines(record_quads(_counting(records, progress), terms=NTRIPLES))
    yield from nquad_lines(case_quads(_counting(cases, progress), signature_of=signature_of,
                                      quantization_of=quantization_of, terms=NTRIPLES))
    yield from nquad_lines(document_quads(_counting(documents, progress), terms=NTRIPLES))
    yield from nquad_lines(learned_quads(learned, terms=NTRIPLES))


@cache
def _ontology_lines() -> tuple[str, ...]:
    return tuple(nquad_line(q) for q in itertools.chain(ontology_quads(), knowledge_quads()))


def write_nquads(path: Path, records: Iterable[FailureRecord] = (), cases: Iterable[Case] = (),
                 documents: Iterable[IssueDocument] = (), *, progress: Callable[[int], None] | None = None,
                 signature_of: SignatureFn | None = error_signature,
                 quantization_of: Callable[[str], list[str]] | None = extract_quantization,
                 buffer_lines: int = 20_000, learned: Iterable[LearnedFailure] = ()) -> int:
    """Write the graph of the inputs (iterables, streamed) to an N-Quads file; returns the number of quads."""
    n = 0
    buf: list[str] = []
    with open(path, "w", encoding="utf-8") as f:
        for line in all_nquad_lines(records, cases, documents, progress, signature_of, quantization_of, learned):
            buf.append(line)
            if len(buf) >= buffer_lines:
                f.write("".join(buf))
                n += len(buf)
                buf.clear()
        f.write("".join(buf))
        n += len(buf)
    return n


def _counting(items, progress: Callable[[int], None] | None):
    for r in items:
        yield r
        if progress:
            progress(1)


def populate(store: GraphStore, data: GraphInputs | list[FailureRecord],
             progress: Callable[[int], None] | None = None, signature_of: SignatureFn | None = error_signature,
             quantization_of: Callable[[str], list[str]] | None = extract_quantization) -> int:
    """Fill any store (e.g. an in-memory one for tests) with the ontology and the inputs; returns the quad count.

    Every build function reads the cases' error signatures and quantization formats with failgraph's extractors
    unless told otherwise (``None``: leave those facts out)."""
    return store.add_quads(all_quads(data, progress, signature_of, quantization_of))


def build_graph(home: GraphHome, data: GraphInputs | list[FailureRecord], *, validate: bool | None = None,
                progress: Callable[[int], None] | None = None, problems: int = 0,
                signature_of: SignatureFn | None = error_signature,
                quantization_of: Callable[[str], list[str]] | None = extract_quantization,
                embedder: TextEmbedder | None = None, on_phase: Callable[[str], None] | None = None,
                wait: bool | float = True, on_wait: Callable[[], None] | None = None,
                recall: float | None = None) -> BuildReport:
    """Write records into a new Oxigraph snapshot under ``home`` and publish it.

    SHACL validation checks every input up to :data:`VALIDATE_MAX_RECORDS` inputs and an even sample of that many
    above (``validate=True``: all, ``False``: none); a graph that does not conform is not published. Any failure
    leaves the previous snapshot current.

    With an ``embedder`` the text index is built into the snapshot before it is published (so the first diagnosis
    does not embed the corpus); without one (tests) it is built on first use. ``on_phase`` is told each
    :class:`Phase` as it starts. The build holds the home's build lock: while another build holds it, ``wait``
    (True: wait, False: raise :class:`~failgraph.kg.home.HomeBusy`, seconds: wait that long at most) decides, and
    ``on_wait`` is called once before waiting. ``recall``: the recall@10 target that chooses the text index's
    ``nprobe`` when it is an IVF index (:mod:`failgraph.kg.recall`).
    """
    inputs = as_inputs(data)
    with home.build_lock(wait=wait, on_wait=on_wait):
        inputs = with_home_learned(home, inputs)
        if not inputs.records and not inputs.cases and not inputs.documents and not inputs.learned:
            raise BuildError("nothing to build a graph from")
        return _build_locked(home, inputs, validate=validate, progress=progress, problems=problems,
                             signature_of=signature_of, quantization_of=quantization_of, embedder=embedder,
                             on_phase=on_phase or (lambda _: None), recall=recall)


def with_home_learned(home: GraphHome, inputs: GraphInputs) -> GraphInputs:
    """The inputs with the home's learned log added (read under the build lock, so nothing learned meanwhile is
    missed); the inputs' own learned failures win over the log's of the same issue."""
    logged = load_learned(home.root)
    if not logged:
        return inputs
    mine = {it.key for it in inputs.learned}
    return inputs.model_copy(update={"learned": [*(it for it in logged if it.key not in mine), *inputs.learned]})


def _build_locked(home: GraphHome, inputs: GraphInputs, *, validate: bool | None,
                  progress: Callable[[int], None] | None, problems: int, signature_of: SignatureFn | None,
                  quantization_of: Callable[[str], list[str]] | None, embedder: TextEmbedder | None,
                  on_phase: Callable[[str], None], recall: float | None = None) -> BuildReport:
    records = inputs.records
    size = len(records) + len(inputs.cases) + len(inputs.documents)
    sample = validate is None and size > VALIDATE_MAX_RECORDS
    validate = True if validate is None else validate
    snap = home.new_snapshot()
    try:
        nq = snap / "graph.nq.tmp"
        on_phase(Phase.WRITING)
        quads = write_nquads(nq, inputs.records, inputs.cases, inputs.documents, progress=progress,
                             signature_of=signature_of, quantization_of=quantization_of, learned=inputs.learned)
        shacl = None
        if validate:
            on_phase(Phase.VALIDATING)
            checked = _even_sample(inputs, VALIDATE_MAX_RECORDS / size) if sample else inputs
            shacl = validate_quads(all_quads(checked, signature_of=signature_of, quantization_of=quantization_of))
            if sample:
                n = len(checked.records) + len(checked.cases) + len(checked.documents)
                shacl.sample = f"{n:,} of {size:,} inputs"
            if not shacl.conforms:
                first = "; ".join(f"{v.focus} {v.path or ''}: {v.message}" for v in shacl.violations[:5])
                raise BuildError(f"the graph does not conform to the SHACL shapes ({len(shacl.violations)} "
                                 f"violations): {first}")
        on_phase(Phase.LOADING)
        load_store(snap / STORE_DIR, nq)
        nq.unlink()
        if embedder is not None:
            on_phase(Phase.INDEXING)
            from .snapshot_index import index_snapshot  # late: pulls in faiss, BM25 and the corpus views

            with OxigraphStore(snap / STORE_DIR, read_only=True) as store:
                index_snapshot(store, snap, embedder, recall=recall)
        manifest = Manifest(created=now_iso(), failgraph_version=failgraph_version(), quads=quads,
                            records=len(records), cases=len(inputs.cases), documents=len(inputs.documents),
                            learned=len(inputs.learned),
                            issues=len(inputs.issue_keys),
                            sources=sorted({r.provenance.source for r in records}
                                           | {d.provenance.source for d in inputs.documents}
                                           | {it.source for it in inputs.learned}
                                           | ({"cases/cases.jsonl"} if inputs.cases else set())),
                            inputs_fingerprint=fingerprint(inputs), problems=problems, layout=GRAPH_LAYOUT)
        on_phase(Phase.PUBLISHING)
        home.publish(snap, manifest)
        return BuildReport(snapshot=str(snap), manifest=manifest, shacl=shacl)
    except BaseException:
        home.discard(snap)
        raise


def _even_sample(inputs: GraphInputs, share: float) -> GraphInputs:
    """Every (1/share)-th record, case and document: the mapping is per item, so a sample shows its mistakes."""
    step = max(1, round(1 / share))
    return GraphInputs(records=inputs.records[::step], cases=inputs.cases[::step], documents=inputs.documents[::step],
                       learned=inputs.learned[::step])


def load_store(directory: Path, nquads: Path) -> None:
    """Bulk-load an N-Quads file that failgraph wrote into a new on-disk Oxigraph store, then compact it.

    IRIs are not validated again (lenient: the file is our own serialisation), and the store is optimised (RocksDB
    compaction) before use: a freshly bulk-loaded store answers the study's queries 10-20× slower until compacted
    (``failgraph bench sparql``: 0.3-0.9 s against 0.02-0.06 s at a million records; compaction takes about 90 s
    there and nothing at the dataset's size).
    """
    store = OxigraphStore(directory)
    try:
        store.load_nquads_file(nquads, lenient=True)
        store.optimize()
    finally:
        store.close()


__all__ = [
    "STORE_DIR",
    "BuildError",
    "BuildReport",
    "GraphInputs",
    "Phase",
    "SnapshotStore",
    "all_nquad_lines",
    "all_quads",
    "build_graph",
    "load_store",
    "open_store",
    "populate",
    "write_nquads",
]
