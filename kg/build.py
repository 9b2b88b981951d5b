"""Build the knowledge graph from ingested records into a fresh snapshot, then publish it atomically."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import BaseModel

from ..ingest.records import FailureRecord
from .home import GraphHome, Manifest, now_iso
from .mapping import ontology_quads, record_quads
from .store import GraphStore, OxigraphStore, Quad, nquad_line
from .validate import ShaclReport, validate_quads

STORE_DIR = "oxigraph"
#: Above this many records, SHACL validation is skipped unless asked for (pyshacl is in-memory and slow).
VALIDATE_MAX_RECORDS = 20_000


class BuildError(Exception):
    """The build was refused; the previously published graph is untouched."""


class BuildReport(BaseModel):
    snapshot: str
    manifest: Manifest
    shacl: ShaclReport | None


def failgraph_version() -> str:
    try:
        return version("failgraph")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled checkout
        return "0+unknown"


def fingerprint(records: Iterable[FailureRecord]) -> str:
    h = hashlib.sha256()
    for r in records:
        h.update(r.model_dump_json().encode("utf-8"))
    return h.hexdigest()


def all_quads(records: list[FailureRecord], progress: Callable[[int], None] | None = None) -> Iterator[Quad]:
    """The ontology's quads, then the records' (reporting progress once per record)."""
    yield from ontology_quads()
    yield from record_quads(_counting(records, progress))


def _counting(records: list[FailureRecord], progress: Callable[[int], None] | None) -> Iterator[FailureRecord]:
    for r in records:
        yield r
        if progress:
            progress(1)


def populate(store: GraphStore, records: list[FailureRecord], progress: Callable[[int], None] | None = None) -> int:
    """Fill any store (e.g. an in-memory one for tests) with the ontology and the records; returns the quad count."""
    return store.add_quads(all_quads(records, progress))


def build_graph(home: GraphHome, records: list[FailureRecord], *, validate: bool | None = None,
                progress: Callable[[int], None] | None = None, problems: int = 0) -> BuildReport:
    """Write records into a new Oxigraph snapshot under ``home`` and publish it.

    SHACL validation runs by default for graphs of up to :data:`VALIDATE_MAX_RECORDS` records; a graph that does not
    conform is not published. Any failure leaves the previous snapshot current.
    """
    if not records:
        raise BuildError("no records to build a graph from")
    validate = len(records) <= VALIDATE_MAX_RECORDS if validate is None else validate
    snap = home.new_snapshot()
    try:
        nq = snap / "graph.nq.tmp"
        quads = 0
        with open(nq, "w", encoding="utf-8") as f:
            for q in all_quads(records, progress):
                f.write(nquad_line(q))
                quads += 1
        shacl = None
        if validate:
            shacl = validate_quads(all_quads(records))
            if not shacl.conforms:
                first = "; ".join(f"{v.focus} {v.path or ''}: {v.message}" for v in shacl.violations[:5])
                raise BuildError(f"the graph does not conform to the SHACL shapes ({len(shacl.violations)} "
                                 f"violations): {first}")
        store = OxigraphStore(snap / STORE_DIR)
        store.load_nquads_file(nq)
        store.close()
        nq.unlink()
        manifest = Manifest(created=now_iso(), failgraph_version=failgraph_version(), quads=quads,
                            records=len(records), issues=len({r.issue.key for r in records}),
                            sources=sorted({r.provenance.source for r in records}),
                            inputs_fingerprint=fingerprint(records), problems=problems)
        home.publish(snap, manifest)
        return BuildReport(snapshot=str(snap), manifest=manifest, shacl=shacl)
    except BaseException:
        home.discard(snap)
        raise


def open_store(home: GraphHome) -> OxigraphStore:
    """The published graph of ``home``, opened read-only."""
    return OxigraphStore(home.current() / STORE_DIR, read_only=True)


__all__ = ["BuildError", "BuildReport", "STORE_DIR", "build_graph", "open_store", "populate", "all_quads"]
