"""End to end: generation, graph build, corpus and index loading and ``diagnose`` latency and throughput over a
synthetic corpus, with peak memory per phase."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from .latency import diagnose_latency
from .measure import (
    TARGETS,
    Machine,
    peak_rss_mib,
    recall_at_k,
    rss_mib,
    scratch_dir,
    single_query_latencies,
    timed,
)
from .synthetic import (
    CasePool,
    SyntheticDocument,
    default_distribution,
    document_vectors,
    seeded_rng,
    synthetic_documents,
    synthetic_records,
)
from .vectors import vector_model


# ------------------------------------------------------------------------------------------------------------ e2e
class Phase(BaseModel):
    name: str
    seconds: float
    items: int
    per_s: float
    rss_mib: float
    peak_rss_mib: float
    note: str = ""


class E2EBench(BaseModel):
    bench: str = "e2e"
    size: int
    distribution: str
    index: str
    recall_at_10: float = Field(description="recall@10 of the corpus index against exact search (sampled queries)")
    speedup_vs_bruteforce: float = Field(description="numpy brute-force p50 / the corpus index's p50")
    diagnose_p50_ms: float
    diagnose_p99_ms: float
    diagnose_mean_ms: float
    query_embedding_p50_ms: float = Field(description="of which: MiniLM embedding of the report (p50)")
    diagnose_without_embedding_p50_ms: float = Field(
        description="p50 of diagnose less p50 of the report's embedding: the graph, index and ranking work")
    batch_reports_per_s: float
    reports: int
    graph: bool = Field(description="whether the graph was built and the corpus read from it (else made in memory, "
                                    "and the build figures cover the indexes only)")
    build_issues_per_s: float = Field(description="records + documents per second: generate, map, N-Quads, load")
    build_with_embeddings_issues_per_s: float = Field(
        description="the same plus MiniLM embeddings of every document (embedding rate measured on a sample)")
    embed_texts_per_s: float
    peak_rss_mib: float
    phases: list[Phase]
    machine: Machine
    targets: dict[str, float] = TARGETS


def _phase(name: str, seconds: float, items: int, note: str = "") -> Phase:
    return Phase(name=name, seconds=round(seconds, 3), items=items, per_s=round(items / seconds, 1) if seconds else 0,
                 rss_mib=round(rss_mib(), 1), peak_rss_mib=round(peak_rss_mib(), 1), note=note)


class TimingEmbedder:
    """Wraps an embedder and records how long each ``encode`` call takes (the query embedding inside diagnose)."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.times_ms: list[float] = []

    def encode(self, texts, **kw):
        t = time.perf_counter()
        v = self.embedder.encode(texts, **kw)
        self.times_ms.append((time.perf_counter() - t) * 1000)
        return v

    def __getattr__(self, name):
        return getattr(self.embedder, name)


def _add(phases: list[Phase], say: Callable[[str], None], p: Phase) -> None:
    phases.append(p)
    say(f"  {p.name}: {p.seconds:,.1f} s, {p.per_s:,.0f}/s, RSS {p.rss_mib:,.0f} MiB (peak {p.peak_rss_mib:,.0f}) "
        f"{p.note}")


def _memory_corpus(size: int, seed: int, dist, pool: CasePool, meta: list):
    """What :func:`~failgraph.kg.corpus.load_corpus` reads back from a graph of these inputs, made directly."""
    from ..ingest.records import issue_key
    from ..kg.corpus import Corpus, LabeledRecord, PastFailure

    records = [LabeledRecord(key=issue_key(r.issue.url), symptom=r.symptom, root_cause=r.root_cause)
               for r in synthetic_records(size, seed, dist)]
    failures = []
    for c in _tap_documents(synthetic_documents(size, seed, pool), meta):
        records.append(LabeledRecord(key=c.key, symptom=c.symptom, root_cause=c.root_cause))
        failures.append(PastFailure(key=c.key, url=c.source_url, title=c.title, text=c.report, model=c.model,
                                    fix=c.fix, fix_confirmed=c.fix_confirmed, symptoms=[c.symptom],
                                    root_causes=[c.root_cause]))
    failures.sort(key=lambda f: f.key)
    return Corpus(failures=failures, records=records)


def _tap_documents(docs: Iterable[SyntheticDocument], meta: list) -> Iterator:
    for d in docs:
        meta.append((d.case.key, d.primary, d.donor, d.mix))
        yield d.case


def bench_e2e(size: int, *, seed: int = 0, reports: int = 100, warmup: int = 5, embed_sample: int = 256,
              dataset: Path | None = None, workdir: Path | None = None, keep: bool = False, data: str = "cases",
              embedder=None, text_model_sample: int | None = None, graph: bool = True,
              progress: Callable[[str], None] | None = None) -> E2EBench:
    """Build a graph of ``size`` synthetic records and ``size`` case-like documents, load the knowledge base over it
    (document vectors precomputed consistently with their text, MiniLM for the reports) and time ``diagnose`` on
    real case reports, with each phase's throughput and memory.

    With ``graph=False`` the corpus is made in memory straight from the generators (what :func:`load_corpus` would
    read back from the graph) and the graph phases are skipped: for diagnose at sizes whose graph build takes too
    long for one sitting (``bench sparql`` measures the graph at that size)."""
    from ..assistant.knowledge import KnowledgeBase
    from ..ingest.cases import load_cases
    from ..ingest.extract import error_signature
    from ..ingest.extract.environment import extract_quantization
    from ..kg.build import load_store, write_nquads
    from ..kg.corpus import Corpus, load_corpus
    from ..kg.embed import Embedder
    from ..kg.store import OxigraphStore
    from ..kg.vectors import KeywordIndex, TextIndex, VectorIndex

    say = progress or (lambda _m: None)
    dist = default_distribution(dataset)
    pool = CasePool(load_cases().cases, dist)
    phases: list[Phase] = []
    embedder = embedder or Embedder()
    model = vector_model(data, seed, pool)
    with scratch_dir(workdir, keep) as d:
        meta: list[tuple[str, int, int, float]] = []
        store = None
        if graph:
            nq = d / "graph.nq"
            say(f"generating and writing {size:,} records + {size:,} documents as N-Quads (with error-signature and "
                "quantization extraction)")
            secs, quads = timed(write_nquads, nq, synthetic_records(size, seed, dist),
                                 _tap_documents(synthetic_documents(size, seed, pool), meta),
                                 signature_of=error_signature, quantization_of=extract_quantization)
            _add(phases, say, _phase("generate + map + write N-Quads", secs, 2 * size, f"{quads:,} quads"))
            say("bulk-loading into Oxigraph (on disk) and compacting it, as failgraph build does")
            secs, _ = timed(load_store, d / "oxigraph", nq)
            _add(phases, say, _phase("Oxigraph bulk load + compaction", secs, 2 * size))
            nq.unlink()
            build_s = phases[0].seconds + phases[1].seconds
            store = OxigraphStore(d / "oxigraph", read_only=True)
            say("loading the corpus from the graph")
            secs, corpus = timed(load_corpus, store)
            _add(phases, say, _phase("load corpus (SPARQL)", secs, len(corpus.failures)))
        else:
            say(f"generating {size:,} records + {size:,} documents straight into a corpus (no graph)")
            secs, corpus = timed(_memory_corpus, size, seed, dist, pool, meta)
            _add(phases, say, _phase("generate corpus in memory (no graph)", secs, 2 * size))
            build_s = 0.0
        meta_by_key = {k: (p, dn, m) for k, p, dn, m in meta}
        del meta
        order = [meta_by_key[f.key] for f in corpus.failures]
        del meta_by_key
        say("document vectors (synthetic, consistent with the text)")
        docs = [SyntheticDocument(case=None, primary=p, donor=dn, mix=m)  # type: ignore[arg-type]
                for p, dn, m in order]
        secs, vecs = timed(lambda: np.concatenate([document_vectors(docs[i:i + 50_000], model, seed, i)
                                                    for i in range(0, len(docs), 50_000)]))
        docs = order = None
        _add(phases, say, _phase("synthetic document vectors", secs, len(vecs)))
        texts = [f.index_text for f in corpus.failures]
        say("MiniLM embedding rate on a sample")
        sample = texts[: min(len(texts), embed_sample)]
        embedder.encode(sample[:8])  # load the model outside the timing
        secs, _ = timed(embedder.encode, sample)
        embed_rate = len(sample) / secs
        _add(phases, say, _phase("MiniLM embeddings (sample)", secs, len(sample),
                             f"{len(texts):,} texts would take {len(texts) / embed_rate:,.0f} s"))
        ids = [f.key for f in corpus.failures]
        say("vector index")
        secs, vindex = timed(VectorIndex.build, ids, vecs, use_gpu=False)
        _add(phases, say, _phase(f"vector index ({vindex.kind})", secs, len(ids)))
        say("BM25 index")
        secs, kindex = timed(KeywordIndex.build, ids, texts)
        _add(phases, say, _phase("BM25 index", secs, len(ids)))
        index = TextIndex(ids, vindex, kindex, TextIndex.fingerprint_of(ids, texts))
        del texts
        say("knowledge base (label statistics, text models)")
        note = ""
        if text_model_sample and text_model_sample < len(corpus.failures):
            # the naive-Bayes text models keep per-document token counts in Python dicts (about 8 KB a document
            # for the two of them): past a few hundred thousand documents they are trained on an even sample, while
            # retrieval, statistics and everything else use the whole corpus
            step = len(corpus.failures) / text_model_sample
            sample = [corpus.failures[int(i * step)] for i in range(text_model_sample)]
            secs, kb = timed(KnowledgeBase, Corpus(failures=sample, records=corpus.records), index, embedder)
            kb.corpus, kb.failures = corpus, corpus.by_key()
            note = f"text models trained on {text_model_sample:,} of {len(corpus.failures):,} documents"
        else:
            secs, kb = timed(KnowledgeBase, corpus, index, embedder)
        _add(phases, say, _phase("knowledge base", secs, len(corpus.failures), note))
        index_s = sum(p.seconds for p in phases
                      if p.name.startswith(("load corpus", "vector index", "BM25 index", "knowledge base")))

        say("recall of the corpus index")
        qv = model.sample(seeded_rng(seed + 7, "e2e-queries", 0), 50)
        exact = vecs @ qv.T
        truth = np.argsort(-exact, axis=0)[:10].T
        pos = {k: i for i, k in enumerate(ids)}
        lat_pick, found = single_query_latencies(lambda q: [pos[h.id] for h in vindex.search(q[None, :], 10)[0]], qv)
        lat_brute, _ = single_query_latencies(lambda q: np.argpartition(-(vecs @ q), 10)[:10], qv[:20])
        recall = recall_at_k(found, truth)

        say("diagnose latency on real case reports")
        case_texts = [c.report for c in pool.cases][: reports]
        timing = TimingEmbedder(embedder)
        kb.embedder = timing
        rep = diagnose_latency(kb, case_texts, warmup=warmup)
        kb.embedder = embedder
        embed_ms = timing.times_ms[-len(case_texts):]
        _add(phases, say, _phase("diagnose", rep.reports / rep.throughput_per_s, rep.reports))
        if store is not None:
            store.close()
    embed_all = (2 * size) / (size / embed_rate + build_s + index_s) if embed_rate else 0.0
    return E2EBench(size=size, distribution=dist.source, graph=graph,
                    index=vindex.describe() if hasattr(vindex, "describe") else vindex.kind,
                    recall_at_10=round(recall, 4),
                    speedup_vs_bruteforce=round(statistics.median(lat_brute) / statistics.median(lat_pick), 2),
                    diagnose_p50_ms=rep.median_ms, diagnose_p99_ms=rep.p99_ms, diagnose_mean_ms=rep.mean_ms,
                    query_embedding_p50_ms=round(statistics.median(embed_ms), 2),
                    diagnose_without_embedding_p50_ms=round(rep.median_ms - statistics.median(embed_ms), 2),
                    batch_reports_per_s=rep.throughput_per_s, reports=rep.reports,
                    build_issues_per_s=round(2 * size / (build_s + index_s), 1),
                    build_with_embeddings_issues_per_s=round(embed_all, 1), embed_texts_per_s=round(embed_rate, 1),
                    peak_rss_mib=round(peak_rss_mib(), 1), phases=phases, machine=Machine.now())
