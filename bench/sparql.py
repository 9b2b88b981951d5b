"""The study's named queries on Oxigraph (on disk, as ``failgraph build`` publishes it) against rdflib's in-memory
store, over the same synthetic graph: load time and per-query time, with a check that both stores return the same
rows."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from .measure import TARGETS, Machine, peak_rss_mib, scratch_dir, timed
from .synthetic import default_distribution, synthetic_records

TABLE2_QUERY = "symptom_cause_category"

#: The Table-2 query as it stood before issue #7 (skos:broader* and four record properties per record); kept to
#: show what the label-profile shape buys (``bench sparql --legacy``).
LEGACY_TABLE2 = """PREFIX fg: <https://w3id.org/failgraph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?root_cause_category ?symptom_category (COUNT(DISTINCT ?record) AS ?records)
WHERE {
  ?record a fg:FailureRecord ; prov:wasAttributedTo fg:OpenLLMFailuresStudy ;
          fg:hasSymptom ?s ; fg:hasRootCause ?r .
  ?s skos:broader* ?sc . ?sc fg:taxonomyLevel fg:CategoryLevel ; skos:prefLabel ?symptom_category .
  ?r skos:broader* ?rc . ?rc fg:taxonomyLevel fg:CategoryLevel ; skos:prefLabel ?root_cause_category .
}
GROUP BY ?root_cause_category ?symptom_category
"""



# -------------------------------------------------------------------------------------------------------- SPARQL
class QueryTiming(BaseModel):
    name: str
    rows: int
    oxigraph_s: float
    oxigraph_cold_s: float
    rdflib_s: float | None = None
    speedup_vs_rdflib: float | None = None
    same_rows: bool | None = None


class SparqlBench(BaseModel):
    bench: str = "sparql"
    size: int
    quads: int
    distribution: str
    write_nquads_s: float
    oxigraph_load_s: float
    rdflib_load_s: float | None
    rdflib: str = Field(description="'measured', or why rdflib was skipped")
    speedup_vs_rdflib: float | None = Field(description=f"rdflib / Oxigraph time of {TABLE2_QUERY} (Table 2)")
    max_query_s: float
    queries: list[QueryTiming]
    legacy_table2_s: float | None = None
    peak_rss_mib: float
    machine: Machine
    targets: dict[str, float] = TARGETS


def _rows_key(rows: list[dict]) -> list[tuple]:
    return sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows)


def bench_sparql(size: int, *, seed: int = 0, repeats: int = 3, rdflib_max: int = 100_000,
                 rdflib_queries: str = "all", legacy: bool = False, dataset: Path | None = None,
                 workdir: Path | None = None, keep: bool = False,
                 progress: Callable[[str], None] | None = None) -> SparqlBench:
    """The study's named queries on Oxigraph and rdflib over ``size`` synthetic labeled records."""
    import rdflib as _rdflib

    from ..kg.build import load_store, write_nquads
    from ..kg.named_queries import get_query, list_queries
    from ..kg.store import OxigraphStore, RdflibStore

    say = progress or (lambda _m: None)
    dist = default_distribution(dataset)
    study = [q for q in list_queries() if q.kind == "study"]
    with scratch_dir(workdir, keep) as d:
        nq = d / "graph.nq"
        say(f"writing {size:,} synthetic records as N-Quads")
        write_s, quads = timed(write_nquads, nq, synthetic_records(size, seed, dist))
        say("bulk-loading into Oxigraph (on disk) and compacting it, as failgraph build does")
        load_s, _ = timed(load_store, d / "oxigraph", nq)
        ox = OxigraphStore(d / "oxigraph", read_only=True)
        timings: dict[str, QueryTiming] = {}
        ox_rows: dict[str, list[dict]] = {}
        for q in study:
            say(f"Oxigraph: {q.name}")
            cold, rows = timed(lambda q=q: list(ox.select_rows(q.text)))
            ts = [timed(lambda q=q: list(ox.select_rows(q.text)))[0] for _ in range(repeats)]
            ox_rows[q.name] = rows
            timings[q.name] = QueryTiming(name=q.name, rows=len(rows), oxigraph_s=statistics.median(ts),
                                          oxigraph_cold_s=cold)
        legacy_s = None
        if legacy:
            say("Oxigraph: legacy Table-2 shape")
            legacy_s, legacy_rows = timed(lambda: list(ox.select_rows(LEGACY_TABLE2)))
            if _rows_key(legacy_rows) != _rows_key(ox_rows[TABLE2_QUERY]):
                raise AssertionError("the legacy and the current Table-2 queries disagree")
        ox = None
        rd_load = None
        if size > rdflib_max:
            rdflib_note = f"skipped: {size:,} records is over --rdflib-max {rdflib_max:,} (too slow to load and query)"
        else:
            say("loading the same N-Quads into rdflib")
            t = time.perf_counter()
            rd = RdflibStore()
            rd.dataset.parse(str(nq), format="nquads")
            rd_load = time.perf_counter() - t
            chosen = study if rdflib_queries == "all" else [get_query(TABLE2_QUERY)]
            for q in chosen:
                say(f"rdflib: {q.name}")
                secs, rows = timed(lambda q=q: list(rd.select_rows(q.text)))
                tm = timings[q.name]
                tm.rdflib_s = secs
                tm.speedup_vs_rdflib = round(secs / tm.oxigraph_s, 2) if tm.oxigraph_s > 0 else None
                tm.same_rows = _rows_key(rows) == _rows_key(ox_rows[q.name])
            rdflib_note = "measured" if rdflib_queries == "all" else f"measured ({TABLE2_QUERY} only)"
            del rd
            gc.collect()
        _ = _rdflib
    t2 = timings[TABLE2_QUERY]
    return SparqlBench(size=size, quads=quads, distribution=dist.source, write_nquads_s=write_s,
                       oxigraph_load_s=load_s, rdflib_load_s=rd_load, rdflib=rdflib_note,
                       speedup_vs_rdflib=t2.speedup_vs_rdflib, max_query_s=max(t.oxigraph_s for t in timings.values()),
                       queries=list(timings.values()), legacy_table2_s=legacy_s, peak_rss_mib=peak_rss_mib(),
                       machine=Machine.now())
